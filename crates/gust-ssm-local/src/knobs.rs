//! Knobs that tests and benchmarks turn while the service runs: how long a new command stays
//! invisible, which calls are throttled, how slow answers are, which nodes are offline, and
//! how long undelivered invocations wait.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use tokio::sync::watch;

use crate::throttle::{Gate, Throttle};
use crate::{Error, Operation};

/// The knobs' values. Every field's default leaves the service behaving like SSM on a quiet
/// day: nothing lagging, throttled, slowed or offline.
#[derive(Clone, Debug, Default, PartialEq)]
#[non_exhaustive]
pub struct KnobSettings {
    /// How long a new command's invocations stay invisible after SendCommand:
    /// GetCommandInvocation answers InvocationDoesNotExist and ListCommandInvocations leaves
    /// them out. It applies to commands sent while it is set.
    pub visibility_lag: Duration,
    /// Added to every answer.
    pub latency: Duration,
    /// Added to the answers of one operation, on top of `latency`.
    pub operation_latency: BTreeMap<Operation, Duration>,
    /// A rule applied to every call, whatever its operation, before the per-operation rules.
    pub throttle_all: Option<Throttle>,
    /// Rules for single operations.
    pub throttles: BTreeMap<Operation, Throttle>,
    /// Nodes that do not pick up commands: their invocations stay Pending until they come
    /// back, or end TimedOut (Delivery Timed Out) when the delivery timeout passes.
    pub offline_nodes: BTreeSet<String>,
    /// Replaces a command's TimeoutSeconds as its delivery timeout, so that tests need not
    /// wait the 30 seconds SSM allows at least. It applies to commands sent while it is set.
    pub delivery_timeout: Option<Duration>,
}

