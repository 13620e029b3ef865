//! How task instances move between states: trigger rules, slots, attempts, deferrals,
//! retries, reschedules, and stopping a run.

use std::cmp::Reverse;
use std::task::{Context, Poll, Waker};

use chrono::{DateTime, Utc};
use gust_core::clock::add;
use gust_core::{
    Deferral, Outcome, RETURN_VALUE, TaskError, TaskKind, TaskState, TriggerContext, Verdict,
};
use tracing::{debug, info};

use super::{NextWork, RunLoop, StopReason};
use crate::attempt::{
    self, AttemptJob, AttemptResult, Message, SensorProgress, TriggerResult, TriggerTimeout, Work,
};
use crate::backoff::{JitterSeed, retry_delay};
use crate::slots::Take;
use crate::store::{Change, DeferralRecord, TaskChange};

/// Work to spawn once the turn's changes are recorded.
pub(crate) enum Effect {
    Attempt(AttemptJob),
    Trigger {
        index: usize,
        serial: u64,
        deferral: Deferral,
        timeout: Option<(DateTime<Utc>, TriggerTimeout)>,
    },
    KillDeferred {
        index: usize,
        error: TaskError,
    },
}

impl RunLoop {
    /// Records a task's new state in this turn's changes.
    fn record(
        &mut self,
        index: usize,
        state: TaskState,
        message: Option<String>,
        wake_at: Option<DateTime<Utc>>,
        deferral: Option<DeferralRecord>,
    ) {
        let task = &mut self.tasks[index];
        task.state = state;
        task.message = message.clone();
        self.changes.push(Change::Task(TaskChange {
            task_id: self.dag.task(index).id().clone(),
            try_number: task.try_number,
            state,
            at: self.now,
            message,
            wake_at,
            deferral,
        }));
    }

    /// Applies the trigger rule of a task that has not been decided yet.
    pub(super) fn consider(&mut self, index: usize) {
        if self.tasks[index].state != TaskState::None || self.stopping.is_some() {
            return;
        }
        let rule = self.dag.task(index).settings().trigger_rule;
        let upstream = self.tasks[index].upstream;
        match rule.evaluate(&upstream) {
            Verdict::Wait => {}
            Verdict::Run => self.schedule(index),
            Verdict::Skip => {
                let why = format!(
                    "not run: its trigger rule {rule} cannot be met ({})",
                    describe_upstream(&upstream)
                );
                self.finish(index, TaskState::Skipped, Some(why));
            }
            Verdict::UpstreamFailed => {
                let why = format!(
                    "not run: an upstream task failed ({})",
                    describe_upstream(&upstream)
                );
                self.finish(index, TaskState::UpstreamFailed, Some(why));
            }
        }
    }

    /// Decides the downstream tasks of every task that finished this turn, and theirs in
    /// turn, without recursion (a long chain of skips would otherwise overflow the stack).
    pub(super) fn propagate(&mut self) {
        while let Some(index) = self.just_finished.pop() {
            let state = self.tasks[index].state;
            let downstream: Vec<usize> = self.dag.downstream(index).collect();
            for down in downstream {
                self.tasks[down].upstream.record(state);
                self.consider(down);
            }
        }
    }

    /// Puts a task in line for a slot.
    pub(super) fn schedule(&mut self, index: usize) {
        self.record(index, TaskState::Scheduled, None, None, None);
        let settings = self.dag.task(index).settings();
        self.ready.push(&settings.pool, index, settings.pool_slots);
    }

    /// Ends a task in a finished state and queues its downstream tasks for a decision.
    fn finish(&mut self, index: usize, state: TaskState, message: Option<String>) {
        debug_assert!(state.is_finished());
        self.record(index, state, message, None, None);
        let task = &mut self.tasks[index];
        task.ended_at = Some(self.now);
        task.held = None;
        self.unfinished -= 1;
        self.just_finished.push(index);
    }

    /// Starts every waiting task the DAG's and pools' free slots allow.
    pub(super) fn dispatch(&mut self) {
        if self.stopping.is_some() {
            return;
        }
        while let Some(pick) = self.ready.next() {
            let settings = self.dag.task(pick.index).settings();
            match self
                .slots
                .try_take(&self.dag_limit, &settings.pool, settings.pool_slots)
            {
                Take::Taken(held) => {
                    self.ready.take(pick);
                    self.start(pick.index, held);
                }
                Take::PoolFull => self.ready.did_not_fit(pick),
                Take::DagFull => break,
            }
        }
        self.ready.end_round();
    }

