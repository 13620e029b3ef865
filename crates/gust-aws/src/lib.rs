//! AWS connections for gust, with Airflow's connection model.
//!
//! An operator names a connection (`aws_conn_id`, default `aws_default`) and may
//! override its region, TLS verification and client settings ([`AwsParams`]).
//! Connections come from `GUST_CONN_<ID>` or Airflow's `AIRFLOW_CONN_<ID>` environment
//! variables, in URI or JSON form, or from a connections file ([`Connections`]).
//! [`resolve`] applies Airflow's precedence and gives the [`ClientSettings`];
//! [`sdk_config`] turns them into an AWS SDK configuration, built once per distinct
//! settings. Secrets are held in [`Secret`] and never printed.
//!
//! ```
//! use gust_aws::{AwsParams, Connections, resolve};
//!
//! let connections = Connections::default().with_env_lookup(|name| {
//!     (name == "AIRFLOW_CONN_AWS_DEFAULT")
//!         .then(|| "aws://AKIAEXAMPLE:s3cr3t@/?region_name=eu-west-1".to_owned())
//! });
//! let settings = resolve(&AwsParams::operator_default(), &connections).unwrap();
//! assert_eq!(settings.region.as_deref(), Some("eu-west-1"));
//! assert!(!format!("{settings:?}").contains("s3cr3t"));
//! ```

mod botocore;
mod connection;
mod error;
mod http_client;
mod sdk;
mod secret;
mod settings;
mod sources;

pub use botocore::{ClientOptions, RetryMode};
pub use connection::{AwsConnection, AwsExtra, Verify};
pub use error::AwsError;
pub use sdk::sdk_config;
pub use secret::Secret;
pub use settings::{AssumeRole, AwsParams, ClientSettings, Credentials, DEFAULT_CONN_ID, resolve};
pub use sources::{CONNECTIONS_FILE_VAR, Connections};
