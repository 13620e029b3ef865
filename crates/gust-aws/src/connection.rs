//! Airflow's `aws` connection: login and password, and the extras that configure a client.
//!
//! A connection is written in one of Airflow's two forms: a URI
//! (`aws://KEY:SECRET@/?region_name=eu-west-1`) or JSON
//! (`{"conn_type": "aws", "login": "KEY", "password": "SECRET", "extra": {...}}`).
//! In URI query strings, gust reads `true` and `false` as booleans.

use std::path::PathBuf;

use percent_encoding::percent_decode_str;
use serde_json::{Map, Value};

use crate::error::AwsError;
use crate::secret::Secret;

/// Whether and how TLS certificates are verified.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Verify {
    /// Verify against the system's roots (the default).
    On,
    /// Do not verify (logged as a warning).
    Off,
    /// Verify against the certificates of this PEM bundle.
    CaBundle(PathBuf),
}

impl Verify {
    /// Reads Airflow's `verify`: a boolean, or a CA bundle path. The strings `"true"`
    /// and `"false"` are booleans (Airflow would take `"false"` as a path).
    pub fn from_value(setting: &str, value: &Value) -> Result<Option<Verify>, AwsError> {
        match value {
            Value::Null => Ok(None),
            Value::Bool(true) => Ok(Some(Verify::On)),
            Value::Bool(false) => Ok(Some(Verify::Off)),
            Value::String(text) => Ok(Some(match text.trim() {
                "" => return Ok(None),
                t if t.eq_ignore_ascii_case("true") => Verify::On,
                t if t.eq_ignore_ascii_case("false") => Verify::Off,
                path => Verify::CaBundle(PathBuf::from(path)),
            })),
            other => Err(AwsError::setting(
                setting,
                format!(
                    "expected true, false or a CA bundle path, found {}",
                    kind(other)
                ),
            )),
        }
    }
}

/// The extras of an `aws` connection that gust reads.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct AwsExtra {
    /// `aws_access_key_id`.
    pub aws_access_key_id: Option<Secret>,
    /// `aws_secret_access_key`.
    pub aws_secret_access_key: Option<Secret>,
    /// `aws_session_token`.
    pub aws_session_token: Option<Secret>,
    /// `region_name`.
    pub region_name: Option<String>,
    /// `profile_name`: a profile of the shared AWS config files.
    pub profile_name: Option<String>,
    /// `role_arn`: a role to assume.
    pub role_arn: Option<String>,
    /// `assume_role_method`: `assume_role` is supported.
    pub assume_role_method: Option<String>,
    /// `assume_role_kwargs`: `RoleSessionName`, `ExternalId`, `DurationSeconds`, `Policy`.
    pub assume_role_kwargs: Map<String, Value>,
    /// `config_kwargs`: client settings, as in `botocore_config`.
    pub config_kwargs: Option<Map<String, Value>>,
    /// `endpoint_url`, for every service.
    pub endpoint_url: Option<String>,
    /// `service_config.ssm.endpoint_url`, which wins over `endpoint_url` for SSM.
    pub ssm_endpoint_url: Option<String>,
    /// `verify`.
    pub verify: Option<Verify>,
}

/// An Airflow connection of type `aws`.
#[derive(Debug, Clone, PartialEq)]
pub struct AwsConnection {
    /// The connection's id, e.g. `aws_default`.
    pub conn_id: String,
    /// The access key id, if given as the login.
    pub login: Option<Secret>,
    /// The secret access key, if given as the password.
    pub password: Option<Secret>,
    /// The extras.
    pub extra: AwsExtra,
}

impl AwsConnection {
    /// A connection with nothing set.
    pub fn new(conn_id: impl Into<String>) -> Self {
        AwsConnection {
            conn_id: conn_id.into(),
            login: None,
            password: None,
            extra: AwsExtra::default(),
        }
    }

    /// Reads a connection from its text, URI or JSON, found in `source_name`.
    pub fn parse(conn_id: &str, source_name: &str, text: &str) -> Result<Self, AwsError> {
        let text = text.trim();
        let parsed = if text.starts_with('{') {
            let value: Result<Value, String> = serde_json::from_str(text).map_err(|err| {
                format!(
                    "not valid JSON (line {}, column {})",
                    err.line(),
                    err.column()
                )
            });
            value.and_then(|value| Self::from_json(conn_id, &value))
        } else {
            Self::from_uri(conn_id, text)
        };
        parsed.map_err(|reason| AwsError::BadConnection {
            conn_id: conn_id.to_owned(),
            source_name: source_name.to_owned(),
            reason,
        })
    }

