//! What a running task knows about its run: ids, dates, params, XCom, clock, cancellation.

use std::collections::HashMap;
use std::sync::{Arc, RwLock};

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use serde::de::DeserializeOwned;
use serde_json::{Map, Value};
use tokio_util::sync::CancellationToken;

use crate::clock::{SharedClock, SystemClock};
use crate::error::TaskError;
use crate::expr::{Arg, Expr, RETURN_VALUE};
use crate::template;

/// Where a run's XCom values and per-task state live while tasks run.
///
/// Reads are synchronous (templates read XCom while rendering); the executor keeps the
/// run's values in memory and writes through to its store. Writes are recorded durably
/// before they return.
#[async_trait]
pub trait RunData: Send + Sync {
    /// The XCom value `task_id` pushed under `key`, if any.
    fn xcom(&self, task_id: &str, key: &str) -> Option<Value>;

    /// Records an XCom value for `task_id` under `key`.
    async fn push_xcom(&self, task_id: &str, key: &str, value: Value) -> Result<(), String>;

    /// A value `task_id` saved in its task state under `key`, if any.
    fn task_state(&self, task_id: &str, key: &str) -> Option<Value>;

    /// Saves a value in the task state of `task_id`, to be read back by a later attempt or
    /// by the same attempt after a restart.
    async fn set_task_state(&self, task_id: &str, key: &str, value: Value) -> Result<(), String>;
}

/// Run data held only in memory, for tests and for operators run on their own.
#[derive(Debug, Default)]
pub struct MemoryRunData {
    xcom: RwLock<HashMap<(String, String), Value>>,
    state: RwLock<HashMap<(String, String), Value>>,
}

impl MemoryRunData {
    /// Empty run data.
    pub fn new() -> Self {
        Self::default()
    }

    /// Run data holding one XCom value, as if `task_id` had pushed it.
    pub fn with_xcom(self, task_id: &str, key: &str, value: Value) -> Self {
        write(&self.xcom).insert((task_id.to_owned(), key.to_owned()), value);
        self
    }
}

fn read<T>(lock: &RwLock<T>) -> std::sync::RwLockReadGuard<'_, T> {
    // Every update under these locks is a single map operation, so a poisoned lock still
    // guards consistent data.
    lock.read().unwrap_or_else(|poisoned| poisoned.into_inner())
}

fn write<T>(lock: &RwLock<T>) -> std::sync::RwLockWriteGuard<'_, T> {
    lock.write()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

#[async_trait]
impl RunData for MemoryRunData {
    fn xcom(&self, task_id: &str, key: &str) -> Option<Value> {
        read(&self.xcom)
            .get(&(task_id.to_owned(), key.to_owned()))
            .cloned()
    }

    async fn push_xcom(&self, task_id: &str, key: &str, value: Value) -> Result<(), String> {
        write(&self.xcom).insert((task_id.to_owned(), key.to_owned()), value);
        Ok(())
    }

    fn task_state(&self, task_id: &str, key: &str) -> Option<Value> {
        read(&self.state)
            .get(&(task_id.to_owned(), key.to_owned()))
            .cloned()
    }

    async fn set_task_state(&self, task_id: &str, key: &str, value: Value) -> Result<(), String> {
        write(&self.state).insert((task_id.to_owned(), key.to_owned()), value);
        Ok(())
    }
}

/// What every task of one DAG run shares.
#[derive(Clone)]
pub struct RunInfo {
    /// The DAG's id.
    pub dag_id: Arc<str>,
    /// The run's id.
    pub run_id: Arc<str>,
    /// The logical date (Airflow's `logical_date`) the run is for.
    pub logical_date: DateTime<Utc>,
    /// The DAG's params, overridden by the run's conf.
    pub params: Arc<Map<String, Value>>,
    /// The configuration the run was started with.
    pub conf: Arc<Value>,
    /// The run's XCom values and task state.
    pub data: Arc<dyn RunData>,
    /// The clock every task of the run uses.
    pub clock: SharedClock,
}

impl std::fmt::Debug for RunInfo {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RunInfo")
            .field("dag_id", &self.dag_id)
            .field("run_id", &self.run_id)
            .field("logical_date", &self.logical_date)
            .finish_non_exhaustive()
    }
}

