//! Trigger rules: when a task runs, given the states of its direct upstream tasks.
//!
//! The rules and their verdicts are Airflow's, including its skip propagation: a task whose
//! rule can no longer be met is marked `skipped` or `upstream_failed` as soon as that is
//! certain, which in turn decides the tasks downstream of it. Airflow's
//! `all_done_setup_success` is left out because gust has no setup or teardown tasks.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::state::{TaskState, UnknownName};

/// When a task runs, given the states of its direct upstream tasks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TriggerRule {
    /// Every upstream task succeeded (the default).
    #[default]
    AllSuccess,
    /// Every upstream task failed or was upstream_failed.
    AllFailed,
    /// Every upstream task finished, in any state.
    AllDone,
    /// Every upstream task finished, none was skipped, and at least one succeeded.
    AllDoneMinOneSuccess,
    /// At least one upstream task succeeded; does not wait for the others.
    OneSuccess,
    /// At least one upstream task failed or was upstream_failed; does not wait for the others.
    OneFailed,
    /// At least one upstream task succeeded or failed; does not wait for the others.
    OneDone,
    /// No upstream task failed or was upstream_failed: each succeeded or was skipped.
    NoneFailed,
    /// As `none_failed`, and at least one upstream task succeeded.
    NoneFailedMinOneSuccess,
    /// Every upstream task finished and none was skipped.
    NoneSkipped,
    /// Every upstream task was skipped.
    AllSkipped,
    /// No dependency at all: the task may run at any time.
    Always,
}

impl TriggerRule {
    /// Every rule gust supports.
    pub const ALL: [TriggerRule; 12] = [
        TriggerRule::AllSuccess,
        TriggerRule::AllFailed,
        TriggerRule::AllDone,
        TriggerRule::AllDoneMinOneSuccess,
        TriggerRule::OneSuccess,
        TriggerRule::OneFailed,
        TriggerRule::OneDone,
        TriggerRule::NoneFailed,
        TriggerRule::NoneFailedMinOneSuccess,
        TriggerRule::NoneSkipped,
        TriggerRule::AllSkipped,
        TriggerRule::Always,
    ];

