//! v1 freezer controller. hako only thaws: a frozen (paused) process does not act on
//! SIGKILL until thawed in v1, so removal thaws first. (v2's freezer lets fatal
//! signals through.)

use super::super::dirs;
use std::fs::OpenOptions;
use std::io::Write;
use std::path::Path;

/// Thaws the cgroup and every cgroup below it: the container may have frozen its own
/// leaf, or a cgroup it made there, and a v1 cgroup stays frozen while its own state
/// says so, whatever its parent's.
pub(super) fn thaw_all(dir: &Path) {
    for cgroup in dirs::subtree(dir).iter().rev() {
        thaw(cgroup);
    }
}

/// Thaws the cgroup, if it has a freezer.state. Best effort: if this fails, the kill
/// that follows times out and removal reports the cgroup it could not remove.
fn thaw(dir: &Path) {
    // Without `create`: a missing file (a removed cgroup) stays missing.
    if let Ok(mut state) = OpenOptions::new()
        .write(true)
        .open(dir.join("freezer.state"))
    {
        let _ = state.write_all(b"THAWED");
    }
}
