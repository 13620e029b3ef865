//! DAGs in YAML files, in the shape of Airflow's YAML DAG format.
//!
//! One document describes one DAG: `dag_id`, settings, and a list of tasks, each with an
//! `id`, the operator it `uses` (a short name or an Airflow class path), its parameters
//! under `with`, and the tasks it `needs`. A plain value is a literal; `{$t: ...}` is a
//! template, `{$x: task}` another task's XCom (which also makes that task upstream) and
//! `{$f: path}` a file's text. Every parameter is checked against the operator's own typed
//! parameters when the file loads, and every error names the file, line, column and the
//! path inside the document.
//!
//! The [`Registry`] of operators is filled by the application (the `gust` command
//! registers the standard and SSM operators).
//!
//! ```
//! use std::path::Path;
//! use std::sync::Arc;
//! use gust_core::TaskKind;
//! use gust_yaml::{OperatorSpec, ParamKind, ParamSpec, Registry, load_str};
//!
//! # use gust_core::{Outcome, TaskContext, TaskError};
//! # struct Noop;
//! # #[async_trait::async_trait]
//! # impl gust_core::Operator for Noop {
//! #     async fn execute(&self, _: &TaskContext) -> Result<Outcome, TaskError> {
//! #         Ok(Outcome::Nothing)
//! #     }
//! # }
//! let mut registry = Registry::new();
//! registry.register(OperatorSpec {
//!     name: "NoopOperator",
//!     class_paths: &[],
//!     summary: "does nothing",
//!     params: vec![ParamSpec::literal("note", ParamKind::Str, "a note")],
//!     sensor: false,
//!     build: |args| {
//!         args.literal::<String>("note")?;
//!         Ok(TaskKind::Operator(Arc::new(Noop)))
//!     },
//! });
//! let yaml = "dag_id: demo\ntasks:\n  - id: a\n    uses: NoopOperator\n    with: {notes: hi}\n";
//! let load = load_str(yaml, Path::new("demo.yaml"), &registry);
//! assert_eq!(
//!     load.errors[0].to_string(),
//!     "demo.yaml:5:12: tasks[0].with.notes: NoopOperator has no parameter 'notes' (did you mean note?)"
//! );
//! ```

mod args;
mod document;
mod duration;
mod error;
mod loader;
mod node;
mod registry;
mod schema;
mod suggest;
mod value;

pub use args::{ArgError, Args};
pub use document::{DAG_KEYS, DagInfo, TASK_KEYS, TASK_SETTINGS};
pub use duration::parse_duration;
pub use error::LoadError;
pub use loader::{FileLoad, LoadedDag, load_file, load_paths, load_str, yaml_files};
pub use node::Pos;
pub use registry::{BuildFn, OperatorSpec, ParamKind, ParamSpec, Registry, sensor_params};
pub use schema::schema;
pub use suggest::{did_you_mean, nearest};
