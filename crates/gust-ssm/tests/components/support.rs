//! Mocked SSM replies.

use std::sync::Arc;
use std::time::Duration;

use aws_sdk_ssm::Client;
use aws_sdk_ssm::operation::list_command_invocations::ListCommandInvocationsOutput;
use aws_sdk_ssm::operation::list_commands::ListCommandsOutput;
use aws_sdk_ssm::operation::send_command::SendCommandOutput;
use aws_sdk_ssm::types::{
    Command, CommandInvocation, CommandInvocationStatus, CommandPlugin, CommandPluginStatus,
    CommandStatus,
};
use aws_smithy_mocks::{Rule, RuleMode, mock, mock_client};
use gust_core::{ManualClock, SharedClock, TaskContext};
use gust_ssm::SsmHook;

pub(crate) const COMMAND_ID: &str = "11111111-2222-3333-4444-555555555555";

pub(crate) fn hook(rules: &[&Rule]) -> SsmHook {
    // The SDK's own retries are off: these tests count the tracker's calls.
    let client: Client = mock_client!(aws_sdk_ssm, RuleMode::MatchAny, rules, |config| {
        config.retry_config(aws_sdk_ssm::config::retry::RetryConfig::disabled())
    });
    SsmHook::from_client(client)
}

pub(crate) fn clock() -> ManualClock {
    ManualClock::at("2024-01-01T00:00:00Z".parse().unwrap())
}

pub(crate) fn ctx(clock: &ManualClock) -> TaskContext {
    let shared: SharedClock = Arc::new(clock.clone());
    TaskContext::for_test("ssm_task").with_clock(shared)
}

pub(crate) fn sent(instance_ids: &[&str]) -> Rule {
    let ids: Vec<String> = instance_ids.iter().map(|s| s.to_string()).collect();
    mock!(Client::send_command).then_output(move || {
        SendCommandOutput::builder()
            .command(
                Command::builder()
                    .command_id(COMMAND_ID)
                    .set_instance_ids(Some(ids.clone()))
                    .target_count(ids.len() as i32)
                    .status(CommandStatus::Pending)
                    .build(),
            )
            .build()
    })
}

pub(crate) fn command(status: &str, target_count: i32) -> ListCommandsOutput {
    ListCommandsOutput::builder()
        .commands(
            Command::builder()
                .command_id(COMMAND_ID)
                .status(CommandStatus::from(status))
                .target_count(target_count)
                .build(),
        )
        .build()
}

pub(crate) fn commands(status: &'static str, target_count: i32) -> Rule {
    mock!(Client::list_commands).then_output(move || command(status, target_count))
}

pub(crate) fn invocation(instance: &str, status: &str, code: i32) -> CommandInvocation {
    CommandInvocation::builder()
        .command_id(COMMAND_ID)
        .instance_id(instance)
        .status(CommandInvocationStatus::from(status))
        .status_details(status)
        .command_plugins(
            CommandPlugin::builder()
                .name("aws:runShellScript")
                .status(CommandPluginStatus::from(status))
                .response_code(code)
                .build(),
        )
        .build()
}

pub(crate) fn page(
    items: Vec<CommandInvocation>,
    next: Option<&str>,
) -> ListCommandInvocationsOutput {
    ListCommandInvocationsOutput::builder()
        .set_command_invocations(Some(items))
        .set_next_token(next.map(str::to_owned))
        .build()
}

/// Every ListCommandInvocations call answers these invocations.
pub(crate) fn listed(items: Vec<(&'static str, &'static str, i32)>) -> Rule {
    mock!(Client::list_command_invocations).then_output(move || {
        page(
            items
                .iter()
                .map(|(id, status, code)| invocation(id, status, *code))
                .collect(),
            None,
        )
    })
}

/// A status as the three components see it: every poll answers it.
pub(crate) fn finished_as(status: &'static str) -> (Rule, Rule) {
    let code = match status {
        "Success" => 0,
        "Failed" => 2,
        _ => -1,
    };
    (commands(status, 1), listed(vec![("i-1", status, code)]))
}

pub(crate) fn secs(n: u64) -> Duration {
    Duration::from_secs(n)
}
