//! SendCommand: checks the request as SSM does, records the command with one Pending
//! invocation per target node, and hands it to a dispatcher.

use std::collections::{BTreeMap, HashSet};
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

use serde::Deserialize;
use serde_json::{Value, json};
use tokio::sync::Notify;
use tracing::info;

use crate::exec::{Plan, dispatch};
use crate::protocol::{ApiError, Violations, decode};
use crate::shared::Shared;
use crate::state::{CommandRecord, CommandSpec, InvocationRecord, ScriptSpec};
use crate::targets::{self, Target};

/// The one document the local service can run.
const RUN_SHELL_SCRIPT: &str = "AWS-RunShellScript";

/// AWS-RunShellScript's parameters.
const PARAMETERS: [&str; 3] = ["commands", "workingDirectory", "executionTimeout"];

const DEFAULT_TIMEOUT_SECONDS: i64 = 3600;
const DEFAULT_EXECUTION_TIMEOUT: u64 = 3600;
const MAX_EXECUTION_TIMEOUT: u64 = 172_800;
const DEFAULT_MAX_CONCURRENCY: &str = "50";
const DEFAULT_MAX_ERRORS: &str = "0";

/// The longest lag or delivery timeout a knob can impose, so that deadlines stay computable.
const LONGEST_WAIT: Duration = Duration::from_secs(366 * 24 * 3600);

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
struct Input {
    instance_ids: Option<Vec<String>>,
    targets: Option<Vec<Target>>,
    document_name: Option<String>,
    document_version: Option<String>,
    // Read so that a wrong type is refused, and otherwise unused: there is one document,
    // and no S3, SNS, CloudWatch or alarms behind the local service.
    document_hash: Option<String>,
    document_hash_type: Option<String>,
    timeout_seconds: Option<i64>,
    comment: Option<String>,
    parameters: Option<BTreeMap<String, Vec<String>>>,
    output_s3_region: Option<String>,
    output_s3_bucket_name: Option<String>,
    output_s3_key_prefix: Option<String>,
    max_concurrency: Option<String>,
    max_errors: Option<String>,
    service_role_arn: Option<String>,
    notification_config: Option<Value>,
    cloud_watch_output_config: Option<Value>,
    alarm_configuration: Option<Value>,
}

pub(super) fn handle(shared: &Arc<Shared>, body: &[u8]) -> Result<Value, ApiError> {
    let input: Input = decode(body)?;
    check_shape(&input)?;
    let instance_ids = input.instance_ids.clone().unwrap_or_default();
    let targets = input.targets.clone().unwrap_or_default();
    check_addressing(&instance_ids, &targets)?;
    check_document(&input)?;
    let script = script_spec(input.parameters.as_ref())?;
    let nodes = if targets.is_empty() {
        targets::by_ids(&shared.fleet, &instance_ids)?
    } else {
        targets::by_targets(&shared.fleet, &targets)?
    };

    let spec = Arc::new(command_spec(input, instance_ids, targets, script));
    let (record, pace) = new_record(shared, spec.clone(), &nodes);
    let command_id = record.id.clone();
    let wake = record.wake.clone();

    let (seq, reply) = {
        let mut store = shared.store();
        let seq = store.insert(record);
        (seq, store.command(seq).map(super::shapes::command))
    };
    info!(command = %command_id, targets = nodes.len(), "command sent");

    let plan = Plan {
        seq,
        command_id,
        spec,
        invocations: nodes.len(),
        max_concurrency: pace.max_concurrency,
        delivery_deadline: Instant::now() + pace.delivery_timeout,
        wake,
    };
    shared.dispatchers.spawn(dispatch(shared.clone(), plan));

    Ok(json!({ "Command": reply }))
}

/// Member constraints (ValidationException, all listed at once).
fn check_shape(input: &Input) -> Result<(), ApiError> {
    let mut violations = Violations::default();
    match input.document_name.as_deref() {
        None => violations.missing("documentName"),
        Some(name) if !is_document_name(name) => violations.add(
            name,
            "documentName",
            "match the pattern [a-zA-Z0-9_\\-.:/]{3,128}",
        ),
        Some(_) => {}
    }
    violations.range(input.timeout_seconds, "timeoutSeconds", 30, 2_592_000);
    if let Some(comment) = input.comment.as_deref().filter(|c| c.chars().count() > 100) {
        violations.add(comment, "comment", "have length less than or equal to 100");
    }
    violations.max_len(input.instance_ids.as_deref(), "instanceIds", 50);
    violations.max_len(input.targets.as_deref(), "targets", 5);
    if let Some(text) = input
        .max_concurrency
        .as_deref()
        .filter(|t| !is_limit(t, false))
    {
        violations.add(
            text,
            "maxConcurrency",
            "be a number from 1, or a percentage from 1% to 100%",
        );
    }
    if let Some(text) = input.max_errors.as_deref().filter(|t| !is_limit(t, true)) {
        violations.add(
            text,
            "maxErrors",
            "be a number from 0, or a percentage from 0% to 100%",
        );
    }
    violations.into_result()
}

