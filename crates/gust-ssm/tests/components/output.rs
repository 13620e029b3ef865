use aws_sdk_ssm::Client;
use aws_sdk_ssm::operation::get_command_invocation::{
    GetCommandInvocationError, GetCommandInvocationOutput,
};
use aws_sdk_ssm::types::error::InvocationDoesNotExist;
use aws_sdk_ssm::types::{CommandInvocation, CommandInvocationStatus, CommandPlugin};
use aws_smithy_mocks::mock;
use gust_core::{Operator, Outcome};
use gust_ssm::SsmGetCommandInvocationOperator;
use serde_json::{Value, json};

use crate::support::*;

fn reply(instance: &str, code: i32, out: &str) -> GetCommandInvocationOutput {
    GetCommandInvocationOutput::builder()
        .command_id(COMMAND_ID)
        .instance_id(instance)
        .status(if code == 0 {
            CommandInvocationStatus::Success
        } else {
            CommandInvocationStatus::Failed
        })
        .response_code(code)
        .standard_output_content(out)
        .standard_error_content("")
        .execution_start_date_time("2024-01-01T00:00:00.000Z")
        .execution_end_date_time("2024-01-01T00:00:01.000Z")
        .document_name("AWS-RunShellScript")
        .comment("nightly")
        .build()
}

async fn value_of(op: &SsmGetCommandInvocationOperator) -> Value {
    match op.execute(&ctx(&clock())).await.unwrap() {
        Outcome::Value(value) => value,
        other => panic!("expected a value, got {other:?}"),
    }
}

#[tokio::test]
async fn every_node_gets_an_entry_and_one_node_s_error_does_not_fail_the_task() {
    let invs = listed(vec![("i-1", "Success", 0), ("i-2", "Failed", 2)]);
    let get = mock!(Client::get_command_invocation)
        .match_requests(|req| req.instance_id() == Some("i-1"))
        .then_output(|| reply("i-1", 0, "hello\n"));
    let missing = mock!(Client::get_command_invocation)
        .match_requests(|req| req.instance_id() == Some("i-2"))
        .then_error(|| {
            GetCommandInvocationError::InvocationDoesNotExist(
                InvocationDoesNotExist::builder()
                    .message("no such invocation")
                    .meta(
                        aws_smithy_types::error::ErrorMetadata::builder()
                            .code("InvocationDoesNotExist")
                            .message("no such invocation")
                            .build(),
                    )
                    .build(),
            )
        });
    let op =
        SsmGetCommandInvocationOperator::new(COMMAND_ID).with_hook(hook(&[&invs, &get, &missing]));
    let out = value_of(&op).await;
    assert_eq!(out["command_id"], COMMAND_ID);
    assert_eq!(
        out["invocations"][0],
        json!({"instance_id": "i-1", "status": "Success", "response_code": 0,
               "standard_output": "hello\n", "standard_error": "",
               "execution_start_time": "2024-01-01T00:00:00.000Z",
               "execution_end_time": "2024-01-01T00:00:01.000Z",
               "document_name": "AWS-RunShellScript", "comment": "nightly"})
    );
    assert_eq!(out["invocations"][1]["instance_id"], "i-2");
    let error = out["invocations"][1]["error"].as_str().unwrap();
    assert!(error.contains("InvocationDoesNotExist"), "{error}");
}

#[tokio::test]
async fn with_an_instance_id_the_shape_is_the_same() {
    let invs = listed(vec![("i-1", "Success", 0)]);
    let get = mock!(Client::get_command_invocation).then_output(|| reply("i-1", 0, "hi"));
    let op = SsmGetCommandInvocationOperator::new(COMMAND_ID)
        .instance_id("i-1")
        .with_hook(hook(&[&invs, &get]));
    let out = value_of(&op).await;
    assert_eq!(out["invocations"].as_array().unwrap().len(), 1);
    assert_eq!(out["invocations"][0]["standard_output"], "hi");
}

#[tokio::test]
async fn a_multi_step_document_is_read_step_by_step_with_plugin_names() {
    let two_steps = mock!(Client::list_command_invocations).then_output(|| {
        page(
            vec![
                CommandInvocation::builder()
                    .instance_id("i-1")
                    .status(CommandInvocationStatus::Success)
                    .command_plugins(
                        CommandPlugin::builder()
                            .name("install")
                            .response_code(0)
                            .build(),
                    )
                    .command_plugins(
                        CommandPlugin::builder()
                            .name("configure")
                            .response_code(0)
                            .build(),
                    )
                    .build(),
            ],
            None,
        )
    });
    let install = mock!(Client::get_command_invocation)
        .match_requests(|req| req.plugin_name() == Some("install"))
        .then_output(|| reply("i-1", 0, "installed"));
    let configure = mock!(Client::get_command_invocation)
        .match_requests(|req| req.plugin_name() == Some("configure"))
        .then_output(|| reply("i-1", 0, "configured"));
    let op = SsmGetCommandInvocationOperator::new(COMMAND_ID)
        .with_hook(hook(&[&two_steps, &install, &configure]));
    let out = value_of(&op).await;
    let steps: Vec<(&str, &str)> = out["invocations"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            (
                e["plugin_name"].as_str().unwrap(),
                e["standard_output"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        steps,
        vec![("install", "installed"), ("configure", "configured")]
    );
}
