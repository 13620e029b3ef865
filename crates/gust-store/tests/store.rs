//! The SQLite store against the executor: what it records equals what the in-memory store
//! records, it survives reopening, many runs write to one file at once, and a file that is
//! not a gust database is refused and left untouched.

use std::sync::Arc;

use chrono::{DateTime, Utc};
use gust_core::{Dag, ManualClock, RunState, TaskError, TaskState};
use gust_executor::{
    Executor, Jitter, MemoryStore, RunKey, RunOptions, RunRecord, Store, StoreError,
};
use gust_standard::{EmptyOperator, FnOperator};
use gust_store::{OpenError, SqliteStore};
use serde_json::json;

fn t0() -> DateTime<Utc> {
    "2024-01-01T00:00:00Z".parse().unwrap()
}

/// first -> (echo, fails) -> last, with an XCom on the way and a failing branch. The
/// tasks finish without waiting, so the order of events is the same in every run.
fn sample_dag() -> Dag {
    let mut dag = Dag::builder("sample");
    let first = dag.task("first", EmptyOperator);
    let echo = dag.task("echo", FnOperator::new(|_| async { Ok(json!("hello")) }));
    let fails = dag.task(
        "fails",
        FnOperator::new(|_| async { Err(TaskError::failed("exit code 3")) }),
    );
    let last = dag.task("last", EmptyOperator);
    dag.set_downstream(&first, &echo);
    dag.set_downstream(&first, &fails);
    dag.set_downstream(&echo, &last);
    dag.set_downstream(&fails, &last);
    dag.build().unwrap()
}

async fn run_on(store: Arc<dyn Store>, dag: Dag, run_id: &str) -> RunKey {
    let executor = Executor::new(store)
        .with_clock(Arc::new(ManualClock::at(t0())))
        .with_jitter(Jitter::Off);
    let report = executor
        .run(
            Arc::new(dag),
            RunOptions::new()
                .run_id(run_id)
                .conf(json!({"who": "test"})),
        )
        .await
        .unwrap();
    RunKey {
        dag_id: report.dag_id.into(),
        run_id: report.run_id.into(),
    }
}

#[tokio::test]
async fn a_run_is_recorded_exactly_as_the_memory_store_records_it_and_survives_reopening() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("home/gust.db");
    let sqlite = SqliteStore::open(&path).await.unwrap();
    let memory = Arc::new(MemoryStore::new());

    let key = run_on(Arc::new(sqlite.clone()), sample_dag(), "r1").await;
    run_on(memory.clone(), sample_dag(), "r1").await;

    let expected = memory.load_run(&key).await.unwrap().unwrap();
    let got = sqlite.load_run(&key).await.unwrap().unwrap();
    assert_eq!(got, expected);
    assert_eq!(got.run.state, RunState::Failed);
    let fails = got.tasks.iter().find(|t| t.task_id == "fails").unwrap();
    assert_eq!(fails.state, TaskState::Failed);
    assert_eq!(fails.tries.len(), 1);
    assert!(
        fails.tries[0]
            .error
            .as_deref()
            .unwrap()
            .contains("exit code 3")
    );
    assert!(
        got.xcom
            .iter()
            .any(|(t, k, v)| t == "echo" && k == "return_value" && v == "hello")
    );

    drop(sqlite);
    let reopened = SqliteStore::open(&path).await.unwrap();
    assert_eq!(reopened.load_run(&key).await.unwrap().unwrap(), expected);
    assert_eq!(
        reopened.list_runs(None).await.unwrap(),
        memory.list_runs(None).await.unwrap()
    );
}

#[tokio::test]
async fn unknown_runs_and_duplicate_runs_are_errors() {
    let dir = tempfile::tempdir().unwrap();
    let store = SqliteStore::open(&dir.path().join("gust.db"))
        .await
        .unwrap();
    let key = RunKey {
        dag_id: "d".into(),
        run_id: "r".into(),
    };
    assert!(store.load_run(&key).await.unwrap().is_none());
    let err = store.apply(&key, &[]).await.unwrap_err();
    assert!(matches!(err, StoreError::NoSuchRun(_)), "{err}");
    let record = RunRecord {
        key: key.clone(),
        logical_date: t0(),
        conf: json!({}),
        state: RunState::Queued,
        started_at: None,
        ended_at: None,
    };
    store.create_run(&record).await.unwrap();
    let err = store.create_run(&record).await.unwrap_err();
    assert!(matches!(err, StoreError::RunExists(_)), "{err}");
}

