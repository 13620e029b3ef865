//! The flows users run: send, wait, read the output, route on the exit code.

use std::time::Duration;

use gust::core::{Dag, SensorSettings, TaskBuilder, TaskState, Trigger, TriggerRule};
use gust::ssm::{
    SsmGetCommandInvocationOperator, SsmHook, SsmRunCommandCompletedSensor, SsmRunCommandOperator,
};
use gust::ssm_local::NodeConfig;
use serde_json::json;

use crate::support::*;

const LIMIT: Duration = Duration::from_secs(60);

fn sensor(local: &Local, command: gust::core::XComRef) -> SsmRunCommandCompletedSensor {
    SsmRunCommandCompletedSensor::new(command)
        .aws(local.aws())
        .sensor_settings(SensorSettings {
            poke_interval: Duration::from_millis(200),
            timeout: Duration::from_secs(30),
            ..SensorSettings::default()
        })
}

/// run (no wait) -> sensor -> get output, as Airflow's SSM example does.
fn send_wait_read(
    local: &Local,
    script: &str,
    fail_on_nonzero_exit: bool,
    deferrable: bool,
) -> Dag {
    let mut dag = Dag::builder("ssm_flow");
    let run = dag.task(
        "run_command",
        SsmRunCommandOperator::new("AWS-RunShellScript")
            .run_command_kwargs(on_instances(&[local.node(0)], script))
            .unwrap()
            .wait_for_completion(false)
            .aws(local.aws()),
    );
    let wait = dag.sensor(
        "await_run_command",
        sensor(local, run.output())
            .fail_on_nonzero_exit(fail_on_nonzero_exit)
            .deferrable(deferrable)
            .poke_interval(Duration::from_secs(1)),
    );
    let output = dag.task(
        "get_output",
        SsmGetCommandInvocationOperator::new(run.output()).aws(local.aws()),
    );
    dag.set_downstream(&wait, &output);
    dag.build().unwrap()
}

#[tokio::test]
async fn the_output_operator_returns_the_script_s_real_stdout() {
    for deferrable in [false, true] {
        let local = Local::one_node().await;
        let dag = send_wait_read(
            &local,
            "echo hello from $(hostname -s 2>/dev/null || echo node); echo done",
            true,
            deferrable,
        );
        let report = run_dag(dag, LIMIT).await;
        succeeded(&report);
        let output = report.xcom("get_output", "return_value").unwrap();
        let command_id = report.xcom("run_command", "return_value").unwrap();
        assert_eq!(&output["command_id"], command_id);
        let stdout = output["invocations"][0]["standard_output"]
            .as_str()
            .unwrap();
        assert!(
            stdout.starts_with("hello from ") && stdout.ends_with("done\n"),
            "{stdout:?}"
        );
        assert_eq!(output["invocations"][0]["response_code"], 0);
        assert_eq!(
            output["invocations"][0]["instance_id"],
            local.node(0).as_str()
        );
    }
}

#[tokio::test]
async fn exit_2_fails_the_sensor_and_names_command_node_status_and_code() {
    for deferrable in [false, true] {
        let local = Local::one_node().await;
        let report = run_dag(
            send_wait_read(&local, "echo failing; exit 2", true, deferrable),
            LIMIT,
        )
        .await;
        assert_states(
            &report,
            &[
                ("run_command", TaskState::Success),
                ("await_run_command", TaskState::Failed),
                ("get_output", TaskState::UpstreamFailed),
            ],
        );
        let command_id = report
            .xcom("run_command", "return_value")
            .unwrap()
            .as_str()
            .unwrap();
        let message = report
            .task("await_run_command")
            .unwrap()
            .message
            .clone()
            .unwrap();
        assert_eq!(
            message,
            format!(
                "command {command_id} failed on instance {}: status Failed, exit code 2",
                local.node(0)
            ),
            "deferrable {deferrable}"
        );
    }
}

