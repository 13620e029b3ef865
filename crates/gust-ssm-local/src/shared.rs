//! The state every request handler and every dispatcher shares.

use std::sync::{Mutex, MutexGuard, PoisonError};

use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use crate::Knobs;
use crate::counters::CallCounters;
use crate::exec::ProcessGroups;
use crate::fleet::Fleet;
use crate::state::Store;

#[derive(Debug)]
pub(crate) struct Shared {
    pub(crate) fleet: Fleet,
    pub(crate) store: Mutex<Store>,
    pub(crate) knobs: Knobs,
    pub(crate) counters: CallCounters,
    pub(crate) groups: ProcessGroups,
    /// Fired at shutdown; every command's cancel token descends from it.
    pub(crate) shutdown: CancellationToken,
    /// The command dispatchers, waited for at shutdown.
    pub(crate) dispatchers: TaskTracker,
}

impl Shared {
    pub(crate) fn store(&self) -> MutexGuard<'_, Store> {
        self.store.lock().unwrap_or_else(PoisonError::into_inner)
    }
}
