//! How values are written in columns: states by name, times as RFC 3339 text in UTC with
//! microseconds (so that text order is time order), JSON as text.

use chrono::{DateTime, SecondsFormat, Utc};
use gust_executor::StoreError;
use serde_json::Value;

pub(crate) fn time(at: DateTime<Utc>) -> String {
    at.to_rfc3339_opts(SecondsFormat::Micros, true)
}

pub(crate) fn parse_time(text: &str) -> Result<DateTime<Utc>, StoreError> {
    DateTime::parse_from_rfc3339(text)
        .map(|at| at.with_timezone(&Utc))
        .map_err(|err| corrupt(format!("time '{text}': {err}")))
}

pub(crate) fn parse_opt_time(text: Option<String>) -> Result<Option<DateTime<Utc>>, StoreError> {
    text.as_deref().map(parse_time).transpose()
}

pub(crate) fn json(value: &Value) -> String {
    value.to_string()
}

pub(crate) fn parse_json(text: &str) -> Result<Value, StoreError> {
    serde_json::from_str(text).map_err(|err| corrupt(format!("JSON value: {err}")))
}

pub(crate) fn parse_state<T: std::str::FromStr>(text: &str) -> Result<T, StoreError> {
    text.parse()
        .map_err(|_| corrupt(format!("unknown state '{text}'")))
}

pub(crate) fn corrupt(what: String) -> StoreError {
    StoreError::Backend(format!("the store holds an unreadable {what}"))
}

pub(crate) fn backend(err: sqlx::Error) -> StoreError {
    StoreError::Backend(format!("the store failed: {err}"))
}
