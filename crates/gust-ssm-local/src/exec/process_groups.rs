//! The process groups of running scripts, so that a timeout, a cancel or a shutdown can kill
//! a whole script (the shell and everything it started), and none outlives the service.

use std::collections::HashSet;
use std::sync::Mutex;

use nix::sys::signal::{Signal, killpg};
use nix::unistd::Pid;

/// The groups whose leaders have been spawned and not yet reaped.
#[derive(Debug, Default)]
pub(crate) struct ProcessGroups {
    live: Mutex<HashSet<i32>>,
}

impl ProcessGroups {
    pub(crate) fn register(&self, group: i32) -> GroupGuard<'_> {
        self.lock().insert(group);
        GroupGuard {
            groups: self,
            group,
        }
    }

    /// Kills every live group.
    pub(crate) fn kill_all(&self) {
        for group in self.lock().iter() {
            kill_group(*group);
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashSet<i32>> {
        self.live
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

/// A live group; dropping it forgets the group.
#[derive(Debug)]
pub(crate) struct GroupGuard<'a> {
    groups: &'a ProcessGroups,
    group: i32,
}

impl GroupGuard<'_> {
    pub(crate) fn kill(&self) {
        kill_group(self.group);
    }
}

impl Drop for GroupGuard<'_> {
    fn drop(&mut self) {
        self.groups.lock().remove(&self.group);
    }
}

fn kill_group(group: i32) {
    // A group that is already gone is what we wanted.
    if let Err(err) = killpg(Pid::from_raw(group), Signal::SIGKILL)
        && err != nix::errno::Errno::ESRCH
    {
        tracing::warn!(group, %err, "could not kill a script's process group");
    }
}
