//! Why a store file could not be opened.

use std::path::PathBuf;

/// A store file that cannot be used. The file is never changed when this is returned.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum OpenError {
    /// The file exists but is not a SQLite database (or is damaged).
    #[error("{path}: not a gust database: {reason}; it was left as it is")]
    Corrupt {
        /// The file.
        path: PathBuf,
        /// What is wrong with it.
        reason: String,
    },
    /// The file is a SQLite database of another program.
    #[error(
        "{path}: a SQLite database of another program (it holds {tables}); \
         gust does not write to it: choose another file or GUST_HOME"
    )]
    Foreign {
        /// The file.
        path: PathBuf,
        /// The tables it holds.
        tables: String,
    },
    /// The file was written by a gust whose schema this one does not know.
    #[error("{path}: {reason}")]
    Schema {
        /// The file.
        path: PathBuf,
        /// What does not match.
        reason: String,
    },
    /// The file or its folder cannot be read or created.
    #[error("{path}: {reason}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The system's error.
        reason: String,
    },
}
