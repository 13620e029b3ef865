use std::sync::Arc;
use std::sync::atomic::Ordering;

use gust_core::{Dag, ManualClock, TaskBuilder, TaskState};
use gust_executor::{EventKind, Executor, RunEvent, RunOptions};
use serde_json::json;
use tokio::sync::mpsc::unbounded_channel;
use tokio::sync::{Notify, watch};

use crate::support::*;

#[tokio::test]
async fn a_deferred_task_resumes_with_its_trigger_event_in_the_same_try() {
    let clock = ManualClock::at(t0());
    let mut dag = Dag::builder("defer");
    dag.task("wait", Defers::new(Fires::After(secs(30))));
    let run = run_on(&clock, &executor(&clock), dag.build().unwrap()).await;

    assert_eq!(run.state("wait"), TaskState::Success);
    assert_eq!(run.times("wait", TaskState::Deferred), vec![at(0)]);
    assert_eq!(run.times("wait", TaskState::Success), vec![at(30)]);
    assert_eq!(
        run.report.xcom("wait", "return_value"),
        Some(&json!({"event": {"fired_at": "2024-01-01T00:00:30+00:00"}, "try": 1}))
    );
    assert_eq!(run.report.task("wait").unwrap().tries, 1);
}

#[tokio::test]
async fn a_deferral_timeout_fails_the_task() {
    let clock = ManualClock::at(t0());
    let mut op = Defers::new(Fires::Never);
    op.timeout = Some(secs(60));
    let mut dag = Dag::builder("defer_timeout");
    dag.task("wait", op);
    let run = run_on(&clock, &executor(&clock), dag.build().unwrap()).await;

    assert_eq!(run.state("wait"), TaskState::Failed);
    assert_eq!(run.times("wait", TaskState::Failed), vec![at(60)]);
    assert_eq!(
        run.message("wait"),
        "the trigger did not fire within its timeout of 1m"
    );
}

#[tokio::test]
async fn execution_timeout_also_bounds_a_deferred_try_and_kills_it() {
    let clock = ManualClock::at(t0());
    let op = Defers::new(Fires::Never);
    let killed = op.killed.clone();
    let mut dag = Dag::builder("defer_exec_timeout");
    dag.add(TaskBuilder::operator("wait", op).execution_timeout(secs(45)));
    let run = run_on(&clock, &executor(&clock), dag.build().unwrap()).await;

    assert_eq!(run.state("wait"), TaskState::Failed);
    assert_eq!(run.times("wait", TaskState::Failed), vec![at(45)]);
    assert!(killed.load(Ordering::SeqCst));
}

#[tokio::test]
async fn a_deferred_task_holds_no_slot() {
    let clock = ManualClock::at(t0());
    let ready = Arc::new(Notify::new());
    let mut dag = Dag::builder("no_slot");
    dag.max_active_tasks(1);
    // The trigger fires only once the other task has run, which needs the only slot.
    dag.task("wait", Defers::new(Fires::When(ready.clone())));
    dag.task("signal", Signals(ready));
    let run = run_on(&clock, &executor(&clock), dag.build().unwrap()).await;
    assert_eq!(run.state("wait"), TaskState::Success);
    assert_eq!(run.state("signal"), TaskState::Success);
}

#[tokio::test]
async fn thousands_of_triggers_wait_at_once() {
    let (release, released) = watch::channel(false);
    let mut dag = Dag::builder("many");
    dag.max_active_tasks(64);
    for n in 0..3000 {
        dag.task(
            format!("wait_{n}"),
            Defers::new(Fires::Once(released.clone())),
        );
    }
    let executor = Executor::in_memory().with_pool("default_pool", 64);
    let (events, mut seen) = unbounded_channel();
    let handle = executor.start(
        Arc::new(dag.build().unwrap()),
        RunOptions::new().events(events),
    );

    // Only 64 tasks run at once, yet all 3,000 come to wait on their triggers together.
    let mut deferred = 0;
    guard(async {
        while deferred < 3000 {
            if let Some(RunEvent {
                kind:
                    EventKind::Task {
                        state: TaskState::Deferred,
                        ..
                    },
                ..
            }) = seen.recv().await
            {
                deferred += 1;
            }
        }
    })
    .await;
    release.send(true).unwrap();
    let report = guard(handle.wait()).await.unwrap();
    assert!(report.tasks.iter().all(|t| t.state == TaskState::Success));
}
