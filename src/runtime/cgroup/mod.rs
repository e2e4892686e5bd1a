//! cgroups: one manager per cgroup version, picked after detecting the host's layout.
//!
//! - `detect_layout()` tells pure v2, hybrid and pure v1 apart with statfs.
//! - `Cgroup::for_container(layout, Path::new("/sys/fs/cgroup"), parent, id)` names the
//!   container's cgroup in every mounted hierarchy: the limits on `<parent>/<id>`, the
//!   processes one level below, in `<parent>/<id>/payload` (`LEAF`). Hybrid hosts use
//!   the v1 manager, which also places the processes in the cgroup2 beside the v1
//!   hierarchies.
//! - `Manager` (in `manager`) is what can be done with it, implemented by `V1Cgroup`,
//!   `V2Cgroup` and `Cgroup` (which passes each call on): `create(&limits)` makes the
//!   directories (v2: enables the controllers in every ancestor), writes the limits and
//!   (v1) the device allowlist, and on failure leaves nothing it made; `procs_files()`,
//!   the `cgroup.procs` files a process writes `0` into to join; `update(&limits)`,
//!   `stats()`, `oom_kills()`, `paths()`; `kill()` (v2: `cgroup.kill`; v1: freeze, kill,
//!   thaw); `remove()`, which kills, rmdirs (with retries) and rmdirs the parents left
//!   empty.
//!
//! Each controller is a small type with `apply` and `stats` (the `Controller` trait, in
//! `controller`), listed once per version in `v1::CONTROLLERS` and `v2::CONTROLLERS`; the
//! v1 and v2 files of one controller are side by side in `v1/` and `v2/`, and `pids`,
//! the same on both, is written once. `files` and `dirs` hold the file and directory
//! handling both versions share, and `mountinfo` finds the mounted hierarchies. Tests
//! point everything at temp dirs through `Cgroup::v1_with_mounts` and `Cgroup::v2`, or
//! pass a fake `Manager` to the code that uses one.

mod controller;
mod dirs;
mod files;
mod manager;
mod mountinfo;
mod pids;
mod v1;
mod v2;

pub use manager::{Cgroup, Manager};
pub use mountinfo::{Hierarchy, V1Mounts};
pub use v1::V1Cgroup;
pub use v2::V2Cgroup;

use crate::runtime::limits::CpuQuota;
use nix::errno::Errno;
use nix::sys::statfs::{statfs, FsType, CGROUP2_SUPER_MAGIC, TMPFS_MAGIC};
use std::io;
use std::path::{Path, PathBuf};
use thiserror::Error;

/// Where cgroups are mounted on a normal host.
pub const CGROUP_ROOT: &str = "/sys/fs/cgroup";

/// The cgroup below the container's own that holds its processes, and that becomes the
/// root of its cgroup namespace. The limits stay on the level above, out of its reach:
/// cgroup v1 lets the owner of a namespace root write its control files (only cgroup2's
/// `nsdelegate` forbids that, cgroup-v2.rst "Delegation Containment"), and a container
/// that makes a user namespace with 0 mapped to 0 is that owner. (systemd-nspawn names
/// its container's processes' cgroup the same way.)
pub const LEAF: &str = "payload";

#[derive(Debug, Error)]
pub enum CgroupError {
    #[error("failed to write {value} to {}: {}{hint}", path.display(), kernel_message(error))]
    Write {
        path: PathBuf,
        value: String,
        error: io::Error,
        hint: &'static str,
    },
    #[error("failed to read {}: {}", path.display(), kernel_message(error))]
    Read { path: PathBuf, error: io::Error },
    #[error("unexpected contents {text:?} in {}", path.display())]
    Parse { path: PathBuf, text: String },
    #[error("failed to create cgroup {}: {}{hint}", path.display(), kernel_message(error))]
    CreateDir {
        path: PathBuf,
        error: io::Error,
        hint: &'static str,
    },
    #[error("failed to remove cgroup {}: {}{hint}", path.display(), kernel_message(error))]
    RemoveDir {
        path: PathBuf,
        error: io::Error,
        hint: &'static str,
    },
    #[error("failed to kill process {pid} of cgroup {}: {}", path.display(), error.desc())]
    Kill {
        pid: i32,
        path: PathBuf,
        error: Errno,
    },
    #[error(
        "no cgroup v1 hierarchy has the {controller} controller mounted (see /proc/self/mountinfo), \
         so a {controller} limit cannot be applied"
    )]
    ControllerNotMounted { controller: &'static str },
    #[error(
        "the {controller} controller is not available in {} (it lists {listed:?}), so a \
         {controller} limit cannot be applied: enable it in the cgroups above, or pick a \
         cgroup parent hako may use with --cgroup-parent or HAKO_CGROUP_PARENT",
        path.display()
    )]
    ControllerUnavailable {
        controller: &'static str,
        path: PathBuf,
        listed: String,
    },
    #[error(
        "{} is not a cgroup v2 directory (it has no cgroup.controllers): is the cgroup root right?",
        path.display()
    )]
    NotCgroup2 { path: PathBuf },
    #[error("cannot tell the cgroup layout: statfs {} failed: {}", path.display(), error.desc())]
    Statfs { path: PathBuf, error: Errno },
    #[error("invalid cgroup name {name:?}: {reason}")]
    BadName { name: String, reason: &'static str },
    #[error("cgroup {} does not exist (was the container removed?)", path.display())]
    NotFound { path: PathBuf },
    #[error("{} does not report {key}", path.display())]
    NotReported { path: PathBuf, key: &'static str },
    #[error("{error}; the previous limits are back in place")]
    UpdateUndone { error: Box<CgroupError> },
    #[error("{error}; putting the previous limits back failed too: {undo_error}")]
    UpdateHalfDone {
        error: Box<CgroupError>,
        undo_error: Box<CgroupError>,
    },
}

/// The kernel's words for an error ("Invalid argument"), without Rust's "(os error 22)".
fn kernel_message(error: &io::Error) -> String {
    match error.raw_os_error() {
        Some(code) => Errno::from_raw(code).desc().to_string(),
        None => error.to_string(),
    }
}

/// How cgroups are mounted on this host.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum CgroupLayout {
    /// Only v1 hierarchies, one per controller (or group of co-mounted controllers).
    V1,
    /// v1 hierarchies plus a cgroup2 at `/sys/fs/cgroup/unified`; hako uses the v1 ones.
    Hybrid,
    /// One cgroup2 hierarchy at `/sys/fs/cgroup`.
    V2,
}

