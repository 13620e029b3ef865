//! Many nodes, a lagging service, a throttling service.

use std::time::Duration;

use gust::core::{Dag, SensorSettings};
use gust::ssm::{SsmRunCommandCompletedSensor, SsmRunCommandOperator};
use gust::ssm_local::{NodeConfig, Throttle};
use serde_json::json;

use crate::support::*;

const LIMIT: Duration = Duration::from_secs(90);

#[tokio::test]
async fn a_hundred_and_twenty_nodes_are_all_tracked_in_pages_of_fifty() {
    let nodes = (1..=120)
        .map(|n| NodeConfig::numbered(n).with_tag("Fleet", "all"))
        .collect();
    let local = Local::start(nodes).await;
    let mut dag = Dag::builder("wide");
    let run = dag.task(
        "run_command",
        SsmRunCommandOperator::new("AWS-RunShellScript")
            .run_command_kwargs(json!({
                "Targets": [{"Key": "tag:Fleet", "Values": ["all"]}],
                "Parameters": {"commands": ["echo ok"]},
                "MaxConcurrency": "120"
            }))
            .unwrap()
            .wait_for_completion(false)
            .aws(local.aws()),
    );
    dag.sensor(
        "await_run_command",
        SsmRunCommandCompletedSensor::new(run.output())
            .aws(local.aws())
            .sensor_settings(SensorSettings {
                poke_interval: Duration::from_secs(1),
                timeout: Duration::from_secs(60),
                ..SensorSettings::default()
            }),
    );
    let report = run_dag(dag.build().unwrap(), LIMIT).await;
    succeeded(&report);

    let polls = local.calls("ListCommands");
    let pages = local.calls("ListCommandInvocations");
    assert!(polls >= 1);
    assert_eq!(pages, 3 * polls, "each poll reads 3 pages of 50, no more");
    assert_eq!(local.calls("GetCommandInvocation"), 0);
}

#[tokio::test]
async fn a_visibility_lag_after_send_is_polled_through() {
    for deferrable in [false, true] {
        let local = Local::one_node().await;
        local
            .service
            .knobs()
            // Long enough that the first poll, a few milliseconds after the send, falls in
            // it even on a busy machine.
            .set_visibility_lag(Duration::from_secs(4));
        let mut dag = Dag::builder("lag");
        dag.task(
            "run_command",
            SsmRunCommandOperator::new("AWS-RunShellScript")
                .run_command_kwargs(on_instances(&[local.node(0)], "echo visible"))
                .unwrap()
                .waiter_delay(Duration::from_secs(1))
                .deferrable(deferrable)
                .aws(local.aws()),
        );
        let report = run_dag(dag.build().unwrap(), LIMIT).await;
        succeeded(&report);
        let counters: Vec<_> = local
            .service
            .counters()
            .iter()
            .map(|(k, v)| (k.to_owned(), v))
            .collect();
        assert!(
            local.calls("ListCommandInvocations") >= 2,
            "deferrable {deferrable}: {counters:?}"
        );
    }
}

#[tokio::test]
async fn throttling_half_of_all_calls_still_succeeds() {
    let local = Local::start((1..=10).map(NodeConfig::numbered).collect()).await;
    local
        .service
        .knobs()
        .throttle_all(Throttle::fraction(0.5))
        .unwrap();
    let ids: Vec<String> = (0..10).map(|n| local.node(n)).collect();
    let mut dag = Dag::builder("throttled");
    dag.task(
        "run_command",
        SsmRunCommandOperator::new("AWS-RunShellScript")
            .run_command_kwargs(on_instances(&ids, "echo ok"))
            .unwrap()
            .waiter_delay(Duration::from_millis(300))
            .aws(local.aws()),
    );
    let report = run_dag(dag.build().unwrap(), LIMIT).await;
    succeeded(&report);
    assert!(
        local.service.counters().total_throttled() > 0,
        "the knob throttled some calls"
    );
}
