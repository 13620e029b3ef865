//! The local SSM service, driven through the real aws-sdk-ssm client over HTTP.

// Tests wait on the host's clock: the service they drive runs real processes in real time.
#![allow(clippy::disallowed_methods)]

mod binary;
mod fleet;
mod knobs;
mod moto;
mod paging;
mod run_command;
mod support;
mod validation;
