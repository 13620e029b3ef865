//! Showing a DAG as text, Graphviz dot or Mermaid.

use std::fmt::Write;

use gust::core::Dag;
use gust::core::error::humanize;
use gust::yaml::LoadedDag;

/// How `dags show` draws a DAG.
#[derive(Debug, Clone, Copy, clap::ValueEnum)]
pub(crate) enum Format {
    /// Tasks, dependencies and settings.
    Text,
    /// Graphviz dot.
    Dot,
    /// A Mermaid flowchart.
    Mermaid,
}

pub(crate) fn render(loaded: &LoadedDag, format: Format) -> String {
    let dag = &loaded.dag;
    match format {
        Format::Text => text(loaded),
        Format::Dot => dot(dag),
        Format::Mermaid => mermaid(dag),
    }
}

fn text(loaded: &LoadedDag) -> String {
    let dag = &loaded.dag;
    let settings = dag.settings();
    let mut out = String::new();
    let _ = writeln!(out, "DAG {} ({})", dag.dag_id(), loaded.file.display());
    if let Some(description) = &settings.description {
        let _ = writeln!(out, "  {description}");
    }
    let schedule = loaded
        .info
        .schedule
        .as_deref()
        .unwrap_or("none (runs are started by hand)");
    let _ = writeln!(out, "  schedule: {schedule}");
    let _ = writeln!(out, "  max_active_tasks: {}", settings.max_active_tasks);
    if let Some(limit) = settings.dagrun_timeout {
        let _ = writeln!(out, "  dagrun_timeout: {}", humanize(limit));
    }
    if !settings.tags.is_empty() {
        let _ = writeln!(out, "  tags: {}", settings.tags.join(", "));
    }
    if !settings.params.is_empty() {
        let _ = writeln!(
            out,
            "  params: {}",
            serde_json::Value::Object(settings.params.clone())
        );
    }
    let _ = writeln!(out, "\ntasks:");
    for (index, task) in dag.tasks() {
        let s = task.settings();
        let mut upstream: Vec<&str> = dag.upstream(index).map(|u| &**dag.task(u).id()).collect();
        upstream.sort_unstable();
        let _ = writeln!(out, "  {} ({})", task.id(), task.kind().type_name());
        if !upstream.is_empty() {
            let _ = writeln!(out, "    needs: {}", upstream.join(", "));
        }
        let mut details = vec![format!("trigger_rule {}", s.trigger_rule)];
        if s.retries > 0 {
            details.push(format!(
                "retries {} every {}",
                s.retries,
                humanize(s.retry_delay)
            ));
        }
        if let Some(timeout) = s.execution_timeout {
            details.push(format!("execution_timeout {}", humanize(timeout)));
        }
        if s.pool != gust::core::DEFAULT_POOL {
            details.push(format!("pool {}", s.pool));
        }
        if let Some(sensor) = task.kind().sensor_settings() {
            details.push(format!(
                "{} every {}, timeout {}",
                sensor.mode,
                humanize(sensor.poke_interval),
                humanize(sensor.timeout)
            ));
        }
        let _ = writeln!(out, "    {}", details.join("; "));
    }
    out
}

fn dot(dag: &Dag) -> String {
    let mut out = format!("digraph \"{}\" {{\n  rankdir=LR;\n", dag.dag_id());
    for (_, task) in dag.tasks() {
        let _ = writeln!(
            out,
            "  \"{}\" [label=\"{}\\n{}\"];",
            task.id(),
            task.id(),
            task.kind().type_name()
        );
    }
    for (index, task) in dag.tasks() {
        for down in dag.downstream(index) {
            let _ = writeln!(out, "  \"{}\" -> \"{}\";", task.id(), dag.task(down).id());
        }
    }
    out.push_str("}\n");
    out
}

fn mermaid(dag: &Dag) -> String {
    let mut out = String::from("flowchart LR\n");
    for (index, task) in dag.tasks() {
        let _ = writeln!(
            out,
            "  t{index}[\"{}<br/>{}\"]",
            task.id(),
            task.kind().type_name()
        );
    }
    for (index, _) in dag.tasks() {
        for down in dag.downstream(index) {
            let _ = writeln!(out, "  t{index} --> t{down}");
        }
    }
    out
}
