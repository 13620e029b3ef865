//! A local SSM service per test, and helpers to build and run SSM DAGs against it.

use std::sync::Arc;
use std::time::Duration;

use gust::aws::Connections;
use gust::core::{Dag, RunState, TaskState};
use gust::executor::{Executor, RunOptions, RunReport};
use gust::ssm::AwsArgs;
use gust::ssm_local::{NodeConfig, ServiceConfig, SsmLocal};
use serde_json::{Value, json};

pub(crate) struct Local {
    pub(crate) service: SsmLocal,
    connections: Arc<Connections>,
    _root: tempfile::TempDir,
}

impl Local {
    /// A service with `nodes`, and connections that point every AWS connection at it.
    pub(crate) async fn start(nodes: Vec<NodeConfig>) -> Local {
        let root = tempfile::tempdir().unwrap();
        let config = ServiceConfig::default()
            .with_nodes(nodes)
            .with_root(root.path());
        let service = SsmLocal::start(config).await.unwrap();
        let connections = Connections::default()
            .with_env_lookup(|_| None)
            .override_endpoint(service.url());
        Local {
            service,
            connections: Arc::new(connections),
            _root: root,
        }
    }

    /// A service with one node.
    pub(crate) async fn one_node() -> Local {
        Self::start(vec![NodeConfig::numbered(1)]).await
    }

    pub(crate) fn aws(&self) -> AwsArgs {
        AwsArgs::default().connections(self.connections.clone())
    }

    pub(crate) fn node(&self, n: usize) -> String {
        self.service.nodes()[n].id.clone()
    }

    pub(crate) fn calls(&self, operation: &str) -> u64 {
        self.service.counters().get(operation)
    }
}

/// `run_command_kwargs` running `script` on `instance_ids`.
pub(crate) fn on_instances(instance_ids: &[String], script: &str) -> Value {
    json!({"InstanceIds": instance_ids, "Parameters": {"commands": [script]}})
}

/// Runs a DAG to completion on the system clock, failing the test if it takes more than
/// `limit` (a guard against a hang, not a timing check).
#[allow(clippy::disallowed_methods)]
pub(crate) async fn run_dag(dag: Dag, limit: Duration) -> RunReport {
    let executor = Executor::in_memory();
    tokio::time::timeout(limit, executor.run(Arc::new(dag), RunOptions::new()))
        .await
        .expect("the run did not finish in time")
        .expect("the run completes")
}

pub(crate) fn assert_states(report: &RunReport, expected: &[(&str, TaskState)]) {
    for (task, state) in expected {
        let got = report.task(task).unwrap();
        assert_eq!(got.state, *state, "task {task}: {:?}", got.message);
    }
}

pub(crate) fn succeeded(report: &RunReport) {
    assert_eq!(
        report.state,
        RunState::Success,
        "{:#?}",
        report
            .tasks
            .iter()
            .map(|t| (&t.task_id, t.state, &t.message))
            .collect::<Vec<_>>()
    );
}

/// Polls `check` every 50 ms until it holds, failing after `limit` with `what`.
#[allow(clippy::disallowed_methods)]
pub(crate) async fn eventually<F, Fut>(what: &str, limit: Duration, mut check: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let deadline = std::time::Instant::now() + limit;
    while !check().await {
        assert!(
            std::time::Instant::now() < deadline,
            "timed out waiting: {what}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}
