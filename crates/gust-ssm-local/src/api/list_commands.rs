//! ListCommands: commands newest first, by id, by node or by filters, 50 a page at most.

use serde::Deserialize;
use serde_json::{Value, json};

use super::filters::{self, FilterInput, Listing};
use super::paging::{self, Cursor};
use super::shapes;
use crate::protocol::{ApiError, Violations, decode};
use crate::shared::Shared;

const TOKEN_KIND: &str = "cmd";

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
struct Input {
    command_id: Option<String>,
    instance_id: Option<String>,
    max_results: Option<i64>,
    next_token: Option<String>,
    filters: Option<Vec<FilterInput>>,
}

pub(super) fn handle(shared: &Shared, body: &[u8]) -> Result<Value, ApiError> {
    let input: Input = decode(body)?;
    let mut violations = Violations::default();
    let page_size = paging::page_size(input.max_results, (1, 50), 50, &mut violations);
    violations.into_result()?;
    let filters = filters::parse(input.filters.as_deref(), Listing::Commands)?;
    let cursor = paging::parse(input.next_token.as_deref(), TOKEN_KIND)?;
    let node = input
        .instance_id
        .as_deref()
        .map(|id| shared.fleet.position(id));

    let store = shared.store();
    let only = paging::only_command(&store, input.command_id.as_deref(), cursor)?;

    let mut commands = Vec::new();
    let mut next = None;
    for (seq, record) in store.listing(only, cursor.map(|c| c.seq)) {
        let on_node = match node {
            None => true,
            Some(node) => node.is_some_and(|node| record.invocation_on(node).is_some()),
        };
        let summary = record.summary();
        if !on_node || !filters::keep_command(&filters, record, &summary) {
            continue;
        }
        if commands.len() == page_size {
            next = Some(Cursor { seq, index: 0 });
            break;
        }
        commands.push(shapes::command(record));
    }

    let mut answer = json!({ "Commands": commands });
    if let Some(next) = next {
        answer["NextToken"] = json!(paging::token(TOKEN_KIND, next));
    }
    Ok(answer)
}
