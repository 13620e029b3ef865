use std::collections::HashMap;

use serde_json::json;

use super::*;

fn connections(vars: &[(&str, &str)]) -> Connections {
    let vars: HashMap<String, String> = vars
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    Connections::default().with_env_lookup(move |name| vars.get(name).cloned())
}

fn conn_json(extra: serde_json::Value) -> String {
    json!({"conn_type": "aws", "login": "AKIAEXAMPLE", "password": "hunter2", "extra": extra})
        .to_string()
}

#[test]
fn operator_parameters_win_over_connection_extras() {
    let extra = json!({"region_name": "eu-west-1", "verify": true,
                       "config_kwargs": {"read_timeout": 10}});
    let conns = connections(&[("AIRFLOW_CONN_AWS_DEFAULT", &conn_json(extra))]);
    let params = AwsParams {
        region_name: Some("eu-west-2".into()),
        verify: Some(Verify::Off),
        botocore_config: Some(json!({"connect_timeout": 2}).as_object().unwrap().clone()),
        ..AwsParams::operator_default()
    };
    let settings = resolve(&params, &conns).unwrap();
    assert_eq!(settings.region.as_deref(), Some("eu-west-2"));
    assert_eq!(settings.verify, Verify::Off);
    // botocore_config replaced config_kwargs whole: its read_timeout is gone.
    assert_eq!(settings.options.read_timeout, None);
    assert_eq!(
        settings.options.connect_timeout,
        Some(Duration::from_secs(2))
    );
}

#[test]
fn an_empty_botocore_config_still_replaces_config_kwargs() {
    let extra = json!({"config_kwargs": {"read_timeout": 10}});
    let conns = connections(&[("AIRFLOW_CONN_AWS_DEFAULT", &conn_json(extra))]);
    let with_empty = AwsParams {
        botocore_config: Some(Map::new()),
        ..AwsParams::operator_default()
    };
    assert_eq!(
        resolve(&with_empty, &conns).unwrap().options,
        ClientOptions::default()
    );
    let without = resolve(&AwsParams::operator_default(), &conns).unwrap();
    assert_eq!(without.options.read_timeout, Some(Duration::from_secs(10)));
}

#[test]
fn the_ssm_endpoint_wins_over_the_generic_one() {
    let extra = json!({"endpoint_url": "http://generic:1",
                       "service_config": {"ssm": {"endpoint_url": "http://ssm:2"}}});
    let conns = connections(&[("GUST_CONN_AWS_DEFAULT", &conn_json(extra))]);
    let settings = resolve(&AwsParams::operator_default(), &conns).unwrap();
    assert_eq!(settings.endpoint_url.as_deref(), Some("http://ssm:2"));
}

#[test]
fn credentials_come_from_login_then_extras_then_profile_then_the_chain() {
    let both = json!({"conn_type": "aws", "login": "LOGINKEY", "password": "p",
                      "extra": {"aws_access_key_id": "EXTRAKEY", "aws_secret_access_key": "s"}});
    let conns = connections(&[
        ("AIRFLOW_CONN_BOTH", &both.to_string()),
        (
            "AIRFLOW_CONN_EXTRAS",
            r#"{"extra": {"aws_access_key_id": "EXTRAKEY", "aws_secret_access_key": "s", "aws_session_token": "t"}}"#,
        ),
        ("AIRFLOW_CONN_PROFILE", "aws://?profile_name=ops"),
    ]);
    let creds = |id: Option<&str>| {
        let params = AwsParams {
            aws_conn_id: id.map(str::to_owned),
            ..AwsParams::default()
        };
        resolve(&params, &conns).unwrap().credentials
    };
    let key_of = |c: Credentials| match c {
        Credentials::Static {
            access_key_id,
            session_token,
            ..
        } => (access_key_id.expose().to_owned(), session_token.is_some()),
        other => panic!("expected keys, got {other:?}"),
    };
    assert_eq!(key_of(creds(Some("both"))), ("LOGINKEY".to_owned(), false));
    assert_eq!(key_of(creds(Some("extras"))), ("EXTRAKEY".to_owned(), true));
    assert_eq!(creds(Some("profile")), Credentials::Profile("ops".into()));
    assert_eq!(creds(None), Credentials::DefaultChain);
}

#[test]
fn a_missing_connection_warns_and_uses_the_chain() {
    let settings = resolve(&AwsParams::operator_default(), &connections(&[])).unwrap();
    assert_eq!(settings.credentials, Credentials::DefaultChain);
}

#[test]
fn roles_are_assumed_with_assume_role_only() {
    let conns = connections(&[
        (
            "AIRFLOW_CONN_ROLE",
            r#"{"extra": {"role_arn": "arn:aws:iam::1:role/r", "assume_role_kwargs": {"RoleSessionName": "s", "DurationSeconds": 900}}}"#,
        ),
        (
            "AIRFLOW_CONN_SAML",
            r#"{"extra": {"role_arn": "arn:aws:iam::1:role/r", "assume_role_method": "assume_role_with_saml"}}"#,
        ),
    ]);
    let params = |id: &str| AwsParams {
        aws_conn_id: Some(id.into()),
        ..AwsParams::default()
    };
    let role = resolve(&params("role"), &conns)
        .unwrap()
        .assume_role
        .unwrap();
    assert_eq!(role.session_name.as_deref(), Some("s"));
    assert_eq!(role.duration, Some(Duration::from_secs(900)));
    let err = resolve(&params("saml"), &conns).unwrap_err().to_string();
    assert!(
        err.contains("assume_role_with_saml") && err.contains("not supported yet"),
        "{err}"
    );
}

#[test]
fn the_endpoint_override_points_every_connection_at_one_service_with_dummy_keys() {
    let conns = connections(&[(
        "AIRFLOW_CONN_AWS_DEFAULT",
        &conn_json(json!({"role_arn": "arn:x"})),
    )])
    .override_endpoint("http://127.0.0.1:4000");
    let settings = resolve(&AwsParams::operator_default(), &conns).unwrap();
    assert_eq!(
        settings.endpoint_url.as_deref(),
        Some("http://127.0.0.1:4000")
    );
    assert_eq!(settings.assume_role, None);
    assert_eq!(settings.region.as_deref(), Some("us-east-1"));
}

#[test]
fn params_round_trip_through_json() {
    let params = AwsParams {
        aws_conn_id: None,
        region_name: Some("eu-west-2".into()),
        verify: Some(Verify::Off),
        botocore_config: Some(json!({"read_timeout": 42}).as_object().unwrap().clone()),
    };
    let json = params.to_json();
    assert_eq!(
        serde_json::Value::Object(json.clone()),
        json!({"aws_conn_id": null, "region_name": "eu-west-2", "verify": false,
               "botocore_config": {"read_timeout": 42}})
    );
    assert_eq!(AwsParams::from_json(&json).unwrap(), params);
}

#[test]
fn secrets_stay_out_of_settings_debug_output() {
    let conns = connections(&[(
        "AIRFLOW_CONN_AWS_DEFAULT",
        &conn_json(json!({"aws_session_token": "tok3n"})),
    )]);
    let settings = resolve(&AwsParams::operator_default(), &conns).unwrap();
    let debug = format!("{settings:?}");
    assert!(
        !debug.contains("hunter2") && !debug.contains("AKIAEXAMPLE") && !debug.contains("tok3n")
    );
}