#[tokio::test]
async fn with_fail_on_nonzero_exit_false_the_dag_goes_on_and_routes_on_the_code() {
    for deferrable in [false, true] {
        let local = Local::one_node().await;
        let mut dag = Dag::builder("route");
        let run = dag.task(
            "run_command",
            SsmRunCommandOperator::new("AWS-RunShellScript")
                .run_command_kwargs(on_instances(&[local.node(0)], "exit 2"))
                .unwrap()
                .wait_for_completion(false)
                .aws(local.aws()),
        );
        let wait = dag.sensor(
            "await_run_command",
            sensor(&local, run.output())
                .fail_on_nonzero_exit(false)
                .deferrable(deferrable)
                .poke_interval(Duration::from_secs(1)),
        );
        let output = dag.task(
            "get_output",
            SsmGetCommandInvocationOperator::new(run.output()).aws(local.aws()),
        );
        dag.set_downstream(&wait, &output);
        dag.add(
            TaskBuilder::operator("on_failure_only", gust::standard::EmptyOperator)
                .needs(["run_command"])
                .trigger_rule(TriggerRule::AllSuccess),
        );
        let report = run_dag(dag.build().unwrap(), LIMIT).await;
        succeeded(&report);
        let output = report.xcom("get_output", "return_value").unwrap();
        assert_eq!(output["invocations"][0]["response_code"], 2);
        assert_eq!(output["invocations"][0]["status"], "Failed");
    }
}

#[tokio::test]
async fn a_send_by_tag_waits_for_every_tagged_node_and_only_those() {
    for deferrable in [false, true] {
        let nodes = vec![
            NodeConfig::numbered(1).with_tag("Role", "web"),
            NodeConfig::numbered(2).with_tag("Role", "web"),
            NodeConfig::numbered(3).with_tag("Role", "web"),
            NodeConfig::numbered(4).with_tag("Role", "db"),
        ];
        let local = Local::start(nodes).await;
        let mut dag = Dag::builder("by_tag");
        dag.task(
            "run_command",
            SsmRunCommandOperator::new("AWS-RunShellScript")
                .run_command_kwargs(json!({
                    "Targets": [{"Key": "tag:Role", "Values": ["web"]}],
                    "Parameters": {"commands": ["sleep 1; echo served"]}
                }))
                .unwrap()
                .waiter_delay(Duration::from_millis(300))
                .deferrable(deferrable)
                .aws(local.aws()),
        );
        let report = run_dag(dag.build().unwrap(), LIMIT).await;
        succeeded(&report);

        let command_id = report
            .xcom("run_command", "return_value")
            .unwrap()
            .as_str()
            .unwrap()
            .to_owned();
        let hook = SsmHook::connect(
            &gust::aws::AwsParams::operator_default(),
            local.aws().given_connections(),
        )
        .await
        .unwrap();
        let invocations = hook.list_invocations(&command_id, None).await.unwrap();
        let mut finished: Vec<(String, String)> = invocations
            .iter()
            .map(|i| (i.instance_id.clone(), i.status.to_string()))
            .collect();
        finished.sort();
        assert_eq!(
            finished,
            (0..3)
                .map(|n| (local.node(n), "Success".to_owned()))
                .collect::<Vec<_>>(),
            "the operator returned only once all three web nodes had finished; the db node never ran it"
        );
    }
}

#[tokio::test]
async fn an_execution_timeout_of_the_script_is_an_aws_level_failure() {
    let local = Local::one_node().await;
    let mut dag = Dag::builder("timed_out");
    dag.task(
        "run_command",
        SsmRunCommandOperator::new("AWS-RunShellScript")
            .run_command_kwargs(json!({
                "InstanceIds": [local.node(0)],
                "Parameters": {"commands": ["sleep 30"], "executionTimeout": ["2"]}
            }))
            .unwrap()
            .fail_on_nonzero_exit(false)
            .waiter_delay(Duration::from_millis(300))
            .aws(local.aws()),
    );
    let report = run_dag(dag.build().unwrap(), LIMIT).await;
    let task = report.task("run_command").unwrap();
    assert_eq!(task.state, TaskState::Failed);
    let message = task.message.clone().unwrap();
    assert!(message.contains("status TimedOut"), "{message}");
}

#[tokio::test]
async fn a_sensor_on_a_command_never_sent_fails_at_its_first_poke() {
    let local = Local::one_node().await;
    let mut dag = Dag::builder("never_sent");
    dag.add(
        TaskBuilder::sensor(
            "await",
            SsmRunCommandCompletedSensor::new("00000000-0000-0000-0000-000000000000")
                .aws(local.aws())
                .poke_interval(Duration::from_secs(60)),
        )
        .retries(3),
    );
    let report = run_dag(dag.build().unwrap(), LIMIT).await;
    let task = report.task("await").unwrap();
    assert_eq!((task.state, task.tries), (TaskState::Failed, 1));
    assert!(
        task.message.as_deref().unwrap().contains("does not exist"),
        "{:?}",
        task.message
    );
    assert_eq!(local.calls("ListCommandInvocations"), 0);
}

