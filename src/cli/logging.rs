//! Log lines for people: `12:00:01 INFO  run_command  sent the command command_id=...`.
//!
//! The task span's fields (dag, run, task, try) are all recorded for log files and other
//! subscribers; on the terminal only the task's id is shown, since the run is one.

use std::fmt;
use std::io::IsTerminal;
use std::path::PathBuf;

use gust::task_logs::TaskLogs;

use tracing::{Event, Subscriber};
use tracing_subscriber::fmt::format::Writer;
use tracing_subscriber::fmt::{FmtContext, FormatEvent, FormatFields, FormattedFields};
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::registry::LookupSpan;
use tracing_subscriber::util::SubscriberInitExt;
use tracing_subscriber::{EnvFilter, Layer};

struct Concise;

impl<S, N> FormatEvent<S, N> for Concise
where
    S: Subscriber + for<'a> LookupSpan<'a>,
    N: for<'a> FormatFields<'a> + 'static,
{
    fn format_event(
        &self,
        ctx: &FmtContext<'_, S, N>,
        mut writer: Writer<'_>,
        event: &Event<'_>,
    ) -> fmt::Result {
        #[allow(clippy::disallowed_methods)] // log lines carry the host's time of day
        let now = chrono::Local::now().format("%H:%M:%S");
        write!(writer, "{now} {:<5} ", event.metadata().level())?;
        if let Some(scope) = ctx.event_scope() {
            for span in scope.from_root() {
                let extensions = span.extensions();
                let task = extensions
                    .get::<FormattedFields<N>>()
                    .and_then(|fields| task_id_of(fields.as_str()));
                if let Some(task) = task {
                    write!(writer, "{task}  ")?;
                }
            }
        }
        ctx.field_format().format_fields(writer.by_ref(), event)?;
        writeln!(writer)
    }
}

/// The `task_id=...` value of a span's formatted fields.
fn task_id_of(fields: &str) -> Option<&str> {
    let start = fields.find("task_id=")? + "task_id=".len();
    let rest = &fields[start..];
    Some(rest.split_whitespace().next().unwrap_or(rest))
}

/// Logs go to standard error, filtered by `RUST_LOG`. By default gust's own messages are
/// shown at info level, except under a live view, which shows warnings only so that log
/// lines do not tear it. With `task_logs`, each task try's messages (info and above) are
/// also written to its own file there.
pub(crate) fn init(live_view: bool, task_logs: Option<PathBuf>) {
    // aws-config warns with whole debug dumps while it looks for a region or credentials
    // that are not there; gust's own error then says what is missing, in one line.
    let default = if live_view {
        "warn,aws_config=error"
    } else {
        "warn,aws_config=error,gust=info,gust::task::lifecycle=warn,gust_ssm_local=warn"
    };
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(default));
    let terminal = tracing_subscriber::fmt::layer()
        .with_writer(std::io::stderr)
        .with_ansi(std::io::stderr().is_terminal())
        .event_format(Concise)
        .with_filter(filter);
    let files = task_logs.map(|root| {
        TaskLogs::new(root).with_filter(EnvFilter::new(
            "warn,aws_config=error,gust=info,gust_ssm_local=warn",
        ))
    });
    tracing_subscriber::registry()
        .with(terminal)
        .with(files)
        .with(crash_hook())
        .init();
}

/// For crash tests: `GUST_TEST_KILL_ON_LOG=TEXT` makes the process kill itself with
/// SIGKILL the moment it logs a message containing TEXT, as a machine failure would stop
/// it there, with no chance to record anything more.
fn crash_hook() -> Option<KillOnLog> {
    std::env::var("GUST_TEST_KILL_ON_LOG")
        .ok()
        .filter(|text| !text.is_empty())
        .map(|text| KillOnLog { text })
}

struct KillOnLog {
    text: String,
}

/// The message of an event.
struct Message(String);

impl tracing::field::Visit for Message {
    fn record_str(&mut self, field: &tracing::field::Field, value: &str) {
        if field.name() == "message" {
            self.0.push_str(value);
        }
    }

    fn record_debug(&mut self, field: &tracing::field::Field, value: &dyn fmt::Debug) {
        if field.name() == "message" {
            use std::fmt::Write;
            let _ = write!(self.0, "{value:?}");
        }
    }
}

impl<S: Subscriber> Layer<S> for KillOnLog {
    fn on_event(&self, event: &Event<'_>, _ctx: tracing_subscriber::layer::Context<'_, S>) {
        let mut message = Message(String::new());
        event.record(&mut message);
        if message.0.contains(&self.text) {
            let _ = nix::sys::signal::raise(nix::sys::signal::Signal::SIGKILL);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_task_id_is_read_from_span_fields() {
        assert_eq!(
            task_id_of("dag_id=d run_id=r task_id=get_output try_number=1"),
            Some("get_output")
        );
        assert_eq!(task_id_of("dag_id=d"), None);
    }
}
