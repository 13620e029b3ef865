use aws_sdk_ssm::Client;
use aws_sdk_ssm::operation::list_commands::ListCommandsError;
use aws_sdk_ssm::types::error::InvalidCommandId;
use aws_smithy_mocks::mock;
use gust_aws::{AwsParams, Verify};
use gust_core::{Sensor, TaskError, TriggerEvent};
use gust_ssm::{AwsArgs, SsmRunCommandCompletedSensor, SsmRunCommandTrigger};
use serde_json::json;

use crate::support::*;

fn sensor() -> SsmRunCommandCompletedSensor {
    SsmRunCommandCompletedSensor::new(COMMAND_ID)
}

#[tokio::test]
async fn a_poke_is_true_only_when_done_and_fails_fast_otherwise() {
    // fail_on_nonzero_exit tolerates Failed only: every other final status means the
    // same with the flag on or off, and Cancelling is still in progress.
    let cases = [
        ("InProgress", true, Ok(false)),
        ("Pending", true, Ok(false)),
        ("Success", true, Ok(true)),
        ("Success", false, Ok(true)),
        ("Failed", true, Err(())),
        ("Failed", false, Ok(true)),
        ("TimedOut", true, Err(())),
        ("TimedOut", false, Err(())),
        ("Cancelled", true, Err(())),
        ("Cancelled", false, Err(())),
        ("Cancelling", true, Ok(false)),
        ("Cancelling", false, Ok(false)),
    ];
    for (status, flag, expected) in cases {
        let (cmds, invs) = finished_as(status);
        let sensor = sensor()
            .fail_on_nonzero_exit(flag)
            .with_hook(hook(&[&cmds, &invs]));
        let poked = sensor.poke(&ctx(&clock())).await;
        match (&poked, expected) {
            (Ok(got), Ok(want)) => assert_eq!(*got, want, "{status} flag {flag}"),
            (Err(TaskError::Fatal { message }), Err(())) => {
                assert!(message.contains(&format!("status {status}")), "{message}");
            }
            other => panic!("{status} flag {flag}: unexpected {other:?}"),
        }
    }
}

#[tokio::test]
async fn a_command_id_that_was_never_sent_fails_at_the_first_poke() {
    let unknown = mock!(Client::list_commands).then_error(|| {
        ListCommandsError::InvalidCommandId(
            InvalidCommandId::builder()
                .meta(
                    aws_smithy_types::error::ErrorMetadata::builder()
                        .code("InvalidCommandId")
                        .message("Invalid command id")
                        .build(),
                )
                .build(),
        )
    });
    let invs = listed(vec![]);
    let sensor = sensor().with_hook(hook(&[&unknown, &invs]));
    let err = sensor.poke(&ctx(&clock())).await.unwrap_err();
    assert!(matches!(err, TaskError::Fatal { .. }), "{err:?}");
    assert!(
        err.to_string()
            .contains(&format!("command {COMMAND_ID} does not exist")),
        "{err}"
    );
    assert_eq!(unknown.num_calls(), 1);
    assert_eq!(invs.num_calls(), 0);
}

#[tokio::test]
async fn a_deferrable_sensor_defers_at_once_with_its_own_aws_settings() {
    let (cmds, invs) = finished_as("Success");
    let sensor = sensor()
        .deferrable(true)
        .poke_interval(secs(15))
        .max_retries(4)
        .aws(
            AwsArgs::default()
                .region_name("eu-west-2")
                .verify(Verify::Off)
                .botocore_config(json!({"read_timeout": 42}).as_object().unwrap().clone()),
        )
        .with_hook(hook(&[&cmds, &invs]));
    let deferral = sensor
        .defer(&ctx(&clock()))
        .await
        .unwrap()
        .expect("it defers");
    assert_eq!(
        (cmds.num_calls(), invs.num_calls()),
        (0, 0),
        "no first poke"
    );

    let stored = deferral.trigger.serialize();
    assert_eq!(
        stored.args,
        json!({"command_id": COMMAND_ID, "waiter_delay": 15, "waiter_max_attempts": 4,
               "fail_on_nonzero_exit": true, "aws_conn_id": "aws_default",
               "region_name": "eu-west-2", "verify": false,
               "botocore_config": {"read_timeout": 42}})
    );
    let rebuilt = SsmRunCommandTrigger::from_args(&stored.args).unwrap();
    assert_eq!(
        rebuilt.aws,
        AwsParams {
            aws_conn_id: Some("aws_default".into()),
            region_name: Some("eu-west-2".into()),
            verify: Some(Verify::Off),
            botocore_config: Some(json!({"read_timeout": 42}).as_object().unwrap().clone()),
        }
    );
}

#[tokio::test]
async fn resuming_reports_failures_and_timeouts_apart() {
    let ctx = ctx(&clock());
    let failed = TriggerEvent::new(json!({
        "status": "failed", "command_id": COMMAND_ID, "instance_id": "i-9",
        "command_status": "Failed", "exit_code": 2,
        "message": "command X failed on instance i-9: status Failed, exit code 2"}));
    let err = sensor().execute_complete(&ctx, failed).await.unwrap_err();
    assert!(matches!(err, TaskError::Fatal { .. }));
    let timed_out = TriggerEvent::new(json!({
        "status": "failed", "command_id": COMMAND_ID, "timed_out": true,
        "message": "command X had not finished after 4 polls"}));
    let err = sensor()
        .execute_complete(&ctx, timed_out)
        .await
        .unwrap_err();
    assert!(matches!(err, TaskError::SensorTimeout { .. }), "{err:?}");
    let ok = TriggerEvent::new(json!({"status": "success", "command_id": COMMAND_ID}));
    assert!(sensor().execute_complete(&ctx, ok).await.is_ok());
}
