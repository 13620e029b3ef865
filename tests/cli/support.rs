//! Running the built `gust` binary.

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

pub(crate) fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// `gust` with `args`, from the repository root, with no AWS connection in the
/// environment.
pub(crate) fn gust(args: &[&str]) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_gust"));
    command
        .args(args)
        .current_dir(root())
        .env_remove("AIRFLOW_CONN_AWS_DEFAULT")
        .env_remove("GUST_CONN_AWS_DEFAULT")
        .env_remove("GUST_CONNECTIONS_FILE")
        .env_remove("GUST_DAGS_FOLDER")
        .env("RUST_LOG", "warn")
        .stdin(Stdio::null());
    command
}

pub(crate) struct Ran {
    pub(crate) code: i32,
    pub(crate) stdout: String,
    pub(crate) stderr: String,
}

impl Ran {
    pub(crate) fn all(&self) -> String {
        format!("{}\n{}", self.stdout, self.stderr)
    }
}

pub(crate) fn ran(output: Output) -> Ran {
    Ran {
        code: output.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
    }
}

pub(crate) fn run(args: &[&str]) -> Ran {
    ran(gust(args).output().expect("gust runs"))
}

/// Writes a DAG file into `dir`.
pub(crate) fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, text).unwrap();
    path
}
