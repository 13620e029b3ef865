//! Operators, sensors and triggers with scripted behaviour, and a driver that runs a DAG
//! on a manual clock.

use std::collections::VecDeque;
use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use gust_core::trigger::{TriggerContext, TriggerError};
use gust_core::{
    Dag, Deferral, ManualClock, Operator, Outcome, Sensor, SensorSettings, TaskContext, TaskError,
    TaskState, Trigger, TriggerEvent,
};
use gust_executor::{EventKind, Executor, Jitter, RunEvent, RunOptions, RunReport};
use serde_json::{Value, json};
use tokio::sync::mpsc::unbounded_channel;
use tokio::sync::{Notify, watch};

pub(crate) fn t0() -> DateTime<Utc> {
    "2024-01-01T00:00:00Z".parse().unwrap()
}

pub(crate) fn secs(n: u64) -> Duration {
    Duration::from_secs(n)
}

pub(crate) fn at(seconds: i64) -> DateTime<Utc> {
    t0() + chrono::Duration::seconds(seconds)
}

/// An executor on a manual clock at [`t0`], without backoff jitter.
pub(crate) fn executor(clock: &ManualClock) -> Executor {
    Executor::in_memory()
        .with_clock(Arc::new(clock.clone()))
        .with_jitter(Jitter::Off)
}

/// What a run did: its report and every event it published.
pub(crate) struct Finished {
    pub(crate) report: RunReport,
    pub(crate) events: Vec<RunEvent>,
}

impl Finished {
    pub(crate) fn state(&self, task_id: &str) -> TaskState {
        self.report
            .state_of(task_id)
            .unwrap_or_else(|| panic!("no task {task_id}"))
    }

    /// (time, try, state) of every event of one task.
    pub(crate) fn history(&self, task_id: &str) -> Vec<(DateTime<Utc>, u32, TaskState)> {
        self.events
            .iter()
            .filter_map(|event| match &event.kind {
                EventKind::Task {
                    task_id: id,
                    try_number,
                    state,
                    ..
                } if &**id == task_id => Some((event.at, *try_number, *state)),
                _ => None,
            })
            .collect()
    }

    /// The times a task entered `state`.
    pub(crate) fn times(&self, task_id: &str, state: TaskState) -> Vec<DateTime<Utc>> {
        self.history(task_id)
            .into_iter()
            .filter(|(_, _, s)| *s == state)
            .map(|(at, _, _)| at)
            .collect()
    }

    pub(crate) fn message(&self, task_id: &str) -> String {
        self.report
            .task(task_id)
            .and_then(|t| t.message.clone())
            .unwrap_or_default()
    }
}

/// Runs `dag` to its end, moving the manual clock to each pending deadline whenever the
/// run waits on it. A real-time guard fails the test instead of hanging if the run
/// never ends.
pub(crate) async fn run_on(clock: &ManualClock, executor: &Executor, dag: Dag) -> Finished {
    run_with(clock, executor, dag, RunOptions::new().logical_date(t0())).await
}

pub(crate) async fn run_with(
    clock: &ManualClock,
    executor: &Executor,
    dag: Dag,
    options: RunOptions,
) -> Finished {
    let (events_tx, mut events_rx) = unbounded_channel();
    let handle = executor.start(Arc::new(dag), options.events(events_tx));
    let driven = async {
        let wait = handle.wait();
        tokio::pin!(wait);
        loop {
            tokio::select! {
                report = &mut wait => return report.expect("the run completes"),
                _ = clock.advance_to_next() => {}
            }
        }
    };
    let report = guard(driven).await;
    let mut events = Vec::new();
    while let Ok(event) = events_rx.try_recv() {
        events.push(event);
    }
    Finished { report, events }
}

/// Fails the test if `work` does not finish within 20 real seconds. This is a guard
/// against hangs, not a timing check: every wait in these tests is on the manual clock.
#[allow(clippy::disallowed_methods)]
pub(crate) async fn guard<F: std::future::Future>(work: F) -> F::Output {
    tokio::time::timeout(Duration::from_secs(20), work)
        .await
        .expect("the run did not finish: it is stuck")
}

/// Ends each try as scripted, in order; the last entry repeats.
pub(crate) struct Scripted {
    script: Mutex<VecDeque<Result<Value, TaskError>>>,
    pub(crate) calls: Arc<AtomicU32>,
}

impl Scripted {
    pub(crate) fn new(script: Vec<Result<Value, TaskError>>) -> Self {
        Scripted {
            script: Mutex::new(script.into()),
            calls: Arc::new(AtomicU32::new(0)),
        }
    }

    pub(crate) fn ok(value: Value) -> Self {
        Self::new(vec![Ok(value)])
    }

    pub(crate) fn failing(message: &str) -> Self {
        Self::new(vec![Err(TaskError::failed(message))])
    }
}

