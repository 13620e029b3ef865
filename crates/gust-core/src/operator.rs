//! The Operator trait: a unit of work that a task runs.

use std::time::Duration;

use async_trait::async_trait;
use serde_json::Value;

use crate::context::TaskContext;
use crate::error::TaskError;
use crate::expr::XComRef;
use crate::trigger::{Trigger, TriggerEvent};

/// The name of the method a deferred task resumes with unless it names another.
pub const EXECUTE_COMPLETE: &str = "execute_complete";

/// How an operator's attempt ended when it did not fail.
#[derive(Debug)]
pub enum Outcome {
    /// Succeeded with a value, pushed to XCom as `return_value` (unless the task's
    /// `do_xcom_push` is false).
    Value(Value),
    /// Succeeded without a value.
    Nothing,
    /// Hands the wait to a trigger; the task resumes when the trigger fires.
    Defer(Deferral),
}

/// A request to wait for a trigger's event without holding a worker slot.
#[derive(Debug)]
pub struct Deferral {
    /// What to wait for.
    pub trigger: Box<dyn Trigger>,
    /// The operator method to resume with ([`EXECUTE_COMPLETE`] unless said otherwise).
    pub method_name: String,
    /// The longest time to wait; past it the task fails.
    pub timeout: Option<Duration>,
}

impl Deferral {
    /// A deferral to `trigger`, resuming with `execute_complete` and no timeout.
    pub fn new(trigger: impl Trigger + 'static) -> Self {
        Deferral {
            trigger: Box::new(trigger),
            method_name: EXECUTE_COMPLETE.to_owned(),
            timeout: None,
        }
    }

    /// The same deferral with a timeout.
    pub fn with_timeout(mut self, timeout: Duration) -> Self {
        self.timeout = Some(timeout);
        self
    }

    /// The same deferral resuming with another method.
    pub fn resuming_with(mut self, method_name: impl Into<String>) -> Self {
        self.method_name = method_name.into();
        self
    }
}

/// A unit of work a task runs, such as a shell command or an API call.
///
/// ```
/// use async_trait::async_trait;
/// use gust_core::{Operator, Outcome, TaskContext, TaskError};
///
/// struct Greet;
///
/// #[async_trait]
/// impl Operator for Greet {
///     async fn execute(&self, ctx: &TaskContext) -> Result<Outcome, TaskError> {
///         Ok(Outcome::Value(format!("hello from {}", ctx.task_id()).into()))
///     }
/// }
///
/// # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
/// let out = Greet.execute(&TaskContext::for_test("greet")).await.unwrap();
/// assert!(matches!(out, Outcome::Value(v) if v == "hello from greet"));
/// # });
/// ```
#[async_trait]
pub trait Operator: Send + Sync {
    /// Runs one attempt.
    async fn execute(&self, ctx: &TaskContext) -> Result<Outcome, TaskError>;

    /// Resumes a deferred attempt with its trigger's event, through the method the
    /// deferral named. The default knows only `execute_complete`.
    async fn resume(
        &self,
        ctx: &TaskContext,
        method_name: &str,
        event: TriggerEvent,
    ) -> Result<Outcome, TaskError> {
        if method_name == EXECUTE_COMPLETE {
            self.execute_complete(ctx, event).await
        } else {
            Err(TaskError::fatal(format!(
                "{} cannot resume with method '{method_name}'",
                self.type_name()
            )))
        }
    }

    /// Resumes a deferred attempt with its trigger's event.
    async fn execute_complete(
        &self,
        ctx: &TaskContext,
        event: TriggerEvent,
    ) -> Result<Outcome, TaskError> {
        let _ = (ctx, event);
        Err(TaskError::fatal(format!(
            "{} deferred but does not resume from a trigger",
            self.type_name()
        )))
    }

    /// Called when a running or deferred attempt is stopped (its execution_timeout passed
    /// or the run was cancelled), to clean up what it started elsewhere.
    async fn on_kill(&self, ctx: &TaskContext) {
        let _ = ctx;
    }

    /// The other tasks' XCom values this operator's parameters reference; each referenced
    /// task becomes upstream of this one.
    fn xcom_refs(&self) -> Vec<XComRef> {
        Vec::new()
    }

    /// The operator's type name, as shown in DAG listings and logs.
    fn type_name(&self) -> &'static str {
        short_type_name(std::any::type_name::<Self>())
    }
}

/// The last segment of a Rust type path: `gust_standard::bash::BashOperator` ->
/// `BashOperator`.
pub fn short_type_name(full: &'static str) -> &'static str {
    let base = full.split('<').next().unwrap_or(full);
    base.rsplit("::").next().unwrap_or(base)
}
