//! The managed nodes of a running service, with their working-directory roots resolved and
//! created.

use std::collections::HashMap;
use std::path::Path;

use crate::{Error, NodeConfig};

/// The nodes, in configuration order, found by id.
#[derive(Debug)]
pub(crate) struct Fleet {
    nodes: Vec<NodeConfig>,
    by_id: HashMap<String, usize>,
}

impl Fleet {
    /// Gives every node without a root one under `service_root`, and creates the roots.
    pub(crate) fn prepare(configs: Vec<NodeConfig>, service_root: &Path) -> Result<Fleet, Error> {
        crate::config::check_nodes(&configs)?;

        let mut nodes = configs;
        for node in &mut nodes {
            let root = node.root.get_or_insert_with(|| service_root.join(&node.id));
            std::fs::create_dir_all(&*root).map_err(|source| Error::Directory {
                path: root.clone(),
                source,
            })?;
        }

        let by_id = nodes
            .iter()
            .enumerate()
            .map(|(i, n)| (n.id.clone(), i))
            .collect();
        Ok(Fleet { nodes, by_id })
    }

    pub(crate) fn nodes(&self) -> &[NodeConfig] {
        &self.nodes
    }

    pub(crate) fn node(&self, index: usize) -> &NodeConfig {
        &self.nodes[index]
    }

    pub(crate) fn position(&self, id: &str) -> Option<usize> {
        self.by_id.get(id).copied()
    }

    pub(crate) fn id(&self, index: usize) -> &str {
        &self.nodes[index].id
    }

    /// The root a node's invocations run under (always set once prepared).
    pub(crate) fn root(&self, index: usize) -> &Path {
        self.nodes[index].root.as_deref().unwrap_or(Path::new("."))
    }

    /// The node's `Name` tag, which SSM reports as the invocation's InstanceName.
    pub(crate) fn instance_name(&self, index: usize) -> &str {
        self.nodes[index]
            .tags
            .get("Name")
            .map_or("", String::as_str)
    }
}
