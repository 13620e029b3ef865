//! One YAML document, one DAG: keys, tasks, settings, markers, and every check that can
//! point at a place in the file.

use std::collections::HashMap;
use std::path::Path;
use std::time::Duration;

use gust_core::{Dag, DagError, DagSettings, Expr, TaskBuilder, TaskOverrides, TriggerRule};
use serde_json::Value as Json;

use crate::args::{ArgError, Args};
use crate::duration::{parse_duration, seconds_to_duration};
use crate::error::Problem;
use crate::node::{Node, Pos, Value};
use crate::registry::Registry;
use crate::suggest::did_you_mean;
use crate::value::Converter;

/// The keys of a DAG document.
pub const DAG_KEYS: &[&str] = &[
    "dag_id",
    "description",
    "schedule",
    "start_date",
    "end_date",
    "catchup",
    "tags",
    "params",
    "default_args",
    "max_active_tasks",
    "max_active_runs",
    "dagrun_timeout",
    "tasks",
];

/// The keys of a task.
pub const TASK_KEYS: &[&str] = &["id", "uses", "with", "needs"];

/// The task settings that may appear under `with` or in `default_args`.
pub const TASK_SETTINGS: &[&str] = &[
    "retries",
    "retry_delay",
    "retry_exponential_backoff",
    "max_retry_delay",
    "execution_timeout",
    "trigger_rule",
    "pool",
    "pool_slots",
    "do_xcom_push",
];

/// The schedule presets Airflow knows.
const PRESETS: &[&str] = &[
    "@once",
    "@continuous",
    "@hourly",
    "@daily",
    "@weekly",
    "@monthly",
    "@quarterly",
    "@yearly",
    "@annually",
];

/// What a DAG document says beyond the DAG itself.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct DagInfo {
    /// `schedule`: null, a cron expression or a preset. Recorded; runs are started by
    /// hand (`gust dags test`) for now.
    pub schedule: Option<String>,
    /// `start_date`, as written.
    pub start_date: Option<String>,
    /// `end_date`, as written.
    pub end_date: Option<String>,
    /// `catchup`.
    pub catchup: bool,
    /// `max_active_runs`.
    pub max_active_runs: Option<u64>,
    /// Where each task's `id` is written, by task id.
    pub task_positions: HashMap<String, Pos>,
}

fn text(node: &Node, path: &str) -> Result<String, Problem> {
    match &node.value {
        Value::Str(text) => Ok(text.clone()),
        other => Err(Problem::new(
            node.at,
            path,
            format!("expected a string, found {}", other.kind()),
        )),
    }
}

fn boolean(node: &Node, path: &str) -> Result<bool, Problem> {
    match node.value {
        Value::Bool(b) => Ok(b),
        ref other => Err(Problem::new(
            node.at,
            path,
            format!("expected true or false, found {}", other.kind()),
        )),
    }
}

fn count(node: &Node, path: &str) -> Result<u64, Problem> {
    match node.value {
        Value::Int(n) if n >= 0 => Ok(n as u64),
        ref other => Err(Problem::new(
            node.at,
            path,
            format!("expected a whole number, found {}", other.kind()),
        )),
    }
}

fn duration(node: &Node, path: &str) -> Result<Duration, Problem> {
    let parsed = match &node.value {
        Value::Int(n) => seconds_to_duration(*n as f64),
        Value::Float(x) => seconds_to_duration(*x),
        Value::Str(text) => parse_duration(text),
        other => Err(format!(
            "expected a duration (seconds, or e.g. 90s, 5m), found {}",
            other.kind()
        )),
    };
    parsed.map_err(|message| Problem::new(node.at, path, message))
}

fn entries<'a>(node: &'a Node, path: &str) -> Result<&'a [(String, Pos, Node)], Problem> {
    match &node.value {
        Value::Map(entries) => Ok(entries),
        other => Err(Problem::new(
            node.at,
            path,
            format!("expected a map, found {}", other.kind()),
        )),
    }
}

