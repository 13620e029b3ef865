use std::sync::Arc;

use aws_sdk_ssm::Client;
use aws_sdk_ssm::operation::cancel_command::CancelCommandOutput;
use aws_smithy_mocks::mock;
use gust_core::{Operator, Outcome, TaskContext, TaskError, TriggerEvent};
use gust_ssm::{SENT_COMMAND_KEY, SsmRunCommandOperator};
use serde_json::json;

use crate::support::*;

fn op() -> SsmRunCommandOperator {
    SsmRunCommandOperator::new("AWS-RunShellScript")
        .run_command_kwargs(json!({
            "InstanceIds": ["i-1"],
            "Parameters": {"commands": ["echo hi"]}
        }))
        .unwrap()
        .waiter_delay(secs(0))
}

async fn run(op: &SsmRunCommandOperator, ctx: &TaskContext) -> Result<Outcome, TaskError> {
    op.execute(ctx).await
}

#[tokio::test]
async fn waiting_polls_until_done_and_returns_the_command_id() {
    let (send, (cmds, invs)) = (sent(&["i-1"]), finished_as("Success"));
    let op = op().with_hook(hook(&[&send, &cmds, &invs]));
    let out = run(&op, &ctx(&clock())).await.unwrap();
    assert!(matches!(out, Outcome::Value(v) if v == COMMAND_ID));
    assert_eq!(send.num_calls(), 1);
    assert_eq!(invs.num_calls(), 1);
}

#[tokio::test]
async fn without_waiting_only_the_command_is_sent() {
    let (send, (cmds, invs)) = (sent(&["i-1"]), finished_as("InProgress"));
    let op = op()
        .wait_for_completion(false)
        .with_hook(hook(&[&send, &cmds, &invs]));
    let out = run(&op, &ctx(&clock())).await.unwrap();
    assert!(matches!(out, Outcome::Value(v) if v == COMMAND_ID));
    assert_eq!((cmds.num_calls(), invs.num_calls()), (0, 0));
}

#[tokio::test]
async fn deferrable_hands_the_wait_to_the_trigger_even_without_wait_for_completion() {
    let (send, (cmds, invs)) = (sent(&["i-1"]), finished_as("InProgress"));
    let op = op()
        .deferrable(true)
        .wait_for_completion(false)
        .waiter_delay(secs(30))
        .waiter_max_attempts(9)
        .fail_on_nonzero_exit(false)
        .with_hook(hook(&[&send, &cmds, &invs]));
    let ctx = ctx(&clock());
    let Outcome::Defer(deferral) = run(&op, &ctx).await.unwrap() else {
        panic!("expected a deferral");
    };
    assert_eq!(invs.num_calls(), 0);
    assert_eq!(deferral.method_name, "execute_complete");
    assert_eq!(
        deferral.trigger.args(),
        json!({"command_id": COMMAND_ID, "waiter_delay": 30, "waiter_max_attempts": 9,
               "fail_on_nonzero_exit": false, "aws_conn_id": "aws_default"})
    );
    let done = TriggerEvent::new(json!({"status": "success", "command_id": COMMAND_ID}));
    let out = op.execute_complete(&ctx, done).await.unwrap();
    assert!(matches!(out, Outcome::Value(v) if v == COMMAND_ID));
}

#[tokio::test]
async fn fail_on_nonzero_exit_decides_only_for_failed() {
    let cases = [
        ("Success", true, true),
        ("Success", false, true),
        ("Failed", true, false),
        ("Failed", false, true),
        ("TimedOut", true, false),
        ("TimedOut", false, false),
        ("Cancelled", true, false),
        ("Cancelled", false, false),
        ("Cancelling", true, false),
        ("Cancelling", false, false),
    ];
    for (status, flag, succeeds) in cases {
        let (send, (cmds, invs)) = (sent(&["i-1"]), finished_as(status));
        let op = op()
            .fail_on_nonzero_exit(flag)
            .waiter_max_attempts(2)
            .with_hook(hook(&[&send, &cmds, &invs]));
        let result = run(&op, &ctx(&clock())).await;
        assert_eq!(
            result.is_ok(),
            succeeds,
            "{status} with flag {flag}: {result:?}"
        );
        if status == "Cancelling" {
            let message = result.unwrap_err().to_string();
            assert!(
                message.contains("had not finished after 2 polls"),
                "{message}"
            );
        }
    }
}

