//! Running a DAG from the command line: the local service if asked, progress while it
//! runs (a live view on a terminal, log lines otherwise), Ctrl-C to cancel, and a summary
//! with the tasks' outputs at the end.

use std::collections::BTreeMap;
use std::io::IsTerminal;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, NaiveDate, Utc};
use gust::core::error::humanize;
use gust::core::template::iso;
use gust::core::{Dag, RunState, TaskState};
use gust::executor::{
    CancellationToken, EventKind, Executor, RunEvent, RunKey, RunOptions, RunReport,
};
use indicatif::{MultiProgress, ProgressBar, ProgressStyle};
use serde_json::{Value, json};
use tokio::sync::mpsc::UnboundedReceiver;

use super::home::open_store;
use super::local;
use super::out::{say, say_raw};
use super::{Failure, Outcome, RunArgs, usage};

/// What to run.
pub(crate) struct RunRequest {
    pub(crate) dag: Arc<Dag>,
    /// Outputs of tasks outside the run, as (task, key, value).
    pub(crate) xcom: Vec<(String, String, Value)>,
    /// Where the run is recorded: in memory only, or in the store under GUST_HOME.
    pub(crate) record: Record,
}

/// Whether and how a run is recorded.
pub(crate) enum Record {
    /// In memory only, gone when the command ends (`tasks test`).
    Memory,
    /// A new run in the store, of the DAG read from this file.
    New(PathBuf),
    /// A run the store already holds, taken up again.
    Resume(RunKey),
}

/// Whether to draw a live view: on a terminal, unless JSON is asked for.
pub(crate) fn live_view_wanted(json: bool) -> bool {
    !json && std::io::stderr().is_terminal()
}

fn parse_logical_date(text: &str) -> Result<DateTime<Utc>, String> {
    if let Ok(at) = DateTime::parse_from_rfc3339(text) {
        return Ok(at.with_timezone(&Utc));
    }
    NaiveDate::parse_from_str(text, "%Y-%m-%d")
        .ok()
        .and_then(|d| d.and_hms_opt(0, 0, 0))
        .map(|d| d.and_utc())
        .ok_or_else(|| format!("--logical-date {text}: expected YYYY-MM-DD or an ISO 8601 time"))
}

pub(crate) async fn run(request: RunRequest, args: &RunArgs) -> Outcome {
    let mut options = RunOptions::new();
    if let Some(conf) = &args.conf {
        let conf: Value = serde_json::from_str(conf)
            .map_err(|err| usage(format!("--conf is not valid JSON: {err}")))?;
        if !conf.is_object() {
            return Err(usage(
                "--conf must be a JSON object, e.g. '{\"script\": \"uptime\"}'",
            ));
        }
        warn_unknown_params(&request.dag, &conf);
        options = options.conf(conf);
    }
    let logical_date = match &args.logical_date {
        Some(date) => Some(parse_logical_date(date).map_err(usage)?),
        None => None,
    };
    if let Some(date) = logical_date {
        options = options.logical_date(date);
    }
    for (task, key, value) in &request.xcom {
        options = options.xcom(task.clone(), key.clone(), value.clone());
    }

    let service = if args.local_nodes {
        let service = local::start(args.nodes.as_deref()).await.map_err(usage)?;
        let ids: Vec<&str> = service.nodes().iter().map(|n| n.id.as_str()).collect();
        eprintln!(
            "local SSM service at {} with {} node(s): {}",
            service.url(),
            ids.len(),
            ids.join(", ")
        );
        Some(service)
    } else {
        None
    };
    let connections =
        local::connections(args.connections.as_deref(), service.as_ref()).map_err(usage)?;
    gust::ssm::set_connections(connections);

    let cancel = CancellationToken::new();
    let (events_tx, events) = tokio::sync::mpsc::unbounded_channel();
    let options = options.events(events_tx).cancel(cancel.clone());
    let (handle, recorded_in) = match request.record {
        Record::Memory => (
            Executor::in_memory().start(request.dag.clone(), options),
            None,
        ),
        Record::New(dag_file) => {
            let store = open_store().await?;
            // The run's id is chosen here so that its DAG file is recorded before it starts.
            #[allow(clippy::disallowed_methods)] // a new run's logical date defaults to now
            let logical_date = logical_date.unwrap_or_else(Utc::now);
            let key = RunKey {
                dag_id: request.dag.dag_id().clone(),
                run_id: format!("manual__{}", iso(logical_date)).into(),
            };
            let dag_file = std::path::absolute(&dag_file).unwrap_or(dag_file);
            store
                .record_source(&key, &dag_file)
                .await
                .map_err(|err| usage(err.to_string()))?;
            let claim = store.claim(&key).map_err(|err| usage(err.to_string()))?;
            let options = options
                .logical_date(logical_date)
                .run_id(key.run_id.to_string());
            let executor = Executor::new(Arc::new(store.clone()));
            (
                executor.start(request.dag.clone(), options),
                Some((store, claim)),
            )
        }
        Record::Resume(key) => {
            let store = open_store().await?;
            let claim = store.claim(&key).map_err(|err| usage(err.to_string()))?;
            let executor = Executor::new(Arc::new(store.clone()));
            let triggers = gust::registry::triggers();
            let handle = executor.start_resume(request.dag.clone(), key, triggers, options);
            (handle, Some((store, claim)))
        }
    };
    let watch_interrupt = {
        let cancel = cancel.clone();
        tokio::spawn(async move {
            if tokio::signal::ctrl_c().await.is_ok() {
                eprintln!("\ninterrupted: cancelling the run (running tasks are stopped)...");
                cancel.cancel();
            }
        })
    };
    let progress = if args.json {
        tokio::spawn(drain(events))
    } else if live_view_wanted(false) {
        tokio::spawn(live_view(request.dag.clone(), events))
    } else {
        tokio::spawn(log_lines(events))
    };

    let report = handle.wait().await;
    let _ = progress.await;
    watch_interrupt.abort();
    if let Some(service) = service {
        service.shutdown().await;
    }
    let report = report.map_err(|err| usage(err.to_string()))?;

    if args.json {
        say!("{}", json_report(&report));
    } else {
        print_summary(&report);
        if let Some((store, _claim)) = &recorded_in {
            say!(
                "recorded in {}: gust runs show {}",
                store.path().display(),
                report.run_id
            );
        }
    }
    if report.state == RunState::Success {
        Ok(())
    } else {
        Err(Failure::Failed)
    }
}

