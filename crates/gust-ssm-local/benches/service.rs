//! How fast and how lean the local SSM service is. Prints:
//!
//! - SendCommand + ListCommandInvocations round trips per second that the service sustains
//!   with 100 concurrent SDK clients, with each command's script really run, and again with
//!   every node offline (nothing spawned: the protocol and the bookkeeping alone);
//! - the service's memory once it keeps 10,000 finished invocations.
//!
//! The service under load runs as its own process (the crate's binary), so that the memory
//! read from `/proc/<pid>/status` is the service's alone and the clients do not share its
//! runtime. Run with `cargo bench -p gust-ssm-local`.

// A benchmark measures real time on the host's clock.
#![allow(clippy::disallowed_methods)]

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use aws_sdk_ssm::Client;
use aws_sdk_ssm::config::{BehaviorVersion, Credentials, Region};
use aws_sdk_ssm::types::CommandStatus;
use gust_ssm_local::{NodeConfig, ServiceConfig, SsmLocal};

const CLIENTS: usize = 100;
const NODES: u64 = 50;
const LOAD_TIME: Duration = Duration::from_secs(10);
const KEPT_COMMANDS: usize = 200;
const COMMANDS_IN_FLIGHT: usize = 4;
const GIVE_UP_AFTER: Duration = Duration::from_secs(600);

type Failure = Box<dyn std::error::Error + Send + Sync>;

fn main() -> Result<(), Failure> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    runtime.block_on(run())
}

async fn run() -> Result<(), Failure> {
    let scratch = tempfile::tempdir()?;
    let nodes_file = scratch.path().join("nodes.yaml");
    write_nodes_file(&nodes_file)?;
    let node_ids: Vec<String> = (1..=NODES).map(|n| NodeConfig::numbered(n).id).collect();
    println!(
        "gust-ssm-local benchmark: {CLIENTS} clients, {NODES} nodes, {} cores",
        cores()
    );

    let service = ServiceProcess::spawn(&nodes_file, &scratch.path().join("load"))?;
    let cpu_before = service.cpu_seconds()?;
    let load = round_trips(&service.url, &node_ids, LOAD_TIME).await;
    let cpu = service.cpu_seconds()? - cpu_before;
    println!(
        "round trips with scripts run: {} in {:.1} s = {:.0}/s ({} failed); \
         the service used {cpu:.1} s of CPU = {:.0} µs per round trip, the clients the rest",
        load.done,
        load.elapsed.as_secs_f64(),
        load.per_second(),
        load.failed,
        cpu * 1e6 / load.done.max(1) as f64
    );
    drop(service);

    let api_only = api_only_round_trips(&node_ids).await?;
    println!(
        "round trips, API only (nodes offline, nothing spawned): {} in {:.1} s = {:.0}/s ({} failed)",
        api_only.done,
        api_only.elapsed.as_secs_f64(),
        api_only.per_second(),
        api_only.failed
    );

    let service = ServiceProcess::spawn(&nodes_file, &scratch.path().join("memory"))?;
    memory_with_finished_invocations(&service, &node_ids).await?;
    Ok(())
}

fn cores() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get())
}

fn write_nodes_file(path: &Path) -> std::io::Result<()> {
    let mut yaml = String::from("nodes:\n");
    for n in 1..=NODES {
        yaml.push_str(&format!("  - id: {}\n", NodeConfig::numbered(n).id));
    }
    std::fs::write(path, yaml)
}

fn client(url: &str) -> Client {
    let config = aws_sdk_ssm::Config::builder()
        .behavior_version(BehaviorVersion::latest())
        .endpoint_url(url)
        .region(Region::new("eu-west-1"))
        .credentials_provider(Credentials::new(
            "AKIDBENCH",
            "not-checked",
            None,
            None,
            "bench",
        ))
        .build();
    Client::from_conf(config)
}

/// The service binary, killed when dropped.
struct ServiceProcess {
    child: Child,
    url: String,
}

impl ServiceProcess {
    fn spawn(nodes_file: &Path, root: &Path) -> Result<ServiceProcess, Failure> {
        let mut child = Command::new(env!("CARGO_BIN_EXE_gust-ssm-local"))
            .arg("--nodes")
            .arg(nodes_file)
            .arg("--root")
            .arg(root)
            .env("RUST_LOG", "info")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()?;
        let stderr = child.stderr.take().ok_or("no stderr")?;
        let mut lines = BufReader::new(stderr).lines();
        let url = loop {
            let Some(line) = lines.next().transpose()? else {
                return Err("the service exited before saying where it serves".into());
            };
            if let Some(url) = line.split_whitespace().find(|w| w.starts_with("http://")) {
                break url.to_owned();
            }
        };
        // Keep draining the log so that the service never blocks on it.
        std::thread::spawn(move || lines.for_each(drop));
        Ok(ServiceProcess { child, url })
    }

    /// User and system CPU time of the service process itself (not of the scripts it ran),
    /// from `/proc/<pid>/stat`, whose times are in 1/100 s on Linux.
    fn cpu_seconds(&self) -> Result<f64, Failure> {
        let stat = std::fs::read_to_string(format!("/proc/{}/stat", self.child.id()))?;
        let after_name = stat.rsplit_once(')').ok_or("unreadable stat")?.1;
        let fields: Vec<&str> = after_name.split_whitespace().collect();
        let ticks = |n: usize| {
            fields
                .get(n)
                .and_then(|f| f.parse::<u64>().ok())
                .unwrap_or(0)
        };
        // utime and stime are fields 14 and 15 of stat: indices 11 and 12 after the name.
        Ok((ticks(11) + ticks(12)) as f64 / 100.0)
    }

