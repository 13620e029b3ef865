//! Recording runs. The runs this process is writing are kept in memory as well
//! ([`RecordedRun`]), so that a batch of changes is applied there first, exactly as the
//! in-memory store applies it, and the rows it altered are then written in one
//! transaction of a few multi-row upserts: a crash leaves all of a batch or none.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use gust_executor::store::{RecordedRun, Touched};
use gust_executor::{Change, RunKey, RunRecord, RunSnapshot, Store, StoreError};
use sqlx::{QueryBuilder, Sqlite, SqlitePool};

use crate::codec::{backend, json, time};
use crate::open::SqliteStore;
use crate::read;

/// Rows per multi-row statement, well within SQLite's limit of bound values.
const ROWS_PER_STATEMENT: usize = 500;

/// The runs being written, each behind a lock of its own: the run loop and the tasks of
/// one run (pushing XComs, saving task state) write to it concurrently, and each batch
/// must see the one before.
#[derive(Default)]
pub(crate) struct OpenRuns {
    runs: Mutex<HashMap<RunKey, Arc<tokio::sync::Mutex<Option<RecordedRun>>>>>,
}

impl OpenRuns {
    pub(crate) fn slot(&self, key: &RunKey) -> Arc<tokio::sync::Mutex<Option<RecordedRun>>> {
        let mut runs = self.runs.lock().unwrap_or_else(|p| p.into_inner());
        runs.entry(key.clone()).or_default().clone()
    }
}

#[async_trait]
impl Store for SqliteStore {
    async fn create_run(&self, run: &RunRecord) -> Result<(), StoreError> {
        let slot = self.open_runs.slot(&run.key);
        let mut cached = slot.lock().await;
        let inserted = sqlx::query(
            "INSERT INTO gust_dag_run \
             (dag_id, run_id, logical_date, conf, state, started_at, ended_at) \
             VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING",
        )
        .bind(&*run.key.dag_id)
        .bind(&*run.key.run_id)
        .bind(time(run.logical_date))
        .bind(json(&run.conf))
        .bind(run.state.as_str())
        .bind(run.started_at.map(time))
        .bind(run.ended_at.map(time))
        .execute(&self.writer)
        .await
        .map_err(backend)?;
        if inserted.rows_affected() == 0 {
            return Err(StoreError::RunExists(run.key.clone()));
        }
        *cached = Some(RecordedRun::new(run.clone()));
        Ok(())
    }

    async fn apply(&self, key: &RunKey, changes: &[Change]) -> Result<(), StoreError> {
        // The batch is written by a task of its own, so that a caller that stops waiting
        // (an attempt cancelled by its execution_timeout while it saves its state) cannot
        // stop the write half-way: once begun, a batch is committed or rolled back.
        let store = self.clone();
        let key = key.clone();
        let changes = changes.to_vec();
        tokio::spawn(async move { store.apply_now(&key, &changes).await })
            .await
            .map_err(|err| StoreError::Backend(format!("the store's writer stopped: {err}")))?
    }

    async fn load_run(&self, run: &RunKey) -> Result<Option<RunSnapshot>, StoreError> {
        read::load_run(&self.reader, run).await
    }

    async fn list_runs(&self, dag_id: Option<&str>) -> Result<Vec<RunRecord>, StoreError> {
        read::list_runs(&self.reader, dag_id).await
    }
}

impl SqliteStore {
    async fn apply_now(&self, key: &RunKey, changes: &[Change]) -> Result<(), StoreError> {
        let slot = self.open_runs.slot(key);
        let mut cached = slot.lock().await;
        let mut run = match cached.take() {
            Some(run) => run,
            None => match read::load_run(&self.reader, key).await? {
                Some(snapshot) => RecordedRun::from_snapshot(snapshot),
                None => return Err(StoreError::NoSuchRun(key.clone())),
            },
        };
        let rows = Rows::of(&mut run, changes);
        // On failure the run is not kept: the next batch reads it from the file again.
        write(&self.writer, key, &run, &rows).await?;
        // A finished run is not kept either: it is seldom written again.
        if !run.run().state.is_finished() {
            *cached = Some(run);
        }
        Ok(())
    }
}

/// The rows a batch altered.
#[derive(Default)]
struct Rows {
    run: bool,
    tasks: Vec<usize>,
    /// (task instance, try number).
    tries: Vec<(usize, u32)>,
    xcom: Vec<usize>,
    task_data: Vec<usize>,
}

impl Rows {
    /// Applies `changes` to `run` and notes what they altered.
    fn of(run: &mut RecordedRun, changes: &[Change]) -> Rows {
        let mut rows = Rows::default();
        for change in changes {
            match (run.apply(change), change) {
                (Touched::Run, _) => rows.run = true,
                (Touched::Task(at), Change::Task(change)) => {
                    rows.tasks.push(at);
                    rows.tries.push((at, change.try_number));
                }
                (Touched::Task(at), _) => rows.tasks.push(at),
                (Touched::XCom(at), _) => rows.xcom.push(at),
                (Touched::TaskData(at), _) => rows.task_data.push(at),
            }
        }
        for list in [&mut rows.tasks, &mut rows.xcom, &mut rows.task_data] {
            list.sort_unstable();
            list.dedup();
        }
        rows.tries.sort_unstable();
        rows.tries.dedup();
        rows
    }
}

