//! Errors of AWS connection handling. None of them carries a secret.

/// Why an AWS connection or client configuration could not be made.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum AwsError {
    /// A connection's text (URI or JSON) could not be read.
    #[error("connection '{conn_id}' from {source_name} could not be read: {reason}")]
    BadConnection {
        /// The connection's id.
        conn_id: String,
        /// Where it came from: an environment variable's name or a file.
        source_name: String,
        /// What is wrong, without the connection's text.
        reason: String,
    },
    /// A connections file could not be read.
    #[error("connections file {path}: {reason}")]
    BadFile {
        /// The file.
        path: String,
        /// What is wrong.
        reason: String,
    },
    /// A setting has a value gust cannot use.
    #[error("{setting}: {reason}")]
    BadSetting {
        /// The setting, e.g. `botocore_config.retries.mode`.
        setting: String,
        /// What is wrong and what was expected.
        reason: String,
    },
    /// A setting is valid for Airflow but gust cannot honour it.
    #[error("{setting} cannot be honoured by gust: {reason}")]
    Unsupported {
        /// The setting.
        setting: String,
        /// Why, and what to use instead if anything.
        reason: String,
    },
}

impl AwsError {
    pub(crate) fn setting(setting: impl Into<String>, reason: impl Into<String>) -> Self {
        AwsError::BadSetting {
            setting: setting.into(),
            reason: reason.into(),
        }
    }

    pub(crate) fn unsupported(setting: impl Into<String>, reason: impl Into<String>) -> Self {
        AwsError::Unsupported {
            setting: setting.into(),
            reason: reason.into(),
        }
    }
}
