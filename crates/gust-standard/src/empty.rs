//! An operator that does nothing, for grouping and joining branches.

use async_trait::async_trait;
use gust_core::{Operator, Outcome, TaskContext, TaskError};

/// Does nothing and succeeds; Airflow's `EmptyOperator`.
#[derive(Debug, Clone, Copy, Default)]
pub struct EmptyOperator;

#[async_trait]
impl Operator for EmptyOperator {
    async fn execute(&self, _ctx: &TaskContext) -> Result<Outcome, TaskError> {
        Ok(Outcome::Nothing)
    }
}
