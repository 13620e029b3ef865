//! Pagination of ListCommandInvocations and ListCommands.

use std::collections::BTreeSet;

use aws_sdk_ssm::types::{
    CommandFilter, CommandFilterKey, InstanceInformationStringFilter, Target,
};
use gust_ssm_local::NodeConfig;

use crate::support::*;

#[tokio::test]
async fn one_hundred_twenty_invocations_come_fifty_a_page() {
    let fleet: Vec<NodeConfig> = (1..=120)
        .map(|n| NodeConfig::numbered(n).with_tag("Fleet", "big"))
        .collect();
    let local = Local::start(fleet).await;

    let sent = local
        .client
        .send_command()
        .document_name("AWS-RunShellScript")
        .targets(Target::builder().key("tag:Fleet").values("big").build())
        .parameters("commands", vec!["true".into()])
        .send()
        .await
        .unwrap();
    let id = command_id(sent.command());
    assert_eq!(sent.command().unwrap().target_count(), 120);
    finished_invocations(&local.client, &id, 120).await;

    let calls_before = local.service.counters().get("ListCommandInvocations");
    let mut pages = Vec::new();
    let mut seen = BTreeSet::new();
    let mut token = None;
    loop {
        let page = local
            .client
            .list_command_invocations()
            .command_id(&id)
            .max_results(50)
            .set_next_token(token)
            .send()
            .await
            .unwrap();
        pages.push(page.command_invocations().len());
        seen.extend(
            page.command_invocations()
                .iter()
                .filter_map(|i| i.instance_id())
                .map(str::to_owned),
        );
        token = page.next_token().map(str::to_owned);
        if token.is_none() {
            break;
        }
    }

    assert_eq!(pages, [50, 50, 20]);
    assert_eq!(seen.len(), 120, "no invocation is listed twice or left out");
    let calls = local.service.counters().get("ListCommandInvocations") - calls_before;
    assert_eq!(calls, 3);

    let default_page = local
        .client
        .list_command_invocations()
        .command_id(&id)
        .send()
        .await
        .unwrap();
    assert_eq!(default_page.command_invocations().len(), 50);
}

#[tokio::test]
async fn commands_page_newest_first() {
    let local = Local::start(nodes(1)).await;
    let node = local.node(0);
    let mut sent = Vec::new();
    for _ in 0..3 {
        sent.push(send(&local.client, std::slice::from_ref(&node), &["true"]).await);
    }

    let first = local
        .client
        .list_commands()
        .max_results(2)
        .send()
        .await
        .unwrap();
    let token = first.next_token().expect("a second page").to_owned();
    let second = local
        .client
        .list_commands()
        .max_results(2)
        .next_token(token)
        .send()
        .await
        .unwrap();
    assert!(second.next_token().is_none());

    let listed: Vec<String> = first
        .commands()
        .iter()
        .chain(second.commands())
        .map(|c| command_id(Some(c)))
        .collect();
    sent.reverse();
    assert_eq!(listed, sent);

    let on_node = local
        .client
        .list_commands()
        .instance_id(&node)
        .send()
        .await
        .unwrap();
    assert_eq!(on_node.commands().len(), 3);
    let elsewhere = local
        .client
        .list_commands()
        .instance_id("mi-99999999999999999")
        .send()
        .await;
    assert!(elsewhere.unwrap().commands().is_empty());
}

#[tokio::test]
async fn a_token_from_elsewhere_is_refused() {
    let local = Local::start(nodes(2)).await;
    let err = local
        .client
        .list_command_invocations()
        .next_token("not-a-token")
        .send()
        .await
        .unwrap_err();
    assert!(err.into_service_error().is_invalid_next_token());

    let both = [local.node(0), local.node(1)];
    let first = send(&local.client, &both, &["true"]).await;
    let second = send(&local.client, &both, &["true"]).await;
    let page = local
        .client
        .list_command_invocations()
        .command_id(&first)
        .max_results(1)
        .send()
        .await
        .unwrap();
    let token = page.next_token().expect("a second page").to_owned();
    let err = local
        .client
        .list_command_invocations()
        .command_id(&second)
        .next_token(token)
        .send()
        .await
        .unwrap_err();
    assert!(err.into_service_error().is_invalid_next_token());
}

#[tokio::test]
async fn filters_narrow_the_listings() {
    let fleet = vec![
        NodeConfig::numbered(1).with_tag("Role", "web"),
        NodeConfig::numbered(2).with_tag("Role", "db"),
    ];
    let local = Local::start(fleet).await;
    let both = [local.node(0), local.node(1)];
    let id = send(
        &local.client,
        &both,
        &["[ \"$(basename $(dirname $PWD))\" = mi-00000000000000001 ]"],
    )
    .await;
    finished_invocations(&local.client, &id, 2).await;

    let failed = CommandFilter::builder()
        .key(CommandFilterKey::Status)
        .value("Failed")
        .build()
        .unwrap();
    let listed = local
        .client
        .list_command_invocations()
        .command_id(&id)
        .filters(failed)
        .send()
        .await
        .unwrap();
    let failed_on: Vec<_> = listed
        .command_invocations()
        .iter()
        .filter_map(|i| i.instance_id())
        .collect();
    assert_eq!(failed_on, [local.node(1)]);

    let complete = CommandFilter::builder()
        .key(CommandFilterKey::ExecutionStage)
        .value("Complete")
        .build()
        .unwrap();
    let listed = local
        .client
        .list_commands()
        .filters(complete)
        .send()
        .await
        .unwrap();
    assert_eq!(listed.commands().len(), 1);
    let executing = CommandFilter::builder()
        .key(CommandFilterKey::ExecutionStage)
        .value("Executing")
        .build()
        .unwrap();
    let listed = local
        .client
        .list_commands()
        .filters(executing)
        .send()
        .await
        .unwrap();
    assert!(listed.commands().is_empty());

    let web = InstanceInformationStringFilter::builder()
        .key("tag:Role")
        .values("web")
        .build()
        .unwrap();
    let described = local
        .client
        .describe_instance_information()
        .filters(web)
        .send()
        .await
        .unwrap();
    let ids: Vec<_> = described
        .instance_information_list()
        .iter()
        .filter_map(|i| i.instance_id())
        .collect();
    assert_eq!(ids, [local.node(0)]);
}
