//! `SsmHook`: the SSM calls gust makes, on a client built from an AWS connection.

use aws_sdk_ssm::operation::get_command_invocation::GetCommandInvocationOutput;
use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock, RwLock};

use tokio::sync::{Semaphore, SemaphorePermit};

use aws_sdk_ssm::Client;
use gust_aws::{AwsParams, ClientSettings, Connections, resolve, sdk_config};
use tracing::debug;

use crate::error::SsmError;
use crate::kwargs::RunCommandKwargs;
use crate::model::{CommandInfo, Invocation, InvocationStatus, Plugin};

/// The most invocations ListCommandInvocations returns in one page.
pub const PAGE_SIZE: i32 = 50;

/// The most SSM calls one client has in flight at once. Many deferred tasks polling
/// together queue here instead of opening a connection each: fewer connections, less
/// memory, and fewer throttled calls.
pub const MAX_IN_FLIGHT: usize = 32;

fn global() -> &'static RwLock<Option<Arc<Connections>>> {
    static CONNECTIONS: OnceLock<RwLock<Option<Arc<Connections>>>> = OnceLock::new();
    CONNECTIONS.get_or_init(|| RwLock::new(None))
}

/// Sets the connections SSM tasks use when none is given to them (the `gust` command
/// sets these at start, with the local service's endpoint for `--local-nodes`).
pub fn set_connections(connections: Connections) {
    *global().write().unwrap_or_else(|p| p.into_inner()) = Some(Arc::new(connections));
}

/// The connections set with [`set_connections`], or those of the environment.
pub fn connections() -> Result<Arc<Connections>, SsmError> {
    if let Some(set) = global().read().unwrap_or_else(|p| p.into_inner()).clone() {
        return Ok(set);
    }
    let from_env = Arc::new(Connections::from_env()?);
    *global().write().unwrap_or_else(|p| p.into_inner()) = Some(from_env.clone());
    Ok(from_env)
}

fn clients() -> &'static Mutex<HashMap<ClientSettings, SsmHook>> {
    static CLIENTS: OnceLock<Mutex<HashMap<ClientSettings, SsmHook>>> = OnceLock::new();
    CLIENTS.get_or_init(Default::default)
}

/// A sent command.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SentCommand {
    /// Its id.
    pub command_id: String,
    /// The instance ids it was sent to by `InstanceIds` (empty for `Targets`).
    pub instance_ids: Vec<String>,
}

/// Calls SSM for the gust SSM components.
#[derive(Debug, Clone)]
pub struct SsmHook {
    client: Client,
    in_flight: Arc<Semaphore>,
}

impl SsmHook {
    /// A hook on a client built elsewhere (a test's mocked client, say).
    pub fn from_client(client: Client) -> Self {
        SsmHook {
            client,
            in_flight: Arc::new(Semaphore::new(MAX_IN_FLIGHT)),
        }
    }

