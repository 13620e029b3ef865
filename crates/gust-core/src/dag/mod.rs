//! The DAG model: tasks, their settings, and the dependencies between them.
//!
//! A [`Dag`] is built with a [`DagBuilder`] (or loaded from YAML) and validated once:
//! unique task ids, known upstream tasks, known XCom references, no cycles. Once built it
//! is immutable and shared by every run.

mod builder;
mod error;

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use petgraph::Direction;
use petgraph::graph::{DiGraph, NodeIndex};
use serde_json::{Map, Value};

pub use builder::{DagBuilder, TaskBuilder, TaskHandle};
pub use error::DagError;

use crate::expr::XComRef;
use crate::operator::Operator;
use crate::sensor::{Sensor, SensorSettings};
use crate::settings::TaskSettings;

/// The work a task does.
#[derive(Clone)]
pub enum TaskKind {
    /// Runs an operator.
    Operator(Arc<dyn Operator>),
    /// Waits with a sensor.
    Sensor(Arc<dyn Sensor>),
}

impl TaskKind {
    /// The operator's or sensor's type name.
    pub fn type_name(&self) -> &'static str {
        match self {
            TaskKind::Operator(op) => op.type_name(),
            TaskKind::Sensor(sensor) => sensor.type_name(),
        }
    }

    /// The XCom values the task's parameters reference.
    pub fn xcom_refs(&self) -> Vec<XComRef> {
        match self {
            TaskKind::Operator(op) => op.xcom_refs(),
            TaskKind::Sensor(sensor) => sensor.xcom_refs(),
        }
    }

    /// The sensor settings, for a sensor.
    pub fn sensor_settings(&self) -> Option<SensorSettings> {
        match self {
            TaskKind::Operator(_) => None,
            TaskKind::Sensor(sensor) => Some(sensor.settings()),
        }
    }
}

/// One task of a DAG.
#[derive(Clone)]
pub struct Task {
    id: Arc<str>,
    kind: TaskKind,
    settings: TaskSettings,
}

impl Task {
    /// The task's id, unique in its DAG.
    pub fn id(&self) -> &Arc<str> {
        &self.id
    }

    /// The work the task does.
    pub fn kind(&self) -> &TaskKind {
        &self.kind
    }

    /// The task's settings, with `default_args` and Airflow's defaults applied.
    pub fn settings(&self) -> &TaskSettings {
        &self.settings
    }
}

impl std::fmt::Debug for Task {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Task")
            .field("id", &self.id)
            .field("type", &self.kind.type_name())
            .field("settings", &self.settings)
            .finish()
    }
}

/// DAG-level settings.
#[derive(Debug, Clone, PartialEq)]
pub struct DagSettings {
    /// What the DAG does, for listings.
    pub description: Option<String>,
    /// Params with their default values; a run's conf overrides them.
    pub params: Map<String, Value>,
    /// The most task instances of this DAG that run at once (Airflow's default: 16).
    pub max_active_tasks: usize,
    /// The longest a run may take; past it the run is stopped and fails.
    pub dagrun_timeout: Option<Duration>,
    /// Labels for listings.
    pub tags: Vec<String>,
}

impl Default for DagSettings {
    fn default() -> Self {
        DagSettings {
            description: None,
            params: Map::new(),
            max_active_tasks: 16,
            dagrun_timeout: None,
            tags: Vec::new(),
        }
    }
}

/// A validated DAG: tasks and their dependencies.
pub struct Dag {
    dag_id: Arc<str>,
    settings: DagSettings,
    /// Edges point from upstream to downstream. Node indices follow the order tasks were
    /// added, so iteration is stable.
    graph: DiGraph<Task, ()>,
    by_id: HashMap<Arc<str>, NodeIndex>,
}

impl Dag {
    /// Starts building a DAG.
    pub fn builder(dag_id: impl Into<String>) -> DagBuilder {
        DagBuilder::new(dag_id)
    }

    /// The DAG's id.
    pub fn dag_id(&self) -> &Arc<str> {
        &self.dag_id
    }

    /// The DAG-level settings.
    pub fn settings(&self) -> &DagSettings {
        &self.settings
    }

    /// How many tasks the DAG has.
    pub fn len(&self) -> usize {
        self.graph.node_count()
    }

