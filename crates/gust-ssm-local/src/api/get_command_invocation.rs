//! GetCommandInvocation: one node's invocation of a command, with its output.

use std::time::Instant;

use serde::Deserialize;
use serde_json::Value;

use super::shapes::{self, PLUGIN_NAME};
use crate::protocol::{ApiError, Violations, decode};
use crate::shared::Shared;

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
struct Input {
    command_id: Option<String>,
    instance_id: Option<String>,
    plugin_name: Option<String>,
}

pub(super) fn handle(shared: &Shared, body: &[u8]) -> Result<Value, ApiError> {
    let input: Input = decode(body)?;
    let mut violations = Violations::default();
    if input.command_id.is_none() {
        violations.missing("commandId");
    }
    if input.instance_id.is_none() {
        violations.missing("instanceId");
    }
    violations.into_result()?;
    let command_id = input.command_id.as_deref().unwrap_or_default();
    let instance_id = input.instance_id.as_deref().unwrap_or_default();

    let store = shared.store();
    let record = store
        .seq_of(command_id)
        .and_then(|seq| store.command(seq))
        .ok_or_else(|| ApiError::invalid_command_id(command_id))?;
    let not_there = || ApiError::invocation_does_not_exist(command_id, instance_id);
    if !record.is_visible(Instant::now()) {
        return Err(not_there());
    }
    let invocation = shared
        .fleet
        .position(instance_id)
        .and_then(|node| record.invocation_on(node))
        .ok_or_else(not_there)?;

    if let Some(plugin) = input.plugin_name.as_deref()
        && plugin != PLUGIN_NAME
    {
        return Err(ApiError::new(
            "InvalidPluginName",
            format!(
                "{} has no step {plugin:?}; its only step is {PLUGIN_NAME}",
                record.spec.document_name
            ),
        ));
    }

    Ok(shapes::invocation_result(&shared.fleet, record, invocation))
}
