//! The work the executor spawns: task attempts, triggers, and kills of deferred tasks.
//!
//! Each runs as its own tokio task and reports back to its run's loop with one
//! [`Message`]. An attempt races its work against the task's `execution_timeout` and the
//! run's cancellation; when either wins, the work is dropped and the operator's `on_kill`
//! runs (bounded by a grace period) before the attempt reports.

use std::future::Future;
use std::time::Duration;

use chrono::{DateTime, Utc};
use gust_core::clock::elapsed;
use gust_core::error::humanize;
use gust_core::{
    Outcome, SensorMode, SensorSettings, TaskContext, TaskError, TaskKind, Trigger, TriggerContext,
    TriggerEvent,
};
use tokio::sync::mpsc::UnboundedSender;
use tracing::{Instrument, info, warn};

use crate::backoff::{Jitter, JitterSeed, poke_interval};

/// What an attempt does.
pub(crate) enum Work {
    /// The first run of a try: execute an operator, or defer or poke a sensor.
    Start,
    /// A further poke of a sensor in reschedule mode, in the same try.
    Poke,
    /// Resume a deferred task with its trigger's event.
    Resume {
        method_name: String,
        event: TriggerEvent,
    },
}

/// Where a sensor's try stands.
#[derive(Debug, Clone, Copy)]
pub(crate) struct SensorProgress {
    /// When the try's first poke started; the sensor's timeout counts from here.
    pub(crate) started_at: DateTime<Utc>,
    /// How many pokes of this try found the condition false.
    pub(crate) pokes: u32,
}

pub(crate) struct AttemptJob {
    pub(crate) index: usize,
    pub(crate) kind: TaskKind,
    pub(crate) ctx: TaskContext,
    pub(crate) work: Work,
    /// When `execution_timeout` ends the attempt, and its length.
    pub(crate) deadline: Option<(DateTime<Utc>, Duration)>,
    pub(crate) sensor: SensorProgress,
    pub(crate) jitter: Jitter,
    pub(crate) kill_grace: Duration,
}

/// How an attempt ended.
pub(crate) enum AttemptResult {
    /// The attempt is over.
    Finished(Result<Outcome, TaskError>),
    /// A sensor in reschedule mode found its condition false; poke again at `wake_at`.
    NotYet { pokes: u32, wake_at: DateTime<Utc> },
}

/// Why a trigger stopped waiting without an event.
#[derive(Debug, Clone, Copy)]
pub(crate) enum TriggerTimeout {
    /// The deferral's own timeout.
    Deferral(Duration),
    /// The task's execution_timeout, which also bounds its time deferred.
    Execution(Duration),
    /// A deferred sensor's timeout.
    Sensor(Duration),
}

impl TriggerTimeout {
    pub(crate) fn error(self) -> TaskError {
        match self {
            TriggerTimeout::Deferral(length) => TaskError::DeferralTimeout(length),
            TriggerTimeout::Execution(length) => TaskError::ExecutionTimeout(length),
            TriggerTimeout::Sensor(length) => sensor_timeout(length),
        }
    }
}

pub(crate) enum TriggerResult {
    Event(TriggerEvent),
    Failed(String),
    TimedOut(TriggerTimeout),
}

pub(crate) enum Message {
    Attempt {
        index: usize,
        result: AttemptResult,
    },
    Trigger {
        index: usize,
        serial: u64,
        result: TriggerResult,
    },
}

pub(crate) fn sensor_timeout(length: Duration) -> TaskError {
    TaskError::sensor_timeout(format!(
        "the sensor's condition did not hold within its timeout of {}",
        humanize(length)
    ))
}

/// The target of the messages that frame each attempt in its task's log: the terminal
/// shows the same steps as state changes, so `gust` leaves these to the log files.
pub const LIFECYCLE_TARGET: &str = "gust::task::lifecycle";

/// Runs one attempt and tells how it ended.
pub(crate) async fn run_attempt(job: AttemptJob) -> AttemptResult {
    let span = job.ctx.span().clone();
    async move {
        let what = match &job.work {
            Work::Start => "starting",
            Work::Poke => "poking again",
            Work::Resume { .. } => "resuming after its trigger fired",
        };
        info!(
            target: LIFECYCLE_TARGET,
            operator = job.ctx.operator(),
            try_number = job.ctx.try_number(),
            "{what}"
        );
        let result = attempt(job).await;
        match &result {
            AttemptResult::Finished(Ok(Outcome::Defer(deferral))) => info!(
                target: LIFECYCLE_TARGET,
                trigger = deferral.trigger.kind(),
                "deferred to its trigger"
            ),
            AttemptResult::Finished(Ok(_)) => info!(target: LIFECYCLE_TARGET, "succeeded"),
            AttemptResult::Finished(Err(err)) => {
                info!(target: LIFECYCLE_TARGET, "ended: {}", err.report())
            }
            AttemptResult::NotYet { wake_at, .. } => info!(
                target: LIFECYCLE_TARGET,
                "condition not met yet; poking again at {wake_at}"
            ),
        }
        result
    }
    .instrument(span)
    .await
}

enum Interrupt {
    Cancelled,
    TimedOut(Duration),
}

async fn attempt(job: AttemptJob) -> AttemptResult {
    let clock = job.ctx.clock().clone();
    let cancel = job.ctx.cancellation().clone();
    let deadline = job.deadline;
    let timeout = async move {
        match deadline {
            Some((at, length)) => {
                clock.sleep_until(at).await;
                length
            }
            None => std::future::pending().await,
        }
    };

    // The work future is owned by the select and dropped when it ends, so an interrupted
    // operator has stopped before its on_kill runs.
    let interrupt = tokio::select! {
        biased;
        _ = cancel.cancelled() => Interrupt::Cancelled,
        length = timeout => Interrupt::TimedOut(length),
        result = do_work(&job) => return result,
    };

    let error = match interrupt {
        Interrupt::Cancelled => {
            info!("the run was cancelled; stopping the attempt");
            TaskError::Cancelled
        }
        Interrupt::TimedOut(length) => {
            warn!(timeout = %humanize(length), "execution_timeout passed; stopping the attempt");
            TaskError::ExecutionTimeout(length)
        }
    };
    kill(&job.kind, &job.ctx, job.kill_grace).await;
    AttemptResult::Finished(Err(error))
}