fn check_keys(
    entries: &[(String, Pos, Node)],
    known: &[&str],
    path: &str,
    what: &str,
) -> Result<(), Problem> {
    for (key, at, _) in entries {
        if !known.contains(&key.as_str()) {
            let shown = if path.is_empty() {
                key.clone()
            } else {
                format!("{path}.{key}")
            };
            return Err(Problem::new(
                *at,
                shown,
                format!(
                    "unknown {what} key '{key}'{}; known keys: {}",
                    did_you_mean(key, known.iter().copied()),
                    known.join(", ")
                ),
            ));
        }
    }
    Ok(())
}

fn literal_json(node: &Node, path: &str) -> Result<Json, Problem> {
    let mut converter = Converter {
        base_dir: Path::new("."),
        refs: Vec::new(),
    };
    let expr = converter.expr(node, path)?;
    expr.to_literal().ok_or_else(|| {
        Problem::new(
            node.at,
            path,
            "templates and references are not allowed here",
        )
    })
}

/// One `key: value` entry of a mapping, with the key's position.
type Entry = (String, Pos, Node);

/// Task settings from `with` or `default_args` entries; other entries are returned.
fn settings_of<'a>(
    entries: &'a [Entry],
    path: &str,
) -> Result<(TaskOverrides, Vec<&'a Entry>), Problem> {
    let mut overrides = TaskOverrides::default();
    let mut rest = Vec::new();
    for entry in entries {
        let (key, _, node) = entry;
        let at = format!("{path}.{key}");
        match key.as_str() {
            "retries" => {
                overrides.retries = Some(u32::try_from(count(node, &at)?).unwrap_or(u32::MAX))
            }
            "retry_delay" => overrides.retry_delay = Some(duration(node, &at)?),
            "retry_exponential_backoff" => {
                overrides.retry_exponential_backoff = Some(boolean(node, &at)?)
            }
            "max_retry_delay" => overrides.max_retry_delay = Some(duration(node, &at)?),
            "execution_timeout" => overrides.execution_timeout = Some(duration(node, &at)?),
            "trigger_rule" => {
                let rule = text(node, &at)?;
                overrides.trigger_rule = Some(
                    rule.parse::<TriggerRule>()
                        .map_err(|err| Problem::new(node.at, &at, err.to_string()))?,
                );
            }
            "pool" => overrides.pool = Some(text(node, &at)?),
            "pool_slots" => {
                let slots = count(node, &at)?;
                if slots == 0 {
                    return Err(Problem::new(node.at, at, "pool_slots must be at least 1"));
                }
                overrides.pool_slots = Some(u32::try_from(slots).unwrap_or(u32::MAX));
            }
            "do_xcom_push" => overrides.do_xcom_push = Some(boolean(node, &at)?),
            _ => rest.push(entry),
        }
    }
    Ok((overrides, rest))
}

fn check_schedule(node: &Node, path: &str) -> Result<Option<String>, Problem> {
    let schedule = match &node.value {
        Value::Null => return Ok(None),
        _ => text(node, path)?,
    };
    let is_preset = PRESETS.contains(&schedule.as_str());
    let fields = schedule.split_whitespace().count();
    if !is_preset && !(5..=6).contains(&fields) {
        return Err(Problem::new(
            node.at,
            path,
            format!(
                "'{schedule}' is neither a cron expression (5 fields) nor a preset such as @daily"
            ),
        ));
    }
    Ok(Some(schedule))
}

fn check_date(node: &Node, path: &str) -> Result<Option<String>, Problem> {
    let date = match &node.value {
        Value::Null => return Ok(None),
        _ => text(node, path)?,
    };
    let plain_date = chrono_like_date(&date);
    if !plain_date {
        return Err(Problem::new(
            node.at,
            path,
            format!("'{date}' is not a date such as 2024-01-01"),
        ));
    }
    Ok(Some(date))
}

/// Whether text starts with a YYYY-MM-DD date (a time may follow).
fn chrono_like_date(text: &str) -> bool {
    let bytes = text.as_bytes();
    bytes.len() >= 10
        && bytes[..4].iter().all(u8::is_ascii_digit)
        && bytes[4] == b'-'
        && bytes[5..7].iter().all(u8::is_ascii_digit)
        && bytes[7] == b'-'
        && bytes[8..10].iter().all(u8::is_ascii_digit)
        && (bytes.len() == 10 || matches!(bytes[10], b'T' | b' '))
}

