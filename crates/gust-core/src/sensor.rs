//! The Sensor trait: a task that waits for a condition by poking until it holds.

use std::fmt;
use std::str::FromStr;
use std::time::Duration;

use async_trait::async_trait;
use serde::{Deserialize, Serialize};

use crate::context::TaskContext;
use crate::error::TaskError;
use crate::expr::XComRef;
use crate::operator::{Deferral, EXECUTE_COMPLETE, Outcome, short_type_name};
use crate::state::UnknownName;
use crate::trigger::TriggerEvent;

/// How a sensor waits between pokes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SensorMode {
    /// Holds its slot and sleeps between pokes (the default).
    #[default]
    Poke,
    /// Releases its slot between pokes (`up_for_reschedule`).
    Reschedule,
}

impl FromStr for SensorMode {
    type Err = UnknownName;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "poke" => Ok(SensorMode::Poke),
            "reschedule" => Ok(SensorMode::Reschedule),
            other => Err(UnknownName::new(
                "sensor mode",
                other,
                ["poke", "reschedule"],
            )),
        }
    }
}

impl fmt::Display for SensorMode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            SensorMode::Poke => "poke",
            SensorMode::Reschedule => "reschedule",
        })
    }
}

/// The base sensor parameters, with Airflow's names and defaults.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SensorSettings {
    /// The wait between pokes (default 60 s).
    pub poke_interval: Duration,
    /// How long the sensor may wait in all, per try (default 7 days).
    pub timeout: Duration,
    /// Poke or reschedule (default poke).
    pub mode: SensorMode,
    /// Skip instead of failing when the timeout passes (default false).
    pub soft_fail: bool,
    /// Grow the wait between pokes exponentially, with jitter (default false).
    pub exponential_backoff: bool,
    /// The longest wait between pokes when backing off.
    pub max_wait: Option<Duration>,
}

impl Default for SensorSettings {
    fn default() -> Self {
        SensorSettings {
            poke_interval: Duration::from_secs(60),
            timeout: Duration::from_secs(7 * 24 * 60 * 60),
            mode: SensorMode::Poke,
            soft_fail: false,
            exponential_backoff: false,
            max_wait: None,
        }
    }
}

/// A task that waits until a condition holds.
///
/// The executor owns the waiting: it pokes, sleeps or reschedules per the sensor's
/// [`SensorSettings`], and fails (or skips, with `soft_fail`) when the timeout passes.
/// A deferrable sensor returns a deferral from [`defer`](Sensor::defer) instead, and the
/// executor's triggerer does the waiting.
///
/// ```
/// use async_trait::async_trait;
/// use gust_core::{Sensor, SensorSettings, TaskContext, TaskError};
///
/// struct FileExists(std::path::PathBuf);
///
/// #[async_trait]
/// impl Sensor for FileExists {
///     fn settings(&self) -> SensorSettings { SensorSettings::default() }
///     async fn poke(&self, _ctx: &TaskContext) -> Result<bool, TaskError> {
///         Ok(self.0.exists())
///     }
/// }
///
/// # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
/// let sensor = FileExists("/".into());
/// assert!(sensor.poke(&TaskContext::for_test("wait_for_root")).await.unwrap());
/// # });
/// ```
#[async_trait]
pub trait Sensor: Send + Sync {
    /// How the executor waits for this sensor.
    fn settings(&self) -> SensorSettings;

    /// Checks the condition once.
    async fn poke(&self, ctx: &TaskContext) -> Result<bool, TaskError>;

    /// Called at the start of each try; a deferrable sensor returns the deferral that
    /// waits for it, and is not poked.
    async fn defer(&self, ctx: &TaskContext) -> Result<Option<Deferral>, TaskError> {
        let _ = ctx;
        Ok(None)
    }

    /// Resumes a deferred sensor with its trigger's event, through the method the
    /// deferral named. The default knows only `execute_complete`.
    async fn resume(
        &self,
        ctx: &TaskContext,
        method_name: &str,
        event: TriggerEvent,
    ) -> Result<Outcome, TaskError> {
        if method_name == EXECUTE_COMPLETE {
            self.execute_complete(ctx, event).await
        } else {
            Err(TaskError::fatal(format!(
                "{} cannot resume with method '{method_name}'",
                self.type_name()
            )))
        }
    }

    /// Resumes a deferred sensor; the default succeeds without a value.
    async fn execute_complete(
        &self,
        ctx: &TaskContext,
        event: TriggerEvent,
    ) -> Result<Outcome, TaskError> {
        let _ = (ctx, event);
        Ok(Outcome::Nothing)
    }

    /// Called when a running or deferred attempt is stopped.
    async fn on_kill(&self, ctx: &TaskContext) {
        let _ = ctx;
    }

    /// The other tasks' XCom values this sensor's parameters reference.
    fn xcom_refs(&self) -> Vec<XComRef> {
        Vec::new()
    }

    /// The sensor's type name, as shown in DAG listings and logs.
    fn type_name(&self) -> &'static str {
        short_type_name(std::any::type_name::<Self>())
    }
}