async fn do_work(job: &AttemptJob) -> AttemptResult {
    let ctx = &job.ctx;
    match (&job.kind, &job.work) {
        (TaskKind::Operator(op), Work::Start) => AttemptResult::Finished(op.execute(ctx).await),
        (TaskKind::Operator(op), Work::Resume { method_name, event }) => {
            AttemptResult::Finished(op.resume(ctx, method_name, event.clone()).await)
        }
        (TaskKind::Operator(_), Work::Poke) => AttemptResult::Finished(Err(TaskError::fatal(
            "an operator cannot be poked; only sensors can",
        ))),
        (TaskKind::Sensor(sensor), Work::Resume { method_name, event }) => {
            AttemptResult::Finished(sensor.resume(ctx, method_name, event.clone()).await)
        }
        (TaskKind::Sensor(sensor), work) => {
            if matches!(work, Work::Start) {
                match sensor.defer(ctx).await {
                    Ok(Some(deferral)) => {
                        return AttemptResult::Finished(Ok(Outcome::Defer(deferral)));
                    }
                    Ok(None) => {}
                    Err(err) => return AttemptResult::Finished(Err(err)),
                }
            }
            let settings = sensor.settings();
            let mut progress = job.sensor;
            loop {
                match sensor.poke(ctx).await {
                    Ok(true) => return AttemptResult::Finished(Ok(Outcome::Nothing)),
                    Ok(false) => {}
                    Err(err) => return AttemptResult::Finished(Err(err)),
                }
                progress.pokes += 1;
                let wait = match next_poke(&settings, progress, ctx, job.jitter) {
                    Ok(wait) => wait,
                    Err(err) => return AttemptResult::Finished(Err(err)),
                };
                let wake_at = gust_core::clock::add(ctx.clock().now(), wait);
                info!(
                    target: LIFECYCLE_TARGET,
                    pokes = progress.pokes,
                    "condition not met yet; poking again in {}",
                    humanize(wait)
                );
                if settings.mode == SensorMode::Reschedule {
                    return AttemptResult::NotYet {
                        pokes: progress.pokes,
                        wake_at,
                    };
                }
                ctx.clock().sleep_until(wake_at).await;
            }
        }
    }
}

/// The wait before the next poke, or the sensor's timeout if it has passed.
fn next_poke(
    settings: &SensorSettings,
    progress: SensorProgress,
    ctx: &TaskContext,
    jitter: Jitter,
) -> Result<Duration, TaskError> {
    let used = elapsed(progress.started_at, ctx.clock().now());
    if used >= settings.timeout {
        return Err(sensor_timeout(settings.timeout));
    }
    let seed = JitterSeed {
        dag_id: ctx.dag_id(),
        task_id: ctx.task_id(),
        run_id: ctx.run_id(),
        try_number: ctx.try_number(),
        poke: progress.pokes,
    };
    Ok(poke_interval(settings, progress.pokes, used, jitter, &seed))
}

/// Runs the task's `on_kill`, giving up after `grace`.
pub(crate) async fn kill(kind: &TaskKind, ctx: &TaskContext, grace: Duration) {
    let on_kill: std::pin::Pin<Box<dyn Future<Output = ()> + Send + '_>> = match kind {
        TaskKind::Operator(op) => Box::pin(op.on_kill(ctx)),
        TaskKind::Sensor(sensor) => Box::pin(sensor.on_kill(ctx)),
    };
    tokio::select! {
        () = on_kill => {}
        () = ctx.clock().sleep(grace) => {
            warn!(grace = %humanize(grace), "on_kill did not finish within its grace period");
        }
    }
}

/// Stops a deferred task: runs its `on_kill`, then reports the attempt ended with `error`.
pub(crate) async fn kill_deferred(
    index: usize,
    kind: TaskKind,
    ctx: TaskContext,
    grace: Duration,
    error: TaskError,
    report: UnboundedSender<Message>,
) {
    let span = ctx.span().clone();
    async {
        kill(&kind, &ctx, grace).await;
    }
    .instrument(span)
    .await;
    let _ = report.send(Message::Attempt {
        index,
        result: AttemptResult::Finished(Err(error)),
    });
}

/// Runs a trigger until it yields, fails, or times out, and reports which.
pub(crate) async fn run_trigger(
    index: usize,
    serial: u64,
    trigger: Box<dyn Trigger>,
    ctx: TriggerContext,
    timeout: Option<(DateTime<Utc>, TriggerTimeout)>,
    report: UnboundedSender<Message>,
) {
    let clock = ctx.clock.clone();
    let span = ctx.span.clone();
    let expiry = async move {
        match timeout {
            Some((at, why)) => {
                clock.sleep_until(at).await;
                why
            }
            None => std::future::pending().await,
        }
    };
    let result = async {
        tokio::select! {
            biased;
            why = expiry => TriggerResult::TimedOut(why),
            outcome = trigger.run(ctx) => match outcome {
                Ok(event) => TriggerResult::Event(event),
                Err(err) => TriggerResult::Failed(err.to_string()),
            },
        }
    }
    .instrument(span)
    .await;
    let _ = report.send(Message::Trigger {
        index,
        serial,
        result,
    });
}
