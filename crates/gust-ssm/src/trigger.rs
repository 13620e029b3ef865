//! `SsmRunCommandTrigger`: waits for a command in the executor's triggerer.

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use gust_aws::{AwsParams, Connections};
use gust_core::trigger::{TriggerContext, TriggerError};
use gust_core::{Trigger, TriggerEvent, TriggerRegistry};
use serde_json::{Map, Value, json};
use tracing::Instrument;

use crate::hook::SsmHook;
use crate::tracker::{WaitError, WaitSpec, wait};

/// The name the trigger is registered under: Airflow's class path.
pub const TRIGGER_KIND: &str = "airflow.providers.amazon.aws.triggers.ssm.SsmRunCommandTrigger";

/// Waits for an SSM command to finish and yields one event:
/// `{"status": "success", "command_id": ID}`, or `{"status": "failed", "command_id": ID,
/// "instance_id": .., "command_status": .., "exit_code": .., "message": ..}` (with
/// `"timed_out": true` when the polls ran out while it still ran).
#[derive(Debug, Clone)]
pub struct SsmRunCommandTrigger {
    /// The command to wait for.
    pub command_id: String,
    /// Seconds between polls (default 120).
    pub waiter_delay: u64,
    /// The most polls (default 75).
    pub waiter_max_attempts: u32,
    /// Whether a non-zero exit is a failure (default true).
    pub fail_on_nonzero_exit: bool,
    /// The AWS parameters; built directly, the trigger uses no connection (`aws_conn_id`
    /// none, the standard chain).
    pub aws: AwsParams,
    pub(crate) connections: Option<Arc<Connections>>,
    pub(crate) hook: Option<SsmHook>,
}

impl PartialEq for SsmRunCommandTrigger {
    /// Triggers are equal when their serialized forms are.
    fn eq(&self, other: &Self) -> bool {
        self.args() == other.args()
    }
}

impl SsmRunCommandTrigger {
    /// A trigger for `command_id` with Airflow's defaults.
    pub fn new(command_id: impl Into<String>) -> Self {
        SsmRunCommandTrigger {
            command_id: command_id.into(),
            waiter_delay: 120,
            waiter_max_attempts: 75,
            fail_on_nonzero_exit: true,
            aws: AwsParams::default(),
            connections: None,
            hook: None,
        }
    }

    /// Sets the seconds between polls.
    pub fn waiter_delay(mut self, seconds: u64) -> Self {
        self.waiter_delay = seconds;
        self
    }

    /// Sets the most polls.
    pub fn waiter_max_attempts(mut self, attempts: u32) -> Self {
        self.waiter_max_attempts = attempts;
        self
    }

    /// Sets whether a non-zero exit is a failure.
    pub fn fail_on_nonzero_exit(mut self, fail: bool) -> Self {
        self.fail_on_nonzero_exit = fail;
        self
    }

    /// Sets the AWS parameters.
    pub fn aws(mut self, aws: AwsParams) -> Self {
        self.aws = aws;
        self
    }

    /// Reads connections from `connections` instead of the process-wide ones.
    pub fn with_connections(mut self, connections: Option<Arc<Connections>>) -> Self {
        self.connections = connections;
        self
    }

    /// Uses `hook` instead of connecting (tests).
    pub fn with_hook(mut self, hook: Option<SsmHook>) -> Self {
        self.hook = hook;
        self
    }

    /// Rebuilds a trigger from its serialized arguments.
    pub fn from_args(args: &Value) -> Result<Self, String> {
        let Value::Object(fields) = args else {
            return Err("the arguments must be a JSON object".to_owned());
        };
        let command_id = fields
            .get("command_id")
            .and_then(Value::as_str)
            .ok_or("command_id is missing or not a string")?
            .to_owned();
        let number = |key: &str, default: u64| -> Result<u64, String> {
            match fields.get(key) {
                None | Some(Value::Null) => Ok(default),
                Some(value) => value
                    .as_u64()
                    .ok_or(format!("{key} must be a whole number")),
            }
        };
        let fail_on_nonzero_exit = match fields.get("fail_on_nonzero_exit") {
            None | Some(Value::Null) => true,
            Some(value) => value
                .as_bool()
                .ok_or("fail_on_nonzero_exit must be a boolean")?,
        };
        Ok(SsmRunCommandTrigger {
            command_id,
            waiter_delay: number("waiter_delay", 120)?,
            waiter_max_attempts: u32::try_from(number("waiter_max_attempts", 75)?)
                .map_err(|_| "waiter_max_attempts is too large")?,
            fail_on_nonzero_exit,
            aws: AwsParams::from_json(fields).map_err(|err| err.to_string())?,
            connections: None,
            hook: None,
        })
    }

