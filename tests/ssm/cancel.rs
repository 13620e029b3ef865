//! Kill means cancel: a stopped task cancels the command it sent.

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use gust::core::{Dag, RunState, TaskBuilder, TaskState};
use gust::executor::{CancellationToken, Executor, RunOptions};
use gust::ssm::{SsmHook, SsmRunCommandOperator};

use crate::support::*;

/// Whether a process runs (a zombie waiting to be reaped does not count).
fn running(pid: i32) -> bool {
    std::fs::read_to_string(format!("/proc/{pid}/stat"))
        .ok()
        .and_then(|stat| {
            let state = stat
                .rsplit(')')
                .next()?
                .split_whitespace()
                .next()?
                .to_owned();
            Some(state != "Z")
        })
        .unwrap_or(false)
}

fn sleeper(local: &Local, pid_file: &Path, deferrable: bool) -> SsmRunCommandOperator {
    let script = format!(
        "echo $$ > {}.tmp; mv {0}.tmp {0}; sleep 60",
        pid_file.display()
    );
    SsmRunCommandOperator::new("AWS-RunShellScript")
        .run_command_kwargs(on_instances(&[local.node(0)], &script))
        .unwrap()
        .waiter_delay(Duration::from_millis(300))
        .deferrable(deferrable)
        .aws(local.aws())
}

async fn pid_of(pid_file: &Path) -> i32 {
    eventually("the script to start", Duration::from_secs(20), || async {
        pid_file.exists()
    })
    .await;
    std::fs::read_to_string(pid_file)
        .unwrap()
        .trim()
        .parse()
        .unwrap()
}

async fn assert_cancelled(local: &Local, command_id: &str, pid: i32) {
    assert!(local.calls("CancelCommand") >= 1, "CancelCommand was sent");
    let params = gust::aws::AwsParams::operator_default();
    let hook = SsmHook::connect(&params, local.aws().given_connections())
        .await
        .unwrap();
    eventually(
        "the invocation to end Cancelled",
        Duration::from_secs(20),
        || {
            let hook = hook.clone();
            async move {
                let invocations = hook.list_invocations(command_id, None).await.unwrap();
                invocations
                    .iter()
                    .all(|i| i.status.to_string() == "Cancelled")
            }
        },
    )
    .await;
    eventually(
        "the script's process to be gone",
        Duration::from_secs(20),
        || async { !running(pid) },
    )
    .await;
}

#[tokio::test]
async fn cancelling_the_run_cancels_the_command_of_a_running_or_deferred_task() {
    for deferrable in [false, true] {
        let local = Local::one_node().await;
        let dir = tempfile::tempdir().unwrap();
        let pid_file = dir.path().join("pid");
        let mut dag = Dag::builder("cancel_me");
        dag.task("run_command", sleeper(&local, &pid_file, deferrable));

        let cancel = CancellationToken::new();
        let handle = Executor::in_memory().start(
            Arc::new(dag.build().unwrap()),
            RunOptions::new().cancel(cancel.clone()),
        );
        let pid = pid_of(&pid_file).await;
        assert!(running(pid));
        cancel.cancel();
        let report = handle.wait().await.unwrap();
        assert_eq!(report.state, RunState::Failed);
        assert_states(&report, &[("run_command", TaskState::Failed)]);

        let command_ids = local.service.counters().get("SendCommand");
        assert_eq!(command_ids, 1);
        let params = gust::aws::AwsParams::operator_default();
        let hook = SsmHook::connect(&params, local.aws().given_connections())
            .await
            .unwrap();
        let listed = hook.client().list_commands().send().await.unwrap();
        let command_id = listed.commands()[0].command_id().unwrap().to_owned();
        assert_cancelled(&local, &command_id, pid).await;
    }
}

#[tokio::test]
async fn an_execution_timeout_cancels_the_command() {
    let local = Local::one_node().await;
    let dir = tempfile::tempdir().unwrap();
    let pid_file = dir.path().join("pid");
    let mut dag = Dag::builder("too_slow");
    dag.add(
        TaskBuilder::operator("run_command", sleeper(&local, &pid_file, false))
            .execution_timeout(Duration::from_secs(3)),
    );
    let report = run_dag(dag.build().unwrap(), Duration::from_secs(60)).await;
    let task = report.task("run_command").unwrap();
    assert_eq!(task.state, TaskState::Failed);
    assert!(
        task.message
            .as_deref()
            .unwrap()
            .contains("execution_timeout"),
        "{:?}",
        task.message
    );
    let pid: i32 = std::fs::read_to_string(&pid_file)
        .unwrap()
        .trim()
        .parse()
        .unwrap();
    let params = gust::aws::AwsParams::operator_default();
    let hook = SsmHook::connect(&params, local.aws().given_connections())
        .await
        .unwrap();
    let listed = hook.client().list_commands().send().await.unwrap();
    let command_id = listed.commands()[0].command_id().unwrap().to_owned();
    assert_cancelled(&local, &command_id, pid).await;
}
