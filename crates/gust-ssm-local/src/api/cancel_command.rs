//! CancelCommand: cancels a command on all its nodes, or on some. Invocations that have not
//! started end Cancelled at once; running ones go Cancelling while their scripts are killed.

use std::collections::HashSet;
use std::time::SystemTime;

use serde::Deserialize;
use serde_json::{Value, json};
use tracing::info;

use crate::protocol::{ApiError, Violations, decode};
use crate::shared::Shared;

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
struct Input {
    command_id: Option<String>,
    instance_ids: Option<Vec<String>>,
}

pub(super) fn handle(shared: &Shared, body: &[u8]) -> Result<Value, ApiError> {
    let input: Input = decode(body)?;
    let mut violations = Violations::default();
    if input.command_id.is_none() {
        violations.missing("commandId");
    }
    violations.max_len(input.instance_ids.as_deref(), "instanceIds", 50);
    violations.into_result()?;
    let command_id = input.command_id.as_deref().unwrap_or_default();
    let instance_ids = input.instance_ids.unwrap_or_default();

    let mut seen = HashSet::new();
    if let Some(id) = instance_ids.iter().find(|id| !seen.insert(id.as_str())) {
        return Err(ApiError::duplicate_instance_id(id));
    }

    let mut store = shared.store();
    let record = store
        .seq_of(command_id)
        .and_then(|seq| store.command_mut(seq))
        .ok_or_else(|| ApiError::invalid_command_id(command_id))?;

    let mut chosen = Vec::with_capacity(instance_ids.len());
    let mut strangers = Vec::new();
    for id in &instance_ids {
        let index = shared
            .fleet
            .position(id)
            .and_then(|node| record.invocations.iter().position(|inv| inv.node() == node));
        match index {
            Some(index) => chosen.push(index),
            None => strangers.push(id.as_str()),
        }
    }
    if !strangers.is_empty() {
        return Err(ApiError::invalid_instance_ids(&strangers));
    }

    let now = SystemTime::now();
    if instance_ids.is_empty() {
        record.cancel_requested = !record.is_finished();
        chosen.extend(0..record.invocations.len());
    }
    for index in chosen {
        record.invocations[index].cancel(now);
    }
    record.wake.notify_one();
    info!(
        command = command_id,
        nodes = instance_ids.len(),
        "cancel requested"
    );

    Ok(json!({}))
}
