//! Several nodes: targets by tag, MaxConcurrency, MaxErrors, offline nodes and delivery
//! timeouts.

use std::time::Duration;

use aws_sdk_ssm::types::{CommandInvocationStatus, CommandStatus, Target};
use gust_ssm_local::NodeConfig;

use crate::support::*;

fn tag_target(key: &str, value: &str) -> Target {
    Target::builder().key(key).values(value).build()
}

#[tokio::test]
async fn targets_by_tag_reach_exactly_the_tagged_nodes() {
    let fleet = vec![
        NodeConfig::numbered(1).with_tag("Role", "web"),
        NodeConfig::numbered(2)
            .with_tag("Role", "db")
            .with_tag("Backup", "nightly"),
        NodeConfig::numbered(3).with_tag("Role", "web"),
        NodeConfig::numbered(4)
            .with_tag("Role", "web")
            .with_tag("Name", "web-4"),
    ];
    let local = Local::start(fleet).await;

    let sent = local
        .client
        .send_command()
        .document_name("AWS-RunShellScript")
        .targets(tag_target("tag:Role", "web"))
        .parameters("commands", vec!["echo web".into()])
        .send()
        .await
        .unwrap();
    let command = sent.command().unwrap();
    assert!(
        command.instance_ids().is_empty(),
        "Targets sends list no instances"
    );
    assert_eq!(command.target_count(), 3);
    let id = command_id(Some(command));

    let invocations = finished_invocations(&local.client, &id, 3).await;
    let mut reached: Vec<_> = invocations.iter().filter_map(|i| i.instance_id()).collect();
    reached.sort();
    assert_eq!(reached, [local.node(0), local.node(2), local.node(3)]);
    let named = invocations
        .iter()
        .find(|i| i.instance_id() == Some(&local.node(3)));
    assert_eq!(named.and_then(|i| i.instance_name()), Some("web-4"));
    assert!(
        !local.root(1).join(&id).exists(),
        "the db node never ran it"
    );

    let sent = local
        .client
        .send_command()
        .document_name("AWS-RunShellScript")
        .targets(tag_target("tag-key", "Backup"))
        .parameters("commands", vec!["true".into()])
        .send()
        .await
        .unwrap();
    let id = command_id(sent.command());
    let invocations = finished_invocations(&local.client, &id, 1).await;
    assert_eq!(invocations[0].instance_id(), Some(local.node(1).as_str()));
}

#[tokio::test]
async fn max_concurrency_one_runs_the_nodes_one_after_another() {
    let local = Local::start(nodes(3)).await;
    let scratch = tempfile::tempdir().unwrap();
    let log = scratch.path().join("log");
    let script = [
        format!("echo start >> {}", log.display()),
        "sleep 0.2".to_owned(),
        format!("echo end >> {}", log.display()),
    ];

    let sent = local
        .client
        .send_command()
        .document_name("AWS-RunShellScript")
        .set_instance_ids(Some((0..3).map(|n| local.node(n)).collect()))
        .max_concurrency("1")
        .parameters("commands", script.to_vec())
        .send()
        .await
        .unwrap();
    let id = command_id(sent.command());
    let invocations = finished_invocations(&local.client, &id, 3).await;

    let lines = std::fs::read_to_string(&log).unwrap();
    assert_eq!(
        lines,
        "start\nend\n".repeat(3),
        "no script started before another ended"
    );

    let mut spans: Vec<_> = invocations
        .iter()
        .map(|inv| {
            let plugin = &inv.command_plugins()[0];
            let start = plugin.response_start_date_time().unwrap().as_secs_f64();
            let end = plugin.response_finish_date_time().unwrap().as_secs_f64();
            (start, end)
        })
        .collect();
    spans.sort_by(|a, b| a.0.total_cmp(&b.0));
    for pair in spans.windows(2) {
        assert!(pair[0].1 <= pair[1].0, "spans overlap: {spans:?}");
    }
}

#[tokio::test]
async fn without_a_concurrency_limit_the_nodes_run_together() {
    let local = Local::start(nodes(3)).await;
    let scratch = tempfile::tempdir().unwrap();
    let dir = scratch.path().display();
    // Each script waits until all three have started: only possible if they run at once.
    let script = [
        format!("touch {dir}/started-$$"),
        format!("while [ $(ls {dir} | wc -l) -lt 3 ]; do sleep 0.05; done"),
    ];

    let ids: Vec<String> = (0..3).map(|n| local.node(n)).collect();
    let script: Vec<&str> = script.iter().map(String::as_str).collect();
    let id = send_with(&local.client, &ids, &script, &[("executionTimeout", "20")]).await;
    let invocations = finished_invocations(&local.client, &id, 3).await;
    assert!(
        invocations
            .iter()
            .all(|i| i.status() == Some(&CommandInvocationStatus::Success)),
        "{:?}",
        statuses(&invocations)
    );
}

