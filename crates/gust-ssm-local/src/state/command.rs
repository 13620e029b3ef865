//! One command: what was asked for, its invocations, and the command-level status and counts
//! that follow from them.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

use serde_json::Value;
use tokio::sync::Notify;
use tokio_util::sync::CancellationToken;

use super::invocation::{InvocationRecord, InvocationStatus};
use crate::targets::Target;

/// What a SendCommand asked for, checked and with defaults filled in.
#[derive(Debug)]
pub(crate) struct CommandSpec {
    pub(crate) document_name: String,
    pub(crate) document_version: String,
    pub(crate) comment: String,
    pub(crate) parameters: BTreeMap<String, Vec<String>>,
    pub(crate) instance_ids: Vec<String>,
    pub(crate) targets: Vec<Target>,
    pub(crate) timeout_seconds: i64,
    pub(crate) max_concurrency: String,
    pub(crate) max_errors: String,
    pub(crate) output_s3_region: String,
    pub(crate) output_s3_bucket_name: String,
    pub(crate) output_s3_key_prefix: String,
    pub(crate) service_role: String,
    pub(crate) notification_config: Value,
    pub(crate) cloud_watch_output_config: Value,
    pub(crate) script: ScriptSpec,
}

/// How each invocation runs.
#[derive(Debug)]
pub(crate) struct ScriptSpec {
    /// The `commands`, one per line.
    pub(crate) text: String,
    pub(crate) working_directory: Option<String>,
    pub(crate) execution_timeout: Duration,
}

/// A sent command and its invocations, one per target node.
#[derive(Debug)]
pub(crate) struct CommandRecord {
    pub(crate) id: Arc<str>,
    pub(crate) spec: Arc<CommandSpec>,
    pub(crate) requested_at: SystemTime,
    pub(crate) expires_at: SystemTime,
    pub(crate) visible_at: Instant,
    /// The whole command was cancelled (not just some of its nodes).
    pub(crate) cancel_requested: bool,
    pub(crate) invocations: Vec<InvocationRecord>,
    /// Parent of every invocation's token.
    pub(crate) cancel: CancellationToken,
    /// Wakes the command's dispatcher when invocations change outside it.
    pub(crate) wake: Arc<Notify>,
    /// MaxErrors as a number of invocations.
    pub(crate) max_errors: usize,
}

/// The command-level view SSM derives from the invocations.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Summary {
    pub(crate) status: &'static str,
    pub(crate) details: &'static str,
    pub(crate) target_count: usize,
    pub(crate) completed_count: usize,
    pub(crate) error_count: usize,
    pub(crate) delivery_timed_out_count: usize,
}

#[derive(Default)]
struct Tally {
    completed: usize,
    errors: usize,
    execution_timeouts: usize,
    delivery_timeouts: usize,
    successes: usize,
    started: usize,
}

impl CommandRecord {
    pub(crate) fn is_visible(&self, now: Instant) -> bool {
        now >= self.visible_at
    }

    pub(crate) fn invocation_on(&self, node: usize) -> Option<&InvocationRecord> {
        self.invocations.iter().find(|inv| inv.node() == node)
    }

    pub(crate) fn error_count(&self) -> usize {
        self.invocations
            .iter()
            .filter(|inv| inv.status.is_error())
            .count()
    }

    pub(crate) fn is_finished(&self) -> bool {
        self.invocations.iter().all(|inv| inv.status.is_terminal())
    }

    pub(crate) fn summary(&self) -> Summary {
        let tally = self.tally();
        let (status, details) = self.status_from(&tally);
        Summary {
            status,
            details,
            target_count: self.invocations.len(),
            completed_count: tally.completed,
            error_count: tally.errors,
            delivery_timed_out_count: tally.delivery_timeouts,
        }
    }

    fn tally(&self) -> Tally {
        let mut tally = Tally::default();
        for invocation in &self.invocations {
            let status = invocation.status;
            tally.completed += usize::from(status.is_terminal());
            tally.errors += usize::from(status.is_error());
            tally.successes += usize::from(status == InvocationStatus::Success);
            tally.started += usize::from(invocation.started_at.is_some());
            match status {
                InvocationStatus::ExecutionTimedOut => tally.execution_timeouts += 1,
                InvocationStatus::DeliveryTimedOut => tally.delivery_timeouts += 1,
                _ => {}
            }
        }
        tally
    }

