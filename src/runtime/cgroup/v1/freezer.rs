//! v1 freezer controller, used by removal only: it freezes the container so that nothing
//! forks while its processes are killed, and thaws it, since a frozen v1 process acts
//! on SIGKILL only once thawed. (v2's freezer lets fatal signals through, and v2 kills
//! with cgroup.kill.)

use super::super::dirs;
use std::fs::OpenOptions;
use std::io::Write;
use std::path::Path;

/// Freezes the cgroup and, the v1 freezer being hierarchical, every cgroup below it.
/// Best effort and without waiting for FROZEN: a process that forks before it freezes
/// is found and killed by the next look.
pub(super) fn freeze(dir: &Path) {
    write_state(dir, b"FROZEN");
}

/// Thaws the cgroup and every cgroup below it: the container may have frozen its own
/// leaf, or a cgroup it made there, and a v1 cgroup stays frozen while its own state
/// says so, whatever its parent's.
pub(super) fn thaw_all(dir: &Path) {
    for cgroup in dirs::subtree(dir).iter().rev() {
        thaw(cgroup);
    }
}

/// Thaws the cgroup, if it has a freezer.state. Best effort: if this fails, the killed
/// processes stay, and removal reports the cgroup it could not remove.
fn thaw(dir: &Path) {
    write_state(dir, b"THAWED");
}

fn write_state(dir: &Path, state: &[u8]) {
    // Without `create`: a missing file (a removed cgroup) stays missing.
    if let Ok(mut file) = OpenOptions::new()
        .write(true)
        .open(dir.join("freezer.state"))
    {
        let _ = file.write_all(state);
    }
}