/// 50 tasks in 5 layers of 10, each needing two of the layer before. Every task saves
/// task state and pushes an XCom while it runs, so that its writes and the run loop's
/// meet on the same run.
fn layered(dag_id: &str) -> Dag {
    let mut dag = Dag::builder(dag_id);
    let mut previous = Vec::new();
    for layer in 0..5 {
        let mut current = Vec::new();
        for i in 0..10 {
            let writes = FnOperator::new(|ctx: gust_core::TaskContext| async move {
                ctx.set_task_state("seen", json!(ctx.task_id())).await?;
                tokio::task::yield_now().await;
                ctx.xcom_push("extra", json!(1)).await?;
                Ok(json!(ctx.task_id()))
            });
            let task = dag.task(format!("t{layer}_{i}"), writes);
            if layer > 0 {
                dag.set_downstream(&previous[i], &task);
                dag.set_downstream(&previous[(i + 1) % 10], &task);
            }
            current.push(task);
        }
        previous = current;
    }
    dag.build().unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn twenty_runs_of_fifty_tasks_write_to_one_file_at_once() {
    let dir = tempfile::tempdir().unwrap();
    let store = Arc::new(
        SqliteStore::open(&dir.path().join("gust.db"))
            .await
            .unwrap(),
    );
    let executor = Executor::new(store.clone()).with_pool("default_pool", 1000);
    let runs: Vec<_> = (0..20)
        .map(|n| {
            let dag = Arc::new(layered(&format!("dag_{n}")));
            executor.start(dag, RunOptions::new().run_id("concurrent"))
        })
        .collect();
    for handle in runs {
        let report = handle.wait().await.expect("no store error");
        assert_eq!(report.state, RunState::Success);
    }

    let recorded = store.list_runs(None).await.unwrap();
    assert_eq!(recorded.len(), 20);
    for run in recorded {
        assert_eq!(run.state, RunState::Success);
        let snapshot = store.load_run(&run.key).await.unwrap().unwrap();
        assert_eq!(snapshot.tasks.len(), 50, "{}", run.key);
        assert_eq!(snapshot.task_data.len(), 50, "{}", run.key);
        assert_eq!(
            snapshot.xcom.len(),
            100,
            "{}: return_value and extra",
            run.key
        );
        for task in &snapshot.tasks {
            assert_eq!(
                task.state,
                TaskState::Success,
                "{} {}",
                run.key,
                task.task_id
            );
            assert_eq!(task.tries.len(), 1, "{} {}", run.key, task.task_id);
            assert_eq!(task.tries[0].state, TaskState::Success);
            assert!(task.tries[0].ended_at.is_some());
        }
    }
}

#[tokio::test]
async fn a_file_that_is_not_a_gust_database_is_refused_and_left_as_it_was() {
    let dir = tempfile::tempdir().unwrap();

    let text = dir.path().join("notes.db");
    std::fs::write(&text, "these are my notes, not a database\n").unwrap();
    let err = SqliteStore::open(&text).await.unwrap_err();
    assert!(matches!(err, OpenError::Corrupt { .. }), "{err}");
    assert!(err.to_string().contains("notes.db"), "{err}");
    assert_eq!(
        std::fs::read_to_string(&text).unwrap(),
        "these are my notes, not a database\n"
    );

    // A real SQLite database of another program.
    let foreign = dir.path().join("other.db");
    {
        use sqlx::Connection;
        let options = sqlx::sqlite::SqliteConnectOptions::new()
            .filename(&foreign)
            .create_if_missing(true)
            .journal_mode(sqlx::sqlite::SqliteJournalMode::Delete);
        let mut connection = sqlx::SqliteConnection::connect_with(&options)
            .await
            .unwrap();
        sqlx::query("CREATE TABLE customers (id INTEGER PRIMARY KEY, name TEXT)")
            .execute(&mut connection)
            .await
            .unwrap();
        connection.close().await.unwrap();
    }
    let before = std::fs::read(&foreign).unwrap();
    let err = SqliteStore::open(&foreign).await.unwrap_err();
    assert!(matches!(err, OpenError::Foreign { .. }), "{err}");
    let shown = err.to_string();
    assert!(
        shown.contains("other.db") && shown.contains("customers"),
        "{shown}"
    );
    assert_eq!(std::fs::read(&foreign).unwrap(), before);

    // A SQLite header followed by garbage.
    let damaged = dir.path().join("damaged.db");
    let mut bytes = b"SQLite format 3\0".to_vec();
    bytes.extend(std::iter::repeat_n(0xA5u8, 4096));
    std::fs::write(&damaged, &bytes).unwrap();
    let err = SqliteStore::open(&damaged).await.unwrap_err();
    assert!(matches!(err, OpenError::Corrupt { .. }), "{err}");
    assert!(err.to_string().contains("damaged.db"), "{err}");
    assert_eq!(std::fs::read(&damaged).unwrap(), bytes);
}

#[tokio::test]
async fn a_write_whose_caller_stops_waiting_is_still_committed_whole() {
    let dir = tempfile::tempdir().unwrap();
    let (store, key) = store_with_open_run(dir.path()).await;
    let xcom = |n: i64| gust_executor::Change::XCom {
        task_id: "t".into(),
        key: format!("k{n}"),
        value: json!(n),
    };
    // The caller polls the write once and drops it, as an attempt cancelled mid-write does.
    let batch: Vec<_> = (0..200).map(xcom).collect();
    let mut write = Box::pin(store.apply(&key, &batch));
    let first_poll = std::future::poll_fn(|cx| {
        std::task::Poll::Ready(std::future::Future::poll(write.as_mut(), cx))
    })
    .await;
    assert!(first_poll.is_pending(), "the write had not finished");
    drop(write);

    // The next write goes through, and the first batch is there in full.
    store.apply(&key, &[xcom(200)]).await.unwrap();
    let snapshot = store.load_run(&key).await.unwrap().unwrap();
    assert_eq!(snapshot.xcom.len(), 201);
}

#[tokio::test]
async fn a_run_is_claimed_by_one_process_at_a_time() {
    let dir = tempfile::tempdir().unwrap();
    let store = SqliteStore::open(&dir.path().join("gust.db"))
        .await
        .unwrap();
    let key = RunKey {
        dag_id: "d".into(),
        run_id: "manual__2024-01-01T00:00:00+00:00".into(),
    };
    let claim = store.claim(&key).unwrap();
    let err = store.claim(&key).unwrap_err().to_string();
    assert!(
        err.contains(&format!("pid {}", std::process::id())),
        "{err}"
    );
    let other = RunKey {
        dag_id: "d".into(),
        run_id: "manual__2024-01-01T00:00:00_00:00".into(),
    };
    let _other = store.claim(&other).expect("ids that differ share no lock");
    drop(claim);
    store
        .claim(&key)
        .expect("a released run can be claimed again");
}

#[tokio::test]
async fn the_xcom_of_tasks_to_run_again_can_be_cleared() {
    let dir = tempfile::tempdir().unwrap();
    let (store, key) = store_with_open_run(dir.path()).await;
    let push = |task: &str, value: &str| gust_executor::Change::XCom {
        task_id: task.into(),
        key: "return_value".into(),
        value: json!(value),
    };
    // The run is open, so the store keeps it in memory as well as in the file.
    store
        .apply(&key, &[push("a", "old"), push("b", "kept")])
        .await
        .unwrap();
    store.clear_xcom(&key, &["a"]).await.unwrap();
    store.apply(&key, &[push("c", "new")]).await.unwrap();

    let xcom: Vec<(String, String)> = store
        .load_run(&key)
        .await
        .unwrap()
        .unwrap()
        .xcom
        .into_iter()
        .map(|(task, _, value)| (task, value.as_str().unwrap().to_owned()))
        .collect();
    assert_eq!(
        xcom,
        [
            ("b".to_owned(), "kept".to_owned()),
            ("c".to_owned(), "new".to_owned())
        ],
        "a's value is gone and stays gone"
    );
}

/// A store in `dir` holding one run, `d`/`r`, that has started and not ended.
async fn store_with_open_run(dir: &std::path::Path) -> (SqliteStore, RunKey) {
    let store = SqliteStore::open(&dir.join("gust.db")).await.unwrap();
    let key = RunKey {
        dag_id: "d".into(),
        run_id: "r".into(),
    };
    let record = RunRecord {
        key: key.clone(),
        logical_date: t0(),
        conf: json!({}),
        state: RunState::Running,
        started_at: Some(t0()),
        ended_at: None,
    };
    store.create_run(&record).await.unwrap();
    (store, key)
}
