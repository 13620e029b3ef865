//! Which nodes a SendCommand reaches: by `InstanceIds`, or by `Targets` whose keys are
//! `tag:<Key>`, `tag-key` or `InstanceIds`. Several targets must all match (each one matches
//! any of its values).

use serde::{Deserialize, Serialize};

use crate::fleet::Fleet;
use crate::protocol::ApiError;

/// A `Target` as the API shapes it; kept as sent, to be echoed by ListCommands.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct Target {
    #[serde(default)]
    pub(crate) key: Option<String>,
    #[serde(default)]
    pub(crate) values: Option<Vec<String>>,
}

enum Selector<'a> {
    Ids(&'a [String]),
    Tag { key: &'a str, values: &'a [String] },
    TagKey(&'a [String]),
}

impl Selector<'_> {
    fn matches(&self, fleet: &Fleet, node: usize) -> bool {
        let config = fleet.node(node);
        match self {
            Selector::Ids(ids) => ids.contains(&config.id),
            Selector::Tag { key, values } => config
                .tags
                .get(*key)
                .is_some_and(|value| values.contains(value)),
            Selector::TagKey(keys) => keys.iter().any(|key| config.tags.contains_key(key)),
        }
    }
}

/// The nodes named by `ids`, in that order. Unknown ids are InvalidInstanceId.
pub(crate) fn by_ids(fleet: &Fleet, ids: &[String]) -> Result<Vec<usize>, ApiError> {
    let unknown: Vec<&str> = ids
        .iter()
        .filter(|id| fleet.position(id).is_none())
        .map(String::as_str)
        .collect();
    if !unknown.is_empty() {
        return Err(ApiError::invalid_instance_ids(&unknown));
    }
    Ok(ids.iter().filter_map(|id| fleet.position(id)).collect())
}

/// The nodes every target matches, in fleet order.
pub(crate) fn by_targets(fleet: &Fleet, targets: &[Target]) -> Result<Vec<usize>, ApiError> {
    let selectors = targets
        .iter()
        .map(|target| selector(fleet, target))
        .collect::<Result<Vec<_>, _>>()?;

    let matching = (0..fleet.nodes().len())
        .filter(|node| selectors.iter().all(|s| s.matches(fleet, *node)))
        .collect();
    Ok(matching)
}

fn selector<'a>(fleet: &Fleet, target: &'a Target) -> Result<Selector<'a>, ApiError> {
    let key = target.key.as_deref().unwrap_or_default();
    let values = target.values.as_deref().unwrap_or_default();
    if values.is_empty() {
        return Err(ApiError::invalid_parameters(format!(
            "target {key:?} needs at least one value"
        )));
    }

    if key == "InstanceIds" {
        by_ids(fleet, values)?;
        return Ok(Selector::Ids(values));
    }
    if key == "tag-key" {
        return Ok(Selector::TagKey(values));
    }
    match key.strip_prefix("tag:") {
        Some(tag) if !tag.is_empty() => Ok(Selector::Tag { key: tag, values }),
        _ => Err(ApiError::invalid_parameters(format!(
            "target key {key:?} is not supported by the local service; \
             use InstanceIds, tag:<Key> or tag-key"
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::NodeConfig;

    fn fleet() -> (tempfile::TempDir, Fleet) {
        let dir = tempfile::tempdir().unwrap();
        let nodes = vec![
            NodeConfig::new("web-1")
                .with_tag("Role", "web")
                .with_tag("Env", "prod"),
            NodeConfig::new("web-2")
                .with_tag("Role", "web")
                .with_tag("Env", "test"),
            NodeConfig::new("db-1")
                .with_tag("Role", "db")
                .with_tag("Backup", "yes"),
        ];
        let fleet = Fleet::prepare(nodes, dir.path()).unwrap();
        (dir, fleet)
    }

    fn target(key: &str, values: &[&str]) -> Target {
        Target {
            key: Some(key.into()),
            values: Some(values.iter().map(|v| v.to_string()).collect()),
        }
    }

    #[test]
    fn tags_tag_keys_and_ids_select_nodes() {
        let (_dir, fleet) = fleet();

        assert_eq!(
            by_targets(&fleet, &[target("tag:Role", &["web"])]).unwrap(),
            [0, 1]
        );
        assert_eq!(
            by_targets(&fleet, &[target("tag-key", &["Backup"])]).unwrap(),
            [2]
        );
        assert_eq!(
            by_targets(&fleet, &[target("InstanceIds", &["db-1", "web-2"])]).unwrap(),
            [1, 2]
        );
        assert_eq!(
            by_targets(
                &fleet,
                &[target("tag:Role", &["web"]), target("tag:Env", &["prod"])]
            )
            .unwrap(),
            [0]
        );
        assert!(
            by_targets(&fleet, &[target("tag:Role", &["cache"])])
                .unwrap()
                .is_empty()
        );
    }

    #[test]
    fn bad_targets_are_refused_with_ssm_codes() {
        let (_dir, fleet) = fleet();

        let unknown = by_targets(&fleet, &[target("InstanceIds", &["nope"])]).unwrap_err();
        assert_eq!(unknown.code, "InvalidInstanceId");
        let bad_key = by_targets(&fleet, &[target("resource-groups:Name", &["x"])]).unwrap_err();
        assert_eq!(bad_key.code, "InvalidParameters");
        let no_values = by_targets(&fleet, &[target("tag:Role", &[])]).unwrap_err();
        assert_eq!(no_values.code, "InvalidParameters");
    }

    #[test]
    fn ids_keep_their_order_and_unknown_ones_are_named() {
        let (_dir, fleet) = fleet();
        let ids = ["db-1".to_owned(), "web-1".to_owned()];
        assert_eq!(by_ids(&fleet, &ids).unwrap(), [2, 0]);

        let err = by_ids(&fleet, &["web-9".to_owned()]).unwrap_err();
        assert!(err.message.contains("web-9"), "{}", err.message);
    }
}
