//! `SsmRunCommandOperator`: sends a command to managed nodes and, unless told not to,
//! waits for it.

use std::time::Duration;

use async_trait::async_trait;
use gust_core::{Arg, Deferral, Operator, Outcome, TaskContext, TaskError, TriggerEvent, XComRef};
use serde_json::Value;
use tracing::{info, warn};

use crate::aws_args::{AwsArgs, default_deferrable};
use crate::hook::SsmHook;
use crate::kwargs::RunCommandKwargs;
use crate::send_once::{SENT_COMMAND_KEY, send_once};
use crate::tracker::{WaitError, WaitSpec, wait};
use crate::trigger::{EventOutcome, SsmRunCommandTrigger, read_event};

/// Sends an SSM command (Airflow's `SsmRunCommandOperator`) and returns its command id,
/// which becomes the task's XCom `return_value` in every mode.
///
/// With `wait_for_completion` (the default) it polls every `waiter_delay` (120 s) up to
/// `waiter_max_attempts` (75) times until every invocation finished. With `deferrable`
/// it hands that wait to [`SsmRunCommandTrigger`] instead (deferral wins over
/// `wait_for_completion: false`). A non-zero exit fails the task unless
/// `fail_on_nonzero_exit` is false; AWS-level failures (timed out, cancelled) always do.
/// When the task is stopped while the command runs, the command is cancelled unless
/// `cancel_on_kill` is false.
///
/// ```
/// use gust_ssm::SsmRunCommandOperator;
/// use serde_json::json;
///
/// let op = SsmRunCommandOperator::new("AWS-RunShellScript")
///     .run_command_kwargs(json!({
///         "Targets": [{"Key": "tag:Role", "Values": ["web"]}],
///         "Parameters": {"commands": ["uptime"]},
///     }))
///     .unwrap()
///     .wait_for_completion(false);
/// # let _ = op;
/// ```
#[derive(Debug, Clone)]
pub struct SsmRunCommandOperator {
    document_name: Arg<String>,
    run_command_kwargs: Arg<RunCommandKwargs>,
    wait_for_completion: bool,
    waiter_delay: Duration,
    waiter_max_attempts: u32,
    fail_on_nonzero_exit: bool,
    deferrable: bool,
    cancel_on_kill: bool,
    aws: AwsArgs,
    hook: Option<SsmHook>,
}

impl SsmRunCommandOperator {
    /// Sends `document_name`, with Airflow's defaults for everything else.
    pub fn new(document_name: impl Into<Arg<String>>) -> Self {
        SsmRunCommandOperator {
            document_name: document_name.into(),
            run_command_kwargs: Arg::Value(RunCommandKwargs::default()),
            wait_for_completion: true,
            waiter_delay: Duration::from_secs(120),
            waiter_max_attempts: 75,
            fail_on_nonzero_exit: true,
            deferrable: default_deferrable(),
            cancel_on_kill: true,
            aws: AwsArgs::default(),
            hook: None,
        }
    }

    /// Sets `run_command_kwargs` from JSON in the API's names; a wrong name or type is an
    /// error now.
    pub fn run_command_kwargs(mut self, kwargs: Value) -> Result<Self, serde_json::Error> {
        self.run_command_kwargs = Arg::Value(serde_json::from_value(kwargs)?);
        Ok(self)
    }

    /// Sets `run_command_kwargs` from a parameter that may hold templates or references.
    pub fn run_command_kwargs_arg(mut self, kwargs: Arg<RunCommandKwargs>) -> Self {
        self.run_command_kwargs = kwargs;
        self
    }

    /// Sets `wait_for_completion`.
    pub fn wait_for_completion(mut self, wait: bool) -> Self {
        self.wait_for_completion = wait;
        self
    }

    /// Sets `waiter_delay`.
    pub fn waiter_delay(mut self, delay: Duration) -> Self {
        self.waiter_delay = delay;
        self
    }

    /// Sets `waiter_max_attempts`.
    pub fn waiter_max_attempts(mut self, attempts: u32) -> Self {
        self.waiter_max_attempts = attempts;
        self
    }

    /// Sets `fail_on_nonzero_exit`.
    pub fn fail_on_nonzero_exit(mut self, fail: bool) -> Self {
        self.fail_on_nonzero_exit = fail;
        self
    }

    /// Sets `deferrable`.
    pub fn deferrable(mut self, deferrable: bool) -> Self {
        self.deferrable = deferrable;
        self
    }

