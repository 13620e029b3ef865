//! Client settings turned into an SDK configuration, built once per distinct settings
//! and reused, so that every task using the same connection shares one connection pool.

use std::collections::HashMap;
use std::sync::{Mutex, OnceLock};

use aws_config::retry::RetryConfig;
use aws_config::sts::AssumeRoleProvider;
use aws_config::timeout::TimeoutConfig;
use aws_config::{AppName, BehaviorVersion, Region, SdkConfig};
use aws_credential_types::provider::SharedCredentialsProvider;
use tracing::{debug, warn};

use crate::botocore::RetryMode;
use crate::connection::Verify;
use crate::error::AwsError;
use crate::http_client::CustomHttpClient;
use crate::settings::{ClientSettings, Credentials};

fn cache() -> &'static Mutex<HashMap<ClientSettings, SdkConfig>> {
    static CACHE: OnceLock<Mutex<HashMap<ClientSettings, SdkConfig>>> = OnceLock::new();
    CACHE.get_or_init(Default::default)
}

/// The SDK configuration for `settings`, built on first use and shared afterwards.
/// The service endpoint is not part of it: the service client sets its own.
pub async fn sdk_config(settings: &ClientSettings) -> Result<SdkConfig, AwsError> {
    let cached = cache()
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
        .get(settings)
        .cloned();
    if let Some(config) = cached {
        return Ok(config);
    }
    let config = build(settings).await?;
    // Two tasks may build the same configuration at once; keep the first one stored.
    let mut cache = cache()
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    Ok(cache.entry(settings.clone()).or_insert(config).clone())
}

async fn build(settings: &ClientSettings) -> Result<SdkConfig, AwsError> {
    debug!(
        region = ?settings.region,
        endpoint = ?settings.endpoint_url,
        "building an AWS SDK configuration"
    );
    let options = &settings.options;
    let mut loader = aws_config::defaults(BehaviorVersion::latest());

    if let Some(region) = &settings.region {
        loader = loader.region(Region::new(region.clone()));
    }
    loader = match &settings.credentials {
        Credentials::DefaultChain => loader,
        Credentials::Static {
            access_key_id,
            secret_access_key,
            session_token,
        } => loader.credentials_provider(aws_credential_types::Credentials::new(
            access_key_id.expose(),
            secret_access_key.expose(),
            session_token.as_ref().map(|t| t.expose().to_owned()),
            None,
            "gust-connection",
        )),
        Credentials::Profile(profile) => loader.profile_name(profile),
        Credentials::Unsigned => loader.no_credentials(),
    };

    let retry = match options.retry_mode {
        Some(RetryMode::Adaptive) => Some(RetryConfig::adaptive()),
        Some(RetryMode::Standard) => Some(RetryConfig::standard()),
        None => options.max_attempts.map(|_| RetryConfig::standard()),
    };
    if let Some(mut retry) = retry {
        if let Some(attempts) = options.max_attempts {
            retry = retry.with_max_attempts(attempts);
        }
        loader = loader.retry_config(retry);
    }
    if options.connect_timeout.is_some() || options.read_timeout.is_some() {
        let mut timeouts = TimeoutConfig::builder();
        if let Some(connect) = options.connect_timeout {
            timeouts = timeouts.connect_timeout(connect);
        }
        if let Some(read) = options.read_timeout {
            timeouts = timeouts.read_timeout(read);
        }
        loader = loader.timeout_config(timeouts.build());
    }
    if let Some(extra) = &options.user_agent_extra {
        let app = AppName::new(extra.clone()).map_err(|_| {
            AwsError::setting(
                "botocore_config.user_agent_extra",
                "use letters, digits and !#$%&'*+-.^_`|~ only",
            )
        })?;
        loader = loader.app_name(app);
    }
    if settings.verify != Verify::On || options.tcp_keepalive {
        if settings.verify == Verify::Off {
            warn!("TLS certificate verification is turned off for this AWS connection");
        }
        loader = loader.http_client(CustomHttpClient::new(
            &settings.verify,
            options.tcp_keepalive,
        )?);
    }

    let base = loader.load().await;
    let Some(role) = &settings.assume_role else {
        return Ok(base);
    };
    let mut provider = AssumeRoleProvider::builder(role.role_arn.clone())
        .session_name(
            role.session_name
                .clone()
                .unwrap_or_else(|| "gust".to_owned()),
        )
        .configure(&base);
    if let Some(id) = &role.external_id {
        provider = provider.external_id(id.clone());
    }
    if let Some(duration) = role.duration {
        provider = provider.session_length(duration);
    }
    if let Some(policy) = &role.policy {
        provider = provider.policy(policy.clone());
    }
    let provider = provider.build().await;
    Ok(base
        .to_builder()
        .credentials_provider(SharedCredentialsProvider::new(provider))
        .build())
}

#[cfg(test)]
mod tests {
    use std::io::Write;
    use std::sync::{Arc, Mutex};
    use std::time::Duration;

