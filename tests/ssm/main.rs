//! The SSM components end to end: DAGs run by the executor against the local SSM
//! service, which really runs the scripts on this host.

mod cancel;
mod flows;
mod scale;
mod support;
