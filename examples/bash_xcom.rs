//! A DAG written in Rust: one BashOperator's output feeds another through XCom.
//!
//! Run it with `cargo run --example bash_xcom`. The `report` task reads the output of
//! `extract` through a reference, which also makes `extract` run first.

use std::sync::Arc;

use gust::core::Dag;
use gust::executor::{Executor, RunOptions};
use gust::standard::BashOperator;

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "warn".into()),
        )
        .init();

    let mut dag = Dag::builder("bash_xcom");
    let extract = dag.task(
        "extract",
        BashOperator::new("echo 'counting the lines of /etc/hostname'; wc -l < /etc/hostname"),
    );
    dag.task(
        "report",
        BashOperator::new("echo \"extract counted $LINES line(s)\"")
            .env_var("LINES", extract.output())
            .append_env(true),
    );
    let dag = Arc::new(dag.build()?);

    let report = Executor::in_memory().run(dag, RunOptions::new()).await?;
    for task in &report.tasks {
        println!("{:<8} {}", task.task_id, task.state);
    }
    if let Some(said) = report.xcom("report", "return_value") {
        println!("report returned: {said}");
    }
    println!("run {}: {}", report.run_id, report.state);
    Ok(())
}
