//! The HTTP client used when a connection asks for TLS settings or TCP keepalive that
//! the SDK's default client does not expose: `verify: false`, `verify: <CA bundle>`, and
//! `tcp_keepalive`. It is hyper with rustls, like the SDK's own client, and honours the
//! SDK's connect and read timeouts.

use std::collections::HashMap;
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use aws_smithy_async::rt::sleep::AsyncSleep;
use aws_smithy_runtime_api::client::http::{
    HttpClient, HttpConnector, HttpConnectorFuture, HttpConnectorSettings, SharedHttpConnector,
};
use aws_smithy_runtime_api::client::orchestrator::{HttpRequest, HttpResponse};
use aws_smithy_runtime_api::client::result::ConnectorError;
use aws_smithy_runtime_api::client::runtime_components::RuntimeComponents;
use aws_smithy_types::body::SdkBody;
use hyper_rustls::HttpsConnector;
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector as TcpConnector;
use hyper_util::rt::TokioExecutor;
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::CryptoProvider;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{ClientConfig, DigitallySignedStruct, RootCertStore, SignatureScheme};

use crate::connection::Verify;
use crate::error::AwsError;

/// How long an idle pooled connection is kept alive with TCP keepalive probes.
const KEEPALIVE: Duration = Duration::from_secs(60);

/// Connect and read timeouts: each distinct pair gets its own connector.
type Timeouts = (Option<Duration>, Option<Duration>);

/// An SDK HTTP client with its own TLS configuration.
#[derive(Debug)]
pub(crate) struct CustomHttpClient {
    tls: Arc<ClientConfig>,
    keepalive: bool,
    /// One connector (and connection pool) per distinct pair of timeouts.
    connectors: Mutex<HashMap<Timeouts, SharedHttpConnector>>,
}

impl CustomHttpClient {
    pub(crate) fn new(verify: &Verify, keepalive: bool) -> Result<Self, AwsError> {
        let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
        let builder = ClientConfig::builder_with_provider(provider.clone())
            .with_safe_default_protocol_versions()
            .map_err(|err| AwsError::setting("verify", format!("TLS setup failed: {err}")))?;
        let config = match verify {
            Verify::Off => builder
                .dangerous()
                .with_custom_certificate_verifier(Arc::new(NoVerification(provider)))
                .with_no_client_auth(),
            Verify::CaBundle(path) => builder
                .with_root_certificates(bundle(path)?)
                .with_no_client_auth(),
            Verify::On => builder
                .with_root_certificates(native_roots())
                .with_no_client_auth(),
        };
        Ok(CustomHttpClient {
            tls: Arc::new(config),
            keepalive,
            connectors: Mutex::new(HashMap::new()),
        })
    }
}

fn bundle(path: &Path) -> Result<RootCertStore, AwsError> {
    let setting = format!("verify (CA bundle {})", path.display());
    let pem = std::fs::read(path).map_err(|err| AwsError::setting(&setting, err.to_string()))?;
    let mut roots = RootCertStore::empty();
    for cert in CertificateDer::pem_slice_iter(&pem) {
        let cert =
            cert.map_err(|err| AwsError::setting(&setting, format!("not a PEM file: {err}")))?;
        roots
            .add(cert)
            .map_err(|err| AwsError::setting(&setting, format!("bad certificate: {err}")))?;
    }
    if roots.is_empty() {
        return Err(AwsError::setting(setting, "it holds no certificate"));
    }
    Ok(roots)
}

fn native_roots() -> RootCertStore {
    let mut roots = RootCertStore::empty();
    let found = rustls_native_certs::load_native_certs();
    let (added, _unusable) = roots.add_parsable_certificates(found.certs);
    if added == 0 {
        tracing::warn!("no usable system root certificates were found");
    }
    roots
}

impl HttpClient for CustomHttpClient {
    fn http_connector(
        &self,
        settings: &HttpConnectorSettings,
        components: &RuntimeComponents,
    ) -> SharedHttpConnector {
        let key = (settings.connect_timeout(), settings.read_timeout());
        let mut connectors = self
            .connectors
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        connectors
            .entry(key)
            .or_insert_with(|| {
                let mut tcp = TcpConnector::new();
                tcp.enforce_http(false);
                tcp.set_nodelay(true);
                tcp.set_connect_timeout(key.0);
                tcp.set_keepalive(self.keepalive.then_some(KEEPALIVE));
                let https = hyper_rustls::HttpsConnectorBuilder::new()
                    .with_tls_config((*self.tls).clone())
                    .https_or_http()
                    .enable_http1()
                    .enable_http2()
                    .wrap_connector(tcp);
                let client = Client::builder(TokioExecutor::new()).build(https);
                SharedHttpConnector::new(Connector {
                    client,
                    read_timeout: key.1,
                    sleep: components.sleep_impl(),
                })
            })
            .clone()
    }
}

#[derive(Debug, Clone)]
struct Connector {
    client: Client<HttpsConnector<TcpConnector>, SdkBody>,
    read_timeout: Option<Duration>,
    sleep: Option<aws_smithy_async::rt::sleep::SharedAsyncSleep>,
}

impl HttpConnector for Connector {
    fn call(&self, request: HttpRequest) -> HttpConnectorFuture {
        let request = match request.try_into_http1x() {
            Ok(request) => request,
            Err(err) => return HttpConnectorFuture::ready(Err(ConnectorError::user(err.into()))),
        };
        let client = self.client.clone();
        let read_timeout = self.read_timeout.zip(self.sleep.clone());
        HttpConnectorFuture::new(async move {
            let send = client.request(request);
            let response = match read_timeout {
                Some((limit, sleep)) => {
                    tokio::select! {
                        response = send => response,
                        () = sleep.sleep(limit) => {
                            return Err(ConnectorError::timeout(
                                format!("no response within the read timeout of {limit:?}").into(),
                            ));
                        }
                    }
                }
                None => send.await,
            };
            let response = response.map_err(|err| {
                if err.is_connect() {
                    ConnectorError::io(err.into())
                } else {
                    ConnectorError::other(err.into(), None)
                }
            })?;
            HttpResponse::try_from(response.map(SdkBody::from_body_1_x))
                .map_err(|err| ConnectorError::other(err.into(), None))
        })
    }
}

/// Accepts any server certificate: `verify: false`. Handshake signatures are still
/// checked, so the connection is encrypted, only not authenticated.
#[derive(Debug)]
struct NoVerification(Arc<CryptoProvider>);

impl ServerCertVerifier for NoVerification {
    fn verify_server_cert(
        &self,
        _end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.0.signature_verification_algorithms.supported_schemes()
    }
}
