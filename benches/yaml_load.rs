//! Loading and validating a generated 5,000-task YAML DAG.
//!
//! Run with `cargo bench --bench yaml_load`. The DAG has 50 layers of 100 SSM tasks; each
//! task sends a templated script and references an XCom of the layer before, so parsing,
//! marker conversion, parameter checks, reference checks and cycle detection all work at
//! full size. The time is the best of 10 loads of the text (file reading excluded).

// A benchmark measures wall time on the host clock by definition.
#![allow(clippy::disallowed_methods)]

use std::fmt::Write;
use std::path::Path;
use std::time::{Duration, Instant};

use gust::registry::operators;
use gust::yaml::load_str;

const LAYERS: usize = 50;
const WIDTH: usize = 100;
const RUNS: usize = 10;

fn generate() -> String {
    let mut yaml = String::from(
        "dag_id: generated\nparams: {script: uptime}\ndefault_args: {retries: 1, aws_conn_id: aws_default}\ntasks:\n",
    );
    for layer in 0..LAYERS {
        for i in 0..WIDTH {
            let _ = write!(
                yaml,
                "  - id: t_{layer}_{i}\n    uses: SsmRunCommandOperator\n    with:\n      \
                 document_name: AWS-RunShellScript\n      run_command_kwargs:\n        \
                 InstanceIds: [mi-{i:017}]\n        Parameters:\n          commands:\n            \
                 - {{$t: \"{{{{ params.script }}}} # {layer}\"}}\n        Comment: layer {layer}\n      \
                 wait_for_completion: false\n      retry_delay: 30s\n"
            );
            if layer > 0 {
                let _ = write!(
                    yaml,
                    "      region_name: {{$x: t_{}_{i}}}\n    needs: [t_{}_{}]\n",
                    layer - 1,
                    layer - 1,
                    (i + 1) % WIDTH
                );
            }
        }
    }
    yaml
}

fn main() {
    let yaml = generate();
    let registry = operators();
    let mut best = Duration::MAX;
    for _ in 0..RUNS {
        let started = Instant::now();
        let load = load_str(&yaml, Path::new("generated.yaml"), &registry);
        let took = started.elapsed();
        assert!(load.errors.is_empty(), "{:?}", load.errors.first());
        assert_eq!(load.dags[0].dag.len(), LAYERS * WIDTH);
        best = best.min(took);
    }
    println!(
        "{} tasks, {} KiB of YAML: loaded and validated in {:.1} ms (best of {RUNS}); floor 200 ms",
        LAYERS * WIDTH,
        yaml.len() / 1024,
        best.as_secs_f64() * 1000.0
    );
}
