//! Tracking a command to completion, shared by the operator's wait, the sensor's poke
//! and the trigger.
//!
//! Each poll makes one ListCommands call (the command's status and how many invocations
//! it will have) and one ListCommandInvocations call per page of 50 invocations, never
//! one call per instance. The rules:
//!
//! - a command sent to `Targets` is waited for until every expected invocation exists and
//!   has finished, not just those visible so far;
//! - invocations that are not visible yet mean "poll again", never "done";
//! - a `Failed` invocation (unless tolerated) or an AWS-level failure on any instance ends
//!   the wait on that poll, whatever the order of the list;
//! - running out of polls is its own error, never reported as an exit code;
//! - an unknown command id is an error at once;
//! - throttling and server errors are retried by the SDK; if a whole poll still fails
//!   that way, it counts as a poll that learned nothing, a few times in a row at most.

use std::time::Duration;

use gust_core::SharedClock;
use gust_core::error::humanize;
use tracing::{debug, info};

use crate::error::SsmError;
use crate::hook::SsmHook;
use crate::model::{CommandInfo, Invocation, InvocationStatus, Outcome};

/// How many polls in a row may fail on throttling or server errors before the wait
/// gives up.
pub const TRANSIENT_POLLS: u32 = 5;

/// How a command ended badly, for messages and trigger events.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CommandFailure {
    /// The command.
    pub command_id: String,
    /// The instance it failed on, if one did.
    pub instance_id: Option<String>,
    /// The status there (or the command's).
    pub status: String,
    /// The exit code there, if the script ran to an end.
    pub exit_code: Option<i32>,
    /// A sentence that says all of the above.
    pub message: String,
}

/// Where a command stands after one poll.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Progress {
    /// Every expected invocation finished acceptably.
    Done(Vec<Invocation>),
    /// Not finished.
    Running {
        /// Invocations visible.
        visible: usize,
        /// Invocations expected.
        expected: usize,
        /// Visible invocations still running.
        running: usize,
    },
    /// Failed on some instance, or as a whole.
    Failed(CommandFailure),
}

/// Why a wait ended without success.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum WaitError {
    /// The command failed.
    Failed(CommandFailure),
    /// The command was still running after the last poll.
    StillRunning {
        /// The command.
        command_id: String,
        /// How many polls were made.
        polls: u32,
        /// The last progress seen, as "3 of 5 invocations finished".
        progress: String,
    },
    /// A call failed in a way waiting cannot fix.
    Ssm(SsmError),
}

impl std::fmt::Display for WaitError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            WaitError::Failed(failure) => f.write_str(&failure.message),
            WaitError::StillRunning {
                command_id,
                polls,
                progress,
            } => write!(
                f,
                "command {command_id} had not finished after {polls} polls ({progress}); \
                 it may still be running"
            ),
            WaitError::Ssm(err) => write!(f, "{err}"),
        }
    }
}

/// Decides where a command stands from what one poll read.
pub fn assess(
    command: &CommandInfo,
    invocations: Vec<Invocation>,
    expected_instances: usize,
    fail_on_nonzero_exit: bool,
) -> Result<Progress, SsmError> {
    let mut running = 0;
    for invocation in &invocations {
        let outcome = invocation
            .status
            .outcome()
            .ok_or_else(|| SsmError::UnknownStatus {
                command_id: command.command_id.clone(),
                instance_id: invocation.instance_id.clone(),
                status: invocation.status.to_string(),
            })?;
        let fails = match outcome {
            Outcome::Running => {
                running += 1;
                false
            }
            Outcome::Succeeded => false,
            Outcome::CommandFailed => fail_on_nonzero_exit,
            Outcome::AwsFailed => true,
        };
        if fails {
            // What the script printed is what explains a failure: keep it in the task's log.
            for plugin in invocation.plugins.iter().filter(|p| !p.output.is_empty()) {
                info!(
                    "output on {} ({}) before it ended {}:\n{}",
                    invocation.instance_id, plugin.name, invocation.status, plugin.output
                );
            }
            return Ok(Progress::Failed(failure_on(
                &command.command_id,
                invocation,
            )));
        }
    }

    let expected = command.target_count.max(expected_instances);
    let visible = invocations.len();
    if running == 0 && visible >= expected && expected > 0 {
        return Ok(Progress::Done(invocations));
    }
    if running == 0 && command.is_finished() {
        // SSM finished the command with fewer invocations than expected (none matched
        // the targets, or MaxErrors stopped it early): its own status decides.
        let outcome = command.status.outcome();
        let failed = match outcome {
            Some(Outcome::AwsFailed) => true,
            Some(Outcome::CommandFailed) => fail_on_nonzero_exit,
            _ => false,
        };
        if failed {
            return Ok(Progress::Failed(failure_of_command(
                command, visible, expected,
            )));
        }
        if visible < expected && outcome == Some(Outcome::Succeeded) {
            // A command that succeeded has all its invocations: the missing ones are not
            // visible yet, which is not the same as done.
            return Ok(Progress::Running {
                visible,
                expected,
                running: 0,
            });
        }
        return Ok(Progress::Done(invocations));
    }
    Ok(Progress::Running {
        visible,
        expected,
        running,
    })
}

