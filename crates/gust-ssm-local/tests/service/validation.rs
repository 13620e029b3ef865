//! Requests SSM refuses, refused with SSM's error codes, which the SDK maps onto its modelled
//! errors.

use aws_sdk_ssm::Client;
use aws_sdk_ssm::error::ProvideErrorMetadata;
use aws_sdk_ssm::operation::send_command::SendCommandError;
use aws_sdk_ssm::types::Target;

use crate::support::*;

fn send_request(
    client: &Client,
) -> aws_sdk_ssm::operation::send_command::builders::SendCommandFluentBuilder {
    client
        .send_command()
        .document_name("AWS-RunShellScript")
        .parameters("commands", vec!["true".into()])
}

async fn send_error(
    request: aws_sdk_ssm::operation::send_command::builders::SendCommandFluentBuilder,
) -> SendCommandError {
    request
        .send()
        .await
        .expect_err("the request is refused")
        .into_service_error()
}

#[tokio::test]
async fn send_command_is_checked_as_ssm_checks_it() {
    let local = Local::start(nodes(1)).await;
    let client = &local.client;
    let node = local.node(0);

    let neither = send_error(send_request(client)).await;
    assert_eq!(neither.code(), Some("ValidationException"));

    let both = send_error(
        send_request(client)
            .instance_ids(&node)
            .targets(Target::builder().key("tag:Role").values("web").build()),
    )
    .await;
    assert_eq!(both.code(), Some("ValidationException"));

    let fifty_one: Vec<String> = (1..=51).map(|n| format!("mi-{n:017}")).collect();
    let too_many = send_error(send_request(client).set_instance_ids(Some(fifty_one))).await;
    assert_eq!(too_many.code(), Some("ValidationException"));
    assert!(
        too_many.message().unwrap_or_default().contains("50"),
        "{too_many:?}"
    );

    let twice = send_error(send_request(client).instance_ids(&node).instance_ids(&node)).await;
    assert!(twice.is_duplicate_instance_id(), "{twice:?}");

    let stranger = send_error(send_request(client).instance_ids("mi-99999999999999999")).await;
    assert!(stranger.is_invalid_instance_id(), "{stranger:?}");
    assert!(
        stranger
            .message()
            .unwrap_or_default()
            .contains("mi-99999999999999999")
    );

    let document = send_error(
        send_request(client)
            .instance_ids(&node)
            .document_name("AWS-RunPowerShellScript"),
    )
    .await;
    assert!(document.is_invalid_document(), "{document:?}");

    let no_commands = send_error(
        client
            .send_command()
            .document_name("AWS-RunShellScript")
            .instance_ids(&node),
    )
    .await;
    assert!(no_commands.is_invalid_parameters(), "{no_commands:?}");

    let unknown_parameter = send_error(
        send_request(client)
            .instance_ids(&node)
            .parameters("colour", vec!["red".into()]),
    )
    .await;
    assert!(
        unknown_parameter.is_invalid_parameters(),
        "{unknown_parameter:?}"
    );

    for seconds in [29, 2_592_001] {
        let timeout = send_error(
            send_request(client)
                .instance_ids(&node)
                .timeout_seconds(seconds),
        )
        .await;
        assert_eq!(timeout.code(), Some("ValidationException"), "{seconds}");
        assert!(
            timeout
                .message()
                .unwrap_or_default()
                .contains("timeoutSeconds")
        );
    }
    for seconds in [30, 2_592_000] {
        let sent = send_request(client)
            .instance_ids(&node)
            .timeout_seconds(seconds)
            .send()
            .await;
        assert_eq!(
            sent.unwrap().command().unwrap().timeout_seconds(),
            Some(seconds)
        );
    }

    let concurrency = send_error(
        send_request(client)
            .instance_ids(&node)
            .max_concurrency("0"),
    )
    .await;
    assert_eq!(concurrency.code(), Some("ValidationException"));

    let bad_target = send_error(
        send_request(client).targets(
            Target::builder()
                .key("resource-groups:Name")
                .values("x")
                .build(),
        ),
    )
    .await;
    assert!(bad_target.is_invalid_parameters(), "{bad_target:?}");

    assert_eq!(local.service.counters().get("SendCommand"), 14);
}

