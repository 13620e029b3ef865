//! Finding DAGs: by file, or by dag_id in the DAGs folder.

use std::path::Path;

use gust::registry::operators;
use gust::yaml::{FileLoad, LoadedDag, load_file, load_paths};

use super::{Failure, usage};

/// The DAG `target` names: a DAG file (with one DAG), or a dag_id in `dags_folder`.
pub(crate) fn find_dag(target: &str, dags_folder: &Path) -> Result<LoadedDag, Failure> {
    let registry = operators();
    let path = Path::new(target);
    if path.is_file() {
        let mut load = load_file(path, &registry);
        report_errors(std::slice::from_ref(&load));
        if !load.errors.is_empty() {
            return Err(usage(format!("{} does not load", path.display())));
        }
        return match load.dags.len() {
            1 => Ok(load.dags.remove(0)),
            0 => Err(usage(format!("{} defines no DAG", path.display()))),
            _ => {
                let ids: Vec<&str> = load.dags.iter().map(|d| &**d.dag.dag_id()).collect();
                Err(usage(format!(
                    "{} defines several DAGs ({}); name one by its dag_id with --dags-folder {}",
                    path.display(),
                    ids.join(", "),
                    path.parent().unwrap_or(Path::new(".")).display()
                )))
            }
        };
    }
    if target.ends_with(".yaml") || target.ends_with(".yml") {
        return Err(usage(format!("{target}: no such file")));
    }
    if !dags_folder.is_dir() {
        return Err(usage(format!(
            "'{target}' is not a file, and the DAGs folder {} does not exist (set --dags-folder)",
            dags_folder.display()
        )));
    }
    let loads = load_paths(&[dags_folder.to_owned()], &registry);
    let mut found = None;
    let mut known = Vec::new();
    for load in loads.iter().flat_map(|l| &l.dags) {
        known.push(load.dag.dag_id().to_string());
    }
    let errors: Vec<String> = loads
        .iter()
        .flat_map(|l| &l.errors)
        .map(|e| e.to_string())
        .collect();
    for load in loads {
        for dag in load.dags {
            if &**dag.dag.dag_id() == target {
                found = Some(dag);
            }
        }
    }
    match found {
        Some(dag) => Ok(dag),
        None => {
            for err in &errors {
                eprintln!("{err}");
            }
            let hint = gust::yaml::did_you_mean(target, known.iter().map(String::as_str));
            Err(usage(format!(
                "no DAG '{target}' in {}{hint}; known DAGs: {}",
                dags_folder.display(),
                if known.is_empty() {
                    "none".to_owned()
                } else {
                    known.join(", ")
                }
            )))
        }
    }
}

/// Prints every load error, one a line, on standard error.
pub(crate) fn report_errors(loads: &[FileLoad]) {
    for load in loads {
        for err in &load.errors {
            eprintln!("{err}");
        }
    }
}
