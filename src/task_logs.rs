//! Task logs: every event logged inside a task's span (its operator, its sensor's pokes,
//! its trigger) is also appended to a file of that try,
//! `<root>/<dag_id>/<run_id>/<task_id>/<try_number>.log`.
//!
//! ```
//! use tracing_subscriber::layer::SubscriberExt;
//!
//! let dir = tempfile::tempdir().unwrap();
//! let logs = gust::task_logs::TaskLogs::new(dir.path());
//! let subscriber = tracing_subscriber::registry().with(logs);
//! tracing::subscriber::with_default(subscriber, || {
//!     let span = tracing::info_span!(
//!         "task", dag_id = "d", run_id = "r", task_id = "t", try_number = 1u32
//!     );
//!     span.in_scope(|| tracing::info!("hello"));
//! });
//! let log = std::fs::read_to_string(dir.path().join("d/r/t/1.log")).unwrap();
//! assert!(log.ends_with("INFO  hello\n"), "{log}");
//! ```

use std::collections::HashMap;
use std::fmt::Write as _;
use std::fs::{File, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use tracing::field::{Field, Visit};
use tracing::span::{Attributes, Id};
use tracing::{Event, Subscriber};
use tracing_subscriber::Layer;
use tracing_subscriber::layer::Context;
use tracing_subscriber::registry::LookupSpan;

/// The file of one try's log under `root`.
pub fn log_file(
    root: &Path,
    dag_id: &str,
    run_id: &str,
    task_id: &str,
    try_number: u32,
) -> PathBuf {
    root.join(safe(dag_id))
        .join(safe(run_id))
        .join(safe(task_id))
        .join(format!("{try_number}.log"))
}

/// A path component made of the id, with the characters a file name cannot hold
/// replaced, and never `.` or `..`.
fn safe(id: &str) -> String {
    if matches!(id, "" | "." | "..") {
        return format!("{}_", id.replace('.', "_"));
    }
    id.chars()
        .map(|c| {
            if matches!(c, '/' | '\\' | '\0') {
                '_'
            } else {
                c
            }
        })
        .collect()
}

/// A tracing layer that writes each task try's events to its own file.
pub struct TaskLogs {
    root: PathBuf,
    files: Mutex<HashMap<PathBuf, File>>,
}

impl TaskLogs {
    /// Task logs under `root` (`GUST_HOME/logs` for the `gust` command).
    pub fn new(root: impl Into<PathBuf>) -> Self {
        TaskLogs {
            root: root.into(),
            files: Mutex::new(HashMap::new()),
        }
    }

    fn append(&self, path: PathBuf, line: &str) {
        let mut files = self.files.lock().unwrap_or_else(|p| p.into_inner());
        if !files.contains_key(&path) {
            let opened = path
                .parent()
                .map_or(Ok(()), std::fs::create_dir_all)
                .and_then(|()| OpenOptions::new().create(true).append(true).open(&path));
            match opened {
                Ok(file) => {
                    files.insert(path.clone(), file);
                }
                // A log that cannot be written must not stop the task; the same event
                // still reaches the other layers.
                Err(_) => return,
            }
        }
        if let Some(file) = files.get_mut(&path) {
            let _ = file.write_all(line.as_bytes());
        }
    }
}

/// The identity of a task try, read from its span's fields.
#[derive(Default)]
struct TryFields {
    dag_id: Option<String>,
    run_id: Option<String>,
    task_id: Option<String>,
    try_number: Option<u64>,
}

impl Visit for TryFields {
    fn record_u64(&mut self, field: &Field, value: u64) {
        if field.name() == "try_number" {
            self.try_number = Some(value);
        }
    }

    fn record_i64(&mut self, field: &Field, value: i64) {
        if field.name() == "try_number" {
            self.try_number = u64::try_from(value).ok();
        }
    }

    fn record_str(&mut self, field: &Field, value: &str) {
        self.record_text(field, value.to_owned());
    }

    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        self.record_text(field, format!("{value:?}"));
    }
}

impl TryFields {
    fn record_text(&mut self, field: &Field, value: String) {
        match field.name() {
            "dag_id" => self.dag_id = Some(value),
            "run_id" => self.run_id = Some(value),
            "task_id" => self.task_id = Some(value),
            _ => {}
        }
    }
}

/// Where a try's events go.
struct TryLog(PathBuf);

/// An event as one line: its message, then its other fields as `name=value`.
#[derive(Default)]
struct Line {
    message: String,
    fields: String,
}

impl Visit for Line {
    fn record_str(&mut self, field: &Field, value: &str) {
        if field.name() == "message" {
            self.message.push_str(value);
        } else {
            let _ = write!(self.fields, " {}={value}", field.name());
        }
    }

    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        if field.name() == "message" {
            let _ = write!(self.message, "{value:?}");
        } else {
            let _ = write!(self.fields, " {}={value:?}", field.name());
        }
    }
}

impl<S> Layer<S> for TaskLogs
where
    S: Subscriber + for<'a> LookupSpan<'a>,
{
    fn on_new_span(&self, attrs: &Attributes<'_>, id: &Id, ctx: Context<'_, S>) {
        if attrs.metadata().name() != "task" {
            return;
        }
        let mut fields = TryFields::default();
        attrs.record(&mut fields);
        let (Some(dag), Some(run), Some(task), Some(try_number)) = (
            fields.dag_id,
            fields.run_id,
            fields.task_id,
            fields.try_number,
        ) else {
            return;
        };
        let try_number = u32::try_from(try_number).unwrap_or(u32::MAX);
        if let Some(span) = ctx.span(id) {
            let path = log_file(&self.root, &dag, &run, &task, try_number);
            span.extensions_mut().insert(TryLog(path));
        }
    }

    fn on_close(&self, id: Id, ctx: Context<'_, S>) {
        let Some(span) = ctx.span(&id) else {
            return;
        };
        if let Some(log) = span.extensions().get::<TryLog>() {
            let mut files = self.files.lock().unwrap_or_else(|p| p.into_inner());
            files.remove(&log.0);
        }
    }

    fn on_event(&self, event: &Event<'_>, ctx: Context<'_, S>) {
        let Some(scope) = ctx.event_scope(event) else {
            return;
        };
        let Some(path) = scope
            .from_root()
            .find_map(|span| span.extensions().get::<TryLog>().map(|log| log.0.clone()))
        else {
            return;
        };
        let mut line = Line::default();
        event.record(&mut line);
        #[allow(clippy::disallowed_methods)] // a log line carries the host's time
        let now = chrono::Utc::now().format("%Y-%m-%dT%H:%M:%S%.3fZ");
        let level = event.metadata().level();
        let text = format!("{now} {level:<5} {}{}\n", line.message, line.fields);
        self.append(path, &text);
    }
}
