//! A run's records in memory, with changes applied as every store applies them: the
//! in-memory store keeps its runs this way, and the SQLite store keeps the runs it is
//! writing this way, to know each row's new content without reading it back.

use std::collections::HashMap;

use gust_core::{RunState, TaskState};
use serde_json::Value;

use super::{Change, RunRecord, RunSnapshot, TaskRecord, apply_to_task};

/// One run's records.
#[derive(Debug, Clone)]
pub struct RecordedRun {
    run: RunRecord,
    tasks: Vec<TaskRecord>,
    task_index: HashMap<String, usize>,
    xcom: Keyed,
    task_data: Keyed,
}

/// What a change altered: the run's record, or the entry at an index of its task
/// instances, XComs or task-state values (indexes are in the order first recorded).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Touched {
    /// The run's own record.
    Run,
    /// A task instance, and its last try.
    Task(usize),
    /// An XCom value.
    XCom(usize),
    /// A task-state value.
    TaskData(usize),
}

/// (task, key) -> value, in the order first written.
#[derive(Debug, Clone, Default)]
struct Keyed {
    entries: Vec<(String, String, Value)>,
    index: HashMap<(String, String), usize>,
}

impl Keyed {
    fn from_entries(entries: Vec<(String, String, Value)>) -> Self {
        let index = entries
            .iter()
            .enumerate()
            .map(|(at, (task, key, _))| ((task.clone(), key.clone()), at))
            .collect();
        Keyed { entries, index }
    }

    fn upsert(&mut self, task_id: &str, key: &str, value: &Value) -> usize {
        let slot = (task_id.to_owned(), key.to_owned());
        match self.index.get(&slot) {
            Some(&at) => {
                self.entries[at].2 = value.clone();
                at
            }
            None => {
                let at = self.entries.len();
                self.index.insert(slot, at);
                self.entries
                    .push((task_id.to_owned(), key.to_owned(), value.clone()));
                at
            }
        }
    }
}

impl RecordedRun {
    /// A new run with nothing recorded yet.
    pub fn new(run: RunRecord) -> Self {
        RecordedRun {
            run,
            tasks: Vec::new(),
            task_index: HashMap::new(),
            xcom: Keyed::default(),
            task_data: Keyed::default(),
        }
    }

    /// A run as a store read it back.
    pub fn from_snapshot(snapshot: RunSnapshot) -> Self {
        let task_index = snapshot
            .tasks
            .iter()
            .enumerate()
            .map(|(at, task)| (task.task_id.clone(), at))
            .collect();
        RecordedRun {
            run: snapshot.run,
            tasks: snapshot.tasks,
            task_index,
            xcom: Keyed::from_entries(snapshot.xcom),
            task_data: Keyed::from_entries(snapshot.task_data),
        }
    }

    /// Applies one change and says what it altered.
    pub fn apply(&mut self, change: &Change) -> Touched {
        match change {
            Change::Run { state, at } => {
                self.run.state = *state;
                if *state == RunState::Queued {
                    // Set back to queued (tasks of an ended run cleared to run again): the
                    // run starts anew, and its dagrun_timeout counts from then.
                    self.run.started_at = None;
                    self.run.ended_at = None;
                }
                if *state == RunState::Running && self.run.started_at.is_none() {
                    self.run.started_at = Some(*at);
                }
                if state.is_finished() {
                    self.run.ended_at = Some(*at);
                }
                Touched::Run
            }
            Change::Task(change) => {
                let at = match self.task_index.get(&*change.task_id) {
                    Some(&at) => at,
                    None => {
                        let at = self.tasks.len();
                        self.task_index.insert(change.task_id.to_string(), at);
                        self.tasks.push(TaskRecord {
                            task_id: change.task_id.to_string(),
                            state: TaskState::None,
                            try_number: 0,
                            message: None,
                            wake_at: None,
                            deferral: None,
                            tries: Vec::new(),
                        });
                        at
                    }
                };
                apply_to_task(&mut self.tasks[at], change);
                Touched::Task(at)
            }
            Change::XCom {
                task_id,
                key,
                value,
            } => Touched::XCom(self.xcom.upsert(task_id, key, value)),
            Change::TaskData {
                task_id,
                key,
                value,
            } => Touched::TaskData(self.task_data.upsert(task_id, key, value)),
        }
    }

    /// The run's record.
    pub fn run(&self) -> &RunRecord {
        &self.run
    }

    /// The task instance at `index`.
    pub fn task(&self, index: usize) -> &TaskRecord {
        &self.tasks[index]
    }

    /// The XCom value at `index`, as (task, key, value).
    pub fn xcom(&self, index: usize) -> &(String, String, Value) {
        &self.xcom.entries[index]
    }

    /// The task-state value at `index`, as (task, key, value).
    pub fn task_data(&self, index: usize) -> &(String, String, Value) {
        &self.task_data.entries[index]
    }

    /// Everything recorded about the run.
    pub fn snapshot(&self) -> RunSnapshot {
        RunSnapshot {
            run: self.run.clone(),
            tasks: self.tasks.clone(),
            xcom: self.xcom.entries.clone(),
            task_data: self.task_data.entries.clone(),
        }
    }
}