    /// Whether the DAG has no tasks.
    pub fn is_empty(&self) -> bool {
        self.graph.node_count() == 0
    }

    /// The tasks with their indices, in the order they were added.
    pub fn tasks(&self) -> impl ExactSizeIterator<Item = (usize, &Task)> + '_ {
        self.graph
            .node_indices()
            .map(move |node| (node.index(), &self.graph[node]))
    }

    /// The task at `index`.
    ///
    /// # Panics
    /// If `index` is not below [`len`](Dag::len).
    pub fn task(&self, index: usize) -> &Task {
        &self.graph[NodeIndex::new(index)]
    }

    /// The index of the task with id `task_id`.
    pub fn index_of(&self, task_id: &str) -> Option<usize> {
        self.by_id.get(task_id).map(|node| node.index())
    }

    /// The task with id `task_id`.
    pub fn get(&self, task_id: &str) -> Option<&Task> {
        self.by_id.get(task_id).map(|node| &self.graph[*node])
    }

    /// Indices of the direct upstream tasks of the task at `index`.
    pub fn upstream(&self, index: usize) -> impl Iterator<Item = usize> + '_ {
        self.neighbors(index, Direction::Incoming)
    }

    /// Indices of the direct downstream tasks of the task at `index`.
    pub fn downstream(&self, index: usize) -> impl Iterator<Item = usize> + '_ {
        self.neighbors(index, Direction::Outgoing)
    }

    fn neighbors(&self, index: usize, direction: Direction) -> impl Iterator<Item = usize> + '_ {
        self.graph
            .neighbors_directed(NodeIndex::new(index), direction)
            .map(|node| node.index())
    }

    /// The number of direct upstream tasks of the task at `index`.
    pub fn upstream_count(&self, index: usize) -> usize {
        self.upstream(index).count()
    }

    /// Indices of every task downstream of `index`, transitively, excluding `index`.
    pub fn descendants(&self, index: usize) -> Vec<usize> {
        let mut seen = vec![false; self.len()];
        let mut stack = vec![index];
        let mut found = Vec::new();
        while let Some(at) = stack.pop() {
            for next in self.downstream(at) {
                if !seen[next] {
                    seen[next] = true;
                    found.push(next);
                    stack.push(next);
                }
            }
        }
        found.sort_unstable();
        found
    }

    /// A DAG of only the tasks in `keep` and the dependencies among them, with the same
    /// settings. References to tasks left out stay in the kept tasks' parameters: a run of
    /// the subset must be given their values (as `gust tasks test --xcom` does).
    pub fn subset(&self, keep: &[&str]) -> Result<Dag, DagError> {
        let mut graph = DiGraph::new();
        let mut by_id = HashMap::new();
        let mut old_to_new = HashMap::new();
        for id in keep {
            let old = *self.by_id.get(*id).ok_or_else(|| DagError::UnknownTask {
                task_id: (*id).to_owned(),
            })?;
            if old_to_new.contains_key(&old) {
                continue;
            }
            let new = graph.add_node(self.graph[old].clone());
            old_to_new.insert(old, new);
            by_id.insert(self.graph[old].id.clone(), new);
        }
        for edge in self.graph.edge_indices() {
            let Some((from, to)) = self.graph.edge_endpoints(edge) else {
                continue;
            };
            if let (Some(a), Some(b)) = (old_to_new.get(&from), old_to_new.get(&to)) {
                graph.update_edge(*a, *b, ());
            }
        }
        Ok(Dag {
            dag_id: self.dag_id.clone(),
            settings: self.settings.clone(),
            graph,
            by_id,
        })
    }

    /// The task ids with their upstream task ids, in the order tasks were added.
    pub fn dependencies(&self) -> Vec<(&str, Vec<&str>)> {
        self.tasks()
            .map(|(index, task)| {
                let mut upstream: Vec<&str> =
                    self.upstream(index).map(|up| &*self.task(up).id).collect();
                upstream.sort_unstable();
                (&*task.id, upstream)
            })
            .collect()
    }
}

impl std::fmt::Debug for Dag {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Dag")
            .field("dag_id", &self.dag_id)
            .field("tasks", &self.dependencies())
            .finish()
    }
}

#[cfg(test)]
mod tests;
