//! ListCommandInvocations: invocations of the newest commands first, each command's in target
//! order, 50 a page at most. Invocations of commands still within their visibility lag are
//! left out, as SSM leaves out those it has not yet made visible.

use std::time::Instant;

use serde::Deserialize;
use serde_json::{Value, json};

use super::filters::{self, FilterInput, Listing};
use super::paging::{self, Cursor};
use super::shapes;
use crate::protocol::{ApiError, Violations, decode};
use crate::shared::Shared;

const TOKEN_KIND: &str = "inv";

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
struct Input {
    command_id: Option<String>,
    instance_id: Option<String>,
    max_results: Option<i64>,
    next_token: Option<String>,
    filters: Option<Vec<FilterInput>>,
    details: Option<bool>,
}

pub(super) fn handle(shared: &Shared, body: &[u8]) -> Result<Value, ApiError> {
    let input: Input = decode(body)?;
    let mut violations = Violations::default();
    let page_size = paging::page_size(input.max_results, (1, 50), 50, &mut violations);
    violations.into_result()?;
    let filters = filters::parse(input.filters.as_deref(), Listing::Invocations)?;
    let cursor = paging::parse(input.next_token.as_deref(), TOKEN_KIND)?;
    let details = input.details.unwrap_or(false);
    let node = input
        .instance_id
        .as_deref()
        .map(|id| shared.fleet.position(id));

    let store = shared.store();
    let only = paging::only_command(&store, input.command_id.as_deref(), cursor)?;

    let now = Instant::now();
    let mut invocations = Vec::new();
    let mut next = None;
    'commands: for (seq, record) in store.listing(only, cursor.map(|c| c.seq)) {
        if !record.is_visible(now) {
            continue;
        }
        let first = cursor.filter(|c| c.seq == seq).map_or(0, |c| c.index);
        for (index, invocation) in record.invocations.iter().enumerate().skip(first) {
            let on_node = node.is_none_or(|node| node == Some(invocation.node()));
            if !on_node || !filters::keep_invocation(&filters, record, invocation) {
                continue;
            }
            if invocations.len() == page_size {
                next = Some(Cursor { seq, index });
                break 'commands;
            }
            invocations.push(shapes::invocation(
                &shared.fleet,
                record,
                invocation,
                details,
            ));
        }
    }

    let mut answer = json!({ "CommandInvocations": invocations });
    if let Some(next) = next {
        answer["NextToken"] = json!(paging::token(TOKEN_KIND, next));
    }
    Ok(answer)
}