    fn start(&mut self, index: usize, held: crate::slots::Held) {
        let next = std::mem::replace(&mut self.tasks[index].next, NextWork::Start);
        let now = self.now;
        let task = &mut self.tasks[index];
        let work = match next {
            NextWork::Start => {
                task.try_number += 1;
                task.try_started_at = Some(now);
                task.first_started_at.get_or_insert(now);
                task.sensor = SensorProgress {
                    started_at: now,
                    pokes: 0,
                };
                Work::Start
            }
            NextWork::Restart => {
                task.try_started_at.get_or_insert(now);
                task.first_started_at.get_or_insert(now);
                task.sensor = SensorProgress {
                    started_at: task.try_started_at.unwrap_or(now),
                    pokes: 0,
                };
                Work::Start
            }
            NextWork::Poke => Work::Poke,
            NextWork::Resume { method_name, event } => Work::Resume { method_name, event },
        };
        task.held = Some(held);

        // execution_timeout bounds a whole try, deferrals included; a further poke of a
        // sensor in reschedule mode is an execution of its own, as in Airflow.
        let settings = self.dag.task(index).settings();
        let counted_from = match work {
            Work::Poke => now,
            _ => task.try_started_at.unwrap_or(now),
        };
        let deadline = settings
            .execution_timeout
            .map(|limit| (add(counted_from, limit), limit));

        self.record(index, TaskState::Queued, None, None, None);
        self.record(index, TaskState::Running, None, None, None);
        let ctx = self.context(index, self.cancel.child_token());
        self.active += 1;
        self.effects.push(Effect::Attempt(AttemptJob {
            index,
            kind: self.dag.task(index).kind().clone(),
            ctx,
            work,
            deadline,
            sensor: self.tasks[index].sensor,
            jitter: self.config.jitter,
            kill_grace: self.config.kill_grace,
        }));
    }

    pub(super) fn handle(&mut self, message: Message) {
        match message {
            Message::Attempt { index, result } => {
                self.active -= 1;
                self.tasks[index].held = None;
                self.tasks[index].killing = false;
                self.on_attempt(index, result);
            }
            Message::Trigger {
                index,
                serial,
                result,
            } => {
                let task = &self.tasks[index];
                if task.state == TaskState::Deferred && task.serial == serial && !task.killing {
                    self.tasks[index].trigger = None;
                    self.on_trigger(index, result);
                }
            }
        }
    }

    fn on_attempt(&mut self, index: usize, result: AttemptResult) {
        match result {
            AttemptResult::Finished(Ok(Outcome::Value(value))) => {
                if self.dag.task(index).settings().do_xcom_push && !value.is_null() {
                    let task_id = self.dag.task(index).id().clone();
                    self.data
                        .cache_xcom(task_id.clone(), RETURN_VALUE, value.clone());
                    self.changes.push(Change::XCom {
                        task_id,
                        key: RETURN_VALUE.to_owned(),
                        value,
                    });
                }
                self.finish(index, TaskState::Success, None);
            }
            AttemptResult::Finished(Ok(Outcome::Nothing)) => {
                self.finish(index, TaskState::Success, None);
            }
            AttemptResult::Finished(Ok(Outcome::Defer(deferral))) => self.defer(index, deferral),
            AttemptResult::Finished(Err(err)) => self.fail(index, err),
            AttemptResult::NotYet { pokes, wake_at } => {
                if self.stopping.is_some() {
                    return self.fail(index, TaskError::Cancelled);
                }
                self.tasks[index].sensor.pokes = pokes;
                self.tasks[index].next = NextWork::Poke;
                self.wait_until(index, TaskState::UpForReschedule, None, wake_at);
            }
        }
    }

