//! Where each run's DAG came from, for resuming it from the same file.

use std::path::{Path, PathBuf};

use gust_executor::{RunKey, StoreError};

use crate::codec::backend;
use crate::open::SqliteStore;

impl SqliteStore {
    /// Records that the run `key` is of the DAG in `dag_file`.
    pub async fn record_source(&self, key: &RunKey, dag_file: &Path) -> Result<(), StoreError> {
        let file = dag_file.to_string_lossy();
        sqlx::query(
            "INSERT INTO gust_run_source (dag_id, run_id, dag_file) VALUES (?, ?, ?) \
             ON CONFLICT (dag_id, run_id) DO UPDATE SET dag_file = excluded.dag_file",
        )
        .bind(&*key.dag_id)
        .bind(&*key.run_id)
        .bind(file.as_ref())
        .execute(&self.writer)
        .await
        .map_err(backend)?;
        Ok(())
    }

    /// The DAG file the run `key` was started from, if it was recorded.
    pub async fn source(&self, key: &RunKey) -> Result<Option<PathBuf>, StoreError> {
        let file: Option<String> = sqlx::query_scalar(
            "SELECT dag_file FROM gust_run_source WHERE dag_id = ? AND run_id = ?",
        )
        .bind(&*key.dag_id)
        .bind(&*key.run_id)
        .fetch_optional(&self.reader)
        .await
        .map_err(backend)?;
        Ok(file.map(PathBuf::from))
    }
}
