use std::time::Duration;

use gust_core::{TaskContext, TaskError, template};
use serde_json::json;

use super::*;

async fn run(op: &BashOperator) -> Result<Outcome, TaskError> {
    op.execute(&TaskContext::for_test("bash")).await
}

fn value(outcome: Outcome) -> Value {
    match outcome {
        Outcome::Value(value) => value,
        other => panic!("expected a value, got {other:?}"),
    }
}

#[tokio::test]
async fn the_last_line_of_merged_output_is_the_result() {
    let op = BashOperator::new("echo first; echo second; echo to-stderr >&2");
    assert_eq!(value(run(&op).await.unwrap()), json!("to-stderr"));
    let silent = BashOperator::new("true");
    assert_eq!(value(run(&silent).await.unwrap()), json!(""));
}

#[tokio::test]
async fn a_non_zero_exit_fails_the_attempt_and_99_skips() {
    let err = run(&BashOperator::new("exit 3")).await.unwrap_err();
    assert!(err.is_retryable());
    assert_eq!(
        err.to_string(),
        "Bash command failed: it returned the non-zero exit code 3"
    );

    let err = run(&BashOperator::new("exit 99")).await.unwrap_err();
    assert!(matches!(err, TaskError::Skip { .. }), "{err:?}");

    let never_skip = BashOperator::new("exit 99").skip_on_exit_code([]);
    assert!(run(&never_skip).await.unwrap_err().is_retryable());
}

#[tokio::test]
async fn env_replaces_the_environment_unless_appended_and_context_is_exported() {
    // Cargo gives every test process CARGO_MANIFEST_DIR; bash never sets it by itself.
    assert!(std::env::var("CARGO_MANIFEST_DIR").is_ok());
    let script = "echo \"${FOO}:${CARGO_MANIFEST_DIR:+inherited}:${AIRFLOW_CTX_TASK_ID}\"";
    let replaced = BashOperator::new(script).env([("FOO", "bar")]);
    assert_eq!(value(run(&replaced).await.unwrap()), json!("bar::bash"));
    let appended = BashOperator::new(script)
        .env([("FOO", "bar")])
        .append_env(true);
    assert_eq!(
        value(run(&appended).await.unwrap()),
        json!("bar:inherited:bash")
    );
}

#[tokio::test]
async fn cwd_is_used_and_checked() {
    let dir = tempfile::tempdir().unwrap();
    let op = BashOperator::new("pwd").cwd(dir.path().to_str().unwrap());
    let out = value(run(&op).await.unwrap());
    assert_eq!(
        std::fs::canonicalize(out.as_str().unwrap()).unwrap(),
        std::fs::canonicalize(dir.path()).unwrap()
    );

    let missing = BashOperator::new("pwd").cwd("/no/such/dir");
    let err = run(&missing).await.unwrap_err();
    assert!(matches!(err, TaskError::Fatal { .. }));
    assert!(
        err.to_string()
            .starts_with("cwd '/no/such/dir' cannot be used")
    );
}

#[tokio::test]
async fn without_cwd_a_temporary_directory_is_used_and_removed() {
    let out = value(run(&BashOperator::new("pwd")).await.unwrap());
    let dir = out.as_str().unwrap();
    assert!(dir.contains("gust-bash-"), "{dir}");
    assert!(!Path::new(dir).exists());
}

#[tokio::test]
async fn templates_render_before_the_command_runs() {
    let op = BashOperator::new(template("echo {{ task.task_id }}-{{ ti.try_number }}"));
    assert_eq!(value(run(&op).await.unwrap()), json!("bash-1"));
    let empty = BashOperator::new("   ");
    assert!(matches!(
        run(&empty).await.unwrap_err(),
        TaskError::Fatal { .. }
    ));
}

#[tokio::test]
async fn invalid_utf8_output_is_shown_not_an_error() {
    let op = BashOperator::new("printf 'ok\\n\\377\\376\\n'");
    assert_eq!(value(run(&op).await.unwrap()), json!("\u{fffd}\u{fffd}"));
}

/// Whether a process runs (a zombie that only waits to be reaped does not).
fn running(pid: i32) -> bool {
    match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
        Ok(stat) => stat
            .rsplit(')')
            .next()
            .and_then(|rest| rest.split_whitespace().next())
            .is_some_and(|state| state != "Z"),
        Err(_) => false,
    }
}

/// Polls `condition` until it holds or 10 seconds pass.
#[allow(clippy::disallowed_methods)] // real processes, real time: a deadline, not a timing check
async fn eventually(what: &str, mut condition: impl FnMut() -> bool) {
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    while !condition() {
        assert!(
            std::time::Instant::now() < deadline,
            "timed out waiting: {what}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test]
async fn stopping_the_attempt_terminates_the_whole_process_group() {
    let dir = tempfile::tempdir().unwrap();
    let pids = dir.path().join("pids");
    let command = format!(
        "sleep 60 & echo $! > {p}.tmp; echo $$ >> {p}.tmp; mv {p}.tmp {p}; wait",
        p = pids.display()
    );
    let op = BashOperator::new(command);
    let attempt = tokio::spawn(async move { run(&op).await });

    eventually("the command to start", || pids.exists()).await;
    let started: Vec<i32> = std::fs::read_to_string(&pids)
        .unwrap()
        .lines()
        .map(|line| line.trim().parse().unwrap())
        .collect();
    assert!(started.iter().all(|pid| running(*pid)));

    attempt.abort();
    let _ = attempt.await;
    eventually("bash and its child to end", || {
        started.iter().all(|pid| !running(*pid))
    })
    .await;
}