    fn on_trigger(&mut self, index: usize, result: TriggerResult) {
        match result {
            TriggerResult::Event(event) => {
                let method_name = std::mem::take(&mut self.tasks[index].resume_method);
                self.tasks[index].next = NextWork::Resume { method_name, event };
                self.schedule(index);
            }
            TriggerResult::Failed(message) => {
                self.fail(
                    index,
                    TaskError::failed(format!("the trigger failed: {message}")),
                );
            }
            TriggerResult::TimedOut(TriggerTimeout::Execution(limit)) => {
                // The task may have started work elsewhere; stop it like a running attempt.
                self.kill_deferred(index, TaskError::ExecutionTimeout(limit));
            }
            TriggerResult::TimedOut(why) => self.fail(index, why.error()),
        }
    }

    fn defer(&mut self, index: usize, deferral: Deferral) {
        let dag = self.dag.clone();
        let task = dag.task(index);
        let settings = task.settings();
        let run = &self.tasks[index];

        // The wait ends at the earliest of the deferral's own timeout, the try's
        // execution_timeout, and a sensor's timeout.
        let mut limits = Vec::new();
        if let Some(limit) = deferral.timeout {
            limits.push((add(self.now, limit), TriggerTimeout::Deferral(limit)));
        }
        if let (Some(limit), Some(started)) = (settings.execution_timeout, run.try_started_at) {
            limits.push((add(started, limit), TriggerTimeout::Execution(limit)));
        }
        if let Some(sensor) = task.kind().sensor_settings() {
            let at = add(run.sensor.started_at, sensor.timeout);
            limits.push((at, TriggerTimeout::Sensor(sensor.timeout)));
        }
        let timeout = limits.into_iter().min_by_key(|(at, _)| *at);

        let record = DeferralRecord {
            trigger: deferral.trigger.serialize(),
            method_name: deferral.method_name.clone(),
            deadline: timeout.map(|(at, _)| at),
        };
        self.tasks[index].resume_method = deferral.method_name.clone();
        let serial = self.next_serial(index);
        self.tasks[index].held = None;
        self.record(index, TaskState::Deferred, None, None, Some(record));
        info!(task_id = %task.id(), trigger = deferral.trigger.kind(), "deferred");

        if self.stopping.is_some() {
            // Deferred just as the run stops: never start the trigger, stop the task.
            return self.kill_deferred(index, TaskError::Cancelled);
        }
        self.effects.push(Effect::Trigger {
            index,
            serial,
            deferral,
            timeout,
        });
    }

    fn kill_deferred(&mut self, index: usize, error: TaskError) {
        let task = &mut self.tasks[index];
        if task.killing {
            return;
        }
        task.killing = true;
        if let Some(trigger) = task.trigger.take() {
            trigger.abort();
        }
        self.active += 1;
        self.effects.push(Effect::KillDeferred { index, error });
    }

    /// Handles a failed attempt: skip, retry, or fail.
    pub(super) fn fail(&mut self, index: usize, err: TaskError) {
        let dag = self.dag.clone();
        let task = dag.task(index);
        let settings = task.settings();
        let soft_fail = task.kind().sensor_settings().is_some_and(|s| s.soft_fail);
        let run = &self.tasks[index];

        if soft_fail
            && matches!(
                err,
                TaskError::SensorTimeout { .. }
                    | TaskError::ExecutionTimeout(_)
                    | TaskError::Fatal { .. }
            )
        {
            let why = format!("soft_fail: {}", err.report());
            return self.finish(index, TaskState::Skipped, Some(why));
        }
        if let TaskError::Skip { message } = err {
            return self.finish(index, TaskState::Skipped, Some(message));
        }
        if let (TaskError::Cancelled, Some(reason)) = (&err, &self.stopping) {
            let why = reason.message();
            return self.finish(index, TaskState::Failed, Some(why));
        }
        let retry =
            err.is_retryable() && run.try_number <= settings.retries && self.stopping.is_none();
        if !retry {
            return self.finish(index, TaskState::Failed, Some(err.report()));
        }

        let seed = JitterSeed {
            dag_id: &self.run.dag_id,
            task_id: task.id(),
            run_id: &self.run.run_id,
            try_number: run.try_number,
            poke: 0,
        };
        let delay = retry_delay(settings, run.try_number, self.config.jitter, &seed);
        let wake_at = add(self.now, delay);
        info!(
            task_id = %task.id(),
            try_number = run.try_number,
            error = %err.report(),
            "attempt failed; retrying at {wake_at}"
        );
        self.tasks[index].next = NextWork::Start;
        self.wait_until(index, TaskState::UpForRetry, Some(err.report()), wake_at);
    }

