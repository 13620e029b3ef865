//! The loop that drives one DAG run: it owns every task instance's state, decides what
//! runs next, records each step in the store, and only then starts the work it recorded.
//!
//! One turn of the loop: handle what happened (attempt results, trigger events, timers,
//! cancellation), start what the slots allow, write the turn's changes to the store in
//! one batch, publish them as events, then spawn the attempts and triggers the changes
//! announced.

use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use gust_core::clock::{Sleep, add};
use gust_core::error::humanize;
use gust_core::{
    Dag, RunInfo, RunState, SharedClock, TaskContext, TaskState, TriggerEvent, UpstreamCounts,
};
use tokio::sync::mpsc::{UnboundedReceiver, UnboundedSender, unbounded_channel};
use tokio::sync::{Semaphore, watch};
use tokio::task::AbortHandle;
use tokio_util::sync::CancellationToken;

use crate::attempt::{Message, SensorProgress};
use crate::backoff::Jitter;
use crate::events::{EventKind, EventSender, RunEvent};
use crate::executor::ExecutorError;
use crate::ready::ReadyQueues;
use crate::report::{RunReport, TaskReport};
use crate::run_data::StoredRunData;
use crate::slots::{Held, Slots};
use crate::store::{Change, RunKey, Store};

mod restore;
mod transitions;

/// How long a stopped task's `on_kill` may take.
pub(crate) const KILL_GRACE: Duration = Duration::from_secs(60);

/// The most messages handled in one turn, so a flood of results still gets flushed.
const MESSAGES_PER_TURN: usize = 4096;

/// Settings shared by every run of an executor.
#[derive(Debug, Clone)]
pub(crate) struct LoopConfig {
    pub(crate) jitter: Jitter,
    pub(crate) kill_grace: Duration,
}

/// Why a run is being stopped before its tasks finished.
#[derive(Debug, Clone)]
pub(crate) enum StopReason {
    Cancelled,
    RunTimeout(Duration),
}

impl StopReason {
    pub(crate) fn message(&self) -> String {
        match self {
            StopReason::Cancelled => "the run was cancelled".to_owned(),
            StopReason::RunTimeout(limit) => {
                format!("the run passed its dagrun_timeout of {}", humanize(*limit))
            }
        }
    }
}

/// What a task does when it next gets a slot.
pub(crate) enum NextWork {
    Start,
    /// Run the current try again from its start: the process that ran it stopped.
    Restart,
    Poke,
    Resume {
        method_name: String,
        event: TriggerEvent,
    },
}

/// The loop's view of one task instance.
pub(crate) struct TaskRun {
    pub(crate) state: TaskState,
    pub(crate) try_number: u32,
    pub(crate) upstream: UpstreamCounts,
    pub(crate) next: NextWork,
    pub(crate) sensor: SensorProgress,
    /// When the current try started.
    pub(crate) try_started_at: Option<DateTime<Utc>>,
    pub(crate) first_started_at: Option<DateTime<Utc>>,
    pub(crate) ended_at: Option<DateTime<Utc>>,
    pub(crate) message: Option<String>,
    pub(crate) held: Option<Held>,
    pub(crate) trigger: Option<AbortHandle>,
    /// The deferral or timer the task currently waits for; older ones are ignored.
    pub(crate) serial: u64,
    /// Whether the task's `on_kill` is running while it is deferred.
    pub(crate) killing: bool,
    /// The method a deferred task resumes with.
    pub(crate) resume_method: String,
}

pub(crate) struct RunLoop {
    pub(crate) dag: Arc<Dag>,
    pub(crate) run: Arc<RunInfo>,
    pub(crate) key: RunKey,
    pub(crate) store: Arc<dyn Store>,
    pub(crate) data: Arc<StoredRunData>,
    pub(crate) clock: SharedClock,
    pub(crate) config: LoopConfig,
    pub(crate) slots: Arc<Slots>,
    pub(crate) dag_limit: Arc<Semaphore>,
    pub(crate) released: watch::Receiver<u64>,
    pub(crate) tasks: Vec<TaskRun>,
    pub(crate) ready: ReadyQueues,
    /// (wake time, task, serial) of retries and reschedules.
    pub(crate) timers: BinaryHeap<Reverse<(DateTime<Utc>, usize, u64)>>,
    pub(crate) unfinished: usize,
    /// Tasks that finished this turn and whose downstream tasks are not decided yet.
    pub(crate) just_finished: Vec<usize>,
    /// Spawned attempts and kills that have not reported back.
    pub(crate) active: usize,
    pub(crate) now: DateTime<Utc>,
    pub(crate) started_at: DateTime<Utc>,
    pub(crate) changes: Vec<Change>,
    pub(crate) effects: Vec<transitions::Effect>,
    pub(crate) events: Option<EventSender>,
    pub(crate) tx: UnboundedSender<Message>,
    rx: UnboundedReceiver<Message>,
    /// Results of attempts that finished when first polled, handled in the next turn.
    pub(crate) inline: Vec<Message>,
    pub(crate) cancel: CancellationToken,
    pub(crate) stopping: Option<StopReason>,
    timer: Option<(DateTime<Utc>, Sleep)>,
}

