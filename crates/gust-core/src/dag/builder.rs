//! Building a DAG in Rust code.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use petgraph::graph::DiGraph;
use serde_json::{Map, Value};

use super::error::{find_cycle, valid_id};
use super::{Dag, DagError, DagSettings, Task, TaskKind};
use crate::expr::XComRef;
use crate::operator::Operator;
use crate::sensor::Sensor;
use crate::settings::TaskOverrides;
use crate::trigger_rule::TriggerRule;

/// Builds a [`Dag`] from Rust code.
///
/// ```
/// use gust_core::{Dag, Operator, Outcome, TaskContext, TaskError};
/// # struct Noop;
/// # #[async_trait::async_trait]
/// # impl Operator for Noop {
/// #     async fn execute(&self, _: &TaskContext) -> Result<Outcome, TaskError> {
/// #         Ok(Outcome::Nothing)
/// #     }
/// # }
///
/// let mut dag = Dag::builder("etl");
/// let extract = dag.task("extract", Noop);
/// let load = dag.task("load", Noop);
/// dag.set_downstream(&extract, &load);
/// let dag = dag.build().unwrap();
/// assert_eq!(dag.dependencies(), vec![("extract", vec![]), ("load", vec!["extract"])]);
/// ```
#[derive(Default)]
pub struct DagBuilder {
    dag_id: String,
    settings: DagSettings,
    default_args: TaskOverrides,
    tasks: Vec<TaskBuilder>,
    edges: Vec<(String, String)>,
}

/// A task id returned when a task is added; use it to declare dependencies and to
/// reference the task's output.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct TaskHandle {
    id: String,
}

impl TaskHandle {
    /// The task's id.
    pub fn id(&self) -> &str {
        &self.id
    }

    /// A reference to the task's returned value; using it as a parameter of another task
    /// makes this task upstream of that one.
    pub fn output(&self) -> XComRef {
        XComRef::output(&self.id)
    }

    /// A reference to a value the task pushed under `key`.
    pub fn output_key(&self, key: &str) -> XComRef {
        XComRef::keyed(&self.id, key)
    }
}

/// One task being built: its work, its settings and its explicit upstream tasks.
pub struct TaskBuilder {
    id: String,
    kind: TaskKind,
    overrides: TaskOverrides,
    needs: Vec<String>,
}

impl TaskBuilder {
    /// A task that runs `operator`.
    pub fn operator(id: impl Into<String>, operator: impl Operator + 'static) -> Self {
        Self::of_kind(id, TaskKind::Operator(Arc::new(operator)))
    }

    /// A task that waits with `sensor`.
    pub fn sensor(id: impl Into<String>, sensor: impl Sensor + 'static) -> Self {
        Self::of_kind(id, TaskKind::Sensor(Arc::new(sensor)))
    }

    /// A task of the given kind.
    pub fn of_kind(id: impl Into<String>, kind: TaskKind) -> Self {
        TaskBuilder {
            id: id.into(),
            kind,
            overrides: TaskOverrides::default(),
            needs: Vec::new(),
        }
    }

    /// Sets every task setting at once.
    pub fn overrides(mut self, overrides: TaskOverrides) -> Self {
        self.overrides = overrides;
        self
    }

    /// Adds upstream tasks by id.
    pub fn needs<I, S>(mut self, upstream: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.needs.extend(upstream.into_iter().map(Into::into));
        self
    }

    /// Sets `retries`.
    pub fn retries(mut self, retries: u32) -> Self {
        self.overrides.retries = Some(retries);
        self
    }

    /// Sets `retry_delay`.
    pub fn retry_delay(mut self, delay: Duration) -> Self {
        self.overrides.retry_delay = Some(delay);
        self
    }

    /// Sets `retry_exponential_backoff`.
    pub fn retry_exponential_backoff(mut self, on: bool) -> Self {
        self.overrides.retry_exponential_backoff = Some(on);
        self
    }

    /// Sets `max_retry_delay`.
    pub fn max_retry_delay(mut self, delay: Duration) -> Self {
        self.overrides.max_retry_delay = Some(delay);
        self
    }

    /// Sets `execution_timeout`.
    pub fn execution_timeout(mut self, timeout: Duration) -> Self {
        self.overrides.execution_timeout = Some(timeout);
        self
    }

    /// Sets `trigger_rule`.
    pub fn trigger_rule(mut self, rule: TriggerRule) -> Self {
        self.overrides.trigger_rule = Some(rule);
        self
    }

    /// Sets `pool`.
    pub fn pool(mut self, pool: impl Into<String>) -> Self {
        self.overrides.pool = Some(pool.into());
        self
    }

    /// Sets `pool_slots`.
    pub fn pool_slots(mut self, slots: u32) -> Self {
        self.overrides.pool_slots = Some(slots);
        self
    }

    /// Sets `do_xcom_push`.
    pub fn do_xcom_push(mut self, on: bool) -> Self {
        self.overrides.do_xcom_push = Some(on);
        self
    }
}

impl DagBuilder {
    /// A builder for the DAG `dag_id`.
    pub fn new(dag_id: impl Into<String>) -> Self {
        DagBuilder {
            dag_id: dag_id.into(),
            ..Self::default()
        }
    }

