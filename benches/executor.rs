//! Executor throughput and memory: 10,000 no-op tasks in three shapes, on gust's
//! in-memory store and on the `dagrs` crate; then the chain and layered shapes on gust's
//! SQLite store, which writes every turn's changes to a file before going on.
//!
//! Run with `cargo bench --bench executor`. Each (engine, shape) pair runs in a child
//! process of its own, so the peak resident memory it reports (VmHWM) belongs to that
//! pair alone. Throughput is the best of three runs of the shape in that child.

// A benchmark measures wall time on the host clock by definition.
#![allow(clippy::disallowed_methods)]

use std::process::Command;
use std::sync::Arc;
use std::time::{Duration, Instant};

use gust::core::{Dag, TaskBuilder};
use gust::executor::{Executor, RunOptions};
use gust::standard::EmptyOperator;

const TASKS: usize = 10_000;
const LAYERS: usize = 100;
const WIDTH: usize = 100;
const RUNS: usize = 3;
const CHILD: &str = "GUST_BENCH_CHILD";

#[derive(Clone, Copy, PartialEq, Eq)]
enum Shape {
    Independent,
    Chain,
    Layered,
}

impl Shape {
    const ALL: [Shape; 3] = [Shape::Independent, Shape::Chain, Shape::Layered];

    fn name(self) -> &'static str {
        match self {
            Shape::Independent => "independent",
            Shape::Chain => "chain",
            Shape::Layered => "layered",
        }
    }

    fn parse(name: &str) -> Option<Shape> {
        Shape::ALL.into_iter().find(|shape| shape.name() == name)
    }

    /// The upstream tasks of task `n`, by number.
    fn upstream(self, n: usize) -> Vec<usize> {
        match self {
            Shape::Independent => vec![],
            Shape::Chain if n == 0 => vec![],
            Shape::Chain => vec![n - 1],
            Shape::Layered => {
                let (layer, i) = (n / WIDTH, n % WIDTH);
                if layer == 0 {
                    return vec![];
                }
                let before = (layer - 1) * WIDTH;
                (0..3).map(|k| before + (i + k) % WIDTH).collect()
            }
        }
    }
}

/// What one child measured.
struct Measure {
    tasks_per_sec: f64,
    best: Duration,
    peak_rss_mib: f64,
}

fn main() {
    assert_eq!(LAYERS * WIDTH, TASKS, "the layered shape covers every task");
    if let Ok(spec) = std::env::var(CHILD) {
        return child(&spec);
    }
    let settings = "max_active_tasks 10,000, default_pool 10,000 slots, no event subscriber";
    println!("{TASKS} no-op tasks per shape; best of {RUNS} runs; tokio with 2 workers");
    println!("gust: in-memory store, {settings}");
    println!("dagrs: {} with an empty action per node", dagrs_version());
    println!();
    println!(
        "{:<12} {:>16} {:>12} {:>16} {:>12} {:>14}",
        "shape", "gust tasks/s", "gust MiB", "dagrs tasks/s", "dagrs MiB", "gust/dagrs"
    );
    for shape in Shape::ALL {
        let gust = spawn_child("gust", shape);
        let dagrs = spawn_child("dagrs", shape);
        println!(
            "{:<12} {:>16.0} {:>12.1} {:>16.0} {:>12.1} {:>14.2}",
            shape.name(),
            gust.tasks_per_sec,
            gust.peak_rss_mib,
            dagrs.tasks_per_sec,
            dagrs.peak_rss_mib,
            gust.tasks_per_sec / dagrs.tasks_per_sec,
        );
        eprintln!(
            "  ({}: gust best {:?}, dagrs best {:?})",
            shape.name(),
            gust.best,
            dagrs.best
        );
    }
    println!();
    println!("MiB: peak resident memory of the process that built and ran the shape {RUNS} times");

    println!();
    println!("gust on the SQLite store (WAL, synchronous=NORMAL), same settings");
    println!("{:<12} {:>16} {:>12}", "shape", "gust tasks/s", "gust MiB");
    for shape in [Shape::Chain, Shape::Layered] {
        let sqlite = spawn_child("gust-sqlite", shape);
        println!(
            "{:<12} {:>16.0} {:>12.1}",
            shape.name(),
            sqlite.tasks_per_sec,
            sqlite.peak_rss_mib
        );
        eprintln!("  ({}: best {:?})", shape.name(), sqlite.best);
    }
    println!("floor on the SQLite store: 2,000 tasks/s");
}

