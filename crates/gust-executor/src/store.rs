//! Where runs are recorded: the [`Store`] trait and the records it keeps.
//!
//! The executor records every change before the work it announces: a task is recorded
//! `running` before its attempt starts, `deferred` (with its serialized trigger) before
//! the trigger runs, and `success` (with its XCom value) before its downstream tasks are
//! considered. Changes made together are applied together, so a store that writes them
//! in one transaction never shows half of a step.

use std::sync::Arc;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use gust_core::{RunState, SerializedTrigger, TaskState};
use serde::{Deserialize, Serialize};
use serde_json::Value;

mod recorded;

pub use recorded::{RecordedRun, Touched};

/// Identifies a DAG run.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct RunKey {
    /// The DAG's id.
    pub dag_id: Arc<str>,
    /// The run's id, unique within the DAG.
    pub run_id: Arc<str>,
}

impl std::fmt::Display for RunKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}", self.dag_id, self.run_id)
    }
}

/// A DAG run as recorded.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunRecord {
    /// Which run.
    pub key: RunKey,
    /// The logical date the run is for.
    pub logical_date: DateTime<Utc>,
    /// The configuration the run was started with.
    pub conf: Value,
    /// The run's state.
    pub state: RunState,
    /// When the run started.
    pub started_at: Option<DateTime<Utc>>,
    /// When the run ended.
    pub ended_at: Option<DateTime<Utc>>,
}

/// A trigger a deferred task waits for, as recorded.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DeferralRecord {
    /// The trigger's kind and arguments.
    pub trigger: SerializedTrigger,
    /// The method the task resumes with.
    pub method_name: String,
    /// When the wait times out, if it does.
    pub deadline: Option<DateTime<Utc>>,
}

/// One recorded change to a run.
#[derive(Debug, Clone, PartialEq)]
pub enum Change {
    /// The run changed state.
    Run {
        /// The new state.
        state: RunState,
        /// When.
        at: DateTime<Utc>,
    },
    /// A task instance changed state.
    Task(TaskChange),
    /// A task pushed an XCom value.
    XCom {
        /// The task.
        task_id: Arc<str>,
        /// The key.
        key: String,
        /// The value.
        value: Value,
    },
    /// A task saved a value in its task state.
    TaskData {
        /// The task.
        task_id: Arc<str>,
        /// The key.
        key: String,
        /// The value.
        value: Value,
    },
}

/// A task instance's change of state.
#[derive(Debug, Clone, PartialEq)]
pub struct TaskChange {
    /// The task.
    pub task_id: Arc<str>,
    /// The try the change belongs to (0 before the first try).
    pub try_number: u32,
    /// The new state.
    pub state: TaskState,
    /// When.
    pub at: DateTime<Utc>,
    /// The error that ended the try, for `failed`, `up_for_retry` and `upstream_failed`,
    /// or why the task was skipped.
    pub message: Option<String>,
    /// When the task wakes up, for `up_for_retry` and `up_for_reschedule`.
    pub wake_at: Option<DateTime<Utc>>,
    /// The trigger it waits for, for `deferred`.
    pub deferral: Option<DeferralRecord>,
}

/// One try of a task instance, as recorded.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TryRecord {
    /// The try's number, from 1.
    pub try_number: u32,
    /// The state the try ended in, or its current state.
    pub state: TaskState,
    /// When the try started.
    pub started_at: DateTime<Utc>,
    /// When the try ended.
    pub ended_at: Option<DateTime<Utc>>,
    /// The error that ended it.
    pub error: Option<String>,
}

/// A task instance as recorded.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TaskRecord {
    /// The task.
    pub task_id: String,
    /// Its current state.
    pub state: TaskState,
    /// Its current or last try (0 if never tried).
    pub try_number: u32,
    /// The last message: an error, or why it was skipped.
    pub message: Option<String>,
    /// When it wakes up, while `up_for_retry` or `up_for_reschedule`.
    pub wake_at: Option<DateTime<Utc>>,
    /// What it waits for, while `deferred`.
    pub deferral: Option<DeferralRecord>,
    /// Every try, in order.
    pub tries: Vec<TryRecord>,
}

/// A run with everything recorded about it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunSnapshot {
    /// The run.
    pub run: RunRecord,
    /// Its task instances that have a record, in the order they were first recorded.
    pub tasks: Vec<TaskRecord>,
    /// Its XCom values as (task, key, value), in the order they were pushed.
    pub xcom: Vec<(String, String, Value)>,
    /// Its task state values as (task, key, value).
    pub task_data: Vec<(String, String, Value)>,
}

/// A store failed to record or read.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StoreError {
    /// The run is already recorded.
    #[error("run {0} already exists")]
    RunExists(RunKey),
    /// The run is not recorded.
    #[error("run {0} does not exist")]
    NoSuchRun(RunKey),
    /// The store's backend failed.
    #[error("{0}")]
    Backend(String),
}

/// Durable (or in-memory) record of runs, task instances, XCom and triggers.
#[async_trait]
pub trait Store: Send + Sync {
    /// Records a new run.
    async fn create_run(&self, run: &RunRecord) -> Result<(), StoreError>;

    /// Applies changes to a run, all of them or none.
    async fn apply(&self, run: &RunKey, changes: &[Change]) -> Result<(), StoreError>;

    /// Everything recorded about a run, if it exists.
    async fn load_run(&self, run: &RunKey) -> Result<Option<RunSnapshot>, StoreError>;

    /// The runs recorded, newest first, optionally of one DAG only.
    async fn list_runs(&self, dag_id: Option<&str>) -> Result<Vec<RunRecord>, StoreError>;
}

/// Applies a task change to a task record: its state, and the try it belongs to.
pub fn apply_to_task(task: &mut TaskRecord, change: &TaskChange) {
    task.state = change.state;
    task.try_number = change.try_number;
    task.message = change.message.clone();
    task.wake_at = change.wake_at;
    task.deferral = change.deferral.clone();

    if change.state == TaskState::Running
        && task.tries.last().map(|t| t.try_number) != Some(change.try_number)
    {
        task.tries.push(TryRecord {
            try_number: change.try_number,
            state: TaskState::Running,
            started_at: change.at,
            ended_at: None,
            error: None,
        });
    }
    // A try's record follows the task until the try ends; later changes (the task being
    // scheduled for its next try) belong to the next try.
    if let Some(current) = task
        .tries
        .last_mut()
        .filter(|t| t.try_number == change.try_number && t.ended_at.is_none())
    {
        current.state = change.state;
        let try_ended = change.state.is_finished() || change.state == TaskState::UpForRetry;
        if try_ended {
            current.ended_at = Some(change.at);
            current.error = change.message.clone();
        }
    }
}
