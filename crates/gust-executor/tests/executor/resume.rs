//! Taking up a run that its process left unfinished. The "crash" drops the run's future
//! at a chosen moment, so that nothing more is recorded; the run is then resumed from
//! what the store holds, with the same DAG.

use std::future::Future;
use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};

use async_trait::async_trait;
use gust_core::trigger::{TriggerContext, TriggerError};
use gust_core::{
    Dag, Deferral, ManualClock, Operator, Outcome, RunState, TaskContext, TaskError, TaskState,
    Trigger, TriggerEvent, TriggerRegistry,
};
use gust_executor::{Executor, Jitter, MemoryStore, RunKey, RunOptions, Store};
use serde_json::{Value, json};
use tokio::sync::Notify;

use crate::support::*;

/// Counts its executions; the first one of `blocking` never ends (the process "dies"
/// during it), after telling `reached`.
struct Step {
    runs: Arc<AtomicU32>,
    blocking: bool,
    reached: Arc<Notify>,
}

#[async_trait]
impl Operator for Step {
    async fn execute(&self, ctx: &TaskContext) -> Result<Outcome, TaskError> {
        let run = self.runs.fetch_add(1, Ordering::SeqCst);
        if self.blocking && run == 0 {
            self.reached.notify_one();
            std::future::pending::<()>().await;
        }
        let before = ctx
            .xcom_pull("a", "return_value")
            .and_then(|v| v.as_str().map(str::to_owned))
            .unwrap_or_default();
        Ok(Outcome::Value(json!(format!("{before}{}", ctx.task_id()))))
    }
}

fn steps(blocking_b: bool, reached: &Arc<Notify>, runs: &[Arc<AtomicU32>; 3]) -> Dag {
    let mut dag = Dag::builder("resumed");
    let step = |n: usize, blocking: bool| Step {
        runs: runs[n].clone(),
        blocking,
        reached: reached.clone(),
    };
    let a = dag.task("a", step(0, false));
    let b = dag.task("b", step(1, blocking_b));
    let c = dag.task("c", step(2, false));
    dag.chain(&[&a, &b, &c]);
    dag.build().unwrap()
}

fn executor_on(store: &Arc<MemoryStore>) -> Executor {
    Executor::new(store.clone())
        .with_clock(Arc::new(ManualClock::at(t0())))
        .with_jitter(Jitter::Off)
}

/// Runs `dag` until `moment` comes, then drops the run as a dying process would: nothing
/// more is recorded.
async fn run_until(store: &Arc<MemoryStore>, dag: Arc<Dag>, moment: impl Future<Output = ()>) {
    let executor = executor_on(store);
    tokio::select! {
        _ = executor.run(dag, RunOptions::new().run_id("r")) => {
            panic!("the run should have been interrupted")
        }
        _ = moment => {}
    }
}

/// Comes once the store records a deferred task.
async fn deferred(store: &MemoryStore) {
    loop {
        let snapshot = store.load_run(&key()).await.unwrap();
        if snapshot.is_some_and(|s| s.tasks.iter().any(|t| t.state == TaskState::Deferred)) {
            return;
        }
        tokio::task::yield_now().await;
    }
}

fn key() -> RunKey {
    RunKey {
        dag_id: "resumed".into(),
        run_id: "r".into(),
    }
}

#[tokio::test]
async fn finished_tasks_stay_finished_and_an_interrupted_try_runs_again_as_the_same_try() {
    let store = Arc::new(MemoryStore::new());
    let reached = Arc::new(Notify::new());
    let runs = [(); 3].map(|_| Arc::new(AtomicU32::new(0)));

    let dag = Arc::new(steps(true, &reached, &runs));
    run_until(&store, dag.clone(), reached.notified()).await;
    let left = store.load_run(&key()).await.unwrap().unwrap();
    assert_eq!(left.run.state, RunState::Running);
    let b = left.tasks.iter().find(|t| t.task_id == "b").unwrap();
    assert_eq!((b.state, b.try_number), (TaskState::Running, 1));

    let report = executor_on(&store)
        .resume(dag, &key(), &TriggerRegistry::new(), RunOptions::new())
        .await
        .unwrap();
    assert_eq!(report.state, RunState::Success);
    let counts: Vec<u32> = runs.iter().map(|r| r.load(Ordering::SeqCst)).collect();
    assert_eq!(counts, [1, 2, 1], "a ran once, b once per process, c once");
    assert_eq!(report.xcom("c", "return_value"), Some(&json!("ac")));
    assert_eq!(report.xcom("b", "return_value"), Some(&json!("ab")));

    let done = store.load_run(&key()).await.unwrap().unwrap();
    let b = done.tasks.iter().find(|t| t.task_id == "b").unwrap();
    assert_eq!(
        b.tries.len(),
        1,
        "the interrupted try is not charged: {b:?}"
    );
    assert_eq!(
        (b.tries[0].try_number, b.tries[0].state),
        (1, TaskState::Success)
    );

    let again = executor_on(&store)
        .resume(
            Arc::new(steps(false, &reached, &runs)),
            &key(),
            &TriggerRegistry::new(),
            RunOptions::new(),
        )
        .await
        .unwrap_err();
    assert!(
        again.to_string().contains("already ended success"),
        "{again}"
    );
}