    /// Sets the description.
    pub fn description(&mut self, text: impl Into<String>) -> &mut Self {
        self.settings.description = Some(text.into());
        self
    }

    /// Sets the params and their default values.
    pub fn params(&mut self, params: Map<String, Value>) -> &mut Self {
        self.settings.params = params;
        self
    }

    /// Sets the task settings every task gets unless it sets its own.
    pub fn default_args(&mut self, defaults: TaskOverrides) -> &mut Self {
        self.default_args = defaults;
        self
    }

    /// Sets how many task instances run at once.
    pub fn max_active_tasks(&mut self, limit: usize) -> &mut Self {
        self.settings.max_active_tasks = limit;
        self
    }

    /// Sets the longest a run may take.
    pub fn dagrun_timeout(&mut self, timeout: Duration) -> &mut Self {
        self.settings.dagrun_timeout = Some(timeout);
        self
    }

    /// Sets the tags.
    pub fn tags<I: IntoIterator<Item = S>, S: Into<String>>(&mut self, tags: I) -> &mut Self {
        self.settings.tags = tags.into_iter().map(Into::into).collect();
        self
    }

    /// Sets every DAG-level setting at once.
    pub fn settings(&mut self, settings: DagSettings) -> &mut Self {
        self.settings = settings;
        self
    }

    /// Adds a task.
    pub fn add(&mut self, task: TaskBuilder) -> TaskHandle {
        let handle = TaskHandle {
            id: task.id.clone(),
        };
        self.tasks.push(task);
        handle
    }

    /// Adds a task that runs `operator` with default settings.
    pub fn task(&mut self, id: impl Into<String>, operator: impl Operator + 'static) -> TaskHandle {
        self.add(TaskBuilder::operator(id, operator))
    }

    /// Adds a task that waits with `sensor` with default settings.
    pub fn sensor(&mut self, id: impl Into<String>, sensor: impl Sensor + 'static) -> TaskHandle {
        self.add(TaskBuilder::sensor(id, sensor))
    }

    /// Makes `downstream` run after `upstream`.
    pub fn set_downstream(&mut self, upstream: &TaskHandle, downstream: &TaskHandle) -> &mut Self {
        self.edges
            .push((upstream.id.clone(), downstream.id.clone()));
        self
    }

    /// Makes each task run after the one before it.
    pub fn chain(&mut self, tasks: &[&TaskHandle]) -> &mut Self {
        for pair in tasks.windows(2) {
            self.set_downstream(pair[0], pair[1]);
        }
        self
    }

    /// Validates the tasks and dependencies and builds the DAG.
    pub fn build(self) -> Result<Dag, DagError> {
        if !valid_id(&self.dag_id) {
            return Err(DagError::InvalidId {
                what: "dag_id",
                id: self.dag_id,
            });
        }
        if self.settings.max_active_tasks == 0 {
            return Err(DagError::Setting(
                "max_active_tasks must be at least 1".to_owned(),
            ));
        }

        let mut graph = DiGraph::with_capacity(self.tasks.len(), self.edges.len());
        let mut by_id: HashMap<Arc<str>, _> = HashMap::with_capacity(self.tasks.len());
        let mut upstream_edges = Vec::new();
        for task in self.tasks {
            if !valid_id(&task.id) {
                return Err(DagError::InvalidId {
                    what: "task id",
                    id: task.id,
                });
            }
            let id: Arc<str> = task.id.as_str().into();
            if by_id.contains_key(&id) {
                return Err(DagError::DuplicateTask { task_id: task.id });
            }
            for upstream in &task.needs {
                upstream_edges.push((upstream.clone(), task.id.clone(), None));
            }
            for reference in task.kind.xcom_refs() {
                upstream_edges.push((reference.task_id.clone(), task.id.clone(), Some(reference)));
            }
            let settings = task.overrides.over(&self.default_args);
            let node = graph.add_node(Task {
                id: id.clone(),
                kind: task.kind,
                settings,
            });
            by_id.insert(id, node);
        }

        for (upstream, downstream, reference) in upstream_edges {
            let down = by_id[downstream.as_str()];
            let Some(&up) = by_id.get(upstream.as_str()) else {
                return Err(match reference {
                    Some(reference) => DagError::UnknownReference {
                        task_id: downstream,
                        reference,
                    },
                    None => DagError::UnknownUpstream {
                        task_id: downstream,
                        upstream,
                    },
                });
            };
            graph.update_edge(up, down, ());
        }
        for (upstream, downstream) in self.edges {
            let node = |id: String| {
                by_id
                    .get(id.as_str())
                    .copied()
                    .ok_or(DagError::UnknownTask { task_id: id })
            };
            let (up, down) = (node(upstream)?, node(downstream)?);
            graph.update_edge(up, down, ());
        }

        if let Some(cycle) = find_cycle(&graph) {
            return Err(DagError::Cycle {
                tasks: cycle.into_iter().map(|n| graph[n].id.to_string()).collect(),
            });
        }

        Ok(Dag {
            dag_id: self.dag_id.into(),
            settings: self.settings,
            graph,
            by_id,
        })
    }
}