    fn memory(&self) -> std::io::Result<Memory> {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.child.id()))?;
        let field = |name: &str| {
            status
                .lines()
                .find_map(|line| line.strip_prefix(name))
                .and_then(|rest| rest.split_whitespace().next())
                .and_then(|kib| kib.parse::<u64>().ok())
                .unwrap_or_default()
        };
        Ok(Memory {
            rss_kib: field("VmRSS:"),
            peak_kib: field("VmHWM:"),
        })
    }
}

impl Drop for ServiceProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

struct Memory {
    rss_kib: u64,
    peak_kib: u64,
}

struct Load {
    done: u64,
    failed: u64,
    elapsed: Duration,
}

impl Load {
    fn per_second(&self) -> f64 {
        self.done as f64 / self.elapsed.as_secs_f64()
    }
}

/// `CLIENTS` clients, each sending a command to one node and listing its invocations, over
/// and over, for `duration`.
async fn round_trips(url: &str, node_ids: &[String], duration: Duration) -> Load {
    let done = Arc::new(AtomicU64::new(0));
    let failed = Arc::new(AtomicU64::new(0));
    let started = Instant::now();
    let deadline = started + duration;

    let mut clients = tokio::task::JoinSet::new();
    for n in 0..CLIENTS {
        let client = client(url);
        let node = node_ids[n % node_ids.len()].clone();
        let (done, failed) = (done.clone(), failed.clone());
        clients.spawn(async move {
            while Instant::now() < deadline {
                match round_trip(&client, &node).await {
                    Ok(()) => done.fetch_add(1, Ordering::Relaxed),
                    Err(_) => failed.fetch_add(1, Ordering::Relaxed),
                };
            }
        });
    }
    while clients.join_next().await.is_some() {}

    Load {
        done: done.load(Ordering::Relaxed),
        failed: failed.load(Ordering::Relaxed),
        elapsed: started.elapsed(),
    }
}

async fn round_trip(client: &Client, node: &str) -> Result<(), Failure> {
    let sent = client
        .send_command()
        .document_name("AWS-RunShellScript")
        .instance_ids(node)
        .parameters("commands", vec!["true".into()])
        .send()
        .await?;
    let id = sent
        .command()
        .and_then(|c| c.command_id())
        .ok_or("no command id")?;
    client
        .list_command_invocations()
        .command_id(id)
        .send()
        .await?;
    Ok(())
}

/// The same load against an in-process service whose nodes are all offline.
async fn api_only_round_trips(node_ids: &[String]) -> Result<Load, Failure> {
    let nodes = (1..=NODES).map(NodeConfig::numbered).collect();
    let service = SsmLocal::start(ServiceConfig::default().with_nodes(nodes)).await?;
    service
        .knobs()
        .update(|knobs| knobs.offline_nodes = node_ids.iter().cloned().collect())?;
    let load = round_trips(service.url(), node_ids, LOAD_TIME).await;
    service.shutdown().await;
    Ok(load)
}

/// Sends 200 commands to all 50 nodes (10,000 invocations), a few at a time, waits until
/// every one has ended, then reads the service's memory.
async fn memory_with_finished_invocations(
    service: &ServiceProcess,
    node_ids: &[String],
) -> Result<(), Failure> {
    let client = client(&service.url);
    client.list_commands().send().await?;
    let baseline = service.memory()?;

    let started = Instant::now();
    for _ in (0..KEPT_COMMANDS).step_by(COMMANDS_IN_FLIGHT) {
        let mut batch = Vec::new();
        for _ in 0..COMMANDS_IN_FLIGHT {
            let sent = client
                .send_command()
                .document_name("AWS-RunShellScript")
                .set_instance_ids(Some(node_ids.to_vec()))
                .parameters("commands", vec!["echo finished".into()])
                .send()
                .await?;
            batch.push(
                sent.command()
                    .and_then(|c| c.command_id())
                    .ok_or("no id")?
                    .to_owned(),
            );
        }
        for id in batch {
            wait_for_success(&client, &id, started).await?;
        }
    }
    let elapsed = started.elapsed();
    let kept = service.memory()?;

    let invocations = KEPT_COMMANDS as u64 * NODES;
    let growth_kib = kept.rss_kib.saturating_sub(baseline.rss_kib);
    println!(
        "memory with {invocations} finished invocations kept: RSS {:.1} MiB \
         (at start {:.1} MiB, growth {:.1} MiB = {} bytes per invocation), peak RSS {:.1} MiB; \
         the {invocations} invocations ran in {:.1} s",
        mib(kept.rss_kib),
        mib(baseline.rss_kib),
        mib(growth_kib),
        growth_kib * 1024 / invocations,
        mib(kept.peak_kib),
        elapsed.as_secs_f64()
    );
    Ok(())
}

async fn wait_for_success(client: &Client, id: &str, started: Instant) -> Result<(), Failure> {
    loop {
        let listed = client.list_commands().command_id(id).send().await?;
        match listed.commands().first().and_then(|c| c.status()) {
            Some(CommandStatus::Success) => return Ok(()),
            Some(CommandStatus::Pending | CommandStatus::InProgress) => {}
            other => return Err(format!("command {id} ended {other:?}").into()),
        }
        if started.elapsed() > GIVE_UP_AFTER {
            return Err(format!("command {id} still runs after {GIVE_UP_AFTER:?}").into());
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

fn mib(kib: u64) -> f64 {
    kib as f64 / 1024.0
}
