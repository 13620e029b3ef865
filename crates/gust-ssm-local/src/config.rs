//! Configuration: the managed nodes the service pretends to have, where their working
//! directories live, the address to listen on, and the knobs to start with.
//!
//! A nodes file is YAML:
//!
//! ```yaml
//! nodes:
//!   - id: mi-00000000000000001
//!     tags: {Role: web, Name: web-1}
//!     platform_name: Ubuntu      # optional, default "Linux"
//!     root: /var/tmp/gust/web-1  # optional; relative paths are taken from the file's folder
//! ```

use std::collections::{BTreeMap, HashSet};
use std::net::{Ipv4Addr, SocketAddr};
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::{Error, KnobSettings};

/// The id of the one node a default configuration has.
pub const DEFAULT_NODE_ID: &str = "mi-00000000000000001";

/// The platform name a node reports when its configuration names none.
pub const DEFAULT_PLATFORM_NAME: &str = "Linux";

/// One managed node: an identity, tags to target it by, and a folder on this host under which
/// its invocations run.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct NodeConfig {
    /// The node's id, e.g. `mi-00000000000000001`. It doubles as a folder name.
    pub id: String,
    /// Tags, matched by `Targets` keys `tag:<Key>` and `tag-key`. A `Name` tag becomes the
    /// invocation's `InstanceName`.
    #[serde(default)]
    pub tags: BTreeMap<String, String>,
    /// What DescribeInstanceInformation reports as `PlatformName`. The platform type is always
    /// Linux: scripts run on this host.
    #[serde(default = "default_platform_name")]
    pub platform_name: String,
    /// The folder under which the node's invocations get their working directories. `None`
    /// means a folder named after the node under the service's root.
    #[serde(default)]
    pub root: Option<PathBuf>,
}

fn default_platform_name() -> String {
    DEFAULT_PLATFORM_NAME.to_owned()
}

impl NodeConfig {
    /// A node with this id, no tags, the default platform name and no root of its own.
    pub fn new(id: impl Into<String>) -> Self {
        NodeConfig {
            id: id.into(),
            tags: BTreeMap::new(),
            platform_name: default_platform_name(),
            root: None,
        }
    }

    /// A node whose id is `mi-` followed by `number` in 17 digits, as managed node ids look.
    pub fn numbered(number: u64) -> Self {
        NodeConfig::new(format!("mi-{number:017}"))
    }

    /// The same node with one more tag.
    pub fn with_tag(mut self, key: impl Into<String>, value: impl Into<String>) -> Self {
        self.tags.insert(key.into(), value.into());
        self
    }

    /// The same node with another platform name.
    pub fn with_platform_name(mut self, name: impl Into<String>) -> Self {
        self.platform_name = name.into();
        self
    }

    /// The same node with its own working-directory root.
    pub fn with_root(mut self, root: impl Into<PathBuf>) -> Self {
        self.root = Some(root.into());
        self
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct NodesFile {
    nodes: Vec<NodeConfig>,
}

/// Reads and checks a nodes file (see the module docs for its shape).
pub fn load_nodes(path: &Path) -> Result<Vec<NodeConfig>, Error> {
    let text = std::fs::read_to_string(path).map_err(|source| Error::ReadNodes {
        path: path.to_owned(),
        source,
    })?;
    let base = path.parent().unwrap_or(Path::new("."));
    parse_nodes_at(&text, path, base)
}

/// Parses and checks nodes given as YAML text; relative roots are taken from `base`.
pub fn parse_nodes(yaml: &str, base: &Path) -> Result<Vec<NodeConfig>, Error> {
    parse_nodes_at(yaml, Path::new("<inline>"), base)
}

fn parse_nodes_at(yaml: &str, origin: &Path, base: &Path) -> Result<Vec<NodeConfig>, Error> {
    let file: NodesFile = serde_yaml::from_str(yaml).map_err(|source| Error::ParseNodes {
        path: origin.to_owned(),
        source,
    })?;
    let mut nodes = file.nodes;
    for node in &mut nodes {
        if let Some(root) = node.root.as_mut().filter(|root| root.is_relative()) {
            *root = base.join(&*root);
        }
    }
    check_nodes(&nodes)?;
    Ok(nodes)
}

/// Checks the rules every node list must follow: at least one node; ids unique, non-empty,
/// at most 64 characters of letters, digits, `-`, `_` and `.` (they become folder names);
/// tag keys and platform names non-empty.
pub fn check_nodes(nodes: &[NodeConfig]) -> Result<(), Error> {
    if nodes.is_empty() {
        return Err(Error::InvalidNodes("at least one node is needed".into()));
    }

    let mut seen = HashSet::new();
    for node in nodes {
        check_node_id(&node.id)?;
        if !seen.insert(node.id.as_str()) {
            return Err(Error::InvalidNodes(format!(
                "node id {:?} appears twice",
                node.id
            )));
        }
        if node.tags.keys().any(|key| key.is_empty()) {
            return Err(Error::InvalidNodes(format!(
                "node {} has an empty tag key",
                node.id
            )));
        }
        if node.platform_name.trim().is_empty() {
            return Err(Error::InvalidNodes(format!(
                "node {} has an empty platform name",
                node.id
            )));
        }
    }
    Ok(())
}

fn check_node_id(id: &str) -> Result<(), Error> {
    let allowed = |c: char| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.');
    let well_formed =
        !id.is_empty() && id.len() <= 64 && id.chars().all(allowed) && !id.starts_with('.');
    if well_formed {
        Ok(())
    } else {
        Err(Error::InvalidNodes(format!(
            "node id {id:?} must be 1 to 64 letters, digits, '-', '_' or '.', not starting with '.'"
        )))
    }
}

/// How to start the service.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct ServiceConfig {
    /// Where to listen. Default `127.0.0.1:0`: loopback, a free port.
    pub addr: SocketAddr,
    /// The managed nodes. Default: one Linux node, [`DEFAULT_NODE_ID`].
    pub nodes: Vec<NodeConfig>,
    /// The folder under which nodes without a root of their own get theirs. `None` (the
    /// default) means a fresh temporary folder that is removed at shutdown.
    pub root: Option<PathBuf>,
    /// The knobs to start with; they can be changed while the service runs.
    pub knobs: KnobSettings,
}

impl Default for ServiceConfig {
    fn default() -> Self {
        ServiceConfig {
            addr: SocketAddr::from((Ipv4Addr::LOCALHOST, 0)),
            nodes: vec![NodeConfig::new(DEFAULT_NODE_ID)],
            root: None,
            knobs: KnobSettings::default(),
        }
    }
}

impl ServiceConfig {
    /// The same configuration listening on another address.
    pub fn with_addr(mut self, addr: SocketAddr) -> Self {
        self.addr = addr;
        self
    }

