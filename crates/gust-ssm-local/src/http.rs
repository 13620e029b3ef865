//! The HTTP side: `POST /`, whose `X-Amz-Target` header names the operation. Every call
//! is counted, may be throttled or slowed by the knobs, then answered. `GET /counters`
//! gives the calls counted so far as JSON, for tests that run the service in another
//! process.

use std::sync::Arc;

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use tracing::debug;

use crate::Operation;
use crate::protocol::{self, ApiError};
use crate::shared::Shared;

const TARGET_PREFIX: &str = "AmazonSSM.";

pub(crate) fn router(shared: Arc<Shared>) -> Router {
    Router::new()
        .route("/", post(call))
        .route("/counters", get(counters))
        .with_state(shared)
}

/// `{"calls": {"SendCommand": 3, ...}, "throttled": {...}}`.
async fn counters(State(shared): State<Arc<Shared>>) -> Response {
    let counters = shared.counters.snapshot();
    let calls: serde_json::Map<String, serde_json::Value> = counters
        .iter()
        .map(|(name, count)| (name.to_owned(), count.into()))
        .collect();
    let throttled: serde_json::Map<String, serde_json::Value> = counters
        .iter()
        .map(|(name, _)| (name.to_owned(), counters.throttled(name).into()))
        .collect();
    axum::Json(serde_json::json!({"calls": calls, "throttled": throttled})).into_response()
}

async fn call(State(shared): State<Arc<Shared>>, headers: HeaderMap, body: Bytes) -> Response {
    let target = headers
        .get("x-amz-target")
        .and_then(|value| value.to_str().ok())
        .unwrap_or_default();
    let Some(name) = target.strip_prefix(TARGET_PREFIX) else {
        return ApiError::unknown_operation(target).into_response();
    };
    shared.counters.record_call(name);
    let operation = Operation::from_name(name);

    if !shared.knobs.admit(operation) {
        shared.counters.record_throttled(name);
        debug!(operation = name, rule = ?shared.knobs.rule_for(operation), "throttled");
        return ApiError::throttled().into_response();
    }
    let latency = shared.knobs.latency_for(operation);
    if !latency.is_zero() {
        tokio::time::sleep(latency).await;
    }

    let Some(operation) = operation else {
        return ApiError::unsupported_operation(name).into_response();
    };
    match crate::api::answer(&shared, operation, &body) {
        Ok(answer) => protocol::ok(answer),
        Err(err) => {
            debug!(operation = name, code = err.code, message = %err.message, "refused");
            err.into_response()
        }
    }
}