    /// Registers the trigger so that a stored one can be rebuilt.
    pub fn register(registry: &mut TriggerRegistry) {
        registry.register(TRIGGER_KIND, |args| {
            SsmRunCommandTrigger::from_args(args).map(|t| Box::new(t) as Box<dyn Trigger>)
        });
    }

    fn failed_event(&self, err: &WaitError) -> Value {
        match err {
            WaitError::Failed(failure) => json!({
                "status": "failed",
                "command_id": failure.command_id,
                "instance_id": failure.instance_id,
                "command_status": failure.status,
                "exit_code": failure.exit_code,
                "message": failure.message,
            }),
            WaitError::StillRunning { .. } => json!({
                "status": "failed",
                "command_id": self.command_id,
                "instance_id": null,
                "command_status": "InProgress",
                "exit_code": null,
                "message": err.to_string(),
                "timed_out": true,
            }),
            WaitError::Ssm(_) => json!({
                "status": "failed",
                "command_id": self.command_id,
                "instance_id": null,
                "command_status": null,
                "exit_code": null,
                "message": err.to_string(),
            }),
        }
    }
}

#[async_trait]
impl Trigger for SsmRunCommandTrigger {
    fn kind(&self) -> &'static str {
        TRIGGER_KIND
    }

    fn args(&self) -> Value {
        let mut fields = Map::new();
        fields.insert("command_id".into(), json!(self.command_id));
        fields.insert("waiter_delay".into(), json!(self.waiter_delay));
        fields.insert(
            "waiter_max_attempts".into(),
            json!(self.waiter_max_attempts),
        );
        fields.insert(
            "fail_on_nonzero_exit".into(),
            json!(self.fail_on_nonzero_exit),
        );
        fields.extend(self.aws.to_json());
        Value::Object(fields)
    }

    async fn run(&self, ctx: TriggerContext) -> Result<TriggerEvent, TriggerError> {
        let span = ctx.span.clone();
        async {
            let hook = match &self.hook {
                Some(hook) => hook.clone(),
                None => SsmHook::connect(&self.aws, self.connections.as_ref())
                    .await
                    .map_err(|err| TriggerError(err.to_string()))?,
            };
            let spec = WaitSpec {
                delay: Duration::from_secs(self.waiter_delay),
                max_attempts: self.waiter_max_attempts,
                fail_on_nonzero_exit: self.fail_on_nonzero_exit,
                expected_instances: 0,
            };
            let payload = match wait(&hook, &self.command_id, &spec, &ctx.clock).await {
                Ok(_) => json!({"status": "success", "command_id": self.command_id}),
                Err(err) => self.failed_event(&err),
            };
            Ok(TriggerEvent::new(payload))
        }
        .instrument(span)
        .await
    }
}

/// What a trigger event says, for the operators that resume with it.
pub(crate) enum EventOutcome {
    Success(String),
    Failed { message: String, timed_out: bool },
}

pub(crate) fn read_event(event: &TriggerEvent) -> EventOutcome {
    let payload = &event.payload;
    let command_id = payload["command_id"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    if payload["status"] == "success" {
        return EventOutcome::Success(command_id);
    }
    let message = match payload["message"].as_str() {
        Some(message) => message.to_owned(),
        None => format!("command {command_id} failed: {payload}"),
    };
    EventOutcome::Failed {
        message,
        timed_out: payload["timed_out"] == true,
    }
}
