//! DescribeInstanceInformation: the managed nodes, online or not, with SSM's filters on ids,
//! ping status, platform type, resource type and tags.

use std::time::SystemTime;

use serde::Deserialize;
use serde_json::{Value, json};

use super::paging::{self, Cursor};
use crate::NodeConfig;
use crate::protocol::{ApiError, Violations, decode};
use crate::shared::Shared;
use crate::time::epoch_seconds;

const TOKEN_KIND: &str = "node";
const OPERATION: &str = "DescribeInstanceInformation";

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
struct Input {
    instance_information_filter_list: Option<Vec<InformationFilter>>,
    filters: Option<Vec<StringFilter>>,
    max_results: Option<i64>,
    next_token: Option<String>,
}

/// `InstanceInformationFilter`: lower-case members.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
struct InformationFilter {
    key: Option<String>,
    value_set: Option<Vec<String>>,
}

/// `InstanceInformationStringFilter`.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
struct StringFilter {
    key: Option<String>,
    values: Option<Vec<String>>,
}

/// What a node reports about itself.
struct Facts<'a> {
    node: &'a NodeConfig,
    ping_status: &'static str,
}

impl Facts<'_> {
    fn resource_type(&self) -> &'static str {
        if self.node.id.starts_with("i-") {
            "EC2Instance"
        } else {
            "ManagedInstance"
        }
    }

    fn matches(&self, key: &str, values: &[String], tags_allowed: bool) -> Result<bool, ApiError> {
        let any = |value: &str| values.iter().any(|v| v == value);
        let matched = match key {
            "InstanceIds" => any(&self.node.id),
            "PingStatus" => any(self.ping_status),
            "PlatformTypes" => any("Linux"),
            "ResourceType" => any(self.resource_type()),
            "AgentVersion" => any(AGENT_VERSION),
            "tag-key" if tags_allowed => values.iter().any(|k| self.node.tags.contains_key(k)),
            _ => match key.strip_prefix("tag:").filter(|_| tags_allowed) {
                Some(tag) => self.node.tags.get(tag).is_some_and(|value| any(value)),
                None => return Err(ApiError::invalid_filter_key(key, OPERATION)),
            },
        };
        Ok(matched)
    }
}

const AGENT_VERSION: &str = env!("CARGO_PKG_VERSION");

pub(super) fn handle(shared: &Shared, body: &[u8]) -> Result<Value, ApiError> {
    let input: Input = decode(body)?;
    let mut violations = Violations::default();
    let page_size = paging::page_size(input.max_results, (5, 50), 50, &mut violations);
    violations.into_result()?;
    let cursor = paging::parse(input.next_token.as_deref(), TOKEN_KIND)?;

    let information_filters = input.instance_information_filter_list.unwrap_or_default();
    let string_filters = input.filters.unwrap_or_default();
    let offline = shared.knobs.settings().offline_nodes;
    let now = SystemTime::now();

    let mut listed = Vec::new();
    let mut next = None;
    let first = cursor.map_or(0, |c| c.index);
    for (index, node) in shared.fleet.nodes().iter().enumerate().skip(first) {
        let online = !offline.contains(&node.id);
        let facts = Facts {
            node,
            ping_status: if online { "Online" } else { "ConnectionLost" },
        };
        if !passes(&facts, &information_filters, &string_filters)? {
            continue;
        }
        if listed.len() == page_size {
            next = Some(Cursor { seq: 0, index });
            break;
        }
        listed.push(describe(&facts, online.then_some(now)));
    }

    let mut answer = json!({ "InstanceInformationList": listed });
    if let Some(next) = next {
        answer["NextToken"] = json!(paging::token(TOKEN_KIND, next));
    }
    Ok(answer)
}

fn passes(
    facts: &Facts<'_>,
    information_filters: &[InformationFilter],
    string_filters: &[StringFilter],
) -> Result<bool, ApiError> {
    for filter in information_filters {
        let key = filter.key.as_deref().unwrap_or_default();
        if !facts.matches(key, filter.value_set.as_deref().unwrap_or_default(), false)? {
            return Ok(false);
        }
    }
    for filter in string_filters {
        let key = filter.key.as_deref().unwrap_or_default();
        if !facts.matches(key, filter.values.as_deref().unwrap_or_default(), true)? {
            return Ok(false);
        }
    }
    Ok(true)
}

fn describe(facts: &Facts<'_>, last_ping: Option<SystemTime>) -> Value {
    let node = facts.node;
    let mut information = json!({
        "InstanceId": node.id,
        "PingStatus": facts.ping_status,
        "AgentVersion": AGENT_VERSION,
        "IsLatestVersion": true,
        "PlatformType": "Linux",
        "PlatformName": node.platform_name,
        "PlatformVersion": "",
        "ResourceType": facts.resource_type(),
        "IPAddress": "127.0.0.1",
        "ComputerName": node.id,
    });
    if let Some(name) = node.tags.get("Name") {
        information["Name"] = json!(name);
    }
    if let Some(time) = last_ping {
        information["LastPingDateTime"] = json!(epoch_seconds(time));
    }
    information
}