    /// Reads a connection from Airflow's JSON form.
    pub fn from_json(conn_id: &str, value: &Value) -> Result<Self, String> {
        let Value::Object(fields) = value else {
            return Err(format!("expected a JSON object, found {}", kind(value)));
        };
        check_type(fields.get("conn_type"))?;
        let text = |key: &str| -> Result<Option<String>, String> {
            match fields.get(key) {
                None | Some(Value::Null) => Ok(None),
                Some(Value::String(s)) if s.is_empty() => Ok(None),
                Some(Value::String(s)) => Ok(Some(s.clone())),
                Some(other) => Err(format!("'{key}' must be a string, found {}", kind(other))),
            }
        };
        let extra = match fields.get("extra") {
            None | Some(Value::Null) => Map::new(),
            Some(Value::Object(map)) => map.clone(),
            // Airflow also accepts the extras as a JSON document inside a string.
            Some(Value::String(inner)) if inner.trim().is_empty() => Map::new(),
            Some(Value::String(inner)) => match serde_json::from_str(inner) {
                Ok(Value::Object(map)) => map,
                _ => return Err("'extra' must be a JSON object".to_owned()),
            },
            Some(other) => return Err(format!("'extra' must be an object, found {}", kind(other))),
        };
        Ok(AwsConnection {
            conn_id: conn_id.to_owned(),
            login: text("login")?.map(Secret::new),
            password: text("password")?.map(Secret::new),
            extra: AwsExtra::from_map(&extra)?,
        })
    }

    /// Reads a connection from Airflow's URI form.
    pub fn from_uri(conn_id: &str, uri: &str) -> Result<Self, String> {
        let (scheme, rest) = uri.split_once("://").ok_or_else(|| {
            "expected a URI such as aws://KEY:SECRET@/?region_name=...".to_owned()
        })?;
        check_type(Some(&Value::String(scheme.replace('-', "_"))))?;
        let (before_query, query) = rest.split_once('?').unwrap_or((rest, ""));
        let authority = before_query.split('/').next().unwrap_or("");
        let userinfo = authority.rsplit_once('@').map(|(info, _)| info);

        let decode = |part: &str| -> Result<Option<String>, String> {
            let decoded = percent_decode_str(part).decode_utf8().map_err(|_| {
                "the login or password is not valid percent-encoded UTF-8".to_owned()
            })?;
            Ok((!decoded.is_empty()).then(|| decoded.into_owned()))
        };
        let (login, password) = match userinfo {
            Some(info) => match info.split_once(':') {
                Some((login, password)) => (decode(login)?, decode(password)?),
                None => (decode(info)?, None),
            },
            None => (None, None),
        };

        let mut extra = Map::new();
        for (key, value) in url::form_urlencoded::parse(query.as_bytes()) {
            if key == "__extra__" {
                match serde_json::from_str(&value) {
                    Ok(Value::Object(map)) => extra.extend(map),
                    _ => return Err("__extra__ must hold a JSON object".to_owned()),
                }
                continue;
            }
            let value = match value.as_ref() {
                "true" => Value::Bool(true),
                "false" => Value::Bool(false),
                other => Value::String(other.to_owned()),
            };
            extra.insert(key.into_owned(), value);
        }
        Ok(AwsConnection {
            conn_id: conn_id.to_owned(),
            login: login.map(Secret::new),
            password: password.map(Secret::new),
            extra: AwsExtra::from_map(&extra)?,
        })
    }
}

fn check_type(conn_type: Option<&Value>) -> Result<(), String> {
    match conn_type {
        None | Some(Value::Null) => Ok(()),
        Some(Value::String(t)) if t == "aws" || t.is_empty() => Ok(()),
        Some(other) => Err(format!(
            "conn_type must be 'aws', found {}",
            match other {
                Value::String(t) => format!("'{t}'"),
                other => kind(other).to_owned(),
            }
        )),
    }
}

impl AwsExtra {
    /// Reads the extras gust knows from a map; other keys are ignored, as in Airflow.
    pub fn from_map(map: &Map<String, Value>) -> Result<Self, String> {
        let text = |key: &str| -> Result<Option<String>, String> {
            match map.get(key) {
                None | Some(Value::Null) => Ok(None),
                Some(Value::String(s)) if s.is_empty() => Ok(None),
                Some(Value::String(s)) => Ok(Some(s.clone())),
                Some(other) => Err(format!(
                    "extra '{key}' must be a string, found {}",
                    kind(other)
                )),
            }
        };
        let object = |key: &str| -> Result<Option<Map<String, Value>>, String> {
            match map.get(key) {
                None | Some(Value::Null) => Ok(None),
                Some(Value::Object(inner)) => Ok(Some(inner.clone())),
                Some(other) => Err(format!(
                    "extra '{key}' must be an object, found {}",
                    kind(other)
                )),
            }
        };
        let ssm_endpoint_url = match object("service_config")? {
            Some(services) => match services.get("ssm") {
                Some(Value::Object(ssm)) => match ssm.get("endpoint_url") {
                    None | Some(Value::Null) => None,
                    Some(Value::String(url)) => Some(url.clone()),
                    Some(other) => {
                        return Err(format!(
                            "extra 'service_config.ssm.endpoint_url' must be a string, found {}",
                            kind(other)
                        ));
                    }
                },
                _ => None,
            },
            None => None,
        };
        let verify = match map.get("verify") {
            Some(value) => {
                Verify::from_value("extra 'verify'", value).map_err(|e| e.to_string())?
            }
            None => None,
        };
        Ok(AwsExtra {
            aws_access_key_id: text("aws_access_key_id")?.map(Secret::new),
            aws_secret_access_key: text("aws_secret_access_key")?.map(Secret::new),
            aws_session_token: text("aws_session_token")?.map(Secret::new),
            region_name: text("region_name")?,
            profile_name: text("profile_name")?,
            role_arn: text("role_arn")?,
            assume_role_method: text("assume_role_method")?,
            assume_role_kwargs: object("assume_role_kwargs")?.unwrap_or_default(),
            config_kwargs: object("config_kwargs")?,
            endpoint_url: text("endpoint_url")?,
            ssm_endpoint_url,
            verify,
        })
    }
}

