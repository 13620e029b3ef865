//! Crash and resume: a `gust` process running an SSM DAG against the local service (in a
//! process of its own, so that it outlives gust) is killed with SIGKILL at a chosen
//! moment, then `gust runs resume` takes the run up again. Each resumed run must end as
//! an uninterrupted run does, with the same outputs, and the service must have received
//! exactly one SendCommand for the one try of the sending task.

use std::os::unix::process::ExitStatusExt;
use std::path::{Path, PathBuf};

use serde_json::Value;

use crate::support::*;

const ROUNDS: usize = 10;

const DAG: &str = "\
dag_id: crash_test
tasks:
  - id: run_command
    uses: SsmRunCommandOperator
    with:
      document_name: AWS-RunShellScript
      run_command_kwargs:
        InstanceIds: [mi-00000000000000001]
        Parameters:
          commands: ['sleep 2', 'echo the script ran once']
        Comment: crash test
      wait_for_completion: false
  - id: await_run_command
    uses: SsmRunCommandCompletedSensor
    with:
      command_id: {$x: run_command}
      deferrable: true
      poke_interval: 1
  - id: get_output
    uses: SsmGetCommandInvocationOperator
    needs: [await_run_command]
    with:
      command_id: {$x: run_command}
";

struct Rig {
    served: Served,
    home: PathBuf,
    dag: PathBuf,
}

impl Rig {
    fn new() -> Rig {
        let home = new_home();
        let dag = write(&home, "crash_test.yaml", DAG);
        Rig {
            served: serve(),
            home,
            dag,
        }
    }

    fn gust(&self, args: &[&str]) -> std::process::Command {
        let mut command = gust(args);
        command
            .env("GUST_HOME", &self.home)
            .env("AIRFLOW_CONN_AWS_DEFAULT", self.served.connection());
        command
    }

    /// The newest run that has not ended.
    fn unfinished_run(&self) -> String {
        let out = ran(self
            .gust(&["runs", "list", "--state", "running", "--json"])
            .output()
            .unwrap());
        assert_eq!(out.code, 0, "{}", out.all());
        let listed: Value = serde_json::from_str(&out.stdout).unwrap();
        listed["runs"][0]["run_id"]
            .as_str()
            .unwrap_or_else(|| panic!("no unfinished run: {}", out.stdout))
            .to_owned()
    }
}

/// Task states and the outputs that do not depend on the command's id.
fn outcome(report: &Value) -> (Vec<(String, String, u64)>, Value) {
    let states = report["tasks"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| {
            (
                t["task_id"].as_str().unwrap().to_owned(),
                t["state"].as_str().unwrap().to_owned(),
                t["tries"].as_u64().unwrap(),
            )
        })
        .collect();
    let xcom = &report["xcom"];
    let command_id = &xcom["run_command"]["return_value"];
    assert!(command_id.is_string(), "{xcom}");
    let output = &xcom["get_output"]["return_value"];
    assert_eq!(
        &output["command_id"], command_id,
        "the output is of the command sent"
    );
    let invocation = &output["invocations"][0];
    let shape = serde_json::json!({
        "tasks_with_xcom": xcom.as_object().unwrap().keys().collect::<Vec<_>>(),
        "status": invocation["status"],
        "response_code": invocation["response_code"],
        "standard_output": invocation["standard_output"],
    });
    (states, shape)
}

fn crash_and_resume(kill_on: &str) {
    let rig = Rig::new();
    let dag = rig.dag.to_str().unwrap();

    let clean = ran(rig.gust(&["dags", "test", dag, "--json"]).output().unwrap());
    assert_eq!(clean.code, 0, "{}", clean.all());
    let expected = outcome(&serde_json::from_str(&clean.stdout).unwrap());
    assert_eq!(expected.1["standard_output"], "the script ran once\n");
    assert_eq!(rig.served.calls("SendCommand"), 1);

    for round in 1..=ROUNDS {
        let crashed = rig
            .gust(&["dags", "test", dag, "--json"])
            .env("GUST_TEST_KILL_ON_LOG", kill_on)
            .output()
            .unwrap();
        assert_eq!(
            crashed.status.signal(),
            Some(9),
            "round {round}: gust was not killed at '{kill_on}': {}",
            String::from_utf8_lossy(&crashed.stderr)
        );

        let run_id = rig.unfinished_run();
        let resumed = ran(rig
            .gust(&["runs", "resume", &run_id, "--json"])
            .output()
            .unwrap());
        assert_eq!(resumed.code, 0, "round {round}: {}", resumed.all());
        let report: Value = serde_json::from_str(&resumed.stdout).unwrap();
        assert_eq!(report["run_id"], run_id.as_str());
        assert_eq!(outcome(&report), expected, "round {round}");
        assert_eq!(
            rig.served.calls("SendCommand"),
            1 + round as u64,
            "round {round}: one SendCommand per run's try"
        );
    }
    logs_hold_the_output(&rig.home, &rig);
}

/// The output operator's log of the last run holds the script's output.
fn logs_hold_the_output(home: &Path, rig: &Rig) {
    let run_id = {
        let out = ran(rig.gust(&["runs", "list", "--json"]).output().unwrap());
        let listed: Value = serde_json::from_str(&out.stdout).unwrap();
        listed["runs"][0]["run_id"].as_str().unwrap().to_owned()
    };
    let out = ran(rig
        .gust(&["tasks", "logs", &run_id, "get_output"])
        .env("GUST_HOME", home)
        .output()
        .unwrap());
    assert_eq!(out.code, 0, "{}", out.all());
    assert!(out.stdout.contains("the script ran once"), "{}", out.stdout);
}

#[test]
fn killed_before_the_send_the_resumed_run_sends_once() {
    crash_and_resume("sending the command");
}

#[test]
fn killed_right_after_the_send_the_resumed_run_finds_the_command_and_does_not_send_again() {
    crash_and_resume("sent the command");
}

#[test]
fn killed_while_the_sensor_is_deferred_the_resumed_run_waits_on_a_rebuilt_trigger() {
    crash_and_resume("command in progress");
}

#[test]
fn killed_while_the_output_operator_runs_the_resumed_run_reads_the_output_again() {
    crash_and_resume("output on");
}
