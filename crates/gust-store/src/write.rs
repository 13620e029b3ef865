//! Recording runs: a batch of changes is one transaction, so a crash leaves either all of
//! a turn's changes or none.

use async_trait::async_trait;
use gust_core::{RunState, TaskState};
use gust_executor::store::TaskChange;
use gust_executor::{Change, RunKey, RunRecord, RunSnapshot, Store, StoreError};
use serde_json::Value;
use sqlx::{Sqlite, Transaction};

use crate::codec::{backend, json, time};
use crate::open::SqliteStore;
use crate::read;

type Tx<'a> = Transaction<'a, Sqlite>;

#[async_trait]
impl Store for SqliteStore {
    async fn create_run(&self, run: &RunRecord) -> Result<(), StoreError> {
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
        Ok(())
    }

    async fn apply(&self, run: &RunKey, changes: &[Change]) -> Result<(), StoreError> {
        let mut tx = self.writer.begin().await.map_err(backend)?;
        let known: Option<i64> =
            sqlx::query_scalar("SELECT 1 FROM gust_dag_run WHERE dag_id = ? AND run_id = ?")
                .bind(&*run.dag_id)
                .bind(&*run.run_id)
                .fetch_optional(&mut *tx)
                .await
                .map_err(backend)?;
        if known.is_none() {
            return Err(StoreError::NoSuchRun(run.clone()));
        }
        for change in changes {
            match change {
                Change::Run { state, at } => run_state(&mut tx, run, *state, *at).await?,
                Change::Task(change) => task_change(&mut tx, run, change).await?,
                Change::XCom {
                    task_id,
                    key,
                    value,
                } => keyed(&mut tx, run, Keyed::XCom, task_id, key, value).await?,
                Change::TaskData {
                    task_id,
                    key,
                    value,
                } => keyed(&mut tx, run, Keyed::TaskState, task_id, key, value).await?,
            }
        }
        tx.commit().await.map_err(backend)
    }

    async fn load_run(&self, run: &RunKey) -> Result<Option<RunSnapshot>, StoreError> {
        read::load_run(&self.reader, run).await
    }

    async fn list_runs(&self, dag_id: Option<&str>) -> Result<Vec<RunRecord>, StoreError> {
        read::list_runs(&self.reader, dag_id).await
    }
}

async fn run_state(
    tx: &mut Tx<'_>,
    run: &RunKey,
    state: RunState,
    at: chrono::DateTime<chrono::Utc>,
) -> Result<(), StoreError> {
    let started = (state == RunState::Running).then(|| time(at));
    let ended = state.is_finished().then(|| time(at));
    sqlx::query(
        "UPDATE gust_dag_run SET state = ?, started_at = COALESCE(started_at, ?), \
         ended_at = COALESCE(?, ended_at) WHERE dag_id = ? AND run_id = ?",
    )
    .bind(state.as_str())
    .bind(started)
    .bind(ended)
    .bind(&*run.dag_id)
    .bind(&*run.run_id)
    .execute(&mut **tx)
    .await
    .map_err(backend)?;
    Ok(())
}