fn failure_on(command_id: &str, invocation: &Invocation) -> CommandFailure {
    let exit_code = match invocation.status {
        InvocationStatus::Failed => invocation.exit_code(),
        _ => invocation.exit_code().filter(|code| *code >= 0),
    };
    let details = invocation
        .status_details
        .as_deref()
        .filter(|d| *d != invocation.status.as_str())
        .map(|d| format!(" ({d})"))
        .unwrap_or_default();
    let exit = match exit_code {
        Some(code) => format!(", exit code {code}"),
        None => String::new(),
    };
    CommandFailure {
        command_id: command_id.to_owned(),
        instance_id: Some(invocation.instance_id.clone()),
        status: invocation.status.to_string(),
        exit_code,
        message: format!(
            "command {command_id} failed on instance {}: status {}{details}{exit}",
            invocation.instance_id, invocation.status
        ),
    }
}

fn failure_of_command(command: &CommandInfo, visible: usize, expected: usize) -> CommandFailure {
    CommandFailure {
        command_id: command.command_id.clone(),
        instance_id: None,
        status: command.status.to_string(),
        exit_code: None,
        message: format!(
            "command {} ended with status {} ({visible} of {expected} invocations were created)",
            command.command_id, command.status
        ),
    }
}

/// Polls a command once.
pub async fn poll(
    hook: &SsmHook,
    command_id: &str,
    expected_instances: usize,
    fail_on_nonzero_exit: bool,
) -> Result<Progress, SsmError> {
    let command = hook.describe_command(command_id).await?;
    let invocations = hook.list_invocations(command_id, None).await?;
    assess(
        &command,
        invocations,
        expected_instances,
        fail_on_nonzero_exit,
    )
}

/// How to wait for a command.
#[derive(Debug, Clone)]
pub struct WaitSpec {
    /// The time between polls.
    pub delay: Duration,
    /// The most polls.
    pub max_attempts: u32,
    /// Whether a non-zero exit fails the wait.
    pub fail_on_nonzero_exit: bool,
    /// Instances the command was sent to by id, if known.
    pub expected_instances: usize,
}

/// Polls until the command finishes, fails, or the attempts run out.
pub async fn wait(
    hook: &SsmHook,
    command_id: &str,
    spec: &WaitSpec,
    clock: &SharedClock,
) -> Result<Vec<Invocation>, WaitError> {
    let mut transient_in_a_row = 0;
    let mut last = "no invocation visible yet".to_owned();
    let mut last_status: Option<String> = None;
    for attempt in 1..=spec.max_attempts.max(1) {
        match poll(
            hook,
            command_id,
            spec.expected_instances,
            spec.fail_on_nonzero_exit,
        )
        .await
        {
            Ok(Progress::Done(invocations)) => {
                info!(
                    command_id,
                    invocations = invocations.len(),
                    "command finished"
                );
                return Ok(invocations);
            }
            Ok(Progress::Failed(failure)) => return Err(WaitError::Failed(failure)),
            Ok(Progress::Running {
                visible,
                expected,
                running,
            }) => {
                transient_in_a_row = 0;
                last = format!(
                    "{} of {expected} invocations finished, {visible} visible",
                    visible.saturating_sub(running)
                );
                if last_status.as_deref() != Some(last.as_str()) {
                    info!(command_id, attempt, "command in progress: {last}");
                    last_status = Some(last.clone());
                }
            }
            Err(err) if err.is_transient() && transient_in_a_row + 1 < TRANSIENT_POLLS => {
                transient_in_a_row += 1;
                debug!(command_id, attempt, error = %err, "poll failed; polling again");
            }
            Err(err) => return Err(WaitError::Ssm(err)),
        }
        if attempt < spec.max_attempts {
            debug!(command_id, wait = %humanize(spec.delay), "waiting before the next poll");
            clock.sleep(spec.delay).await;
        }
    }
    Err(WaitError::StillRunning {
        command_id: command_id.to_owned(),
        polls: spec.max_attempts,
        progress: last,
    })
}

#[cfg(test)]
mod tests;
