//! From an operator's AWS parameters and its connection to the settings of one client.
//!
//! Precedence, as in Airflow: credentials from the connection's login and password, then
//! its key extras, then a profile, then the standard AWS chain; the operator's
//! `region_name` over the connection's; the operator's `verify` over the connection's,
//! over verification on; the operator's `botocore_config` (any value, even `{}`) instead
//! of the connection's `config_kwargs`; the connection's `service_config.ssm.endpoint_url`
//! over its `endpoint_url`.

use std::time::Duration;

use serde_json::{Map, Value, json};
use tracing::warn;

use crate::botocore::{self, ClientOptions};
use crate::connection::{AwsConnection, Verify};
use crate::error::AwsError;
use crate::secret::Secret;
use crate::sources::{Connections, local_credentials};

/// The connection operators use unless told otherwise.
pub const DEFAULT_CONN_ID: &str = "aws_default";

/// The AWS parameters every SSM operator, sensor and trigger takes.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct AwsParams {
    /// The connection to read; `None` means the standard AWS credential chain.
    pub aws_conn_id: Option<String>,
    /// Overrides the connection's `region_name` when non-empty.
    pub region_name: Option<String>,
    /// Overrides the connection's `verify`.
    pub verify: Option<Verify>,
    /// Client settings replacing the connection's `config_kwargs` whole.
    pub botocore_config: Option<Map<String, Value>>,
}

impl AwsParams {
    /// The parameters of an operator that sets none: connection `aws_default`.
    pub fn operator_default() -> Self {
        AwsParams {
            aws_conn_id: Some(DEFAULT_CONN_ID.to_owned()),
            ..Self::default()
        }
    }

    /// The parameters as JSON fields, the optional ones only when set.
    pub fn to_json(&self) -> Map<String, Value> {
        let mut fields = Map::new();
        fields.insert("aws_conn_id".into(), json!(self.aws_conn_id));
        if let Some(region) = &self.region_name {
            fields.insert("region_name".into(), json!(region));
        }
        if let Some(verify) = &self.verify {
            let value = match verify {
                Verify::On => json!(true),
                Verify::Off => json!(false),
                Verify::CaBundle(path) => json!(path.display().to_string()),
            };
            fields.insert("verify".into(), value);
        }
        if let Some(config) = &self.botocore_config {
            fields.insert("botocore_config".into(), Value::Object(config.clone()));
        }
        fields
    }

    /// Reads the parameters from JSON fields written by [`to_json`](Self::to_json).
    pub fn from_json(fields: &Map<String, Value>) -> Result<Self, AwsError> {
        let aws_conn_id = match fields.get("aws_conn_id") {
            None | Some(Value::Null) => None,
            Some(Value::String(id)) => Some(id.clone()),
            Some(_) => {
                return Err(AwsError::setting(
                    "aws_conn_id",
                    "expected a string or null",
                ));
            }
        };
        let region_name = match fields.get("region_name") {
            None | Some(Value::Null) => None,
            Some(Value::String(region)) => Some(region.clone()),
            Some(_) => return Err(AwsError::setting("region_name", "expected a string")),
        };
        let verify = match fields.get("verify") {
            Some(value) => Verify::from_value("verify", value)?,
            None => None,
        };
        let botocore_config = match fields.get("botocore_config") {
            None | Some(Value::Null) => None,
            Some(Value::Object(config)) => Some(config.clone()),
            Some(_) => return Err(AwsError::setting("botocore_config", "expected a map")),
        };
        Ok(AwsParams {
            aws_conn_id,
            region_name,
            verify,
            botocore_config,
        })
    }
}

/// Where a client's credentials come from.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Credentials {
    /// The standard AWS chain: environment, shared files, web identity, instance role.
    DefaultChain,
    /// Keys given by the connection.
    Static {
        /// The access key id.
        access_key_id: Secret,
        /// The secret access key.
        secret_access_key: Secret,
        /// A session token, for temporary keys.
        session_token: Option<Secret>,
    },
    /// A profile of the shared AWS config files.
    Profile(String),
    /// No credentials: requests are not signed.
    Unsigned,
}

/// A role to assume with STS before calling the service.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct AssumeRole {
    /// The role's ARN.
    pub role_arn: String,
    /// The session name (`RoleSessionName`).
    pub session_name: Option<String>,
    /// `ExternalId`.
    pub external_id: Option<String>,
    /// `DurationSeconds`.
    pub duration: Option<Duration>,
    /// `Policy`.
    pub policy: Option<String>,
}

/// Everything that decides how one SDK client is configured.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ClientSettings {
    /// The region, or `None` for the chain's.
    pub region: Option<String>,
    /// The service endpoint, or `None` for AWS's.
    pub endpoint_url: Option<String>,
    /// TLS verification.
    pub verify: Verify,
    /// Credentials.
    pub credentials: Credentials,
    /// A role to assume.
    pub assume_role: Option<AssumeRole>,
    /// Retries, timeouts and the rest of `botocore_config`.
    pub options: ClientOptions,
}

