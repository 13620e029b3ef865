//! The tracking rules that need SSM's replies: pages, calls per poll, visibility,
//! throttling, unknown commands.

use aws_sdk_ssm::Client;
use aws_sdk_ssm::operation::get_command_invocation::GetCommandInvocationOutput;
use aws_sdk_ssm::operation::list_command_invocations::ListCommandInvocationsError;
use aws_sdk_ssm::operation::list_commands::ListCommandsError;
use aws_smithy_mocks::mock;
use aws_smithy_types::error::ErrorMetadata;
use gust_ssm::tracker::{WaitError, WaitSpec, wait};

use crate::support::*;

fn spec(max_attempts: u32) -> WaitSpec {
    WaitSpec {
        delay: secs(0),
        max_attempts,
        fail_on_nonzero_exit: true,
        expected_instances: 0,
    }
}

fn shared_clock() -> gust_core::SharedClock {
    std::sync::Arc::new(clock())
}

#[tokio::test]
async fn all_pages_are_read_with_one_call_per_page_and_no_per_instance_calls() {
    let cmds = commands("Success", 120);
    let pages = mock!(Client::list_command_invocations).then_compute_output(|req| {
        let start: usize = req.next_token().map(|t| t.parse().unwrap()).unwrap_or(0);
        assert_eq!(req.max_results(), Some(50));
        assert_eq!(req.details(), Some(true));
        let end = (start + 50).min(120);
        let items = (start..end)
            .map(|n| invocation(&format!("i-{n}"), "Success", 0))
            .collect();
        let next = (end < 120).then(|| end.to_string());
        page(items, next.as_deref())
    });
    let per_instance = mock!(Client::get_command_invocation)
        .then_output(|| GetCommandInvocationOutput::builder().build());
    let hook = hook(&[&cmds, &pages, &per_instance]);
    let done = wait(&hook, COMMAND_ID, &spec(3), &shared_clock())
        .await
        .unwrap();
    assert_eq!(done.len(), 120);
    assert_eq!(pages.num_calls(), 3);
    assert_eq!(cmds.num_calls(), 1);
    assert_eq!(per_instance.num_calls(), 0);
}

#[tokio::test]
async fn invocations_not_visible_yet_are_polled_through() {
    let cmds = commands("InProgress", 2);
    let lagging = mock!(Client::list_command_invocations)
        .sequence()
        .output(|| page(vec![], None))
        .times(2)
        .output(|| {
            page(
                vec![
                    invocation("i-1", "Success", 0),
                    invocation("i-2", "Success", 0),
                ],
                None,
            )
        })
        .repeatedly()
        .build();
    let hook = hook(&[&cmds, &lagging]);
    let done = wait(&hook, COMMAND_ID, &spec(10), &shared_clock())
        .await
        .unwrap();
    assert_eq!(done.len(), 2);
    assert_eq!(lagging.num_calls(), 3);
}

fn throttled() -> ListCommandInvocationsError {
    ListCommandInvocationsError::generic(
        ErrorMetadata::builder()
            .code("ThrottlingException")
            .message("Rate exceeded")
            .build(),
    )
}

#[tokio::test]
async fn throttled_polls_are_retried_a_bounded_number_of_times() {
    let cmds = commands("Success", 1);
    let flaky = mock!(Client::list_command_invocations)
        .sequence()
        .error(throttled)
        .times(3)
        .output(|| page(vec![invocation("i-1", "Success", 0)], None))
        .repeatedly()
        .build();
    let hook_ok = hook(&[&cmds, &flaky]);
    assert!(
        wait(&hook_ok, COMMAND_ID, &spec(10), &shared_clock())
            .await
            .is_ok()
    );

    let cmds = commands("InProgress", 1);
    let always = mock!(Client::list_command_invocations).then_error(throttled);
    let hook_bad = hook(&[&cmds, &always]);
    let err = wait(&hook_bad, COMMAND_ID, &spec(50), &shared_clock())
        .await
        .unwrap_err();
    assert!(matches!(err, WaitError::Ssm(_)), "{err}");
    assert!(err.to_string().contains("ThrottlingException"), "{err}");
    assert_eq!(
        always.num_calls(),
        gust_ssm::tracker::TRANSIENT_POLLS as usize
    );
}

#[tokio::test]
async fn an_unknown_command_fails_at_once() {
    let unknown = mock!(Client::list_commands).then_error(|| {
        ListCommandsError::InvalidCommandId(
            aws_sdk_ssm::types::error::InvalidCommandId::builder()
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
    let hook = hook(&[&unknown, &invs]);
    let err = wait(&hook, COMMAND_ID, &spec(75), &shared_clock())
        .await
        .unwrap_err();
    assert!(err.to_string().contains("does not exist"), "{err}");
    assert_eq!(unknown.num_calls(), 1);
}

#[tokio::test]
async fn a_command_missing_from_list_commands_is_unknown_too() {
    let empty = mock!(Client::list_commands).then_output(|| {
        aws_sdk_ssm::operation::list_commands::ListCommandsOutput::builder().build()
    });
    let hook = hook(&[&empty]);
    let err = wait(&hook, COMMAND_ID, &spec(75), &shared_clock())
        .await
        .unwrap_err();
    assert!(err.to_string().contains("does not exist"), "{err}");
    assert_eq!(empty.num_calls(), 1);
}