    /// Airflow's name for the rule.
    pub fn as_str(self) -> &'static str {
        match self {
            TriggerRule::AllSuccess => "all_success",
            TriggerRule::AllFailed => "all_failed",
            TriggerRule::AllDone => "all_done",
            TriggerRule::AllDoneMinOneSuccess => "all_done_min_one_success",
            TriggerRule::OneSuccess => "one_success",
            TriggerRule::OneFailed => "one_failed",
            TriggerRule::OneDone => "one_done",
            TriggerRule::NoneFailed => "none_failed",
            TriggerRule::NoneFailedMinOneSuccess => "none_failed_min_one_success",
            TriggerRule::NoneSkipped => "none_skipped",
            TriggerRule::AllSkipped => "all_skipped",
            TriggerRule::Always => "always",
        }
    }

    /// Decides what happens to a task with this rule, given its upstream tasks' states.
    ///
    /// A task with no upstream tasks, or with the rule `always`, runs at once.
    pub fn evaluate(self, upstream: &UpstreamCounts) -> Verdict {
        if upstream.total == 0 || self == TriggerRule::Always {
            return Verdict::Run;
        }
        let UpstreamCounts {
            total,
            success,
            skipped,
            failed,
            upstream_failed,
        } = *upstream;
        let done = upstream.done();
        let all_done = done >= total;
        let any_failure = failed + upstream_failed > 0;

        // First the verdicts that are certain before every upstream task has finished...
        let early = match self {
            TriggerRule::AllSuccess if any_failure => Some(Verdict::UpstreamFailed),
            TriggerRule::AllSuccess if skipped > 0 => Some(Verdict::Skip),
            TriggerRule::AllFailed if success + skipped > 0 => Some(Verdict::Skip),
            TriggerRule::OneSuccess if all_done && done == skipped => Some(Verdict::Skip),
            TriggerRule::OneSuccess if all_done && success == 0 => Some(Verdict::UpstreamFailed),
            TriggerRule::OneFailed if all_done && !any_failure => Some(Verdict::Skip),
            TriggerRule::OneDone if all_done && failed + success == 0 => Some(Verdict::Skip),
            TriggerRule::NoneFailed if any_failure => Some(Verdict::UpstreamFailed),
            TriggerRule::NoneFailedMinOneSuccess if any_failure => Some(Verdict::UpstreamFailed),
            TriggerRule::NoneFailedMinOneSuccess if skipped == total => Some(Verdict::Skip),
            TriggerRule::NoneSkipped if skipped > 0 => Some(Verdict::Skip),
            TriggerRule::AllSkipped if success + failed + upstream_failed > 0 => {
                Some(Verdict::Skip)
            }
            TriggerRule::AllDoneMinOneSuccess if skipped > 0 => Some(Verdict::Skip),
            TriggerRule::AllDoneMinOneSuccess if all_done && success == 0 => {
                Some(Verdict::UpstreamFailed)
            }
            _ => None,
        };
        if let Some(verdict) = early {
            return verdict;
        }

        // ...then whether the rule is met.
        let met = match self {
            TriggerRule::AllSuccess => success == total,
            TriggerRule::AllFailed => failed + upstream_failed == total,
            TriggerRule::AllDone => all_done,
            TriggerRule::AllDoneMinOneSuccess => all_done && success > 0,
            TriggerRule::OneSuccess => success > 0,
            TriggerRule::OneFailed => any_failure,
            TriggerRule::OneDone => success + failed > 0,
            TriggerRule::NoneFailed | TriggerRule::NoneFailedMinOneSuccess => {
                success + skipped == total
            }
            TriggerRule::NoneSkipped => all_done,
            TriggerRule::AllSkipped => skipped == total,
            TriggerRule::Always => true,
        };
        if met { Verdict::Run } else { Verdict::Wait }
    }
}

impl fmt::Display for TriggerRule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for TriggerRule {
    type Err = UnknownName;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        TriggerRule::ALL
            .into_iter()
            .find(|rule| rule.as_str() == s)
            .ok_or_else(|| {
                UnknownName::new("trigger rule", s, TriggerRule::ALL.map(|r| r.as_str()))
            })
    }
}

/// How many of a task's direct upstream tasks are in each finished state.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct UpstreamCounts {
    /// The number of direct upstream tasks.
    pub total: usize,
    /// Upstream tasks that succeeded.
    pub success: usize,
    /// Upstream tasks that were skipped.
    pub skipped: usize,
    /// Upstream tasks that failed.
    pub failed: usize,
    /// Upstream tasks that were upstream_failed.
    pub upstream_failed: usize,
}

impl UpstreamCounts {
    /// Counts for a task with `total` upstream tasks, none finished yet.
    pub fn new(total: usize) -> Self {
        UpstreamCounts {
            total,
            ..Self::default()
        }
    }

    /// Counts one more upstream task as finished in `state`; other states are ignored.
    pub fn record(&mut self, state: TaskState) {
        match state {
            TaskState::Success => self.success += 1,
            TaskState::Skipped => self.skipped += 1,
            TaskState::Failed => self.failed += 1,
            TaskState::UpstreamFailed => self.upstream_failed += 1,
            _ => {}
        }
    }

    /// The number of upstream tasks that finished.
    pub fn done(&self) -> usize {
        self.success + self.skipped + self.failed + self.upstream_failed
    }
}

/// What a trigger rule decides for a task.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// Not decided yet: wait for more upstream tasks to finish.
    Wait,
    /// The rule is met: the task runs.
    Run,
    /// The rule can no longer be met and the task is skipped.
    Skip,
    /// The rule can no longer be met because of an upstream failure.
    UpstreamFailed,
}

#[cfg(test)]
mod tests;
