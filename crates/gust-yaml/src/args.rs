//! A task's operator parameters, checked against the operator's own typed parameters
//! when the file loads: an unknown name, a missing required parameter or a literal of the
//! wrong kind is an error that points at the place in the file.

use std::collections::BTreeMap;
use std::time::Duration;

use gust_core::{Arg, Expr, SensorMode, SensorSettings};
use serde::de::DeserializeOwned;
use serde_json::Value as Json;

use crate::duration::{parse_duration, seconds_to_duration};
use crate::node::Pos;
use crate::registry::{OperatorSpec, ParamKind};
use crate::suggest::did_you_mean;

/// A parameter that is wrong, with where it was written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ArgError {
    /// Where in the file.
    pub at: Pos,
    /// Where in the document.
    pub path: String,
    /// What is wrong and what was expected.
    pub message: String,
}

struct Entry {
    expr: Expr,
    at: Pos,
}

/// The checked parameters of one task, for its operator's build function.
pub struct Args {
    entries: BTreeMap<String, Entry>,
    prefix: String,
}

impl Args {
    /// Checks `given` parameters against `spec`; `prefix` is the document path of the
    /// task's `with` and `task_at` where the task starts.
    pub(crate) fn check(
        spec: &OperatorSpec,
        given: Vec<(String, Pos, Expr)>,
        prefix: &str,
        task_at: Pos,
    ) -> Result<Args, ArgError> {
        let mut entries = BTreeMap::new();
        for (name, at, expr) in given {
            let path = format!("{prefix}.{name}");
            let Some(param) = spec.params.iter().find(|p| p.name == name) else {
                let names = spec.params.iter().map(|p| p.name);
                return Err(ArgError {
                    at,
                    path,
                    message: format!(
                        "{} has no parameter '{name}'{}",
                        spec.name,
                        did_you_mean(&name, names)
                    ),
                });
            };
            match expr.to_literal() {
                Some(value) => check_kind(param.kind, &value).map_err(|expected| ArgError {
                    at,
                    path: path.clone(),
                    message: format!("expected {expected}, found {}", json_kind(&value)),
                })?,
                None if !param.templated => {
                    return Err(ArgError {
                        at,
                        path,
                        message: format!(
                            "'{name}' cannot be templated or referenced; give {}",
                            param.kind.describe()
                        ),
                    });
                }
                None => {}
            }
            entries.insert(name, Entry { expr, at });
        }
        if let Some(missing) = spec
            .params
            .iter()
            .find(|p| p.required && !entries.contains_key(p.name))
        {
            return Err(ArgError {
                at: task_at,
                path: prefix.to_owned(),
                message: format!(
                    "{} needs the parameter '{}' ({})",
                    spec.name,
                    missing.name,
                    missing.kind.describe()
                ),
            });
        }
        Ok(Args {
            entries,
            prefix: prefix.to_owned(),
        })
    }

    fn error(&self, name: &str, at: Pos, message: impl Into<String>) -> ArgError {
        ArgError {
            at,
            path: format!("{}.{name}", self.prefix),
            message: message.into(),
        }
    }

    /// A parameter that may be templated: known now if literal (and converted to `T` now,
    /// so a wrong shape is reported when the file loads), resolved when the task runs
    /// otherwise.
    pub fn arg<T: DeserializeOwned>(&mut self, name: &str) -> Result<Option<Arg<T>>, ArgError> {
        let Some(entry) = self.entries.remove(name) else {
            return Ok(None);
        };
        Arg::from_expr(entry.expr)
            .map(Some)
            .map_err(|err| self.error(name, entry.at, err.to_string()))
    }

    /// A parameter every task of this operator has.
    pub fn required<T: DeserializeOwned>(&mut self, name: &str) -> Result<Arg<T>, ArgError> {
        self.arg(name)?.ok_or_else(|| ArgError {
            at: Pos::default(),
            path: format!("{}.{name}", self.prefix),
            message: format!("the parameter '{name}' is missing"),
        })
    }

