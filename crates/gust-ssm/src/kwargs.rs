//! `run_command_kwargs`: the SendCommand request in the API's own PascalCase names.

use std::collections::BTreeMap;

use aws_sdk_ssm::operation::send_command::builders::SendCommandFluentBuilder;
use aws_sdk_ssm::types::{
    AlarmConfiguration, CloudWatchOutputConfig, NotificationConfig, NotificationEvent,
    NotificationType, Target,
};
use serde::{Deserialize, Deserializer, Serialize};

use crate::error::SsmError;

/// The most instance ids one SendCommand accepts.
pub const MAX_INSTANCE_IDS: usize = 50;

/// The SendCommand parameters besides the document name. Unknown names are an error, so
/// a misspelled key is caught rather than silently dropped.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", deny_unknown_fields)]
pub struct RunCommandKwargs {
    /// `InstanceIds`: at most 50.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub instance_ids: Option<Vec<String>>,
    /// `Targets`: `[{Key: "tag:Role", Values: ["web"]}]`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub targets: Option<Vec<TargetSpec>>,
    /// `Parameters`: each value a list of strings (a single string is taken as a list of one).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parameters: Option<BTreeMap<String, StringList>>,
    /// `DocumentVersion`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub document_version: Option<String>,
    /// `DocumentHash`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub document_hash: Option<String>,
    /// `DocumentHashType`: `Sha256` or `Sha1`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub document_hash_type: Option<String>,
    /// `TimeoutSeconds`: how long delivery may take (30..2592000).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timeout_seconds: Option<i32>,
    /// `Comment`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub comment: Option<String>,
    /// `OutputS3Region`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub output_s3_region: Option<String>,
    /// `OutputS3BucketName`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub output_s3_bucket_name: Option<String>,
    /// `OutputS3KeyPrefix`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub output_s3_key_prefix: Option<String>,
    /// `MaxConcurrency`: a number or a percentage.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_concurrency: Option<NumberOrText>,
    /// `MaxErrors`: a number or a percentage.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_errors: Option<NumberOrText>,
    /// `ServiceRoleArn`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub service_role_arn: Option<String>,
    /// `NotificationConfig`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub notification_config: Option<NotificationSpec>,
    /// `CloudWatchOutputConfig`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cloud_watch_output_config: Option<CloudWatchSpec>,
    /// `AlarmConfiguration`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub alarm_configuration: Option<AlarmSpec>,
}

/// A `Targets` entry.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", deny_unknown_fields)]
pub struct TargetSpec {
    /// `tag:<Key>`, `tag-key`, `InstanceIds`, `resource-groups:Name`, ...
    pub key: String,
    /// The values to match.
    pub values: StringList,
}

/// `NotificationConfig`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", deny_unknown_fields)]
pub struct NotificationSpec {
    /// `NotificationArn`.
    #[serde(default)]
    pub notification_arn: Option<String>,
    /// `NotificationEvents`.
    #[serde(default)]
    pub notification_events: Option<Vec<String>>,
    /// `NotificationType`: `Command` or `Invocation`.
    #[serde(default)]
    pub notification_type: Option<String>,
}

/// `CloudWatchOutputConfig`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", deny_unknown_fields)]
pub struct CloudWatchSpec {
    /// `CloudWatchLogGroupName`.
    #[serde(default)]
    pub cloud_watch_log_group_name: Option<String>,
    /// `CloudWatchOutputEnabled`.
    #[serde(default)]
    pub cloud_watch_output_enabled: Option<bool>,
}

/// `AlarmConfiguration`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", deny_unknown_fields)]
pub struct AlarmSpec {
    /// `IgnorePollAlarmFailure`.
    #[serde(default)]
    pub ignore_poll_alarm_failure: Option<bool>,
    /// `Alarms`: `[{Name: ...}]`.
    pub alarms: Vec<AlarmName>,
}

/// An alarm of `AlarmConfiguration`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", deny_unknown_fields)]
pub struct AlarmName {
    /// `Name`.
    pub name: String,
}

/// A list of strings that also accepts one string.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
#[serde(transparent)]
pub struct StringList(pub Vec<String>);

impl<'de> Deserialize<'de> for StringList {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum OneOrMany {
            One(String),
            Many(Vec<String>),
        }
        match OneOrMany::deserialize(deserializer) {
            Ok(OneOrMany::One(one)) => Ok(StringList(vec![one])),
            Ok(OneOrMany::Many(many)) => Ok(StringList(many)),
            Err(_) => Err(serde::de::Error::custom(
                "expected a string or a list of strings",
            )),
        }
    }
}

/// A count given as a number or as text (`"10"`, `"50%"`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum NumberOrText {
    /// A number.
    Number(u64),
    /// Text.
    Text(String),
}

impl NumberOrText {
    fn text(&self) -> String {
        match self {
            NumberOrText::Number(n) => n.to_string(),
            NumberOrText::Text(t) => t.clone(),
        }
    }
}

