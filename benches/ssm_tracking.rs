//! Tracking 1,000 SSM commands of 10 nodes each to completion through the local SSM
//! service: API calls per command and per invocation, the wall time of the wait, and
//! gust's memory with all 1,000 tasks deferred at once.
//!
//! Run with `cargo bench --bench ssm_tracking`. The local service runs in a child
//! process (this binary, in service mode), so the memory figures are gust's alone. Its
//! nodes start offline: every command is sent and every task defers while nothing runs;
//! once all 1,000 are deferred the nodes come online and the scripts run.

// A benchmark measures wall time on the host clock by definition.
#![allow(clippy::disallowed_methods)]

use std::io::{BufRead, BufReader, Write};
use std::process::{Child, ChildStdin, ChildStdout, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use gust::aws::Connections;
use gust::core::{Dag, RunState, TaskState};
use gust::executor::{EventKind, Executor, RunOptions};
use gust::ssm::{AwsArgs, SsmRunCommandOperator};
use gust::ssm_local::{NodeConfig, ServiceConfig, SsmLocal};
use serde_json::json;

const COMMANDS: usize = 1_000;
const NODES: usize = 10;
const WAITER_DELAY: Duration = Duration::from_secs(5);
const SERVICE: &str = "GUST_BENCH_SSM_SERVICE";
const OPERATIONS: [&str; 4] = [
    "SendCommand",
    "ListCommands",
    "ListCommandInvocations",
    "GetCommandInvocation",
];

fn main() {
    if std::env::var(SERVICE).is_ok() {
        return serve();
    }
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("a runtime");
    runtime.block_on(measure());
}

/// Service mode: start the service with every node offline, print its URL, then obey
/// stdin: `online` brings the nodes online, `counters` prints the call counters.
fn serve() {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .expect("a runtime");
    runtime.block_on(async {
        let nodes: Vec<NodeConfig> = (1..=NODES as u64).map(NodeConfig::numbered).collect();
        let service = SsmLocal::start(ServiceConfig::default().with_nodes(nodes.clone()))
            .await
            .expect("the service starts");
        for node in &nodes {
            service
                .knobs()
                .set_offline(&node.id, true)
                .expect("a known node");
        }
        println!("{}", service.url());
        let mut lines = BufReader::new(std::io::stdin()).lines();
        while let Some(Ok(line)) = lines.next() {
            match line.trim() {
                "online" => {
                    for node in &nodes {
                        service
                            .knobs()
                            .set_offline(&node.id, false)
                            .expect("a known node");
                    }
                    println!("ok");
                }
                "counters" => {
                    let counters = service.counters();
                    let counts: Vec<String> = OPERATIONS
                        .iter()
                        .map(|op| counters.get(op).to_string())
                        .collect();
                    println!("{}", counts.join(" "));
                }
                _ => break,
            }
        }
        service.shutdown().await;
    });
}

struct Service {
    child: Child,
    stdin: ChildStdin,
    stdout: BufReader<ChildStdout>,
}

impl Service {
    fn start() -> (Service, String) {
        let exe = std::env::current_exe().expect("the benchmark knows its own path");
        let mut child = Command::new(exe)
            .env(SERVICE, "1")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .expect("the service process starts");
        let stdin = child.stdin.take().expect("piped");
        let mut stdout = BufReader::new(child.stdout.take().expect("piped"));
        let url = Self::read_line(&mut stdout);
        (
            Service {
                child,
                stdin,
                stdout,
            },
            url,
        )
    }

    fn read_line(stdout: &mut BufReader<ChildStdout>) -> String {
        let mut line = String::new();
        stdout.read_line(&mut line).expect("the service answers");
        line.trim().to_owned()
    }

    fn ask(&mut self, command: &str) -> String {
        writeln!(self.stdin, "{command}").expect("the service listens");
        Self::read_line(&mut self.stdout)
    }

    fn counters(&mut self) -> Vec<u64> {
        self.ask("counters")
            .split_whitespace()
            .map(|n| n.parse().expect("a count"))
            .collect()
    }
}

async fn measure() {
    let (mut service, url) = Service::start();
    let connections = Arc::new(
        Connections::default()
            .with_env_lookup(|_| None)
            .override_endpoint(url),
    );
    let instance_ids: Vec<String> = (1..=NODES as u64)
        .map(|n| NodeConfig::numbered(n).id)
        .collect();

    let mut dag = Dag::builder("ssm_tracking");
    dag.max_active_tasks(COMMANDS);
    for n in 0..COMMANDS {
        dag.task(
            format!("run_{n}"),
            SsmRunCommandOperator::new("AWS-RunShellScript")
                .run_command_kwargs(json!({
                    "InstanceIds": instance_ids,
                    "Parameters": {"commands": ["true"]},
                }))
                .expect("valid kwargs")
                .deferrable(true)
                .waiter_delay(WAITER_DELAY)
                .waiter_max_attempts(1_000)
                .aws(AwsArgs::default().connections(connections.clone())),
        );
    }
    let executor = Executor::in_memory().with_pool("default_pool", COMMANDS);
    let rss_before = memory("VmRSS");
    let (events, mut seen) = tokio::sync::mpsc::unbounded_channel();
    let started = Instant::now();
    let run = executor.start(
        Arc::new(dag.build().expect("a valid DAG")),
        RunOptions::new().events(events),
    );

    let mut deferred = 0;
    while deferred < COMMANDS {
        let event = seen.recv().await.expect("the run goes on");
        if let EventKind::Task {
            state: TaskState::Deferred,
            ..
        } = event.kind
        {
            deferred += 1;
        }
    }
    let all_deferred_after = started.elapsed();
    let rss_deferred = memory("VmRSS");
    let before = service.counters();

    let online = Instant::now();
    assert_eq!(service.ask("online"), "ok");
    let report = run.wait().await.expect("the run completes");
    let wait_wall = online.elapsed();
    assert_eq!(report.state, RunState::Success, "every command succeeded");
    let after = service.counters();
    let peak = memory("VmHWM");
    drop(service.stdin);
    let _ = service.child.wait();

    let invocations = (COMMANDS * NODES) as f64;
    let polls = (after[1] - before[1]) as f64;
    println!("{COMMANDS} commands x {NODES} nodes = {invocations} invocations; script `true`");
    println!(
        "deferrable SsmRunCommandOperator, waiter_delay {}s; executor on 2 tokio workers",
        WAITER_DELAY.as_secs()
    );
    println!();
    println!(
        "{:<24} {:>10} {:>14} {:>16}",
        "API calls", "total", "per command", "per invocation"
    );
    for (name, total) in OPERATIONS.iter().zip(&after) {
        println!(
            "{:<24} {:>10} {:>14.2} {:>16.3}",
            name,
            total,
            *total as f64 / COMMANDS as f64,
            *total as f64 / invocations
        );
    }
    println!();
    println!(
        "polls in all: {}; ListCommandInvocations calls per poll: {:.2} (pages of 50 a poll \
         needs for 10 invocations: 1); polls after the nodes came online: {polls}",
        after[1],
        after[2] as f64 / after[1] as f64
    );
    println!("all {COMMANDS} tasks deferred after {all_deferred_after:.2?} (sending included)");
    println!(
        "wait after the nodes came online: {wait_wall:.2?} (the scripts' own run time is ~0; \
         polls are {}s apart)",
        WAITER_DELAY.as_secs()
    );
    println!(
        "gust RSS before the run: {rss_before:.1} MiB; with all {COMMANDS} deferred: \
         {rss_deferred:.1} MiB; peak: {peak:.1} MiB"
    );
}

/// A memory figure of this process from /proc, in MiB.
fn memory(field: &str) -> f64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|line| line.strip_prefix(field)?.strip_prefix(':'))
        .and_then(|rest| {
            rest.trim()
                .trim_end_matches("kB")
                .trim()
                .parse::<f64>()
                .ok()
        })
        .map(|kib| kib / 1024.0)
        .unwrap_or(f64::NAN)
}
