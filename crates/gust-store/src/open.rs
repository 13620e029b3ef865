//! Opening a store file: refuse what is not ours, then bring the schema up to date.

use std::io::Read;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::{Connection, SqlitePool};

use crate::error::OpenError;
use crate::write::OpenRuns;

/// The store's file name under the gust home folder.
pub const DB_FILE: &str = "gust.db";

/// The first bytes of every SQLite database file.
const SQLITE_HEADER: &[u8; 16] = b"SQLite format 3\0";

/// A table every gust database has, and other programs' databases do not.
const MARKER_TABLE: &str = "gust_dag_run";

/// How long a writer waits for another process's write to finish.
const BUSY_TIMEOUT: Duration = Duration::from_secs(30);

/// Readers at once; writes go through one connection, so that the runs of one process
/// never contend for SQLite's write lock.
const READERS: u32 = 4;

static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations");

/// The gust home folder: `GUST_HOME`, else `~/.gust`.
pub fn default_home() -> PathBuf {
    if let Some(home) = std::env::var_os("GUST_HOME").filter(|h| !h.is_empty()) {
        return PathBuf::from(home);
    }
    let user_home = std::env::var_os("HOME")
        .map(PathBuf::from)
        .unwrap_or_default();
    user_home.join(".gust")
}

/// Runs, task instances, XComs, task state and deferred triggers in a SQLite file.
#[derive(Clone)]
pub struct SqliteStore {
    pub(crate) writer: SqlitePool,
    pub(crate) reader: SqlitePool,
    pub(crate) open_runs: Arc<OpenRuns>,
    path: Arc<PathBuf>,
}

impl std::fmt::Debug for SqliteStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SqliteStore")
            .field("path", &self.path)
            .finish_non_exhaustive()
    }
}

impl SqliteStore {
    /// Opens the store at `path`, creating the file and its folder if needed.
    pub async fn open(path: &Path) -> Result<SqliteStore, OpenError> {
        let has_content = has_sqlite_content(path)?;
        if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
            std::fs::create_dir_all(parent).map_err(|err| OpenError::Io {
                path: path.to_owned(),
                reason: format!("cannot create its folder: {err}"),
            })?;
        }
        if has_content {
            refuse_foreign(path).await?;
        }

        let options = SqliteConnectOptions::new()
            .filename(path)
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Normal)
            .busy_timeout(BUSY_TIMEOUT);
        let failed = |err: sqlx::Error| classify(path, err);
        let writer = SqlitePoolOptions::new()
            .max_connections(1)
            .connect_with(options.clone())
            .await
            .map_err(failed)?;
        // Two processes opening a new store at once must not both create its tables.
        let lock_path = path.with_extension("db.lock");
        let lock = std::fs::File::create(&lock_path)
            .and_then(|file| file.lock().map(|()| file))
            .map_err(|err| OpenError::Io {
                path: lock_path.clone(),
                reason: format!("cannot lock it: {err}"),
            })?;
        let migrated = MIGRATOR.run(&writer).await;
        drop(lock);
        migrated.map_err(|err| OpenError::Schema {
            path: path.to_owned(),
            reason: format!(
                "its schema does not match this gust ({err}); it may come from a newer gust"
            ),
        })?;
        let reader = SqlitePoolOptions::new()
            .max_connections(READERS)
            .connect_with(options)
            .await
            .map_err(failed)?;
        Ok(SqliteStore {
            writer,
            reader,
            open_runs: Arc::default(),
            path: Arc::new(path.to_owned()),
        })
    }

    /// The store's file.
    pub fn path(&self) -> &Path {
        &self.path
    }
}

/// Whether `path` is a SQLite file with something in it; an error if it is something
/// else. A missing or empty file is a new store.
fn has_sqlite_content(path: &Path) -> Result<bool, OpenError> {
    let mut file = match std::fs::File::open(path) {
        Ok(file) => file,
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => return Ok(false),
        Err(err) => {
            return Err(OpenError::Io {
                path: path.to_owned(),
                reason: format!("cannot read it: {err}"),
            });
        }
    };
    let mut header = Vec::with_capacity(SQLITE_HEADER.len());
    file.by_ref()
        .take(SQLITE_HEADER.len() as u64)
        .read_to_end(&mut header)
        .map_err(|err| OpenError::Io {
            path: path.to_owned(),
            reason: format!("cannot read it: {err}"),
        })?;
    if header.is_empty() {
        return Ok(false);
    }
    if header != SQLITE_HEADER {
        return Err(OpenError::Corrupt {
            path: path.to_owned(),
            reason: "it does not start like a SQLite database".to_owned(),
        });
    }
    Ok(true)
}

/// Looks at an existing database without writing to it, and refuses one that another
/// program made.
async fn refuse_foreign(path: &Path) -> Result<(), OpenError> {
    let options = SqliteConnectOptions::new().filename(path).read_only(true);
    let mut connection = sqlx::SqliteConnection::connect_with(&options)
        .await
        .map_err(|err| classify(path, err))?;
    let tables: Vec<String> = sqlx::query_scalar(
        "SELECT name FROM sqlite_master WHERE type = 'table' \
         AND name NOT LIKE 'sqlite_%' ORDER BY name",
    )
    .fetch_all(&mut connection)
    .await
    .map_err(|err| classify(path, err))?;
    let _ = connection.close().await;
    if tables.is_empty() || tables.iter().any(|t| t == MARKER_TABLE) {
        return Ok(());
    }
    Err(OpenError::Foreign {
        path: path.to_owned(),
        tables: tables.join(", "),
    })
}

/// Damage reported by SQLite is a corrupt file; anything else is an I/O problem.
fn classify(path: &Path, err: sqlx::Error) -> OpenError {
    let reason = err.to_string();
    let damaged = ["not a database", "malformed", "corrupt"]
        .iter()
        .any(|word| reason.contains(word));
    if damaged {
        OpenError::Corrupt {
            path: path.to_owned(),
            reason,
        }
    } else {
        OpenError::Io {
            path: path.to_owned(),
            reason,
        }
    }
}
