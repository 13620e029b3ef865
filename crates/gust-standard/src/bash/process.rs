//! Running bash in its own process group, with standard error merged into standard
//! output and the group terminated if the run is stopped.

use std::collections::BTreeMap;
use std::io;
use std::os::unix::process::ExitStatusExt;
use std::path::Path;
use std::process::Stdio;

use nix::sys::signal::{Signal, killpg};
use nix::unistd::Pid;
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::Command;
use tracing::info;

/// How the command ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Exit {
    Code(i32),
    Signal(i32),
}

pub(super) struct Finished {
    pub(super) exit: Exit,
    /// The last line of output, without its line ending ("" if there was no output).
    pub(super) last_line: String,
}

/// Terminates a process group when dropped, unless disarmed: dropping the future that
/// runs the command (the attempt was stopped) stops the command too.
struct GroupGuard {
    group: Option<Pid>,
}

impl Drop for GroupGuard {
    fn drop(&mut self) {
        if let Some(group) = self.group.take() {
            info!(
                group = group.as_raw(),
                "terminating the command's process group"
            );
            // The group may be gone already; nothing to do then.
            let _ = killpg(group, Signal::SIGTERM);
        }
    }
}

pub(super) async fn run_bash(
    command: &str,
    dir: &Path,
    env: &BTreeMap<String, String>,
) -> io::Result<Finished> {
    let (writer, reader) = tokio::net::unix::pipe::pipe()?;
    let writer = writer.into_blocking_fd()?;
    let mut child = Command::new("bash")
        .arg("-c")
        .arg(command)
        .current_dir(dir)
        .env_clear()
        .envs(env)
        .stdin(Stdio::null())
        .stdout(Stdio::from(writer.try_clone()?))
        .stderr(Stdio::from(writer))
        .process_group(0)
        .kill_on_drop(true)
        .spawn()?;
    let mut guard = GroupGuard {
        group: child.id().map(|pid| Pid::from_raw(pid as i32)),
    };

    // The command's copies of the pipe's write end are its only ones left, so reading
    // ends when the command and everything it started have closed their output.
    let mut output = BufReader::new(reader);
    let mut raw = Vec::new();
    let mut last_line = String::new();
    while output.read_until(b'\n', &mut raw).await? > 0 {
        // Output that is not UTF-8 is shown with replacement characters, never an error.
        let line = String::from_utf8_lossy(&raw);
        let line = line.trim_end_matches(['\n', '\r']);
        info!(target: "gust::task::output", "{line}");
        last_line = line.to_owned();
        raw.clear();
    }
    let status = child.wait().await?;
    guard.group = None;

    let exit = match (status.code(), status.signal()) {
        (Some(code), _) => Exit::Code(code),
        (None, Some(signal)) => Exit::Signal(signal),
        (None, None) => Exit::Code(-1),
    };
    Ok(Finished { exit, last_line })
}
