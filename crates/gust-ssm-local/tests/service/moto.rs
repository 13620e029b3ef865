//! A cross-check against moto, a third-party AWS emulator: the calls moto implements
//! (SendCommand, ListCommands, GetCommandInvocation) and the errors it gives
//! (InvalidCommandId, InvocationDoesNotExist) must come back alike from both services, for the
//! same requests from the same SDK. Where moto is known not to be faithful, the test says so
//! instead of asserting.
//!
//! moto is installed from PyPI into a virtualenv under the target directory, once; parallel
//! test processes take turns through a file lock. Without python3, venv or pip the test fails
//! and says why.

use std::fs::File;
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

use aws_sdk_ssm::Client;
use aws_sdk_ssm::error::ProvideErrorMetadata;
use aws_sdk_ssm::operation::send_command::SendCommandOutput;
use aws_sdk_ssm::types::{CommandInvocationStatus, CommandStatus};

use crate::support::*;

const MOTO: &str = "moto[server]>=5.1,<6";

/// A `moto_server` process, stopped when dropped.
struct Moto {
    child: Child,
    url: String,
    log: PathBuf,
    _scratch: tempfile::TempDir,
}

impl Drop for Moto {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The virtualenv with moto in it, made on first use.
fn moto_virtualenv() -> PathBuf {
    let target = Path::new(env!("CARGO_TARGET_TMPDIR"));
    let venv = target.join("moto-venv");
    let lock = File::create(target.join("moto-venv.lock")).expect("the lock file can be created");
    lock.lock().expect("the lock can be taken");

    let ready = venv.join("gust-ready");
    if std::fs::read_to_string(&ready).is_ok_and(|spec| spec == MOTO) {
        return venv;
    }
    run(
        Command::new("python3")
            .args(["-m", "venv", "--clear"])
            .arg(&venv),
        "create a virtualenv with `python3 -m venv` (python3 and its venv module are needed)",
    );
    run(
        Command::new(venv.join("bin/python")).args([
            "-m",
            "pip",
            "install",
            "--quiet",
            "--disable-pip-version-check",
            MOTO,
        ]),
        "install moto from PyPI with pip (PyPI must be reachable)",
    );
    std::fs::write(&ready, MOTO).expect("the marker can be written");
    venv
}

fn run(command: &mut Command, what: &str) {
    let output = command.stdin(Stdio::null()).output();
    match output {
        Ok(output) if output.status.success() => {}
        Ok(output) => panic!(
            "the moto cross-check could not {what}: {}\n{}",
            output.status,
            String::from_utf8_lossy(&output.stderr)
        ),
        Err(err) => panic!("the moto cross-check could not {what}: {err}"),
    }
}

fn start_moto() -> Moto {
    let venv = moto_virtualenv();
    let port = TcpListener::bind("127.0.0.1:0")
        .and_then(|listener| listener.local_addr())
        .expect("a free port")
        .port();
    let scratch = tempfile::tempdir().unwrap();
    let log = scratch.path().join("moto.log");
    let child = Command::new(venv.join("bin/moto_server"))
        .args(["-H", "127.0.0.1", "-p", &port.to_string()])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(File::create(&log).unwrap())
        .spawn()
        .expect("moto_server starts");
    Moto {
        child,
        url: format!("http://127.0.0.1:{port}"),
        log,
        _scratch: scratch,
    }
}

async fn moto_ready(moto: &mut Moto, client: &Client) {
    poll_until("moto to answer", || {
        let exited = moto.child.try_wait().ok().flatten();
        let log = moto.log.clone();
        async move {
            if let Some(status) = exited {
                let log = std::fs::read_to_string(log).unwrap_or_default();
                panic!("moto_server exited ({status}) before answering:\n{log}");
            }
            client
                .list_commands()
                .send()
                .await
                .map(|_| ())
                .map_err(|err| format!("{err:?}"))
        }
    })
    .await;
}

async fn send_same(client: &Client, node: &str) -> SendCommandOutput {
    client
        .send_command()
        .document_name("AWS-RunShellScript")
        .instance_ids(node)
        .comment("cross-check")
        .timeout_seconds(600)
        .parameters("commands", vec!["echo hi".into()])
        .send()
        .await
        .expect("SendCommand succeeds")
}

#[tokio::test]
async fn moto_and_the_local_service_answer_alike() {
    let mut moto = tokio::task::spawn_blocking(start_moto)
        .await
        .expect("moto setup");
    let moto_client = client(&moto.url);
    moto_ready(&mut moto, &moto_client).await;
    let local = Local::start(nodes(2)).await;
    let (node, other_node) = (local.node(0), local.node(1));

    // SendCommand: the same request is read alike and echoed alike.
    let ours = send_same(&local.client, &node).await;
    let theirs = send_same(&moto_client, &node).await;
    let (ours, theirs) = (ours.command().unwrap(), theirs.command().unwrap());
    assert_eq!(ours.command_id().map(str::len), Some(36));
    assert_eq!(theirs.command_id().map(str::len), Some(36));
    assert_eq!(ours.document_name(), theirs.document_name());
    assert_eq!(ours.comment(), theirs.comment());
    assert_eq!(ours.instance_ids(), theirs.instance_ids());
    assert_eq!(ours.parameters(), theirs.parameters());
    assert_eq!(ours.timeout_seconds(), theirs.timeout_seconds());
    assert_eq!(
        ours.max_concurrency(),
        theirs.max_concurrency(),
        "default MaxConcurrency"
    );
    assert_eq!(ours.max_errors(), theirs.max_errors(), "default MaxErrors");
    assert_eq!(ours.target_count(), theirs.target_count());
    let lifetime = |c: &aws_sdk_ssm::types::Command| {
        c.expires_after().unwrap().as_secs_f64() - c.requested_date_time().unwrap().as_secs_f64()
    };
    assert!(
        (lifetime(ours) - lifetime(theirs)).abs() < 1.0,
        "ExpiresAfter = sent + TimeoutSeconds"
    );
    // moto is not faithful here: it answers Success (and CompletedCount 1) at once, running
    // nothing; SSM and the local service answer Pending.
    assert_eq!(ours.status(), Some(&CommandStatus::Pending));
    eprintln!(
        "not compared (moto runs nothing): command status right after the send: \
         local {:?}, moto {:?}",
        ours.status(),
        theirs.status()
    );

    // ListCommands by id.
    let our_id = ours.command_id().unwrap();
    let their_id = theirs.command_id().unwrap();
    let our_list = local
        .client
        .list_commands()
        .command_id(our_id)
        .send()
        .await
        .unwrap();
    let their_list = moto_client
        .list_commands()
        .command_id(their_id)
        .send()
        .await
        .unwrap();
    assert_eq!(our_list.commands().len(), 1);
    assert_eq!(their_list.commands().len(), 1);
    assert_eq!(our_list.commands()[0].command_id(), Some(our_id));
    assert_eq!(their_list.commands()[0].command_id(), Some(their_id));

    // GetCommandInvocation, once the local script has ended.
    let our_invocation = finished_invocation(&local.client, our_id, &node).await;
    let their_invocation = moto_client
        .get_command_invocation()
        .command_id(their_id)
        .instance_id(&node)
        .send()
        .await
        .unwrap();
    assert_eq!(
        our_invocation.status(),
        Some(&CommandInvocationStatus::Success)
    );
    assert_eq!(our_invocation.status(), their_invocation.status());
    assert_eq!(
        our_invocation.status_details(),
        their_invocation.status_details()
    );
    assert_eq!(
        our_invocation.response_code(),
        their_invocation.response_code()
    );
    assert_eq!(our_invocation.plugin_name(), their_invocation.plugin_name());
    assert_eq!(
        our_invocation.document_name(),
        their_invocation.document_name()
    );
    assert_eq!(our_invocation.instance_id(), their_invocation.instance_id());
    // moto runs nothing, so its output is empty where the script's is "hi"; and its times
    // are invented ISO strings without a zone, where SSM and the local service write UTC.
    assert_eq!(our_invocation.standard_output_content(), Some("hi\n"));
    eprintln!(
        "not compared (moto runs nothing): standard output: local {:?}, moto {:?}",
        our_invocation.standard_output_content(),
        their_invocation.standard_output_content()
    );

    // InvalidCommandId, from GetCommandInvocation and ListCommands.
    let unknown = "11111111-2222-3333-4444-555555555555";
    for client in [&local.client, &moto_client] {
        let get = client
            .get_command_invocation()
            .command_id(unknown)
            .instance_id(&node)
            .send()
            .await;
        assert_eq!(get.unwrap_err().code(), Some("InvalidCommandId"));
        let list = client.list_commands().command_id(unknown).send().await;
        assert_eq!(list.unwrap_err().code(), Some("InvalidCommandId"));
    }

    // InvocationDoesNotExist: a node the command was not sent to.
    for (client, id) in [(&local.client, our_id), (&moto_client, their_id)] {
        let get = client
            .get_command_invocation()
            .command_id(id)
            .instance_id(&other_node)
            .send()
            .await;
        assert!(
            get.unwrap_err()
                .into_service_error()
                .is_invocation_does_not_exist()
        );
    }

    // Not compared, because moto differs from SSM: it has no ListCommandInvocations,
    // CancelCommand or DescribeInstanceInformation (HTTP 500), checks none of SendCommand's
    // validation rules, gives TargetCount 0 for Targets, and answers a wrong PluginName with
    // InvocationDoesNotExist instead of InvalidPluginName.
}
