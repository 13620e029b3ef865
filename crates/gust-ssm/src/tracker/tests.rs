//! The tracking rules, decided from what one poll read.

use super::*;
use crate::model::Plugin;

fn command(status: &str, target_count: usize) -> CommandInfo {
    CommandInfo {
        command_id: "cmd-1".into(),
        status: InvocationStatus::parse(status),
        target_count,
        instance_ids: vec![],
    }
}

fn inv(instance: &str, status: &str, code: i32) -> Invocation {
    Invocation {
        instance_id: instance.into(),
        status: InvocationStatus::parse(status),
        status_details: Some(status.into()),
        plugins: vec![Plugin {
            name: "aws:runShellScript".into(),
            status: status.into(),
            response_code: code,
            output: String::new(),
        }],
    }
}

#[test]
fn targets_are_waited_for_until_every_expected_invocation_finished() {
    // Sent by Targets: 3 expected, only 2 visible and finished so far.
    let progress = assess(
        &command("InProgress", 3),
        vec![inv("i-1", "Success", 0), inv("i-2", "Success", 0)],
        0,
        true,
    )
    .unwrap();
    assert_eq!(
        progress,
        Progress::Running {
            visible: 2,
            expected: 3,
            running: 0
        }
    );
    let done = assess(
        &command("Success", 3),
        vec![
            inv("i-1", "Success", 0),
            inv("i-2", "Success", 0),
            inv("i-3", "Success", 0),
        ],
        0,
        true,
    )
    .unwrap();
    assert!(matches!(done, Progress::Done(ref all) if all.len() == 3));
}

#[test]
fn nothing_visible_yet_is_not_done() {
    let progress = assess(&command("Pending", 0), vec![], 2, true).unwrap();
    assert!(matches!(progress, Progress::Running { expected: 2, .. }));
    let no_count_yet = assess(&command("InProgress", 0), vec![], 0, true).unwrap();
    assert!(matches!(no_count_yet, Progress::Running { .. }));
}

#[test]
fn a_failure_on_any_instance_ends_the_wait_whatever_the_order() {
    for order in [[0, 1, 2], [2, 1, 0], [1, 2, 0]] {
        let all = [
            inv("i-1", "InProgress", -1),
            inv("i-2", "InProgress", -1),
            inv("i-3", "Failed", 1),
        ];
        let listed = order.iter().map(|n| all[*n].clone()).collect();
        let progress = assess(&command("InProgress", 3), listed, 0, true).unwrap();
        let Progress::Failed(failure) = progress else {
            panic!("expected a failure for order {order:?}");
        };
        assert_eq!(failure.instance_id.as_deref(), Some("i-3"));
        assert_eq!(failure.exit_code, Some(1));
        assert_eq!(
            failure.message,
            "command cmd-1 failed on instance i-3: status Failed, exit code 1"
        );
    }
}

#[test]
fn fail_on_nonzero_exit_tolerates_failed_only() {
    let outcomes = [
        ("Success", true, true),
        ("Failed", true, false),
        ("Failed", false, true),
        ("TimedOut", false, false),
        ("Cancelled", false, false),
        ("TimedOut", true, false),
        ("Cancelled", true, false),
    ];
    for (status, fail_on_nonzero_exit, succeeds) in outcomes {
        let progress = assess(
            &command(status, 1),
            vec![inv("i-1", status, if status == "Failed" { 2 } else { -1 })],
            0,
            fail_on_nonzero_exit,
        )
        .unwrap();
        assert_eq!(
            matches!(progress, Progress::Done(_)),
            succeeds,
            "{status} with fail_on_nonzero_exit={fail_on_nonzero_exit}: {progress:?}"
        );
    }
}

#[test]
fn cancelling_counts_as_in_progress() {
    for flag in [true, false] {
        let progress = assess(
            &command("Cancelling", 1),
            vec![inv("i-1", "Cancelling", -1)],
            0,
            flag,
        )
        .unwrap();
        assert!(
            matches!(progress, Progress::Running { running: 1, .. }),
            "{progress:?}"
        );
    }
}

#[test]
fn an_aws_level_failure_has_no_exit_code() {
    let progress = assess(
        &command("TimedOut", 1),
        vec![inv("i-1", "TimedOut", -1)],
        0,
        false,
    )
    .unwrap();
    let Progress::Failed(failure) = progress else {
        panic!("expected a failure");
    };
    assert_eq!(failure.exit_code, None);
    assert_eq!(
        failure.message,
        "command cmd-1 failed on instance i-1: status TimedOut"
    );
}

#[test]
fn an_unknown_status_fails_loudly() {
    let err = assess(
        &command("InProgress", 1),
        vec![inv("i-1", "Exploded", 0)],
        0,
        true,
    )
    .unwrap_err();
    assert_eq!(
        err.to_string(),
        "command cmd-1: instance i-1 has the unknown status 'Exploded'"
    );
}

#[test]
fn a_command_ssm_finished_with_fewer_invocations_is_decided_by_its_status() {
    let none_matched = assess(&command("Success", 0), vec![], 0, true).unwrap();
    assert!(matches!(none_matched, Progress::Done(ref v) if v.is_empty()));
    let stopped = assess(
        &command("Failed", 4),
        vec![inv("i-1", "Success", 0)],
        0,
        true,
    )
    .unwrap();
    assert!(matches!(stopped, Progress::Failed(_)), "{stopped:?}");
}

#[test]
fn a_succeeded_command_whose_invocations_are_not_visible_yet_is_not_done() {
    let lagging = assess(
        &command("Success", 2),
        vec![inv("i-1", "Success", 0)],
        0,
        true,
    )
    .unwrap();
    assert!(
        matches!(
            lagging,
            Progress::Running {
                visible: 1,
                expected: 2,
                ..
            }
        ),
        "{lagging:?}"
    );
}
