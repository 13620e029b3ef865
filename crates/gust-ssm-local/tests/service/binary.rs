//! The `gust-ssm-local` binary: serves a nodes file on a port and says where.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;

use aws_sdk_ssm::types::CommandInvocationStatus;

use crate::support::*;

const BINARY: &str = env!("CARGO_BIN_EXE_gust-ssm-local");

/// The binary, killed when the test ends however it ends.
struct Served {
    child: Child,
}

impl Drop for Served {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Starts the binary and reads its log until it says which URL it serves. The log pipe is
/// closed soon after: the binary must carry on without it.
fn serve(args: &[&str]) -> (Served, String) {
    let mut child = Command::new(BINARY)
        .args(args)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the binary starts");
    let stderr = child.stderr.take().expect("stderr is piped");
    let served = Served { child };

    let (lines, received) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            if lines.send(line).is_err() {
                break;
            }
        }
    });
    let mut log = Vec::new();
    loop {
        match received.recv_timeout(DEADLINE) {
            Ok(line) => {
                if let Some(url) = line
                    .split_whitespace()
                    .find(|w| w.starts_with("http://127.0.0.1:"))
                {
                    return (served, url.trim_end_matches(',').to_owned());
                }
                log.push(line);
            }
            Err(_) => panic!("the binary never said where it serves; its log: {log:#?}"),
        }
    }
}

#[tokio::test]
async fn the_binary_serves_the_nodes_of_a_nodes_file() {
    let scratch = tempfile::tempdir().unwrap();
    let nodes_file = scratch.path().join("nodes.yaml");
    std::fs::write(
        &nodes_file,
        "nodes:\n  - id: mi-0000000000000000a\n    tags: {Role: web}\n    platform_name: Ubuntu\n  - id: mi-0000000000000000b\n",
    )
    .unwrap();
    let root = scratch.path().join("root");
    let (mut served, url) = serve(&[
        "--port",
        "0",
        "--nodes",
        nodes_file.to_str().unwrap(),
        "--root",
        root.to_str().unwrap(),
    ]);
    let client = client(&url);

    let described = client.describe_instance_information().send().await.unwrap();
    let nodes: Vec<_> = described
        .instance_information_list()
        .iter()
        .map(|i| {
            (
                i.instance_id().unwrap_or_default(),
                i.platform_name().unwrap_or_default(),
            )
        })
        .collect();
    assert_eq!(
        nodes,
        [
            ("mi-0000000000000000a", "Ubuntu"),
            ("mi-0000000000000000b", "Linux")
        ]
    );

    let id = send(
        &client,
        &["mi-0000000000000000b".into()],
        &["echo from the binary"],
    )
    .await;
    let answer = finished_invocation(&client, &id, "mi-0000000000000000b").await;
    assert_eq!(answer.status(), Some(&CommandInvocationStatus::Success));
    assert!(root.join("mi-0000000000000000b").join(&id).is_dir());

    nix_terminate(&served.child);
    let status = poll_until("the binary to stop on SIGTERM", || {
        let exited = served.child.try_wait();
        async move {
            match exited {
                Ok(Some(status)) => Ok(status),
                other => Err(format!("{other:?}")),
            }
        }
    })
    .await;
    assert!(status.success(), "{status:?}");
}

#[test]
fn a_bad_nodes_file_stops_the_binary_with_a_message() {
    let scratch = tempfile::tempdir().unwrap();
    let nodes_file = scratch.path().join("nodes.yaml");
    std::fs::write(&nodes_file, "nodes:\n  - id: a\n    colour: red\n").unwrap();

    let output = Command::new(BINARY)
        .args(["--nodes", nodes_file.to_str().unwrap()])
        .stdin(Stdio::null())
        .output()
        .expect("the binary runs");
    let log = String::from_utf8_lossy(&output.stderr);
    assert!(!output.status.success());
    assert!(
        log.contains("nodes.yaml") && log.contains("colour"),
        "{log}"
    );
}

fn nix_terminate(child: &Child) {
    let pid = nix::unistd::Pid::from_raw(i32::try_from(child.id()).unwrap());
    nix::sys::signal::kill(pid, nix::sys::signal::Signal::SIGTERM).unwrap();
}
