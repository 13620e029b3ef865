//! Concurrency limits: pools (shared by every run of an executor) and each DAG's
//! `max_active_tasks` (shared by every run of that DAG).
//!
//! A running attempt holds one slot of its DAG and `pool_slots` slots of its pool; a
//! deferred task, a sensor waiting in reschedule mode and a task waiting to retry hold
//! none. Whenever slots are released, every run waiting for slots is woken.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use tokio::sync::{OwnedSemaphorePermit, Semaphore, watch};

/// The number of slots of Airflow's `default_pool`.
pub const DEFAULT_POOL_SLOTS: usize = 128;

/// The executor's pools and per-DAG limits.
#[derive(Debug)]
pub(crate) struct Slots {
    pools: HashMap<String, (usize, Arc<Semaphore>)>,
    dags: Mutex<HashMap<Arc<str>, Arc<Semaphore>>>,
    released: watch::Sender<u64>,
}

/// Slots held by one running attempt; released when dropped.
#[derive(Debug)]
pub(crate) struct Held {
    permits: Option<(OwnedSemaphorePermit, OwnedSemaphorePermit)>,
    released: watch::Sender<u64>,
}

impl Drop for Held {
    fn drop(&mut self) {
        // Release the permits before announcing it, so a woken run finds them free.
        drop(self.permits.take());
        self.released
            .send_modify(|count| *count = count.wrapping_add(1));
    }
}

impl Slots {
    pub(crate) fn new(pools: &HashMap<String, usize>) -> Self {
        let pools = pools
            .iter()
            .map(|(name, slots)| (name.clone(), (*slots, Arc::new(Semaphore::new(*slots)))))
            .collect();
        Slots {
            pools,
            dags: Mutex::new(HashMap::new()),
            released: watch::channel(0).0,
        }
    }

    /// The size of a pool, if it exists.
    pub(crate) fn pool_size(&self, pool: &str) -> Option<usize> {
        self.pools.get(pool).map(|(size, _)| *size)
    }

    /// The semaphore limiting the running tasks of `dag_id`.
    pub(crate) fn dag_limit(&self, dag_id: &Arc<str>, max_active_tasks: usize) -> Arc<Semaphore> {
        let mut dags = self
            .dags
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        dags.entry(dag_id.clone())
            .or_insert_with(|| Arc::new(Semaphore::new(max_active_tasks)))
            .clone()
    }

    /// A receiver that sees a change whenever slots are released.
    pub(crate) fn watch_releases(&self) -> watch::Receiver<u64> {
        self.released.subscribe()
    }

    /// Takes a DAG slot and `count` slots of `pool`, if all are free now.
    pub(crate) fn try_take(&self, dag: &Arc<Semaphore>, pool: &str, count: u32) -> Take {
        let Ok(dag_permit) = dag.clone().try_acquire_owned() else {
            return Take::DagFull;
        };
        let Some((_, pool)) = self.pools.get(pool) else {
            return Take::PoolFull;
        };
        match pool.clone().try_acquire_many_owned(count) {
            Ok(pool_permit) => Take::Taken(Held {
                permits: Some((dag_permit, pool_permit)),
                released: self.released.clone(),
            }),
            Err(_) => Take::PoolFull,
        }
    }
}

/// The result of trying to take slots.
pub(crate) enum Take {
    /// The slots are held until the value is dropped.
    Taken(Held),
    /// The DAG runs `max_active_tasks` tasks already.
    DagFull,
    /// The pool has too few free slots.
    PoolFull,
}
