//! `SsmRunCommandCompletedSensor`: waits until a command finished on every node.

use std::time::Duration;

use async_trait::async_trait;
use gust_core::{
    Arg, Deferral, Outcome, Sensor, SensorSettings, TaskContext, TaskError, TriggerEvent, XComRef,
};
use tracing::debug;

use crate::aws_args::{AwsArgs, default_deferrable};
use crate::error::SsmError;
use crate::hook::SsmHook;
use crate::tracker::{Progress, poll};
use crate::trigger::{EventOutcome, SsmRunCommandTrigger, read_event};

/// Waits until an SSM command finished on every node it targets (Airflow's
/// `SsmRunCommandCompletedSensor`). Pushes no XCom.
///
/// Each poke reads the command and all its invocations (one ListCommandInvocations call
/// per page of 50). A non-zero exit fails the sensor unless `fail_on_nonzero_exit` is
/// false; AWS-level failures always do; neither is retried, since the command's outcome
/// will not change. With `deferrable`, the sensor defers at once to
/// [`SsmRunCommandTrigger`] (`poke_interval` between polls, `max_retries` polls).
#[derive(Debug, Clone)]
pub struct SsmRunCommandCompletedSensor {
    command_id: Arg<String>,
    fail_on_nonzero_exit: bool,
    max_retries: u32,
    deferrable: bool,
    settings: SensorSettings,
    aws: AwsArgs,
    hook: Option<SsmHook>,
}

impl SsmRunCommandCompletedSensor {
    /// A sensor for `command_id` (usually the sending task's output), with Airflow's
    /// defaults: `poke_interval` 120 s, `max_retries` 75.
    pub fn new(command_id: impl Into<Arg<String>>) -> Self {
        SsmRunCommandCompletedSensor {
            command_id: command_id.into(),
            fail_on_nonzero_exit: true,
            max_retries: 75,
            deferrable: default_deferrable(),
            settings: SensorSettings {
                poke_interval: Duration::from_secs(120),
                ..SensorSettings::default()
            },
            aws: AwsArgs::default(),
            hook: None,
        }
    }

    /// Sets `fail_on_nonzero_exit`.
    pub fn fail_on_nonzero_exit(mut self, fail: bool) -> Self {
        self.fail_on_nonzero_exit = fail;
        self
    }

    /// Sets `max_retries`: the trigger's number of polls in deferrable mode.
    pub fn max_retries(mut self, retries: u32) -> Self {
        self.max_retries = retries;
        self
    }

    /// Sets `deferrable`.
    pub fn deferrable(mut self, deferrable: bool) -> Self {
        self.deferrable = deferrable;
        self
    }

    /// Sets the base sensor settings (`poke_interval`, `timeout`, `mode`, ...).
    pub fn sensor_settings(mut self, settings: SensorSettings) -> Self {
        self.settings = settings;
        self
    }

    /// Sets `poke_interval`.
    pub fn poke_interval(mut self, interval: Duration) -> Self {
        self.settings.poke_interval = interval;
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
impl Sensor for SsmRunCommandCompletedSensor {
    fn settings(&self) -> SensorSettings {
        self.settings.clone()
    }

    async fn poke(&self, ctx: &TaskContext) -> Result<bool, TaskError> {
        let command_id = ctx.resolve("command_id", &self.command_id)?;
        let hook = self.hook(ctx).await?;
        match poll(&hook, &command_id, 0, self.fail_on_nonzero_exit).await {
            Ok(Progress::Done(_)) => Ok(true),
            Ok(Progress::Running {
                visible,
                expected,
                running,
            }) => {
                debug!(
                    command_id,
                    visible, expected, running, "command still in progress"
                );
                Ok(false)
            }
            Ok(Progress::Failed(failure)) => Err(TaskError::fatal(failure.message)),
            Err(err) if err.is_transient() => {
                debug!(command_id, error = %err, "poke failed; the next poke tries again");
                Ok(false)
            }
            Err(err @ SsmError::NoSuchCommand { .. }) => Err(TaskError::fatal(err.to_string())),
            Err(err) => Err(err.into_task_error("checking the command")),
        }
    }

    async fn defer(&self, ctx: &TaskContext) -> Result<Option<Deferral>, TaskError> {
        if !self.deferrable {
            return Ok(None);
        }
        let command_id = ctx.resolve("command_id", &self.command_id)?;
        let trigger = SsmRunCommandTrigger {
            waiter_delay: self.settings.poke_interval.as_secs().max(1),
            waiter_max_attempts: self.max_retries,
            fail_on_nonzero_exit: self.fail_on_nonzero_exit,
            aws: self.aws.resolve(ctx)?,
            ..SsmRunCommandTrigger::new(command_id)
        }
        .with_connections(self.aws.given_connections().cloned())
        .with_hook(self.hook.clone());
        Ok(Some(Deferral::new(trigger)))
    }

    async fn execute_complete(
        &self,
        _ctx: &TaskContext,
        event: TriggerEvent,
    ) -> Result<Outcome, TaskError> {
        match read_event(&event) {
            EventOutcome::Success(_) => Ok(Outcome::Nothing),
            EventOutcome::Failed {
                message,
                timed_out: true,
            } => Err(TaskError::sensor_timeout(message)),
            EventOutcome::Failed { message, .. } => Err(TaskError::fatal(message)),
        }
    }

    fn xcom_refs(&self) -> Vec<XComRef> {
        let mut refs = self.command_id.refs();
        refs.extend(self.aws.refs());
        refs
    }

    fn type_name(&self) -> &'static str {
        "SsmRunCommandCompletedSensor"
    }
}
