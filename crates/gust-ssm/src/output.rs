//! `SsmGetCommandInvocationOperator`: reads a command's output from every node.

use async_trait::async_trait;
use aws_sdk_ssm::operation::get_command_invocation::GetCommandInvocationOutput;
use gust_core::{Arg, Operator, Outcome, TaskContext, TaskError, XComRef};
use serde_json::{Value, json};
use tracing::{info, warn};

use crate::aws_args::AwsArgs;
use crate::hook::SsmHook;

/// Reads a command's output (Airflow's `SsmGetCommandInvocationOperator`); does not wait.
///
/// Returns `{"command_id": ID, "invocations": [...]}`, the same shape with or without
/// `instance_id`. Each entry has `instance_id`, `status`, `response_code`,
/// `standard_output`, `standard_error`, `execution_start_time`, `execution_end_time`,
/// `document_name` and `comment`. For a document of several steps there is one entry per
/// step, each also naming its `plugin_name` (SSM needs the step's name to report it). A
/// node whose output cannot be read gets `{"instance_id": .., "error": ..}` instead of
/// failing the task.
#[derive(Debug, Clone)]
pub struct SsmGetCommandInvocationOperator {
    command_id: Arg<String>,
    instance_id: Option<Arg<String>>,
    aws: AwsArgs,
    hook: Option<SsmHook>,
}

impl SsmGetCommandInvocationOperator {
    /// Reads the output of `command_id` on every node.
    pub fn new(command_id: impl Into<Arg<String>>) -> Self {
        SsmGetCommandInvocationOperator {
            command_id: command_id.into(),
            instance_id: None,
            aws: AwsArgs::default(),
            hook: None,
        }
    }

    /// Reads the output on one node only.
    pub fn instance_id(mut self, instance_id: impl Into<Arg<String>>) -> Self {
        self.instance_id = Some(instance_id.into());
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
}

/// One entry of the output for a GetCommandInvocation reply.
fn entry(instance_id: &str, reply: &GetCommandInvocationOutput, step: Option<&str>) -> Value {
    let mut entry = json!({
        "instance_id": instance_id,
        "status": reply.status().map(|s| s.as_str()).unwrap_or_default(),
        "response_code": reply.response_code(),
        "standard_output": reply.standard_output_content().unwrap_or_default(),
        "standard_error": reply.standard_error_content().unwrap_or_default(),
        "execution_start_time": reply.execution_start_date_time().unwrap_or_default(),
        "execution_end_time": reply.execution_end_date_time().unwrap_or_default(),
        "document_name": reply.document_name().unwrap_or_default(),
        "comment": reply.comment().unwrap_or_default(),
    });
    if let Some(step) = step {
        entry["plugin_name"] = json!(step);
    }
    entry
}

#[async_trait]
impl Operator for SsmGetCommandInvocationOperator {
    async fn execute(&self, ctx: &TaskContext) -> Result<Outcome, TaskError> {
        let command_id = ctx.resolve("command_id", &self.command_id)?;
        let instance_id = self
            .instance_id
            .as_ref()
            .map(|arg| ctx.resolve("instance_id", arg))
            .transpose()?;
        let hook = match &self.hook {
            Some(hook) => hook.clone(),
            None => SsmHook::connect(&self.aws.resolve(ctx)?, self.aws.given_connections())
                .await
                .map_err(|err| err.into_task_error("connecting to SSM"))?,
        };

        let listed = hook
            .list_invocations(&command_id, instance_id.as_deref())
            .await
            .map_err(|err| err.into_task_error("listing the command's invocations"))?;
        // Each node's steps: several steps need one call each, by name.
        let mut targets: Vec<(String, Vec<String>)> = listed
            .into_iter()
            .map(|inv| {
                let steps = if inv.plugins.len() > 1 {
                    inv.plugins.into_iter().map(|p| p.name).collect()
                } else {
                    Vec::new()
                };
                (inv.instance_id, steps)
            })
            .collect();
        if let (true, Some(only)) = (targets.is_empty(), &instance_id) {
            targets.push((only.clone(), Vec::new()));
        }

        let mut invocations = Vec::new();
        for (node, steps) in targets {
            let names: Vec<Option<&str>> = if steps.is_empty() {
                vec![None]
            } else {
                steps.iter().map(|s| Some(s.as_str())).collect()
            };
            for step in names {
                match hook.get_invocation(&command_id, &node, step).await {
                    Ok(reply) => {
                        // The node is named in the message, so that the output, which
                        // spans lines, ends the log line.
                        let on = match step {
                            Some(step) => format!("{node}, step {step}"),
                            None => node.clone(),
                        };
                        let output = reply.standard_output_content().unwrap_or_default();
                        info!("output on {on}:\n{output}");
                        let stderr = reply.standard_error_content().unwrap_or_default();
                        if !stderr.is_empty() {
                            info!("standard error on {on}:\n{stderr}");
                        }
                        invocations.push(entry(&node, &reply, step));
                    }
                    Err(err) => {
                        warn!(instance_id = %node, error = %err, "could not read the output");
                        invocations.push(json!({"instance_id": node, "error": err.to_string()}));
                    }
                }
            }
        }
        Ok(Outcome::Value(json!({
            "command_id": command_id,
            "invocations": invocations,
        })))
    }

    fn xcom_refs(&self) -> Vec<XComRef> {
        let mut refs = self.command_id.refs();
        refs.extend(self.instance_id.iter().flat_map(Arg::refs));
        refs.extend(self.aws.refs());
        refs
    }

    fn type_name(&self) -> &'static str {
        "SsmGetCommandInvocationOperator"
    }
}
