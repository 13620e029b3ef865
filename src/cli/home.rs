//! The gust home folder (`GUST_HOME`, default `~/.gust`): the run store and task logs.

use std::path::PathBuf;

use gust::store::{DB_FILE, SqliteStore, default_home};

use super::{Failure, usage};

/// Where task logs are written.
pub(crate) fn logs_root() -> PathBuf {
    default_home().join("logs")
}

/// Opens the run store, with an error that names the file.
pub(crate) async fn open_store() -> Result<SqliteStore, Failure> {
    let path = default_home().join(DB_FILE);
    SqliteStore::open(&path)
        .await
        .map_err(|err| usage(err.to_string()))
}