#[tokio::test]
async fn unknown_commands_and_invocations_are_named_as_such() {
    let local = Local::start(nodes(2)).await;
    let client = &local.client;
    let unknown = "11111111-2222-3333-4444-555555555555";

    let get = client
        .get_command_invocation()
        .command_id(unknown)
        .instance_id(local.node(0))
        .send()
        .await;
    assert!(
        get.unwrap_err()
            .into_service_error()
            .is_invalid_command_id()
    );
    let list = client.list_commands().command_id(unknown).send().await;
    assert!(
        list.unwrap_err()
            .into_service_error()
            .is_invalid_command_id()
    );
    let invocations = client
        .list_command_invocations()
        .command_id(unknown)
        .send()
        .await;
    assert!(
        invocations
            .unwrap_err()
            .into_service_error()
            .is_invalid_command_id()
    );
    let cancel = client.cancel_command().command_id(unknown).send().await;
    assert!(
        cancel
            .unwrap_err()
            .into_service_error()
            .is_invalid_command_id()
    );

    let id = send(client, &[local.node(0)], &["true"]).await;
    let elsewhere = client
        .get_command_invocation()
        .command_id(&id)
        .instance_id(local.node(1))
        .send()
        .await;
    assert!(
        elsewhere
            .unwrap_err()
            .into_service_error()
            .is_invocation_does_not_exist()
    );

    let plugin = client
        .get_command_invocation()
        .command_id(&id)
        .instance_id(local.node(0))
        .plugin_name("aws:runPowerShellScript")
        .send()
        .await;
    assert!(
        plugin
            .unwrap_err()
            .into_service_error()
            .is_invalid_plugin_name()
    );
    let right_plugin = client
        .get_command_invocation()
        .command_id(&id)
        .instance_id(local.node(0))
        .plugin_name("aws:runShellScript")
        .send()
        .await;
    assert!(right_plugin.is_ok(), "{right_plugin:?}");

    let stranger = client
        .cancel_command()
        .command_id(&id)
        .instance_ids(local.node(1))
        .send()
        .await;
    assert!(
        stranger
            .unwrap_err()
            .into_service_error()
            .is_invalid_instance_id()
    );
}

#[tokio::test]
async fn page_sizes_and_filters_are_checked() {
    let local = Local::start(nodes(1)).await;
    let client = &local.client;

    for size in [0, 51] {
        let err = client
            .list_command_invocations()
            .max_results(size)
            .send()
            .await
            .unwrap_err();
        assert_eq!(err.code(), Some("ValidationException"), "{size}");
        let err = client
            .list_commands()
            .max_results(size)
            .send()
            .await
            .unwrap_err();
        assert_eq!(err.code(), Some("ValidationException"), "{size}");
    }

    let filter = aws_sdk_ssm::types::CommandFilter::builder()
        .key(aws_sdk_ssm::types::CommandFilterKey::ExecutionStage)
        .value("Complete")
        .build()
        .unwrap();
    let err = client
        .list_command_invocations()
        .filters(filter)
        .send()
        .await
        .unwrap_err();
    assert!(err.into_service_error().is_invalid_filter_key());
}

#[tokio::test]
async fn operations_the_service_does_not_implement_get_an_ssm_shaped_error() {
    let local = Local::start(nodes(1)).await;
    let err = local
        .client
        .get_parameter()
        .name("/x")
        .send()
        .await
        .unwrap_err();
    assert_eq!(err.code(), Some("UnsupportedOperationException"));
    assert!(err.message().unwrap_or_default().contains("GetParameter"));
    assert_eq!(local.service.counters().get("GetParameter"), 1);
}