/// The knobs of a running service; every setter takes effect at once.
///
/// Throttling rules start counting afresh whenever any knob is changed.
///
/// ```
/// # #![allow(clippy::disallowed_methods)]
/// use std::time::Duration;
///
/// use gust_ssm_local::{DEFAULT_NODE_ID, Operation, ServiceConfig, SsmLocal, Throttle};
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), gust_ssm_local::Error> {
/// let service = SsmLocal::start(ServiceConfig::default()).await?;
/// let knobs = service.knobs();
/// knobs.set_visibility_lag(Duration::from_secs(2));
/// knobs.throttle_all(Throttle::fraction(0.5))?;
/// knobs.throttle(Operation::SendCommand, Throttle::rate(5.0, 10))?;
/// knobs.set_offline(DEFAULT_NODE_ID, true)?;
/// knobs.set_delivery_timeout(Some(Duration::from_millis(500)));
/// assert!(knobs.set_offline("mi-unknown", true).is_err());
/// # service.shutdown().await;
/// # Ok(())
/// # }
/// ```
#[derive(Debug)]
pub struct Knobs {
    state: Mutex<State>,
    node_ids: HashSet<String>,
    changes: watch::Sender<u64>,
}

#[derive(Debug)]
struct State {
    settings: KnobSettings,
    all_gate: Option<Gate>,
    gates: HashMap<Operation, Gate>,
}

impl State {
    fn new(settings: KnobSettings, now: Instant) -> Self {
        let all_gate = settings.throttle_all.map(|rule| Gate::new(rule, now));
        let gates = settings
            .throttles
            .iter()
            .map(|(op, rule)| (*op, Gate::new(*rule, now)))
            .collect();
        State {
            settings,
            all_gate,
            gates,
        }
    }
}

impl Knobs {
    pub(crate) fn new(
        settings: KnobSettings,
        node_ids: impl IntoIterator<Item = String>,
    ) -> Result<Self, Error> {
        let node_ids: HashSet<String> = node_ids.into_iter().collect();
        check(&settings, &node_ids)?;
        Ok(Knobs {
            state: Mutex::new(State::new(settings, Instant::now())),
            node_ids,
            changes: watch::channel(0).0,
        })
    }

    /// A copy of the current values.
    pub fn settings(&self) -> KnobSettings {
        self.lock().settings.clone()
    }

    /// Changes any knobs at once. The change is refused, and nothing changes, if a value is out
    /// of range or an offline node does not exist.
    pub fn update(&self, change: impl FnOnce(&mut KnobSettings)) -> Result<(), Error> {
        let mut state = self.lock();
        let mut settings = state.settings.clone();
        change(&mut settings);
        check(&settings, &self.node_ids)?;
        *state = State::new(settings, Instant::now());
        drop(state);

        self.changes.send_modify(|version| *version += 1);
        Ok(())
    }

    /// Sets the visibility lag of commands sent from now on.
    pub fn set_visibility_lag(&self, lag: Duration) {
        self.update_infallibly(|s| s.visibility_lag = lag);
    }

    /// Sets the latency added to every answer.
    pub fn set_latency(&self, latency: Duration) {
        self.update_infallibly(|s| s.latency = latency);
    }

    /// Sets the latency added to one operation's answers.
    pub fn set_operation_latency(&self, operation: Operation, latency: Duration) {
        self.update_infallibly(|s| {
            s.operation_latency.insert(operation, latency);
        });
    }

    /// Throttles one operation by `rule`.
    pub fn throttle(&self, operation: Operation, rule: Throttle) -> Result<(), Error> {
        self.update(|s| {
            s.throttles.insert(operation, rule);
        })
    }

    /// Throttles every call, of any operation, by `rule`.
    pub fn throttle_all(&self, rule: Throttle) -> Result<(), Error> {
        self.update(|s| s.throttle_all = Some(rule))
    }

    /// Removes every throttling rule.
    pub fn clear_throttling(&self) {
        self.update_infallibly(|s| {
            s.throttle_all = None;
            s.throttles.clear();
        });
    }

    /// Takes a node offline (`true`) or brings it back (`false`).
    pub fn set_offline(&self, node_id: &str, offline: bool) -> Result<(), Error> {
        self.update(|s| {
            if offline {
                s.offline_nodes.insert(node_id.to_owned());
            } else {
                s.offline_nodes.remove(node_id);
            }
        })
    }

    /// Sets the delivery timeout of commands sent from now on; `None` restores TimeoutSeconds.
    pub fn set_delivery_timeout(&self, timeout: Option<Duration>) {
        self.update_infallibly(|s| s.delivery_timeout = timeout);
    }

    /// Whether a call of `operation` (`None`: one the service does not implement) may pass.
    pub(crate) fn admit(&self, operation: Option<Operation>) -> bool {
        let now = Instant::now();
        let mut state = self.lock();
        if let Some(gate) = state.all_gate.as_mut()
            && !gate.admit(now)
        {
            return false;
        }
        match operation.and_then(|op| state.gates.get_mut(&op)) {
            Some(gate) => gate.admit(now),
            None => true,
        }
    }

    pub(crate) fn latency_for(&self, operation: Option<Operation>) -> Duration {
        let state = self.lock();
        let own = operation
            .and_then(|op| state.settings.operation_latency.get(&op).copied())
            .unwrap_or_default();
        state.settings.latency + own
    }

    /// A receiver that sees a change each time a knob is changed.
    pub(crate) fn subscribe(&self) -> watch::Receiver<u64> {
        self.changes.subscribe()
    }

    /// The throttling rule currently in force for `operation`, for logs.
    pub(crate) fn rule_for(&self, operation: Option<Operation>) -> Option<Throttle> {
        let state = self.lock();
        operation
            .and_then(|op| state.gates.get(&op).map(Gate::rule))
            .or_else(|| state.all_gate.as_ref().map(Gate::rule))
    }

    fn update_infallibly(&self, change: impl FnOnce(&mut KnobSettings)) {
        // Only throttle rules and offline nodes can be refused; these changes touch neither.
        if let Err(err) = self.update(change) {
            tracing::warn!(%err, "knob change refused");
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

fn check(settings: &KnobSettings, node_ids: &HashSet<String>) -> Result<(), Error> {
    let rules = settings
        .throttle_all
        .iter()
        .chain(settings.throttles.values());
    if let Some(problem) = rules.filter_map(Throttle::problem).next() {
        return Err(Error::InvalidKnob(problem));
    }
    if let Some(unknown) = settings
        .offline_nodes
        .iter()
        .find(|id| !node_ids.contains(*id))
    {
        return Err(Error::InvalidKnob(format!(
            "no node {unknown:?} to take offline"
        )));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn knobs() -> Knobs {
        Knobs::new(KnobSettings::default(), ["a".to_owned()]).unwrap()
    }

    #[test]
    fn per_operation_rules_leave_other_operations_alone() {
        let knobs = knobs();
        knobs
            .throttle(Operation::SendCommand, Throttle::fraction(1.0))
            .unwrap();

        assert!(!knobs.admit(Some(Operation::SendCommand)));
        assert!(knobs.admit(Some(Operation::ListCommands)));
        assert!(knobs.admit(None));
    }

    #[test]
    fn the_rule_for_all_calls_counts_calls_of_every_operation_together() {
        let knobs = knobs();
        knobs.throttle_all(Throttle::fraction(0.5)).unwrap();

        let passed: Vec<bool> = [
            Some(Operation::SendCommand),
            Some(Operation::ListCommands),
            None,
            Some(Operation::SendCommand),
        ]
        .into_iter()
        .map(|op| knobs.admit(op))
        .collect();
        assert_eq!(passed, [true, false, true, false]);
    }

    #[test]
    fn refused_changes_leave_everything_as_it_was() {
        let knobs = knobs();
        knobs.set_visibility_lag(Duration::from_secs(2));

        assert!(knobs.set_offline("nope", true).is_err());
        assert!(knobs.throttle_all(Throttle::fraction(2.0)).is_err());

        let settings = knobs.settings();
        assert!(settings.offline_nodes.is_empty() && settings.throttle_all.is_none());
        assert_eq!(settings.visibility_lag, Duration::from_secs(2));
    }

    #[test]
    fn latency_adds_the_operation_share() {
        let knobs = knobs();
        knobs.set_latency(Duration::from_millis(10));
        knobs.set_operation_latency(Operation::CancelCommand, Duration::from_millis(5));

        assert_eq!(
            knobs.latency_for(Some(Operation::CancelCommand)),
            Duration::from_millis(15)
        );
        assert_eq!(knobs.latency_for(None), Duration::from_millis(10));
    }

    #[test]
    fn changes_are_announced() {
        let knobs = knobs();
        let changes = knobs.subscribe();
        knobs.set_offline("a", true).unwrap();

        assert!(changes.has_changed().unwrap());
        assert!(knobs.settings().offline_nodes.contains("a"));
    }
}
