//! The SSM JSON 1.1 wire format: decoding request bodies, and encoding answers and
//! AWS-shaped errors (`{"__type": "<Code>", "message": "..."}`), which the SDK maps onto its
//! modelled errors by code.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::de::DeserializeOwned;
use serde_json::{Value, json};

/// The content type of every request and answer.
pub(crate) const CONTENT_TYPE: &str = "application/x-amz-json-1.1";

/// An error answer: the SSM error code, a message, and the HTTP status it travels with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ApiError {
    pub(crate) code: &'static str,
    pub(crate) message: String,
    pub(crate) status: StatusCode,
}

impl ApiError {
    /// A client error (HTTP 400) with this code.
    pub(crate) fn new(code: &'static str, message: impl Into<String>) -> Self {
        ApiError {
            code,
            message: message.into(),
            status: StatusCode::BAD_REQUEST,
        }
    }

    pub(crate) fn serialization(detail: impl std::fmt::Display) -> Self {
        ApiError::new(
            "SerializationException",
            format!("the request body is not valid for this operation: {detail}"),
        )
    }

    pub(crate) fn throttled() -> Self {
        ApiError::new("ThrottlingException", "Rate exceeded")
    }

    pub(crate) fn unknown_operation(target: &str) -> Self {
        ApiError::new(
            "UnknownOperationException",
            format!("X-Amz-Target {target:?} does not name an AmazonSSM operation"),
        )
    }

    pub(crate) fn unsupported_operation(name: &str) -> Self {
        ApiError::new(
            "UnsupportedOperationException",
            format!(
                "the local SSM service does not support the operation {name}; it implements {}",
                crate::Operation::names()
            ),
        )
    }

    pub(crate) fn validation(message: impl Into<String>) -> Self {
        ApiError::new("ValidationException", message)
    }

    pub(crate) fn invalid_command_id(id: &str) -> Self {
        ApiError::new("InvalidCommandId", format!("no command has the id {id:?}"))
    }

    pub(crate) fn invocation_does_not_exist(command_id: &str, instance_id: &str) -> Self {
        ApiError::new(
            "InvocationDoesNotExist",
            format!("command {command_id} has no invocation on {instance_id} (yet)"),
        )
    }

    pub(crate) fn invalid_instance_ids(ids: &[&str]) -> Self {
        ApiError::new(
            "InvalidInstanceId",
            format!(
                "these instances are not managed nodes of this service: {}",
                ids.join(", ")
            ),
        )
    }

    pub(crate) fn duplicate_instance_id(id: &str) -> Self {
        ApiError::new(
            "DuplicateInstanceId",
            format!("instance id {id} is given more than once"),
        )
    }

    pub(crate) fn invalid_parameters(message: impl Into<String>) -> Self {
        ApiError::new("InvalidParameters", message)
    }

    pub(crate) fn invalid_next_token() -> Self {
        ApiError::new(
            "InvalidNextToken",
            "the NextToken is not one this service handed out",
        )
    }

    pub(crate) fn invalid_filter_key(key: &str, operation: &str) -> Self {
        ApiError::new(
            "InvalidFilterKey",
            format!("{key:?} is not a filter key {operation} accepts"),
        )
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = json!({ "__type": self.code, "message": self.message });
        (self.status, json_headers(), body.to_string()).into_response()
    }
}

/// A successful answer with this body.
pub(crate) fn ok(body: Value) -> Response {
    (StatusCode::OK, json_headers(), body.to_string()).into_response()
}

/// The content type, and a fresh request id as SSM sends with every answer.
fn json_headers() -> [(header::HeaderName, HeaderValue); 2] {
    let request_id = HeaderValue::try_from(uuid::Uuid::new_v4().to_string())
        .unwrap_or_else(|_| HeaderValue::from_static("local"));
    [
        (header::CONTENT_TYPE, HeaderValue::from_static(CONTENT_TYPE)),
        (
            header::HeaderName::from_static("x-amzn-requestid"),
            request_id,
        ),
    ]
}

/// Decodes a request body, which must be a JSON object, into an operation's input shape; an
/// empty body is `{}`.
pub(crate) fn decode<T: DeserializeOwned>(body: &[u8]) -> Result<T, ApiError> {
    let start = body.iter().position(|byte| !byte.is_ascii_whitespace());
    let body = match start.map(|at| body[at]) {
        None => b"{}".as_slice(),
        Some(b'{') => body,
        Some(_) => return Err(ApiError::serialization("expected a JSON object")),
    };
    serde_json::from_slice(body).map_err(ApiError::serialization)
}

/// Constraint violations of a request, gathered so that one answer lists them all, as SSM's
/// ValidationException does.
#[derive(Debug, Default)]
pub(crate) struct Violations {
    found: Vec<String>,
}

impl Violations {
    pub(crate) fn add(&mut self, value: impl std::fmt::Display, member: &str, rule: &str) {
        self.found.push(format!(
            "Value '{value}' at '{member}' failed to satisfy constraint: Member must {rule}"
        ));
    }

    pub(crate) fn missing(&mut self, member: &str) {
        self.add("null", member, "not be null");
    }

    pub(crate) fn range(&mut self, value: Option<i64>, member: &str, min: i64, max: i64) {
        match value {
            Some(v) if v < min => self.add(
                v,
                member,
                &format!("have value greater than or equal to {min}"),
            ),
            Some(v) if v > max => self.add(
                v,
                member,
                &format!("have value less than or equal to {max}"),
            ),
            _ => {}
        }
    }

    pub(crate) fn max_len<T>(&mut self, list: Option<&[T]>, member: &str, max: usize) {
        if let Some(list) = list.filter(|list| list.len() > max) {
            let value = format!("{} items", list.len());
            self.add(
                value,
                member,
                &format!("have length less than or equal to {max}"),
            );
        }
    }

    /// Err with one ValidationException naming every violation, if there was any.
    pub(crate) fn into_result(self) -> Result<(), ApiError> {
        match self.found.len() {
            0 => Ok(()),
            1 => Err(ApiError::validation(format!(
                "1 validation error detected: {}",
                self.found[0]
            ))),
            n => Err(ApiError::validation(format!(
                "{n} validation errors detected: {}",
                self.found.join("; ")
            ))),
        }
    }
}

#[cfg(test)]
mod tests {
    use serde::Deserialize;

    use super::*;

    #[derive(Debug, Deserialize)]
    #[serde(rename_all = "PascalCase")]
    struct Shape {
        #[serde(default)]
        max_results: Option<i64>,
    }

    #[test]
    fn bodies_that_do_not_fit_are_serialization_errors() {
        for body in [
            &b"{"[..],
            b"[]",
            b"{\"MaxResults\": \"ten\"}",
            b"\xff\xfe",
            b"null",
        ] {
            let err = decode::<Shape>(body).unwrap_err();
            assert_eq!(err.code, "SerializationException", "{body:?}");
        }
        assert_eq!(decode::<Shape>(b"").unwrap().max_results, None);
    }

    #[test]
    fn violations_are_counted_and_listed() {
        let mut violations = Violations::default();
        violations.range(Some(5), "timeoutSeconds", 30, 2_592_000);
        violations.max_len(Some(&[0; 51][..]), "instanceIds", 50);
        let err = violations.into_result().unwrap_err();

        assert_eq!(err.code, "ValidationException");
        assert!(
            err.message.starts_with("2 validation errors detected"),
            "{}",
            err.message
        );
        assert!(
            err.message.contains("less than or equal to 50"),
            "{}",
            err.message
        );
    }
}
