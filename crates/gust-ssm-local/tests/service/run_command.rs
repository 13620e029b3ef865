//! Running AWS-RunShellScript: exit codes, output, timeouts, cancels, working directories.

use std::time::{Duration, SystemTime};

use aws_sdk_ssm::primitives::DateTime;
use aws_sdk_ssm::types::{CommandInvocationStatus, CommandPluginStatus, CommandStatus};

use crate::support::*;

#[tokio::test]
async fn exit_codes_give_success_or_failed_with_the_scripts_output() {
    let local = Local::start(nodes(1)).await;
    let node = local.node(0);
    let before = SystemTime::now();

    for (exit, status, details) in [
        (0, CommandInvocationStatus::Success, "Success"),
        (3, CommandInvocationStatus::Failed, "Failed"),
    ] {
        let script = [
            "echo out-line".to_owned(),
            "echo err-line >&2".to_owned(),
            format!("exit {exit}"),
        ];
        let script: Vec<&str> = script.iter().map(String::as_str).collect();
        let id = send(&local.client, std::slice::from_ref(&node), &script).await;

        let answer = finished_invocation(&local.client, &id, &node).await;
        assert_eq!(answer.status(), Some(&status));
        assert_eq!(answer.status_details(), Some(details));
        assert_eq!(answer.response_code(), exit);
        assert_eq!(answer.standard_output_content(), Some("out-line\n"));
        assert_eq!(answer.standard_error_content(), Some("err-line\n"));
        assert_eq!(answer.plugin_name(), Some("aws:runShellScript"));
        assert_eq!(answer.document_name(), Some("AWS-RunShellScript"));
        let start = answer.execution_start_date_time().unwrap_or_default();
        let end = answer.execution_end_date_time().unwrap_or_default();
        assert!(
            start.ends_with('Z') && start.len() == 24,
            "ISO start time: {start:?}"
        );
        assert!(start <= end, "{start} <= {end}");
        assert!(
            answer
                .execution_elapsed_time()
                .unwrap_or_default()
                .starts_with("PT")
        );

        let listed = all_invocations(&local.client, &id).await;
        let plugin = &listed[0].command_plugins()[0];
        assert_eq!(plugin.name(), Some("aws:runShellScript"));
        assert_eq!(plugin.response_code(), exit);
        assert_eq!(
            plugin.output(),
            Some("out-line\n\n----------ERROR-------\nerr-line\n")
        );
        let plugin_status = if exit == 0 {
            CommandPluginStatus::Success
        } else {
            CommandPluginStatus::Failed
        };
        assert_eq!(plugin.status(), Some(&plugin_status));
        let started = plugin.response_start_date_time().expect("a start time");
        let finished = plugin.response_finish_date_time().expect("a finish time");
        assert!(started <= finished);
        assert!(*started >= DateTime::from(before - Duration::from_secs(1)));

        let command = local
            .client
            .list_commands()
            .command_id(&id)
            .send()
            .await
            .unwrap();
        let command = &command.commands()[0];
        let expected = if exit == 0 {
            CommandStatus::Success
        } else {
            CommandStatus::Failed
        };
        assert_eq!(command.status(), Some(&expected));
        assert_eq!(command.status_details(), Some(details));
        assert_eq!((command.target_count(), command.completed_count()), (1, 1));
        assert_eq!(command.error_count(), i32::from(exit != 0));
        assert_eq!(command.timeout_seconds(), Some(3600));
        let requested = command.requested_date_time().unwrap().as_secs_f64();
        let expires = command.expires_after().unwrap().as_secs_f64();
        assert!(
            (expires - requested - 3600.0).abs() < 0.01,
            "{requested} {expires}"
        );
    }
}

#[tokio::test]
async fn a_script_past_its_execution_timeout_is_timed_out_and_killed() {
    let local = Local::start(nodes(1)).await;
    let node = local.node(0);
    let scratch = tempfile::tempdir().unwrap();
    let pid_file = scratch.path().join("pid");

    let write_pid = format!("echo $$ > {}", pid_file.display());
    let id = send_with(
        &local.client,
        std::slice::from_ref(&node),
        &[&write_pid, "sleep 30"],
        &[("executionTimeout", "1")],
    )
    .await;
    let shell = pid_from(&pid_file).await;

    let answer = finished_invocation(&local.client, &id, &node).await;
    assert_eq!(answer.status(), Some(&CommandInvocationStatus::TimedOut));
    assert_eq!(answer.status_details(), Some("Execution Timed Out"));
    assert_eq!(answer.response_code(), 137);
    wait_until_gone(shell).await;

    let command = local
        .client
        .list_commands()
        .command_id(&id)
        .send()
        .await
        .unwrap();
    let command = &command.commands()[0];
    assert_eq!(command.status(), Some(&CommandStatus::TimedOut));
    assert_eq!(command.error_count(), 1);
}

