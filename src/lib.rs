//! gust: an Airflow-like workflow orchestrator whose first provider runs AWS Systems
//! Manager Run Command.
//!
//! This crate is the `gust` command and a facade over the workspace's crates:
//!
//! - [`core`]: operators, sensors, triggers, the DAG model, templates, the clock;
//! - [`executor`]: runs DAG runs with Airflow's semantics against a store;
//! - [`standard`]: `EmptyOperator`, `BashOperator` and Rust closure tasks;
//! - [`aws`]: AWS connections (Airflow's `aws` connection model);
//! - [`ssm`]: the SSM Run Command operator, sensor, trigger and output operator;
//! - [`ssm_local`]: a local SSM Run Command service that runs commands on this host;
//! - [`store`]: the durable run store (SQLite);
//! - [`yaml`]: DAGs in YAML files; [`registry`] lists the operators they can use;
//! - [`task_logs`]: a log file per task try.
//!
//! ```
//! use std::sync::Arc;
//! use gust::core::{Dag, RunState};
//! use gust::executor::{Executor, RunOptions};
//! use gust::standard::BashOperator;
//!
//! # tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(async {
//! let mut dag = Dag::builder("hello");
//! dag.task("say", BashOperator::new("echo hello"));
//! let report = Executor::in_memory()
//!     .run(Arc::new(dag.build().unwrap()), RunOptions::new())
//!     .await
//!     .unwrap();
//! assert_eq!(report.state, RunState::Success);
//! assert_eq!(report.xcom("say", "return_value"), Some(&"hello".into()));
//! # });
//! ```

pub use gust_aws as aws;
pub use gust_core as core;
pub use gust_executor as executor;
pub use gust_ssm as ssm;
pub use gust_ssm_local as ssm_local;
pub use gust_standard as standard;
pub use gust_store as store;
pub use gust_yaml as yaml;

pub mod registry;
pub mod task_logs;