#[tokio::test]
async fn a_failure_on_one_node_ends_the_wait_before_the_others_finish() {
    let local = Local::start((1..=3).map(NodeConfig::numbered).collect()).await;
    // Each node runs in a folder named after it, so the script can tell them apart.
    let script = format!(
        "case \"$PWD\" in *{}*) exit 1;; esac; sleep 20",
        local.node(2)
    );
    let mut dag = Dag::builder("fail_fast");
    dag.task(
        "run_command",
        SsmRunCommandOperator::new("AWS-RunShellScript")
            .run_command_kwargs(on_instances(
                &[local.node(0), local.node(1), local.node(2)],
                &script,
            ))
            .unwrap()
            .waiter_delay(Duration::from_millis(300))
            .aws(local.aws()),
    );
    let report = run_dag(dag.build().unwrap(), LIMIT).await;
    let task = report.task("run_command").unwrap();
    assert_eq!(task.state, TaskState::Failed);
    assert!(
        task.message.as_deref().unwrap().contains(&local.node(2)),
        "{:?}",
        task.message
    );

    // When the task gave up, the two other nodes were still running their 20 s sleep.
    let command_id = task
        .message
        .as_deref()
        .unwrap()
        .split_whitespace()
        .nth(1)
        .unwrap()
        .to_owned();
    let hook = SsmHook::connect(
        &gust::aws::AwsParams::operator_default(),
        local.aws().given_connections(),
    )
    .await
    .unwrap();
    let still: Vec<String> = hook
        .list_invocations(&command_id, None)
        .await
        .unwrap()
        .into_iter()
        .filter(|i| i.status.to_string() == "InProgress")
        .map(|i| i.instance_id)
        .collect();
    assert_eq!(still.len(), 2, "{still:?}");
}

#[tokio::test]
async fn more_than_50_instance_ids_is_a_clear_error() {
    let local = Local::one_node().await;
    let ids: Vec<String> = (0..51).map(|n| format!("mi-{n:017}")).collect();
    let mut dag = Dag::builder("too_many");
    dag.task(
        "run_command",
        SsmRunCommandOperator::new("AWS-RunShellScript")
            .run_command_kwargs(on_instances(&ids, "true"))
            .unwrap()
            .aws(local.aws()),
    );
    let report = run_dag(dag.build().unwrap(), LIMIT).await;
    let message = report.task("run_command").unwrap().message.clone().unwrap();
    assert!(message.contains("at most 50"), "{message}");
    assert_eq!(local.calls("SendCommand"), 0);
}

#[tokio::test]
async fn a_rebuilt_trigger_keeps_region_verify_and_client_settings_and_polls_that_region() {
    use gust::aws::Verify;
    use gust::core::{Sensor, TaskContext};
    use gust::ssm::SsmRunCommandTrigger;

    let local = Local::one_node().await;
    let mut dag = Dag::builder("send_only");
    dag.task(
        "run_command",
        SsmRunCommandOperator::new("AWS-RunShellScript")
            .run_command_kwargs(on_instances(&[local.node(0)], "echo eu"))
            .unwrap()
            .waiter_delay(Duration::from_millis(200))
            .aws(local.aws()),
    );
    let report = run_dag(dag.build().unwrap(), LIMIT).await;
    let command_id = report
        .xcom("run_command", "return_value")
        .unwrap()
        .as_str()
        .unwrap()
        .to_owned();

    let aws = local
        .aws()
        .region_name("eu-west-2")
        .verify(Verify::Off)
        .botocore_config(json!({"read_timeout": 42}).as_object().unwrap().clone());
    let sensor = SsmRunCommandCompletedSensor::new(command_id.as_str())
        .deferrable(true)
        .aws(aws);
    let deferral = sensor
        .defer(&TaskContext::for_test("await"))
        .await
        .unwrap()
        .unwrap();
    let stored = deferral.trigger.serialize();
    assert_eq!(stored.args["region_name"], "eu-west-2");
    assert_eq!(stored.args["verify"], false);
    assert_eq!(stored.args["botocore_config"], json!({"read_timeout": 42}));

    let rebuilt = SsmRunCommandTrigger::from_args(&stored.args).unwrap();
    assert_eq!(rebuilt.args(), deferral.trigger.args());
    let hook = SsmHook::connect(&rebuilt.aws, local.aws().given_connections())
        .await
        .unwrap();
    assert_eq!(hook.region().as_deref(), Some("eu-west-2"));
    let progress = gust::ssm::tracker::poll(&hook, &command_id, 0, true)
        .await
        .unwrap();
    assert!(
        matches!(progress, gust::ssm::tracker::Progress::Done(_)),
        "{progress:?}"
    );
}
