//! A [`Store`] that keeps runs in memory, for `gust tasks test` and for tests.

use std::collections::HashMap;
use std::sync::{Mutex, MutexGuard};

use async_trait::async_trait;

use crate::store::{Change, RecordedRun, RunKey, RunRecord, RunSnapshot, Store, StoreError};

/// Runs kept in memory; gone when the process ends.
#[derive(Debug, Default)]
pub struct MemoryStore {
    runs: Mutex<HashMap<RunKey, RecordedRun>>,
}

impl MemoryStore {
    /// An empty store.
    pub fn new() -> Self {
        Self::default()
    }

    fn runs(&self) -> MutexGuard<'_, HashMap<RunKey, RecordedRun>> {
        // Changes are applied to a run entry only after every check passed, so a panic
        // cannot leave an entry half-changed; a poisoned lock still guards whole entries.
        self.runs
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

#[async_trait]
impl Store for MemoryStore {
    async fn create_run(&self, run: &RunRecord) -> Result<(), StoreError> {
        let mut runs = self.runs();
        if runs.contains_key(&run.key) {
            return Err(StoreError::RunExists(run.key.clone()));
        }
        runs.insert(run.key.clone(), RecordedRun::new(run.clone()));
        Ok(())
    }

    async fn apply(&self, run: &RunKey, changes: &[Change]) -> Result<(), StoreError> {
        let mut runs = self.runs();
        let entry = runs
            .get_mut(run)
            .ok_or_else(|| StoreError::NoSuchRun(run.clone()))?;
        for change in changes {
            entry.apply(change);
        }
        Ok(())
    }

    async fn load_run(&self, run: &RunKey) -> Result<Option<RunSnapshot>, StoreError> {
        Ok(self.runs().get(run).map(RecordedRun::snapshot))
    }

    async fn list_runs(&self, dag_id: Option<&str>) -> Result<Vec<RunRecord>, StoreError> {
        let mut runs: Vec<RunRecord> = self
            .runs()
            .values()
            .filter(|entry| dag_id.is_none_or(|id| *entry.run().key.dag_id == *id))
            .map(|entry| entry.run().clone())
            .collect();
        runs.sort_by(|a, b| {
            (b.started_at, b.logical_date, &b.key).cmp(&(a.started_at, a.logical_date, &a.key))
        });
        Ok(runs)
    }
}
