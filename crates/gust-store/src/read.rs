//! Reading runs back: a run with its task instances, tries, XComs and task state, and the
//! list of runs.

use std::collections::HashMap;

use gust_executor::store::{DeferralRecord, TaskRecord, TryRecord};
use gust_executor::{RunKey, RunRecord, RunSnapshot, StoreError};
use sqlx::sqlite::SqliteRow;
use sqlx::{Row, SqlitePool};

use crate::codec::{backend, corrupt, parse_json, parse_opt_time, parse_state, parse_time};

/// The columns of a run, for [`run_record`].
macro_rules! run_columns {
    () => {
        "dag_id, run_id, logical_date, conf, state, started_at, ended_at"
    };
}

/// Newest first; runs that never started come last.
macro_rules! newest_first {
    () => {
        " ORDER BY started_at IS NULL, started_at DESC, logical_date DESC, \
         dag_id DESC, run_id DESC"
    };
}

fn run_record(row: &SqliteRow) -> Result<RunRecord, StoreError> {
    let text = |name: &str| row.try_get::<String, _>(name).map_err(backend);
    let maybe = |name: &str| row.try_get::<Option<String>, _>(name).map_err(backend);
    Ok(RunRecord {
        key: RunKey {
            dag_id: text("dag_id")?.into(),
            run_id: text("run_id")?.into(),
        },
        logical_date: parse_time(&text("logical_date")?)?,
        conf: parse_json(&text("conf")?)?,
        state: parse_state(&text("state")?)?,
        started_at: parse_opt_time(maybe("started_at")?)?,
        ended_at: parse_opt_time(maybe("ended_at")?)?,
    })
}

pub(crate) async fn load_run(
    pool: &SqlitePool,
    key: &RunKey,
) -> Result<Option<RunSnapshot>, StoreError> {
    // One read transaction, so that the snapshot is of one moment.
    let mut tx = pool.begin().await.map_err(backend)?;
    let row = sqlx::query(concat!(
        "SELECT ",
        run_columns!(),
        " FROM gust_dag_run WHERE dag_id = ? AND run_id = ?"
    ))
    .bind(&*key.dag_id)
    .bind(&*key.run_id)
    .fetch_optional(&mut *tx)
    .await
    .map_err(backend)?;
    let Some(row) = row else {
        return Ok(None);
    };
    let run = run_record(&row)?;

    let mut tries: HashMap<String, Vec<TryRecord>> = HashMap::new();
    let rows = sqlx::query(
        "SELECT task_id, try_number, state, started_at, ended_at, error FROM gust_task_try \
         WHERE dag_id = ? AND run_id = ? ORDER BY task_id, try_number",
    )
    .bind(&*key.dag_id)
    .bind(&*key.run_id)
    .fetch_all(&mut *tx)
    .await
    .map_err(backend)?;
    for row in rows {
        let task_id: String = row.try_get("task_id").map_err(backend)?;
        let try_number: i64 = row.try_get("try_number").map_err(backend)?;
        tries.entry(task_id).or_default().push(TryRecord {
            try_number: u32::try_from(try_number)
                .map_err(|_| corrupt(format!("try number {try_number}")))?,
            state: parse_state(&row.try_get::<String, _>("state").map_err(backend)?)?,
            started_at: parse_time(&row.try_get::<String, _>("started_at").map_err(backend)?)?,
            ended_at: parse_opt_time(row.try_get("ended_at").map_err(backend)?)?,
            error: row.try_get("error").map_err(backend)?,
        });
    }

    let rows = sqlx::query(
        "SELECT task_id, state, try_number, message, wake_at, deferral \
         FROM gust_task_instance WHERE dag_id = ? AND run_id = ? ORDER BY position",
    )
    .bind(&*key.dag_id)
    .bind(&*key.run_id)
    .fetch_all(&mut *tx)
    .await
    .map_err(backend)?;
    let mut tasks = Vec::with_capacity(rows.len());
    for row in rows {
        let task_id: String = row.try_get("task_id").map_err(backend)?;
        let try_number: i64 = row.try_get("try_number").map_err(backend)?;
        let deferral: Option<String> = row.try_get("deferral").map_err(backend)?;
        let deferral = deferral
            .map(|text| {
                serde_json::from_str::<DeferralRecord>(&text)
                    .map_err(|err| corrupt(format!("deferral of task {task_id}: {err}")))
            })
            .transpose()?;
        tasks.push(TaskRecord {
            state: parse_state(&row.try_get::<String, _>("state").map_err(backend)?)?,
            try_number: u32::try_from(try_number)
                .map_err(|_| corrupt(format!("try number {try_number}")))?,
            message: row.try_get("message").map_err(backend)?,
            wake_at: parse_opt_time(row.try_get("wake_at").map_err(backend)?)?,
            deferral,
            tries: tries.remove(&task_id).unwrap_or_default(),
            task_id,
        });
    }

    let xcom = keyed(
        &mut tx,
        key,
        "SELECT task_id, xcom_key AS k, value FROM gust_xcom \
         WHERE dag_id = ? AND run_id = ? ORDER BY position",
    )
    .await?;
    let task_data = keyed(
        &mut tx,
        key,
        "SELECT task_id, state_key AS k, value FROM gust_task_state \
         WHERE dag_id = ? AND run_id = ? ORDER BY position",
    )
    .await?;
    tx.commit().await.map_err(backend)?;
    Ok(Some(RunSnapshot {
        run,
        tasks,
        xcom,
        task_data,
    }))
}

async fn keyed(
    tx: &mut sqlx::Transaction<'_, sqlx::Sqlite>,
    key: &RunKey,
    query: &'static str,
) -> Result<Vec<(String, String, serde_json::Value)>, StoreError> {
    let rows = sqlx::query(query)
        .bind(&*key.dag_id)
        .bind(&*key.run_id)
        .fetch_all(&mut **tx)
        .await
        .map_err(backend)?;
    rows.iter()
        .map(|row| {
            Ok((
                row.try_get("task_id").map_err(backend)?,
                row.try_get("k").map_err(backend)?,
                parse_json(&row.try_get::<String, _>("value").map_err(backend)?)?,
            ))
        })
        .collect()
}

pub(crate) async fn list_runs(
    pool: &SqlitePool,
    dag_id: Option<&str>,
) -> Result<Vec<RunRecord>, StoreError> {
    let rows = match dag_id {
        Some(dag_id) => {
            sqlx::query(concat!(
                "SELECT ",
                run_columns!(),
                " FROM gust_dag_run WHERE dag_id = ?",
                newest_first!()
            ))
            .bind(dag_id)
            .fetch_all(pool)
            .await
        }
        None => {
            sqlx::query(concat!(
                "SELECT ",
                run_columns!(),
                " FROM gust_dag_run",
                newest_first!()
            ))
            .fetch_all(pool)
            .await
        }
    }
    .map_err(backend)?;
    rows.iter().map(run_record).collect()
}
