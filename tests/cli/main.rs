//! The `gust` command, run as a user runs it: the built binary, from the repository root.

mod crash;
mod dags;
mod runs;
mod support;
mod tasks;
