//! The knobs: visibility lag, throttling, latency; and the call counters.

use std::time::{Duration, Instant};

use aws_sdk_ssm::error::ProvideErrorMetadata;
use gust_ssm_local::{Operation, Throttle};

use crate::support::*;

#[tokio::test]
async fn during_the_visibility_lag_new_invocations_cannot_be_seen() {
    let local = Local::start(nodes(1)).await;
    let node = local.node(0);
    let lag = Duration::from_secs(2);
    local.service.knobs().set_visibility_lag(lag);

    let sent_at = Instant::now();
    let id = send(
        &local.client,
        std::slice::from_ref(&node),
        &["echo visible"],
    )
    .await;

    let hidden = local
        .client
        .get_command_invocation()
        .command_id(&id)
        .instance_id(&node)
        .send()
        .await;
    let listed = local
        .client
        .list_command_invocations()
        .command_id(&id)
        .send()
        .await
        .unwrap();
    let seen_within_lag = sent_at.elapsed() < lag;
    assert!(
        seen_within_lag,
        "the test was too slow to look within the lag"
    );
    assert!(
        hidden
            .unwrap_err()
            .into_service_error()
            .is_invocation_does_not_exist()
    );
    assert!(listed.command_invocations().is_empty());
    assert!(listed.next_token().is_none());
    let command = local
        .client
        .list_commands()
        .command_id(&id)
        .send()
        .await
        .unwrap();
    assert_eq!(
        command.commands()[0].target_count(),
        1,
        "the command itself is known at once"
    );

    let answer = finished_invocation(&local.client, &id, &node).await;
    assert!(sent_at.elapsed() >= lag);
    assert_eq!(answer.standard_output_content(), Some("visible\n"));
}

#[tokio::test]
async fn throttling_half_of_all_calls_refuses_every_second_one() {
    let local = Local::start(nodes(1)).await;
    local
        .service
        .knobs()
        .throttle_all(Throttle::fraction(0.5))
        .unwrap();
    let raw = client_without_retries(local.service.url());

    let mut refused = Vec::new();
    for _ in 0..10 {
        let answer = raw.describe_instance_information().send().await;
        refused.push(answer.err().and_then(|err| err.code().map(str::to_owned)));
    }
    let throttled = Some("ThrottlingException".to_owned());
    let expected: Vec<_> = (0..10)
        .map(|n| if n % 2 == 1 { throttled.clone() } else { None })
        .collect();
    assert_eq!(refused, expected);
    let counters = local.service.counters();
    assert_eq!(counters.get("DescribeInstanceInformation"), 10);
    assert_eq!(counters.throttled("DescribeInstanceInformation"), 5);
}

#[tokio::test]
async fn the_sdk_retries_throttled_calls_until_they_pass() {
    let local = Local::start(nodes(1)).await;
    local
        .service
        .knobs()
        .throttle_all(Throttle::fraction(0.5))
        .unwrap();
    let client = client_with_quick_retries(local.service.url());

    for _ in 0..6 {
        let answer = client.list_commands().send().await;
        assert!(answer.is_ok(), "a throttled call is retried: {answer:?}");
    }

    let counters = local.service.counters();
    let passed = counters.get("ListCommands") - counters.throttled("ListCommands");
    assert_eq!(passed, 6);
    assert_eq!(
        counters.throttled("ListCommands"),
        5,
        "every second call was refused"
    );
}

#[tokio::test]
async fn a_rate_limit_throttles_one_operation_only() {
    let local = Local::start(nodes(1)).await;
    local
        .service
        .knobs()
        .throttle(Operation::ListCommands, Throttle::rate(0.5, 2))
        .unwrap();
    let raw = client_without_retries(local.service.url());

    let mut codes = Vec::new();
    for _ in 0..4 {
        let answer = raw.list_commands().send().await;
        codes.push(answer.err().and_then(|err| err.code().map(str::to_owned)));
    }
    assert_eq!(codes[..2], [None, None], "the burst passes");
    assert!(
        codes[2..]
            .iter()
            .all(|c| c.as_deref() == Some("ThrottlingException")),
        "{codes:?}"
    );
    assert!(raw.describe_instance_information().send().await.is_ok());

    local.service.knobs().clear_throttling();
    assert!(raw.list_commands().send().await.is_ok());
}

#[tokio::test]
async fn latency_slows_the_answers_it_is_set_for() {
    let local = Local::start(nodes(1)).await;
    let latency = Duration::from_millis(300);
    local
        .service
        .knobs()
        .set_operation_latency(Operation::ListCommands, latency);

    let started = Instant::now();
    local.client.list_commands().send().await.unwrap();
    assert!(started.elapsed() >= latency, "{:?}", started.elapsed());

    local.service.knobs().set_latency(latency);
    let started = Instant::now();
    local
        .client
        .describe_instance_information()
        .send()
        .await
        .unwrap();
    assert!(started.elapsed() >= latency, "{:?}", started.elapsed());
}

#[tokio::test]
async fn counters_count_each_operation() {
    let local = Local::start(nodes(1)).await;
    let node = local.node(0);

    let id = send(&local.client, std::slice::from_ref(&node), &["true"]).await;
    local.client.list_commands().send().await.unwrap();
    local.client.list_commands().send().await.unwrap();
    local
        .client
        .cancel_command()
        .command_id(&id)
        .send()
        .await
        .unwrap();

    let described = local
        .client
        .describe_instance_information()
        .send()
        .await
        .unwrap();
    let request_id = aws_sdk_ssm::operation::RequestId::request_id(&described);
    assert_eq!(
        request_id.map(str::len),
        Some(36),
        "answers carry a request id"
    );

    let counters = local.service.counters();
    assert_eq!(counters.get("SendCommand"), 1);
    assert_eq!(counters.get("ListCommands"), 2);
    assert_eq!(counters.get("CancelCommand"), 1);
    assert_eq!(counters.get("DescribeInstanceInformation"), 1);
    assert_eq!(counters.get("GetCommandInvocation"), 0);
    assert_eq!(counters.total(), 5);
}
