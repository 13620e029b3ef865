//! What SSM reports about a command and its invocations, in gust's terms.

use std::fmt;

/// The status of one invocation (one command on one managed node).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum InvocationStatus {
    /// Not started yet.
    Pending,
    /// Running.
    InProgress,
    /// Waiting to be retried by the agent.
    Delayed,
    /// Finished with exit code 0.
    Success,
    /// The script exited non-zero: a failure of the command itself.
    Failed,
    /// Timed out, in delivery or in execution.
    TimedOut,
    /// Cancelled.
    Cancelled,
    /// Being cancelled. gust counts it as still in progress until it settles.
    Cancelling,
    /// A status gust does not know.
    Unknown(String),
}

/// What a status means for a wait.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// Not finished.
    Running,
    /// Finished successfully.
    Succeeded,
    /// The command's own failure (a non-zero exit), tolerated with
    /// `fail_on_nonzero_exit: false`.
    CommandFailed,
    /// An AWS-level failure (timed out, cancelled), never tolerated.
    AwsFailed,
}

impl InvocationStatus {
    /// Reads a status as SSM writes it.
    pub fn parse(text: &str) -> Self {
        match text {
            "Pending" => InvocationStatus::Pending,
            "InProgress" => InvocationStatus::InProgress,
            "Delayed" => InvocationStatus::Delayed,
            "Success" => InvocationStatus::Success,
            "Failed" => InvocationStatus::Failed,
            "TimedOut" => InvocationStatus::TimedOut,
            "Cancelled" => InvocationStatus::Cancelled,
            "Cancelling" => InvocationStatus::Cancelling,
            other => InvocationStatus::Unknown(other.to_owned()),
        }
    }

    /// What the status means for a wait; `None` for an unknown status.
    pub fn outcome(&self) -> Option<Outcome> {
        Some(match self {
            InvocationStatus::Pending
            | InvocationStatus::InProgress
            | InvocationStatus::Delayed
            | InvocationStatus::Cancelling => Outcome::Running,
            InvocationStatus::Success => Outcome::Succeeded,
            InvocationStatus::Failed => Outcome::CommandFailed,
            InvocationStatus::TimedOut | InvocationStatus::Cancelled => Outcome::AwsFailed,
            InvocationStatus::Unknown(_) => return None,
        })
    }

    /// The status as SSM writes it.
    pub fn as_str(&self) -> &str {
        match self {
            InvocationStatus::Pending => "Pending",
            InvocationStatus::InProgress => "InProgress",
            InvocationStatus::Delayed => "Delayed",
            InvocationStatus::Success => "Success",
            InvocationStatus::Failed => "Failed",
            InvocationStatus::TimedOut => "TimedOut",
            InvocationStatus::Cancelled => "Cancelled",
            InvocationStatus::Cancelling => "Cancelling",
            InvocationStatus::Unknown(text) => text,
        }
    }
}

impl fmt::Display for InvocationStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One step (plugin) of an invocation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Plugin {
    /// The step's name, e.g. `aws:runShellScript`.
    pub name: String,
    /// Its status.
    pub status: String,
    /// Its exit code (-1 while it runs).
    pub response_code: i32,
    /// The start of its output, as ListCommandInvocations gives it (SSM keeps 2,500
    /// characters there; GetCommandInvocation has more).
    pub output: String,
}

/// One invocation of a command, as ListCommandInvocations reports it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Invocation {
    /// The managed node.
    pub instance_id: String,
    /// Its status.
    pub status: InvocationStatus,
    /// SSM's detailed status, e.g. `DeliveryTimedOut`.
    pub status_details: Option<String>,
    /// Its steps.
    pub plugins: Vec<Plugin>,
}

impl Invocation {
    /// The exit code of the invocation: that of its first failed step, else its last step.
    pub fn exit_code(&self) -> Option<i32> {
        self.plugins
            .iter()
            .find(|p| p.status == "Failed")
            .or(self.plugins.last())
            .map(|p| p.response_code)
    }
}

/// A command as ListCommands reports it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CommandInfo {
    /// The command's id.
    pub command_id: String,
    /// Its command-level status.
    pub status: InvocationStatus,
    /// How many invocations it has or will have.
    pub target_count: usize,
    /// The instance ids it was sent to, when sent by `InstanceIds`.
    pub instance_ids: Vec<String>,
}

impl CommandInfo {
    /// Whether SSM considers the whole command finished.
    pub fn is_finished(&self) -> bool {
        matches!(
            self.status.outcome(),
            Some(Outcome::Succeeded | Outcome::CommandFailed | Outcome::AwsFailed)
        )
    }
}
