//! The JSON shapes of answers: Command, CommandInvocation, CommandPlugin and
//! GetCommandInvocation's result, with SSM's member names.

use std::time::SystemTime;

use serde_json::{Value, json};

use crate::exec::plugin_output;
use crate::fleet::Fleet;
use crate::state::{CommandRecord, InvocationRecord};
use crate::time::{epoch_seconds, iso, iso_duration};

/// The only plugin of AWS-RunShellScript.
pub(crate) const PLUGIN_NAME: &str = "aws:runShellScript";

/// A `Command`.
pub(crate) fn command(record: &CommandRecord) -> Value {
    let spec = &record.spec;
    let summary = record.summary();
    json!({
        "CommandId": &*record.id,
        "DocumentName": spec.document_name,
        "DocumentVersion": spec.document_version,
        "Comment": spec.comment,
        "ExpiresAfter": epoch_seconds(record.expires_at),
        "Parameters": spec.parameters,
        "InstanceIds": spec.instance_ids,
        "Targets": spec.targets,
        "RequestedDateTime": epoch_seconds(record.requested_at),
        "Status": summary.status,
        "StatusDetails": summary.details,
        "OutputS3Region": spec.output_s3_region,
        "OutputS3BucketName": spec.output_s3_bucket_name,
        "OutputS3KeyPrefix": spec.output_s3_key_prefix,
        "MaxConcurrency": spec.max_concurrency,
        "MaxErrors": spec.max_errors,
        "TargetCount": summary.target_count,
        "CompletedCount": summary.completed_count,
        "ErrorCount": summary.error_count,
        "DeliveryTimedOutCount": summary.delivery_timed_out_count,
        "ServiceRole": spec.service_role,
        "NotificationConfig": spec.notification_config,
        "CloudWatchOutputConfig": spec.cloud_watch_output_config,
        "TimeoutSeconds": spec.timeout_seconds,
    })
}

/// A `CommandInvocation`; with `details`, its `CommandPlugins` carry status and output.
pub(crate) fn invocation(
    fleet: &Fleet,
    record: &CommandRecord,
    invocation: &InvocationRecord,
    details: bool,
) -> Value {
    let spec = &record.spec;
    let plugins = if details {
        vec![plugin(invocation)]
    } else {
        Vec::new()
    };
    json!({
        "CommandId": &*record.id,
        "InstanceId": fleet.id(invocation.node()),
        "InstanceName": fleet.instance_name(invocation.node()),
        "Comment": spec.comment,
        "DocumentName": spec.document_name,
        "DocumentVersion": spec.document_version,
        "RequestedDateTime": epoch_seconds(record.requested_at),
        "Status": invocation.status.status(),
        "StatusDetails": invocation.status.details(),
        "TraceOutput": "",
        "StandardOutputUrl": "",
        "StandardErrorUrl": "",
        "CommandPlugins": plugins,
        "ServiceRole": spec.service_role,
        "NotificationConfig": spec.notification_config,
        "CloudWatchOutputConfig": spec.cloud_watch_output_config,
    })
}

fn plugin(invocation: &InvocationRecord) -> Value {
    let mut plugin = json!({
        "Name": PLUGIN_NAME,
        "Status": invocation.status.plugin_status(),
        "StatusDetails": invocation.status.details(),
        "ResponseCode": invocation.response_code,
        "Output": finished_output(invocation)
            .map_or_else(String::new, |(out, err)| plugin_output(out, err)),
        "StandardOutputUrl": "",
        "StandardErrorUrl": "",
        "OutputS3Region": "",
        "OutputS3BucketName": "",
        "OutputS3KeyPrefix": "",
    });
    if let Some(started) = invocation.started_at {
        plugin["ResponseStartDateTime"] = json!(epoch_seconds(started));
    }
    if let Some(ended) = invocation
        .ended_at
        .filter(|_| invocation.started_at.is_some())
    {
        plugin["ResponseFinishDateTime"] = json!(epoch_seconds(ended));
    }
    plugin
}

/// GetCommandInvocation's result.
pub(crate) fn invocation_result(
    fleet: &Fleet,
    record: &CommandRecord,
    invocation: &InvocationRecord,
) -> Value {
    let spec = &record.spec;
    let (stdout, stderr) = finished_output(invocation).unwrap_or_default();
    let (start, elapsed, end) = execution_times(invocation);
    json!({
        "CommandId": &*record.id,
        "InstanceId": fleet.id(invocation.node()),
        "Comment": spec.comment,
        "DocumentName": spec.document_name,
        "DocumentVersion": spec.document_version,
        "PluginName": PLUGIN_NAME,
        "ResponseCode": invocation.response_code,
        "ExecutionStartDateTime": start,
        "ExecutionElapsedTime": elapsed,
        "ExecutionEndDateTime": end,
        "Status": invocation.status.status(),
        "StatusDetails": invocation.status.details(),
        "StandardOutputContent": stdout,
        "StandardOutputUrl": "",
        "StandardErrorContent": stderr,
        "StandardErrorUrl": "",
        "CloudWatchOutputConfig": spec.cloud_watch_output_config,
    })
}

/// Output is reported once the invocation has ended, as SSM does.
fn finished_output(invocation: &InvocationRecord) -> Option<(&str, &str)> {
    invocation
        .status
        .is_terminal()
        .then_some((&*invocation.stdout, &*invocation.stderr))
}

/// Start, elapsed and end as ISO 8601 strings; empty until the script has started (and the
/// end until it has ended).
fn execution_times(invocation: &InvocationRecord) -> (String, String, String) {
    let Some(started) = invocation.started_at else {
        return Default::default();
    };
    let until = invocation.ended_at.unwrap_or_else(SystemTime::now);
    let elapsed = until.duration_since(started).unwrap_or_default();
    let end = invocation.ended_at.map(iso).unwrap_or_default();
    (iso(started), iso_duration(elapsed), end)
}
