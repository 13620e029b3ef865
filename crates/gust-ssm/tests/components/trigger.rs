use std::sync::Arc;

use gust_aws::{AwsParams, Verify};
use gust_core::trigger::TriggerContext;
use gust_core::{SharedClock, Trigger, TriggerRegistry};
use gust_ssm::{SsmRunCommandTrigger, TRIGGER_KIND, register_triggers};
use serde_json::json;

use crate::support::*;

fn trigger_ctx() -> TriggerContext {
    let clock: SharedClock = Arc::new(clock());
    TriggerContext {
        clock,
        span: tracing::Span::none(),
    }
}

#[test]
fn built_directly_it_serializes_its_arguments_and_only_the_optional_ones_set() {
    let trigger = SsmRunCommandTrigger::new("cmd-9");
    assert_eq!(trigger.kind(), TRIGGER_KIND);
    assert_eq!(
        trigger.args(),
        json!({"command_id": "cmd-9", "waiter_delay": 120, "waiter_max_attempts": 75,
               "fail_on_nonzero_exit": true, "aws_conn_id": null})
    );
}

#[test]
fn a_round_trip_through_the_registry_rebuilds_an_equal_trigger() {
    let trigger = SsmRunCommandTrigger::new("cmd-9")
        .waiter_delay(5)
        .waiter_max_attempts(3)
        .fail_on_nonzero_exit(false)
        .aws(AwsParams {
            aws_conn_id: Some("ops".into()),
            region_name: Some("eu-west-2".into()),
            verify: Some(Verify::CaBundle("/etc/ssl/ca.pem".into())),
            botocore_config: Some(
                json!({"retries": {"mode": "standard"}})
                    .as_object()
                    .unwrap()
                    .clone(),
            ),
        });
    let mut registry = TriggerRegistry::new();
    register_triggers(&mut registry);
    let stored = trigger.serialize();
    let text = serde_json::to_string(&stored).unwrap();
    let rebuilt = registry
        .rebuild(&serde_json::from_str(&text).unwrap())
        .unwrap();
    assert_eq!(rebuilt.args(), trigger.args());
    assert_eq!(
        SsmRunCommandTrigger::from_args(&stored.args).unwrap(),
        trigger
    );
}

#[test]
fn bad_stored_arguments_are_errors_not_panics() {
    for args in [
        json!([]),
        json!({}),
        json!({"command_id": "c", "waiter_delay": "soon"}),
        json!({"command_id": "c", "verify": 3}),
    ] {
        assert!(SsmRunCommandTrigger::from_args(&args).is_err(), "{args}");
    }
}

#[tokio::test]
async fn events_say_success_or_name_the_failure() {
    let success = json!({"status": "success", "command_id": COMMAND_ID});
    let failed = |status: &str, exit_code: serde_json::Value| {
        let code = match exit_code.as_i64() {
            Some(code) => format!(", exit code {code}"),
            None => String::new(),
        };
        json!({
            "status": "failed", "command_id": COMMAND_ID, "instance_id": "i-1",
            "command_status": status, "exit_code": exit_code,
            "message": format!("command {COMMAND_ID} failed on instance i-1: status {status}{code}")})
    };
    // fail_on_nonzero_exit tolerates Failed only; every other final status gives the same
    // event with the flag on or off.
    let cases = [
        ("Success", true, success.clone()),
        ("Success", false, success.clone()),
        ("Failed", true, failed("Failed", json!(2))),
        ("Failed", false, success.clone()),
        ("TimedOut", true, failed("TimedOut", json!(null))),
        ("TimedOut", false, failed("TimedOut", json!(null))),
        ("Cancelled", true, failed("Cancelled", json!(null))),
        ("Cancelled", false, failed("Cancelled", json!(null))),
    ];
    for (status, flag, expected) in cases {
        let (cmds, invs) = finished_as(status);
        let trigger = SsmRunCommandTrigger::new(COMMAND_ID)
            .fail_on_nonzero_exit(flag)
            .waiter_delay(0)
            .with_hook(Some(hook(&[&cmds, &invs])));
        let event = trigger.run(trigger_ctx()).await.unwrap();
        assert_eq!(event.payload, expected, "{status} flag {flag}");
    }
}

#[tokio::test]
async fn cancelling_keeps_the_trigger_waiting_until_its_polls_run_out() {
    for flag in [true, false] {
        let (cmds, invs) = finished_as("Cancelling");
        let trigger = SsmRunCommandTrigger::new(COMMAND_ID)
            .fail_on_nonzero_exit(flag)
            .waiter_delay(0)
            .waiter_max_attempts(4)
            .with_hook(Some(hook(&[&cmds, &invs])));
        let event = trigger.run(trigger_ctx()).await.unwrap();
        assert_eq!(event.payload["status"], "failed", "flag {flag}");
        assert_eq!(event.payload["timed_out"], true);
        assert_eq!(event.payload["exit_code"], serde_json::Value::Null);
        assert!(
            event.payload["message"]
                .as_str()
                .unwrap()
                .contains("after 4 polls")
        );
        assert_eq!(invs.num_calls(), 4);
    }
}