#[async_trait]
impl Operator for Scripted {
    async fn execute(&self, _ctx: &TaskContext) -> Result<Outcome, TaskError> {
        self.calls.fetch_add(1, Ordering::SeqCst);
        let mut script = self.script.lock().unwrap();
        let next = if script.len() > 1 {
            script.pop_front().unwrap()
        } else {
            match script.front().unwrap() {
                Ok(value) => Ok(value.clone()),
                Err(TaskError::Skip { message }) => Err(TaskError::skip(message.clone())),
                Err(TaskError::Fatal { message }) => Err(TaskError::fatal(message.clone())),
                Err(err) => Err(TaskError::failed(err.to_string())),
            }
        };
        next.map(Outcome::Value)
    }
}

/// Sleeps on the run's clock, then succeeds; records whether it was killed.
pub(crate) struct Sleeps {
    pub(crate) length: Duration,
    pub(crate) killed: Arc<AtomicBool>,
}

impl Sleeps {
    pub(crate) fn new(length: Duration) -> Self {
        Sleeps {
            length,
            killed: Arc::new(AtomicBool::new(false)),
        }
    }
}

#[async_trait]
impl Operator for Sleeps {
    async fn execute(&self, ctx: &TaskContext) -> Result<Outcome, TaskError> {
        ctx.clock().sleep(self.length).await;
        Ok(Outcome::Value(json!(ctx.clock().now().to_rfc3339())))
    }

    async fn on_kill(&self, _ctx: &TaskContext) {
        self.killed.store(true, Ordering::SeqCst);
    }
}

/// A sensor whose condition holds from its `holds_on`-th poke (never, if 0).
pub(crate) struct Counting {
    pub(crate) settings: SensorSettings,
    pub(crate) holds_on: u32,
    pub(crate) pokes: Arc<AtomicU32>,
}

impl Counting {
    pub(crate) fn new(settings: SensorSettings, holds_on: u32) -> Self {
        Counting {
            settings,
            holds_on,
            pokes: Arc::new(AtomicU32::new(0)),
        }
    }
}

#[async_trait]
impl Sensor for Counting {
    fn settings(&self) -> SensorSettings {
        self.settings.clone()
    }

    async fn poke(&self, _ctx: &TaskContext) -> Result<bool, TaskError> {
        let n = self.pokes.fetch_add(1, Ordering::SeqCst) + 1;
        Ok(self.holds_on != 0 && n >= self.holds_on)
    }
}

/// A trigger that fires after a wait on the clock, or when notified, or never.
#[derive(Debug, Clone)]
pub(crate) enum Fires {
    After(Duration),
    When(Arc<Notify>),
    /// Once the watched value is true.
    Once(watch::Receiver<bool>),
    Never,
}

#[derive(Debug)]
pub(crate) struct TestTrigger(pub(crate) Fires);

#[async_trait]
impl Trigger for TestTrigger {
    fn kind(&self) -> &'static str {
        "tests.TestTrigger"
    }

    fn args(&self) -> Value {
        json!({"fires": format!("{:?}", self.0)})
    }

    async fn run(&self, ctx: TriggerContext) -> Result<TriggerEvent, TriggerError> {
        match &self.0 {
            Fires::After(wait) => ctx.clock.sleep(*wait).await,
            Fires::When(notify) => notify.notified().await,
            Fires::Once(flag) => {
                let mut flag = flag.clone();
                let _ = flag.wait_for(|set| *set).await;
            }
            Fires::Never => std::future::pending().await,
        }
        Ok(TriggerEvent::new(
            json!({"fired_at": ctx.clock.now().to_rfc3339()}),
        ))
    }
}

/// Defers to a [`TestTrigger`] and returns the event's payload when resumed.
pub(crate) struct Defers {
    pub(crate) fires: Fires,
    pub(crate) timeout: Option<Duration>,
    pub(crate) killed: Arc<AtomicBool>,
}

impl Defers {
    pub(crate) fn new(fires: Fires) -> Self {
        Defers {
            fires,
            timeout: None,
            killed: Arc::new(AtomicBool::new(false)),
        }
    }
}

#[async_trait]
impl Operator for Defers {
    async fn execute(&self, _ctx: &TaskContext) -> Result<Outcome, TaskError> {
        let mut deferral = Deferral::new(TestTrigger(self.fires.clone()));
        deferral.timeout = self.timeout;
        Ok(Outcome::Defer(deferral))
    }

    async fn execute_complete(
        &self,
        ctx: &TaskContext,
        event: TriggerEvent,
    ) -> Result<Outcome, TaskError> {
        Ok(Outcome::Value(
            json!({"event": event.payload, "try": ctx.try_number()}),
        ))
    }

    async fn on_kill(&self, _ctx: &TaskContext) {
        self.killed.store(true, Ordering::SeqCst);
    }
}

/// Signals a notify when it runs.
pub(crate) struct Signals(pub(crate) Arc<Notify>);

#[async_trait]
impl Operator for Signals {
    async fn execute(&self, _ctx: &TaskContext) -> Result<Outcome, TaskError> {
        self.0.notify_one();
        Ok(Outcome::Nothing)
    }
}
