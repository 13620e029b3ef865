//! A run's XCom values and task state: kept in memory for reads, recorded in the store
//! before a write returns.

use std::collections::HashMap;
use std::sync::{Arc, RwLock};

use async_trait::async_trait;
use gust_core::RunData;
use serde_json::Value;

use crate::store::{Change, RunKey, Store};

type Entries = RwLock<HashMap<(Arc<str>, String), Value>>;

pub(crate) struct StoredRunData {
    store: Arc<dyn Store>,
    run: RunKey,
    xcom: Entries,
    task_data: Entries,
}

impl StoredRunData {
    pub(crate) fn new(store: Arc<dyn Store>, run: RunKey) -> Self {
        StoredRunData {
            store,
            run,
            xcom: RwLock::default(),
            task_data: RwLock::default(),
        }
    }

    /// Caches an XCom value the executor records itself, with the change that ends a try.
    pub(crate) fn cache_xcom(&self, task_id: Arc<str>, key: &str, value: Value) {
        insert(&self.xcom, task_id, key, value);
    }

    /// Loads the values a recorded run holds, to take the run up again.
    pub(crate) fn restore(&self, snapshot: &crate::store::RunSnapshot) {
        for (task_id, key, value) in &snapshot.xcom {
            insert(&self.xcom, task_id.as_str().into(), key, value.clone());
        }
        for (task_id, key, value) in &snapshot.task_data {
            insert(&self.task_data, task_id.as_str().into(), key, value.clone());
        }
    }

    /// Every XCom value of the run, sorted by task and key.
    pub(crate) fn all_xcom(&self) -> Vec<(String, String, Value)> {
        let entries = self.xcom.read().unwrap_or_else(|p| p.into_inner());
        let mut all: Vec<_> = entries
            .iter()
            .map(|((task, key), value)| (task.to_string(), key.clone(), value.clone()))
            .collect();
        all.sort_by(|a, b| (&a.0, &a.1).cmp(&(&b.0, &b.1)));
        all
    }
}

fn insert(entries: &Entries, task_id: Arc<str>, key: &str, value: Value) {
    entries
        .write()
        .unwrap_or_else(|p| p.into_inner())
        .insert((task_id, key.to_owned()), value);
}

fn get(entries: &Entries, task_id: &str, key: &str) -> Option<Value> {
    let entries = entries.read().unwrap_or_else(|p| p.into_inner());
    // Looking up by (&str, &str) would need a borrowed key type; the allocation is small
    // next to the rendering or API call that reads the value.
    entries.get(&(task_id.into(), key.to_owned())).cloned()
}

#[async_trait]
impl RunData for StoredRunData {
    fn xcom(&self, task_id: &str, key: &str) -> Option<Value> {
        get(&self.xcom, task_id, key)
    }

    async fn push_xcom(&self, task_id: &str, key: &str, value: Value) -> Result<(), String> {
        let task_id: Arc<str> = task_id.into();
        let change = Change::XCom {
            task_id: task_id.clone(),
            key: key.to_owned(),
            value: value.clone(),
        };
        self.store
            .apply(&self.run, &[change])
            .await
            .map_err(|err| err.to_string())?;
        insert(&self.xcom, task_id, key, value);
        Ok(())
    }

    fn task_state(&self, task_id: &str, key: &str) -> Option<Value> {
        get(&self.task_data, task_id, key)
    }

    async fn set_task_state(&self, task_id: &str, key: &str, value: Value) -> Result<(), String> {
        let task_id: Arc<str> = task_id.into();
        let change = Change::TaskData {
            task_id: task_id.clone(),
            key: key.to_owned(),
            value: value.clone(),
        };
        self.store
            .apply(&self.run, &[change])
            .await
            .map_err(|err| err.to_string())?;
        insert(&self.task_data, task_id, key, value);
        Ok(())
    }
}
