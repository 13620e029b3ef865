//! The stream of run events: every state change with its time, for progress displays,
//! logs and tests.

use std::sync::Arc;

use chrono::{DateTime, Utc};
use gust_core::{RunState, TaskState};
use tokio::sync::mpsc::UnboundedSender;

/// Something that happened in a run.
#[derive(Debug, Clone, PartialEq)]
pub struct RunEvent {
    /// When, on the executor's clock.
    pub at: DateTime<Utc>,
    /// What.
    pub kind: EventKind,
}

/// What happened.
#[derive(Debug, Clone, PartialEq)]
pub enum EventKind {
    /// A task instance changed state.
    Task {
        /// The task.
        task_id: Arc<str>,
        /// Its try (0 before the first).
        try_number: u32,
        /// The new state.
        state: TaskState,
        /// The error that ended a try, or why the task was skipped.
        message: Option<String>,
    },
    /// The run changed state.
    Run {
        /// The new state.
        state: RunState,
    },
}

/// Where a run sends its events.
pub type EventSender = UnboundedSender<RunEvent>;