    /// A parameter that must be a literal.
    pub fn literal<T: DeserializeOwned>(&mut self, name: &str) -> Result<Option<T>, ArgError> {
        let Some(entry) = self.entries.remove(name) else {
            return Ok(None);
        };
        let value = entry
            .expr
            .to_literal()
            .ok_or_else(|| self.error(name, entry.at, "give a literal value here"))?;
        serde_json::from_value(value)
            .map(Some)
            .map_err(|err| self.error(name, entry.at, err.to_string()))
    }

    /// A duration parameter: seconds, or text such as `90s`.
    pub fn duration(&mut self, name: &str) -> Result<Option<Duration>, ArgError> {
        let Some(entry) = self.entries.remove(name) else {
            return Ok(None);
        };
        let parsed = match entry.expr.to_literal() {
            Some(Json::Number(n)) => seconds_to_duration(n.as_f64().unwrap_or(-1.0)),
            Some(Json::String(text)) => parse_duration(&text),
            _ => Err("expected a duration".to_owned()),
        };
        parsed
            .map(Some)
            .map_err(|message| self.error(name, entry.at, message))
    }

    /// A parameter's expression as written.
    pub fn expr(&mut self, name: &str) -> Option<Expr> {
        self.entries.remove(name).map(|entry| entry.expr)
    }

    /// The base sensor parameters given, on top of `base`.
    pub fn sensor_settings(&mut self, base: SensorSettings) -> Result<SensorSettings, ArgError> {
        let mut settings = base;
        if let Some(interval) = self.duration("poke_interval")? {
            settings.poke_interval = interval;
        }
        if let Some(timeout) = self.duration("timeout")? {
            settings.timeout = timeout;
        }
        if let Some(mode) = self.literal::<String>("mode")? {
            settings.mode = mode.parse::<SensorMode>().map_err(|err| ArgError {
                at: Pos::default(),
                path: format!("{}.mode", self.prefix),
                message: err.to_string(),
            })?;
        }
        if let Some(soft_fail) = self.literal("soft_fail")? {
            settings.soft_fail = soft_fail;
        }
        if let Some(backoff) = self.literal("exponential_backoff")? {
            settings.exponential_backoff = backoff;
        }
        settings.max_wait = self.duration("max_wait")?.or(settings.max_wait);
        Ok(settings)
    }
}

fn json_kind(value: &Json) -> &'static str {
    match value {
        Json::Null => "null",
        Json::Bool(_) => "a boolean",
        Json::Number(_) => "a number",
        Json::String(_) => "a string",
        Json::Array(_) => "a list",
        Json::Object(_) => "a map",
    }
}

/// Checks a literal against a parameter's kind; the error is what was expected.
fn check_kind(kind: ParamKind, value: &Json) -> Result<(), String> {
    let fits = match kind {
        ParamKind::Str => value.is_string(),
        ParamKind::NullableStr => value.is_string() || value.is_null(),
        ParamKind::Bool => value.is_boolean(),
        ParamKind::Count => value.as_u64().is_some(),
        ParamKind::Duration => match value {
            Json::Number(n) => n.as_f64().is_some_and(|s| s >= 0.0),
            Json::String(text) => parse_duration(text).is_ok(),
            _ => false,
        },
        ParamKind::Map => value.is_object(),
        ParamKind::StrMap => value
            .as_object()
            .is_some_and(|map| map.values().all(Json::is_string)),
        ParamKind::Codes => match value {
            Json::Null => true,
            Json::Number(n) => n.as_i64().is_some(),
            Json::Array(items) => items.iter().all(|i| i.as_i64().is_some()),
            _ => false,
        },
        ParamKind::BoolOrStr => value.is_boolean() || value.is_string(),
        ParamKind::OneOf(words) => value.as_str().is_some_and(|w| words.contains(&w)),
    };
    if fits { Ok(()) } else { Err(kind.describe()) }
}
