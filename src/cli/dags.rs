//! `gust dags ...`.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use gust::registry::operators;
use gust::yaml::load_paths;
use serde_json::json;

use super::loading::{find_dag, report_errors};
use super::out::{say, say_raw};
use super::render::{Format, render};
use super::run::{Record, RunRequest, run};
use super::{Failure, Outcome, RunArgs, usage};

pub(crate) fn list(dags_folder: &Path, json: bool) -> Outcome {
    if !dags_folder.is_dir() {
        return Err(usage(format!(
            "the DAGs folder {} does not exist (set --dags-folder)",
            dags_folder.display()
        )));
    }
    let loads = load_paths(&[dags_folder.to_owned()], &operators());
    let dags: Vec<_> = loads.iter().flat_map(|load| &load.dags).collect();
    if json {
        let listed: Vec<_> = dags
            .iter()
            .map(|d| {
                json!({
                    "dag_id": &**d.dag.dag_id(),
                    "file": d.file.display().to_string(),
                    "tasks": d.dag.len(),
                    "schedule": d.info.schedule,
                    "tags": d.dag.settings().tags,
                    "description": d.dag.settings().description,
                })
            })
            .collect();
        let errors: Vec<String> = loads
            .iter()
            .flat_map(|l| &l.errors)
            .map(|e| e.to_string())
            .collect();
        say!("{}", json!({"dags": listed, "errors": errors}));
    } else {
        let width = dags
            .iter()
            .map(|d| d.dag.dag_id().len())
            .max()
            .unwrap_or(6)
            .max(6);
        say!(
            "{:<width$}  {:>5}  {:<12}  file",
            "dag_id",
            "tasks",
            "schedule"
        );
        for d in &dags {
            say!(
                "{:<width$}  {:>5}  {:<12}  {}",
                d.dag.dag_id(),
                d.dag.len(),
                d.info.schedule.as_deref().unwrap_or("-"),
                d.file.display()
            );
        }
        report_errors(&loads);
    }
    let failed = loads.iter().any(|l| !l.errors.is_empty());
    if failed { Err(Failure::Failed) } else { Ok(()) }
}

pub(crate) fn show(dag: &str, dags_folder: &Path, format: Format) -> Outcome {
    let loaded = find_dag(dag, dags_folder)?;
    say_raw!("{}", render(&loaded, format));
    Ok(())
}

pub(crate) fn validate(paths: &[PathBuf], json: bool) -> Outcome {
    for path in paths {
        if !path.exists() {
            return Err(usage(format!("{}: no such file or folder", path.display())));
        }
    }
    let loads = load_paths(paths, &operators());
    let dags: usize = loads.iter().map(|l| l.dags.len()).sum();
    let errors: Vec<_> = loads.iter().flat_map(|l| &l.errors).collect();
    if json {
        let files: Vec<_> = loads
            .iter()
            .map(|l| {
                json!({
                    "file": l.file.display().to_string(),
                    "dags": l.dags.iter().map(|d| d.dag.dag_id().to_string()).collect::<Vec<_>>(),
                    "errors": l.errors.iter().map(|e| json!({
                        "line": e.at.line, "column": e.at.column, "path": e.path,
                        "message": e.message, "error": e.to_string(),
                    })).collect::<Vec<_>>(),
                })
            })
            .collect();
        say!("{}", json!({"valid": errors.is_empty(), "files": files}));
    } else {
        for err in &errors {
            say!("{err}");
        }
        let broken = loads.iter().filter(|l| !l.errors.is_empty()).count();
        if errors.is_empty() {
            say!("{dags} DAG(s) in {} file(s): valid", loads.len());
        } else {
            say!(
                "{} error(s) in {broken} of {} file(s); {dags} DAG(s) loaded",
                errors.len(),
                loads.len()
            );
        }
    }
    if errors.is_empty() {
        Ok(())
    } else {
        Err(Failure::Failed)
    }
}

pub(crate) fn schema() -> Outcome {
    let schema = gust::yaml::schema(&operators());
    say!(
        "{}",
        serde_json::to_string_pretty(&schema).unwrap_or_default()
    );
    Ok(())
}

pub(crate) async fn test(dag: &str, dags_folder: &Path, args: &RunArgs) -> Outcome {
    let loaded = find_dag(dag, dags_folder)?;
    let request = RunRequest {
        dag: Arc::new(loaded.dag),
        xcom: Vec::new(),
        record: Record::New(loaded.file),
    };
    run(request, args).await
}
