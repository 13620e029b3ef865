//! The SSM operations the local service implements, by their wire names.

use std::fmt;
use std::str::FromStr;

use crate::Error;

/// One of the SSM Run Command operations that the local service answers.
///
/// Its name is the part after `AmazonSSM.` in the `X-Amz-Target` header.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Operation {
    /// Sends a document to managed nodes.
    SendCommand,
    /// Lists commands, newest first.
    ListCommands,
    /// Lists the per-node invocations of commands.
    ListCommandInvocations,
    /// Reads one invocation in detail, with its output.
    GetCommandInvocation,
    /// Cancels a command on all or some of its nodes.
    CancelCommand,
    /// Lists the managed nodes.
    DescribeInstanceInformation,
}

impl Operation {
    /// Every operation, in a stable order.
    pub const ALL: [Operation; 6] = [
        Operation::SendCommand,
        Operation::ListCommands,
        Operation::ListCommandInvocations,
        Operation::GetCommandInvocation,
        Operation::CancelCommand,
        Operation::DescribeInstanceInformation,
    ];

    /// The operation's wire name, e.g. `"SendCommand"`.
    pub fn name(self) -> &'static str {
        match self {
            Operation::SendCommand => "SendCommand",
            Operation::ListCommands => "ListCommands",
            Operation::ListCommandInvocations => "ListCommandInvocations",
            Operation::GetCommandInvocation => "GetCommandInvocation",
            Operation::CancelCommand => "CancelCommand",
            Operation::DescribeInstanceInformation => "DescribeInstanceInformation",
        }
    }

    /// The operation with this wire name, if the service implements it.
    pub fn from_name(name: &str) -> Option<Operation> {
        Operation::ALL.into_iter().find(|op| op.name() == name)
    }

    /// All wire names, comma separated, for messages.
    pub(crate) fn names() -> String {
        Operation::ALL.map(Operation::name).join(", ")
    }
}

impl fmt::Display for Operation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for Operation {
    type Err = Error;

    fn from_str(name: &str) -> Result<Self, Self::Err> {
        Operation::from_name(name).ok_or_else(|| Error::UnknownOperation(name.to_owned()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip() {
        for op in Operation::ALL {
            assert_eq!(op.name().parse::<Operation>().ok(), Some(op));
        }
    }

    #[test]
    fn unknown_name_is_an_error_that_lists_the_known_ones() {
        let err = "GetParameter".parse::<Operation>().unwrap_err();
        let text = err.to_string();
        assert!(
            text.contains("GetParameter") && text.contains("SendCommand"),
            "{text}"
        );
    }
}
