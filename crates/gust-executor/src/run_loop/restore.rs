//! Taking up a run that a stopped process left unfinished, from what its store recorded.
//!
//! Finished tasks stay finished. A task whose try was under way (queued, running, or
//! scheduled to resume after its trigger fired) runs that same try again: the try never
//! ended, so it is not charged as a failure, and an operator that recorded its progress in
//! its task state (the SSM operator records the command it sent) picks up from there. A
//! task waiting to retry or to poke again waits for the rest of its time. A deferred task
//! gets its trigger rebuilt from the registry and waits again until the deadline it had.

use std::time::Duration;

use chrono::{DateTime, Utc};
use gust_core::{Deferral, TaskError, TaskState, TriggerRegistry};

use super::{NextWork, RunLoop, transitions::Effect};
use crate::attempt::{SensorProgress, TriggerTimeout};
use crate::executor::ExecutorError;
use crate::store::{DeferralRecord, RunSnapshot, TaskRecord};

impl RunLoop {
    /// Sets every task instance as the snapshot recorded it.
    pub(crate) fn restore(
        &mut self,
        snapshot: &RunSnapshot,
        triggers: &TriggerRegistry,
    ) -> Result<(), ExecutorError> {
        if let Some(started) = snapshot.run.started_at {
            self.started_at = started;
        }
        for record in &snapshot.tasks {
            let index =
                self.dag
                    .index_of(&record.task_id)
                    .ok_or_else(|| ExecutorError::Resume {
                        run: self.key.to_string(),
                        problem: format!(
                            "it has task '{}', which the DAG no longer has",
                            record.task_id
                        ),
                    })?;
            self.restore_task(index, record, triggers);
        }
        Ok(())
    }

    fn restore_task(&mut self, index: usize, record: &TaskRecord, triggers: &TriggerRegistry) {
        let now = self.now;
        let last_try = record
            .tries
            .last()
            .filter(|t| t.try_number == record.try_number);
        let task = &mut self.tasks[index];
        task.try_number = record.try_number;
        task.message = record.message.clone();
        task.first_started_at = record.tries.first().map(|t| t.started_at);
        task.try_started_at = last_try.map(|t| t.started_at);
        task.ended_at = last_try.and_then(|t| t.ended_at);
        task.sensor = SensorProgress {
            started_at: task.try_started_at.unwrap_or(now),
            pokes: 0,
        };
        let try_open = last_try.is_some_and(|t| t.ended_at.is_none());

        match record.state {
            state if state.is_finished() => {
                task.state = state;
                self.unfinished -= 1;
                self.just_finished.push(index);
            }
            TaskState::UpForRetry | TaskState::UpForReschedule => {
                task.next = if record.state == TaskState::UpForRetry {
                    NextWork::Start
                } else {
                    NextWork::Poke
                };
                let wake_at = record.wake_at.unwrap_or(now);
                self.wait_until(index, record.state, record.message.clone(), wake_at);
            }
            TaskState::Deferred => match &record.deferral {
                Some(deferral) => self.restore_deferral(index, deferral, triggers),
                None => self.restart(index),
            },
            _ if try_open => self.restart(index),
            // Not started, or scheduled for its next try.
            _ => task.state = TaskState::None,
        }
    }

    /// Runs the task's current try again from its start.
    fn restart(&mut self, index: usize) {
        let task = &mut self.tasks[index];
        task.state = TaskState::None;
        task.next = NextWork::Restart;
    }

    fn restore_deferral(
        &mut self,
        index: usize,
        record: &DeferralRecord,
        triggers: &TriggerRegistry,
    ) {
        let trigger = match triggers.rebuild(&record.trigger) {
            Ok(trigger) => trigger,
            Err(problem) => {
                self.tasks[index].state = TaskState::Deferred;
                let error =
                    TaskError::fatal(format!("cannot wait for its trigger again: {problem}"));
                return self.fail(index, error);
            }
        };
        let timeout = record.deadline.map(|at| (at, self.timeout_kind(index, at)));
        let deferral = Deferral {
            trigger,
            method_name: record.method_name.clone(),
            timeout: None,
        };
        let serial = self.next_serial(index);
        let task = &mut self.tasks[index];
        task.state = TaskState::Deferred;
        task.resume_method = record.method_name.clone();
        self.effects.push(Effect::Trigger {
            index,
            serial,
            deferral,
            timeout,
        });
    }

    /// Which limit a recorded deadline is: the task's execution_timeout or its sensor's
    /// timeout if it falls then, else the deferral's own timeout.
    fn timeout_kind(&self, index: usize, deadline: DateTime<Utc>) -> TriggerTimeout {
        let task = self.dag.task(index);
        let run = &self.tasks[index];
        let from_start = |limit: Duration| {
            run.try_started_at
                .is_some_and(|started| gust_core::clock::add(started, limit) == deadline)
        };
        if let Some(limit) = task.settings().execution_timeout.filter(|l| from_start(*l)) {
            return TriggerTimeout::Execution(limit);
        }
        if let Some(sensor) = task
            .kind()
            .sensor_settings()
            .filter(|s| from_start(s.timeout))
        {
            return TriggerTimeout::Sensor(sensor.timeout);
        }
        let left = (deadline - run.try_started_at.unwrap_or(self.now))
            .to_std()
            .unwrap_or_default();
        TriggerTimeout::Deferral(left)
    }
}
