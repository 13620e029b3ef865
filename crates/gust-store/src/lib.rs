//! The durable store of gust runs: SQLite through sqlx.
//!
//! [`SqliteStore`] implements the executor's [`Store`](gust_executor::Store): DAG runs,
//! task instances with every try (state, start, end, error), XCom values, the small
//! task-state map operators write before they act, and the trigger each deferred task
//! waits for (kind, serialized arguments, deadline). A batch of changes is one
//! transaction, written before the executor starts the work the batch announces, so a
//! process that dies can be resumed from what the file holds.
//!
//! The file is opened in WAL mode and its schema is created or brought up to date by
//! migrations embedded in this crate. A file that is not a SQLite database, or a SQLite
//! database of another program, is an error naming the file, and is left as it was. The
//! SQL sticks to what PostgreSQL also accepts, so that one schema can serve both.
//!
//! ```
//! # tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(async {
//! use std::sync::Arc;
//! use gust_executor::{Executor, Store};
//! use gust_store::SqliteStore;
//!
//! let dir = tempfile::tempdir().unwrap();
//! let store = SqliteStore::open(&dir.path().join("gust.db")).await.unwrap();
//! let executor = Executor::new(Arc::new(store.clone()));
//! assert!(store.list_runs(None).await.unwrap().is_empty());
//! # });
//! ```

mod codec;
mod error;
mod open;
mod read;
mod source;
mod write;

pub use error::OpenError;
pub use open::{DB_FILE, SqliteStore, default_home};
pub use source::RunClaim;