/// What woke the loop.
enum Wake {
    Messages(Vec<Message>),
    Cancelled,
    Timer,
    SlotsReleased,
}

impl RunLoop {
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn new(
        dag: Arc<Dag>,
        run: Arc<RunInfo>,
        key: RunKey,
        store: Arc<dyn Store>,
        data: Arc<StoredRunData>,
        config: LoopConfig,
        slots: Arc<Slots>,
        events: Option<EventSender>,
        cancel: CancellationToken,
    ) -> Self {
        let clock = run.clock.clone();
        let now = clock.now();
        let tasks = (0..dag.len())
            .map(|index| TaskRun {
                state: TaskState::None,
                try_number: 0,
                upstream: UpstreamCounts::new(dag.upstream_count(index)),
                next: NextWork::Start,
                sensor: SensorProgress {
                    started_at: now,
                    pokes: 0,
                },
                try_started_at: None,
                first_started_at: None,
                ended_at: None,
                message: None,
                held: None,
                trigger: None,
                serial: 0,
                killing: false,
                resume_method: String::new(),
            })
            .collect();
        let dag_limit = slots.dag_limit(dag.dag_id(), dag.settings().max_active_tasks);
        let released = slots.watch_releases();
        let (tx, rx) = unbounded_channel();
        RunLoop {
            unfinished: dag.len(),
            just_finished: Vec::new(),
            dag,
            run,
            key,
            store,
            data,
            clock,
            config,
            slots,
            dag_limit,
            released,
            tasks,
            ready: ReadyQueues::default(),
            timers: BinaryHeap::new(),
            active: 0,
            now,
            started_at: now,
            changes: Vec::new(),
            effects: Vec::new(),
            events,
            tx,
            rx,
            inline: Vec::new(),
            cancel,
            stopping: None,
            timer: None,
        }
    }

    /// Runs the DAG run to its end and reports how every task ended.
    pub(crate) async fn drive(mut self) -> Result<RunReport, ExecutorError> {
        self.changes.push(Change::Run {
            state: RunState::Running,
            at: self.now,
        });
        for index in 0..self.tasks.len() {
            self.consider(index);
        }
        self.propagate();

        let outcome = self.turns().await;
        if outcome.is_err() {
            // The store failed; stop every attempt still running rather than leave work
            // going on that nobody records.
            self.cancel.cancel();
        }
        outcome?;

        let state = if self.stopping.is_some() || self.any_leaf_failed() {
            RunState::Failed
        } else {
            RunState::Success
        };
        self.now = self.clock.now();
        self.changes.push(Change::Run {
            state,
            at: self.now,
        });
        self.flush().await?;
        Ok(self.report(state))
    }

    async fn turns(&mut self) -> Result<(), ExecutorError> {
        loop {
            self.released.mark_unchanged();
            self.dispatch();
            self.flush().await?;

            if !self.inline.is_empty() {
                self.now = self.clock.now();
                for message in std::mem::take(&mut self.inline) {
                    self.handle(message);
                }
                // A long series of attempts that finish at once never waits, so look at
                // the clock and the cancel token here too, and let the runtime's other
                // tasks run now and then.
                if self.cancel.is_cancelled() {
                    self.stop(StopReason::Cancelled);
                }
                if self.next_deadline().is_some_and(|at| at <= self.now) {
                    self.fire_timers();
                }
                self.propagate();
                tokio::task::consume_budget().await;
                continue;
            }

            if self.active == 0 {
                if self.stopping.is_some() {
                    self.settle_stopped();
                    self.flush().await?;
                    return Ok(());
                }
                if self.unfinished == 0 {
                    return Ok(());
                }
            }

            let wake = self.wait().await;
            self.now = self.clock.now();
            match wake {
                Wake::Messages(messages) => {
                    for message in messages {
                        self.handle(message);
                    }
                }
                Wake::Cancelled => self.stop(StopReason::Cancelled),
                Wake::Timer => {
                    self.timer = None;
                    self.fire_timers();
                }
                Wake::SlotsReleased => {}
            }
            self.propagate();
        }
    }

