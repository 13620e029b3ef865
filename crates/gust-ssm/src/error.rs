//! Errors of the SSM components.

use aws_sdk_ssm::error::{ProvideErrorMetadata, SdkError};
use aws_smithy_runtime_api::client::orchestrator::HttpResponse;
use gust_aws::AwsError;
use gust_core::TaskError;

/// Why an SSM call or wait did not succeed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SsmError {
    /// The AWS connection or client settings are wrong.
    #[error(transparent)]
    Connection(#[from] AwsError),
    /// A parameter is wrong before any call is made.
    #[error("{0}")]
    Invalid(String),
    /// SSM answered with an error.
    #[error("{operation} failed: {code}: {message}")]
    Service {
        /// The API operation.
        operation: &'static str,
        /// AWS's error code, e.g. `InvalidInstanceId`.
        code: String,
        /// AWS's message.
        message: String,
        /// Whether trying again later may succeed (throttling, server errors).
        transient: bool,
    },
    /// The call did not get an answer (network, timeout).
    #[error("{operation} failed: {detail}")]
    Transport {
        /// The API operation.
        operation: &'static str,
        /// What went wrong.
        detail: String,
    },
    /// No AWS credentials could be found for the call: trying again will not help.
    #[error(
        "{operation} failed: no usable AWS credentials ({detail}); give the connection a \
         login and password, a profile_name or a role_arn, or set up the standard AWS \
         credential chain (environment variables, ~/.aws, an instance role)"
    )]
    NoCredentials {
        /// The API operation.
        operation: &'static str,
        /// What the credential chain said, shortened.
        detail: String,
    },
    /// The command id is not known to SSM.
    #[error("command {command_id} does not exist: {detail}")]
    NoSuchCommand {
        /// The id asked for.
        command_id: String,
        /// What SSM said.
        detail: String,
    },
    /// SSM reported a status gust does not know; gust will not guess what it means.
    #[error("command {command_id}: instance {instance_id} has the unknown status '{status}'")]
    UnknownStatus {
        /// The command.
        command_id: String,
        /// The instance.
        instance_id: String,
        /// The status as SSM wrote it.
        status: String,
    },
}

impl SsmError {
    /// Whether trying again later may succeed.
    pub fn is_transient(&self) -> bool {
        match self {
            SsmError::Service { transient, .. } => *transient,
            SsmError::Transport { .. } => true,
            _ => false,
        }
    }

    /// Whether SSM refused the call for its rate: the request was not carried out, so
    /// sending it again is safe.
    pub fn is_throttling(&self) -> bool {
        match self {
            SsmError::Service { code, .. } => {
                code.contains("Throttl")
                    || code == "TooManyRequestsException"
                    || code == "RequestLimitExceeded"
            }
            _ => false,
        }
    }

    /// The AWS error code, for service errors.
    pub fn code(&self) -> Option<&str> {
        match self {
            SsmError::Service { code, .. } => Some(code),
            _ => None,
        }
    }

    /// Turns an SDK error of `operation` into an [`SsmError`].
    pub(crate) fn from_sdk<E>(operation: &'static str, err: SdkError<E, HttpResponse>) -> Self
    where
        E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
    {
        match &err {
            SdkError::ServiceError(service) => {
                let status = Some(service.raw().status().as_u16());
                let code = service.err().code().unwrap_or("Unknown").to_owned();
                let transient = code.contains("Throttl")
                    || code == "TooManyRequestsException"
                    || code == "RequestLimitExceeded"
                    || code == "InternalServerError"
                    || code == "ServiceUnavailable"
                    || status.is_some_and(|s| s >= 500);
                SsmError::Service {
                    operation,
                    message: service.err().message().unwrap_or_default().to_owned(),
                    code,
                    transient,
                }
            }
            _ => {
                let detail = readable_chain(&err);
                if detail.to_ascii_lowercase().contains("credentials") {
                    SsmError::NoCredentials { operation, detail }
                } else {
                    SsmError::Transport { operation, detail }
                }
            }
        }
    }

    /// The task error for a failed step of an SSM task: transient failures and service
    /// errors may succeed on a retry, bad parameters never do.
    pub fn into_task_error(self, context: &str) -> TaskError {
        let message = format!("{context}: {self}");
        match self {
            SsmError::Connection(_)
            | SsmError::Invalid(_)
            | SsmError::NoCredentials { .. }
            | SsmError::UnknownStatus { .. } => TaskError::fatal(message),
            _ => TaskError::failed(message),
        }
    }
}

/// The messages of an error and its sources, each said once and kept short: the SDK's
/// errors nest several layers, some of which print their sources' debug form.
fn readable_chain(err: &(dyn std::error::Error + 'static)) -> String {
    const PART: usize = 160;
    let mut parts: Vec<String> = Vec::new();
    let mut current = Some(err);
    while let Some(error) = current {
        let mut text = error.to_string();
        if let Some(debug_start) = text.find(" (") {
            // "message (Variant(Struct { ... }))": the message is enough.
            if text[debug_start..].contains('{') {
                text.truncate(debug_start);
            }
        }
        if text.chars().count() > PART {
            text = text.chars().take(PART).collect::<String>() + "...";
        }
        if !text.is_empty() && !parts.iter().any(|part| part.contains(&text)) {
            parts.push(text);
        }
        current = error.source();
    }
    parts.join(": ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug)]
    struct Layer(&'static str, Option<Box<Layer>>);

    impl std::fmt::Display for Layer {
        fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.write_str(self.0)
        }
    }

    impl std::error::Error for Layer {
        fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
            self.1.as_deref().map(|l| l as _)
        }
    }

    #[test]
    fn a_nested_error_reads_as_one_short_line() {
        let err = Layer(
            "dispatch failure",
            Some(Box::new(Layer(
                "the credential provider was not enabled (Inner(Struct { field: 1 }))",
                Some(Box::new(Layer("dispatch failure", None))),
            ))),
        );
        assert_eq!(
            readable_chain(&err),
            "dispatch failure: the credential provider was not enabled"
        );
    }
}
