//! The core of gust: the traits tasks implement and the DAG model they live in.
//!
//! - [`Operator`], [`Sensor`] and [`Trigger`]: what a task does, how it waits, and how a
//!   wait is handed to the executor's triggerer.
//! - [`TaskContext`]: what a running task knows (ids, logical date, params, XCom, clock,
//!   cancellation).
//! - [`Dag`] and [`DagBuilder`]: tasks with Airflow's settings and trigger rules, and
//!   the dependencies between them, validated once.
//! - [`expr`] and [`template`]: parameters that are only known when a task runs.
//! - [`clock`]: time, read through a trait so tests run on a manual clock.
//!
//! The executor that runs DAGs lives in `gust-executor`; operators live in provider
//! crates such as `gust-standard`.
//!
//! ```
//! use async_trait::async_trait;
//! use gust_core::{Dag, Operator, Outcome, TaskContext, TaskError};
//!
//! struct Hello;
//!
//! #[async_trait]
//! impl Operator for Hello {
//!     async fn execute(&self, _ctx: &TaskContext) -> Result<Outcome, TaskError> {
//!         Ok(Outcome::Value("hello".into()))
//!     }
//! }
//!
//! let mut dag = Dag::builder("hello");
//! dag.task("say_hello", Hello);
//! let dag = dag.build().unwrap();
//! assert_eq!(dag.len(), 1);
//! ```

pub mod clock;
pub mod context;
pub mod dag;
pub mod error;
pub mod expr;
pub mod operator;
pub mod sensor;
pub mod settings;
pub mod state;
pub mod template;
pub mod trigger;
pub mod trigger_rule;

pub use clock::{Clock, ManualClock, SharedClock, SystemClock};
pub use context::{MemoryRunData, RunData, RunInfo, TaskContext};
pub use dag::{Dag, DagBuilder, DagError, DagSettings, Task, TaskBuilder, TaskHandle, TaskKind};
pub use error::TaskError;
pub use expr::{Arg, Expr, RETURN_VALUE, XComRef, template};
pub use operator::{Deferral, EXECUTE_COMPLETE, Operator, Outcome};
pub use sensor::{Sensor, SensorMode, SensorSettings};
pub use settings::{DEFAULT_POOL, TaskOverrides, TaskSettings};
pub use state::{RunState, TaskState};
pub use trigger::{SerializedTrigger, Trigger, TriggerContext, TriggerEvent, TriggerRegistry};
pub use trigger_rule::{TriggerRule, UpstreamCounts, Verdict};