    pub(super) fn wait_until(
        &mut self,
        index: usize,
        state: TaskState,
        message: Option<String>,
        wake_at: DateTime<Utc>,
    ) {
        let serial = self.next_serial(index);
        self.tasks[index].held = None;
        self.record(index, state, message, Some(wake_at), None);
        self.timers.push(Reverse((wake_at, index, serial)));
    }

    pub(super) fn next_serial(&mut self, index: usize) -> u64 {
        let task = &mut self.tasks[index];
        task.serial += 1;
        task.serial
    }

    /// Stops the run: no task starts any more, running attempts are cancelled, deferred
    /// tasks are killed. The run ends once they have all reported.
    pub(super) fn stop(&mut self, reason: StopReason) {
        if self.stopping.is_some() {
            return;
        }
        info!(reason = %reason.message(), "stopping the run");
        self.stopping = Some(reason);
        self.cancel.cancel();
        for index in 0..self.tasks.len() {
            if self.tasks[index].state == TaskState::Deferred {
                self.kill_deferred(index, TaskError::Cancelled);
            }
        }
    }

    /// Once every stopped attempt has reported: tasks that were waiting to retry or to
    /// poke again fail; tasks that never started are skipped.
    pub(super) fn settle_stopped(&mut self) {
        let message = self
            .stopping
            .as_ref()
            .map(StopReason::message)
            .unwrap_or_default();
        self.ready.clear();
        for index in 0..self.tasks.len() {
            let state = self.tasks[index].state;
            if state.is_finished() {
                continue;
            }
            let end = match state {
                TaskState::UpForRetry | TaskState::UpForReschedule | TaskState::Deferred => {
                    TaskState::Failed
                }
                _ => TaskState::Skipped,
            };
            self.finish(index, end, Some(message.clone()));
        }
        self.just_finished.clear();
    }

    pub(super) fn spawn(&mut self, effect: Effect) {
        match effect {
            Effect::Attempt(job) => {
                // Poll the attempt once right here: an attempt that finishes without
                // waiting (a no-op, a quick computation) is handled in this turn, with
                // no task switch. One that waits continues as a task of its own.
                let index = job.index;
                let mut attempt = Box::pin(attempt::run_attempt(job));
                let mut cx = Context::from_waker(Waker::noop());
                match attempt.as_mut().poll(&mut cx) {
                    Poll::Ready(result) => self.inline.push(Message::Attempt { index, result }),
                    Poll::Pending => {
                        let report = self.tx.clone();
                        tokio::spawn(async move {
                            let result = attempt.await;
                            // The loop outlives its attempts unless it failed; then
                            // nobody listens and the result has nowhere to go.
                            let _ = report.send(Message::Attempt { index, result });
                        });
                    }
                }
            }
            Effect::Trigger {
                index,
                serial,
                deferral,
                timeout,
            } => {
                let ctx = TriggerContext {
                    clock: self.clock.clone(),
                    span: self
                        .context(index, self.cancel.child_token())
                        .span()
                        .clone(),
                };
                let handle = tokio::spawn(attempt::run_trigger(
                    index,
                    serial,
                    deferral.trigger,
                    ctx,
                    timeout,
                    self.tx.clone(),
                ));
                self.tasks[index].trigger = Some(handle.abort_handle());
            }
            Effect::KillDeferred { index, error } => {
                let kind: TaskKind = self.dag.task(index).kind().clone();
                let ctx = self.context(index, self.cancel.child_token());
                debug!(task_id = %ctx.task_id(), "stopping a deferred task");
                tokio::spawn(attempt::kill_deferred(
                    index,
                    kind,
                    ctx,
                    self.config.kill_grace,
                    error,
                    self.tx.clone(),
                ));
            }
        }
    }
}

fn describe_upstream(counts: &gust_core::UpstreamCounts) -> String {
    format!(
        "upstream: {} success, {} failed, {} skipped, {} upstream_failed, {} not done",
        counts.success,
        counts.failed,
        counts.skipped,
        counts.upstream_failed,
        counts.total - counts.done(),
    )
}
