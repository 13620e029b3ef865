//! Running one invocation's script: a shell of its own, in a process group of its own, in a
//! working directory of its own, with its output read and kept within SSM's limits. An
//! execution timeout or a cancel kills the whole group.

use std::os::unix::process::ExitStatusExt;
use std::path::{Path, PathBuf};
use std::process::{ExitStatus, Stdio};
use std::time::Duration;

use tokio::process::Command;
use tokio_util::sync::CancellationToken;

use super::output::{STDERR_LIMIT, STDOUT_LIMIT, read_capped};
use super::process_groups::ProcessGroups;
use crate::state::{Finished, InvocationStatus, ScriptSpec};

/// The shell that runs AWS-RunShellScript's commands.
const SHELL: &str = "/bin/sh";

/// The script file's name in the invocation's folder.
const SCRIPT_NAME: &str = "_script.sh";

/// What SSM reports as the exit code of a script stopped by a timeout or a cancel: the
/// shell's status after SIGKILL.
const KILLED_CODE: i32 = 128 + 9;

/// How long to wait for a killed script's pipes to close before giving up on its output
/// (only a process that left the group can hold them open).
const KILL_GRACE: Duration = Duration::from_secs(2);

/// A script written to disk, and where it runs.
#[derive(Debug)]
pub(crate) struct Prepared {
    pub(crate) script: PathBuf,
    pub(crate) cwd: PathBuf,
}

/// Writes the script into `<node root>/<command id>/` and works out its working directory:
/// that folder, or `workingDirectory` (relative ones are taken from the node's root).
pub(crate) async fn prepare(
    node_root: &Path,
    command_id: &str,
    spec: &ScriptSpec,
) -> Result<Prepared, String> {
    let folder = node_root.join(command_id);
    tokio::fs::create_dir_all(&folder)
        .await
        .map_err(|err| format!("cannot create {}: {err}", folder.display()))?;
    let script = folder.join(SCRIPT_NAME);
    tokio::fs::write(&script, &spec.text)
        .await
        .map_err(|err| format!("cannot write {}: {err}", script.display()))?;

    let cwd = match &spec.working_directory {
        None => folder,
        Some(dir) => node_root.join(dir),
    };
    if !tokio::fs::metadata(&cwd)
        .await
        .is_ok_and(|meta| meta.is_dir())
    {
        return Err(format!(
            "workingDirectory {} is not an existing directory",
            cwd.display()
        ));
    }
    Ok(Prepared { script, cwd })
}

/// Runs the script until it ends, its timeout passes or `cancel` fires.
pub(crate) async fn run(
    prepared: &Prepared,
    timeout: Duration,
    cancel: &CancellationToken,
    groups: &ProcessGroups,
) -> Finished {
    let mut command = Command::new(SHELL);
    command
        .arg(&prepared.script)
        .current_dir(&prepared.cwd)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .process_group(0)
        .kill_on_drop(true);

    let mut child = match command.spawn() {
        Ok(child) => child,
        Err(err) => return not_started(format!("cannot start {SHELL}: {err}")),
    };
    let Some(group) = child.id().and_then(|pid| i32::try_from(pid).ok()) else {
        return not_started("the shell ended before it could be watched".into());
    };
    let guard = groups.register(group);

    let stdout = child.stdout.take();
    let stderr = child.stderr.take();
    let to_the_end = async move {
        tokio::join!(
            child.wait(),
            read_capped(stdout, STDOUT_LIMIT),
            read_capped(stderr, STDERR_LIMIT)
        )
    };
    tokio::pin!(to_the_end);

    let stopped = tokio::select! {
        (status, stdout, stderr) = &mut to_the_end => return ended(status, stdout, stderr),
        () = tokio::time::sleep(timeout) => InvocationStatus::ExecutionTimedOut,
        () = cancel.cancelled() => InvocationStatus::Cancelled,
    };

    guard.kill();
    let (stdout, stderr) = match tokio::time::timeout(KILL_GRACE, &mut to_the_end).await {
        Ok((_, stdout, stderr)) => (stdout, stderr),
        Err(_) => (String::new(), String::new()),
    };
    Finished {
        status: stopped,
        response_code: KILLED_CODE,
        stdout,
        stderr,
    }
}

fn ended(status: std::io::Result<ExitStatus>, stdout: String, stderr: String) -> Finished {
    let code = match status {
        Ok(status) => exit_code(status),
        Err(err) => return not_started(format!("lost track of the shell: {err}")),
    };
    let status = if code == 0 {
        InvocationStatus::Success
    } else {
        InvocationStatus::Failed
    };
    Finished {
        status,
        response_code: code,
        stdout,
        stderr,
    }
}

/// A shell's exit code, or 128 + the signal that ended it.
fn exit_code(status: ExitStatus) -> i32 {
    status
        .code()
        .unwrap_or_else(|| 128 + status.signal().unwrap_or_default())
}

/// A failure before the script could run, reported the way the agent reports its own errors:
/// Failed, exit code 1, the reason on standard error.
pub(crate) fn not_started(reason: String) -> Finished {
    Finished {
        status: InvocationStatus::Failed,
        response_code: 1,
        stdout: String::new(),
        stderr: reason,
    }
}
