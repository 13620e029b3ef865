//! What every test needs: a service with an SDK client pointed at it, and polling with a
//! deadline instead of sleeping.

use std::future::Future;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use aws_sdk_ssm::Client;
use aws_sdk_ssm::config::retry::RetryConfig;
use aws_sdk_ssm::config::{BehaviorVersion, Credentials, Region};
use aws_sdk_ssm::operation::get_command_invocation::GetCommandInvocationOutput;
use aws_sdk_ssm::types::{Command, CommandInvocation, CommandInvocationStatus};
use gust_ssm_local::{NodeConfig, ServiceConfig, SsmLocal};

/// How long any wait may take before the test fails; generous, since CI machines are slow.
pub(crate) const DEADLINE: Duration = Duration::from_secs(30);

const POLL_INTERVAL: Duration = Duration::from_millis(25);

/// A running service and a client that talks to it.
pub(crate) struct Local {
    pub(crate) service: SsmLocal,
    pub(crate) client: Client,
}

impl Local {
    pub(crate) async fn start(nodes: Vec<NodeConfig>) -> Local {
        Local::start_with(ServiceConfig::default().with_nodes(nodes)).await
    }

    pub(crate) async fn start_with(config: ServiceConfig) -> Local {
        let service = SsmLocal::start(config).await.expect("the service starts");
        let client = client(service.url());
        Local { service, client }
    }

    /// The id of the `n`th node (from 0).
    pub(crate) fn node(&self, n: usize) -> String {
        self.service.nodes()[n].id.clone()
    }

    /// The working-directory root of the `n`th node.
    pub(crate) fn root(&self, n: usize) -> PathBuf {
        self.service.nodes()[n]
            .root
            .clone()
            .expect("roots are filled in")
    }
}

/// Nodes `mi-00000000000000001` onwards.
pub(crate) fn nodes(count: u64) -> Vec<NodeConfig> {
    (1..=count).map(NodeConfig::numbered).collect()
}

/// A client with the SDK's standard retry strategy.
pub(crate) fn client(url: &str) -> Client {
    client_with(url, RetryConfig::standard())
}

/// A client that never retries, to see every error as the service sent it.
pub(crate) fn client_without_retries(url: &str) -> Client {
    client_with(url, RetryConfig::disabled())
}

/// A client with standard retries that back off for milliseconds, not seconds.
pub(crate) fn client_with_quick_retries(url: &str) -> Client {
    client_with(
        url,
        RetryConfig::standard().with_initial_backoff(Duration::from_millis(5)),
    )
}

fn client_with(url: &str, retry: RetryConfig) -> Client {
    let config = aws_sdk_ssm::Config::builder()
        .behavior_version(BehaviorVersion::latest())
        .endpoint_url(url)
        .region(Region::new("eu-west-1"))
        .credentials_provider(Credentials::new(
            "AKIDLOCAL",
            "not-checked",
            None,
            None,
            "tests",
        ))
        .retry_config(retry)
        .build();
    Client::from_conf(config)
}

/// Calls `probe` until it gives `Ok`, or fails the test at the deadline with the last thing
/// `probe` saw.
pub(crate) async fn poll_until<T, F, Fut>(what: &str, mut probe: F) -> T
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<T, String>>,
{
    let deadline = Instant::now() + DEADLINE;
    loop {
        match probe().await {
            Ok(value) => return value,
            Err(seen) if Instant::now() >= deadline => {
                panic!("gave up waiting for {what} after {DEADLINE:?}; last saw: {seen}")
            }
            Err(_) => tokio::time::sleep(POLL_INTERVAL).await,
        }
    }
}

/// Sends AWS-RunShellScript to `nodes` and gives the command id.
pub(crate) async fn send(client: &Client, nodes: &[String], commands: &[&str]) -> String {
    send_with(client, nodes, commands, &[]).await
}