fn dagrs_version() -> &'static str {
    "dagrs 0.9"
}

fn spawn_child(engine: &str, shape: Shape) -> Measure {
    let exe = std::env::current_exe().expect("the benchmark knows its own path");
    let output = Command::new(exe)
        .env(CHILD, format!("{engine}:{}", shape.name()))
        .output()
        .expect("the benchmark can run itself");
    let text = String::from_utf8_lossy(&output.stdout);
    let fields: Vec<f64> = text
        .split_whitespace()
        .filter_map(|field| field.parse().ok())
        .collect();
    if !output.status.success() || fields.len() != 3 {
        panic!(
            "{engine} {} failed: {}\n{}",
            shape.name(),
            text,
            String::from_utf8_lossy(&output.stderr)
        );
    }
    Measure {
        tasks_per_sec: fields[0],
        best: Duration::from_secs_f64(fields[1]),
        peak_rss_mib: fields[2],
    }
}

fn child(spec: &str) {
    let (engine, shape) = spec.split_once(':').expect("engine:shape");
    let shape = Shape::parse(shape).expect("a known shape");
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("a runtime");
    let mut best = Duration::MAX;
    for _ in 0..RUNS {
        let took = match engine {
            "gust" => runtime.block_on(run_gust(shape, None)),
            "gust-sqlite" => {
                let dir = tempfile::tempdir().expect("a folder for the store");
                let store = runtime
                    .block_on(gust::store::SqliteStore::open(&dir.path().join("gust.db")))
                    .expect("the store opens");
                runtime.block_on(run_gust(shape, Some(Arc::new(store))))
            }
            "dagrs" => runtime.block_on(run_dagrs(shape)),
            other => panic!("unknown engine {other}"),
        };
        best = best.min(took);
    }
    let tasks_per_sec = TASKS as f64 / best.as_secs_f64();
    println!(
        "{tasks_per_sec:.1} {:.6} {:.2}",
        best.as_secs_f64(),
        peak_rss_mib()
    );
}

/// Builds the DAG (not timed), then times one run of it, in memory or on `store`.
async fn run_gust(shape: Shape, store: Option<Arc<dyn gust::executor::Store>>) -> Duration {
    let mut dag = Dag::builder(format!("bench_{}", shape.name()));
    dag.max_active_tasks(TASKS);
    for n in 0..TASKS {
        let upstream = shape.upstream(n).into_iter().map(|u| format!("t{u}"));
        dag.add(TaskBuilder::operator(format!("t{n}"), EmptyOperator).needs(upstream));
    }
    let dag = Arc::new(dag.build().expect("a valid DAG"));
    let executor = match store {
        Some(store) => Executor::new(store),
        None => Executor::in_memory(),
    }
    .with_pool("default_pool", TASKS);

    let started = Instant::now();
    let report = executor
        .run(dag, RunOptions::new())
        .await
        .expect("the run completes");
    let took = started.elapsed();
    assert_eq!(report.state, gust::core::RunState::Success);
    took
}

async fn run_dagrs(shape: Shape) -> Duration {
    use dagrs::{DefaultNode, EmptyAction, Graph, Node, NodeTable};

    let mut table = NodeTable::default();
    let mut graph = Graph::new();
    let mut ids = Vec::with_capacity(TASKS);
    for n in 0..TASKS {
        let node = DefaultNode::with_action(format!("t{n}"), EmptyAction, &mut table);
        ids.push(node.id());
        graph.add_node(node).expect("a new node");
    }
    for n in 0..TASKS {
        for up in shape.upstream(n) {
            graph.add_edge(ids[up], vec![ids[n]]).expect("an edge");
        }
    }

    let started = Instant::now();
    graph.async_start().await.expect("dagrs runs the graph");
    started.elapsed()
}

/// The process's peak resident memory so far, from /proc.
fn peak_rss_mib() -> f64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|line| line.strip_prefix("VmHWM:"))
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
