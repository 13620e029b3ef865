//! Every state change reaches the store before the work it announces: a task that starts
//! finds itself recorded as running, in its try, with its upstream's XCom already stored.
//! This is what lets a durable store resume a run after a crash.

use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use gust_core::{Dag, ManualClock, Operator, Outcome, TaskContext, TaskError, TaskState};
use gust_executor::{Executor, Jitter, MemoryStore, RunKey, RunOptions, Store};
use serde_json::json;

use crate::support::*;

/// Reads the store when it runs and keeps what it saw.
struct Inspects {
    store: Arc<MemoryStore>,
    seen: Arc<Mutex<Vec<String>>>,
}

#[async_trait]
impl Operator for Inspects {
    async fn execute(&self, ctx: &TaskContext) -> Result<Outcome, TaskError> {
        let key = RunKey {
            dag_id: ctx.dag_id().into(),
            run_id: ctx.run_id().into(),
        };
        let snapshot = self.store.load_run(&key).await.unwrap().unwrap();
        let me = snapshot
            .tasks
            .iter()
            .find(|t| t.task_id == ctx.task_id())
            .unwrap();
        let mut seen = self.seen.lock().unwrap();
        seen.push(format!("{} {} try {}", me.task_id, me.state, me.try_number));
        for (task, key, value) in &snapshot.xcom {
            seen.push(format!("xcom {task}.{key} = {value}"));
        }
        Ok(Outcome::Value(json!(ctx.task_id())))
    }
}

#[tokio::test]
async fn a_task_finds_its_running_state_and_upstream_xcom_recorded_when_it_starts() {
    let store = Arc::new(MemoryStore::new());
    let seen = Arc::new(Mutex::new(Vec::new()));
    let inspects = || Inspects {
        store: store.clone(),
        seen: seen.clone(),
    };
    let mut dag = Dag::builder("order");
    let first = dag.task("first", inspects());
    let second = dag.task("second", inspects());
    dag.set_downstream(&first, &second);

    let clock = ManualClock::at(t0());
    let executor = Executor::new(store.clone())
        .with_clock(Arc::new(clock))
        .with_jitter(Jitter::Off);
    let report = executor
        .run(Arc::new(dag.build().unwrap()), RunOptions::new())
        .await
        .unwrap();
    assert_eq!(report.state_of("second"), Some(TaskState::Success));
    assert_eq!(
        *seen.lock().unwrap(),
        [
            "first running try 1",
            "second running try 1",
            "xcom first.return_value = \"first\"",
        ]
    );
}
