//! `CommandFilter`s of ListCommands and ListCommandInvocations: InvokedAfter, InvokedBefore,
//! Status, DocumentName, and (ListCommands only) ExecutionStage.

use std::time::SystemTime;

use serde::Deserialize;

use crate::protocol::{ApiError, Violations};
use crate::state::{CommandRecord, InvocationRecord, Summary};
use crate::time::parse_instant;

/// A filter as the API shapes it (lower-case member names).
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub(crate) struct FilterInput {
    key: Option<String>,
    value: Option<String>,
}

/// Which listing a filter is for; they accept different keys and statuses.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Listing {
    Commands,
    Invocations,
}

impl Listing {
    fn operation(self) -> &'static str {
        match self {
            Listing::Commands => "ListCommands",
            Listing::Invocations => "ListCommandInvocations",
        }
    }

    fn statuses(self) -> &'static [&'static str] {
        match self {
            Listing::Commands => &[
                "Pending",
                "InProgress",
                "Success",
                "Cancelled",
                "Failed",
                "TimedOut",
                "AccessDenied",
                "DeliveryTimedOut",
                "ExecutionTimedOut",
                "Incomplete",
                "NoInstancesInTag",
                "LimitExceeded",
            ],
            Listing::Invocations => &[
                "Pending",
                "InProgress",
                "Delayed",
                "Success",
                "Cancelled",
                "Failed",
                "TimedOut",
                "AccessDenied",
                "DeliveryTimedOut",
                "ExecutionTimedOut",
                "Undeliverable",
                "InvalidPlatform",
                "Terminated",
            ],
        }
    }
}

/// A checked filter.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Filter {
    InvokedAfter(SystemTime),
    InvokedBefore(SystemTime),
    Status(String),
    /// `true` for Complete, `false` for Executing.
    Complete(bool),
    DocumentName(String),
}

/// Checks the filters of a listing request.
pub(crate) fn parse(
    filters: Option<&[FilterInput]>,
    listing: Listing,
) -> Result<Vec<Filter>, ApiError> {
    let Some(filters) = filters else {
        return Ok(Vec::new());
    };

    let mut violations = Violations::default();
    if filters.is_empty() {
        violations.add(
            "0 items",
            "filters",
            "have length greater than or equal to 1",
        );
    }
    violations.max_len(Some(filters), "filters", 5);
    for filter in filters {
        match (&filter.key, &filter.value) {
            (None, _) => violations.missing("filters.member.key"),
            (_, None) => violations.missing("filters.member.value"),
            (Some(_), Some(value)) if value.is_empty() || value.chars().count() > 128 => violations
                .add(
                    value,
                    "filters.member.value",
                    "have length between 1 and 128",
                ),
            _ => {}
        }
    }
    violations.into_result()?;

    filters
        .iter()
        .map(|filter| {
            let key = filter.key.as_deref().unwrap_or_default();
            let value = filter.value.as_deref().unwrap_or_default();
            one(key, value, listing)
        })
        .collect()
}

fn one(key: &str, value: &str, listing: Listing) -> Result<Filter, ApiError> {
    let bad_value =
        |what: &str| ApiError::validation(format!("filter {key} needs {what}, not {value:?}"));
    match key {
        "InvokedAfter" | "InvokedBefore" => {
            let time = parse_instant(value).ok_or_else(|| bad_value("a timestamp"))?;
            Ok(if key == "InvokedAfter" {
                Filter::InvokedAfter(time)
            } else {
                Filter::InvokedBefore(time)
            })
        }
        "Status" if listing.statuses().contains(&value) => Ok(Filter::Status(value.to_owned())),
        "Status" => Err(bad_value(&format!(
            "one of {}",
            listing.statuses().join(", ")
        ))),
        "DocumentName" => Ok(Filter::DocumentName(value.to_owned())),
        "ExecutionStage" if listing == Listing::Commands => match value {
            "Executing" => Ok(Filter::Complete(false)),
            "Complete" => Ok(Filter::Complete(true)),
            _ => Err(bad_value("Executing or Complete")),
        },
        _ => Err(ApiError::invalid_filter_key(key, listing.operation())),
    }
}

/// Whether a status filter value names this status (or its details, without spaces).
fn names(value: &str, status: &str, details: &str) -> bool {
    value == status || value == details.replace(' ', "")
}

/// Whether a command passes every filter.
pub(crate) fn keep_command(filters: &[Filter], record: &CommandRecord, summary: &Summary) -> bool {
    filters.iter().all(|filter| match filter {
        Filter::Status(value) => names(value, summary.status, summary.details),
        Filter::Complete(complete) => record.is_finished() == *complete,
        other => common(other, record),
    })
}

/// Whether an invocation passes every filter.
pub(crate) fn keep_invocation(
    filters: &[Filter],
    record: &CommandRecord,
    invocation: &InvocationRecord,
) -> bool {
    filters.iter().all(|filter| match filter {
        Filter::Status(value) => names(
            value,
            invocation.status.status(),
            invocation.status.details(),
        ),
        Filter::Complete(complete) => invocation.status.is_terminal() == *complete,
        other => common(other, record),
    })
}

fn common(filter: &Filter, record: &CommandRecord) -> bool {
    match filter {
        Filter::InvokedAfter(time) => record.requested_at >= *time,
        Filter::InvokedBefore(time) => record.requested_at <= *time,
        Filter::DocumentName(name) => record.spec.document_name == *name,
        Filter::Status(_) | Filter::Complete(_) => true,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn input(key: &str, value: &str) -> FilterInput {
        FilterInput {
            key: Some(key.into()),
            value: Some(value.into()),
        }
    }

    #[test]
    fn keys_and_values_are_checked_per_listing() {
        let stage = [input("ExecutionStage", "Complete")];
        assert!(parse(Some(&stage), Listing::Commands).is_ok());
        let err = parse(Some(&stage), Listing::Invocations).unwrap_err();
        assert_eq!(err.code, "InvalidFilterKey");

        let err = parse(Some(&[input("Colour", "red")]), Listing::Commands).unwrap_err();
        assert_eq!(err.code, "InvalidFilterKey");

        let err = parse(Some(&[input("Status", "Sleeping")]), Listing::Invocations).unwrap_err();
        assert_eq!(err.code, "ValidationException");
        let err = parse(Some(&[input("InvokedAfter", "soon")]), Listing::Commands).unwrap_err();
        assert_eq!(err.code, "ValidationException");
        let err = parse(Some(&[]), Listing::Commands).unwrap_err();
        assert_eq!(err.code, "ValidationException");
    }

    #[test]
    fn status_values_match_statuses_and_details() {
        assert!(names("TimedOut", "TimedOut", "Delivery Timed Out"));
        assert!(names("DeliveryTimedOut", "TimedOut", "Delivery Timed Out"));
        assert!(!names(
            "ExecutionTimedOut",
            "TimedOut",
            "Delivery Timed Out"
        ));
        assert!(names("Incomplete", "Failed", "Incomplete"));
    }
}
