//! Sending at most once per try: throttled sends are sent again after a wait on the
//! clock; a send whose answer is lost is looked up by its token instead of sent again;
//! and a try that already sent waits for its command.

use std::sync::{Arc, Mutex};

use aws_sdk_ssm::Client;
use aws_sdk_ssm::operation::list_commands::ListCommandsOutput;
use aws_sdk_ssm::operation::send_command::SendCommandError;
use aws_sdk_ssm::types::{Command, CommandStatus};
use aws_smithy_mocks::mock;
use aws_smithy_types::error::ErrorMetadata;
use gust_core::{Operator, Outcome};
use gust_ssm::{SEND_TOKEN_KEY, SENT_COMMAND_KEY, SsmRunCommandOperator};
use serde_json::json;

use crate::support::*;

fn op() -> SsmRunCommandOperator {
    SsmRunCommandOperator::new("AWS-RunShellScript")
        .run_command_kwargs(json!({
            "InstanceIds": ["i-1"],
            "Parameters": {"commands": ["echo hi"]},
            "Comment": "nightly"
        }))
        .unwrap()
        .wait_for_completion(false)
}

fn refused(code: &'static str) -> impl Fn() -> SendCommandError + Send + Sync {
    move || SendCommandError::generic(ErrorMetadata::builder().code(code).message(code).build())
}

#[tokio::test]
async fn a_throttled_send_is_sent_again_after_a_wait_on_the_clock() {
    let send = mock!(Client::send_command)
        .sequence()
        .error(refused("ThrottlingException"))
        .times(2)
        .output(|| sent_output("i-1"))
        .build();
    let op = op().with_hook(hook(&[&send]));
    let clock = clock();
    let ctx = ctx(&clock);
    let running = tokio::spawn({
        let ctx = ctx.clone();
        async move { op.execute(&ctx).await }
    });
    clock.wait_for_sleepers(1).await;
    clock.advance_to_next().await;
    clock.wait_for_sleepers(1).await;
    clock.advance_to_next().await;
    let out = running.await.unwrap().unwrap();
    assert!(matches!(out, Outcome::Value(v) if v == COMMAND_ID));
    assert_eq!(send.num_calls(), 3);
    assert_eq!(
        clock.sleep_history(),
        [secs_f(0.2), secs_f(0.4)],
        "waits double"
    );
}

#[tokio::test]
async fn a_send_that_failed_on_the_way_back_is_found_by_its_token_not_sent_again() {
    // SSM started the command, but its answer was lost: ListCommands shows a command with
    // the Comment the send carried.
    let comment = Arc::new(Mutex::new(String::new()));
    let send = mock!(Client::send_command)
        .match_requests({
            let comment = comment.clone();
            move |request| {
                *comment.lock().unwrap() = request.comment().unwrap_or_default().to_owned();
                true
            }
        })
        .then_error(refused("InternalServerError"));
    let find = mock!(Client::list_commands).then_output({
        let comment = comment.clone();
        move || listed_command(&comment.lock().unwrap())
    });
    let op = op().with_hook(hook(&[&send, &find]));
    let out = op.execute(&ctx(&clock())).await.unwrap();
    assert!(matches!(out, Outcome::Value(v) if v == COMMAND_ID));
    assert_eq!((send.num_calls(), find.num_calls()), (1, 1));
    let tagged = comment.lock().unwrap().clone();
    assert!(
        tagged.starts_with("nightly [gust:") && tagged.ends_with(']'),
        "{tagged}"
    );
}

