//! How a task attempt ends when it does not succeed.

use std::time::Duration;

/// Any error type, boxed, as the cause of a task failure.
pub type BoxError = Box<dyn std::error::Error + Send + Sync + 'static>;

/// Why a task attempt did not succeed, which decides what happens next.
///
/// | variant | next |
/// |---|---|
/// | [`Failed`](TaskError::Failed), [`ExecutionTimeout`](TaskError::ExecutionTimeout), [`DeferralTimeout`](TaskError::DeferralTimeout) | another try if retries are left, else `failed` |
/// | [`Fatal`](TaskError::Fatal), [`Cancelled`](TaskError::Cancelled) | `failed`, no retry |
/// | [`SensorTimeout`](TaskError::SensorTimeout) | `failed` without retry, or `skipped` for a sensor with `soft_fail` |
/// | [`Skip`](TaskError::Skip) | `skipped` |
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum TaskError {
    /// The attempt failed; the task is retried while it has retries left.
    #[error("{message}")]
    Failed {
        /// What went wrong, for the task log and the run report.
        message: String,
        /// The underlying error, if any.
        #[source]
        source: Option<BoxError>,
    },
    /// The task failed in a way a retry cannot fix (Airflow's `AirflowFailException`).
    #[error("{message}")]
    Fatal {
        /// What went wrong.
        message: String,
    },
    /// The task skips itself (Airflow's `AirflowSkipException`).
    #[error("{message}")]
    Skip {
        /// Why it skipped.
        message: String,
    },
    /// A sensor ran out of time before its condition held.
    #[error("{message}")]
    SensorTimeout {
        /// What the sensor was waiting for.
        message: String,
    },
    /// The attempt ran longer than the task's `execution_timeout`.
    #[error("the attempt ran longer than its execution_timeout of {}", humanize(*.0))]
    ExecutionTimeout(Duration),
    /// A deferred task's trigger did not fire within the deferral's timeout.
    #[error("the trigger did not fire within its timeout of {}", humanize(*.0))]
    DeferralTimeout(Duration),
    /// The run was cancelled while the task was running or deferred.
    #[error("the run was cancelled")]
    Cancelled,
}

impl TaskError {
    /// A failure that is retried while retries are left.
    pub fn failed(message: impl Into<String>) -> Self {
        TaskError::Failed {
            message: message.into(),
            source: None,
        }
    }

    /// A failure with its cause, retried while retries are left.
    pub fn failed_with(message: impl Into<String>, source: impl Into<BoxError>) -> Self {
        TaskError::Failed {
            message: message.into(),
            source: Some(source.into()),
        }
    }

    /// A failure that is never retried.
    pub fn fatal(message: impl Into<String>) -> Self {
        TaskError::Fatal {
            message: message.into(),
        }
    }

    /// The task skips itself.
    pub fn skip(message: impl Into<String>) -> Self {
        TaskError::Skip {
            message: message.into(),
        }
    }

    /// A sensor's timeout.
    pub fn sensor_timeout(message: impl Into<String>) -> Self {
        TaskError::SensorTimeout {
            message: message.into(),
        }
    }

    /// Whether another try may follow this error, retries permitting.
    pub fn is_retryable(&self) -> bool {
        matches!(
            self,
            TaskError::Failed { .. }
                | TaskError::ExecutionTimeout(_)
                | TaskError::DeferralTimeout(_)
        )
    }

    /// The message with its chain of causes, as one line for logs and reports.
    pub fn report(&self) -> String {
        let mut text = self.to_string();
        let mut cause = std::error::Error::source(self);
        while let Some(err) = cause {
            let next = err.to_string();
            if !text.contains(&next) {
                text.push_str(": ");
                text.push_str(&next);
            }
            cause = err.source();
        }
        text
    }
}

/// A duration as a person writes it: `90s` -> `1m30s`, `0.5s` -> `500ms`.
pub fn humanize(duration: Duration) -> String {
    let total = duration.as_secs();
    let millis = duration.subsec_millis();
    if total == 0 {
        return format!("{millis}ms");
    }
    let (h, m, s) = (total / 3600, total / 60 % 60, total % 60);
    let mut out = String::new();
    if h > 0 {
        out.push_str(&format!("{h}h"));
    }
    if m > 0 {
        out.push_str(&format!("{m}m"));
    }
    if s > 0 || out.is_empty() {
        out.push_str(&format!("{s}s"));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reports_include_causes_once() {
        let io = std::io::Error::other("connection reset");
        let err = TaskError::failed_with("polling the command", io);
        assert_eq!(err.report(), "polling the command: connection reset");
        assert!(err.is_retryable());
        assert!(!TaskError::fatal("bad input").is_retryable());
    }

    #[test]
    fn durations_read_naturally() {
        assert_eq!(humanize(Duration::from_secs(90)), "1m30s");
        assert_eq!(humanize(Duration::from_secs(3600)), "1h");
        assert_eq!(humanize(Duration::from_millis(250)), "250ms");
        assert_eq!(humanize(Duration::from_secs(0)), "0ms");
    }
}
