//! The operators DAG files can use and the triggers a stored run can rebuild: the
//! standard operators and the SSM provider.

use std::sync::Arc;
use std::time::Duration;

use gust_core::{SensorSettings, TaskKind, TriggerRegistry};
use gust_ssm::{
    AwsArgs, RunCommandKwargs, SsmGetCommandInvocationOperator, SsmRunCommandCompletedSensor,
    SsmRunCommandOperator,
};
use gust_standard::{BashOperator, EmptyOperator};
use gust_yaml::{ArgError, Args, OperatorSpec, ParamKind, ParamSpec, Registry};
use serde_json::{Map, Value};

use ParamKind::*;

/// Every operator a DAG file can name in `uses`.
pub fn operators() -> Registry {
    let mut registry = Registry::new();
    registry.register(OperatorSpec {
        name: "EmptyOperator",
        class_paths: &[
            "airflow.providers.standard.operators.empty.EmptyOperator",
            "airflow.operators.empty.EmptyOperator",
        ],
        summary: "does nothing; groups and joins branches",
        params: vec![],
        sensor: false,
        build: |_| Ok(TaskKind::Operator(Arc::new(EmptyOperator))),
    });
    registry.register(OperatorSpec {
        name: "BashOperator",
        class_paths: &[
            "airflow.providers.standard.operators.bash.BashOperator",
            "airflow.operators.bash.BashOperator",
        ],
        summary: "runs a command with bash; its last line of output is the XCom value",
        params: vec![
            ParamSpec::templated("bash_command", Str, "the command").required(),
            ParamSpec::templated(
                "env",
                StrMap,
                "the environment (replaces the process's unless append_env)",
            ),
            ParamSpec::literal("append_env", Bool, "add env to the process's environment"),
            ParamSpec::templated(
                "cwd",
                Str,
                "the working directory (default: a temporary one)",
            ),
            ParamSpec::literal(
                "skip_on_exit_code",
                Codes,
                "exit codes that skip the task (default 99)",
            ),
        ],
        sensor: false,
        build: build_bash,
    });
    registry.register(OperatorSpec {
        name: "SsmRunCommandOperator",
        class_paths: &["airflow.providers.amazon.aws.operators.ssm.SsmRunCommandOperator"],
        summary: "sends an SSM Run Command and returns its command id",
        params: with_aws(vec![
            ParamSpec::templated(
                "document_name",
                Str,
                "the SSM document, e.g. AWS-RunShellScript",
            )
            .required(),
            ParamSpec::templated(
                "run_command_kwargs",
                Map,
                "SendCommand parameters in the API's names: InstanceIds, Targets, Parameters, ...",
            ),
            ParamSpec::literal(
                "wait_for_completion",
                Bool,
                "wait until every invocation finished (default true)",
            ),
            ParamSpec::literal(
                "waiter_delay",
                Duration,
                "time between polls (default 120 s)",
            ),
            ParamSpec::literal("waiter_max_attempts", Count, "the most polls (default 75)"),
            ParamSpec::literal(
                "fail_on_nonzero_exit",
                Bool,
                "fail on a non-zero exit (default true)",
            ),
            ParamSpec::literal(
                "deferrable",
                Bool,
                "hand the wait to a trigger (default false)",
            ),
            ParamSpec::literal(
                "cancel_on_kill",
                Bool,
                "cancel the command when the task is stopped (default true)",
            ),
        ]),
        sensor: false,
        build: build_run_command,
    });
    registry.register(OperatorSpec {
        name: "SsmRunCommandCompletedSensor",
        class_paths: &["airflow.providers.amazon.aws.sensors.ssm.SsmRunCommandCompletedSensor"],
        summary: "waits until an SSM command finished on every node",
        params: with_aws(vec![
            ParamSpec::templated("command_id", Str, "the command to wait for").required(),
            ParamSpec::literal(
                "fail_on_nonzero_exit",
                Bool,
                "fail on a non-zero exit (default true)",
            ),
            ParamSpec::literal(
                "max_retries",
                Count,
                "the trigger's polls in deferrable mode (default 75)",
            ),
            ParamSpec::literal(
                "deferrable",
                Bool,
                "hand the wait to a trigger (default false)",
            ),
        ]),
        sensor: true,
        build: build_sensor,
    });
    registry.register(OperatorSpec {
        name: "SsmGetCommandInvocationOperator",
        class_paths: &[
            "airflow.providers.amazon.aws.operators.ssm.SsmGetCommandInvocationOperator",
        ],
        summary: "reads a command's output on every node (or one)",
        params: with_aws(vec![
            ParamSpec::templated("command_id", Str, "the command").required(),
            ParamSpec::templated("instance_id", Str, "one node only"),
        ]),
        sensor: false,
        build: build_output,
    });
    registry
}

