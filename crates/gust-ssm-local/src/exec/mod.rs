//! Carrying out commands: a dispatcher per command decides which invocations start when, and
//! each started invocation runs its script in a process group of its own.

mod dispatcher;
mod output;
mod process_groups;
mod script;

pub(crate) use dispatcher::{Plan, dispatch};
pub(crate) use output::plugin_output;
pub(crate) use process_groups::ProcessGroups;