/// A JSON value's kind, for messages that must not repeat the value.
pub(crate) fn kind(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "a list",
        Value::Object(_) => "an object",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn the_uri_form_gives_keys_region_and_boolean_extras() {
        let conn = AwsConnection::parse(
            "aws_default",
            "AIRFLOW_CONN_AWS_DEFAULT",
            "aws://AKIAEXAMPLE:se%2Fcret@/?region_name=eu-west-1&verify=false",
        )
        .unwrap();
        assert_eq!(conn.login.unwrap().expose(), "AKIAEXAMPLE");
        assert_eq!(conn.password.unwrap().expose(), "se/cret");
        assert_eq!(conn.extra.region_name.as_deref(), Some("eu-west-1"));
        assert_eq!(conn.extra.verify, Some(Verify::Off));
    }

    #[test]
    fn the_uri_form_takes_extras_as_json_too() {
        let extra = r#"{"service_config":{"ssm":{"endpoint_url":"http://127.0.0.1:9"}}}"#;
        let uri = format!(
            "aws://?__extra__={}",
            url::form_urlencoded::byte_serialize(extra.as_bytes()).collect::<String>()
        );
        let conn = AwsConnection::parse("c", "test", &uri).unwrap();
        assert_eq!(conn.login, None);
        assert_eq!(
            conn.extra.ssm_endpoint_url.as_deref(),
            Some("http://127.0.0.1:9")
        );
    }

    #[test]
    fn the_json_form_reads_extras_given_as_an_object_or_a_string() {
        let as_object = json!({
            "conn_type": "aws",
            "login": "AKIAEXAMPLE",
            "password": "secret",
            "extra": {"region_name": "us-east-2", "endpoint_url": "http://localhost:1",
                      "config_kwargs": {"read_timeout": 5}, "verify": "/etc/ca.pem"}
        });
        let conn = AwsConnection::parse("c", "test", &as_object.to_string()).unwrap();
        assert_eq!(conn.extra.region_name.as_deref(), Some("us-east-2"));
        assert_eq!(
            conn.extra.endpoint_url.as_deref(),
            Some("http://localhost:1")
        );
        assert_eq!(
            conn.extra.config_kwargs,
            Some(json!({"read_timeout": 5}).as_object().unwrap().clone())
        );
        assert_eq!(
            conn.extra.verify,
            Some(Verify::CaBundle("/etc/ca.pem".into()))
        );

        let as_string = json!({"conn_type": "aws", "extra": "{\"region_name\": \"ap-south-1\"}"});
        let conn = AwsConnection::parse("c", "test", &as_string.to_string()).unwrap();
        assert_eq!(conn.extra.region_name.as_deref(), Some("ap-south-1"));
    }

    #[test]
    fn errors_name_the_connection_and_never_repeat_its_text() {
        let secret_uri = "postgres://user:hunter2@db/?x=1";
        let err = AwsConnection::parse("db", "AIRFLOW_CONN_DB", secret_uri).unwrap_err();
        let text = err.to_string();
        assert!(
            text.contains("connection 'db' from AIRFLOW_CONN_DB"),
            "{text}"
        );
        assert!(text.contains("conn_type must be 'aws'"), "{text}");
        assert!(!text.contains("hunter2"), "{text}");

        let err = AwsConnection::parse("j", "file", "{\"password\": \"hunter2\", ").unwrap_err();
        assert!(!err.to_string().contains("hunter2"));
        let err =
            AwsConnection::parse("j", "file", r#"{"extra": {"region_name": 3}}"#).unwrap_err();
        assert!(
            err.to_string()
                .contains("extra 'region_name' must be a string")
        );
    }

    #[test]
    fn secrets_do_not_show_in_debug_output() {
        let conn = AwsConnection::parse(
            "c",
            "t",
            "aws://AKIAEXAMPLE:hunter2@/?aws_session_token=tok3n",
        )
        .unwrap();
        let debug = format!("{conn:?}");
        assert!(
            !debug.contains("hunter2")
                && !debug.contains("AKIAEXAMPLE")
                && !debug.contains("tok3n"),
            "{debug}"
        );
    }
}
