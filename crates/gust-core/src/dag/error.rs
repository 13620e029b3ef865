//! Why a DAG is invalid, and how a cycle is named.

use std::collections::{HashSet, VecDeque};

use petgraph::algo::kosaraju_scc;
use petgraph::graph::{DiGraph, NodeIndex};

use crate::expr::XComRef;

/// Why a DAG could not be built.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum DagError {
    /// A dag id or task id is empty or has characters outside letters, digits, `_`, `-`
    /// and `.`.
    #[error("{what} '{id}' is not valid: use letters, digits, '_', '-' and '.' only")]
    InvalidId {
        /// `dag_id` or `task id`.
        what: &'static str,
        /// The id given.
        id: String,
    },
    /// Two tasks have the same id.
    #[error("task id '{task_id}' is used by more than one task")]
    DuplicateTask {
        /// The repeated id.
        task_id: String,
    },
    /// A task needs a task the DAG does not have.
    #[error("task '{task_id}' needs '{upstream}', which is not a task of this DAG")]
    UnknownUpstream {
        /// The task with the dependency.
        task_id: String,
        /// The unknown id.
        upstream: String,
    },
    /// A dependency names a task the DAG does not have.
    #[error("'{task_id}' is not a task of this DAG")]
    UnknownTask {
        /// The unknown id.
        task_id: String,
    },
    /// A task's parameter references the XCom of a task the DAG does not have.
    #[error("task '{task_id}' references {reference}, which is not a task of this DAG")]
    UnknownReference {
        /// The task with the reference.
        task_id: String,
        /// The reference.
        reference: XComRef,
    },
    /// Dependencies form a cycle.
    #[error("the dependencies form a cycle: {}", cycle_text(.tasks))]
    Cycle {
        /// The tasks on the cycle, in dependency order; the first one closes it.
        tasks: Vec<String>,
    },
    /// A DAG-level setting is out of range.
    #[error("{0}")]
    Setting(String),
}

fn cycle_text(tasks: &[String]) -> String {
    let mut text = tasks.join(" -> ");
    if let Some(first) = tasks.first() {
        text.push_str(" -> ");
        text.push_str(first);
    }
    text
}

/// Whether `id` is a valid dag or task id.
pub(crate) fn valid_id(id: &str) -> bool {
    !id.is_empty()
        && id.len() <= 250
        && id
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.'))
}

/// One cycle of `graph`, as node indices in edge order, if it has any.
pub(crate) fn find_cycle<N, E>(graph: &DiGraph<N, E>) -> Option<Vec<NodeIndex>> {
    for component in kosaraju_scc(graph) {
        let start = component[0];
        let self_loop = graph.contains_edge(start, start);
        if component.len() == 1 && !self_loop {
            continue;
        }
        if self_loop {
            return Some(vec![start]);
        }
        let members: HashSet<NodeIndex> = component.iter().copied().collect();
        return shortest_path_back(graph, start, &members);
    }
    None
}

/// The shortest path from `start` back to itself, staying inside `members`.
fn shortest_path_back<N, E>(
    graph: &DiGraph<N, E>,
    start: NodeIndex,
    members: &HashSet<NodeIndex>,
) -> Option<Vec<NodeIndex>> {
    let mut parent = std::collections::HashMap::new();
    let mut queue = VecDeque::from([start]);
    while let Some(at) = queue.pop_front() {
        for next in graph.neighbors(at) {
            if next == start {
                let mut path = vec![at];
                let mut back = at;
                while back != start {
                    back = parent[&back];
                    path.push(back);
                }
                path.reverse();
                return Some(path);
            }
            if members.contains(&next) && !parent.contains_key(&next) {
                parent.insert(next, at);
                queue.push_back(next);
            }
        }
    }
    None
}
