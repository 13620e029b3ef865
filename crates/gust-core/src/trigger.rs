//! The Trigger trait: a wait that runs in the executor's triggerer, not in a worker slot.

use std::collections::HashMap;
use std::fmt;
use std::sync::Arc;

use async_trait::async_trait;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::clock::SharedClock;

/// The one event a trigger yields.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TriggerEvent {
    /// What the trigger reports, handed to the resumed task.
    pub payload: Value,
}

impl TriggerEvent {
    /// An event carrying `payload`.
    pub fn new(payload: Value) -> Self {
        TriggerEvent { payload }
    }
}

/// What a trigger can use while it runs.
#[derive(Debug, Clone)]
pub struct TriggerContext {
    /// The clock to read time and sleep with.
    pub clock: SharedClock,
    /// The span of the deferred task; the trigger's events land in its log.
    pub span: tracing::Span,
}

/// A trigger that failed instead of yielding an event; the deferred task fails with it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct TriggerError(pub String);

/// A trigger in its stored form: a registered kind and its arguments.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SerializedTrigger {
    /// The name the trigger is registered under.
    pub kind: String,
    /// The arguments that rebuild it.
    pub args: Value,
}

/// A wait for an outside condition, run many at once on one runtime.
///
/// A trigger must be serializable to its kind and arguments so that a durable store can
/// keep it and a restarted process can rebuild it through a [`TriggerRegistry`].
///
/// ```
/// use async_trait::async_trait;
/// use serde_json::json;
/// use gust_core::trigger::{Trigger, TriggerContext, TriggerError, TriggerEvent};
///
/// #[derive(Debug)]
/// struct Ready;
///
/// #[async_trait]
/// impl Trigger for Ready {
///     fn kind(&self) -> &'static str { "example.Ready" }
///     fn args(&self) -> serde_json::Value { json!({}) }
///     async fn run(&self, _ctx: TriggerContext) -> Result<TriggerEvent, TriggerError> {
///         Ok(TriggerEvent::new(json!({"status": "success"})))
///     }
/// }
/// assert_eq!(Ready.serialize().kind, "example.Ready");
/// ```
#[async_trait]
pub trait Trigger: Send + Sync + fmt::Debug {
    /// The name this trigger is registered under.
    fn kind(&self) -> &'static str;

    /// The arguments that rebuild this trigger.
    fn args(&self) -> Value;

    /// Waits for the condition and yields its event.
    async fn run(&self, ctx: TriggerContext) -> Result<TriggerEvent, TriggerError>;

    /// The trigger in its stored form.
    fn serialize(&self) -> SerializedTrigger {
        SerializedTrigger {
            kind: self.kind().to_owned(),
            args: self.args(),
        }
    }
}

/// Builds a trigger from its stored arguments.
pub type TriggerFactory =
    Arc<dyn Fn(&Value) -> Result<Box<dyn Trigger>, String> + Send + Sync + 'static>;

/// Trigger kinds and how to rebuild each from its arguments.
#[derive(Clone, Default)]
pub struct TriggerRegistry {
    factories: HashMap<String, TriggerFactory>,
}

impl TriggerRegistry {
    /// An empty registry.
    pub fn new() -> Self {
        Self::default()
    }

    /// Registers how to rebuild triggers of `kind`.
    pub fn register(
        &mut self,
        kind: &str,
        factory: impl Fn(&Value) -> Result<Box<dyn Trigger>, String> + Send + Sync + 'static,
    ) {
        self.factories.insert(kind.to_owned(), Arc::new(factory));
    }

    /// Rebuilds a trigger from its stored form.
    pub fn rebuild(&self, stored: &SerializedTrigger) -> Result<Box<dyn Trigger>, String> {
        let factory = self
            .factories
            .get(&stored.kind)
            .ok_or_else(|| format!("no trigger of kind '{}' is registered", stored.kind))?;
        factory(&stored.args).map_err(|err| format!("rebuilding trigger '{}': {err}", stored.kind))
    }

    /// The registered kinds, sorted.
    pub fn kinds(&self) -> Vec<&str> {
        let mut kinds: Vec<&str> = self.factories.keys().map(String::as_str).collect();
        kinds.sort_unstable();
        kinds
    }
}

impl fmt::Debug for TriggerRegistry {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TriggerRegistry")
            .field("kinds", &self.kinds())
            .finish()
    }
}
