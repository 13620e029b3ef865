//! `gust runs ...` and the commands that act on recorded runs: list, show, resume, a
//! task's logs, clearing tasks to run them again.

use std::path::Path;
use std::sync::Arc;

use chrono::{DateTime, Utc};
use gust::core::error::humanize;
use gust::core::{RunState, TaskState};
use gust::executor::store::{TaskChange, TaskRecord};
use gust::executor::{Change, RunKey, RunRecord, RunSnapshot, Store};
use gust::store::SqliteStore;
use serde_json::json;

use super::home::{logs_root, open_store};
use super::loading::find_dag;
use super::out::{say, say_raw};
use super::run::{Record, RunRequest, TaskRow, print_task_table, run};
use super::{Failure, Outcome, RunArgs, usage};

/// The recorded run `run_id` (of `dag_id`, when several DAGs have a run of that id).
async fn find_run(
    store: &SqliteStore,
    run_id: &str,
    dag_id: Option<&str>,
) -> Result<RunRecord, Failure> {
    let mut found: Vec<RunRecord> = store
        .list_runs(dag_id)
        .await
        .map_err(|err| usage(err.to_string()))?
        .into_iter()
        .filter(|r| &*r.key.run_id == run_id)
        .collect();
    match found.len() {
        1 => Ok(found.remove(0)),
        0 => Err(usage(format!(
            "no run '{run_id}'{} is recorded in {} (see gust runs list)",
            dag_id.map(|d| format!(" of DAG {d}")).unwrap_or_default(),
            store.path().display()
        ))),
        _ => {
            let dags: Vec<&str> = found.iter().map(|r| &*r.key.dag_id).collect();
            Err(usage(format!(
                "several DAGs have a run '{run_id}' ({}); name one with --dag",
                dags.join(", ")
            )))
        }
    }
}

async fn snapshot(store: &SqliteStore, key: &RunKey) -> Result<RunSnapshot, Failure> {
    store
        .load_run(key)
        .await
        .map_err(|err| usage(err.to_string()))?
        .ok_or_else(|| usage(format!("run {key} is not recorded")))
}

fn duration(start: Option<DateTime<Utc>>, end: Option<DateTime<Utc>>) -> String {
    match (start, end) {
        (Some(start), Some(end)) => humanize((end - start).to_std().unwrap_or_default()),
        _ => "-".to_owned(),
    }
}

fn shown_time(at: Option<DateTime<Utc>>) -> String {
    at.map(|at| at.format("%Y-%m-%d %H:%M:%S").to_string())
        .unwrap_or_else(|| "-".to_owned())
}

pub(crate) async fn list(dag_id: Option<&str>, state: Option<RunState>, json: bool) -> Outcome {
    let store = open_store().await?;
    let runs: Vec<RunRecord> = store
        .list_runs(dag_id)
        .await
        .map_err(|err| usage(err.to_string()))?
        .into_iter()
        .filter(|r| state.is_none_or(|s| r.state == s))
        .collect();
    if json {
        let listed: Vec<_> = runs
            .iter()
            .map(|r| {
                json!({
                    "dag_id": &*r.key.dag_id, "run_id": &*r.key.run_id, "state": r.state,
                    "logical_date": r.logical_date, "started_at": r.started_at,
                    "ended_at": r.ended_at,
                })
            })
            .collect();
        say!("{}", json!({ "runs": listed }));
        return Ok(());
    }
    let width = runs.iter().map(|r| r.key.run_id.len()).max().unwrap_or(6);
    let dag_width = runs
        .iter()
        .map(|r| r.key.dag_id.len())
        .max()
        .unwrap_or(6)
        .max(6);
    say!(
        "{:<dag_width$}  {:<width$}  {:<8}  {:<19}  {:>9}",
        "dag_id",
        "run_id",
        "state",
        "started",
        "duration"
    );
    for r in &runs {
        say!(
            "{:<dag_width$}  {:<width$}  {:<8}  {:<19}  {:>9}",
            r.key.dag_id,
            r.key.run_id,
            r.state.to_string(),
            shown_time(r.started_at),
            duration(r.started_at, r.ended_at)
        );
    }
    if runs.is_empty() {
        say!("(no runs recorded in {})", store.path().display());
    }
    Ok(())
}

