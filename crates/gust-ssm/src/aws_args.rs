//! The generic AWS parameters of the SSM components, as task parameters that may be
//! templated: `aws_conn_id`, `region_name`, `verify`, `botocore_config`.

use std::sync::Arc;

use gust_aws::{AwsParams, Connections, DEFAULT_CONN_ID, Verify};
use gust_core::{Arg, TaskContext, TaskError, XComRef};
use serde_json::{Map, Value};

/// `aws_conn_id`, `region_name`, `verify` and `botocore_config`, plus (for tests and the
/// CLI) the connections to read them from.
#[derive(Debug, Clone)]
pub struct AwsArgs {
    aws_conn_id: Arg<Option<String>>,
    region_name: Option<Arg<String>>,
    verify: Option<Arg<Value>>,
    botocore_config: Option<Arg<Map<String, Value>>>,
    connections: Option<Arc<Connections>>,
}

impl Default for AwsArgs {
    /// Connection `aws_default`, nothing overridden.
    fn default() -> Self {
        AwsArgs {
            aws_conn_id: Arg::Value(Some(DEFAULT_CONN_ID.to_owned())),
            region_name: None,
            verify: None,
            botocore_config: None,
            connections: None,
        }
    }
}

impl AwsArgs {
    /// Sets `aws_conn_id`; `None` means the standard AWS credential chain.
    pub fn aws_conn_id(mut self, conn_id: Option<&str>) -> Self {
        self.aws_conn_id = Arg::Value(conn_id.map(str::to_owned));
        self
    }

    /// Sets `aws_conn_id` from a parameter that may be templated.
    pub fn aws_conn_id_arg(mut self, conn_id: Arg<Option<String>>) -> Self {
        self.aws_conn_id = conn_id;
        self
    }

    /// Sets `region_name`.
    pub fn region_name(mut self, region: impl Into<Arg<String>>) -> Self {
        self.region_name = Some(region.into());
        self
    }

    /// Sets `verify`.
    pub fn verify(mut self, verify: Verify) -> Self {
        let value = match verify {
            Verify::On => Value::Bool(true),
            Verify::Off => Value::Bool(false),
            Verify::CaBundle(path) => Value::String(path.display().to_string()),
        };
        self.verify = Some(Arg::Value(value));
        self
    }

    /// Sets `verify` from a parameter that may be templated (a boolean or a path).
    pub fn verify_arg(mut self, verify: Arg<Value>) -> Self {
        self.verify = Some(verify);
        self
    }

    /// Sets `botocore_config`.
    pub fn botocore_config(mut self, config: Map<String, Value>) -> Self {
        self.botocore_config = Some(Arg::Value(config));
        self
    }

    /// Sets `botocore_config` from a parameter that may be templated.
    pub fn botocore_config_arg(mut self, config: Arg<Map<String, Value>>) -> Self {
        self.botocore_config = Some(config);
        self
    }

    /// Reads connections from `connections` instead of the process-wide ones.
    pub fn connections(mut self, connections: Arc<Connections>) -> Self {
        self.connections = Some(connections);
        self
    }

    /// The connections given, if any.
    pub fn given_connections(&self) -> Option<&Arc<Connections>> {
        self.connections.as_ref()
    }

    /// The parameters, resolved for a running task.
    pub fn resolve(&self, ctx: &TaskContext) -> Result<AwsParams, TaskError> {
        let verify = match &self.verify {
            Some(arg) => {
                let value = ctx.resolve("verify", arg)?;
                Verify::from_value("verify", &value)
                    .map_err(|err| TaskError::fatal(err.to_string()))?
            }
            None => None,
        };
        Ok(AwsParams {
            aws_conn_id: ctx.resolve("aws_conn_id", &self.aws_conn_id)?,
            region_name: self
                .region_name
                .as_ref()
                .map(|arg| ctx.resolve("region_name", arg))
                .transpose()?,
            verify,
            botocore_config: self
                .botocore_config
                .as_ref()
                .map(|arg| ctx.resolve("botocore_config", arg))
                .transpose()?,
        })
    }

    /// The XCom references the parameters hold.
    pub fn refs(&self) -> Vec<XComRef> {
        let mut refs = self.aws_conn_id.refs();
        refs.extend(self.region_name.iter().flat_map(Arg::refs));
        refs.extend(self.verify.iter().flat_map(Arg::refs));
        refs.extend(self.botocore_config.iter().flat_map(Arg::refs));
        refs
    }
}

/// Whether SSM operators defer by default: `GUST_DEFAULT_DEFERRABLE` or Airflow's
/// `AIRFLOW__OPERATORS__DEFAULT_DEFERRABLE` set to `true` (default false).
pub fn default_deferrable() -> bool {
    [
        "GUST_DEFAULT_DEFERRABLE",
        "AIRFLOW__OPERATORS__DEFAULT_DEFERRABLE",
    ]
    .iter()
    .find_map(|name| std::env::var(name).ok())
    .is_some_and(|value| {
        matches!(
            value.trim().to_ascii_lowercase().as_str(),
            "true" | "1" | "yes"
        )
    })
}
