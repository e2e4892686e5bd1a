//! The `Manager` trait, what hako does with a container's cgroup, and `Cgroup`, which
//! holds the implementation `detect_layout` picked for this host.

use super::mountinfo::V1Mounts;
use super::v1::V1Cgroup;
use super::v2::V2Cgroup;
use super::{files, CgroupError, CgroupLayout, CgroupStats};
use crate::runtime::limits::Limits;
use nix::unistd::Pid;
use std::path::{Component, Path, PathBuf};

/// A container's cgroup, whatever the cgroup version: `V1Cgroup` (v1 and hybrid hosts)
/// and `V2Cgroup` implement it, and `Cgroup` passes each call on to the one of this host.
/// Code that only uses a cgroup can take `&impl Manager`, so that tests can hand it a fake.
pub trait Manager {
    /// Makes the cgroup and writes `limits`, where `None` means "no limit".
    /// On failure, removes every directory this call made.
    fn create(&self, limits: &Limits) -> Result<(), CgroupError>;

    /// Changes the limits of a live cgroup. Here `None` means "leave as is": pass
    /// `Limits { memory: Some(..), ..Default::default() }` to change memory alone.
    /// Setting `memory` also sets memory+swap from `memory_swap` by docker's rule.
    /// A limit cannot be lifted this way. If the kernel refuses a value, what this call
    /// already wrote is put back and the error says so.
    fn update(&self, limits: &Limits) -> Result<(), CgroupError>;

    /// Current usage, limits and counters.
    fn stats(&self) -> Result<CgroupStats, CgroupError>;

    /// How many processes the kernel's OOM killer killed in this cgroup. Read it before
    /// `remove()`, or the fact is lost.
    fn oom_kills(&self) -> Result<u64, CgroupError>;

    /// The container's cgroup directories, where its limits are: one per hierarchy
    /// (co-mounted v1 controllers share one).
    fn paths(&self) -> Vec<PathBuf>;

    /// The `cgroup.procs` file of the `LEAF` below each of `paths()` (or of the
    /// directory itself in v1 hierarchies without a leaf): the container's first process
    /// (and each `exec`) writes `0` into each to join, before it enters the cgroup
    /// namespace rooted there.
    fn procs_files(&self) -> Vec<PathBuf>;

    /// Moves process `pid` into the cgroup, as a process joining by itself would.
    fn add_process(&self, pid: Pid) -> Result<(), CgroupError> {
        for file in self.procs_files() {
            files::write(&file, &pid.to_string())?;
        }
        Ok(())
    }

    /// Kills every process in the cgroup and below, and waits (a bounded time) until
    /// they are gone.
    fn kill(&self) -> Result<(), CgroupError>;

    /// Kills every process left in the cgroup, removes its directories and then the
    /// parents left empty. Removing a cgroup that is already gone is fine.
    fn remove(&self) -> Result<(), CgroupError>;
}

/// The cgroup of one container, with the manager of the host's cgroup version.
#[derive(Debug, Clone)]
pub enum Cgroup {
    V1(V1Cgroup),
    V2(V2Cgroup),
}

impl Cgroup {
    /// The cgroup of container `id` under `parent` (which may contain `/`), for a host
    /// with `layout` and cgroups mounted at `root` (normally `/sys/fs/cgroup`). On v1 and
    /// hybrid hosts the hierarchies are those of /proc/self/mountinfo mounted under `root`.
    pub fn for_container(
        layout: CgroupLayout,
        root: &Path,
        parent: &str,
        id: &str,
    ) -> Result<Cgroup, CgroupError> {
        match layout {
            CgroupLayout::V1 | CgroupLayout::Hybrid => {
                Cgroup::v1_with_mounts(&V1Mounts::read(root)?, parent, id)
            }
            CgroupLayout::V2 => Cgroup::v2(root, parent, id),
        }
    }