    use serde_json::json;

    use super::*;
    use crate::{AwsParams, Connections, resolve};

    /// Log lines written while `work` runs, at every level.
    fn logs_of<T>(work: impl FnOnce() -> T) -> (T, String) {
        #[derive(Clone, Default)]
        struct Sink(Arc<Mutex<Vec<u8>>>);
        impl Write for Sink {
            fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
                self.0.lock().unwrap().extend_from_slice(bytes);
                Ok(bytes.len())
            }
            fn flush(&mut self) -> std::io::Result<()> {
                Ok(())
            }
        }
        let sink = Sink::default();
        let writer = sink.clone();
        let subscriber = tracing_subscriber::fmt()
            .with_max_level(tracing::Level::TRACE)
            .with_writer(move || writer.clone())
            .finish();
        let out = tracing::subscriber::with_default(subscriber, work);
        let text = String::from_utf8_lossy(&sink.0.lock().unwrap()).into_owned();
        (out, text)
    }

    fn runtime() -> tokio::runtime::Runtime {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap()
    }

    fn connections(text: &str) -> Connections {
        let text = text.to_owned();
        Connections::default()
            .with_env_lookup(move |name| (name == "AIRFLOW_CONN_AWS_DEFAULT").then(|| text.clone()))
    }

    #[test]
    fn client_settings_reach_the_sdk_configuration() {
        let conns = connections(
            &json!({"login": "AKIAEXAMPLE", "password": "hunter2", "extra": {
                "region_name": "eu-north-1",
                "config_kwargs": {"retries": {"mode": "standard", "total_max_attempts": 7},
                                   "connect_timeout": 2, "read_timeout": 42}}})
            .to_string(),
        );
        let settings = resolve(&AwsParams::operator_default(), &conns).unwrap();
        let config = runtime().block_on(sdk_config(&settings)).unwrap();
        assert_eq!(config.region().map(|r| r.as_ref()), Some("eu-north-1"));
        assert_eq!(config.retry_config().unwrap().max_attempts(), 7);
        let timeouts = config.timeout_config().unwrap();
        assert_eq!(timeouts.connect_timeout(), Some(Duration::from_secs(2)));
        assert_eq!(timeouts.read_timeout(), Some(Duration::from_secs(42)));
    }

    #[test]
    fn turning_verification_off_warns_and_builds_a_client() {
        let conns = connections(r#"{"extra": {"region_name": "eu-west-2", "verify": false}}"#);
        let settings = resolve(&AwsParams::operator_default(), &conns).unwrap();
        let (built, logs) = logs_of(|| runtime().block_on(sdk_config(&settings)));
        assert!(built.is_ok());
        assert!(
            logs.contains("TLS certificate verification is turned off"),
            "{logs}"
        );
    }

    #[test]
    fn a_ca_bundle_that_is_not_pem_is_an_error_naming_it() {
        let dir = tempfile::tempdir().unwrap();
        let bundle = dir.path().join("bundle.pem");
        std::fs::write(&bundle, "not a certificate").unwrap();
        let settings = resolve(
            &AwsParams {
                verify: Some(crate::Verify::CaBundle(bundle.clone())),
                ..AwsParams::operator_default()
            },
            &connections("aws://?region_name=eu-west-1"),
        )
        .unwrap();
        let err = runtime()
            .block_on(sdk_config(&settings))
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("bundle.pem") && err.contains("no certificate"),
            "{err}"
        );
    }

    #[test]
    fn a_missing_connection_is_a_warning_naming_it() {
        let params = AwsParams {
            aws_conn_id: Some("nightly_ops".into()),
            ..AwsParams::default()
        };
        let (settings, logs) =
            logs_of(|| resolve(&params, &Connections::default().with_env_lookup(|_| None)));
        assert_eq!(
            settings.unwrap().credentials,
            crate::Credentials::DefaultChain
        );
        assert!(logs.contains("WARN"), "{logs}");
        assert!(
            logs.contains("connection 'nightly_ops' does not exist"),
            "{logs}"
        );
    }

    #[test]
    fn secrets_never_reach_the_logs() {
        let conns = connections(
            &json!({"login": "AKIASECRETKEYID", "password": "hunter2",
                    "extra": {"aws_session_token": "tok3n-s3cret", "region_name": "us-east-2"}})
            .to_string(),
        );
        let (_, logs) = logs_of(|| {
            let settings = resolve(&AwsParams::operator_default(), &conns).unwrap();
            tracing::debug!(?settings, "resolved");
            runtime().block_on(sdk_config(&settings)).unwrap();
        });
        assert!(logs.contains("resolved"), "{logs}");
        for secret in ["AKIASECRETKEYID", "hunter2", "tok3n-s3cret"] {
            assert!(!logs.contains(secret), "{secret} leaked into:\n{logs}");
        }
    }
}