    /// The earliest moment the loop must wake by itself: a retry, a reschedule, or the
    /// end of the run's dagrun_timeout.
    fn next_deadline(&self) -> Option<DateTime<Utc>> {
        let timer = self.timers.peek().map(|Reverse((at, _, _))| *at);
        let run_deadline = match (&self.stopping, self.dag.settings().dagrun_timeout) {
            (None, Some(limit)) => Some(add(self.started_at, limit)),
            _ => None,
        };
        match (timer, run_deadline) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
    }

    async fn wait(&mut self) -> Wake {
        let deadline = self.next_deadline();
        if self.timer.as_ref().map(|(at, _)| *at) != deadline {
            self.timer = deadline.map(|at| (at, self.clock.sleep_until(at)));
        }
        let waiting_for_slots = self.stopping.is_none() && !self.ready.is_empty();
        let watching_cancel = self.stopping.is_none();

        let RunLoop {
            rx,
            timer,
            released,
            cancel,
            ..
        } = self;
        tokio::select! {
            biased;
            _ = cancel.cancelled(), if watching_cancel => Wake::Cancelled,
            message = rx.recv() => {
                // The loop holds a sender itself, so the channel never closes under it.
                let mut messages: Vec<Message> = message.into_iter().collect();
                while messages.len() < MESSAGES_PER_TURN {
                    match rx.try_recv() {
                        Ok(message) => messages.push(message),
                        Err(_) => break,
                    }
                }
                Wake::Messages(messages)
            }
            _ = async { timer.as_mut().expect("guarded").1.as_mut().await }, if timer.is_some() => {
                Wake::Timer
            }
            _ = released.changed(), if waiting_for_slots => Wake::SlotsReleased,
        }
    }

    fn fire_timers(&mut self) {
        while let Some(Reverse((at, index, serial))) = self.timers.peek().copied() {
            if at > self.now {
                break;
            }
            self.timers.pop();
            let task = &self.tasks[index];
            let waiting = matches!(
                task.state,
                TaskState::UpForRetry | TaskState::UpForReschedule
            );
            if waiting && task.serial == serial && self.stopping.is_none() {
                self.schedule(index);
            }
        }
        if self.stopping.is_none()
            && let Some(limit) = self.dag.settings().dagrun_timeout
            && self.now >= add(self.started_at, limit)
        {
            self.stop(StopReason::RunTimeout(limit));
        }
    }

    /// Writes the turn's changes in one batch, publishes them, then starts the work they
    /// announce.
    async fn flush(&mut self) -> Result<(), ExecutorError> {
        if !self.changes.is_empty() {
            self.store
                .apply(&self.key, &self.changes)
                .await
                .map_err(ExecutorError::Store)?;
            if let Some(events) = &self.events {
                for change in &self.changes {
                    if let Some(event) = event_of(change)
                        && events.send(event).is_err()
                    {
                        break;
                    }
                }
            }
            self.changes.clear();
        }
        let effects = std::mem::take(&mut self.effects);
        for effect in effects {
            self.spawn(effect);
        }
        Ok(())
    }

    fn any_leaf_failed(&self) -> bool {
        (0..self.tasks.len()).any(|index| {
            self.dag.downstream(index).next().is_none()
                && matches!(
                    self.tasks[index].state,
                    TaskState::Failed | TaskState::UpstreamFailed
                )
        })
    }

    pub(crate) fn context(&self, index: usize, cancel: CancellationToken) -> TaskContext {
        let task = self.dag.task(index);
        TaskContext::new(
            self.run.clone(),
            task.id().clone(),
            task.kind().type_name(),
            self.tasks[index].try_number,
            cancel,
        )
    }

    fn report(&self, state: RunState) -> RunReport {
        let tasks = self
            .dag
            .tasks()
            .map(|(index, task)| {
                let run = &self.tasks[index];
                TaskReport {
                    task_id: task.id().to_string(),
                    operator: task.kind().type_name(),
                    state: run.state,
                    tries: run.try_number,
                    started_at: run.first_started_at,
                    ended_at: run.ended_at,
                    message: run.message.clone(),
                }
            })
            .collect();
        RunReport {
            dag_id: self.key.dag_id.to_string(),
            run_id: self.key.run_id.to_string(),
            logical_date: self.run.logical_date,
            state,
            started_at: self.started_at,
            ended_at: self.now,
            tasks,
            xcom: self.data.all_xcom(),
        }
    }
}

fn event_of(change: &Change) -> Option<RunEvent> {
    match change {
        Change::Run { state, at } => Some(RunEvent {
            at: *at,
            kind: EventKind::Run { state: *state },
        }),
        Change::Task(change) => Some(RunEvent {
            at: change.at,
            kind: EventKind::Task {
                task_id: change.task_id.clone(),
                try_number: change.try_number,
                state: change.state,
                message: change.message.clone(),
            },
        }),
        Change::XCom { .. } | Change::TaskData { .. } => None,
    }
}
