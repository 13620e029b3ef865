//! Sending a command at most once per task try, even across a crash.
//!
//! Before it sends, the operator records a token in its task state and writes the same
//! token into the command's `Comment`. After the send it records the command id. A try
//! that runs again (its process stopped mid-way and the run was resumed) finds its
//! command by the recorded id, or, if the process died between the send and recording
//! the id, by looking for the token among the commands sent since the token was
//! recorded (ListCommands). Only when no command carries it is the command sent.

use std::time::Duration;

use chrono::{DateTime, Utc};
use gust_core::{TaskContext, TaskError};
use serde_json::{Value, json};
use tracing::{debug, info};

use crate::hook::{SentCommand, SsmHook};
use crate::kwargs::RunCommandKwargs;

/// The task-state key holding the command a try sent: `{"command_id", "try_number"}`.
pub const SENT_COMMAND_KEY: &str = "ssm_sent_command";

/// The task-state key holding the token of a try's send: `{"token", "try_number", "at"}`.
pub const SEND_TOKEN_KEY: &str = "ssm_send_token";

/// How SSM limits `Comment`.
const COMMENT_LIMIT: usize = 100;

/// How far before the recorded time a command may carry the token: the clocks of this
/// host and of SSM need not agree.
const CLOCK_SKEW: chrono::Duration = chrono::Duration::minutes(10);

/// The value recorded under `key` for this try, if any.
fn this_try(ctx: &TaskContext, key: &str) -> Option<Value> {
    ctx.task_state(key)
        .filter(|v| v["try_number"].as_u64() == Some(u64::from(ctx.try_number())))
}

/// `Comment` with the token at its end, the user's text shortened to fit SSM's limit.
pub(crate) fn tagged_comment(comment: Option<&str>, token: &str) -> String {
    let tag = format!("[gust:{token}]");
    let room = COMMENT_LIMIT - tag.len() - 1;
    match comment.map(str::trim).filter(|c| !c.is_empty()) {
        None => tag,
        Some(text) => {
            let kept: String = text.chars().take(room).collect();
            format!("{} {tag}", kept.trim_end())
        }
    }
}

/// The command of this try: the one it already sent, or one sent now.
pub(crate) async fn send_once(
    ctx: &TaskContext,
    hook: &SsmHook,
    document_name: &str,
    kwargs: &RunCommandKwargs,
) -> Result<SentCommand, TaskError> {
    if let Some(sent) = this_try(ctx, SENT_COMMAND_KEY)
        && let Some(command_id) = sent["command_id"].as_str()
    {
        info!(
            command_id,
            "this try already sent its command; waiting for it again"
        );
        return describe(hook, command_id).await;
    }

    let token = match this_try(ctx, SEND_TOKEN_KEY) {
        Some(recorded) => {
            let token = recorded["token"].as_str().unwrap_or_default().to_owned();
            let since = recorded["at"]
                .as_str()
                .and_then(|at| DateTime::parse_from_rfc3339(at).ok())
                .map(|at| at.with_timezone(&Utc) - CLOCK_SKEW);
            let found = hook
                .find_command_by_comment(&format!("[gust:{token}]"), since)
                .await
                .map_err(|err| err.into_task_error("looking for the command this try sent"))?;
            if let Some(sent) = found {
                info!(
                    command_id = %sent.command_id,
                    "found the command this try sent before it stopped; waiting for it again"
                );
                record_sent(ctx, &sent.command_id).await?;
                return Ok(sent);
            }
            token
        }
        None => {
            let token = uuid::Uuid::new_v4().simple().to_string()[..16].to_owned();
            let at = ctx.clock().now().to_rfc3339();
            let record = json!({"token": token, "try_number": ctx.try_number(), "at": at});
            ctx.set_task_state(SEND_TOKEN_KEY, record).await?;
            token
        }
    };

    let mut tagged = kwargs.clone();
    tagged.comment = Some(tagged_comment(kwargs.comment.as_deref(), &token));
    info!(document = %document_name, token = %token, "sending the command");
    let sent = send(ctx, hook, document_name, &tagged, &token).await?;
    info!(command_id = %sent.command_id, document = %document_name, "sent the command");
    record_sent(ctx, &sent.command_id).await?;
    Ok(sent)
}

/// How many times a throttled send is tried, and the first wait between tries (doubled
/// each time).
const SEND_ATTEMPTS: u32 = 6;
const FIRST_BACKOFF: Duration = Duration::from_millis(200);

/// Sends the tagged command. A throttled send was not carried out and is sent again after
/// a wait; after any other failure the command may still have started, so SSM is asked
/// for it by its token before the error is given up on.
async fn send(
    ctx: &TaskContext,
    hook: &SsmHook,
    document_name: &str,
    kwargs: &RunCommandKwargs,
    token: &str,
) -> Result<SentCommand, TaskError> {
    let mut wait = FIRST_BACKOFF;
    let mut attempt = 1;
    loop {
        let err = match hook.send_command(document_name, kwargs).await {
            Ok(sent) => return Ok(sent),
            Err(err) => err,
        };
        if err.is_throttling() && attempt < SEND_ATTEMPTS {
            debug!(attempt, wait = ?wait, "SendCommand was throttled; sending again");
            ctx.clock().sleep(wait).await;
            wait *= 2;
            attempt += 1;
            continue;
        }
        if err.is_transient() {
            let tag = format!("[gust:{token}]");
            let since = ctx.clock().now() - CLOCK_SKEW;
            if let Ok(Some(sent)) = hook.find_command_by_comment(&tag, Some(since)).await {
                info!(
                    command_id = %sent.command_id,
                    error = %err,
                    "the send reported an error, but SSM has the command"
                );
                return Ok(sent);
            }
        }
        return Err(err.into_task_error("sending the command"));
    }
}

async fn record_sent(ctx: &TaskContext, command_id: &str) -> Result<(), TaskError> {
    ctx.set_task_state(
        SENT_COMMAND_KEY,
        json!({"command_id": command_id, "try_number": ctx.try_number()}),
    )
    .await
}

async fn describe(hook: &SsmHook, command_id: &str) -> Result<SentCommand, TaskError> {
    let info = hook
        .describe_command(command_id)
        .await
        .map_err(|err| err.into_task_error("reading the command this try sent"))?;
    Ok(SentCommand {
        command_id: info.command_id,
        instance_ids: info.instance_ids,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_token_fits_in_ssm_s_comment_limit() {
        assert_eq!(
            tagged_comment(None, "0123456789abcdef"),
            "[gust:0123456789abcdef]"
        );
        assert_eq!(
            tagged_comment(Some("deploy web"), "0123456789abcdef"),
            "deploy web [gust:0123456789abcdef]"
        );
        let long = "é".repeat(150);
        let tagged = tagged_comment(Some(&long), "0123456789abcdef");
        assert_eq!(tagged.chars().count(), COMMENT_LIMIT);
        assert!(tagged.ends_with(" [gust:0123456789abcdef]"));
    }
}
