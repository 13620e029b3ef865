//! Runs gust DAG runs with Airflow's semantics.
//!
//! The [`Executor`] drives a run to completion: it applies trigger rules (with skip
//! propagation), starts tasks as the DAG's `max_active_tasks` and the pools allow,
//! retries failed attempts after `retry_delay` (with exponential backoff if asked),
//! stops attempts that pass their `execution_timeout`, pokes or reschedules sensors,
//! runs the triggers of deferred tasks (thousands at once on one runtime) and resumes
//! the tasks when they fire. Every step is recorded in a [`Store`] before the work it
//! announces, and published as a [`RunEvent`].
//!
//! ```
//! use std::sync::Arc;
//! use gust_core::{Dag, Operator, Outcome, RunState, TaskContext, TaskError, TaskState};
//! use gust_executor::{Executor, RunOptions};
//!
//! struct Answer;
//!
//! #[async_trait::async_trait]
//! impl Operator for Answer {
//!     async fn execute(&self, _: &TaskContext) -> Result<Outcome, TaskError> {
//!         Ok(Outcome::Value(42.into()))
//!     }
//! }
//!
//! # tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(async {
//! let mut dag = Dag::builder("answer");
//! dag.task("compute", Answer);
//! let report = Executor::in_memory()
//!     .run(Arc::new(dag.build().unwrap()), RunOptions::new())
//!     .await
//!     .unwrap();
//! assert_eq!(report.state, RunState::Success);
//! assert_eq!(report.xcom("compute", "return_value"), Some(&42.into()));
//! # });
//! ```

mod attempt;
pub mod backoff;
pub mod events;
mod executor;
mod memory;
mod ready;
mod report;
mod run_data;
mod run_loop;
mod slots;
pub mod store;

pub use attempt::LIFECYCLE_TARGET;
pub use backoff::Jitter;
pub use events::{EventKind, EventSender, RunEvent};
pub use executor::{Executor, ExecutorError, RunHandle, RunOptions};
pub use memory::MemoryStore;
pub use report::{RunReport, TaskReport};
pub use slots::DEFAULT_POOL_SLOTS;
pub use store::{Change, RunKey, RunRecord, RunSnapshot, Store, StoreError};
pub use tokio_util::sync::CancellationToken;