impl RunCommandKwargs {
    /// Checks what SSM would reject, with clearer messages.
    pub fn validate(&self) -> Result<(), SsmError> {
        let ids = self.instance_ids.as_deref().unwrap_or_default();
        let targets = self.targets.as_deref().unwrap_or_default();
        if ids.is_empty() && targets.is_empty() {
            return Err(SsmError::Invalid(
                "run_command_kwargs needs InstanceIds or Targets".to_owned(),
            ));
        }
        if ids.len() > MAX_INSTANCE_IDS {
            return Err(SsmError::Invalid(format!(
                "run_command_kwargs.InstanceIds has {} ids; SendCommand takes at most \
                 {MAX_INSTANCE_IDS} (use Targets to reach more nodes)",
                ids.len()
            )));
        }
        Ok(())
    }

    /// Fills a SendCommand request.
    pub fn apply(
        &self,
        mut request: SendCommandFluentBuilder,
    ) -> Result<SendCommandFluentBuilder, SsmError> {
        if let Some(ids) = &self.instance_ids {
            request = request.set_instance_ids(Some(ids.clone()));
        }
        if let Some(targets) = &self.targets {
            let targets = targets
                .iter()
                .map(|t| {
                    Target::builder()
                        .key(&t.key)
                        .set_values(Some(t.values.0.clone()))
                        .build()
                })
                .collect();
            request = request.set_targets(Some(targets));
        }
        if let Some(parameters) = &self.parameters {
            let parameters = parameters
                .iter()
                .map(|(name, values)| (name.clone(), values.0.clone()))
                .collect();
            request = request.set_parameters(Some(parameters));
        }
        request = request
            .set_document_version(self.document_version.clone())
            .set_timeout_seconds(self.timeout_seconds)
            .set_comment(self.comment.clone())
            .set_output_s3_region(self.output_s3_region.clone())
            .set_output_s3_bucket_name(self.output_s3_bucket_name.clone())
            .set_output_s3_key_prefix(self.output_s3_key_prefix.clone())
            .set_max_concurrency(self.max_concurrency.as_ref().map(NumberOrText::text))
            .set_max_errors(self.max_errors.as_ref().map(NumberOrText::text))
            .set_service_role_arn(self.service_role_arn.clone())
            .set_document_hash(self.document_hash.clone());
        if let Some(kind) = &self.document_hash_type {
            request = request.document_hash_type(kind.as_str().into());
        }
        if let Some(spec) = &self.notification_config {
            let events = spec.notification_events.as_ref().map(|events| {
                events
                    .iter()
                    .map(|e| NotificationEvent::from(e.as_str()))
                    .collect()
            });
            request = request.notification_config(
                NotificationConfig::builder()
                    .set_notification_arn(spec.notification_arn.clone())
                    .set_notification_events(events)
                    .set_notification_type(
                        spec.notification_type
                            .as_deref()
                            .map(NotificationType::from),
                    )
                    .build(),
            );
        }
        if let Some(spec) = &self.cloud_watch_output_config {
            request = request.cloud_watch_output_config(
                CloudWatchOutputConfig::builder()
                    .set_cloud_watch_log_group_name(spec.cloud_watch_log_group_name.clone())
                    .set_cloud_watch_output_enabled(spec.cloud_watch_output_enabled)
                    .build(),
            );
        }
        if let Some(spec) = &self.alarm_configuration {
            let alarms = spec
                .alarms
                .iter()
                .map(|a| aws_sdk_ssm::types::Alarm::builder().name(&a.name).build())
                .collect::<Result<Vec<_>, _>>()
                .map_err(|err| SsmError::Invalid(format!("AlarmConfiguration: {err}")))?;
            let config = AlarmConfiguration::builder()
                .set_ignore_poll_alarm_failure(spec.ignore_poll_alarm_failure)
                .set_alarms(Some(alarms))
                .build()
                .map_err(|err| SsmError::Invalid(format!("AlarmConfiguration: {err}")))?;
            request = request.alarm_configuration(config);
        }
        Ok(request)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn api_names_read_and_a_single_string_is_a_list() {
        let kwargs: RunCommandKwargs = serde_json::from_value(json!({
            "InstanceIds": ["i-1"],
            "Parameters": {"commands": "uname -a", "workingDirectory": ["/tmp"]},
            "TimeoutSeconds": 60, "MaxConcurrency": "50%", "MaxErrors": 1
        }))
        .unwrap();
        assert_eq!(
            kwargs.parameters.unwrap()["commands"],
            StringList(vec!["uname -a".into()])
        );
        assert_eq!(kwargs.max_errors, Some(NumberOrText::Number(1)));
    }

    #[test]
    fn a_misspelled_name_is_an_error_naming_it() {
        let err = serde_json::from_value::<RunCommandKwargs>(json!({"InstanceId": ["i-1"]}))
            .unwrap_err()
            .to_string();
        assert!(err.contains("unknown field `InstanceId`"), "{err}");
        assert!(err.contains("InstanceIds"), "{err}");
    }

    #[test]
    fn more_than_50_instance_ids_are_refused_naming_the_limit() {
        let kwargs = RunCommandKwargs {
            instance_ids: Some((0..51).map(|n| format!("i-{n}")).collect()),
            ..Default::default()
        };
        let err = kwargs.validate().unwrap_err().to_string();
        assert!(
            err.contains("51 ids") && err.contains("at most 50"),
            "{err}"
        );
        assert!(RunCommandKwargs::default().validate().is_err());
    }
}