    /// A v1 cgroup in the given hierarchies (tests pass temp dirs).
    pub fn v1_with_mounts(
        mounts: &V1Mounts,
        parent: &str,
        id: &str,
    ) -> Result<Cgroup, CgroupError> {
        let (parent, id) = checked_names(parent, id)?;
        Ok(Cgroup::V1(V1Cgroup::new(mounts, parent, id)))
    }

    /// A v2 cgroup under the cgroup2 mount `root` (tests pass a temp dir).
    pub fn v2(root: &Path, parent: &str, id: &str) -> Result<Cgroup, CgroupError> {
        let (parent, id) = checked_names(parent, id)?;
        Ok(Cgroup::V2(V2Cgroup::new(root, parent, id)))
    }
}

impl Manager for Cgroup {
    fn create(&self, limits: &Limits) -> Result<(), CgroupError> {
        match self {
            Cgroup::V1(cgroup) => cgroup.create(limits),
            Cgroup::V2(cgroup) => cgroup.create(limits),
        }
    }

    fn update(&self, limits: &Limits) -> Result<(), CgroupError> {
        match self {
            Cgroup::V1(cgroup) => cgroup.update(limits),
            Cgroup::V2(cgroup) => cgroup.update(limits),
        }
    }

    fn stats(&self) -> Result<CgroupStats, CgroupError> {
        match self {
            Cgroup::V1(cgroup) => cgroup.stats(),
            Cgroup::V2(cgroup) => cgroup.stats(),
        }
    }

    fn oom_kills(&self) -> Result<u64, CgroupError> {
        match self {
            Cgroup::V1(cgroup) => cgroup.oom_kills(),
            Cgroup::V2(cgroup) => cgroup.oom_kills(),
        }
    }

    fn paths(&self) -> Vec<PathBuf> {
        match self {
            Cgroup::V1(cgroup) => cgroup.paths(),
            Cgroup::V2(cgroup) => cgroup.paths(),
        }
    }

    fn procs_files(&self) -> Vec<PathBuf> {
        match self {
            Cgroup::V1(cgroup) => cgroup.procs_files(),
            Cgroup::V2(cgroup) => cgroup.procs_files(),
        }
    }

    fn kill(&self) -> Result<(), CgroupError> {
        match self {
            Cgroup::V1(cgroup) => cgroup.kill(),
            Cgroup::V2(cgroup) => cgroup.kill(),
        }
    }

    fn remove(&self) -> Result<(), CgroupError> {
        match self {
            Cgroup::V1(cgroup) => cgroup.remove(),
            Cgroup::V2(cgroup) => cgroup.remove(),
        }
    }
}

/// Checks that `parent` and `id` stay below the cgroup root, and returns the parent as a
/// relative path. Removal walks up the parent chain, so `..` must never get in.
fn checked_names(parent: &str, id: &str) -> Result<(PathBuf, String), CgroupError> {
    let bad = |name: &str, reason| CgroupError::BadName {
        name: name.to_string(),
        reason,
    };
    if id.is_empty() || id.contains('/') || id == "." || id == ".." {
        return Err(bad(
            id,
            "a container id must be one non-empty path component",
        ));
    }
    let mut relative = PathBuf::new();
    for component in Path::new(parent).components() {
        match component {
            Component::Normal(part) => relative.push(part),
            Component::RootDir | Component::CurDir => {}
            Component::ParentDir | Component::Prefix(_) => {
                return Err(bad(parent, "a cgroup parent must not contain `..`"))
            }
        }
    }
    Ok((relative, id.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_stay_below_the_root() {
        assert_eq!(
            checked_names("/hako/web/", "abc").unwrap(),
            (PathBuf::from("hako/web"), "abc".to_string())
        );
        assert_eq!(checked_names("", "abc").unwrap().0, PathBuf::new());
        assert!(checked_names("hako/../..", "abc").is_err());
        for id in ["", "a/b", "..", "."] {
            assert!(checked_names("hako", id).is_err(), "{id:?}");
        }
    }
}
