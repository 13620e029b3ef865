//! A local stand-in for AWS Systems Manager Run Command that really runs the commands it is
//! sent, on this host.
//!
//! No AWS emulator executes Run Command, so gust brings its own: a service on loopback that
//! speaks the SSM JSON 1.1 protocol (`POST /`, `X-Amz-Target: AmazonSSM.<Operation>`,
//! `application/x-amz-json-1.1`, AWS-shaped errors) to the real `aws-sdk-ssm` client. It
//! implements SendCommand, ListCommands, ListCommandInvocations, GetCommandInvocation,
//! CancelCommand and DescribeInstanceInformation over a configured set of managed nodes, and
//! runs `AWS-RunShellScript` through `/bin/sh`, one process group and one working directory
//! per invocation, reporting statuses, exit codes and output as SSM shapes them. Signatures
//! are not checked: any credentials do.
//!
//! [`Knobs`] make it misbehave on purpose (visibility lag, throttling, latency, offline
//! nodes, short delivery timeouts) and [`Counters`] tell how many calls a client made.
//!
//! ```
//! # #![allow(clippy::disallowed_methods)]
//! use gust_ssm_local::{ServiceConfig, SsmLocal};
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), gust_ssm_local::Error> {
//! let service = SsmLocal::start(ServiceConfig::default()).await?;
//! // Point aws-sdk-ssm at `service.url()` with any static credentials and a region.
//! assert!(service.url().starts_with("http://127.0.0.1:"));
//! assert_eq!(service.counters().get("SendCommand"), 0);
//! service.shutdown().await;
//! # Ok(())
//! # }
//! ```

// A stand-in for AWS runs real processes in real time: it reads the host's clock and sleeps
// on tokio's timer directly instead of going through gust's Clock.
#![allow(clippy::disallowed_methods)]

mod api;
mod config;
mod counters;
mod error;
mod exec;
mod fleet;
mod http;
mod knobs;
mod operation;
mod protocol;
mod server;
mod shared;
mod state;
mod targets;
mod throttle;
mod time;

pub use config::{
    DEFAULT_NODE_ID, DEFAULT_PLATFORM_NAME, NodeConfig, ServiceConfig, check_nodes, load_nodes,
    parse_nodes,
};
pub use counters::Counters;
pub use error::Error;
pub use knobs::{KnobSettings, Knobs};
pub use operation::Operation;
pub use server::SsmLocal;
pub use throttle::{RateLimit, Throttle};