/// A task's new state, and the try it belongs to: a try starts when its task runs and
/// follows the task's state until it ends (finished, or up for retry).
async fn task_change(tx: &mut Tx<'_>, run: &RunKey, change: &TaskChange) -> Result<(), StoreError> {
    let deferral = change
        .deferral
        .as_ref()
        .map(|d| serde_json::to_string(d).unwrap_or_default());
    let updated = sqlx::query(
        "UPDATE gust_task_instance SET state = ?, try_number = ?, message = ?, wake_at = ?, \
         deferral = ? WHERE dag_id = ? AND run_id = ? AND task_id = ?",
    )
    .bind(change.state.as_str())
    .bind(i64::from(change.try_number))
    .bind(&change.message)
    .bind(change.wake_at.map(time))
    .bind(&deferral)
    .bind(&*run.dag_id)
    .bind(&*run.run_id)
    .bind(&*change.task_id)
    .execute(&mut **tx)
    .await
    .map_err(backend)?;
    if updated.rows_affected() == 0 {
        sqlx::query(
            "INSERT INTO gust_task_instance \
             (dag_id, run_id, task_id, position, state, try_number, message, wake_at, deferral) \
             SELECT ?, ?, ?, COALESCE(MAX(position) + 1, 0), ?, ?, ?, ?, ? \
             FROM gust_task_instance WHERE dag_id = ? AND run_id = ?",
        )
        .bind(&*run.dag_id)
        .bind(&*run.run_id)
        .bind(&*change.task_id)
        .bind(change.state.as_str())
        .bind(i64::from(change.try_number))
        .bind(&change.message)
        .bind(change.wake_at.map(time))
        .bind(&deferral)
        .bind(&*run.dag_id)
        .bind(&*run.run_id)
        .execute(&mut **tx)
        .await
        .map_err(backend)?;
    }

    if change.state == TaskState::Running {
        sqlx::query(
            "INSERT INTO gust_task_try \
             (dag_id, run_id, task_id, try_number, state, started_at) \
             VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING",
        )
        .bind(&*run.dag_id)
        .bind(&*run.run_id)
        .bind(&*change.task_id)
        .bind(i64::from(change.try_number))
        .bind(change.state.as_str())
        .bind(time(change.at))
        .execute(&mut **tx)
        .await
        .map_err(backend)?;
    }
    let try_ended = change.state.is_finished() || change.state == TaskState::UpForRetry;
    let query = if try_ended {
        sqlx::query(
            "UPDATE gust_task_try SET state = ?, ended_at = ?, error = ? \
             WHERE dag_id = ? AND run_id = ? AND task_id = ? AND try_number = ? \
             AND ended_at IS NULL",
        )
        .bind(change.state.as_str())
        .bind(time(change.at))
        .bind(&change.message)
    } else {
        sqlx::query(
            "UPDATE gust_task_try SET state = ? \
             WHERE dag_id = ? AND run_id = ? AND task_id = ? AND try_number = ? \
             AND ended_at IS NULL",
        )
        .bind(change.state.as_str())
    };
    query
        .bind(&*run.dag_id)
        .bind(&*run.run_id)
        .bind(&*change.task_id)
        .bind(i64::from(change.try_number))
        .execute(&mut **tx)
        .await
        .map_err(backend)?;
    Ok(())
}

/// The two tables of values by (task, key), kept in the order first written.
#[derive(Clone, Copy)]
enum Keyed {
    XCom,
    TaskState,
}

impl Keyed {
    fn update(self) -> &'static str {
        match self {
            Keyed::XCom => {
                "UPDATE gust_xcom SET value = ? \
                 WHERE dag_id = ? AND run_id = ? AND task_id = ? AND xcom_key = ?"
            }
            Keyed::TaskState => {
                "UPDATE gust_task_state SET value = ? \
                 WHERE dag_id = ? AND run_id = ? AND task_id = ? AND state_key = ?"
            }
        }
    }

    fn insert(self) -> &'static str {
        match self {
            Keyed::XCom => {
                "INSERT INTO gust_xcom (value, dag_id, run_id, task_id, xcom_key, position) \
                 SELECT ?, ?, ?, ?, ?, COALESCE(MAX(position) + 1, 0) \
                 FROM gust_xcom WHERE dag_id = ? AND run_id = ?"
            }
            Keyed::TaskState => {
                "INSERT INTO gust_task_state \
                 (value, dag_id, run_id, task_id, state_key, position) \
                 SELECT ?, ?, ?, ?, ?, COALESCE(MAX(position) + 1, 0) \
                 FROM gust_task_state WHERE dag_id = ? AND run_id = ?"
            }
        }
    }
}

async fn keyed(
    tx: &mut Tx<'_>,
    run: &RunKey,
    table: Keyed,
    task_id: &str,
    key: &str,
    value: &Value,
) -> Result<(), StoreError> {
    let value = json(value);
    let updated = sqlx::query(table.update())
        .bind(&value)
        .bind(&*run.dag_id)
        .bind(&*run.run_id)
        .bind(task_id)
        .bind(key)
        .execute(&mut **tx)
        .await
        .map_err(backend)?;
    if updated.rows_affected() == 0 {
        sqlx::query(table.insert())
            .bind(&value)
            .bind(&*run.dag_id)
            .bind(&*run.run_id)
            .bind(task_id)
            .bind(key)
            .bind(&*run.dag_id)
            .bind(&*run.run_id)
            .execute(&mut **tx)
            .await
            .map_err(backend)?;
    }
    Ok(())
}
