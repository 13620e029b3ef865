//! AWS Systems Manager Run Command for gust, with Airflow's names and parameters.
//!
//! - [`SsmRunCommandOperator`] sends a command and returns its id (waiting for it, not
//!   waiting, or deferring to [`SsmRunCommandTrigger`]);
//! - [`SsmRunCommandCompletedSensor`] waits until a command finished on every node;
//! - [`SsmGetCommandInvocationOperator`] reads the output of every node;
//! - [`SsmHook`] makes the calls, on a client built from an Airflow `aws` connection.
//!
//! All three wait through one tracker ([`tracker`]) that waits for every target of a
//! command, reads all pages of invocations in one call per page, treats "not visible
//! yet" as "not done", fails fast on any failed node, and reports running out of polls
//! as its own error.
//!
//! ```
//! use gust_core::Dag;
//! use gust_ssm::{
//!     SsmGetCommandInvocationOperator, SsmRunCommandCompletedSensor, SsmRunCommandOperator,
//! };
//! use serde_json::json;
//!
//! let mut dag = Dag::builder("ssm_run_command");
//! let run = dag.task(
//!     "run_command",
//!     SsmRunCommandOperator::new("AWS-RunShellScript")
//!         .run_command_kwargs(json!({
//!             "InstanceIds": ["mi-0123456789abcdef0"],
//!             "Parameters": {"commands": ["uname -a"]},
//!         }))
//!         .unwrap()
//!         .wait_for_completion(false),
//! );
//! let wait = dag.sensor("await_run_command", SsmRunCommandCompletedSensor::new(run.output()));
//! let output = dag.task("get_output", SsmGetCommandInvocationOperator::new(run.output()));
//! dag.set_downstream(&wait, &output);
//! assert!(dag.build().is_ok());
//! ```

mod aws_args;
mod error;
mod hook;
mod kwargs;
mod model;
mod operator;
mod output;
mod send_once;
mod sensor;
pub mod tracker;
mod trigger;

pub use aws_args::{AwsArgs, default_deferrable};
pub use error::SsmError;
pub use hook::{MAX_IN_FLIGHT, PAGE_SIZE, SentCommand, SsmHook, connections, set_connections};
pub use kwargs::{MAX_INSTANCE_IDS, RunCommandKwargs, StringList, TargetSpec};
pub use model::{CommandInfo, Invocation, InvocationStatus, Outcome as StatusOutcome, Plugin};
pub use operator::SsmRunCommandOperator;
pub use output::SsmGetCommandInvocationOperator;
pub use send_once::{SEND_TOKEN_KEY, SENT_COMMAND_KEY};
pub use sensor::SsmRunCommandCompletedSensor;
pub use trigger::{SsmRunCommandTrigger, TRIGGER_KIND};

/// Registers the SSM triggers so that stored ones can be rebuilt.
pub fn register_triggers(registry: &mut gust_core::TriggerRegistry) {
    SsmRunCommandTrigger::register(registry);
}