#[tokio::test]
async fn cancelling_a_running_script_kills_its_whole_process_group() {
    let local = Local::start(nodes(1)).await;
    let node = local.node(0);
    let scratch = tempfile::tempdir().unwrap();
    let shell_pid = scratch.path().join("shell.pid");
    let sleep_pid = scratch.path().join("sleep.pid");

    let script = [
        format!("echo $$ > {}", shell_pid.display()),
        format!("sleep 30 & echo $! > {}", sleep_pid.display()),
        "wait".to_owned(),
    ];
    let script: Vec<&str> = script.iter().map(String::as_str).collect();
    let id = send(&local.client, std::slice::from_ref(&node), &script).await;
    let shell = pid_from(&shell_pid).await;
    let sleeper = pid_from(&sleep_pid).await;

    let running = local
        .client
        .get_command_invocation()
        .command_id(&id)
        .instance_id(&node)
        .send()
        .await
        .unwrap();
    assert_eq!(running.status(), Some(&CommandInvocationStatus::InProgress));
    assert_eq!(running.status_details(), Some("In Progress"));
    assert_eq!(running.response_code(), -1);
    assert_eq!(running.standard_output_content(), Some(""));
    assert_eq!(running.execution_end_date_time(), Some(""));
    assert!(
        !process_is_gone(sleeper),
        "the sleep runs before the cancel"
    );

    local
        .client
        .cancel_command()
        .command_id(&id)
        .send()
        .await
        .unwrap();

    let answer = finished_invocation(&local.client, &id, &node).await;
    assert_eq!(answer.status(), Some(&CommandInvocationStatus::Cancelled));
    assert_eq!(answer.status_details(), Some("Cancelled"));
    wait_until_gone(shell).await;
    wait_until_gone(sleeper).await;

    let command = local
        .client
        .list_commands()
        .command_id(&id)
        .send()
        .await
        .unwrap();
    assert_eq!(
        command.commands()[0].status(),
        Some(&CommandStatus::Cancelled)
    );
}

#[tokio::test]
async fn cancelling_some_nodes_leaves_the_others_running() {
    let local = Local::start(nodes(2)).await;
    let (first, second) = (local.node(0), local.node(1));
    let scratch = tempfile::tempdir().unwrap();
    let release = scratch.path().join("release");

    let wait_for_release = format!("while [ ! -e {} ]; do sleep 0.05; done", release.display());
    let id = send(
        &local.client,
        &[first.clone(), second.clone()],
        &[&wait_for_release],
    )
    .await;
    poll_until("both scripts to run", || async {
        let listed = all_invocations(&local.client, &id).await;
        let running = listed
            .iter()
            .filter(|inv| inv.status() == Some(&CommandInvocationStatus::InProgress))
            .count();
        if running == 2 {
            Ok(())
        } else {
            Err(format!("{:?}", statuses(&listed)))
        }
    })
    .await;

    local
        .client
        .cancel_command()
        .command_id(&id)
        .instance_ids(&first)
        .send()
        .await
        .unwrap();
    let cancelled = finished_invocation(&local.client, &id, &first).await;
    assert_eq!(
        cancelled.status(),
        Some(&CommandInvocationStatus::Cancelled)
    );

    std::fs::write(&release, "").unwrap();
    let finished = finished_invocation(&local.client, &id, &second).await;
    assert_eq!(finished.status(), Some(&CommandInvocationStatus::Success));
}

#[tokio::test]
async fn output_is_cut_at_24000_and_8000_characters() {
    let local = Local::start(nodes(1)).await;
    let node = local.node(0);

    let id = send(
        &local.client,
        std::slice::from_ref(&node),
        &[
            "head -c 30000 /dev/zero | tr '\\0' a",
            "head -c 10000 /dev/zero | tr '\\0' b >&2",
        ],
    )
    .await;

    let answer = finished_invocation(&local.client, &id, &node).await;
    let stdout = answer.standard_output_content().unwrap_or_default();
    let stderr = answer.standard_error_content().unwrap_or_default();
    assert_eq!(stdout.chars().count(), 24_000);
    assert!(stdout.chars().all(|c| c == 'a'));
    assert_eq!(stderr.chars().count(), 8_000);
    assert!(stderr.chars().all(|c| c == 'b'));

    let listed = all_invocations(&local.client, &id).await;
    let output = listed[0].command_plugins()[0].output().unwrap_or_default();
    assert!(output.chars().count() <= 2_500, "{}", output.len());
    assert!(output.contains("---Output truncated---"), "{output}");
    assert!(output.ends_with("---Error truncated----"), "{output}");
}

#[tokio::test]
async fn each_invocation_runs_in_its_own_folder_unless_told_otherwise() {
    let local = Local::start(nodes(2)).await;
    let ids = [local.node(0), local.node(1)];
    let elsewhere = tempfile::tempdir().unwrap();
    let elsewhere_path = elsewhere.path().canonicalize().unwrap();

    let id = send(&local.client, &ids, &["pwd"]).await;
    for (n, node) in ids.iter().enumerate() {
        let answer = finished_invocation(&local.client, &id, node).await;
        let expected = local.root(n).canonicalize().unwrap().join(&id);
        assert_eq!(
            answer.standard_output_content(),
            Some(format!("{}\n", expected.display()).as_str())
        );
    }

    let dir = elsewhere_path.to_string_lossy().into_owned();
    let id = send_with(
        &local.client,
        &ids[..1],
        &["pwd"],
        &[("workingDirectory", &dir)],
    )
    .await;
    let answer = finished_invocation(&local.client, &id, &ids[0]).await;
    assert_eq!(
        answer.standard_output_content(),
        Some(format!("{dir}\n").as_str())
    );

    let missing = format!("{dir}/missing");
    let id = send_with(
        &local.client,
        &ids[..1],
        &["pwd"],
        &[("workingDirectory", &missing)],
    )
    .await;
    let answer = finished_invocation(&local.client, &id, &ids[0]).await;
    assert_eq!(answer.status(), Some(&CommandInvocationStatus::Failed));
    assert!(
        answer
            .standard_error_content()
            .unwrap_or_default()
            .contains("missing")
    );
}

#[tokio::test]
async fn shutdown_kills_running_scripts() {
    let local = Local::start(nodes(1)).await;
    let node = local.node(0);
    let scratch = tempfile::tempdir().unwrap();
    let pid_file = scratch.path().join("pid");

    let write_pid = format!("echo $$ > {}", pid_file.display());
    send(&local.client, &[node], &[&write_pid, "sleep 30"]).await;
    let shell = pid_from(&pid_file).await;

    local.service.shutdown().await;
    wait_until_gone(shell).await;
}
