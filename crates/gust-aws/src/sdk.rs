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
    debug!(region = ?settings.region, endpoint = ?settings.endpoint_url, "building an AWS SDK configuration");
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
