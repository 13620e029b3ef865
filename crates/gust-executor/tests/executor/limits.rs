use gust_core::{Dag, ManualClock, TaskBuilder, TaskState};
use gust_executor::{ExecutorError, RunOptions};

use crate::support::*;

#[tokio::test]
async fn max_active_tasks_limits_how_many_run_at_once() {
    let clock = ManualClock::at(t0());
    let mut dag = Dag::builder("limited");
    dag.max_active_tasks(2);
    for n in 0..5 {
        dag.task(format!("t{n}"), Sleeps::new(secs(10)));
    }
    let run = run_on(&clock, &executor(&clock), dag.build().unwrap()).await;
    let starts: Vec<_> = (0..5)
        .map(|n| run.times(&format!("t{n}"), TaskState::Running)[0])
        .collect();
    assert_eq!(starts, vec![at(0), at(0), at(10), at(10), at(20)]);
}

#[tokio::test]
async fn a_pool_limits_its_tasks_and_leaves_other_pools_alone() {
    let clock = ManualClock::at(t0());
    let executor = executor(&clock).with_pool("ssm", 1);
    let mut dag = Dag::builder("pools");
    for n in 0..3 {
        dag.add(TaskBuilder::operator(format!("ssm{n}"), Sleeps::new(secs(10))).pool("ssm"));
    }
    dag.task("free", Sleeps::new(secs(10)));
    let run = run_on(&clock, &executor, dag.build().unwrap()).await;
    let starts: Vec<_> = (0..3)
        .map(|n| run.times(&format!("ssm{n}"), TaskState::Running)[0])
        .collect();
    assert_eq!(starts, vec![at(0), at(10), at(20)]);
    assert_eq!(run.times("free", TaskState::Running), vec![at(0)]);
}

#[tokio::test]
async fn pool_slots_count_against_the_pool() {
    let clock = ManualClock::at(t0());
    let executor = executor(&clock).with_pool("wide", 3);
    let mut dag = Dag::builder("slots");
    dag.add(
        TaskBuilder::operator("big", Sleeps::new(secs(10)))
            .pool("wide")
            .pool_slots(2),
    );
    dag.add(
        TaskBuilder::operator("big2", Sleeps::new(secs(10)))
            .pool("wide")
            .pool_slots(2),
    );
    dag.add(TaskBuilder::operator("small", Sleeps::new(secs(10))).pool("wide"));
    let run = run_on(&clock, &executor, dag.build().unwrap()).await;
    assert_eq!(run.times("big", TaskState::Running), vec![at(0)]);
    assert_eq!(run.times("small", TaskState::Running), vec![at(0)]);
    assert_eq!(run.times("big2", TaskState::Running), vec![at(10)]);
}

#[tokio::test]
async fn an_unknown_pool_or_one_too_small_is_an_error_before_the_run_starts() {
    let clock = ManualClock::at(t0());
    let mut dag = Dag::builder("nopool");
    dag.add(TaskBuilder::operator("t", Sleeps::new(secs(1))).pool("missing"));
    let err = executor(&clock)
        .run(std::sync::Arc::new(dag.build().unwrap()), RunOptions::new())
        .await
        .unwrap_err();
    assert!(matches!(err, ExecutorError::Pool { .. }));
    assert_eq!(
        err.to_string(),
        "task 't': pool 'missing' does not exist; known pools: default_pool"
    );

    let mut dag = Dag::builder("toosmall");
    dag.add(TaskBuilder::operator("t", Sleeps::new(secs(1))).pool_slots(500));
    let err = executor(&clock)
        .run(std::sync::Arc::new(dag.build().unwrap()), RunOptions::new())
        .await
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        "task 't': needs 500 slots of pool 'default_pool', which has 128"
    );
}

#[tokio::test]
async fn dagrun_timeout_stops_the_run() {
    let clock = ManualClock::at(t0());
    let op = Sleeps::new(secs(100));
    let killed = op.killed.clone();
    let mut dag = Dag::builder("run_timeout");
    dag.dagrun_timeout(secs(30));
    dag.task("slow", op);
    dag.add(TaskBuilder::operator("after", Sleeps::new(secs(1))).needs(["slow"]));
    let run = run_on(&clock, &executor(&clock), dag.build().unwrap()).await;
    assert_eq!(run.state("slow"), TaskState::Failed);
    assert_eq!(run.state("after"), TaskState::Skipped);
    assert_eq!(run.times("slow", TaskState::Failed), vec![at(30)]);
    assert!(killed.load(std::sync::atomic::Ordering::SeqCst));
    assert_eq!(
        run.message("after"),
        "the run passed its dagrun_timeout of 30s"
    );
}
