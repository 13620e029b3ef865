//! Jinja templates rendered with Airflow's context names.
//!
//! Available names: `ds`, `ds_nodash`, `ts`, `ts_nodash`, `ts_nodash_with_tz`,
//! `logical_date`, `data_interval_start`, `data_interval_end`, `run_id`, `dag_run`
//! (`run_id`, `dag_id`, `conf`, `logical_date`), `dag` (`dag_id`), `task` (`task_id`,
//! `task_type`), `params`, and `ti` / `task_instance` (`task_id`, `dag_id`, `run_id`,
//! `try_number`, and `xcom_pull(task_ids=..., key="return_value", default=None)`).
//! An undefined name is an error, never an empty string.

use std::sync::{Arc, OnceLock};

use chrono::{DateTime, SecondsFormat, Timelike, Utc};
use minijinja::value::{Kwargs, Object, Serde, Value};
use minijinja::{Environment, ErrorKind, State, UndefinedBehavior, context};

use crate::context::TaskContext;
use crate::expr::RETURN_VALUE;

/// A template that could not be rendered.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("template {source_text:?} could not be rendered: {detail}")]
pub struct TemplateError {
    source_text: String,
    detail: String,
}

impl TemplateError {
    /// What the template engine reported.
    pub fn detail(&self) -> &str {
        &self.detail
    }
}

fn environment() -> &'static Environment<'static> {
    static ENVIRONMENT: OnceLock<Environment<'static>> = OnceLock::new();
    ENVIRONMENT.get_or_init(|| {
        let mut env = Environment::new();
        env.set_undefined_behavior(UndefinedBehavior::Strict);
        env
    })
}

/// Renders `source` in the context of a task attempt.
pub fn render(source: &str, ctx: &TaskContext) -> Result<String, TemplateError> {
    environment()
        .render_str(source, variables(ctx))
        .map_err(|err| TemplateError {
            source_text: source.to_owned(),
            detail: describe(&err),
        })
}

/// Checks that `source` is a well-formed template, without rendering it.
pub fn check_syntax(source: &str) -> Result<(), TemplateError> {
    environment()
        .template_from_str(source)
        .map(drop)
        .map_err(|err| TemplateError {
            source_text: source.to_owned(),
            detail: describe(&err),
        })
}

fn describe(err: &minijinja::Error) -> String {
    let mut text = match err.detail() {
        Some(detail) => format!("{}: {detail}", err.kind()),
        None => err.kind().to_string(),
    };
    if let Some(line) = err.line() {
        text.push_str(&format!(" (line {line})"));
    }
    text
}

/// Airflow's `ts`: ISO 8601 with the offset written `+00:00`.
pub fn iso(at: DateTime<Utc>) -> String {
    let precision = if at.nanosecond() == 0 {
        SecondsFormat::Secs
    } else {
        SecondsFormat::Micros
    };
    at.to_rfc3339_opts(precision, false)
}

fn variables(ctx: &TaskContext) -> Value {
    let at = ctx.logical_date();
    let ts = iso(at);
    let ti = Value::from_object(TaskInstance { ctx: ctx.clone() });
    context! {
        ds => at.format("%Y-%m-%d").to_string(),
        ds_nodash => at.format("%Y%m%d").to_string(),
        ts => ts.clone(),
        ts_nodash => at.format("%Y%m%dT%H%M%S").to_string(),
        ts_nodash_with_tz => at.format("%Y%m%dT%H%M%S%z").to_string(),
        logical_date => ts.clone(),
        data_interval_start => ts.clone(),
        data_interval_end => ts.clone(),
        run_id => ctx.run_id(),
        dag_run => context! {
            run_id => ctx.run_id(),
            dag_id => ctx.dag_id(),
            conf => Value::from(Serde(ctx.conf())),
            logical_date => ts,
        },
        dag => context! { dag_id => ctx.dag_id() },
        task => context! { task_id => ctx.task_id(), task_type => ctx.operator() },
        params => Value::from(Serde(ctx.params())),
        ti => ti.clone(),
        task_instance => ti,
    }
}

/// The `ti` object of templates.
#[derive(Debug)]
struct TaskInstance {
    ctx: TaskContext,
}

impl Object for TaskInstance {
    fn get_value_by_str(self: &Arc<Self>, key: &str) -> Option<Value> {
        match key {
            "task_id" => Some(Value::from(self.ctx.task_id())),
            "dag_id" => Some(Value::from(self.ctx.dag_id())),
            "run_id" => Some(Value::from(self.ctx.run_id())),
            "try_number" => Some(Value::from(self.ctx.try_number())),
            _ => None,
        }
    }

