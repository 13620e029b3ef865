//! The main SSM flow written in Rust: send a script to a managed node without waiting,
//! wait for it with the sensor, then read its output.
//!
//! Run it with `cargo run --example ssm_run_command`. It starts the local SSM service in
//! this process (one managed node, which runs the script on this host) and points the
//! tasks' AWS connection at it. Against AWS, drop the local service, leave the tasks'
//! connections alone (they then read `aws_default` from the environment) and name a real
//! node instead of the local one.

use std::sync::Arc;
use std::time::Duration;

use gust::aws::Connections;
use gust::core::{Dag, SensorSettings};
use gust::executor::{Executor, RunOptions};
use gust::ssm::{
    AwsArgs, SsmGetCommandInvocationOperator, SsmRunCommandCompletedSensor, SsmRunCommandOperator,
};
use gust::ssm_local::{ServiceConfig, SsmLocal};
use serde_json::json;

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "warn".into()),
        )
        .init();

    let service = SsmLocal::start(ServiceConfig::default()).await?;
    let node = service.nodes()[0].id.clone();
    println!("local SSM service at {} with node {node}", service.url());
    let aws = AwsArgs::default().connections(Arc::new(
        Connections::from_env()?.override_endpoint(service.url()),
    ));

    let mut dag = Dag::builder("ssm_run_command");
    let run = dag.task(
        "run_command",
        SsmRunCommandOperator::new("AWS-RunShellScript")
            .run_command_kwargs(json!({
                "InstanceIds": [node],
                "Parameters": {"commands": ["echo \"Hello from $(hostname)\"", "uname -sr"]},
                "Comment": "gust example",
            }))?
            .wait_for_completion(false)
            .aws(aws.clone()),
    );
    let wait = dag.sensor(
        "await_run_command",
        SsmRunCommandCompletedSensor::new(run.output())
            .sensor_settings(SensorSettings {
                poke_interval: Duration::from_secs(1),
                timeout: Duration::from_secs(600),
                ..SensorSettings::default()
            })
            .aws(aws.clone()),
    );
    let output = dag.task(
        "get_output",
        SsmGetCommandInvocationOperator::new(run.output()).aws(aws),
    );
    dag.set_downstream(&wait, &output);

    let report = Executor::in_memory()
        .run(Arc::new(dag.build()?), RunOptions::new())
        .await?;
    service.shutdown().await;

    for task in &report.tasks {
        println!("{:<18} {}", task.task_id, task.state);
    }
    if let Some(output) = report.xcom("get_output", "return_value") {
        for invocation in output["invocations"].as_array().into_iter().flatten() {
            println!(
                "--- {} on {} (exit code {}):\n{}",
                invocation["status"].as_str().unwrap_or("?"),
                invocation["instance_id"].as_str().unwrap_or("?"),
                invocation["response_code"],
                invocation["standard_output"].as_str().unwrap_or("")
            );
        }
    }
    println!("run {}: {}", report.run_id, report.state);
    Ok(())
}
