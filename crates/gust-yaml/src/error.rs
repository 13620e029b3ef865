//! Errors that point at the place in a DAG file that caused them.

use std::fmt;
use std::path::PathBuf;

use crate::node::Pos;

/// A problem in a DAG file: where it is, and what was expected.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub struct LoadError {
    /// The file.
    pub file: PathBuf,
    /// Where in the file.
    pub at: Pos,
    /// Where in the document, e.g. `tasks[1].with.command_id` (empty for the whole file).
    pub path: String,
    /// What is wrong and what was expected.
    pub message: String,
}

impl fmt::Display for LoadError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.file.display(), self.at)?;
        if !self.path.is_empty() {
            write!(f, ": {}", self.path)?;
        }
        write!(f, ": {}", self.message)
    }
}

/// A problem found while reading a document, before the file name is attached.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Problem {
    pub(crate) at: Pos,
    pub(crate) path: String,
    pub(crate) message: String,
}

impl Problem {
    pub(crate) fn new(at: Pos, path: impl Into<String>, message: impl Into<String>) -> Self {
        Problem {
            at,
            path: path.into(),
            message: message.into(),
        }
    }

    pub(crate) fn in_file(self, file: impl Into<PathBuf>) -> LoadError {
        LoadError {
            file: file.into(),
            at: self.at,
            path: self.path,
            message: self.message,
        }
    }
}
