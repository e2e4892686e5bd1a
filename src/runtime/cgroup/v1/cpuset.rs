//! v1 cpuset controller. hako sets no cpuset limit, but a container has a cgroup in
//! every hierarchy, and a new v1 cpuset cgroup starts with empty `cpuset.cpus` and
//! `cpuset.mems` and refuses tasks (ENOSPC) until they are filled in
//! (Documentation/admin-guide/cgroup-v1/cpusets.rst, "How do I use cpusets?").

use super::super::controller::Controller;
use super::super::files;
use super::super::CgroupError;
use std::path::Path;

const FILES: [&str; 2] = ["cpuset.cpus", "cpuset.mems"];

pub(super) struct Cpuset;

impl Controller for Cpuset {
    fn name(&self) -> &'static str {
        "cpuset"
    }

    fn prepare(&self, dir: &Path) -> Result<(), CgroupError> {
        inherit(dir)
    }
}

/// Gives `dir` its parent's CPUs and memory nodes where it has none yet. A dir that
/// is not a cpuset cgroup (no such file) is left alone.
fn inherit(dir: &Path) -> Result<(), CgroupError> {
    let Some(parent) = dir.parent() else {
        return Ok(());
    };
    for file in FILES {
        let Some(own) = files::read_if_present(&dir.join(file))? else {
            continue;
        };
        if own.trim().is_empty() {
            let from_parent = files::read(&parent.join(file))?;
            files::write(&dir.join(file), from_parent.trim())?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::fs;

    #[test]
    fn empty_sets_are_copied_from_the_parent_and_others_kept() {
        let root = tempfile::tempdir().unwrap();
        let dir = root.path().join("c1");
        fs::create_dir(&dir).unwrap();
        fs::write(root.path().join("cpuset.cpus"), "0-1\n").unwrap();
        fs::write(root.path().join("cpuset.mems"), "0\n").unwrap();
        fs::write(dir.join("cpuset.cpus"), "\n").unwrap();
        fs::write(dir.join("cpuset.mems"), "0\n").unwrap();
        inherit(&dir).unwrap();
        assert_eq!(fs::read_to_string(dir.join("cpuset.cpus")).unwrap(), "0-1");
        assert_eq!(fs::read_to_string(dir.join("cpuset.mems")).unwrap(), "0\n");
        // Not a cpuset cgroup: nothing to do, nothing written.
        let other = root.path().join("other");
        fs::create_dir(&other).unwrap();
        inherit(&other).unwrap();
        assert!(!other.join("cpuset.cpus").exists());
    }
}