/// Writes a batch's rows as one transaction in one call: the statements go to SQLite
/// together, which matters when every turn of a run is a batch of its own.
async fn write(
    pool: &SqlitePool,
    key: &RunKey,
    run: &RecordedRun,
    rows: &Rows,
) -> Result<(), StoreError> {
    let mut sql = QueryBuilder::<Sqlite>::new("BEGIN IMMEDIATE; ");
    if rows.run {
        push_run(&mut sql, run.run());
    }
    push_tasks(&mut sql, key, run, &rows.tasks);
    push_tries(&mut sql, key, run, &rows.tries);
    push_keyed(&mut sql, key, &rows.xcom, Keyed::XCom, |at| run.xcom(at));
    push_keyed(&mut sql, key, &rows.task_data, Keyed::TaskState, |at| {
        run.task_data(at)
    });
    sql.push("COMMIT;");

    let mut connection = pool.acquire().await.map_err(backend)?;
    if let Err(err) = sql.build().execute(&mut *connection).await {
        // A statement failed inside the transaction: undo what came before it.
        if sqlx::query("ROLLBACK")
            .execute(&mut *connection)
            .await
            .is_err()
        {
            connection.detach();
        }
        return Err(backend(err));
    }
    Ok(())
}

fn push_run(sql: &mut QueryBuilder<Sqlite>, run: &RunRecord) {
    sql.push("UPDATE gust_dag_run SET state = ")
        .push_bind(run.state.as_str())
        .push(", started_at = ")
        .push_bind(run.started_at.map(time))
        .push(", ended_at = ")
        .push_bind(run.ended_at.map(time))
        .push(" WHERE dag_id = ")
        .push_bind(&*run.key.dag_id)
        .push(" AND run_id = ")
        .push_bind(&*run.key.run_id)
        .push("; ");
}

fn push_tasks(sql: &mut QueryBuilder<Sqlite>, key: &RunKey, run: &RecordedRun, tasks: &[usize]) {
    for chunk in tasks.chunks(ROWS_PER_STATEMENT) {
        sql.push(
            "INSERT INTO gust_task_instance \
             (dag_id, run_id, task_id, position, state, try_number, message, wake_at, deferral) ",
        );
        sql.push_values(chunk, |mut row, &at| {
            let task = run.task(at);
            let deferral = task
                .deferral
                .as_ref()
                .map(|d| serde_json::to_string(d).unwrap_or_default());
            row.push_bind(&*key.dag_id)
                .push_bind(&*key.run_id)
                .push_bind(task.task_id.as_str())
                .push_bind(at as i64)
                .push_bind(task.state.as_str())
                .push_bind(i64::from(task.try_number))
                .push_bind(task.message.as_deref())
                .push_bind(task.wake_at.map(time))
                .push_bind(deferral);
        });
        sql.push(
            " ON CONFLICT (dag_id, run_id, task_id) DO UPDATE SET state = excluded.state, \
             try_number = excluded.try_number, message = excluded.message, \
             wake_at = excluded.wake_at, deferral = excluded.deferral; ",
        );
    }
}

fn push_tries(
    sql: &mut QueryBuilder<Sqlite>,
    key: &RunKey,
    run: &RecordedRun,
    tries: &[(usize, u32)],
) {
    let existing: Vec<_> = tries
        .iter()
        .filter_map(|&(at, number)| {
            let task = run.task(at);
            let found = task.tries.iter().find(|t| t.try_number == number)?;
            Some((task.task_id.as_str(), found))
        })
        .collect();
    for chunk in existing.chunks(ROWS_PER_STATEMENT) {
        sql.push(
            "INSERT INTO gust_task_try \
             (dag_id, run_id, task_id, try_number, state, started_at, ended_at, error) ",
        );
        sql.push_values(chunk, |mut row, (task_id, try_record)| {
            row.push_bind(&*key.dag_id)
                .push_bind(&*key.run_id)
                .push_bind(*task_id)
                .push_bind(i64::from(try_record.try_number))
                .push_bind(try_record.state.as_str())
                .push_bind(time(try_record.started_at))
                .push_bind(try_record.ended_at.map(time))
                .push_bind(try_record.error.as_deref());
        });
        sql.push(
            " ON CONFLICT (dag_id, run_id, task_id, try_number) DO UPDATE SET \
             state = excluded.state, ended_at = excluded.ended_at, error = excluded.error; ",
        );
    }
}

/// The two tables of values by (task, key).
#[derive(Clone, Copy)]
enum Keyed {
    XCom,
    TaskState,
}

fn push_keyed<'a>(
    sql: &mut QueryBuilder<Sqlite>,
    key: &RunKey,
    indexes: &[usize],
    table: Keyed,
    entry: impl Fn(usize) -> &'a (String, String, serde_json::Value),
) {
    let (insert, conflict) = match table {
        Keyed::XCom => (
            "INSERT INTO gust_xcom (dag_id, run_id, task_id, xcom_key, position, value) ",
            " ON CONFLICT (dag_id, run_id, task_id, xcom_key) DO UPDATE SET \
             value = excluded.value; ",
        ),
        Keyed::TaskState => (
            "INSERT INTO gust_task_state (dag_id, run_id, task_id, state_key, position, value) ",
            " ON CONFLICT (dag_id, run_id, task_id, state_key) DO UPDATE SET \
             value = excluded.value; ",
        ),
    };
    for chunk in indexes.chunks(ROWS_PER_STATEMENT) {
        sql.push(insert);
        sql.push_values(chunk, |mut row, &at| {
            let (task_id, value_key, value) = entry(at);
            row.push_bind(&*key.dag_id)
                .push_bind(&*key.run_id)
                .push_bind(task_id.as_str())
                .push_bind(value_key.as_str())
                .push_bind(at as i64)
                .push_bind(json(value));
        });
        sql.push(conflict);
    }
}