/// Detects the layout of `/sys/fs/cgroup` with statfs.
pub fn detect_layout() -> Result<CgroupLayout, CgroupError> {
    let root = Path::new(CGROUP_ROOT);
    let root_magic = statfs(root)
        .map_err(|error| CgroupError::Statfs {
            path: root.to_path_buf(),
            error,
        })?
        .filesystem_type();
    // A host without the unified mount is simply not hybrid.
    let unified_magic = statfs(&root.join("unified"))
        .ok()
        .map(|s| s.filesystem_type());
    Ok(layout_from_magics(root_magic, unified_magic))
}

/// The layout, from the filesystem types of `/sys/fs/cgroup` and of
/// `/sys/fs/cgroup/unified` (`None` when that does not exist).
pub fn layout_from_magics(root: FsType, unified: Option<FsType>) -> CgroupLayout {
    if root == CGROUP2_SUPER_MAGIC {
        CgroupLayout::V2
    } else if root == TMPFS_MAGIC && unified == Some(CGROUP2_SUPER_MAGIC) {
        CgroupLayout::Hybrid
    } else {
        CgroupLayout::V1
    }
}

/// A container's resource usage, the same on both versions. `None` means the kernel
/// does not report that counter here (show "not reported", not 0), or for limits, no limit.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct CgroupStats {
    pub memory_usage: Option<u64>,
    pub memory_limit: Option<u64>,
    pub memory_peak: Option<u64>,
    /// Times the memory limit was hit (v1 `memory.failcnt`, v2 `memory.events` max).
    pub memory_limit_hits: Option<u64>,
    pub oom_kills: Option<u64>,
    pub cpu_usage_ns: Option<u64>,
    pub cpu_quota: Option<CpuQuota>,
    pub nr_periods: Option<u64>,
    /// Periods in which the cgroup was throttled; its rise between samples is throttling.
    pub nr_throttled: Option<u64>,
    pub throttled_ns: Option<u64>,
    pub pids_current: Option<u64>,
    pub pids_limit: Option<u64>,
    /// Forks refused because of the pids limit (`pids.events` max).
    pub pids_limit_hits: Option<u64>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use nix::sys::statfs::{CGROUP_SUPER_MAGIC, EXT4_SUPER_MAGIC};

    #[test]
    fn layout_follows_the_filesystem_types() {
        let cases = [
            (CGROUP2_SUPER_MAGIC, None, CgroupLayout::V2),
            (CGROUP2_SUPER_MAGIC, Some(TMPFS_MAGIC), CgroupLayout::V2),
            (TMPFS_MAGIC, Some(CGROUP2_SUPER_MAGIC), CgroupLayout::Hybrid),
            (TMPFS_MAGIC, None, CgroupLayout::V1),
            (TMPFS_MAGIC, Some(CGROUP_SUPER_MAGIC), CgroupLayout::V1),
            (TMPFS_MAGIC, Some(TMPFS_MAGIC), CgroupLayout::V1),
            (
                EXT4_SUPER_MAGIC,
                Some(CGROUP2_SUPER_MAGIC),
                CgroupLayout::V1,
            ),
        ];
        for (root, unified, layout) in cases {
            assert_eq!(
                layout_from_magics(root, unified),
                layout,
                "{root:?} {unified:?}"
            );
        }
    }

    #[test]
    fn errors_use_the_kernels_words() {
        let error = CgroupError::Write {
            path: PathBuf::from("/sys/fs/cgroup/cpu/hako/ID/cpu.cfs_quota_us"),
            value: "30000".into(),
            error: io::Error::from_raw_os_error(libc::EINVAL),
            hint: "",
        };
        assert_eq!(
            error.to_string(),
            "failed to write 30000 to /sys/fs/cgroup/cpu/hako/ID/cpu.cfs_quota_us: Invalid argument"
        );
    }
}