fn is_document_name(name: &str) -> bool {
    let allowed = |c: char| c.is_ascii_alphanumeric() || "_-.:/".contains(c);
    (3..=128).contains(&name.len()) && name.chars().all(allowed)
}

/// `10` or `10%`, as MaxConcurrency (no zero) and MaxErrors (zero allowed) take them.
fn is_limit(text: &str, zero_allowed: bool) -> bool {
    let (digits, percent) = match text.strip_suffix('%') {
        Some(digits) => (digits, true),
        None => (text, false),
    };
    let Ok(value) = digits.parse::<u64>() else {
        return false;
    };
    let canonical = digits.len() <= 7 && (digits == "0" || !digits.starts_with('0'));
    let in_range = if percent { value <= 100 } else { true };
    canonical
        && digits.chars().all(|c| c.is_ascii_digit())
        && in_range
        && (zero_allowed || value > 0)
}

fn check_addressing(instance_ids: &[String], targets: &[Target]) -> Result<(), ApiError> {
    match (instance_ids.is_empty(), targets.is_empty()) {
        (true, true) => {
            return Err(ApiError::validation(
                "SendCommand needs InstanceIds or Targets to say which nodes run the command",
            ));
        }
        (false, false) => {
            return Err(ApiError::validation(
                "SendCommand takes InstanceIds or Targets, not both",
            ));
        }
        _ => {}
    }

    let mut seen = HashSet::new();
    match instance_ids.iter().find(|id| !seen.insert(id.as_str())) {
        Some(id) => Err(ApiError::duplicate_instance_id(id)),
        None => Ok(()),
    }
}

fn check_document(input: &Input) -> Result<(), ApiError> {
    let name = input.document_name.as_deref().unwrap_or_default();
    let known = name == RUN_SHELL_SCRIPT
        || (name.starts_with("arn:") && name.ends_with(&format!(":document/{RUN_SHELL_SCRIPT}")));
    if !known {
        return Err(ApiError::new(
            "InvalidDocument",
            format!(
                "document {name} does not exist; the local service runs only {RUN_SHELL_SCRIPT}"
            ),
        ));
    }

    match input.document_version.as_deref() {
        None | Some("$DEFAULT" | "$LATEST" | "1") => Ok(()),
        Some(version) => Err(ApiError::new(
            "InvalidDocumentVersion",
            format!("{RUN_SHELL_SCRIPT} has no version {version:?}; it has version 1"),
        )),
    }
}

/// AWS-RunShellScript's parameters: `commands` (needed), `workingDirectory`,
/// `executionTimeout` (seconds, 1 to 172800, default 3600).
fn script_spec(parameters: Option<&BTreeMap<String, Vec<String>>>) -> Result<ScriptSpec, ApiError> {
    let empty = BTreeMap::new();
    let parameters = parameters.unwrap_or(&empty);
    if let Some(unknown) = parameters
        .keys()
        .find(|key| !PARAMETERS.contains(&key.as_str()))
    {
        return Err(ApiError::invalid_parameters(format!(
            "{RUN_SHELL_SCRIPT} has no parameter {unknown:?}; it takes {}",
            PARAMETERS.join(", ")
        )));
    }

    let commands = parameters.get("commands").filter(|lines| !lines.is_empty());
    let Some(commands) = commands else {
        return Err(ApiError::invalid_parameters(format!(
            "{RUN_SHELL_SCRIPT} needs the parameter commands"
        )));
    };

    let working_directory = match parameters.get("workingDirectory").map(Vec::as_slice) {
        None | Some([]) => None,
        Some([dir]) if dir.is_empty() => None,
        Some([dir]) => Some(dir.clone()),
        Some(_) => {
            return Err(ApiError::invalid_parameters(
                "workingDirectory takes one value",
            ));
        }
    };

    let execution_timeout = match parameters.get("executionTimeout").map(Vec::as_slice) {
        None | Some([]) => DEFAULT_EXECUTION_TIMEOUT,
        Some([seconds]) => seconds
            .trim()
            .parse::<u64>()
            .ok()
            .filter(|s| (1..=MAX_EXECUTION_TIMEOUT).contains(s))
            .ok_or_else(|| {
                ApiError::invalid_parameters(format!(
                    "executionTimeout must be a whole number of seconds from 1 to \
                     {MAX_EXECUTION_TIMEOUT}, not {seconds:?}"
                ))
            })?,
        Some(_) => {
            return Err(ApiError::invalid_parameters(
                "executionTimeout takes one value",
            ));
        }
    };

    Ok(ScriptSpec {
        text: commands.join("\n") + "\n",
        working_directory,
        execution_timeout: Duration::from_secs(execution_timeout),
    })
}

