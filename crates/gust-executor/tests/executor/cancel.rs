use std::sync::Arc;
use std::sync::atomic::Ordering;

use gust_core::{Dag, ManualClock, RunState, TaskBuilder, TaskState};
use gust_executor::{CancellationToken, RunOptions};
use serde_json::json;

use crate::support::*;

#[tokio::test]
async fn cancelling_a_run_stops_running_and_deferred_tasks_and_records_final_states() {
    let clock = ManualClock::at(t0());
    let executor = executor(&clock);
    let sleeper = Sleeps::new(secs(3600));
    let sleeper_killed = sleeper.killed.clone();
    let deferred = Defers::new(Fires::Never);
    let deferred_killed = deferred.killed.clone();
    let mut dag = Dag::builder("cancel");
    dag.task("done", Scripted::ok(json!(1)));
    dag.task("sleeping", sleeper);
    dag.task("deferred", deferred);
    dag.add(TaskBuilder::operator("after", Scripted::ok(json!(1))).needs(["sleeping"]));

    let cancel = CancellationToken::new();
    let (events, mut seen) = tokio::sync::mpsc::unbounded_channel();
    let handle = executor.start(
        Arc::new(dag.build().unwrap()),
        RunOptions::new().cancel(cancel.clone()).events(events),
    );
    // Cancel once the sleeper runs and the deferred task waits.
    guard(async {
        let (mut running, mut waiting) = (false, false);
        while !(running && waiting) {
            let event = seen.recv().await.unwrap();
            if let gust_executor::EventKind::Task { task_id, state, .. } = event.kind {
                running |= &*task_id == "sleeping" && state == TaskState::Running;
                waiting |= &*task_id == "deferred" && state == TaskState::Deferred;
            }
        }
    })
    .await;
    cancel.cancel();
    let report = guard(handle.wait()).await.unwrap();

    assert_eq!(report.state, RunState::Failed);
    assert_eq!(report.state_of("done"), Some(TaskState::Success));
    assert_eq!(report.state_of("sleeping"), Some(TaskState::Failed));
    assert_eq!(report.state_of("deferred"), Some(TaskState::Failed));
    assert_eq!(report.state_of("after"), Some(TaskState::Skipped));
    assert_eq!(
        report.task("sleeping").unwrap().message.as_deref(),
        Some("the run was cancelled")
    );
    assert!(
        sleeper_killed.load(Ordering::SeqCst),
        "the running task was told to stop"
    );
    assert!(
        deferred_killed.load(Ordering::SeqCst),
        "the deferred task was told to stop"
    );
}

#[tokio::test]
async fn a_task_waiting_to_retry_fails_when_the_run_is_cancelled() {
    let clock = ManualClock::at(t0());
    let executor = executor(&clock);
    let mut dag = Dag::builder("cancel_retry");
    dag.add(
        TaskBuilder::operator("flaky", Scripted::failing("boom"))
            .retries(5)
            .retry_delay(secs(60)),
    );
    let cancel = CancellationToken::new();
    let handle = executor.start(
        Arc::new(dag.build().unwrap()),
        RunOptions::new().cancel(cancel.clone()),
    );
    guard(clock.wait_for_sleepers(1)).await;
    cancel.cancel();
    let report = guard(handle.wait()).await.unwrap();
    assert_eq!(report.state_of("flaky"), Some(TaskState::Failed));
    assert_eq!(report.task("flaky").unwrap().tries, 1);
}
