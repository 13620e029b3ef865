use crate::support::*;

#[test]
fn the_sensor_runs_alone_on_a_command_given_with_xcom() {
    let served = serve();
    let connection = format!(
        "aws://gust:gust@/?region_name=us-east-1&endpoint_url={}",
        served.url
    );

    let sent = ran(
        gust(&["tasks", "test", "ssm_run_command", "run_command", "--json"])
            .env("AIRFLOW_CONN_AWS_DEFAULT", &connection)
            .output()
            .unwrap(),
    );
    assert_eq!(sent.code, 0, "{}", sent.all());
    let report: serde_json::Value = serde_json::from_str(&sent.stdout).unwrap();
    assert_eq!(
        report["tasks"].as_array().unwrap().len(),
        1,
        "only the one task ran"
    );
    let command_id = report["xcom"]["run_command"]["return_value"]
        .as_str()
        .unwrap()
        .to_owned();

    let xcom = format!("run_command={command_id}");
    let waited = ran(gust(&[
        "tasks",
        "test",
        "ssm_run_command",
        "await_run_command",
        "--xcom",
        &xcom,
    ])
    .env("AIRFLOW_CONN_AWS_DEFAULT", &connection)
    .output()
    .unwrap());
    assert_eq!(waited.code, 0, "{}", waited.all());
    assert!(
        waited.stdout.contains("await_run_command  success"),
        "{}",
        waited.stdout
    );
}

#[test]
fn a_missing_upstream_output_is_named_before_anything_runs() {
    let out = run(&["tasks", "test", "ssm_run_command", "get_output"]);
    assert_eq!(out.code, 2, "{}", out.all());
    assert!(
        out.stderr.contains("give it with --xcom run_command=VALUE"),
        "{}",
        out.stderr
    );
}
