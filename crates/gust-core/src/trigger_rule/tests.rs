use super::*;

/// Counts for three upstream tasks written as letters: `s` success, `f` failed, `k` skipped,
/// `u` upstream_failed, `-` not finished.
fn mix(states: &str) -> UpstreamCounts {
    let mut counts = UpstreamCounts::new(states.len());
    for letter in states.chars() {
        counts.record(match letter {
            's' => TaskState::Success,
            'f' => TaskState::Failed,
            'k' => TaskState::Skipped,
            'u' => TaskState::UpstreamFailed,
            '-' => TaskState::Running,
            other => panic!("unknown letter {other}"),
        });
    }
    counts
}

fn check(rule: TriggerRule, cases: &[(&str, Verdict)]) {
    for (states, expected) in cases {
        let got = rule.evaluate(&mix(states));
        assert_eq!(got, *expected, "{rule} with upstream states '{states}'");
    }
}

use Verdict::{Run, Skip, UpstreamFailed as Uf, Wait};

#[test]
fn all_success() {
    check(
        TriggerRule::AllSuccess,
        &[
            ("sss", Run),
            ("ss-", Wait),
            ("ssf", Uf),
            ("sf-", Uf),
            ("su-", Uf),
            ("ssk", Skip),
            ("sk-", Skip),
            ("fk-", Uf),
        ],
    );
}

#[test]
fn all_failed() {
    check(
        TriggerRule::AllFailed,
        &[
            ("fff", Run),
            ("fuu", Run),
            ("ff-", Wait),
            ("ffs", Skip),
            ("fk-", Skip),
            ("s--", Skip),
        ],
    );
}

#[test]
fn all_done() {
    check(
        TriggerRule::AllDone,
        &[("sfk", Run), ("uuu", Run), ("kkk", Run), ("sf-", Wait)],
    );
}

#[test]
fn all_done_min_one_success() {
    check(
        TriggerRule::AllDoneMinOneSuccess,
        &[
            ("sff", Run),
            ("suf", Run),
            ("su-", Wait),
            ("f--", Wait),
            ("fff", Uf),
            ("fuu", Uf),
            ("ssk", Skip),
            ("k--", Skip),
        ],
    );
}

#[test]
fn one_success() {
    check(
        TriggerRule::OneSuccess,
        &[
            ("s--", Run),
            ("ffs", Run),
            ("f--", Wait),
            ("fff", Uf),
            ("fkk", Uf),
            ("kkk", Skip),
        ],
    );
}

#[test]
fn one_failed() {
    check(
        TriggerRule::OneFailed,
        &[
            ("f--", Run),
            ("u--", Run),
            ("s--", Wait),
            ("ssk", Skip),
            ("sss", Skip),
        ],
    );
}

#[test]
fn one_done() {
    check(
        TriggerRule::OneDone,
        &[
            ("s--", Run),
            ("f--", Run),
            ("u--", Wait),
            ("k--", Wait),
            ("kuk", Skip),
        ],
    );
}

#[test]
fn none_failed() {
    check(
        TriggerRule::NoneFailed,
        &[
            ("sks", Run),
            ("kkk", Run),
            ("s--", Wait),
            ("sf-", Uf),
            ("u--", Uf),
        ],
    );
}

#[test]
fn none_failed_min_one_success() {
    check(
        TriggerRule::NoneFailedMinOneSuccess,
        &[
            ("skk", Run),
            ("k--", Wait),
            ("kkk", Skip),
            ("sf-", Uf),
            ("ku-", Uf),
        ],
    );
}

#[test]
fn none_skipped() {
    check(
        TriggerRule::NoneSkipped,
        &[("sfu", Run), ("sf-", Wait), ("k--", Skip), ("ssk", Skip)],
    );
}

#[test]
fn all_skipped() {
    check(
        TriggerRule::AllSkipped,
        &[
            ("kkk", Run),
            ("k--", Wait),
            ("s--", Skip),
            ("f--", Skip),
            ("u--", Skip),
        ],
    );
}

#[test]
fn always() {
    check(
        TriggerRule::Always,
        &[("---", Run), ("fff", Run), ("kkk", Run)],
    );
}

#[test]
fn a_task_without_upstream_tasks_runs_whatever_its_rule() {
    for rule in TriggerRule::ALL {
        assert_eq!(rule.evaluate(&UpstreamCounts::new(0)), Run, "{rule}");
    }
}

#[test]
fn every_rule_decides_once_all_upstream_tasks_are_done() {
    let letters = ['s', 'f', 'k', 'u'];
    for rule in TriggerRule::ALL {
        for a in letters {
            for b in letters {
                let states: String = [a, b].iter().collect();
                let verdict = rule.evaluate(&mix(&states));
                assert_ne!(verdict, Wait, "{rule} left '{states}' undecided");
            }
        }
    }
}

#[test]
fn names_parse_and_unknown_names_list_the_known_ones() {
    for rule in TriggerRule::ALL {
        assert_eq!(rule.as_str().parse::<TriggerRule>().unwrap(), rule);
    }
    let err = "all_done_setup_success"
        .parse::<TriggerRule>()
        .unwrap_err()
        .to_string();
    assert!(err.contains("none_failed_min_one_success"), "{err}");
}
