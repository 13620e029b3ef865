//! Per-operation call counters, so that a test can check how many calls of each kind a client
//! made (and how many of them were throttled).

use std::collections::BTreeMap;
use std::sync::Mutex;

/// A snapshot of the calls the service has received, by operation name (the part after
/// `AmazonSSM.` in `X-Amz-Target`, whether or not the service implements it).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Counters {
    calls: BTreeMap<String, Count>,
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
struct Count {
    calls: u64,
    throttled: u64,
}

impl Counters {
    /// How many calls of `operation` arrived, throttled ones included.
    pub fn get(&self, operation: &str) -> u64 {
        self.calls.get(operation).map_or(0, |count| count.calls)
    }

    /// How many calls of `operation` were answered with ThrottlingException.
    pub fn throttled(&self, operation: &str) -> u64 {
        self.calls.get(operation).map_or(0, |count| count.throttled)
    }

    /// How many calls arrived, of all operations.
    pub fn total(&self) -> u64 {
        self.calls.values().map(|count| count.calls).sum()
    }

    /// How many calls were throttled, of all operations.
    pub fn total_throttled(&self) -> u64 {
        self.calls.values().map(|count| count.throttled).sum()
    }

    /// Each operation seen, with its number of calls.
    pub fn iter(&self) -> impl Iterator<Item = (&str, u64)> {
        self.calls
            .iter()
            .map(|(name, count)| (name.as_str(), count.calls))
    }
}

/// The live counters behind [`Counters`] snapshots.
#[derive(Debug, Default)]
pub(crate) struct CallCounters {
    inner: Mutex<Counters>,
}

impl CallCounters {
    pub(crate) fn record_call(&self, operation: &str) {
        self.update(operation, |count| count.calls += 1);
    }

    pub(crate) fn record_throttled(&self, operation: &str) {
        self.update(operation, |count| count.throttled += 1);
    }

    pub(crate) fn snapshot(&self) -> Counters {
        self.lock().clone()
    }

    fn update(&self, operation: &str, change: impl FnOnce(&mut Count)) {
        let mut counters = self.lock();
        match counters.calls.get_mut(operation) {
            Some(count) => change(count),
            None => change(counters.calls.entry(operation.to_owned()).or_default()),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Counters> {
        self.inner
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_calls_and_throttles_per_operation() {
        let live = CallCounters::default();
        live.record_call("SendCommand");
        live.record_call("SendCommand");
        live.record_throttled("SendCommand");
        live.record_call("GetParameter");

        let counters = live.snapshot();
        assert_eq!(counters.get("SendCommand"), 2);
        assert_eq!(counters.throttled("SendCommand"), 1);
        assert_eq!(counters.get("GetParameter"), 1);
        assert_eq!(counters.get("ListCommands"), 0);
        assert_eq!((counters.total(), counters.total_throttled()), (3, 1));
    }
}
