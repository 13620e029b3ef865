use crate::support::*;

#[test]
fn every_example_dag_validates() {
    let out = run(&["dags", "validate", "dags"]);
    assert_eq!(out.code, 0, "{}", out.all());
    assert!(out.stdout.contains("valid"), "{}", out.stdout);
}

#[test]
fn the_main_job_runs_on_local_nodes_and_prints_the_script_s_output() {
    let out = run(&["dags", "test", "dags/ssm_run_command.yaml", "--local-nodes"]);
    assert_eq!(out.code, 0, "{}", out.all());
    assert!(out.stdout.contains("Hello from "), "{}", out.stdout);
    assert!(
        out.stdout
            .contains("--- get_output on mi-00000000000000001: Success (exit code 0)"),
        "{}",
        out.stdout
    );
    assert!(out.stdout.contains(": success"), "{}", out.stdout);
}

#[test]
fn a_script_that_exits_2_fails_the_run_and_names_the_failed_task() {
    let dir = tempfile::tempdir().unwrap();
    let dag = write(
        dir.path(),
        "fails.yaml",
        "dag_id: fails\ntasks:\n  - id: run_command\n    uses: SsmRunCommandOperator\n    with:\n      \
         document_name: AWS-RunShellScript\n      run_command_kwargs:\n        InstanceIds: [mi-00000000000000001]\n        \
         Parameters: {commands: ['echo about to fail', 'exit 2']}\n      waiter_delay: 1\n",
    );
    let out = run(&["dags", "test", dag.to_str().unwrap(), "--local-nodes"]);
    assert_eq!(out.code, 1, "{}", out.all());
    assert!(
        out.stdout.contains("run_command failed: command "),
        "{}",
        out.stdout
    );
    assert!(
        out.stdout.contains("status Failed, exit code 2"),
        "{}",
        out.stdout
    );
}

#[test]
fn broken_files_each_give_one_located_error_and_exit_1() {
    let out = run(&["dags", "validate", "tests/fixtures/broken"]);
    assert_eq!(out.code, 1, "{}", out.all());
    let expected = [
        ("bad_yaml.yaml:5:", "not valid YAML"),
        (
            "unknown_operator.yaml:4:11: tasks[0].uses",
            "unknown operator 'SsmRunComandOperator' (did you mean SsmRunCommandOperator?)",
        ),
        (
            "misspelled_parameter.yaml:7:7: tasks[0].with.wait_for_complete",
            "did you mean wait_for_completion?",
        ),
        (
            "cycle.yaml:3:9: tasks",
            "the dependencies form a cycle: a -> b -> c -> a",
        ),
        (
            "unknown_xcom_task.yaml:11:24: tasks[1].with.command_id",
            "$x refers to task 'sned'",
        ),
        (
            "wrong_type.yaml:7:7: tasks[0].with.waiter_max_attempts",
            "expected a whole number, found a string",
        ),
    ];
    let lines: Vec<&str> = out
        .stdout
        .lines()
        .filter(|l| l.contains(".yaml:"))
        .collect();
    assert_eq!(lines.len(), expected.len(), "{}", out.stdout);
    for (place, message) in expected {
        assert!(
            lines
                .iter()
                .any(|l| l.contains(place) && l.contains(message)),
            "no line with {place} and {message} in:\n{}",
            out.stdout
        );
    }
}

#[test]
fn a_file_in_airflow_class_path_style_loads_and_runs() {
    let out = run(&["dags", "test", "dags/ssm_deferrable.yaml", "--local-nodes"]);
    assert_eq!(out.code, 0, "{}", out.all());
    assert!(
        out.stdout.contains("deferred and resumed"),
        "{}",
        out.stdout
    );
}