/// Every trigger a stored run can rebuild.
pub fn triggers() -> TriggerRegistry {
    let mut registry = TriggerRegistry::new();
    gust_ssm::register_triggers(&mut registry);
    registry
}

fn with_aws(mut params: Vec<ParamSpec>) -> Vec<ParamSpec> {
    params.extend([
        ParamSpec::templated(
            "aws_conn_id",
            NullableStr,
            "the AWS connection (default aws_default; null: the standard chain)",
        ),
        ParamSpec::templated("region_name", Str, "overrides the connection's region"),
        ParamSpec::templated(
            "verify",
            BoolOrStr,
            "false: no TLS verification; a path: that CA bundle",
        ),
        ParamSpec::templated(
            "botocore_config",
            Map,
            "client settings; replaces the connection's config_kwargs",
        ),
    ]);
    params
}

fn aws_args(args: &mut Args) -> Result<AwsArgs, ArgError> {
    let mut aws = AwsArgs::default();
    if let Some(conn) = args.arg::<Option<String>>("aws_conn_id")? {
        aws = aws.aws_conn_id_arg(conn);
    }
    if let Some(region) = args.arg::<String>("region_name")? {
        aws = aws.region_name(region);
    }
    if let Some(verify) = args.arg::<Value>("verify")? {
        aws = aws.verify_arg(verify);
    }
    if let Some(config) = args.arg::<Map<String, Value>>("botocore_config")? {
        aws = aws.botocore_config_arg(config);
    }
    Ok(aws)
}

fn build_bash(args: &mut Args) -> Result<TaskKind, ArgError> {
    let mut op = BashOperator::new(args.required::<String>("bash_command")?);
    if let Some(env) = args.arg("env")? {
        op = op.env_arg(env);
    }
    if let Some(append) = args.literal("append_env")? {
        op = op.append_env(append);
    }
    if let Some(cwd) = args.arg::<String>("cwd")? {
        op = op.cwd(cwd);
    }
    if let Some(codes) = args.literal::<Value>("skip_on_exit_code")? {
        let codes: Vec<i32> = match codes {
            Value::Null => vec![],
            Value::Array(items) => items
                .iter()
                .filter_map(|c| c.as_i64())
                .map(|c| c as i32)
                .collect(),
            one => one.as_i64().map(|c| vec![c as i32]).unwrap_or_default(),
        };
        op = op.skip_on_exit_code(codes);
    }
    Ok(TaskKind::Operator(Arc::new(op)))
}

fn build_run_command(args: &mut Args) -> Result<TaskKind, ArgError> {
    let mut op = SsmRunCommandOperator::new(args.required::<String>("document_name")?);
    if let Some(kwargs) = args.arg::<RunCommandKwargs>("run_command_kwargs")? {
        op = op.run_command_kwargs_arg(kwargs);
    }
    if let Some(wait) = args.literal("wait_for_completion")? {
        op = op.wait_for_completion(wait);
    }
    if let Some(delay) = args.duration("waiter_delay")? {
        op = op.waiter_delay(delay);
    }
    if let Some(attempts) = args.literal("waiter_max_attempts")? {
        op = op.waiter_max_attempts(attempts);
    }
    if let Some(fail) = args.literal("fail_on_nonzero_exit")? {
        op = op.fail_on_nonzero_exit(fail);
    }
    if let Some(deferrable) = args.literal("deferrable")? {
        op = op.deferrable(deferrable);
    }
    if let Some(cancel) = args.literal("cancel_on_kill")? {
        op = op.cancel_on_kill(cancel);
    }
    Ok(TaskKind::Operator(Arc::new(op.aws(aws_args(args)?))))
}

fn build_sensor(args: &mut Args) -> Result<TaskKind, ArgError> {
    let mut sensor = SsmRunCommandCompletedSensor::new(args.required::<String>("command_id")?);
    if let Some(fail) = args.literal("fail_on_nonzero_exit")? {
        sensor = sensor.fail_on_nonzero_exit(fail);
    }
    if let Some(retries) = args.literal("max_retries")? {
        sensor = sensor.max_retries(retries);
    }
    if let Some(deferrable) = args.literal("deferrable")? {
        sensor = sensor.deferrable(deferrable);
    }
    let settings = args.sensor_settings(SensorSettings {
        poke_interval: Duration::from_secs(120),
        ..SensorSettings::default()
    })?;
    let sensor = sensor.sensor_settings(settings).aws(aws_args(args)?);
    Ok(TaskKind::Sensor(Arc::new(sensor)))
}

fn build_output(args: &mut Args) -> Result<TaskKind, ArgError> {
    let mut op = SsmGetCommandInvocationOperator::new(args.required::<String>("command_id")?);
    if let Some(instance) = args.arg::<String>("instance_id")? {
        op = op.instance_id(instance);
    }
    Ok(TaskKind::Operator(Arc::new(op.aws(aws_args(args)?))))
}
