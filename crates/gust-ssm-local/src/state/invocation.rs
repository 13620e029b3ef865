//! One invocation: a command's copy on one node, with its status, exit code, times and
//! output. Finished invocations are kept small: two optional times, two boxed strings and a
//! few bytes of status.

use std::time::SystemTime;

use tokio_util::sync::CancellationToken;

/// Where an invocation stands. Several map onto one SSM `Status`; `StatusDetails` tells
/// them apart.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum InvocationStatus {
    Pending,
    InProgress,
    Cancelling,
    Success,
    Failed,
    ExecutionTimedOut,
    DeliveryTimedOut,
    Cancelled,
    /// Not started because the command went past its MaxErrors.
    Terminated,
}

impl InvocationStatus {
    /// The invocation's `Status`.
    pub(crate) fn status(self) -> &'static str {
        match self {
            InvocationStatus::Pending => "Pending",
            InvocationStatus::InProgress => "InProgress",
            InvocationStatus::Cancelling => "Cancelling",
            InvocationStatus::Success => "Success",
            InvocationStatus::Failed => "Failed",
            InvocationStatus::ExecutionTimedOut | InvocationStatus::DeliveryTimedOut => "TimedOut",
            InvocationStatus::Cancelled | InvocationStatus::Terminated => "Cancelled",
        }
    }

    /// The invocation's `StatusDetails`.
    pub(crate) fn details(self) -> &'static str {
        match self {
            InvocationStatus::Pending => "Pending",
            InvocationStatus::InProgress => "In Progress",
            InvocationStatus::Cancelling => "Cancelling",
            InvocationStatus::Success => "Success",
            InvocationStatus::Failed => "Failed",
            InvocationStatus::ExecutionTimedOut => "Execution Timed Out",
            InvocationStatus::DeliveryTimedOut => "Delivery Timed Out",
            InvocationStatus::Cancelled => "Cancelled",
            InvocationStatus::Terminated => "Terminated",
        }
    }

    /// The plugin's `Status`, which has no Cancelling.
    pub(crate) fn plugin_status(self) -> &'static str {
        match self {
            InvocationStatus::Cancelling => "InProgress",
            other => other.status(),
        }
    }

    pub(crate) fn is_terminal(self) -> bool {
        !matches!(
            self,
            InvocationStatus::Pending | InvocationStatus::InProgress | InvocationStatus::Cancelling
        )
    }

    /// Whether it counts against the command's MaxErrors (and in its ErrorCount).
    pub(crate) fn is_error(self) -> bool {
        matches!(
            self,
            InvocationStatus::Failed | InvocationStatus::ExecutionTimedOut
        )
    }
}

/// One node's share of a command.
#[derive(Debug)]
pub(crate) struct InvocationRecord {
    node: u32,
    pub(crate) status: InvocationStatus,
    /// -1 until the script ends.
    pub(crate) response_code: i32,
    pub(crate) started_at: Option<SystemTime>,
    pub(crate) ended_at: Option<SystemTime>,
    /// At most 24,000 characters.
    pub(crate) stdout: Box<str>,
    /// At most 8,000 characters.
    pub(crate) stderr: Box<str>,
    /// Stops the script; only while it runs.
    cancel: Option<CancellationToken>,
}

impl InvocationRecord {
    pub(crate) fn pending(node: usize) -> Self {
        InvocationRecord {
            node: u32::try_from(node).unwrap_or(u32::MAX),
            status: InvocationStatus::Pending,
            response_code: -1,
            started_at: None,
            ended_at: None,
            stdout: Box::default(),
            stderr: Box::default(),
            cancel: None,
        }
    }

    pub(crate) fn node(&self) -> usize {
        self.node as usize
    }

    pub(crate) fn start(&mut self, now: SystemTime, cancel: CancellationToken) {
        self.status = InvocationStatus::InProgress;
        self.started_at = Some(now);
        self.cancel = Some(cancel);
    }

    /// Ends the invocation without it having run (delivery timeout, cancel, MaxErrors).
    pub(crate) fn end_unstarted(&mut self, status: InvocationStatus, now: SystemTime) {
        self.status = status;
        self.ended_at = Some(now);
    }

    pub(crate) fn finish(&mut self, end: Finished, now: SystemTime) {
        self.status = end.status;
        self.response_code = end.response_code;
        self.stdout = end.stdout.into_boxed_str();
        self.stderr = end.stderr.into_boxed_str();
        self.ended_at = Some(now);
        self.cancel = None;
    }

    /// Cancels it: at once if it has not started, by stopping its script if it runs.
    /// Finished invocations stay as they are.
    pub(crate) fn cancel(&mut self, now: SystemTime) {
        match self.status {
            InvocationStatus::Pending => self.end_unstarted(InvocationStatus::Cancelled, now),
            InvocationStatus::InProgress => {
                self.status = InvocationStatus::Cancelling;
                if let Some(token) = &self.cancel {
                    token.cancel();
                }
            }
            _ => {}
        }
    }
}

/// How a script run ended, as the invocation will report it.
#[derive(Debug)]
pub(crate) struct Finished {
    pub(crate) status: InvocationStatus,
    pub(crate) response_code: i32,
    pub(crate) stdout: String,
    pub(crate) stderr: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_finished_invocation_is_small() {
        assert!(
            size_of::<InvocationRecord>() <= 96,
            "{}",
            size_of::<InvocationRecord>()
        );
    }

    #[test]
    fn cancelling_depends_on_where_it_stands() {
        let now = SystemTime::now();
        let mut pending = InvocationRecord::pending(0);
        pending.cancel(now);
        assert_eq!(pending.status, InvocationStatus::Cancelled);

        let token = CancellationToken::new();
        let mut running = InvocationRecord::pending(0);
        running.start(now, token.clone());
        running.cancel(now);
        assert_eq!(running.status, InvocationStatus::Cancelling);
        assert!(token.is_cancelled());

        let mut done = InvocationRecord::pending(0);
        done.end_unstarted(InvocationStatus::DeliveryTimedOut, now);
        done.cancel(now);
        assert_eq!(done.status, InvocationStatus::DeliveryTimedOut);
    }

    #[test]
    fn wire_names_follow_ssm() {
        let timed_out = InvocationStatus::ExecutionTimedOut;
        assert_eq!(
            (timed_out.status(), timed_out.details()),
            ("TimedOut", "Execution Timed Out")
        );
        let terminated = InvocationStatus::Terminated;
        assert_eq!(
            (terminated.status(), terminated.details()),
            ("Cancelled", "Terminated")
        );
        assert_eq!(InvocationStatus::Cancelling.plugin_status(), "InProgress");
    }
}
