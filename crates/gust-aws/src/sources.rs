//! Where connections come from: environment variables (`GUST_CONN_<ID>`, then Airflow's
//! `AIRFLOW_CONN_<ID>`), then a connections file, then connections added in code.

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;

use serde_json::Value;

use crate::connection::{AwsConnection, kind};
use crate::error::AwsError;
use crate::secret::Secret;

/// The environment variable naming a connections file.
pub const CONNECTIONS_FILE_VAR: &str = "GUST_CONNECTIONS_FILE";

type EnvLookup = Arc<dyn Fn(&str) -> Option<String> + Send + Sync>;

/// Every connection gust can use, and an optional override that points all of them at
/// one endpoint (the local SSM service) with dummy credentials.
#[derive(Clone)]
pub struct Connections {
    env: EnvLookup,
    file: BTreeMap<String, AwsConnection>,
    added: BTreeMap<String, AwsConnection>,
    endpoint_override: Option<String>,
}

impl std::fmt::Debug for Connections {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Connections")
            .field("from_file", &self.file.keys().collect::<Vec<_>>())
            .field("added", &self.added.keys().collect::<Vec<_>>())
            .field("endpoint_override", &self.endpoint_override)
            .finish()
    }
}

impl Default for Connections {
    fn default() -> Self {
        Connections {
            env: Arc::new(|name| std::env::var(name).ok()),
            file: BTreeMap::new(),
            added: BTreeMap::new(),
            endpoint_override: None,
        }
    }
}

impl Connections {
    /// Connections from the process environment and, if `GUST_CONNECTIONS_FILE` names
    /// one, from that file.
    pub fn from_env() -> Result<Self, AwsError> {
        let connections = Self::default();
        match std::env::var(CONNECTIONS_FILE_VAR) {
            Ok(path) if !path.trim().is_empty() => connections.with_file(Path::new(&path)),
            _ => Ok(connections),
        }
    }

    /// Connections from `lookup` instead of the process environment, for tests.
    pub fn with_env_lookup(
        mut self,
        lookup: impl Fn(&str) -> Option<String> + Send + Sync + 'static,
    ) -> Self {
        self.env = Arc::new(lookup);
        self
    }

    /// Adds the connections of a YAML or JSON file: a map from connection id to either a
    /// URI string or a connection object (`conn_type`, `login`, `password`, `extra`).
    pub fn with_file(mut self, path: &Path) -> Result<Self, AwsError> {
        let shown = path.display().to_string();
        let bad = |reason: String| AwsError::BadFile {
            path: shown.clone(),
            reason,
        };
        let text = std::fs::read_to_string(path).map_err(|err| bad(err.to_string()))?;
        let document: Value = serde_yaml::from_str(&text).map_err(|err| {
            let at = err
                .location()
                .map(|l| format!(" at line {}, column {}", l.line(), l.column()))
                .unwrap_or_default();
            bad(format!("not valid YAML or JSON{at}"))
        })?;
        let entries = match document {
            Value::Object(entries) => entries,
            Value::Null => Default::default(),
            other => {
                return Err(bad(format!(
                    "expected a map from connection id to connection, found {}",
                    kind(&other)
                )));
            }
        };
        let source = format!("file {shown}");
        for (conn_id, entry) in entries {
            let conn = match &entry {
                Value::String(uri) => AwsConnection::parse(&conn_id, &source, uri)?,
                other => AwsConnection::from_json(&conn_id, other).map_err(|reason| {
                    AwsError::BadConnection {
                        conn_id: conn_id.clone(),
                        source_name: source.clone(),
                        reason,
                    }
                })?,
            };
            self.file.insert(conn_id, conn);
        }
        Ok(self)
    }

    /// Adds a connection defined in code.
    pub fn add(&mut self, connection: AwsConnection) {
        self.added.insert(connection.conn_id.clone(), connection);
    }

    /// Points every connection's endpoint at `url` with dummy credentials, ignoring the
    /// credentials, roles and profiles they name: used to run DAGs against the local
    /// SSM service.
    pub fn override_endpoint(mut self, url: impl Into<String>) -> Self {
        self.endpoint_override = Some(url.into());
        self
    }

    /// The endpoint every connection is pointed at, if any.
    pub fn endpoint_override(&self) -> Option<&str> {
        self.endpoint_override.as_deref()
    }

    /// The connection `conn_id`: from `GUST_CONN_<ID>`, then `AIRFLOW_CONN_<ID>`, then
    /// the connections file, then those added in code.
    pub fn get(&self, conn_id: &str) -> Result<Option<AwsConnection>, AwsError> {
        let upper = conn_id.to_ascii_uppercase();
        for prefix in ["GUST_CONN_", "AIRFLOW_CONN_"] {
            let name = format!("{prefix}{upper}");
            if let Some(text) = (self.env)(&name).filter(|t| !t.trim().is_empty()) {
                return AwsConnection::parse(conn_id, &name, &text).map(Some);
            }
        }
        Ok(self
            .file
            .get(conn_id)
            .or_else(|| self.added.get(conn_id))
            .cloned())
    }
}

/// Dummy credentials for the local SSM service, which does not check signatures.
pub(crate) fn local_credentials() -> (Secret, Secret) {
    (Secret::new("gustlocal"), Secret::new("gustlocal"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn env(vars: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> + Send + Sync + 'static {
        let vars: HashMap<String, String> = vars
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        move |name| vars.get(name).cloned()
    }

    #[test]
    fn gust_variables_win_over_airflow_ones_which_win_over_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("connections.yaml");
        std::fs::write(
            &file,
            "aws_default:\n  conn_type: aws\n  extra:\n    region_name: from-file\n\
             other: aws://?region_name=other-file\n",
        )
        .unwrap();
        let connections = Connections::default()
            .with_env_lookup(env(&[
                ("GUST_CONN_AWS_DEFAULT", "aws://?region_name=from-gust"),
                (
                    "AIRFLOW_CONN_AWS_DEFAULT",
                    "aws://?region_name=from-airflow",
                ),
                ("AIRFLOW_CONN_SECOND", "aws://?region_name=airflow-only"),
            ]))
            .with_file(&file)
            .unwrap();
        let region = |id: &str| {
            connections
                .get(id)
                .unwrap()
                .and_then(|c| c.extra.region_name)
        };
        assert_eq!(region("aws_default").as_deref(), Some("from-gust"));
        assert_eq!(region("second").as_deref(), Some("airflow-only"));
        assert_eq!(region("other").as_deref(), Some("other-file"));
        assert_eq!(connections.get("missing").unwrap(), None);
    }

    #[test]
    fn a_bad_file_is_reported_with_its_path_and_line() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("connections.yaml");
        std::fs::write(&file, "aws_default: [unclosed\n").unwrap();
        let err = Connections::default()
            .with_file(&file)
            .unwrap_err()
            .to_string();
        assert!(err.contains("connections.yaml"), "{err}");
        assert!(err.contains("line"), "{err}");
    }
}
