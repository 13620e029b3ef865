//! Running the built `gust` binary.

use std::io::{BufRead, BufReader, Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};

pub(crate) fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// A gust home folder of its own for one command, kept under the target folder.
pub(crate) fn new_home() -> PathBuf {
    tempfile::Builder::new()
        .prefix("gust-home-")
        .tempdir_in(env!("CARGO_TARGET_TMPDIR"))
        .expect("a home folder can be made")
        .keep()
}

/// `gust` with `args`, from the repository root, with no AWS connection in the
/// environment and a gust home of its own (a test that needs a shared one sets
/// `GUST_HOME` again).
pub(crate) fn gust(args: &[&str]) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_gust"));
    command
        .args(args)
        .current_dir(root())
        .env("GUST_HOME", new_home())
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

/// `gust ssm-local serve` in the background, and its URL.
pub(crate) struct Served {
    child: Child,
    pub(crate) url: String,
}

impl Drop for Served {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

pub(crate) fn serve() -> Served {
    let mut child = gust(&["ssm-local", "serve", "--port", "0"])
        .stdout(Stdio::piped())
        .spawn()
        .expect("gust ssm-local serve starts");
    let mut lines = BufReader::new(child.stdout.take().unwrap());
    let mut first = String::new();
    lines.read_line(&mut first).unwrap();
    // Keep reading: the service ends itself when its standard output is closed.
    std::thread::spawn(move || std::io::copy(&mut lines, &mut std::io::sink()));
    let url = first
        .trim()
        .strip_prefix("local SSM service listening on ")
        .unwrap_or_else(|| panic!("unexpected first line {first:?}"))
        .to_owned();
    Served { child, url }
}

impl Served {
    /// An `aws` connection URI pointing at the service.
    pub(crate) fn connection(&self) -> String {
        format!(
            "aws://gust:gust@/?region_name=us-east-1&endpoint_url={}",
            self.url
        )
    }

    /// How many times the service has answered `operation`, read from `GET /counters`.
    pub(crate) fn calls(&self, operation: &str) -> u64 {
        let address = self.url.trim_start_matches("http://").trim_end_matches('/');
        let mut stream = std::net::TcpStream::connect(address).expect("the service answers");
        write!(
            stream,
            "GET /counters HTTP/1.1\r\nHost: {address}\r\nConnection: close\r\n\r\n"
        )
        .unwrap();
        let mut response = String::new();
        stream.read_to_string(&mut response).unwrap();
        let body = response.split("\r\n\r\n").nth(1).unwrap_or_default();
        let counters: serde_json::Value =
            serde_json::from_str(body).unwrap_or_else(|err| panic!("bad counters {body:?}: {err}"));
        counters["calls"][operation].as_u64().unwrap_or(0)
    }
}
