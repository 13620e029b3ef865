//! The local SSM service: embedded for `--local-nodes`, or served on its own.

use std::net::{IpAddr, SocketAddr};
use std::path::Path;

use gust::aws::Connections;
use gust::ssm_local::{ServiceConfig, SsmLocal};

use super::out::say;
use super::{Outcome, usage};

/// Starts the local service with the nodes of `nodes_file` (or one default node).
pub(crate) async fn start(nodes_file: Option<&Path>) -> Result<SsmLocal, String> {
    let mut config = ServiceConfig::default();
    if let Some(file) = nodes_file {
        config = config
            .with_nodes_file(file)
            .map_err(|err| format!("{}: {err}", file.display()))?;
    }
    SsmLocal::start(config)
        .await
        .map_err(|err| format!("the local SSM service did not start: {err}"))
}

/// The connections SSM tasks use: the environment and a connections file, pointed at the
/// local service when one runs.
pub(crate) fn connections(
    file: Option<&Path>,
    local: Option<&SsmLocal>,
) -> Result<Connections, String> {
    let mut connections = Connections::from_env().map_err(|err| err.to_string())?;
    if let Some(file) = file {
        connections = connections.with_file(file).map_err(|err| err.to_string())?;
    }
    if let Some(service) = local {
        connections = connections.override_endpoint(service.url());
    }
    Ok(connections)
}

pub(crate) async fn serve(bind: IpAddr, port: u16, nodes: Option<&Path>) -> Outcome {
    let mut config = ServiceConfig::default().with_addr(SocketAddr::new(bind, port));
    if let Some(file) = nodes {
        config = config
            .with_nodes_file(file)
            .map_err(|err| usage(format!("{}: {err}", file.display())))?;
    }
    let service = SsmLocal::start(config)
        .await
        .map_err(|err| usage(format!("the local SSM service did not start: {err}")))?;
    say!("local SSM service listening on {}", service.url());
    for node in service.nodes() {
        let tags: Vec<String> = node.tags.iter().map(|(k, v)| format!("{k}={v}")).collect();
        say!(
            "  node {}",
            [node.id.clone(), tags.join(" ")].join(" ").trim_end()
        );
    }
    say!(
        "point a connection at it, e.g. \
         AIRFLOW_CONN_AWS_DEFAULT='aws://x:x@/?region_name=us-east-1&endpoint_url={}'",
        service.url()
    );
    if !bind.is_loopback() {
        eprintln!(
            "warning: listening on {bind}, not only on this host: \
             anyone who can reach it can run commands here"
        );
    }
    let _ = tokio::signal::ctrl_c().await;
    service.shutdown().await;
    Ok(())
}
