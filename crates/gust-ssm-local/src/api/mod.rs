//! The operations: each one decodes its input shape, checks it as SSM does, and answers from
//! the shared state (SendCommand also starts the work).

mod cancel_command;
mod describe_instance_information;
mod filters;
mod get_command_invocation;
mod list_command_invocations;
mod list_commands;
mod paging;
mod send_command;
mod shapes;

use std::sync::Arc;

use serde_json::Value;

use crate::Operation;
use crate::protocol::ApiError;
use crate::shared::Shared;

/// Answers one call of `operation` with this request body.
pub(crate) fn answer(
    shared: &Arc<Shared>,
    operation: Operation,
    body: &[u8],
) -> Result<Value, ApiError> {
    match operation {
        Operation::SendCommand => send_command::handle(shared, body),
        Operation::ListCommands => list_commands::handle(shared, body),
        Operation::ListCommandInvocations => list_command_invocations::handle(shared, body),
        Operation::GetCommandInvocation => get_command_invocation::handle(shared, body),
        Operation::CancelCommand => cancel_command::handle(shared, body),
        Operation::DescribeInstanceInformation => {
            describe_instance_information::handle(shared, body)
        }
    }
}