/// The settings of an SSM client for `params`, reading its connection from
/// `connections`. A connection that does not exist is a warning: the standard chain is
/// used instead.
pub fn resolve(params: &AwsParams, connections: &Connections) -> Result<ClientSettings, AwsError> {
    let connection = match &params.aws_conn_id {
        None => None,
        Some(conn_id) => {
            let found = connections.get(conn_id)?;
            if found.is_none() && connections.endpoint_override().is_none() {
                warn!(
                    aws_conn_id = %conn_id,
                    "connection '{conn_id}' does not exist; using the default AWS credential chain"
                );
            }
            found
        }
    };
    let extra = connection.as_ref().map(|c| &c.extra);

    let config = match &params.botocore_config {
        Some(config) => Some(("botocore_config", config)),
        None => extra
            .and_then(|e| e.config_kwargs.as_ref())
            .map(|config| ("config_kwargs", config)),
    };
    let options = match config {
        Some((name, config)) => botocore::parse(name, config)?,
        None => ClientOptions::default(),
    };

    let region = non_empty(params.region_name.as_deref())
        .or_else(|| non_empty(extra.and_then(|e| e.region_name.as_deref())))
        .or_else(|| options.region.clone());
    let verify = params
        .verify
        .clone()
        .or_else(|| extra.and_then(|e| e.verify.clone()))
        .unwrap_or(Verify::On);

    if let Some(endpoint) = connections.endpoint_override() {
        let (key, secret) = local_credentials();
        return Ok(ClientSettings {
            region: Some(region.unwrap_or_else(|| "us-east-1".to_owned())),
            endpoint_url: Some(endpoint.to_owned()),
            verify,
            credentials: Credentials::Static {
                access_key_id: key,
                secret_access_key: secret,
                session_token: None,
            },
            assume_role: None,
            options,
        });
    }

    let endpoint_url = extra.and_then(|e| e.ssm_endpoint_url.clone().or(e.endpoint_url.clone()));
    let credentials = if options.unsigned {
        Credentials::Unsigned
    } else {
        credentials_of(connection.as_ref())?
    };
    let assume_role = match &connection {
        Some(conn) => assume_role_of(conn)?,
        None => None,
    };
    Ok(ClientSettings {
        region,
        endpoint_url,
        verify,
        credentials,
        assume_role,
        options,
    })
}

fn non_empty(text: Option<&str>) -> Option<String> {
    text.map(str::trim)
        .filter(|t| !t.is_empty())
        .map(str::to_owned)
}

fn credentials_of(connection: Option<&AwsConnection>) -> Result<Credentials, AwsError> {
    let Some(conn) = connection else {
        return Ok(Credentials::DefaultChain);
    };
    let extra = &conn.extra;
    let pair = match (&conn.login, &conn.password) {
        (Some(key), Some(secret)) => Some((key, secret)),
        _ => match (&extra.aws_access_key_id, &extra.aws_secret_access_key) {
            (Some(key), Some(secret)) => Some((key, secret)),
            _ => None,
        },
    };
    if let Some((key, secret)) = pair {
        return Ok(Credentials::Static {
            access_key_id: key.clone(),
            secret_access_key: secret.clone(),
            session_token: extra.aws_session_token.clone(),
        });
    }
    let half_given = conn.login.is_some()
        || conn.password.is_some()
        || extra.aws_access_key_id.is_some()
        || extra.aws_secret_access_key.is_some();
    if half_given {
        return Err(AwsError::setting(
            format!("connection '{}'", conn.conn_id),
            "an access key id needs its secret access key, and the other way round",
        ));
    }
    Ok(match &extra.profile_name {
        Some(profile) => Credentials::Profile(profile.clone()),
        None => Credentials::DefaultChain,
    })
}

fn assume_role_of(conn: &AwsConnection) -> Result<Option<AssumeRole>, AwsError> {
    let extra = &conn.extra;
    let Some(role_arn) = &extra.role_arn else {
        return Ok(None);
    };
    match extra.assume_role_method.as_deref() {
        None | Some("assume_role") => {}
        Some(other) => {
            return Err(AwsError::unsupported(
                format!(
                    "connection '{}': assume_role_method '{other}'",
                    conn.conn_id
                ),
                "it is not supported yet; use assume_role",
            ));
        }
    }
    let kwargs = &extra.assume_role_kwargs;
    let text = |key: &str| -> Result<Option<String>, AwsError> {
        match kwargs.get(key) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::String(text)) => Ok(Some(text.clone())),
            Some(_) => Err(AwsError::setting(
                format!("assume_role_kwargs.{key}"),
                "expected a string",
            )),
        }
    };
    for key in kwargs.keys() {
        if !["RoleSessionName", "ExternalId", "DurationSeconds", "Policy"].contains(&key.as_str()) {
            return Err(AwsError::unsupported(
                format!("assume_role_kwargs.{key}"),
                "gust passes RoleSessionName, ExternalId, DurationSeconds and Policy",
            ));
        }
    }
    let duration = match kwargs.get("DurationSeconds") {
        None | Some(Value::Null) => None,
        Some(value) => match value.as_u64() {
            Some(seconds) => Some(Duration::from_secs(seconds)),
            None => {
                return Err(AwsError::setting(
                    "assume_role_kwargs.DurationSeconds",
                    "expected a whole number of seconds",
                ));
            }
        },
    };
    Ok(Some(AssumeRole {
        role_arn: role_arn.clone(),
        session_name: text("RoleSessionName")?,
        external_id: text("ExternalId")?,
        duration,
        policy: text("Policy")?,
    }))
}

#[cfg(test)]
mod tests;
