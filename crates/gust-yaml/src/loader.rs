//! Loading DAG files and folders: every file is read on its own, so one bad file does
//! not stop the others, and each failure is reported with its place.

use std::path::{Path, PathBuf};

use gust_core::Dag;

use crate::document::{DagInfo, read_dag};
use crate::error::{LoadError, Problem};
use crate::node::{Pos, parse_documents};
use crate::registry::Registry;

/// A DAG loaded from a file.
#[derive(Debug)]
pub struct LoadedDag {
    /// The DAG.
    pub dag: Dag,
    /// The file it came from.
    pub file: PathBuf,
    /// Where its document starts.
    pub at: Pos,
    /// What the document says beyond the DAG.
    pub info: DagInfo,
}

/// What loading one file gave.
#[derive(Debug)]
pub struct FileLoad {
    /// The file.
    pub file: PathBuf,
    /// The DAGs it defines that loaded.
    pub dags: Vec<LoadedDag>,
    /// The problems found, at most one per document.
    pub errors: Vec<LoadError>,
}

/// Loads every DAG of a YAML text read from `file`.
pub fn load_str(text: &str, file: &Path, registry: &Registry) -> FileLoad {
    let mut load = FileLoad {
        file: file.to_owned(),
        dags: Vec::new(),
        errors: Vec::new(),
    };
    let documents = match parse_documents(text) {
        Ok(documents) => documents,
        Err(err) => {
            let problem = Problem::new(err.at, "", format!("not valid YAML: {}", err.message));
            load.errors.push(problem.in_file(file));
            return load;
        }
    };
    let base_dir = file.parent().unwrap_or(Path::new("."));
    for root in documents {
        if matches!(root.value, crate::node::Value::Null) {
            continue;
        }
        match read_dag(&root, base_dir, registry) {
            Ok((dag, info)) => load.dags.push(LoadedDag {
                dag,
                file: file.to_owned(),
                at: root.at,
                info,
            }),
            Err(problem) => load.errors.push(problem.in_file(file)),
        }
    }
    load
}

/// Loads every DAG of a file.
pub fn load_file(file: &Path, registry: &Registry) -> FileLoad {
    match std::fs::read_to_string(file) {
        Ok(text) => load_str(&text, file, registry),
        Err(err) => FileLoad {
            file: file.to_owned(),
            dags: Vec::new(),
            errors: vec![
                Problem::new(
                    Pos { line: 0, column: 0 },
                    "",
                    format!("cannot read the file: {err}"),
                )
                .in_file(file),
            ],
        },
    }
}

/// The YAML files at `paths`: files as given, folders searched for `*.yaml` and `*.yml`
/// (recursively, sorted). A path that does not exist is reported as a load failure.
pub fn yaml_files(paths: &[PathBuf]) -> Vec<PathBuf> {
    let mut files = Vec::new();
    for path in paths {
        if path.is_dir() {
            collect(path, &mut files);
        } else {
            files.push(path.clone());
        }
    }
    files
}

fn collect(dir: &Path, files: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    let mut paths: Vec<PathBuf> = entries.filter_map(|e| e.ok().map(|e| e.path())).collect();
    paths.sort();
    for path in paths {
        if path.is_dir() {
            collect(&path, files);
        } else if is_dag_file(&path) {
            files.push(path);
        }
    }
}

/// Whether a path looks like a DAG file: `.yaml` or `.yml`, and not a nodes or
/// connections file (which sit beside DAGs and have their own formats).
fn is_dag_file(path: &Path) -> bool {
    let yaml = matches!(
        path.extension().and_then(|e| e.to_str()),
        Some("yaml") | Some("yml")
    );
    let stem = path.file_stem().and_then(|s| s.to_str()).unwrap_or("");
    yaml && !stem.ends_with("nodes") && !stem.ends_with("connections")
}

/// Loads every DAG file at `paths`.
pub fn load_paths(paths: &[PathBuf], registry: &Registry) -> Vec<FileLoad> {
    yaml_files(paths)
        .iter()
        .map(|file| load_file(file, registry))
        .collect()
}
