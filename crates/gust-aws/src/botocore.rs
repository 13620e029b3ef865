//! `botocore_config` (and a connection's `config_kwargs`): the client settings Airflow
//! passes to botocore, mapped onto the Rust SDK's. A key the Rust SDK cannot honour is an
//! error that names it, never silently ignored.

use std::time::Duration;

use serde_json::{Map, Value};

use crate::connection::kind;
use crate::error::AwsError;

/// How failed requests are retried.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum RetryMode {
    /// botocore's `legacy` and `standard`: exponential backoff with jitter.
    Standard,
    /// `adaptive`: standard, plus client-side rate limiting when throttled.
    Adaptive,
}

/// The client settings of a `botocore_config`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
pub struct ClientOptions {
    /// `retries.mode`.
    pub retry_mode: Option<RetryMode>,
    /// The total number of attempts of a request, first included
    /// (`retries.total_max_attempts`, or `retries.max_attempts` + 1).
    pub max_attempts: Option<u32>,
    /// `connect_timeout`.
    pub connect_timeout: Option<Duration>,
    /// `read_timeout`.
    pub read_timeout: Option<Duration>,
    /// `tcp_keepalive`.
    pub tcp_keepalive: bool,
    /// `signature_version: unsigned`: requests are not signed.
    pub unsigned: bool,
    /// `user_agent_extra`.
    pub user_agent_extra: Option<String>,
    /// `region_name`.
    pub region: Option<String>,
}

/// Reads a `botocore_config` map; `name` is how errors refer to it.
pub(crate) fn parse(name: &str, config: &Map<String, Value>) -> Result<ClientOptions, AwsError> {
    let mut options = ClientOptions::default();
    for (key, value) in config {
        let setting = format!("{name}.{key}");
        match key.as_str() {
            "retries" => parse_retries(&setting, value, &mut options)?,
            "connect_timeout" => options.connect_timeout = Some(seconds(&setting, value)?),
            "read_timeout" => options.read_timeout = Some(seconds(&setting, value)?),
            "tcp_keepalive" => options.tcp_keepalive = boolean(&setting, value)?,
            "signature_version" => {
                options.unsigned = match value.as_str() {
                    Some("unsigned") | Some("UNSIGNED") => true,
                    Some("v4") | Some("s3v4") => false,
                    _ => {
                        return Err(AwsError::unsupported(
                            setting,
                            "only 'unsigned' (no signing) and 'v4' (the default) are supported",
                        ));
                    }
                }
            }
            "user_agent_extra" => options.user_agent_extra = Some(text(&setting, value)?),
            "region_name" => options.region = Some(text(&setting, value)?),
            _ => {
                return Err(AwsError::unsupported(
                    setting,
                    "the supported keys are retries (mode, max_attempts, total_max_attempts), \
                     connect_timeout, read_timeout, tcp_keepalive, signature_version, \
                     user_agent_extra and region_name",
                ));
            }
        }
    }
    Ok(options)
}

fn parse_retries(
    setting: &str,
    value: &Value,
    options: &mut ClientOptions,
) -> Result<(), AwsError> {
    let Value::Object(retries) = value else {
        return Err(AwsError::setting(
            setting,
            format!("expected a map, found {}", kind(value)),
        ));
    };
    for (key, value) in retries {
        let inner = format!("{setting}.{key}");
        match key.as_str() {
            "mode" => {
                options.retry_mode = Some(match value.as_str() {
                    Some("legacy") | Some("standard") => RetryMode::Standard,
                    Some("adaptive") => RetryMode::Adaptive,
                    _ => {
                        return Err(AwsError::setting(
                            inner,
                            "expected legacy, standard or adaptive",
                        ));
                    }
                })
            }
            "max_attempts" => options.max_attempts = Some(count(&inner, value)?.saturating_add(1)),
            "total_max_attempts" => {
                let total = count(&inner, value)?;
                if total == 0 {
                    return Err(AwsError::setting(inner, "must be at least 1"));
                }
                options.max_attempts = Some(total);
            }
            _ => {
                return Err(AwsError::unsupported(
                    inner,
                    "retries takes mode, max_attempts and total_max_attempts",
                ));
            }
        }
    }
    Ok(())
}

fn seconds(setting: &str, value: &Value) -> Result<Duration, AwsError> {
    value
        .as_f64()
        .filter(|s| s.is_finite() && *s > 0.0 && *s < 1e9)
        .map(Duration::from_secs_f64)
        .ok_or_else(|| {
            AwsError::setting(
                setting,
                format!(
                    "expected a positive number of seconds, found {}",
                    kind(value)
                ),
            )
        })
}

fn count(setting: &str, value: &Value) -> Result<u32, AwsError> {
    value
        .as_u64()
        .and_then(|n| u32::try_from(n).ok())
        .ok_or_else(|| {
            AwsError::setting(
                setting,
                format!("expected a whole number, found {}", kind(value)),
            )
        })
}

fn boolean(setting: &str, value: &Value) -> Result<bool, AwsError> {
    value.as_bool().ok_or_else(|| {
        AwsError::setting(
            setting,
            format!("expected true or false, found {}", kind(value)),
        )
    })
}

fn text(setting: &str, value: &Value) -> Result<String, AwsError> {
    value.as_str().map(str::to_owned).ok_or_else(|| {
        AwsError::setting(setting, format!("expected a string, found {}", kind(value)))
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn map(value: Value) -> Map<String, Value> {
        value.as_object().unwrap().clone()
    }

    #[test]
    fn known_keys_map_onto_client_options() {
        let options = parse(
            "botocore_config",
            &map(json!({
                "retries": {"mode": "adaptive", "max_attempts": 4},
                "connect_timeout": 3, "read_timeout": 42.5,
                "tcp_keepalive": true, "user_agent_extra": "gust-tests",
                "region_name": "eu-west-3"
            })),
        )
        .unwrap();
        assert_eq!(options.retry_mode, Some(RetryMode::Adaptive));
        assert_eq!(options.max_attempts, Some(5));
        assert_eq!(options.connect_timeout, Some(Duration::from_secs(3)));
        assert_eq!(options.read_timeout, Some(Duration::from_secs_f64(42.5)));
        assert!(options.tcp_keepalive && !options.unsigned);
        assert_eq!(options.region.as_deref(), Some("eu-west-3"));

        let total = parse("b", &map(json!({"retries": {"total_max_attempts": 2}}))).unwrap();
        assert_eq!(total.max_attempts, Some(2));
        let unsigned = parse("b", &map(json!({"signature_version": "unsigned"}))).unwrap();
        assert!(unsigned.unsigned);
    }

    #[test]
    fn keys_that_cannot_be_honoured_are_named() {
        let err = parse("botocore_config", &map(json!({"proxies": {"https": "x"}}))).unwrap_err();
        assert!(
            err.to_string()
                .starts_with("botocore_config.proxies cannot be honoured by gust"),
            "{err}"
        );
        let err = parse("config_kwargs", &map(json!({"retries": {"mode": "wild"}}))).unwrap_err();
        assert_eq!(
            err.to_string(),
            "config_kwargs.retries.mode: expected legacy, standard or adaptive"
        );
        let err = parse("b", &map(json!({"read_timeout": "soon"}))).unwrap_err();
        assert!(err.to_string().contains("b.read_timeout"), "{err}");
    }
}
