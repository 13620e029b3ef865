//! Task instance and DAG run states, with Airflow's names.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// The state of one task instance in one DAG run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TaskState {
    /// Not yet considered: its upstream tasks have not decided it.
    None,
    /// Its trigger rule is met; it waits for a free slot.
    Scheduled,
    /// It has a slot and is handed to a worker.
    Queued,
    /// An attempt is running.
    Running,
    /// Waiting for a trigger's event; holds no slot.
    Deferred,
    /// An attempt failed and another will start after the retry delay.
    UpForRetry,
    /// A sensor in reschedule mode waits for its next poke; holds no slot.
    UpForReschedule,
    /// Finished successfully.
    Success,
    /// Finished with an error.
    Failed,
    /// Skipped, by itself or by its trigger rule.
    Skipped,
    /// Not run because an upstream task failed.
    UpstreamFailed,
}

impl TaskState {
    /// Every state, in lifecycle order.
    pub const ALL: [TaskState; 11] = [
        TaskState::None,
        TaskState::Scheduled,
        TaskState::Queued,
        TaskState::Running,
        TaskState::Deferred,
        TaskState::UpForRetry,
        TaskState::UpForReschedule,
        TaskState::Success,
        TaskState::Failed,
        TaskState::Skipped,
        TaskState::UpstreamFailed,
    ];

    /// Whether the task instance is done and will not change again in this run.
    pub fn is_finished(self) -> bool {
        matches!(
            self,
            TaskState::Success | TaskState::Failed | TaskState::Skipped | TaskState::UpstreamFailed
        )
    }

    /// Airflow's name for the state.
    pub fn as_str(self) -> &'static str {
        match self {
            TaskState::None => "none",
            TaskState::Scheduled => "scheduled",
            TaskState::Queued => "queued",
            TaskState::Running => "running",
            TaskState::Deferred => "deferred",
            TaskState::UpForRetry => "up_for_retry",
            TaskState::UpForReschedule => "up_for_reschedule",
            TaskState::Success => "success",
            TaskState::Failed => "failed",
            TaskState::Skipped => "skipped",
            TaskState::UpstreamFailed => "upstream_failed",
        }
    }
}

impl fmt::Display for TaskState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for TaskState {
    type Err = UnknownName;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        TaskState::ALL
            .into_iter()
            .find(|state| state.as_str() == s)
            .ok_or_else(|| UnknownName::new("task state", s, TaskState::ALL.map(|s| s.as_str())))
    }
}

/// The state of a DAG run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RunState {
    /// Created, not started.
    Queued,
    /// Tasks are being run.
    Running,
    /// Every leaf task succeeded or was skipped.
    Success,
    /// A leaf task failed or was upstream_failed, or the run was cancelled.
    Failed,
}

impl RunState {
    /// Airflow's name for the state.
    pub fn as_str(self) -> &'static str {
        match self {
            RunState::Queued => "queued",
            RunState::Running => "running",
            RunState::Success => "success",
            RunState::Failed => "failed",
        }
    }

    /// Whether the run has ended.
    pub fn is_finished(self) -> bool {
        matches!(self, RunState::Success | RunState::Failed)
    }
}

impl fmt::Display for RunState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for RunState {
    type Err = UnknownName;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let all = [
            RunState::Queued,
            RunState::Running,
            RunState::Success,
            RunState::Failed,
        ];
        all.into_iter()
            .find(|state| state.as_str() == s)
            .ok_or_else(|| UnknownName::new("run state", s, all.map(|s| s.as_str())))
    }
}

/// A name that is not one of the known values of some enumeration.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown {what} '{given}'; expected one of: {}", known.join(", "))]
pub struct UnknownName {
    what: &'static str,
    given: String,
    known: Vec<&'static str>,
}

impl UnknownName {
    pub(crate) fn new<const N: usize>(
        what: &'static str,
        given: &str,
        known: [&'static str; N],
    ) -> Self {
        UnknownName {
            what,
            given: given.to_owned(),
            known: known.to_vec(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip() {
        for state in TaskState::ALL {
            assert_eq!(state.as_str().parse::<TaskState>().unwrap(), state);
            let json = serde_json::to_string(&state).unwrap();
            assert_eq!(json, format!("\"{}\"", state.as_str()));
        }
        let err = "done".parse::<TaskState>().unwrap_err().to_string();
        assert!(err.contains("unknown task state 'done'"), "{err}");
        assert!(err.contains("up_for_retry"), "{err}");
    }
}