fn task_json(task: &TaskRecord) -> serde_json::Value {
    let tries: Vec<_> = task
        .tries
        .iter()
        .map(|t| {
            json!({"try_number": t.try_number, "state": t.state, "started_at": t.started_at,
                   "ended_at": t.ended_at, "error": t.error})
        })
        .collect();
    json!({"task_id": task.task_id, "state": task.state, "try_number": task.try_number,
           "message": task.message, "tries": tries})
}

pub(crate) async fn show(run_id: &str, dag_id: Option<&str>, json: bool) -> Outcome {
    let store = open_store().await?;
    let record = find_run(&store, run_id, dag_id).await?;
    let snapshot = snapshot(&store, &record.key).await?;
    if json {
        let tasks: Vec<_> = snapshot.tasks.iter().map(task_json).collect();
        let xcom: Vec<_> = snapshot
            .xcom
            .iter()
            .map(|(task, key, value)| json!({"task_id": task, "key": key, "value": value}))
            .collect();
        say!(
            "{}",
            json!({"dag_id": &*record.key.dag_id, "run_id": &*record.key.run_id,
                   "state": record.state, "logical_date": record.logical_date,
                   "conf": record.conf, "started_at": record.started_at,
                   "ended_at": record.ended_at, "tasks": tasks, "xcom": xcom})
        );
        return Ok(());
    }
    say!(
        "run {} of {}: {} (logical date {}, started {}, {})",
        record.key.run_id,
        record.key.dag_id,
        record.state,
        record.logical_date.format("%Y-%m-%d %H:%M:%S"),
        shown_time(record.started_at),
        duration(record.started_at, record.ended_at)
    );
    let rows: Vec<TaskRow<'_>> = snapshot
        .tasks
        .iter()
        .map(|task| TaskRow {
            task_id: &task.task_id,
            state: task.state,
            tries: task.try_number,
            duration: duration(
                task.tries.first().map(|t| t.started_at),
                task.tries.last().and_then(|t| t.ended_at),
            ),
            message: task.message.as_deref(),
        })
        .collect();
    print_task_table(&rows);
    Ok(())
}

/// The DAG of a recorded run: from the file it was started from, else by its id in the
/// DAGs folder.
fn dag_of(
    record: &RunRecord,
    source: Option<&Path>,
    dags_folder: &Path,
) -> Result<gust::yaml::LoadedDag, Failure> {
    let target = match source.filter(|file| file.is_file()) {
        Some(file) => file.display().to_string(),
        None => record.key.dag_id.to_string(),
    };
    let loaded = find_dag(&target, dags_folder)?;
    if **loaded.dag.dag_id() != *record.key.dag_id {
        return Err(usage(format!(
            "{target} now defines DAG {}, not {}",
            loaded.dag.dag_id(),
            record.key.dag_id
        )));
    }
    Ok(loaded)
}

/// A recorded run, and its DAG from the file it was started from.
async fn run_and_dag(
    store: &SqliteStore,
    run_id: &str,
    dag_id: Option<&str>,
    dags_folder: &Path,
) -> Result<(RunRecord, gust::yaml::LoadedDag), Failure> {
    let record = find_run(store, run_id, dag_id).await?;
    let source = store
        .source(&record.key)
        .await
        .map_err(|err| usage(err.to_string()))?;
    let loaded = dag_of(&record, source.as_deref(), dags_folder)?;
    Ok((record, loaded))
}

/// A run taken up again keeps the conf and logical date it was started with.
fn refuse_new_run_settings(args: &RunArgs) -> Result<(), Failure> {
    if args.conf.is_some() || args.logical_date.is_some() {
        return Err(usage(
            "a recorded run keeps the conf and logical date it started with; \
             --conf and --logical-date apply to new runs (gust dags test)",
        ));
    }
    Ok(())
}

pub(crate) async fn resume(
    run_id: &str,
    dag_id: Option<&str>,
    dags_folder: &Path,
    args: &RunArgs,
) -> Outcome {
    refuse_new_run_settings(args)?;
    let store = open_store().await?;
    let (record, loaded) = run_and_dag(&store, run_id, dag_id, dags_folder).await?;
    if record.state.is_finished() {
        return Err(usage(format!(
            "run {} already ended {}; to run tasks of it again, use gust tasks clear",
            record.key, record.state
        )));
    }
    eprintln!(
        "resuming run {} of {}",
        record.key.run_id, record.key.dag_id
    );
    let request = RunRequest {
        dag: Arc::new(loaded.dag),
        xcom: Vec::new(),
        record: Record::Resume(record.key),
    };
    run(request, args).await
}