#[tokio::test]
async fn a_resumed_try_whose_token_is_recorded_finds_its_command_before_sending() {
    let send = sent(&["i-1"]);
    let find = mock!(Client::list_commands)
        .then_output(|| listed_command("nightly [gust:0123456789abcdef]"));
    let op = op().with_hook(hook(&[&send, &find]));
    let ctx = ctx(&clock());
    ctx.set_task_state(
        SEND_TOKEN_KEY,
        json!({"token": "0123456789abcdef", "try_number": 1, "at": "2024-01-01T00:00:00Z"}),
    )
    .await
    .unwrap();
    let out = op.execute(&ctx).await.unwrap();
    assert!(matches!(out, Outcome::Value(v) if v == COMMAND_ID));
    assert_eq!(send.num_calls(), 0, "the command of this try was found");
    assert_eq!(
        ctx.task_state(SENT_COMMAND_KEY).unwrap()["command_id"],
        COMMAND_ID
    );
}

#[tokio::test]
async fn a_token_of_an_earlier_try_is_not_this_try_s() {
    let send = sent(&["i-1"]);
    let find = mock!(Client::list_commands)
        .then_output(|| listed_command("nightly [gust:0123456789abcdef]"));
    let op = op().with_hook(hook(&[&send, &find]));
    let ctx = ctx(&clock());
    ctx.set_task_state(
        SEND_TOKEN_KEY,
        json!({"token": "0123456789abcdef", "try_number": 0, "at": "2024-01-01T00:00:00Z"}),
    )
    .await
    .unwrap();
    op.execute(&ctx).await.unwrap();
    assert_eq!((send.num_calls(), find.num_calls()), (1, 0));
}

fn listed_command(comment: &str) -> ListCommandsOutput {
    ListCommandsOutput::builder()
        .commands(
            Command::builder()
                .command_id(COMMAND_ID)
                .comment(comment)
                .instance_ids("i-1")
                .status(CommandStatus::InProgress)
                .build(),
        )
        .build()
}

#[tokio::test]
async fn an_error_that_ssm_did_not_act_on_is_not_looked_up() {
    let send = mock!(Client::send_command).then_error(refused("InvalidInstanceId"));
    let find = mock!(Client::list_commands).then_output(|| ListCommandsOutput::builder().build());
    let op = op().with_hook(hook(&[&send, &find]));
    let err = op.execute(&ctx(&clock())).await.unwrap_err();
    assert!(err.to_string().contains("InvalidInstanceId"), "{err}");
    assert_eq!((send.num_calls(), find.num_calls()), (1, 0));
}

#[tokio::test]
async fn a_lost_answer_with_no_command_at_ssm_fails_the_try() {
    let send = mock!(Client::send_command).then_error(refused("InternalServerError"));
    let find = mock!(Client::list_commands).then_output(|| ListCommandsOutput::builder().build());
    let op = op().with_hook(hook(&[&send, &find]));
    let err = op.execute(&ctx(&clock())).await.unwrap_err();
    assert!(err.to_string().contains("InternalServerError"), "{err}");
    assert_eq!((send.num_calls(), find.num_calls()), (1, 1));
}

#[tokio::test]
async fn a_try_that_already_sent_waits_for_its_command() {
    let send = sent(&["i-1"]);
    let (cmds, _) = finished_as("InProgress");
    let op = op().with_hook(hook(&[&send, &cmds]));
    let ctx = ctx(&clock());
    ctx.set_task_state(
        SENT_COMMAND_KEY,
        json!({"command_id": COMMAND_ID, "try_number": 1}),
    )
    .await
    .unwrap();
    let out = op.execute(&ctx).await.unwrap();
    assert!(matches!(out, Outcome::Value(v) if v == COMMAND_ID));
    assert_eq!(send.num_calls(), 0);
    assert_eq!(cmds.num_calls(), 1, "it reads the command it sent");
}

fn sent_output(instance: &str) -> aws_sdk_ssm::operation::send_command::SendCommandOutput {
    aws_sdk_ssm::operation::send_command::SendCommandOutput::builder()
        .command(
            Command::builder()
                .command_id(COMMAND_ID)
                .instance_ids(instance)
                .status(CommandStatus::Pending)
                .build(),
        )
        .build()
}

fn secs_f(seconds: f64) -> std::time::Duration {
    std::time::Duration::from_secs_f64(seconds)
}