    /// Waits for a turn to call SSM; the turn ends when the permit is dropped.
    async fn turn(&self) -> SemaphorePermit<'_> {
        self.in_flight
            .acquire()
            .await
            .expect("the semaphore is never closed")
    }

    /// A hook for `params`, reading connections from `connections` (or the global
    /// ones). Clients are built once per distinct settings and shared.
    pub async fn connect(
        params: &AwsParams,
        connections: Option<&Arc<Connections>>,
    ) -> Result<Self, SsmError> {
        let connections = match connections {
            Some(given) => given.clone(),
            None => self::connections()?,
        };
        let settings = resolve(params, &connections)?;
        let cached = clients()
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .get(&settings)
            .cloned();
        if let Some(hook) = cached {
            return Ok(hook);
        }
        let sdk = sdk_config(&settings).await?;
        let mut config = aws_sdk_ssm::config::Builder::from(&sdk);
        if let Some(endpoint) = &settings.endpoint_url {
            config = config.endpoint_url(endpoint);
        }
        let hook = SsmHook::from_client(Client::from_conf(config.build()));
        let mut cache = clients().lock().unwrap_or_else(|p| p.into_inner());
        Ok(cache.entry(settings).or_insert(hook).clone())
    }

    /// Reads one invocation's details with GetCommandInvocation.
    pub async fn get_invocation(
        &self,
        command_id: &str,
        instance_id: &str,
        plugin_name: Option<&str>,
    ) -> Result<GetCommandInvocationOutput, SsmError> {
        let _turn = self.turn().await;
        self.client
            .get_command_invocation()
            .command_id(command_id)
            .instance_id(instance_id)
            .set_plugin_name(plugin_name.map(str::to_owned))
            .send()
            .await
            .map_err(|err| SsmError::from_sdk("GetCommandInvocation", err))
    }

    /// The SDK client.
    pub fn client(&self) -> &Client {
        &self.client
    }

    /// The region the client calls.
    pub fn region(&self) -> Option<String> {
        self.client.config().region().map(|r| r.to_string())
    }

    /// Sends `document_name` with `kwargs`, once: the SDK does not retry this call, since
    /// a request whose answer was lost may still have started the command. The caller
    /// decides what to do about an error ([`SsmError::is_throttling`] is safe to retry).
    pub async fn send_command(
        &self,
        document_name: &str,
        kwargs: &RunCommandKwargs,
    ) -> Result<SentCommand, SsmError> {
        kwargs.validate()?;
        let request = kwargs.apply(self.client.send_command().document_name(document_name))?;
        let _turn = self.turn().await;
        let once = aws_sdk_ssm::config::Builder::default()
            .retry_config(aws_sdk_ssm::config::retry::RetryConfig::disabled());
        let reply = request
            .customize()
            .config_override(once)
            .send()
            .await
            .map_err(|err| SsmError::from_sdk("SendCommand", err))?;
        let command = reply.command().ok_or_else(|| SsmError::Transport {
            operation: "SendCommand",
            detail: "the reply has no command".to_owned(),
        })?;
        let command_id = command.command_id().unwrap_or_default().to_owned();
        if command_id.is_empty() {
            return Err(SsmError::Transport {
                operation: "SendCommand",
                detail: "the reply has no command id".to_owned(),
            });
        }
        Ok(SentCommand {
            command_id,
            instance_ids: command.instance_ids().to_vec(),
        })
    }

    /// The command as ListCommands reports it.
    pub async fn describe_command(&self, command_id: &str) -> Result<CommandInfo, SsmError> {
        let turn = self.turn().await;
        let reply = self
            .client
            .list_commands()
            .command_id(command_id)
            .send()
            .await
            .map_err(|err| {
                let unknown = err
                    .as_service_error()
                    .is_some_and(|e| e.is_invalid_command_id());
                match SsmError::from_sdk("ListCommands", err) {
                    SsmError::Service { message, .. } if unknown => SsmError::NoSuchCommand {
                        command_id: command_id.to_owned(),
                        detail: format!("InvalidCommandId: {message}"),
                    },
                    other => other,
                }
            })?;
        drop(turn);
        let command = reply
            .commands()
            .iter()
            .find(|c| c.command_id() == Some(command_id))
            .ok_or_else(|| SsmError::NoSuchCommand {
                command_id: command_id.to_owned(),
                detail: "ListCommands does not list it".to_owned(),
            })?;
        Ok(CommandInfo {
            command_id: command_id.to_owned(),
            status: InvocationStatus::parse(command.status().map(|s| s.as_str()).unwrap_or("")),
            target_count: usize::try_from(command.target_count()).unwrap_or(0),
            instance_ids: command.instance_ids().to_vec(),
        })
    }

    /// The command sent since `since` whose `Comment` holds `tag`, if any: how a try that
    /// stopped right after sending finds its command again.
    pub async fn find_command_by_comment(
        &self,
        tag: &str,
        since: Option<chrono::DateTime<chrono::Utc>>,
    ) -> Result<Option<SentCommand>, SsmError> {
        let filter = since
            .map(|at| {
                aws_sdk_ssm::types::CommandFilter::builder()
                    .key(aws_sdk_ssm::types::CommandFilterKey::InvokedAfter)
                    .value(at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true))
                    .build()
            })
            .transpose()
            .map_err(|err| SsmError::Transport {
                operation: "ListCommands",
                detail: err.to_string(),
            })?;
        let mut next_token = None;
        loop {
            let request = self
                .client
                .list_commands()
                .max_results(PAGE_SIZE)
                .set_filters(filter.clone().map(|f| vec![f]));
            let turn = self.turn().await;
            let reply = request
                .set_next_token(next_token.take())
                .send()
                .await
                .map_err(|err| SsmError::from_sdk("ListCommands", err))?;
            drop(turn);
            let found = reply
                .commands()
                .iter()
                .find(|c| c.comment().is_some_and(|text| text.contains(tag)));
            if let Some(command) = found {
                return Ok(Some(SentCommand {
                    command_id: command.command_id().unwrap_or_default().to_owned(),
                    instance_ids: command.instance_ids().to_vec(),
                }));
            }
            match reply.next_token() {
                Some(token) if !token.is_empty() => next_token = Some(token.to_owned()),
                _ => return Ok(None),
            }
        }
    }

    /// Every invocation of a command (or of one instance), reading all pages of
    /// ListCommandInvocations with their steps: one call per page of 50.
    pub async fn list_invocations(
        &self,
        command_id: &str,
        instance_id: Option<&str>,
    ) -> Result<Vec<Invocation>, SsmError> {
        let mut invocations = Vec::new();
        let mut next_token: Option<String> = None;
        loop {
            let turn = self.turn().await;
            let reply = self
                .client
                .list_command_invocations()
                .command_id(command_id)
                .set_instance_id(instance_id.map(str::to_owned))
                .details(true)
                .max_results(PAGE_SIZE)
                .set_next_token(next_token.take())
                .send()
                .await
                .map_err(|err| SsmError::from_sdk("ListCommandInvocations", err))?;
            drop(turn);
            for item in reply.command_invocations() {
                invocations.push(Invocation {
                    instance_id: item.instance_id().unwrap_or_default().to_owned(),
                    status: InvocationStatus::parse(
                        item.status().map(|s| s.as_str()).unwrap_or(""),
                    ),
                    status_details: item.status_details().map(str::to_owned),
                    plugins: item
                        .command_plugins()
                        .iter()
                        .map(|p| Plugin {
                            name: p.name().unwrap_or_default().to_owned(),
                            status: p
                                .status()
                                .map(|s| s.as_str().to_owned())
                                .unwrap_or_default(),
                            response_code: p.response_code(),
                            output: p.output().unwrap_or_default().to_owned(),
                        })
                        .collect(),
                });
            }
            match reply.next_token() {
                Some(token) if !token.is_empty() => next_token = Some(token.to_owned()),
                _ => break,
            }
        }
        debug!(command_id, count = invocations.len(), "listed invocations");
        Ok(invocations)
    }

    /// Cancels a command on all its instances, or on some.
    pub async fn cancel_command(
        &self,
        command_id: &str,
        instance_ids: Option<Vec<String>>,
    ) -> Result<(), SsmError> {
        let _turn = self.turn().await;
        self.client
            .cancel_command()
            .command_id(command_id)
            .set_instance_ids(instance_ids)
            .send()
            .await
            .map_err(|err| SsmError::from_sdk("CancelCommand", err))?;
        Ok(())
    }
}
