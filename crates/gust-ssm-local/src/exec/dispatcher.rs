//! One dispatcher per command: it starts invocations as MaxConcurrency allows, skips nodes
//! that are offline, stops starting new ones once MaxErrors is exceeded, and ends those not
//! delivered by the delivery deadline.

use std::collections::{BTreeSet, VecDeque};
use std::sync::Arc;
use std::time::{Instant, SystemTime};

use tokio::sync::Notify;
use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;
use tracing::{debug, warn};

use super::script;
use crate::shared::Shared;
use crate::state::{CommandRecord, CommandSpec, InvocationStatus};

/// What the dispatcher of one command needs to know.
#[derive(Debug)]
pub(crate) struct Plan {
    pub(crate) seq: usize,
    pub(crate) command_id: Arc<str>,
    pub(crate) spec: Arc<CommandSpec>,
    pub(crate) invocations: usize,
    pub(crate) max_concurrency: usize,
    pub(crate) delivery_deadline: Instant,
    pub(crate) wake: Arc<Notify>,
}

/// An invocation the dispatcher has just marked InProgress.
struct Start {
    index: usize,
    node: usize,
    cancel: CancellationToken,
}

/// Drives one command until every invocation has ended (or the service shuts down).
pub(crate) async fn dispatch(shared: Arc<Shared>, plan: Plan) {
    let plan = Arc::new(plan);
    let mut waiting: VecDeque<usize> = (0..plan.invocations).collect();
    let mut running = JoinSet::new();
    let mut knob_changes = shared.knobs.subscribe();
    let deadline = tokio::time::Instant::from_std(plan.delivery_deadline);

    loop {
        for start in next_starts(&shared, &plan, &mut waiting, running.len()) {
            running.spawn(run_invocation(shared.clone(), plan.clone(), start));
        }
        if waiting.is_empty() && running.is_empty() {
            break;
        }

        tokio::select! {
            Some(joined) = running.join_next(), if !running.is_empty() => {
                if let Err(err) = joined {
                    warn!(command = %plan.command_id, %err, "an invocation task failed");
                }
            }
            _ = knob_changes.changed() => {}
            () = tokio::time::sleep_until(deadline), if !waiting.is_empty() => {}
            () = plan.wake.notified() => {}
            () = shared.shutdown.cancelled() => {
                while running.join_next().await.is_some() {}
                break;
            }
        }
    }
    debug!(command = %plan.command_id, "dispatcher done");
}

/// Settles the waiting invocations: drops those ended elsewhere (cancelled), ends them all
/// when MaxErrors is exceeded or the delivery deadline has passed, and otherwise marks as
/// many InProgress as the concurrency left allows, skipping offline nodes.
fn next_starts(
    shared: &Shared,
    plan: &Plan,
    waiting: &mut VecDeque<usize>,
    running: usize,
) -> Vec<Start> {
    let offline = shared.knobs.settings().offline_nodes;
    let now = SystemTime::now();
    let mut store = shared.store();
    let Some(command) = store.command_mut(plan.seq) else {
        waiting.clear();
        return Vec::new();
    };

    waiting.retain(|&i| command.invocations[i].status == InvocationStatus::Pending);
    if command.error_count() > command.max_errors {
        end_all(command, waiting, InvocationStatus::Terminated, now);
        return Vec::new();
    }
    if Instant::now() >= plan.delivery_deadline {
        end_all(command, waiting, InvocationStatus::DeliveryTimedOut, now);
        return Vec::new();
    }

    let mut starts = Vec::new();
    let mut position = 0;
    while running + starts.len() < plan.max_concurrency && position < waiting.len() {
        let index = waiting[position];
        let node = command.invocations[index].node();
        if is_offline(shared, &offline, node) {
            position += 1;
            continue;
        }
        waiting.remove(position);
        let cancel = command.cancel.child_token();
        command.invocations[index].start(now, cancel.clone());
        starts.push(Start {
            index,
            node,
            cancel,
        });
    }
    starts
}

fn is_offline(shared: &Shared, offline: &BTreeSet<String>, node: usize) -> bool {
    !offline.is_empty() && offline.contains(shared.fleet.id(node))
}

fn end_all(
    command: &mut CommandRecord,
    waiting: &mut VecDeque<usize>,
    status: InvocationStatus,
    now: SystemTime,
) {
    for index in waiting.drain(..) {
        command.invocations[index].end_unstarted(status, now);
    }
}

async fn run_invocation(shared: Arc<Shared>, plan: Arc<Plan>, start: Start) {
    let node_root = shared.fleet.root(start.node);
    let finished = match script::prepare(node_root, &plan.command_id, &plan.spec.script).await {
        Ok(prepared) => {
            let timeout = plan.spec.script.execution_timeout;
            script::run(&prepared, timeout, &start.cancel, &shared.groups).await
        }
        Err(reason) => script::not_started(reason),
    };
    debug!(
        command = %plan.command_id,
        node = shared.fleet.id(start.node),
        status = finished.status.details(),
        code = finished.response_code,
        "invocation ended"
    );

    let now = SystemTime::now();
    if let Some(command) = shared.store().command_mut(plan.seq) {
        command.invocations[start.index].finish(finished, now);
    }
}