#[test]
fn a_send_by_tag_reaches_every_web_node_of_the_nodes_file() {
    let out = run(&[
        "dags",
        "test",
        "ssm_fleet",
        "--local-nodes",
        "--nodes",
        "dags/fleet-nodes.yaml",
        "--json",
    ]);
    assert_eq!(out.code, 0, "{}", out.all());
    let report: serde_json::Value = serde_json::from_str(&out.stdout).unwrap();
    let invocations = report["xcom"]["get_output"]["return_value"]["invocations"]
        .as_array()
        .unwrap();
    let mut nodes: Vec<&str> = invocations
        .iter()
        .map(|i| i["instance_id"].as_str().unwrap())
        .collect();
    nodes.sort();
    assert_eq!(
        nodes,
        [
            "mi-00000000000000001",
            "mi-00000000000000002",
            "mi-00000000000000003"
        ]
    );
    assert!(invocations.iter().all(|i| {
        i["standard_output"]
            .as_str()
            .unwrap()
            .starts_with("deploying on mi-")
    }));
}

#[test]
fn json_output_and_exit_codes_follow_the_run() {
    let out = run(&["dags", "test", "bash_pipeline", "--json"]);
    assert_eq!(out.code, 0, "{}", out.all());
    let report: serde_json::Value = serde_json::from_str(&out.stdout).unwrap();
    assert_eq!(report["state"], "success");
    let said = report["xcom"]["report"]["return_value"].as_str().unwrap();
    assert!(
        said.starts_with("/etc holds ") && said.ends_with(" entries"),
        "{said}"
    );
}

#[test]
fn show_draws_the_dag_in_three_formats() {
    let text = run(&["dags", "show", "ssm_run_command"]);
    assert_eq!(text.code, 0, "{}", text.all());
    assert!(
        text.stdout
            .contains("get_output (SsmGetCommandInvocationOperator)")
    );
    assert!(
        text.stdout
            .contains("needs: await_run_command, run_command"),
        "{}",
        text.stdout
    );
    let dot = run(&["dags", "show", "ssm_run_command", "--format", "dot"]);
    assert!(
        dot.stdout
            .contains("\"run_command\" -> \"await_run_command\";"),
        "{}",
        dot.stdout
    );
    let mermaid = run(&["dags", "show", "ssm_run_command", "--format", "mermaid"]);
    assert!(
        mermaid.stdout.starts_with("flowchart LR"),
        "{}",
        mermaid.stdout
    );
}

#[test]
fn unknown_dags_and_bad_arguments_are_clear_errors() {
    let out = run(&["dags", "test", "ssm_run_comand"]);
    assert_eq!(out.code, 2);
    assert!(
        out.stderr
            .contains("no DAG 'ssm_run_comand' in dags (did you mean ssm_run_command?)"),
        "{}",
        out.stderr
    );
    let out = run(&[
        "dags",
        "test",
        "ssm_exit_code_routing",
        "--conf",
        r#"{"exit_cod": 0}"#,
        "--local-nodes",
    ]);
    assert!(
        out.stderr.contains(
            "warning: --conf key 'exit_cod' is not a param of DAG ssm_exit_code_routing \
             (did you mean exit_code?)"
        ),
        "{}",
        out.stderr
    );
    let out = run(&["dags", "test", "bash_pipeline", "--conf", "[1]"]);
    assert_eq!(out.code, 2);
    assert!(
        out.stderr.contains("--conf must be a JSON object"),
        "{}",
        out.stderr
    );
}

#[test]
fn the_schema_lists_the_operators_and_their_parameters() {
    let out = run(&["dags", "schema"]);
    assert_eq!(out.code, 0);
    let schema: serde_json::Value = serde_json::from_str(&out.stdout).unwrap();
    let text = schema.to_string();
    for name in [
        "SsmRunCommandOperator",
        "run_command_kwargs",
        "poke_interval",
        "BashOperator",
        "$x",
    ] {
        assert!(text.contains(name), "{name} missing from the schema");
    }
}

#[test]
fn list_shows_every_dag_of_the_folder() {
    let out = run(&["dags", "list"]);
    assert_eq!(out.code, 0, "{}", out.all());
    for dag in [
        "bash_pipeline",
        "ssm_run_command",
        "ssm_fleet",
        "ssm_deferrable",
        "ssm_exit_code_routing",
    ] {
        assert!(
            out.stdout.contains(dag),
            "{dag} not listed:\n{}",
            out.stdout
        );
    }
}