/// A `--conf` key that is not one of the DAG's params is allowed (templates may read it as
/// `params.KEY`), but is most often a misspelling: say so.
fn warn_unknown_params(dag: &Dag, conf: &Value) {
    let params = &dag.settings().params;
    let Some(given) = conf.as_object() else {
        return;
    };
    for key in given.keys().filter(|k| !params.contains_key(*k)) {
        eprintln!(
            "warning: --conf key '{key}' is not a param of DAG {}{}",
            dag.dag_id(),
            gust::yaml::did_you_mean(key, params.keys().map(String::as_str))
        );
    }
}

async fn drain(mut events: UnboundedReceiver<RunEvent>) {
    while events.recv().await.is_some() {}
}

/// One line per state change, on standard error.
async fn log_lines(mut events: UnboundedReceiver<RunEvent>) {
    while let Some(event) = events.recv().await {
        let at = event.at.format("%H:%M:%S");
        match event.kind {
            EventKind::Task {
                task_id,
                try_number,
                state,
                message,
            } => {
                if matches!(state, TaskState::Scheduled | TaskState::Queued) {
                    continue;
                }
                let mut line = format!("[{at}] {task_id}: {state}");
                if try_number > 1 {
                    line.push_str(&format!(" (try {try_number})"));
                }
                if let Some(message) = message.filter(|_| state != TaskState::Success) {
                    line.push_str(&format!(": {message}"));
                }
                eprintln!("{line}");
            }
            EventKind::Run { state } => eprintln!("[{at}] run: {state}"),
        }
    }
}

/// A line per task with its state, redrawn as the run goes on.
async fn live_view(dag: Arc<Dag>, mut events: UnboundedReceiver<RunEvent>) {
    let view = MultiProgress::new();
    let width = dag.tasks().map(|(_, t)| t.id().len()).max().unwrap_or(4);
    let style = ProgressStyle::with_template(&format!("{{spinner}} {{prefix:<{width}}} {{msg}}"))
        .unwrap_or_else(|_| ProgressStyle::default_spinner());
    let mut bars: BTreeMap<String, ProgressBar> = BTreeMap::new();
    for (_, task) in dag.tasks() {
        let bar = view.add(ProgressBar::new_spinner());
        bar.set_style(style.clone());
        bar.set_prefix(task.id().to_string());
        bar.set_message("none");
        bar.enable_steady_tick(Duration::from_millis(120));
        bars.insert(task.id().to_string(), bar);
    }
    while let Some(event) = events.recv().await {
        if let EventKind::Task {
            task_id,
            try_number,
            state,
            ..
        } = event.kind
            && let Some(bar) = bars.get(&*task_id)
        {
            let mut message = state.to_string();
            if try_number > 1 {
                message.push_str(&format!(" (try {try_number})"));
            }
            if state.is_finished() {
                bar.finish_with_message(message);
            } else {
                bar.set_message(message);
            }
        }
    }
    for bar in bars.values() {
        if !bar.is_finished() {
            bar.finish();
        }
    }
    let _ = view.clear();
}

