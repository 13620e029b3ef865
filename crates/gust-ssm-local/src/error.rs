//! The crate's error type: what can go wrong while configuring, starting or steering the
//! service. Errors that the service *answers with* over HTTP are SSM protocol replies, not
//! Rust errors; they live in `protocol.rs`.

use std::net::SocketAddr;
use std::path::PathBuf;

/// Everything that can fail in this crate's own API.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A nodes file could not be read.
    #[error("cannot read nodes file {path}: {source}")]
    ReadNodes {
        /// The file that was asked for.
        path: PathBuf,
        /// Why reading it failed.
        #[source]
        source: std::io::Error,
    },

    /// A nodes file is not YAML of the expected shape.
    #[error("nodes file {path} is invalid: {source}")]
    ParseNodes {
        /// The file (or `<inline>` for text given directly).
        path: PathBuf,
        /// What the YAML parser said.
        #[source]
        source: serde_yaml::Error,
    },

    /// The node list breaks a rule: no nodes, a duplicate or malformed id, an empty tag key.
    #[error("invalid node configuration: {0}")]
    InvalidNodes(String),

    /// A knob was given a value outside its range, or names a node that does not exist.
    #[error("invalid knob setting: {0}")]
    InvalidKnob(String),

    /// A name that is not one of the SSM operations this service implements.
    #[error("unknown SSM operation {0:?} (known: {known})", known = crate::Operation::names())]
    UnknownOperation(String),

    /// A directory for the nodes could not be created.
    #[error("cannot prepare directory {path}: {source}")]
    Directory {
        /// The directory that could not be created.
        path: PathBuf,
        /// Why creating it failed.
        #[source]
        source: std::io::Error,
    },

    /// The listening socket could not be bound.
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        /// The address that was asked for.
        addr: SocketAddr,
        /// Why binding failed.
        #[source]
        source: std::io::Error,
    },
}
