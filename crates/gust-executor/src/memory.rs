//! A [`Store`] that keeps runs in memory, for `gust dags test` and for tests.

use std::collections::HashMap;
use std::sync::{Mutex, MutexGuard};

use async_trait::async_trait;
use gust_core::{RunState, TaskState};
use serde_json::Value;

use crate::store::{
    Change, RunKey, RunRecord, RunSnapshot, Store, StoreError, TaskRecord, apply_to_task,
};

/// Runs kept in memory; gone when the process ends.
#[derive(Debug, Default)]
pub struct MemoryStore {
    runs: Mutex<HashMap<RunKey, RunEntry>>,
}

#[derive(Debug)]
struct RunEntry {
    run: RunRecord,
    tasks: Vec<TaskRecord>,
    task_index: HashMap<String, usize>,
    xcom: Keyed,
    task_data: Keyed,
}

/// (task, key) -> value, in insertion order.
#[derive(Debug, Default)]
struct Keyed {
    entries: Vec<(String, String, Value)>,
    index: HashMap<(String, String), usize>,
}

impl Keyed {
    fn upsert(&mut self, task_id: &str, key: &str, value: &Value) {
        let slot = (task_id.to_owned(), key.to_owned());
        match self.index.get(&slot) {
            Some(&at) => self.entries[at].2 = value.clone(),
            None => {
                self.index.insert(slot, self.entries.len());
                self.entries
                    .push((task_id.to_owned(), key.to_owned(), value.clone()));
            }
        }
    }
}

impl RunEntry {
    fn apply(&mut self, change: &Change) {
        match change {
            Change::Run { state, at } => {
                self.run.state = *state;
                if *state == RunState::Running && self.run.started_at.is_none() {
                    self.run.started_at = Some(*at);
                }
                if state.is_finished() {
                    self.run.ended_at = Some(*at);
                }
            }
            Change::Task(change) => {
                let at = match self.task_index.get(&*change.task_id) {
                    Some(&at) => at,
                    None => {
                        self.task_index
                            .insert(change.task_id.to_string(), self.tasks.len());
                        self.tasks.push(TaskRecord {
                            task_id: change.task_id.to_string(),
                            state: TaskState::None,
                            try_number: 0,
                            message: None,
                            wake_at: None,
                            deferral: None,
                            tries: Vec::new(),
                        });
                        self.tasks.len() - 1
                    }
                };
                apply_to_task(&mut self.tasks[at], change);
            }
            Change::XCom {
                task_id,
                key,
                value,
            } => self.xcom.upsert(task_id, key, value),
            Change::TaskData {
                task_id,
                key,
                value,
            } => self.task_data.upsert(task_id, key, value),
        }
    }
}

impl MemoryStore {
    /// An empty store.
    pub fn new() -> Self {
        Self::default()
    }

    fn runs(&self) -> MutexGuard<'_, HashMap<RunKey, RunEntry>> {
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
        runs.insert(
            run.key.clone(),
            RunEntry {
                run: run.clone(),
                tasks: Vec::new(),
                task_index: HashMap::new(),
                xcom: Keyed::default(),
                task_data: Keyed::default(),
            },
        );
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
        Ok(self.runs().get(run).map(|entry| RunSnapshot {
            run: entry.run.clone(),
            tasks: entry.tasks.clone(),
            xcom: entry.xcom.entries.clone(),
            task_data: entry.task_data.entries.clone(),
        }))
    }

    async fn list_runs(&self, dag_id: Option<&str>) -> Result<Vec<RunRecord>, StoreError> {
        let mut runs: Vec<RunRecord> = self
            .runs()
            .values()
            .filter(|entry| dag_id.is_none_or(|id| *entry.run.key.dag_id == *id))
            .map(|entry| entry.run.clone())
            .collect();
        runs.sort_by(|a, b| {
            (b.started_at, b.logical_date, &b.key).cmp(&(a.started_at, a.logical_date, &a.key))
        });
        Ok(runs)
    }
}