fn located(err: ArgError) -> Problem {
    Problem::new(err.at, err.path, err.message)
}

/// Reads one document into a DAG.
pub(crate) fn read_dag(
    root: &Node,
    base_dir: &Path,
    registry: &Registry,
) -> Result<(Dag, DagInfo), Problem> {
    let top = entries(root, "")?;
    check_keys(top, DAG_KEYS, "", "DAG")?;
    let dag_id = match root.get("dag_id") {
        Some(node) => text(node, "dag_id")?,
        None => return Err(Problem::new(root.at, "", "the DAG needs a dag_id")),
    };
    let mut builder = Dag::builder(dag_id.clone());
    let mut settings = DagSettings::default();
    let mut info = DagInfo::default();

    for (key, _, node) in top {
        match key.as_str() {
            "description" => settings.description = Some(text(node, key)?),
            "schedule" => info.schedule = check_schedule(node, key)?,
            "start_date" => info.start_date = check_date(node, key)?,
            "end_date" => info.end_date = check_date(node, key)?,
            "catchup" => info.catchup = boolean(node, key)?,
            "max_active_runs" => info.max_active_runs = Some(count(node, key)?),
            "max_active_tasks" => {
                let limit = count(node, key)?;
                if limit == 0 {
                    return Err(Problem::new(
                        node.at,
                        key,
                        "max_active_tasks must be at least 1",
                    ));
                }
                settings.max_active_tasks = usize::try_from(limit).unwrap_or(usize::MAX);
            }
            "dagrun_timeout" => settings.dagrun_timeout = Some(duration(node, key)?),
            "tags" => {
                let Value::List(items) = &node.value else {
                    return Err(Problem::new(
                        node.at,
                        key,
                        format!("expected a list of strings, found {}", node.value.kind()),
                    ));
                };
                settings.tags = items
                    .iter()
                    .enumerate()
                    .map(|(i, item)| text(item, &format!("tags[{i}]")))
                    .collect::<Result<_, _>>()?;
            }
            "params" => {
                entries(node, key)?;
                let Json::Object(params) = literal_json(node, key)? else {
                    unreachable!("a map converts to an object")
                };
                settings.params = params;
            }
            _ => {}
        }
    }

    let (defaults, default_params) = match root.get("default_args") {
        Some(node) => settings_of(entries(node, "default_args")?, "default_args")?,
        None => (TaskOverrides::default(), Vec::new()),
    };
    builder.settings(settings).default_args(defaults);

    let tasks_node = root
        .get("tasks")
        .ok_or_else(|| Problem::new(root.at, "", "the DAG needs a list of tasks"))?;
    let Value::List(tasks) = &tasks_node.value else {
        return Err(Problem::new(
            tasks_node.at,
            "tasks",
            format!(
                "expected a list of tasks, found {}",
                tasks_node.value.kind()
            ),
        ));
    };
    if tasks.is_empty() {
        return Err(Problem::new(tasks_node.at, "tasks", "the DAG has no tasks"));
    }

    let mut converter = Converter {
        base_dir,
        refs: Vec::new(),
    };
    let mut needs_written: Vec<(String, String, Pos, String)> = Vec::new();
    for (index, task) in tasks.iter().enumerate() {
        let path = format!("tasks[{index}]");
        let fields = entries(task, &path)?;
        check_keys(fields, TASK_KEYS, &path, "task")?;
        let id_node = task
            .get("id")
            .ok_or_else(|| Problem::new(task.at, &path, "the task needs an id"))?;
        let id = text(id_node, &format!("{path}.id"))?;
        if let Some(first) = info.task_positions.get(&id) {
            return Err(Problem::new(
                id_node.at,
                format!("{path}.id"),
                format!(
                    "task id '{id}' is already used by the task at line {}",
                    first.line
                ),
            ));
        }
        info.task_positions.insert(id.clone(), id_node.at);

        let uses_node = task.get("uses").ok_or_else(|| {
            Problem::new(
                task.at,
                &path,
                format!("task '{id}' needs 'uses': the operator it runs"),
            )
        })?;
        let uses = text(uses_node, &format!("{path}.uses"))?;
        let spec = registry.find(&uses).ok_or_else(|| {
            Problem::new(
                uses_node.at,
                format!("{path}.uses"),
                format!(
                    "unknown operator '{uses}'{}",
                    did_you_mean(
                        uses.rsplit('.').next().unwrap_or(&uses),
                        registry.short_names()
                    )
                ),
            )
        })?;

        let with_path = format!("{path}.with");
        let with_entries: &[(String, Pos, Node)] = match task.get("with") {
            Some(node) => entries(node, &with_path)?,
            None => &[],
        };
        let (overrides, params) = settings_of(with_entries, &with_path)?;
        let mut given: Vec<(String, Pos, Expr)> = Vec::new();
        for (key, at, node) in params {
            given.push((
                key.clone(),
                *at,
                converter.expr(node, &format!("{with_path}.{key}"))?,
            ));
        }
        // default_args reach the operator parameters this operator has and the task
        // does not set, as in Airflow.
        for (key, at, node) in &default_params {
            let accepted = spec.params.iter().any(|p| p.name == key.as_str());
            if accepted && !given.iter().any(|(name, _, _)| name == key) {
                given.push((
                    key.clone(),
                    *at,
                    converter.expr(node, &format!("default_args.{key}"))?,
                ));
            }
        }
        // A missing parameter is reported where the parameters are (or would be) given.
        let with_at = task.get("with").map_or(task.at, |node| node.at);
        let mut args = Args::check(spec, given, &with_path, with_at).map_err(located)?;
        let kind = (spec.build)(&mut args).map_err(located)?;

        let mut needs = Vec::new();
        if let Some(node) = task.get("needs") {
            let needs_path = format!("{path}.needs");
            let items: Vec<&Node> = match &node.value {
                Value::List(items) => items.iter().collect(),
                Value::Str(_) => vec![node],
                other => {
                    return Err(Problem::new(
                        node.at,
                        needs_path,
                        format!("expected a list of task ids, found {}", other.kind()),
                    ));
                }
            };
            for (i, item) in items.into_iter().enumerate() {
                let upstream = text(item, &format!("{needs_path}[{i}]"))?;
                needs_written.push((
                    id.clone(),
                    upstream.clone(),
                    item.at,
                    format!("{needs_path}[{i}]"),
                ));
                needs.push(upstream);
            }
        }
        builder.add(
            TaskBuilder::of_kind(id, kind)
                .overrides(overrides)
                .needs(needs),
        );
    }

    for (task, upstream, at, path) in &needs_written {
        if !info.task_positions.contains_key(upstream) {
            return Err(Problem::new(
                *at,
                path,
                format!(
                    "task '{task}' needs '{upstream}', which is not a task of this DAG{}",
                    did_you_mean(upstream, info.task_positions.keys().map(String::as_str))
                ),
            ));
        }
    }
    for found in &converter.refs {
        if !info.task_positions.contains_key(&found.reference.task_id) {
            return Err(Problem::new(
                found.at,
                &found.path,
                format!(
                    "$x refers to task '{}', which is not a task of this DAG{}",
                    found.reference.task_id,
                    did_you_mean(
                        &found.reference.task_id,
                        info.task_positions.keys().map(String::as_str)
                    )
                ),
            ));
        }
    }

    let dag = builder
        .build()
        .map_err(|err| locate_dag_error(err, &info, root.at))?;
    Ok((dag, info))
}

fn locate_dag_error(err: DagError, info: &DagInfo, root: Pos) -> Problem {
    let at_task = |task: &str| info.task_positions.get(task).copied().unwrap_or(root);
    match &err {
        DagError::Cycle { tasks } => {
            let first = tasks.first().map(String::as_str).unwrap_or("");
            Problem::new(at_task(first), "tasks", err.to_string())
        }
        DagError::InvalidId {
            what: "task id",
            id,
        } => Problem::new(at_task(id), "tasks", err.to_string()),
        DagError::InvalidId { .. } => Problem::new(root, "dag_id", err.to_string()),
        _ => Problem::new(root, "", err.to_string()),
    }
}