#[tokio::test]
async fn a_failed_invocation_names_command_instance_status_and_exit_code() {
    let (send, (cmds, invs)) = (sent(&["i-1"]), finished_as("Failed"));
    let op = op().with_hook(hook(&[&send, &cmds, &invs]));
    let err = run(&op, &ctx(&clock())).await.unwrap_err();
    assert!(err.is_retryable(), "a retry sends the command again");
    assert_eq!(
        err.to_string(),
        format!("command {COMMAND_ID} failed on instance i-1: status Failed, exit code 2")
    );
}

#[tokio::test]
async fn running_out_of_polls_is_its_own_error_and_waits_waiter_delay_between_polls() {
    let clock = clock();
    let (send, (cmds, invs)) = (sent(&["i-1"]), finished_as("InProgress"));
    let op = op()
        .waiter_delay(secs(1))
        .waiter_max_attempts(3)
        .fail_on_nonzero_exit(false)
        .with_hook(hook(&[&send, &cmds, &invs]));
    let ctx = ctx(&clock);
    let mut work = tokio::spawn(async move { run(&op, &ctx).await });
    let result = loop {
        tokio::select! {
            result = &mut work => break result.unwrap(),
            _ = clock.advance_to_next() => {}
        }
    };
    let err = result.unwrap_err().to_string();
    assert!(err.contains("had not finished after 3 polls"), "{err}");
    assert!(!err.contains("-1"), "{err}");
    assert_eq!(invs.num_calls(), 3);
    assert_eq!(clock.sleep_history(), vec![secs(1), secs(1)]);
}

#[tokio::test]
async fn more_than_50_instance_ids_fail_before_any_call() {
    let send = sent(&["i-1"]);
    let ids: Vec<String> = (0..51).map(|n| format!("i-{n}")).collect();
    let op = SsmRunCommandOperator::new("AWS-RunShellScript")
        .run_command_kwargs(json!({"InstanceIds": ids, "Parameters": {"commands": ["true"]}}))
        .unwrap()
        .with_hook(hook(&[&send]));
    let err = run(&op, &ctx(&clock())).await.unwrap_err();
    assert!(matches!(err, TaskError::Fatal { .. }));
    assert!(err.to_string().contains("at most 50"), "{err}");
    assert_eq!(send.num_calls(), 0);
}

#[tokio::test]
async fn stopping_the_task_cancels_the_command_it_sent() {
    for cancel_on_kill in [true, false] {
        let send = sent(&["i-1"]);
        let cancel =
            mock!(Client::cancel_command).then_output(|| CancelCommandOutput::builder().build());
        let op = op()
            .wait_for_completion(false)
            .cancel_on_kill(cancel_on_kill)
            .with_hook(hook(&[&send, &cancel]));
        let ctx = ctx(&clock());
        run(&op, &ctx).await.unwrap();
        assert_eq!(
            ctx.task_state(SENT_COMMAND_KEY).unwrap()["command_id"],
            COMMAND_ID
        );
        op.on_kill(&ctx).await;
        assert_eq!(cancel.num_calls(), usize::from(cancel_on_kill));
    }
}

#[tokio::test]
async fn a_later_try_does_not_cancel_an_earlier_try_s_command() {
    let cancel =
        mock!(Client::cancel_command).then_output(|| CancelCommandOutput::builder().build());
    let op = op().with_hook(hook(&[&cancel]));
    let data = Arc::new(gust_core::MemoryRunData::new());
    let ctx = ctx(&clock()).with_data(data);
    ctx.set_task_state(
        SENT_COMMAND_KEY,
        json!({"command_id": "old", "try_number": 7}),
    )
    .await
    .unwrap();
    op.on_kill(&ctx).await;
    assert_eq!(cancel.num_calls(), 0);
}
