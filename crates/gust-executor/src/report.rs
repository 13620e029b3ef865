//! What a finished run reports: the run's state and each task's.

use std::time::Duration;

use chrono::{DateTime, Utc};
use gust_core::clock::elapsed;
use gust_core::{RunState, TaskState};
use serde::Serialize;
use serde_json::Value;

/// How a DAG run ended.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RunReport {
    /// The DAG.
    pub dag_id: String,
    /// The run.
    pub run_id: String,
    /// The run's logical date.
    pub logical_date: DateTime<Utc>,
    /// `success` or `failed`.
    pub state: RunState,
    /// When the run started.
    pub started_at: DateTime<Utc>,
    /// When it ended.
    pub ended_at: DateTime<Utc>,
    /// Every task, in the order the DAG lists them.
    pub tasks: Vec<TaskReport>,
    /// Every XCom value as (task, key, value), sorted by task and key.
    pub xcom: Vec<(String, String, Value)>,
}

/// How one task ended.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TaskReport {
    /// The task.
    pub task_id: String,
    /// Its operator's or sensor's type name.
    pub operator: &'static str,
    /// Its final state.
    pub state: TaskState,
    /// How many tries it made.
    pub tries: u32,
    /// When its first try started.
    pub started_at: Option<DateTime<Utc>>,
    /// When it finished.
    pub ended_at: Option<DateTime<Utc>>,
    /// The error of its last try, or why it was skipped.
    pub message: Option<String>,
}

impl TaskReport {
    /// The time from its first try's start to its end.
    pub fn duration(&self) -> Option<Duration> {
        Some(elapsed(self.started_at?, self.ended_at?))
    }
}

impl RunReport {
    /// The report of the task `task_id`.
    pub fn task(&self, task_id: &str) -> Option<&TaskReport> {
        self.tasks.iter().find(|task| task.task_id == task_id)
    }

    /// The final state of the task `task_id`.
    pub fn state_of(&self, task_id: &str) -> Option<TaskState> {
        self.task(task_id).map(|task| task.state)
    }

    /// The XCom value `task_id` pushed under `key`.
    pub fn xcom(&self, task_id: &str, key: &str) -> Option<&Value> {
        self.xcom
            .iter()
            .find(|(task, k, _)| task == task_id && k == key)
            .map(|(_, _, value)| value)
    }
}