/// One row of a task table.
pub(crate) struct TaskRow<'a> {
    pub(crate) task_id: &'a str,
    pub(crate) state: TaskState,
    pub(crate) tries: u32,
    pub(crate) duration: String,
    pub(crate) message: Option<&'a str>,
}

/// The table of tasks (task, state, tries, duration), then why each task that did not
/// succeed ended as it did.
pub(crate) fn print_task_table(rows: &[TaskRow<'_>]) {
    let width = rows
        .iter()
        .map(|r| r.task_id.len())
        .max()
        .unwrap_or(4)
        .max(4);
    say!();
    say!(
        "{:<width$}  {:<16} {:>5}  {:>9}",
        "task",
        "state",
        "tries",
        "duration"
    );
    for row in rows {
        say!(
            "{:<width$}  {:<16} {:>5}  {:>9}",
            row.task_id,
            row.state.to_string(),
            row.tries,
            row.duration
        );
    }
    for row in rows {
        if row.state != TaskState::Success
            && let Some(message) = row.message
        {
            say!("\n{} {}: {message}", row.task_id, row.state);
        }
    }
}

fn print_summary(report: &RunReport) {
    let rows: Vec<TaskRow<'_>> = report
        .tasks
        .iter()
        .map(|task| TaskRow {
            task_id: &task.task_id,
            state: task.state,
            tries: task.tries,
            duration: task
                .duration()
                .map(humanize)
                .unwrap_or_else(|| "-".to_owned()),
            message: task.message.as_deref(),
        })
        .collect();
    print_task_table(&rows);
    print_outputs(report);
    say!(
        "\nrun {} of {}: {}",
        report.run_id,
        report.dag_id,
        report.state
    );
}

/// The outputs of the tasks that ran, in the DAG's order: SSM invocation output as text,
/// other values as JSON.
fn print_outputs(report: &RunReport) {
    for ran in &report.tasks {
        let task = &ran.task_id;
        let Some(value) = report.xcom(task, gust::core::RETURN_VALUE) else {
            continue;
        };
        // A task that did not succeed this time may hold the value of an earlier try.
        if ran.tries == 0 || ran.state != TaskState::Success {
            continue;
        }
        match value.get("invocations").and_then(Value::as_array) {
            Some(invocations) => {
                for invocation in invocations {
                    let node = invocation["instance_id"].as_str().unwrap_or("?");
                    if let Some(error) = invocation["error"].as_str() {
                        say!("\n--- {task} on {node}: {error}");
                        continue;
                    }
                    say!(
                        "\n--- {task} on {node}: {} (exit code {})",
                        invocation["status"].as_str().unwrap_or("?"),
                        invocation["response_code"]
                    );
                    print_block(invocation["standard_output"].as_str().unwrap_or(""));
                    let stderr = invocation["standard_error"].as_str().unwrap_or("");
                    if !stderr.is_empty() {
                        say!("--- standard error:");
                        print_block(stderr);
                    }
                }
            }
            None => {
                let mut text = value.to_string();
                if text.len() > 300 {
                    text.truncate(text.floor_char_boundary(300));
                    text.push_str("...");
                }
                say!("\n{task} returned {text}");
            }
        }
    }
}

fn print_block(text: &str) {
    say_raw!("{text}");
    if !text.ends_with('\n') && !text.is_empty() {
        say!();
    }
}

fn json_report(report: &RunReport) -> Value {
    let mut xcom: BTreeMap<&str, BTreeMap<&str, &Value>> = BTreeMap::new();
    for (task, key, value) in &report.xcom {
        xcom.entry(task).or_default().insert(key, value);
    }
    let tasks: Vec<Value> = report
        .tasks
        .iter()
        .map(|t| {
            json!({
                "task_id": t.task_id,
                "operator": t.operator,
                "state": t.state,
                "tries": t.tries,
                "started_at": t.started_at,
                "ended_at": t.ended_at,
                "duration_seconds": t.duration().map(|d| d.as_secs_f64()),
                "message": t.message,
            })
        })
        .collect();
    json!({
        "dag_id": report.dag_id,
        "run_id": report.run_id,
        "logical_date": report.logical_date,
        "state": report.state,
        "started_at": report.started_at,
        "ended_at": report.ended_at,
        "tasks": tasks,
        "xcom": xcom,
    })
}
