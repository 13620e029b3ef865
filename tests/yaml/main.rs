//! The YAML DAG format with the real operators: what loads, what it means, and where the
//! errors point.

use std::path::Path;
use std::time::Duration;

use gust::core::{SensorMode, TriggerRule};
use gust::registry::operators;
use gust::yaml::{FileLoad, load_str};

fn load(yaml: &str) -> FileLoad {
    load_str(yaml, Path::new("test.yaml"), &operators())
}

fn error_of(yaml: &str) -> String {
    let load = load(yaml);
    assert!(load.dags.is_empty(), "expected an error, the DAG loaded");
    load.errors[0].to_string()
}

#[test]
fn default_args_reach_task_settings_and_the_operator_parameters_that_exist() {
    let load = load(
        "dag_id: d\ndefault_args:\n  retries: 2\n  retry_delay: 1m30s\n  aws_conn_id: ops\n\
         tasks:\n  - id: send\n    uses: SsmRunCommandOperator\n    with:\n      document_name: AWS-RunShellScript\n\
         \x20     retries: 5\n  - id: shell\n    uses: BashOperator\n    with: {bash_command: 'true'}\n",
    );
    assert!(load.errors.is_empty(), "{:?}", load.errors);
    let dag = &load.dags[0].dag;
    assert_eq!(dag.get("send").unwrap().settings().retries, 5);
    assert_eq!(dag.get("shell").unwrap().settings().retries, 2);
    assert_eq!(
        dag.get("shell").unwrap().settings().retry_delay,
        Duration::from_secs(90)
    );
}

#[test]
fn references_add_dependencies_and_settings_are_read() {
    let load = load(
        "dag_id: d\nmax_active_tasks: 4\ndagrun_timeout: 1h\ntags: [a, b]\nparams: {script: uptime}\n\
         tasks:\n  - id: send\n    uses: SsmRunCommandOperator\n    with: {document_name: AWS-RunShellScript}\n\
         \x20 - id: wait\n    uses: SsmRunCommandCompletedSensor\n    with:\n      command_id: {$x: send}\n\
         \x20     mode: reschedule\n      poke_interval: 5\n      timeout: 10m\n      soft_fail: true\n\
         \x20     trigger_rule: all_done\n      execution_timeout: 90s\n",
    );
    assert!(load.errors.is_empty(), "{:?}", load.errors);
    let dag = &load.dags[0].dag;
    assert_eq!(dag.dependencies()[1], ("wait", vec!["send"]));
    let wait = dag.get("wait").unwrap();
    let sensor = wait.kind().sensor_settings().unwrap();
    assert_eq!(sensor.mode, SensorMode::Reschedule);
    assert_eq!(sensor.poke_interval, Duration::from_secs(5));
    assert_eq!(sensor.timeout, Duration::from_secs(600));
    assert!(sensor.soft_fail);
    assert_eq!(wait.settings().trigger_rule, TriggerRule::AllDone);
    assert_eq!(
        wait.settings().execution_timeout,
        Some(Duration::from_secs(90))
    );
    assert_eq!(dag.settings().max_active_tasks, 4);
    assert_eq!(
        dag.settings().dagrun_timeout,
        Some(Duration::from_secs(3600))
    );
    assert_eq!(dag.settings().params["script"], "uptime");
}

#[test]
fn several_dags_in_one_file() {
    let load = load(
        "dag_id: one\ntasks: [{id: a, uses: EmptyOperator}]\n---\ndag_id: two\ntasks: [{id: b, uses: EmptyOperator}]\n",
    );
    let ids: Vec<&str> = load.dags.iter().map(|d| &**d.dag.dag_id()).collect();
    assert_eq!(ids, ["one", "two"]);
}

#[test]
fn a_file_marker_reads_a_script_next_to_the_dag() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("script.sh"), "echo from a file\n").unwrap();
    let file = dir.path().join("dag.yaml");
    let text = "dag_id: d\ntasks:\n  - id: a\n    uses: BashOperator\n    with:\n      bash_command: {$f: script.sh}\n";
    let load = load_str(text, &file, &operators());
    assert!(load.errors.is_empty(), "{:?}", load.errors);
    let missing = "dag_id: d\ntasks:\n  - id: a\n    uses: BashOperator\n    with:\n      bash_command: {$f: nope.sh}\n";
    let load = load_str(missing, &file, &operators());
    assert!(
        load.errors[0].to_string().contains("cannot read"),
        "{}",
        load.errors[0]
    );
}