    fn status_from(&self, tally: &Tally) -> (&'static str, &'static str) {
        let total = self.invocations.len();
        if total == 0 {
            return ("Failed", "No Instances In Tag");
        }

        if tally.completed < total {
            return if self.cancel_requested {
                ("Cancelling", "Cancelling")
            } else if tally.started == 0 && tally.completed == 0 {
                ("Pending", "Pending")
            } else {
                ("InProgress", "In Progress")
            };
        }

        if self.cancel_requested {
            ("Cancelled", "Cancelled")
        } else if tally.errors > self.max_errors {
            if tally.execution_timeouts == tally.errors {
                ("TimedOut", "Execution Timed Out")
            } else {
                ("Failed", "Failed")
            }
        } else if tally.delivery_timeouts > self.max_errors {
            ("TimedOut", "Delivery Timed Out")
        } else if tally.successes == total {
            ("Success", "Success")
        } else if tally.errors > 0 {
            ("Failed", "Incomplete")
        } else if tally.delivery_timeouts > 0 {
            ("TimedOut", "Incomplete")
        } else {
            ("Cancelled", "Incomplete")
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::state::invocation::Finished;

    fn record(statuses: &[InvocationStatus], max_errors: usize) -> CommandRecord {
        let now = SystemTime::now();
        let invocations = statuses
            .iter()
            .enumerate()
            .map(|(node, status)| {
                let mut inv = InvocationRecord::pending(node);
                match status {
                    InvocationStatus::Pending => {}
                    InvocationStatus::InProgress => inv.start(now, CancellationToken::new()),
                    InvocationStatus::Success
                    | InvocationStatus::Failed
                    | InvocationStatus::ExecutionTimedOut => {
                        inv.start(now, CancellationToken::new());
                        inv.finish(
                            Finished {
                                status: *status,
                                response_code: 0,
                                stdout: String::new(),
                                stderr: String::new(),
                            },
                            now,
                        );
                    }
                    other => inv.end_unstarted(*other, now),
                }
                inv
            })
            .collect();
        CommandRecord {
            id: "c".into(),
            spec: Arc::new(CommandSpec {
                document_name: String::new(),
                document_version: String::new(),
                comment: String::new(),
                parameters: BTreeMap::new(),
                instance_ids: vec![],
                targets: vec![],
                timeout_seconds: 3600,
                max_concurrency: "50".into(),
                max_errors: max_errors.to_string(),
                output_s3_region: String::new(),
                output_s3_bucket_name: String::new(),
                output_s3_key_prefix: String::new(),
                service_role: String::new(),
                notification_config: Value::Null,
                cloud_watch_output_config: Value::Null,
                script: ScriptSpec {
                    text: String::new(),
                    working_directory: None,
                    execution_timeout: Duration::from_secs(1),
                },
            }),
            requested_at: now,
            expires_at: now,
            visible_at: Instant::now(),
            cancel_requested: false,
            invocations,
            cancel: CancellationToken::new(),
            wake: Arc::new(Notify::new()),
            max_errors,
        }
    }

    fn status(statuses: &[InvocationStatus], max_errors: usize) -> (&'static str, &'static str) {
        let summary = record(statuses, max_errors).summary();
        (summary.status, summary.details)
    }

    use InvocationStatus::*;

    #[test]
    fn command_status_follows_the_invocations() {
        assert_eq!(status(&[Pending, Pending], 0), ("Pending", "Pending"));
        assert_eq!(
            status(&[Success, Pending], 0),
            ("InProgress", "In Progress")
        );
        assert_eq!(
            status(&[InProgress, Pending], 0),
            ("InProgress", "In Progress")
        );
        assert_eq!(status(&[Success, Success], 0), ("Success", "Success"));
        assert_eq!(status(&[Success, Failed], 0), ("Failed", "Failed"));
        assert_eq!(
            status(&[ExecutionTimedOut, Success], 0),
            ("TimedOut", "Execution Timed Out")
        );
        assert_eq!(
            status(&[DeliveryTimedOut, Success], 0),
            ("TimedOut", "Delivery Timed Out")
        );
        assert_eq!(
            status(&[Failed, Success, Success], 1),
            ("Failed", "Incomplete")
        );
        assert_eq!(
            status(&[Failed, Failed, Terminated], 1),
            ("Failed", "Failed")
        );
        assert_eq!(status(&[], 0), ("Failed", "No Instances In Tag"));
    }

    #[test]
    fn a_cancelled_command_is_cancelling_until_its_scripts_stop() {
        let mut command = record(&[InProgress, Cancelled], 0);
        command.cancel_requested = true;
        assert_eq!(command.summary().status, "Cancelling");

        let mut command = record(&[Success, Cancelled], 0);
        command.cancel_requested = true;
        assert_eq!(command.summary().status, "Cancelled");
    }

    #[test]
    fn counts_follow_ssm_definitions() {
        let summary = record(
            &[
                Success,
                Failed,
                ExecutionTimedOut,
                DeliveryTimedOut,
                Pending,
            ],
            9,
        )
        .summary();
        assert_eq!(summary.target_count, 5);
        assert_eq!(summary.completed_count, 4);
        assert_eq!(summary.error_count, 2);
        assert_eq!(summary.delivery_timed_out_count, 1);
    }
}