#[tokio::test]
async fn going_past_max_errors_stops_the_remaining_nodes() {
    let local = Local::start(nodes(3)).await;
    let sent = local
        .client
        .send_command()
        .document_name("AWS-RunShellScript")
        .set_instance_ids(Some((0..3).map(|n| local.node(n)).collect()))
        .max_concurrency("1")
        .max_errors("0")
        .parameters("commands", vec!["exit 1".into()])
        .send()
        .await
        .unwrap();
    let id = command_id(sent.command());

    let invocations = finished_invocations(&local.client, &id, 3).await;
    let details: Vec<_> = statuses(&invocations).into_iter().map(|(_, d)| d).collect();
    assert_eq!(details, ["Failed", "Terminated", "Terminated"]);
    assert_eq!(
        invocations[1].status(),
        Some(&CommandInvocationStatus::Cancelled)
    );

    let command = local
        .client
        .list_commands()
        .command_id(&id)
        .send()
        .await
        .unwrap();
    let command = &command.commands()[0];
    assert_eq!(command.status(), Some(&CommandStatus::Failed));
    assert_eq!((command.error_count(), command.completed_count()), (1, 3));
}

#[tokio::test]
async fn offline_nodes_time_out_on_delivery() {
    let local = Local::start(nodes(2)).await;
    let (online, offline) = (local.node(0), local.node(1));
    local.service.knobs().set_offline(&offline, true).unwrap();
    local
        .service
        .knobs()
        .set_delivery_timeout(Some(Duration::from_millis(500)));

    let id = send(&local.client, &[online.clone(), offline.clone()], &["true"]).await;

    let lost = finished_invocation(&local.client, &id, &offline).await;
    assert_eq!(lost.status(), Some(&CommandInvocationStatus::TimedOut));
    assert_eq!(lost.status_details(), Some("Delivery Timed Out"));
    assert_eq!(lost.response_code(), -1);
    assert_eq!(lost.execution_start_date_time(), Some(""));
    let ran = finished_invocation(&local.client, &id, &online).await;
    assert_eq!(ran.status(), Some(&CommandInvocationStatus::Success));

    let command = local
        .client
        .list_commands()
        .command_id(&id)
        .send()
        .await
        .unwrap();
    let command = &command.commands()[0];
    assert_eq!(command.delivery_timed_out_count(), 1);
    assert_eq!(command.error_count(), 0);
    assert_eq!(command.status(), Some(&CommandStatus::TimedOut));
    assert_eq!(command.status_details(), Some("Delivery Timed Out"));

    let described = local
        .client
        .describe_instance_information()
        .send()
        .await
        .unwrap();
    let pings: Vec<_> = described
        .instance_information_list()
        .iter()
        .map(|i| i.ping_status().map(|p| p.as_str().to_owned()))
        .collect();
    assert_eq!(
        pings,
        [Some("Online".into()), Some("ConnectionLost".into())]
    );
}

#[tokio::test]
async fn a_node_that_comes_back_in_time_runs_the_command() {
    let local = Local::start(nodes(1)).await;
    let node = local.node(0);
    local.service.knobs().set_offline(&node, true).unwrap();

    let id = send(
        &local.client,
        std::slice::from_ref(&node),
        &["echo delivered"],
    )
    .await;
    let waiting = local
        .client
        .get_command_invocation()
        .command_id(&id)
        .instance_id(&node)
        .send()
        .await
        .unwrap();
    assert_eq!(waiting.status(), Some(&CommandInvocationStatus::Pending));

    local.service.knobs().set_offline(&node, false).unwrap();
    let answer = finished_invocation(&local.client, &id, &node).await;
    assert_eq!(answer.status(), Some(&CommandInvocationStatus::Success));
    assert_eq!(answer.standard_output_content(), Some("delivered\n"));
}

#[tokio::test]
async fn pending_invocations_are_cancelled_at_once() {
    let local = Local::start(nodes(1)).await;
    let node = local.node(0);
    local.service.knobs().set_offline(&node, true).unwrap();

    let id = send(&local.client, std::slice::from_ref(&node), &["true"]).await;
    local
        .client
        .cancel_command()
        .command_id(&id)
        .send()
        .await
        .unwrap();

    let answer = finished_invocation(&local.client, &id, &node).await;
    assert_eq!(answer.status(), Some(&CommandInvocationStatus::Cancelled));
    assert_eq!(answer.response_code(), -1);
}