#[test]
fn errors_point_at_file_line_column_and_path() {
    let cases = [
        (
            "dag_id: d\nschedul: '@daily'\ntasks: [{id: a, uses: EmptyOperator}]\n",
            "test.yaml:2:1: schedul: unknown DAG key 'schedul' (did you mean schedule?)",
        ),
        (
            "tasks: [{id: a, uses: EmptyOperator}]\n",
            "test.yaml:1:1: the DAG needs a dag_id",
        ),
        (
            "dag_id: d\ntasks:\n  - id: a\n    uses: BashOperator\n",
            "test.yaml:3:5: tasks[0].with: BashOperator needs the parameter 'bash_command' (a string)",
        ),
        (
            "dag_id: d\ntasks:\n  - id: a\n    uses: EmptyOperator\n  - id: a\n    uses: EmptyOperator\n",
            "test.yaml:5:9: tasks[1].id: task id 'a' is already used by the task at line 3",
        ),
        (
            "dag_id: d\ntasks:\n  - id: a\n    uses: EmptyOperator\n    needs: [b]\n",
            "test.yaml:5:13: tasks[0].needs[0]: task 'a' needs 'b', which is not a task of this DAG",
        ),
        (
            "dag_id: d\ntasks:\n  - id: a\n    uses: EmptyOperator\n    with: {retry_delay: soon}\n",
            "test.yaml:5:25: tasks[0].with.retry_delay: 'soon' is not a duration",
        ),
        (
            "dag_id: d\ntasks:\n  - id: a\n    uses: EmptyOperator\n    with: {trigger_rule: all_good}\n",
            "test.yaml:5:26: tasks[0].with.trigger_rule: unknown trigger rule 'all_good'",
        ),
        (
            "dag_id: d\ntasks:\n  - id: a\n    uses: BashOperator\n    with: {bash_command: {$t: '{{ ds '}}\n",
            "test.yaml:5:31: tasks[0].with.bash_command: bad template",
        ),
        (
            "dag_id: d\ntasks:\n  - id: a\n    uses: BashOperator\n    with: {bash_command: {$y: x}}\n",
            "tasks[0].with.bash_command: unknown marker '$y'",
        ),
        (
            "dag_id: d\ntasks:\n  - id: a\n    uses: SsmRunCommandOperator\n    with:\n      document_name: x\n      wait_for_completion: {$t: '{{ params.w }}'}\n",
            "tasks[0].with.wait_for_completion: 'wait_for_completion' cannot be templated or referenced; give true or false",
        ),
        (
            "dag_id: d\ntasks:\n  - id: a\n    uses: SsmRunCommandOperator\n    with:\n      document_name: x\n      run_command_kwargs: {InstanceId: [i-1]}\n",
            "tasks[0].with.run_command_kwargs: unknown field `InstanceId`",
        ),
        (
            "dag_id: d\nschedule: every day\ntasks: [{id: a, uses: EmptyOperator}]\n",
            "test.yaml:2:11: schedule: 'every day' is neither a cron expression",
        ),
    ];
    for (yaml, expected) in cases {
        let err = error_of(yaml);
        assert!(err.contains(expected), "expected {expected:?} in {err:?}");
    }
}

#[test]
fn a_cycle_through_references_is_found_and_placed() {
    let err = error_of(
        "dag_id: d\ntasks:\n  - id: a\n    uses: SsmRunCommandCompletedSensor\n    with: {command_id: {$x: b}}\n\
         \x20 - id: b\n    uses: SsmRunCommandCompletedSensor\n    with: {command_id: {$x: a}}\n",
    );
    assert!(err.contains("the dependencies form a cycle"), "{err}");
}

#[test]
fn bad_input_never_panics() {
    let inputs = [
        "",
        "---",
        "[]",
        "42",
        "dag_id: [x]",
        "dag_id: d\ntasks: {}",
        "dag_id: d\ntasks: []",
        "dag_id: d\ntasks: [7]",
        "dag_id: d\ntasks: [{id: 1, uses: EmptyOperator}]",
        "dag_id: d\ntasks: [{id: a, uses: 3}]",
        "dag_id: d\ntasks: [{id: a, uses: EmptyOperator, with: []}]",
        "dag_id: d\ntasks: [{id: a, uses: EmptyOperator, needs: {x: 1}}]",
        "&a x: *a",
        "!!binary aGk=",
        "dag_id: 'has space'\ntasks: [{id: a, uses: EmptyOperator}]",
        "dag_id: d\nparams: {x: {$t: y}}\ntasks: [{id: a, uses: EmptyOperator}]",
        "dag_id: d\nmax_active_tasks: -1\ntasks: [{id: a, uses: EmptyOperator}]",
    ];
    for input in inputs {
        let load = load(input);
        let _ = load
            .errors
            .iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>();
    }
}
