//! Tasks made from Rust async closures.

use std::future::Future;

use async_trait::async_trait;
use gust_core::{Operator, Outcome, TaskContext, TaskError};
use serde_json::Value;

/// A task that runs a Rust async closure; its returned value (unless `null`) becomes the
/// task's XCom `return_value`. The closure gets its own copy of the task context.
///
/// ```
/// use gust_core::{Operator, Outcome, TaskContext};
/// use gust_standard::FnOperator;
///
/// let add = FnOperator::new(|_ctx: TaskContext| async { Ok(serde_json::json!(1 + 1)) });
/// # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
/// let out = add.execute(&TaskContext::for_test("add")).await.unwrap();
/// assert!(matches!(out, Outcome::Value(v) if v == 2));
/// # });
/// ```
pub struct FnOperator<F> {
    run: F,
}

impl<F, Fut> FnOperator<F>
where
    F: Fn(TaskContext) -> Fut + Send + Sync,
    Fut: Future<Output = Result<Value, TaskError>> + Send,
{
    /// A task that runs `run`.
    pub fn new(run: F) -> Self {
        FnOperator { run }
    }
}

#[async_trait]
impl<F, Fut> Operator for FnOperator<F>
where
    F: Fn(TaskContext) -> Fut + Send + Sync,
    Fut: Future<Output = Result<Value, TaskError>> + Send,
{
    async fn execute(&self, ctx: &TaskContext) -> Result<Outcome, TaskError> {
        match (self.run)(ctx.clone()).await? {
            Value::Null => Ok(Outcome::Nothing),
            value => Ok(Outcome::Value(value)),
        }
    }

    fn type_name(&self) -> &'static str {
        "FnOperator"
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn null_is_no_output_and_errors_pass_through() {
        let ctx = TaskContext::for_test("f");
        let quiet = FnOperator::new(|_| async { Ok(Value::Null) });
        assert!(matches!(
            quiet.execute(&ctx).await.unwrap(),
            Outcome::Nothing
        ));

        let reads_its_task = FnOperator::new(|ctx: TaskContext| async move {
            Ok(Value::String(ctx.task_id().to_string()))
        });
        assert!(matches!(
            reads_its_task.execute(&ctx).await.unwrap(),
            Outcome::Value(Value::String(id)) if id == "f"
        ));

        let fails = FnOperator::new(|_| async { Err(TaskError::fatal("no input")) });
        let err = fails.execute(&ctx).await.unwrap_err();
        assert!(err.to_string().contains("no input"), "{err}");
    }
}