    /// The same configuration listening on another port of the same address.
    pub fn with_port(mut self, port: u16) -> Self {
        self.addr.set_port(port);
        self
    }

    /// The same configuration with these nodes.
    pub fn with_nodes(mut self, nodes: Vec<NodeConfig>) -> Self {
        self.nodes = nodes;
        self
    }

    /// The same configuration with the nodes of a nodes file.
    pub fn with_nodes_file(self, path: &Path) -> Result<Self, Error> {
        Ok(self.with_nodes(load_nodes(path)?))
    }

    /// The same configuration with a root folder that outlives the service.
    pub fn with_root(mut self, root: impl Into<PathBuf>) -> Self {
        self.root = Some(root.into());
        self
    }

    /// The same configuration with other starting knobs.
    pub fn with_knobs(mut self, knobs: KnobSettings) -> Self {
        self.knobs = knobs;
        self
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_nodes_file_gives_ids_tags_platforms_and_roots() {
        let yaml = "
nodes:
  - id: mi-00000000000000001
    tags: {Role: web}
    platform_name: Ubuntu
    root: nodes/web
  - id: mi-00000000000000002
    root: /abs/db
";
        let nodes = parse_nodes(yaml, Path::new("/etc/gust")).unwrap();

        assert_eq!(nodes.len(), 2);
        assert_eq!(nodes[0].tags.get("Role").map(String::as_str), Some("web"));
        assert_eq!(nodes[0].platform_name, "Ubuntu");
        assert_eq!(
            nodes[0].root.as_deref(),
            Some(Path::new("/etc/gust/nodes/web"))
        );
        assert_eq!(nodes[1].platform_name, DEFAULT_PLATFORM_NAME);
        assert_eq!(nodes[1].root.as_deref(), Some(Path::new("/abs/db")));
    }

    #[test]
    fn malformed_files_are_errors_not_panics() {
        let cases = [
            "",
            "nodes: 3",
            "nodes: []",
            "nodes:\n  - {}\n",
            "nodes:\n  - id: a\n    colour: red\n",
            "nodes:\n  - id: a\n  - id: a\n",
            "nodes:\n  - id: ../escape\n",
            "nodes:\n  - id: a\n    tags: {'': x}\n",
            "nodes:\n  - id: a\n    platform_name: ' '\n",
            "nodes:\n  - id: a\n    tags: [1, 2]\n",
            "\u{0}\u{1}",
        ];
        for yaml in cases {
            assert!(
                parse_nodes(yaml, Path::new(".")).is_err(),
                "accepted {yaml:?}"
            );
        }
    }

    #[test]
    fn a_missing_file_names_the_path() {
        let err = load_nodes(Path::new("/no/such/nodes.yaml")).unwrap_err();
        assert!(err.to_string().contains("/no/such/nodes.yaml"), "{err}");
    }

    #[test]
    fn numbered_nodes_look_like_managed_node_ids() {
        assert_eq!(NodeConfig::numbered(7).id, "mi-00000000000000007");
        assert_eq!(NodeConfig::numbered(7).id.len(), DEFAULT_NODE_ID.len());
    }
}