/// Like [`send`], with more parameters, e.g. `("executionTimeout", "1")`.
pub(crate) async fn send_with(
    client: &Client,
    nodes: &[String],
    commands: &[&str],
    parameters: &[(&str, &str)],
) -> String {
    let mut request = client
        .send_command()
        .document_name("AWS-RunShellScript")
        .set_instance_ids(Some(nodes.to_vec()))
        .parameters("commands", commands.iter().map(|c| c.to_string()).collect());
    for (name, value) in parameters {
        request = request.parameters(*name, vec![value.to_string()]);
    }
    let sent = request.send().await.expect("SendCommand succeeds");
    command_id(sent.command())
}

pub(crate) fn command_id(command: Option<&Command>) -> String {
    command
        .and_then(Command::command_id)
        .expect("the command has an id")
        .to_owned()
}

pub(crate) fn is_terminal(status: Option<&CommandInvocationStatus>) -> bool {
    matches!(
        status,
        Some(
            CommandInvocationStatus::Success
                | CommandInvocationStatus::Failed
                | CommandInvocationStatus::TimedOut
                | CommandInvocationStatus::Cancelled
        )
    )
}

/// Every invocation of a command, through all pages, with plugin details.
pub(crate) async fn all_invocations(client: &Client, command_id: &str) -> Vec<CommandInvocation> {
    let mut found = Vec::new();
    let mut token = None;
    loop {
        let page = client
            .list_command_invocations()
            .command_id(command_id)
            .details(true)
            .set_next_token(token)
            .send()
            .await
            .expect("ListCommandInvocations succeeds");
        found.extend(page.command_invocations().iter().cloned());
        token = page.next_token().map(str::to_owned);
        if token.is_none() {
            return found;
        }
    }
}

/// Waits until the command has `expected` invocations, all ended, and gives them.
pub(crate) async fn finished_invocations(
    client: &Client,
    command_id: &str,
    expected: usize,
) -> Vec<CommandInvocation> {
    poll_until("all invocations to end", || async {
        let invocations = all_invocations(client, command_id).await;
        let ended = invocations.iter().all(|inv| is_terminal(inv.status()));
        if invocations.len() == expected && ended {
            Ok(invocations)
        } else {
            Err(format!("{:?}", statuses(&invocations)))
        }
    })
    .await
}

pub(crate) fn statuses(invocations: &[CommandInvocation]) -> Vec<(String, String)> {
    invocations
        .iter()
        .map(|inv| {
            let node = inv.instance_id().unwrap_or_default().to_owned();
            let status = inv.status_details().unwrap_or_default().to_owned();
            (node, status)
        })
        .collect()
}

/// Waits until the invocation on `node` has ended, and gives GetCommandInvocation's answer.
pub(crate) async fn finished_invocation(
    client: &Client,
    command_id: &str,
    node: &str,
) -> GetCommandInvocationOutput {
    poll_until("the invocation to end", || async {
        let answer = client
            .get_command_invocation()
            .command_id(command_id)
            .instance_id(node)
            .send()
            .await
            .map_err(|err| format!("{err:?}"))?;
        if is_terminal(answer.status()) {
            Ok(answer)
        } else {
            Err(format!("{:?}", answer.status_details()))
        }
    })
    .await
}

/// Reads a pid a script wrote, once the file is complete.
pub(crate) async fn pid_from(path: &Path) -> i32 {
    poll_until("the script to write its pid", || async {
        let text = std::fs::read_to_string(path).map_err(|err| err.to_string())?;
        text.trim().parse().map_err(|_| format!("{text:?}"))
    })
    .await
}

/// Whether a process is gone: no such process, or a zombie that nobody has reaped yet.
pub(crate) fn process_is_gone(pid: i32) -> bool {
    match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
        Err(_) => true,
        Ok(stat) => stat
            .rsplit_once(')')
            .is_some_and(|(_, rest)| rest.trim_start().starts_with(['Z', 'X'])),
    }
}

pub(crate) async fn wait_until_gone(pid: i32) {
    poll_until(&format!("process {pid} to be gone"), || async {
        if process_is_gone(pid) {
            Ok(())
        } else {
            Err(format!("process {pid} still runs"))
        }
    })
    .await
}