    fn get_value(self: &Arc<Self>, key: &Value) -> Option<Value> {
        self.get_value_by_str(key.as_str()?)
    }

    fn call_method(
        self: &Arc<Self>,
        _state: &mut State<'_, '_>,
        method: &str,
        args: &[Value],
    ) -> Result<Value, minijinja::Error> {
        if method != "xcom_pull" {
            return Err(minijinja::Error::new(
                ErrorKind::UnknownMethod,
                format!("ti has no method {method}; it has xcom_pull"),
            ));
        }
        let (positional, kwargs): (Option<Value>, Kwargs) = minijinja::value::from_args(args)?;
        let task_ids = match positional {
            Some(ids) => ids,
            None => kwargs.get::<Option<Value>>("task_ids")?.ok_or_else(|| {
                minijinja::Error::new(
                    ErrorKind::MissingArgument,
                    "xcom_pull needs task_ids, e.g. ti.xcom_pull(task_ids='run_command')",
                )
            })?,
        };
        let key: Option<String> = kwargs.get("key")?;
        let default: Option<Value> = kwargs.get("default")?;
        kwargs.assert_all_used()?;

        let key = key.as_deref().unwrap_or(RETURN_VALUE);
        let pull = |task_id: &str| {
            self.ctx
                .xcom_pull(task_id, key)
                .map(|value| Value::from(Serde(value)))
                .or_else(|| default.clone())
                .unwrap_or(Value::from(()))
        };
        if let Some(task_id) = task_ids.as_str() {
            return Ok(pull(task_id));
        }
        let ids = task_ids.try_iter().map_err(|_| {
            minijinja::Error::new(
                ErrorKind::InvalidOperation,
                "task_ids must be a task id or a list of task ids",
            )
        })?;
        ids.map(|id| {
            id.as_str().map(pull).ok_or_else(|| {
                minijinja::Error::new(ErrorKind::InvalidOperation, "task ids must be strings")
            })
        })
        .collect::<Result<Vec<_>, _>>()
        .map(Value::from)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::context::MemoryRunData;
    use serde_json::json;

    fn ctx() -> TaskContext {
        let data = MemoryRunData::new()
            .with_xcom("send", RETURN_VALUE, json!("cmd-42"))
            .with_xcom("send", "instances", json!(["i-1", "i-2"]));
        let params = json!({"script": "uname -a"});
        TaskContext::for_test("wait")
            .with_data(Arc::new(data))
            .with_params(params.as_object().unwrap().clone())
            .with_logical_date("2024-03-05T06:07:08Z".parse().unwrap())
    }

    #[test]
    fn airflow_context_names_render() {
        let out = render(
            "{{ ds }} {{ ds_nodash }} {{ ts }} {{ ts_nodash }} {{ run_id }} {{ dag.dag_id }} \
             {{ task.task_id }} {{ params.script }} {{ ti.try_number }}",
            &ctx(),
        )
        .unwrap();
        assert_eq!(
            out,
            "2024-03-05 20240305 2024-03-05T06:07:08+00:00 20240305T060708 test_run \
             test_dag wait uname -a 1"
        );
    }

    #[test]
    fn xcom_pull_reads_by_task_and_key() {
        let ctx = ctx();
        assert_eq!(
            render("{{ ti.xcom_pull('send') }}", &ctx).unwrap(),
            "cmd-42"
        );
        assert_eq!(
            render(
                "{{ ti.xcom_pull(task_ids='send', key='instances') | join(',') }}",
                &ctx
            )
            .unwrap(),
            "i-1,i-2"
        );
        assert_eq!(
            render("{{ task_instance.xcom_pull(task_ids=['send']) }}", &ctx).unwrap(),
            "['cmd-42']"
        );
        assert_eq!(
            render(
                "{{ ti.xcom_pull(task_ids='nobody', default='none yet') }}",
                &ctx
            )
            .unwrap(),
            "none yet"
        );
    }

    #[test]
    fn undefined_names_are_errors() {
        let err = render("echo {{ not_a_name }}", &ctx()).unwrap_err();
        assert!(err.to_string().contains("undefined"), "{err}");
        let err = render("{{ params.missing }}", &ctx()).unwrap_err();
        assert!(err.to_string().contains("undefined"), "{err}");
    }

    #[test]
    fn unsupported_arguments_and_bad_syntax_are_errors() {
        let err = render(
            "{{ ti.xcom_pull('send', include_prior_dates=true) }}",
            &ctx(),
        );
        assert!(err.is_err());
        let err = check_syntax("{{ ds ").unwrap_err();
        assert!(err.to_string().contains("syntax error"), "{err}");
        assert!(check_syntax("{{ ds }}").is_ok());
    }
}
