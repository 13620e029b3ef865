//! Starting and stopping the service.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use std::time::Duration;

use tempfile::TempDir;
use tokio::net::TcpListener;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;
use tracing::{info, warn};

use crate::counters::{CallCounters, Counters};
use crate::exec::ProcessGroups;
use crate::fleet::Fleet;
use crate::shared::Shared;
use crate::state::Store;
use crate::{Error, Knobs, NodeConfig, ServiceConfig};

/// How long shutdown waits for connections and scripts to wind down.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(5);

/// A running local SSM service. Dropping it stops the service and kills running scripts;
/// [`SsmLocal::shutdown`] does the same and waits for it.
#[derive(Debug)]
pub struct SsmLocal {
    shared: Arc<Shared>,
    addr: SocketAddr,
    url: String,
    server: Option<JoinHandle<()>>,
    _temporary_root: Option<TempDir>,
}

impl SsmLocal {
    /// Prepares the nodes' folders, binds the address and starts serving. It must run on a
    /// Tokio runtime, where the server and the commands' work are spawned.
    pub async fn start(config: ServiceConfig) -> Result<SsmLocal, Error> {
        let (root, temporary_root) = match config.root {
            Some(root) => (root, None),
            None => {
                let temp = tempfile::Builder::new()
                    .prefix("gust-ssm-local-")
                    .tempdir()
                    .map_err(|source| Error::Directory {
                        path: std::env::temp_dir(),
                        source,
                    })?;
                (temp.path().to_owned(), Some(temp))
            }
        };
        let fleet = Fleet::prepare(config.nodes, &root)?;
        let knobs = Knobs::new(config.knobs, fleet.nodes().iter().map(|n| n.id.clone()))?;

        let listener = TcpListener::bind(config.addr)
            .await
            .map_err(|source| Error::Bind {
                addr: config.addr,
                source,
            })?;
        let addr = listener.local_addr().map_err(|source| Error::Bind {
            addr: config.addr,
            source,
        })?;

        let shared = Arc::new(Shared {
            fleet,
            store: Mutex::new(Store::default()),
            knobs,
            counters: CallCounters::default(),
            groups: ProcessGroups::default(),
            shutdown: CancellationToken::new(),
            dispatchers: TaskTracker::new(),
        });
        let server = tokio::spawn(serve(listener, shared.clone()));

        let url = url_for(addr);
        announce(addr, &url, &shared);
        Ok(SsmLocal {
            shared,
            addr,
            url,
            server: Some(server),
            _temporary_root: temporary_root,
        })
    }

    /// The endpoint URL to give an SSM client, e.g. `http://127.0.0.1:41234`.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// The address the service listens on.
    pub fn local_addr(&self) -> SocketAddr {
        self.addr
    }

    /// The managed nodes, with their working-directory roots filled in.
    pub fn nodes(&self) -> &[NodeConfig] {
        self.shared.fleet.nodes()
    }

    /// How many calls of each operation have arrived so far.
    pub fn counters(&self) -> Counters {
        self.shared.counters.snapshot()
    }

    /// The knobs, to change while the service runs.
    pub fn knobs(&self) -> &Knobs {
        &self.shared.knobs
    }

    /// Stops serving, kills running scripts and waits (a few seconds at most) for both.
    pub async fn shutdown(mut self) {
        self.shared.shutdown.cancel();
        self.shared.dispatchers.close();
        if tokio::time::timeout(SHUTDOWN_GRACE, self.shared.dispatchers.wait())
            .await
            .is_err()
        {
            warn!("some commands were still winding down at shutdown");
        }

        if let Some(server) = self.server.take() {
            let abort = server.abort_handle();
            if tokio::time::timeout(SHUTDOWN_GRACE, server).await.is_err() {
                abort.abort();
            }
        }
        self.shared.groups.kill_all();
        info!(url = %self.url, "local SSM service stopped");
    }
}

impl Drop for SsmLocal {
    fn drop(&mut self) {
        self.shared.shutdown.cancel();
        self.shared.groups.kill_all();
        if let Some(server) = self.server.take() {
            server.abort();
        }
    }
}

async fn serve(listener: TcpListener, shared: Arc<Shared>) {
    let stop = shared.shutdown.clone();
    let app = crate::http::router(shared);
    let served = axum::serve(listener, app)
        .with_graceful_shutdown(stop.cancelled_owned())
        .await;
    if let Err(err) = served {
        warn!(%err, "the local SSM service stopped serving");
    }
}

fn url_for(addr: SocketAddr) -> String {
    let host = match addr {
        SocketAddr::V4(v4) if v4.ip().is_unspecified() => "127.0.0.1".to_owned(),
        SocketAddr::V4(v4) => v4.ip().to_string(),
        SocketAddr::V6(v6) if v6.ip().is_unspecified() => "[::1]".to_owned(),
        SocketAddr::V6(v6) => format!("[{}]", v6.ip()),
    };
    format!("http://{host}:{}", addr.port())
}

fn announce(addr: SocketAddr, url: &str, shared: &Shared) {
    let nodes = shared.fleet.nodes().len();
    info!(%url, nodes, "local SSM service listening on {url}");
    if !addr.ip().is_loopback() {
        warn!(
            %addr,
            "the local SSM service is reachable from other hosts, \
             and it runs the commands it is sent"
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_name_a_reachable_host() {
        assert_eq!(
            url_for("127.0.0.1:80".parse().unwrap()),
            "http://127.0.0.1:80"
        );
        assert_eq!(
            url_for("0.0.0.0:80".parse().unwrap()),
            "http://127.0.0.1:80"
        );
        assert_eq!(url_for("[::1]:80".parse().unwrap()), "http://[::1]:80");
    }
}
