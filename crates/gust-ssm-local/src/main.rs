//! `gust-ssm-local`: serves the local SSM Run Command service until interrupted.
//!
//! ```text
//! gust-ssm-local [--port 4566] [--bind 127.0.0.1] [--nodes nodes.yaml] [--root DIR]
//! ```

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::path::PathBuf;
use std::process::ExitCode;

use clap::Parser;
use gust_ssm_local::{ServiceConfig, SsmLocal};
use tracing::error;

/// Serve a local stand-in for AWS SSM Run Command that runs AWS-RunShellScript on this host.
#[derive(Debug, Parser)]
#[command(name = "gust-ssm-local", version)]
struct Args {
    /// Port to listen on (0: any free port; the log says which).
    #[arg(long, default_value_t = 0)]
    port: u16,

    /// Address to listen on. Anything but loopback lets other hosts run commands here.
    #[arg(long, default_value_t = IpAddr::V4(Ipv4Addr::LOCALHOST))]
    bind: IpAddr,

    /// YAML file listing the managed nodes (default: one Linux node).
    #[arg(long)]
    nodes: Option<PathBuf>,

    /// Folder for the nodes' working directories (default: a temporary folder).
    #[arg(long)]
    root: Option<PathBuf>,
}

#[tokio::main]
async fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into()),
        )
        .with_writer(std::io::stderr)
        // A closed log pipe must not take the service down with it.
        .log_internal_errors(false)
        .init();

    match serve(Args::parse()).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            error!("{err}");
            ExitCode::FAILURE
        }
    }
}

async fn serve(args: Args) -> Result<(), gust_ssm_local::Error> {
    let mut config = ServiceConfig::default().with_addr(SocketAddr::new(args.bind, args.port));
    if let Some(nodes) = &args.nodes {
        config = config.with_nodes_file(nodes)?;
    }
    if let Some(root) = args.root {
        config = config.with_root(root);
    }

    let service = SsmLocal::start(config).await?;
    wait_for_stop_signal().await;
    service.shutdown().await;
    Ok(())
}

async fn wait_for_stop_signal() {
    let mut terminate =
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(signal) => signal,
            Err(err) => {
                error!(%err, "cannot watch SIGTERM; stop with Ctrl-C");
                let _ = tokio::signal::ctrl_c().await;
                return;
            }
        };
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {}
        _ = terminate.recv() => {}
    }
}