/// The context of one task attempt.
///
/// Built by the executor for each attempt; tests build one with [`TaskContext::for_test`]
/// to run an operator on its own.
#[derive(Clone, Debug)]
pub struct TaskContext {
    run: Arc<RunInfo>,
    task_id: Arc<str>,
    operator: &'static str,
    try_number: u32,
    span: tracing::Span,
    cancel: CancellationToken,
}

impl TaskContext {
    /// The context of attempt `try_number` (from 1) of `task_id` in `run`.
    pub fn new(
        run: Arc<RunInfo>,
        task_id: Arc<str>,
        operator: &'static str,
        try_number: u32,
        cancel: CancellationToken,
    ) -> Self {
        let span = tracing::info_span!(
            "task",
            dag_id = %run.dag_id,
            run_id = %run.run_id,
            task_id = %task_id,
            try_number,
        );
        TaskContext {
            run,
            task_id,
            operator,
            try_number,
            span,
            cancel,
        }
    }

    /// A context for running one task on its own, for tests: DAG `test_dag`, run
    /// `test_run`, the system clock, empty params and in-memory run data. Adjust it with
    /// the `with_*` methods.
    pub fn for_test(task_id: &str) -> Self {
        let clock: SharedClock = Arc::new(SystemClock);
        let logical_date = clock.now();
        let run = RunInfo {
            dag_id: "test_dag".into(),
            run_id: "test_run".into(),
            logical_date,
            params: Arc::new(Map::new()),
            conf: Arc::new(Value::Object(Map::new())),
            data: Arc::new(MemoryRunData::new()),
            clock,
        };
        TaskContext::new(
            Arc::new(run),
            task_id.into(),
            "test",
            1,
            CancellationToken::new(),
        )
    }

    fn with_run(mut self, change: impl FnOnce(&mut RunInfo)) -> Self {
        let mut run = (*self.run).clone();
        change(&mut run);
        self.run = Arc::new(run);
        self
    }

    /// The same context with another clock.
    pub fn with_clock(self, clock: SharedClock) -> Self {
        self.with_run(|run| run.clock = clock)
    }

    /// The same context with other run data.
    pub fn with_data(self, data: Arc<dyn RunData>) -> Self {
        self.with_run(|run| run.data = data)
    }

    /// The same context with other params.
    pub fn with_params(self, params: Map<String, Value>) -> Self {
        self.with_run(|run| run.params = Arc::new(params))
    }

    /// The same context with another logical date.
    pub fn with_logical_date(self, logical_date: DateTime<Utc>) -> Self {
        self.with_run(|run| run.logical_date = logical_date)
    }

    /// The same context with another cancellation token.
    pub fn with_cancel(mut self, cancel: CancellationToken) -> Self {
        self.cancel = cancel;
        self
    }

    /// The run this attempt belongs to.
    pub fn run(&self) -> &RunInfo {
        &self.run
    }

    /// The DAG's id.
    pub fn dag_id(&self) -> &str {
        &self.run.dag_id
    }

    /// The run's id.
    pub fn run_id(&self) -> &str {
        &self.run.run_id
    }

    /// This task's id.
    pub fn task_id(&self) -> &str {
        &self.task_id
    }