/// A trigger that waits forever as first built, and fires at once when rebuilt from
/// its stored form.
#[derive(Debug)]
struct Wait {
    value: i64,
    forever: bool,
}

#[async_trait]
impl Trigger for Wait {
    fn kind(&self) -> &'static str {
        "test.wait"
    }

    fn args(&self) -> Value {
        json!({"value": self.value})
    }

    async fn run(&self, _ctx: TriggerContext) -> Result<TriggerEvent, TriggerError> {
        if self.forever {
            std::future::pending::<()>().await;
        }
        Ok(TriggerEvent::new(json!({"value": self.value})))
    }
}

struct Defers {
    executed: Arc<AtomicU32>,
    completed: Arc<AtomicU32>,
}

#[async_trait]
impl Operator for Defers {
    async fn execute(&self, _ctx: &TaskContext) -> Result<Outcome, TaskError> {
        self.executed.fetch_add(1, Ordering::SeqCst);
        Ok(Outcome::Defer(Deferral::new(Wait {
            value: 7,
            forever: true,
        })))
    }

    async fn execute_complete(
        &self,
        _ctx: &TaskContext,
        event: TriggerEvent,
    ) -> Result<Outcome, TaskError> {
        self.completed.fetch_add(1, Ordering::SeqCst);
        Ok(Outcome::Value(event.payload["value"].clone()))
    }
}

#[tokio::test]
async fn a_deferred_task_waits_again_on_its_rebuilt_trigger_without_running_again() {
    let store = Arc::new(MemoryStore::new());
    let executed = Arc::new(AtomicU32::new(0));
    let completed = Arc::new(AtomicU32::new(0));
    let mut dag = Dag::builder("resumed");
    dag.task(
        "d",
        Defers {
            executed: executed.clone(),
            completed: completed.clone(),
        },
    );
    let dag = Arc::new(dag.build().unwrap());

    run_until(&store, dag.clone(), deferred(&store)).await;

    let mut triggers = TriggerRegistry::new();
    triggers.register("test.wait", |args| {
        Ok(Box::new(Wait {
            value: args["value"].as_i64().ok_or("no value")?,
            forever: false,
        }))
    });
    let report = executor_on(&store)
        .resume(dag, &key(), &triggers, RunOptions::new())
        .await
        .unwrap();
    assert_eq!(report.state, RunState::Success);
    assert_eq!(report.xcom("d", "return_value"), Some(&json!(7)));
    assert_eq!(executed.load(Ordering::SeqCst), 1);
    assert_eq!(completed.load(Ordering::SeqCst), 1);
    assert_eq!(report.task("d").unwrap().tries, 1);
}

#[tokio::test]
async fn a_trigger_kind_that_is_not_registered_fails_the_task_clearly() {
    let store = Arc::new(MemoryStore::new());
    let mut dag = Dag::builder("resumed");
    dag.task(
        "d",
        Defers {
            executed: Arc::default(),
            completed: Arc::default(),
        },
    );
    let dag = Arc::new(dag.build().unwrap());
    run_until(&store, dag.clone(), deferred(&store)).await;
    let report = executor_on(&store)
        .resume(dag, &key(), &TriggerRegistry::new(), RunOptions::new())
        .await
        .unwrap();
    let d = report.task("d").unwrap();
    assert_eq!(d.state, TaskState::Failed);
    let message = d.message.as_deref().unwrap();
    assert!(
        message.contains("no trigger of kind 'test.wait'"),
        "{message}"
    );
}