fn command_spec(
    input: Input,
    instance_ids: Vec<String>,
    targets: Vec<Target>,
    script: ScriptSpec,
) -> CommandSpec {
    CommandSpec {
        document_name: input.document_name.unwrap_or_default(),
        document_version: input.document_version.unwrap_or_else(|| "$DEFAULT".into()),
        comment: input.comment.unwrap_or_default(),
        parameters: input.parameters.unwrap_or_default(),
        instance_ids,
        targets,
        timeout_seconds: input.timeout_seconds.unwrap_or(DEFAULT_TIMEOUT_SECONDS),
        max_concurrency: input
            .max_concurrency
            .unwrap_or_else(|| DEFAULT_MAX_CONCURRENCY.into()),
        max_errors: input
            .max_errors
            .unwrap_or_else(|| DEFAULT_MAX_ERRORS.into()),
        output_s3_region: input.output_s3_region.unwrap_or_default(),
        output_s3_bucket_name: input.output_s3_bucket_name.unwrap_or_default(),
        output_s3_key_prefix: input.output_s3_key_prefix.unwrap_or_default(),
        service_role: input.service_role_arn.unwrap_or_default(),
        notification_config: input
            .notification_config
            .unwrap_or_else(|| json!({ "NotificationArn": "", "NotificationEvents": [] })),
        cloud_watch_output_config: input.cloud_watch_output_config.unwrap_or_else(
            || json!({ "CloudWatchLogGroupName": "", "CloudWatchOutputEnabled": false }),
        ),
        script,
    }
}

/// How fast a command is carried out.
struct Pace {
    max_concurrency: usize,
    delivery_timeout: Duration,
}

/// A new record for `nodes`, with the knobs in force now.
fn new_record(shared: &Shared, spec: Arc<CommandSpec>, nodes: &[usize]) -> (CommandRecord, Pace) {
    let knobs = shared.knobs.settings();
    let delivery_timeout = knobs
        .delivery_timeout
        .unwrap_or(Duration::from_secs(spec.timeout_seconds.unsigned_abs()))
        .min(LONGEST_WAIT);
    let max_concurrency = resolve_limit(&spec.max_concurrency, nodes.len()).max(1);
    let max_errors = resolve_limit(&spec.max_errors, nodes.len());
    let requested_at = SystemTime::now();

    let record = CommandRecord {
        id: uuid::Uuid::new_v4().to_string().into(),
        spec,
        requested_at,
        expires_at: requested_at + delivery_timeout,
        visible_at: Instant::now() + knobs.visibility_lag.min(LONGEST_WAIT),
        cancel_requested: false,
        invocations: nodes
            .iter()
            .map(|node| InvocationRecord::pending(*node))
            .collect(),
        cancel: shared.shutdown.child_token(),
        wake: Arc::new(Notify::new()),
        max_errors,
    };
    let pace = Pace {
        max_concurrency,
        delivery_timeout,
    };
    (record, pace)
}

/// A checked `10` or `10%` as a number of invocations (percentages round up).
fn resolve_limit(text: &str, targets: usize) -> usize {
    match text.strip_suffix('%') {
        Some(percent) => {
            let percent: usize = percent.parse().unwrap_or(100);
            (targets * percent).div_ceil(100)
        }
        None => text.parse().unwrap_or(usize::MAX),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn limits_follow_ssm_patterns() {
        for ok in ["1", "50", "1%", "10%", "100%", "1234567"] {
            assert!(is_limit(ok, false), "{ok}");
        }
        for bad in [
            "0", "0%", "01", "101%", "", "%", "-1", "1.5", "12345678", "ten",
        ] {
            assert!(!is_limit(bad, false), "{bad}");
        }
        assert!(is_limit("0", true) && is_limit("0%", true));
    }

    #[test]
    fn percentages_round_up() {
        assert_eq!(resolve_limit("10%", 3), 1);
        assert_eq!(resolve_limit("50%", 5), 3);
        assert_eq!(resolve_limit("0%", 5), 0);
        assert_eq!(resolve_limit("7", 5), 7);
    }

    fn params(pairs: &[(&str, &[&str])]) -> BTreeMap<String, Vec<String>> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.iter().map(|s| s.to_string()).collect()))
            .collect()
    }

    #[test]
    fn run_shell_script_parameters_are_checked() {
        let spec = script_spec(Some(&params(&[
            ("commands", &["echo a", "echo b"]),
            ("executionTimeout", &["5"]),
            ("workingDirectory", &["/tmp"]),
        ])))
        .unwrap();
        assert_eq!(spec.text, "echo a\necho b\n");
        assert_eq!(spec.execution_timeout, Duration::from_secs(5));
        assert_eq!(spec.working_directory.as_deref(), Some("/tmp"));

        let defaults = script_spec(Some(&params(&[("commands", &["true"])]))).unwrap();
        assert_eq!(defaults.execution_timeout, Duration::from_secs(3600));

        for bad in [
            params(&[]),
            params(&[("commands", &[])]),
            params(&[("commands", &["x"]), ("colour", &["red"])]),
            params(&[("commands", &["x"]), ("executionTimeout", &["0"])]),
            params(&[("commands", &["x"]), ("executionTimeout", &["172801"])]),
            params(&[("commands", &["x"]), ("executionTimeout", &["soon"])]),
            params(&[("commands", &["x"]), ("workingDirectory", &["/a", "/b"])]),
        ] {
            let err = script_spec(Some(&bad)).unwrap_err();
            assert_eq!(err.code, "InvalidParameters", "{bad:?}");
        }
    }
}