    /// Sets `cancel_on_kill`: whether stopping the task cancels its command (default true).
    pub fn cancel_on_kill(mut self, cancel: bool) -> Self {
        self.cancel_on_kill = cancel;
        self
    }

    /// Sets the AWS parameters.
    pub fn aws(mut self, aws: AwsArgs) -> Self {
        self.aws = aws;
        self
    }

    /// Uses `hook` instead of connecting (tests).
    pub fn with_hook(mut self, hook: SsmHook) -> Self {
        self.hook = Some(hook);
        self
    }

    async fn hook(&self, ctx: &TaskContext) -> Result<SsmHook, TaskError> {
        if let Some(hook) = &self.hook {
            return Ok(hook.clone());
        }
        let params = self.aws.resolve(ctx)?;
        SsmHook::connect(&params, self.aws.given_connections())
            .await
            .map_err(|err| err.into_task_error("connecting to SSM"))
    }
}

#[async_trait]
impl Operator for SsmRunCommandOperator {
    async fn execute(&self, ctx: &TaskContext) -> Result<Outcome, TaskError> {
        let document_name = ctx.resolve("document_name", &self.document_name)?;
        let kwargs = ctx.resolve("run_command_kwargs", &self.run_command_kwargs)?;
        kwargs
            .validate()
            .map_err(|err| TaskError::fatal(err.to_string()))?;
        let hook = self.hook(ctx).await?;

        let sent = send_once(ctx, &hook, &document_name, &kwargs).await?;
        let command_id = sent.command_id;

        if self.deferrable {
            let params = self.aws.resolve(ctx)?;
            let trigger = SsmRunCommandTrigger {
                command_id: command_id.clone(),
                waiter_delay: self.waiter_delay.as_secs().max(1),
                waiter_max_attempts: self.waiter_max_attempts,
                fail_on_nonzero_exit: self.fail_on_nonzero_exit,
                aws: params,
                ..SsmRunCommandTrigger::new(command_id)
            }
            .with_connections(self.aws.given_connections().cloned())
            .with_hook(self.hook.clone());
            return Ok(Outcome::Defer(Deferral::new(trigger)));
        }
        if self.wait_for_completion {
            let spec = WaitSpec {
                delay: self.waiter_delay,
                max_attempts: self.waiter_max_attempts,
                fail_on_nonzero_exit: self.fail_on_nonzero_exit,
                expected_instances: sent.instance_ids.len(),
            };
            wait(&hook, &command_id, &spec, ctx.clock())
                .await
                .map_err(|err| match err {
                    WaitError::Ssm(err) => err.into_task_error("waiting for the command"),
                    other => TaskError::failed(other.to_string()),
                })?;
        }
        Ok(Outcome::Value(Value::String(command_id)))
    }

    async fn execute_complete(
        &self,
        _ctx: &TaskContext,
        event: TriggerEvent,
    ) -> Result<Outcome, TaskError> {
        match read_event(&event) {
            EventOutcome::Success(command_id) => Ok(Outcome::Value(Value::String(command_id))),
            EventOutcome::Failed { message, .. } => Err(TaskError::failed(message)),
        }
    }

    async fn on_kill(&self, ctx: &TaskContext) {
        if !self.cancel_on_kill {
            return;
        }
        let Some(sent) = ctx.task_state(SENT_COMMAND_KEY) else {
            return;
        };
        if sent["try_number"].as_u64() != Some(u64::from(ctx.try_number())) {
            return;
        }
        let Some(command_id) = sent["command_id"].as_str() else {
            return;
        };
        info!(
            command_id,
            "the task was stopped; cancelling its SSM command"
        );
        let cancelled = match self.hook(ctx).await {
            Ok(hook) => hook
                .cancel_command(command_id, None)
                .await
                .map_err(|err| err.to_string()),
            Err(err) => Err(err.to_string()),
        };
        match cancelled {
            Ok(()) => info!(command_id, "cancelled the SSM command"),
            Err(err) => warn!(command_id, error = %err, "could not cancel the SSM command"),
        }
    }

    fn xcom_refs(&self) -> Vec<XComRef> {
        let mut refs = self.document_name.refs();
        refs.extend(self.run_command_kwargs.refs());
        refs.extend(self.aws.refs());
        refs
    }

    fn type_name(&self) -> &'static str {
        "SsmRunCommandOperator"
    }
}