    /// The short type name of this task's operator or sensor.
    pub fn operator(&self) -> &'static str {
        self.operator
    }

    /// Which try this is, from 1.
    pub fn try_number(&self) -> u32 {
        self.try_number
    }

    /// The run's logical date.
    pub fn logical_date(&self) -> DateTime<Utc> {
        self.run.logical_date
    }

    /// The DAG's params, overridden by the run's conf.
    pub fn params(&self) -> &Map<String, Value> {
        &self.run.params
    }

    /// The configuration the run was started with.
    pub fn conf(&self) -> &Value {
        &self.run.conf
    }

    /// The clock to read time and sleep with.
    pub fn clock(&self) -> &SharedClock {
        &self.run.clock
    }

    /// The tracing span of this attempt; events inside it land in the task's log.
    pub fn span(&self) -> &tracing::Span {
        &self.span
    }

    /// The token that fires when this attempt must stop.
    pub fn cancellation(&self) -> &CancellationToken {
        &self.cancel
    }

    /// Whether this attempt has been told to stop.
    pub fn is_cancelled(&self) -> bool {
        self.cancel.is_cancelled()
    }

    /// The value `task_id` pushed to XCom under `key`, if any.
    pub fn xcom_pull(&self, task_id: &str, key: &str) -> Option<Value> {
        self.run.data.xcom(task_id, key)
    }

    /// The value `task_id` returned, if any.
    pub fn output_of(&self, task_id: &str) -> Option<Value> {
        self.xcom_pull(task_id, RETURN_VALUE)
    }

    /// Pushes a value to XCom under `key` for this task.
    pub async fn xcom_push(&self, key: &str, value: Value) -> Result<(), TaskError> {
        self.run
            .data
            .push_xcom(&self.task_id, key, value)
            .await
            .map_err(|err| TaskError::failed(format!("recording XCom '{key}': {err}")))
    }

    /// A value this task saved in its task state, by this or an earlier attempt.
    pub fn task_state(&self, key: &str) -> Option<Value> {
        self.run.data.task_state(&self.task_id, key)
    }

    /// Saves a value in this task's state; it is recorded before this returns, so it
    /// survives a crash of the process right after.
    pub async fn set_task_state(&self, key: &str, value: Value) -> Result<(), TaskError> {
        self.run
            .data
            .set_task_state(&self.task_id, key, value)
            .await
            .map_err(|err| TaskError::failed(format!("recording task state '{key}': {err}")))
    }

    /// Resolves an expression: renders templates and reads XCom references.
    pub fn render(&self, expr: &Expr) -> Result<Value, TaskError> {
        match expr {
            Expr::Literal(value) => Ok(value.clone()),
            Expr::Template(source) => template::render(source, self)
                .map(Value::String)
                .map_err(|err| TaskError::failed(err.to_string())),
            Expr::XCom(reference) => self
                .xcom_pull(&reference.task_id, &reference.key)
                .ok_or_else(|| TaskError::failed(format!("{reference} was not found in XCom"))),
            Expr::List(items) => items.iter().map(|item| self.render(item)).collect(),
            Expr::Map(entries) => entries
                .iter()
                .map(|(key, value)| Ok((key.clone(), self.render(value)?)))
                .collect::<Result<Map<_, _>, _>>()
                .map(Value::Object),
        }
    }

    /// Resolves a typed parameter named `name` (the name appears in errors).
    pub fn resolve<T: DeserializeOwned + Clone>(
        &self,
        name: &str,
        arg: &Arg<T>,
    ) -> Result<T, TaskError> {
        match arg {
            Arg::Value(value) => Ok(value.clone()),
            Arg::Expr(expr) => {
                let value = self.render(expr).map_err(|err| match err {
                    TaskError::Failed { message, source } => TaskError::Failed {
                        message: format!("parameter '{name}': {message}"),
                        source,
                    },
                    other => other,
                })?;
                serde_json::from_value(value).map_err(|err| {
                    TaskError::failed(format!("parameter '{name}' has the wrong type: {err}"))
                })
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::expr::{XComRef, template};
    use serde_json::json;

    #[tokio::test]
    async fn xcom_pushes_are_read_back_by_key() {
        let ctx = TaskContext::for_test("producer");
        ctx.xcom_push("ids", json!(["a", "b"])).await.unwrap();
        assert_eq!(ctx.xcom_pull("producer", "ids"), Some(json!(["a", "b"])));
        assert_eq!(ctx.output_of("producer"), None);
    }

    #[test]
    fn references_resolve_from_xcom_and_name_what_is_missing() {
        let data = MemoryRunData::new().with_xcom("send", RETURN_VALUE, json!("cmd-1"));
        let ctx = TaskContext::for_test("wait").with_data(Arc::new(data));
        let arg: Arg<String> = XComRef::output("send").into();
        assert_eq!(ctx.resolve("command_id", &arg).unwrap(), "cmd-1");

        let missing: Arg<String> = XComRef::output("other").into();
        let err = ctx.resolve("command_id", &missing).unwrap_err().to_string();
        assert_eq!(
            err,
            "parameter 'command_id': the output of task 'other' was not found in XCom"
        );
    }

    #[test]
    fn resolved_values_must_have_the_parameter_type() {
        let ctx = TaskContext::for_test("t");
        let arg: Arg<u32> = template("not a number").into();
        let err = ctx.resolve("count", &arg).unwrap_err().to_string();
        assert!(
            err.starts_with("parameter 'count' has the wrong type"),
            "{err}"
        );
    }
}
