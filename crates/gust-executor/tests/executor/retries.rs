use std::sync::atomic::Ordering;

use gust_core::{Dag, ManualClock, TaskBuilder, TaskError, TaskState};
use gust_executor::{Jitter, RunKey};
use serde_json::json;

use crate::support::*;

fn flaky(failures: usize) -> Scripted {
    let mut script: Vec<_> = (0..failures)
        .map(|n| Err(TaskError::failed(format!("failure {}", n + 1))))
        .collect();
    script.push(Ok(json!("finally")));
    Scripted::new(script)
}

#[tokio::test]
async fn retries_wait_retry_delay_between_tries() {
    let clock = ManualClock::at(t0());
    let mut dag = Dag::builder("retry");
    dag.add(
        TaskBuilder::operator("flaky", flaky(2))
            .retries(2)
            .retry_delay(secs(30)),
    );
    let run = run_on(&clock, &executor(&clock), dag.build().unwrap()).await;

    assert_eq!(run.state("flaky"), TaskState::Success);
    assert_eq!(run.report.task("flaky").unwrap().tries, 3);
    assert_eq!(
        run.times("flaky", TaskState::Running),
        vec![at(0), at(30), at(60)]
    );
    assert_eq!(
        run.times("flaky", TaskState::UpForRetry),
        vec![at(0), at(30)]
    );
    let tries: Vec<u32> = run
        .history("flaky")
        .iter()
        .filter(|(_, _, state)| *state == TaskState::Running)
        .map(|(_, try_number, _)| *try_number)
        .collect();
    assert_eq!(tries, vec![1, 2, 3]);
}

#[tokio::test]
async fn exponential_backoff_doubles_the_delay_up_to_max_retry_delay() {
    let clock = ManualClock::at(t0());
    let mut dag = Dag::builder("backoff");
    dag.add(
        TaskBuilder::operator("flaky", flaky(4))
            .retries(4)
            .retry_delay(secs(10))
            .retry_exponential_backoff(true)
            .max_retry_delay(secs(25)),
    );
    let run = run_on(&clock, &executor(&clock), dag.build().unwrap()).await;

    // Waits of 10, 20, then 40 and 80 capped at 25.
    assert_eq!(
        run.times("flaky", TaskState::Running),
        vec![at(0), at(10), at(30), at(55), at(80)]
    );
    assert_eq!(run.state("flaky"), TaskState::Success);
}

#[tokio::test]
async fn jittered_backoff_stays_between_the_base_and_the_max() {
    let clock = ManualClock::at(t0());
    let executor = executor(&clock).with_jitter(Jitter::Hashed);
    let mut dag = Dag::builder("jitter");
    dag.add(
        TaskBuilder::operator("flaky", flaky(5))
            .retries(5)
            .retry_delay(secs(4))
            .retry_exponential_backoff(true)
            .max_retry_delay(secs(40)),
    );
    let run = run_on(&clock, &executor, dag.build().unwrap()).await;
    let starts = run.times("flaky", TaskState::Running);
    let waits: Vec<i64> = starts
        .windows(2)
        .map(|w| (w[1] - w[0]).num_seconds())
        .collect();
    let bases = [4, 8, 16, 32, 40];
    assert_eq!(waits.len(), bases.len());
    for (wait, base) in waits.iter().zip(bases) {
        assert!(*wait >= base.min(40) && *wait <= 40, "waits {waits:?}");
        assert!(*wait < 2 * base, "waits {waits:?}");
    }
}

#[tokio::test]
async fn a_task_out_of_retries_fails_with_its_last_error_and_every_try_is_recorded() {
    let clock = ManualClock::at(t0());
    let executor = executor(&clock);
    let op = flaky(5);
    let calls = op.calls.clone();
    let mut dag = Dag::builder("exhausted");
    dag.add(
        TaskBuilder::operator("flaky", op)
            .retries(2)
            .retry_delay(secs(1)),
    );
    let run = run_on(&clock, &executor, dag.build().unwrap()).await;

    assert_eq!(run.state("flaky"), TaskState::Failed);
    assert_eq!(calls.load(Ordering::SeqCst), 3);
    assert_eq!(run.message("flaky"), "failure 3");

    let key = RunKey {
        dag_id: "exhausted".into(),
        run_id: run.report.run_id.as_str().into(),
    };
    let stored = executor.store().load_run(&key).await.unwrap().unwrap();
    let tries = &stored.tasks[0].tries;
    assert_eq!(tries.len(), 3);
    assert_eq!(tries[0].state, TaskState::UpForRetry);
    assert_eq!(tries[0].error.as_deref(), Some("failure 1"));
    assert_eq!(tries[2].state, TaskState::Failed);
    assert_eq!(tries[1].started_at, at(1));
}

#[tokio::test]
async fn fatal_errors_are_not_retried() {
    let clock = ManualClock::at(t0());
    let op = Scripted::new(vec![Err(TaskError::fatal("bad input")), Ok(json!(1))]);
    let calls = op.calls.clone();
    let mut dag = Dag::builder("fatal");
    dag.add(TaskBuilder::operator("once", op).retries(3));
    let run = run_on(&clock, &executor(&clock), dag.build().unwrap()).await;
    assert_eq!(run.state("once"), TaskState::Failed);
    assert_eq!(calls.load(Ordering::SeqCst), 1);
}

#[tokio::test]
async fn execution_timeout_stops_the_attempt_kills_it_and_allows_a_retry() {
    let clock = ManualClock::at(t0());
    let op = Sleeps::new(secs(100));
    let killed = op.killed.clone();
    let mut dag = Dag::builder("timeout");
    dag.add(
        TaskBuilder::operator("slow", op)
            .execution_timeout(secs(10))
            .retries(1)
            .retry_delay(secs(5)),
    );
    let run = run_on(&clock, &executor(&clock), dag.build().unwrap()).await;

    assert!(killed.load(Ordering::SeqCst), "on_kill ran");
    assert_eq!(run.state("slow"), TaskState::Failed);
    assert_eq!(run.times("slow", TaskState::Running), vec![at(0), at(15)]);
    assert_eq!(run.times("slow", TaskState::Failed), vec![at(25)]);
    assert_eq!(
        run.message("slow"),
        "the attempt ran longer than its execution_timeout of 10s"
    );
}

#[tokio::test]
async fn an_attempt_within_its_execution_timeout_succeeds() {
    let clock = ManualClock::at(t0());
    let mut dag = Dag::builder("in_time");
    dag.add(TaskBuilder::operator("quick", Sleeps::new(secs(9))).execution_timeout(secs(10)));
    let run = run_on(&clock, &executor(&clock), dag.build().unwrap()).await;
    assert_eq!(run.state("quick"), TaskState::Success);
}