pub(crate) async fn logs(
    run_id: &str,
    task_id: &str,
    try_number: Option<u32>,
    dag_id: Option<&str>,
    json: bool,
) -> Outcome {
    let store = open_store().await?;
    let record = find_run(&store, run_id, dag_id).await?;
    let snapshot = snapshot(&store, &record.key).await?;
    let Some(task) = snapshot.tasks.iter().find(|t| t.task_id == task_id) else {
        let ids: Vec<&str> = snapshot.tasks.iter().map(|t| t.task_id.as_str()).collect();
        return Err(usage(format!(
            "run {} has no task '{task_id}'{}; its tasks: {}",
            record.key,
            gust::yaml::did_you_mean(task_id, ids.iter().copied()),
            ids.join(", ")
        )));
    };
    let tries: Vec<u32> = task.tries.iter().map(|t| t.try_number).collect();
    let wanted = match try_number {
        Some(n) => n,
        None => *tries
            .last()
            .ok_or_else(|| usage(format!("task '{task_id}' of run {} never ran", record.key)))?,
    };
    let file = gust::task_logs::log_file(
        &logs_root(),
        &record.key.dag_id,
        &record.key.run_id,
        task_id,
        wanted,
    );
    match std::fs::read_to_string(&file) {
        Ok(text) if json => {
            say!(
                "{}",
                json!({"run_id": &*record.key.run_id, "task_id": task_id, "try_number": wanted,
                       "file": file.display().to_string(), "log": text})
            );
            Ok(())
        }
        Ok(text) => {
            say_raw!("{text}");
            Ok(())
        }
        Err(_) if !tries.contains(&wanted) => Err(usage(format!(
            "task '{task_id}' has no try {wanted}; its tries: {}",
            tries
                .iter()
                .map(u32::to_string)
                .collect::<Vec<_>>()
                .join(", ")
        ))),
        Err(err) => Err(usage(format!("{}: {err}", file.display()))),
    }
}

pub(crate) async fn clear(
    run_id: &str,
    task_id: &str,
    downstream: bool,
    dag_id: Option<&str>,
    dags_folder: &Path,
    args: &RunArgs,
) -> Outcome {
    refuse_new_run_settings(args)?;
    let store = open_store().await?;
    let (record, loaded) = run_and_dag(&store, run_id, dag_id, dags_folder).await?;
    if !record.state.is_finished() {
        return Err(usage(format!(
            "run {} has not ended ({}); resume it with gust runs resume {}",
            record.key, record.state, record.key.run_id
        )));
    }
    let dag = loaded.dag;
    let Some(index) = dag.index_of(task_id) else {
        let ids: Vec<&str> = dag.tasks().map(|(_, t)| &**t.id()).collect();
        return Err(usage(format!(
            "DAG {} has no task '{task_id}'{}",
            dag.dag_id(),
            gust::yaml::did_you_mean(task_id, ids.iter().copied())
        )));
    };
    let mut cleared = vec![index];
    if downstream {
        cleared.extend(dag.descendants(index));
    }

    let snapshot = snapshot(&store, &record.key).await?;
    #[allow(clippy::disallowed_methods)] // the time the tasks are cleared at
    let now = Utc::now();
    let mut changes = Vec::new();
    let mut names = Vec::new();
    for index in cleared {
        let id = dag.task(index).id().clone();
        let try_number = snapshot
            .tasks
            .iter()
            .find(|t| t.task_id == *id)
            .map_or(0, |t| t.try_number);
        names.push(id.to_string());
        changes.push(Change::Task(TaskChange {
            task_id: id,
            try_number,
            state: TaskState::None,
            at: now,
            message: None,
            wake_at: None,
            deferral: None,
        }));
    }
    changes.push(Change::Run {
        state: RunState::Queued,
        at: now,
    });
    store
        .apply(&record.key, &changes)
        .await
        .map_err(|err| usage(err.to_string()))?;
    let cleared: Vec<&str> = names.iter().map(String::as_str).collect();
    store
        .clear_xcom(&record.key, &cleared)
        .await
        .map_err(|err| usage(err.to_string()))?;
    eprintln!(
        "cleared {} of run {}; running them again",
        names.join(", "),
        record.key
    );
    let request = RunRequest {
        dag: Arc::new(dag),
        xcom: Vec::new(),
        record: Record::Resume(record.key),
    };
    run(request, args).await
}
