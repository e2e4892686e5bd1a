//! The OCI runtime Spec (the `oci-spec` crate's types, as youki uses them)
//! as hako reads and writes it: the pieces `spec::from_request` puts in,
//! what the set-up steps read back out, and the container's `config.json`.
//!
//! The readers never fail on a field that is missing: they give what an
//! OCI runtime assumes then (no args, no mounts, cwd `/`), and the step that
//! needs the value reports it.

use crate::runtime::limits::{CpuQuota, Limits, MemorySwap};
use caps::CapsHashSet;
use nix::sched::CloneFlags;
use oci_spec::runtime::{
    Capabilities, Capability as OciCapability, LinuxCapabilities, LinuxCpu, LinuxMemory,
    LinuxNamespaceType, LinuxPids, LinuxResources, Mount, Spec,
};
use serde::{Deserialize, Serialize};
use std::fs;
use std::io::{self, Write};
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};
use std::str::FromStr;
use thiserror::Error;

/// The Spec in a container's directory, as in a bundle.
pub const CONFIG_FILE: &str = "config.json";

/// The identity the container's processes run as (the Spec's process.user).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct User {
    pub uid: u32,
    pub gid: u32,
}

#[derive(Debug, Error)]
pub enum ConfigError {
    #[error("failed to {action} {}: {source}", path.display())]
    Io {
        action: &'static str,
        path: PathBuf,
        #[source]
        source: io::Error,
    },
    #[error("{} is not a valid OCI runtime spec: {source}", path.display())]
    Invalid {
        path: PathBuf,
        #[source]
        source: serde_json::Error,
    },
    #[error("capability {0} is not known to this hako")]
    UnknownCapability(String),
}

/// Writes `spec` as the container's `config.json`, once, at create. Only
/// root reads it: it holds the `-e` values.
pub fn write_config(dir: &Path, spec: &Spec) -> Result<(), ConfigError> {
    let path = dir.join(CONFIG_FILE);
    let json = serde_json::to_vec_pretty(spec).map_err(|source| ConfigError::Invalid {
        path: path.clone(),
        source,
    })?;
    let failed = |source| ConfigError::Io {
        action: "write",
        path: path.clone(),
        source,
    };
    let mut file = fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(&path)
        .map_err(failed)?;
    file.write_all(&json).map_err(failed)
}

/// Reads a container's `config.json`.
pub fn read_config(dir: &Path) -> Result<Spec, ConfigError> {
    let path = dir.join(CONFIG_FILE);
    let bytes = fs::read(&path).map_err(|source| ConfigError::Io {
        action: "read",
        path: path.clone(),
        source,
    })?;
    serde_json::from_slice(&bytes).map_err(|source| ConfigError::Invalid { path, source })
}

/// What the process's capability sets and identity become, for the first
/// process and for `exec`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Privileges {
    /// Everything else is dropped from the bounding set.
    pub bounding: CapsHashSet,
    /// The permitted and effective sets (inheritable and ambient stay empty).
    pub effective: CapsHashSet,
    pub uid: u32,
    pub gid: u32,
    pub additional_gids: Vec<u32>,
}

impl Privileges {
    /// hako's rule, as Docker's: root keeps `kept` in every set but
    /// inheritable and ambient; another user gets empty process sets (the
    /// kernel empties them at setuid anyway) under the same bounding set.
    /// The supplementary groups are the primary group alone.
    pub fn for_user(kept: &CapsHashSet, user: User) -> Privileges {
        Privileges {
            bounding: kept.clone(),
            effective: if user.uid == 0 {
                kept.clone()
            } else {
                CapsHashSet::default()
            },
            uid: user.uid,
            gid: user.gid,
            additional_gids: vec![user.gid],
        }
    }
}

/// The five capability sets of `privileges`, as OCI writes them.
/// A capability oci-spec has no name for is refused, never left out: the
/// container would otherwise keep less than its seccomp filter was made for.
pub fn linux_capabilities(privileges: &Privileges) -> Result<LinuxCapabilities, ConfigError> {
    let to_oci = |set: &CapsHashSet| -> Result<Capabilities, ConfigError> {
        set.iter()
            .map(|cap| {
                serde_json::from_value(serde_json::Value::String(cap.to_string()))
                    .map_err(|_| ConfigError::UnknownCapability(cap.to_string()))
            })
            .collect()
    };
    let mut sets = LinuxCapabilities::default();
    sets.set_bounding(Some(to_oci(&privileges.bounding)?))
        .set_permitted(Some(to_oci(&privileges.effective)?))
        .set_effective(Some(to_oci(&privileges.effective)?))
        .set_inheritable(Some(Capabilities::new()))
        .set_ambient(Some(Capabilities::new()));
    Ok(sets)
}

fn from_oci(set: Option<&Capabilities>) -> Result<CapsHashSet, ConfigError> {
    set.into_iter()
        .flatten()
        .map(|cap: &OciCapability| {
            let name = format!("CAP_{cap}");
            caps::Capability::from_str(&name).map_err(|_| ConfigError::UnknownCapability(name))
        })
        .collect()
}

/// What the Spec's process runs as, with which capabilities.
pub fn privileges(spec: &Spec) -> Result<Privileges, ConfigError> {
    let process = spec.process().as_ref();
    let user = process.map(|p| p.user());
    let capabilities = process.and_then(|p| p.capabilities().as_ref());
    Ok(Privileges {
        bounding: from_oci(capabilities.and_then(|c| c.bounding().as_ref()))?,
        effective: from_oci(capabilities.and_then(|c| c.effective().as_ref()))?,
        uid: user.map(|u| u.uid()).unwrap_or(0),
        gid: user.map(|u| u.gid()).unwrap_or(0),
        additional_gids: user
            .and_then(|u| u.additional_gids().clone())
            .unwrap_or_default(),
    })
}

/// The uid and gid the process runs as.
pub fn user(spec: &Spec) -> User {
    let user = spec.process().as_ref().map(|p| p.user());
    User {
        uid: user.map(|u| u.uid()).unwrap_or(0),
        gid: user.map(|u| u.gid()).unwrap_or(0),
    }
}

/// The names of the bounding set (`CAP_CHOWN` ...), sorted.
pub fn bounding_names(spec: &Spec) -> Vec<String> {
    let process = spec.process().as_ref();
    let bounding = process
        .and_then(|p| p.capabilities().as_ref())
        .and_then(|c| c.bounding().as_ref());
    let mut names: Vec<String> = bounding
        .into_iter()
        .flatten()
        .map(|cap| format!("CAP_{cap}"))
        .collect();
    names.sort();
    names
}

/// The command and its arguments.
pub fn args(spec: &Spec) -> &[String] {
    spec.process()
        .as_ref()
        .and_then(|p| p.args().as_deref())
        .unwrap_or(&[])
}

/// The command's environment, `KEY=VALUE`.
pub fn env(spec: &Spec) -> &[String] {
    spec.process()
        .as_ref()
        .and_then(|p| p.env().as_deref())
        .unwrap_or(&[])
}

/// The working directory, inside the container.
pub fn cwd(spec: &Spec) -> &Path {
    spec.process()
        .as_ref()
        .map(|p| p.cwd().as_path())
        .filter(|cwd| !cwd.as_os_str().is_empty())
        .unwrap_or(Path::new("/"))
}

/// Whether the process runs on a terminal of its own.
pub fn terminal(spec: &Spec) -> bool {
    spec.process()
        .as_ref()
        .and_then(|p| p.terminal())
        .unwrap_or(false)
}

/// Where the container's root is mounted, and whether it ends read-only.
pub fn root(spec: &Spec) -> (&Path, bool) {
    match spec.root() {
        Some(root) => (root.path().as_path(), root.readonly().unwrap_or(false)),
        None => (Path::new("rootfs"), false),
    }
}

pub fn mounts(spec: &Spec) -> &[Mount] {
    spec.mounts().as_deref().unwrap_or(&[])
}

pub fn masked_paths(spec: &Spec) -> &[String] {
    spec.linux()
        .as_ref()
        .and_then(|l| l.masked_paths().as_deref())
        .unwrap_or(&[])
}

pub fn readonly_paths(spec: &Spec) -> &[String] {
    spec.linux()
        .as_ref()
        .and_then(|l| l.readonly_paths().as_deref())
        .unwrap_or(&[])
}

/// Whether the Spec asks for a new namespace of this type.
pub fn has_namespace(spec: &Spec, kind: LinuxNamespaceType) -> bool {
    spec.linux()
        .as_ref()
        .and_then(|l| l.namespaces().as_ref())
        .is_some_and(|all| all.iter().any(|ns| ns.typ() == kind))
}

/// The clone flags for the Spec's new namespaces. The cgroup namespace is
/// not among them: the first process unshares it after joining its cgroup,
/// so that its own cgroup is the namespace's root.
pub fn clone_flags(spec: &Spec) -> CloneFlags {
    [
        (LinuxNamespaceType::Mount, CloneFlags::CLONE_NEWNS),
        (LinuxNamespaceType::Uts, CloneFlags::CLONE_NEWUTS),
        (LinuxNamespaceType::Ipc, CloneFlags::CLONE_NEWIPC),
        (LinuxNamespaceType::Pid, CloneFlags::CLONE_NEWPID),
        (LinuxNamespaceType::Network, CloneFlags::CLONE_NEWNET),
    ]
    .into_iter()
    .filter(|(kind, _)| has_namespace(spec, *kind))
    .fold(CloneFlags::empty(), |flags, (_, flag)| flags | flag)
}

/// `PARENT/ID`: the cgroup parent and the container's own cgroup in it.
pub fn cgroups_path(parent: &str, id: &str) -> PathBuf {
    Path::new(parent.trim_end_matches('/')).join(id)
}

/// The Spec's `linux.cgroupsPath` split back into (parent, leaf).
pub fn cgroup_location(spec: &Spec) -> (String, String) {
    let path = spec
        .linux()
        .as_ref()
        .and_then(|l| l.cgroups_path().clone())
        .unwrap_or_default();
    let leaf = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let parent = path
        .parent()
        .map(|p| p.to_string_lossy().into_owned())
        .unwrap_or_default();
    (parent, leaf)
}

/// `Limits` as OCI's `linux.resources`. Swap is OCI's (and cgroup v1's)
/// memory plus swap; -1 is no swap limit.
pub fn resources(limits: &Limits) -> LinuxResources {
    let mut resources = LinuxResources::default();
    if let Some(memory) = limits.memory {
        let mut oci = LinuxMemory::default();
        oci.set_limit(Some(memory as i64));
        oci.set_swap(Some(match limits.memory_and_swap() {
            Some(total) => total as i64,
            None => -1,
        }));
        resources.set_memory(Some(oci));
    }
    if let Some(cpu) = limits.cpu {
        let mut oci = LinuxCpu::default();
        oci.set_quota(Some(cpu.quota_us as i64));
        oci.set_period(Some(cpu.period_us));
        resources.set_cpu(Some(oci));
    }
    if let Some(pids) = limits.pids {
        let mut oci = LinuxPids::default();
        oci.set_limit(pids as i64);
        resources.set_pids(Some(oci));
    }
    resources
}

/// The Spec's `linux.resources` as `Limits`: the inverse of `resources`. A
/// swap of twice the memory is Docker's default, so it reads back as unset.
pub fn limits(spec: &Spec) -> Limits {
    let Some(resources) = spec.linux().as_ref().and_then(|l| l.resources().as_ref()) else {
        return Limits::default();
    };
    let memory = resources
        .memory()
        .as_ref()
        .and_then(|m| m.limit())
        .filter(|m| *m > 0)
        .map(|m| m as u64);
    let memory_swap = match (memory, resources.memory().as_ref().and_then(|m| m.swap())) {
        (Some(_), Some(-1)) => Some(MemorySwap::Unlimited),
        (Some(m), Some(total)) if total > 0 && total as u64 != m.saturating_mul(2) => {
            Some(MemorySwap::Total(total as u64))
        }
        _ => None,
    };
    let cpu = resources.cpu().as_ref().and_then(|cpu| {
        let quota = cpu.quota().filter(|q| *q > 0)?;
        Some(CpuQuota {
            quota_us: quota as u64,
            period_us: cpu
                .period()
                .unwrap_or(crate::runtime::limits::CPU_PERIOD_US),
        })
    });
    let pids = resources
        .pids()
        .as_ref()
        .map(|p| p.limit())
        .filter(|p| *p > 0)
        .map(|p| p as u64);
    Limits {
        memory,
        memory_swap,
        cpu,
        pids,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_capability_hako_knows_has_an_oci_name_and_comes_back() {
        let all = caps::all();
        let privileges = Privileges {
            bounding: all.clone(),
            effective: all.clone(),
            uid: 0,
            gid: 0,
            additional_gids: vec![0],
        };
        let sets = linux_capabilities(&privileges).unwrap();
        assert_eq!(sets.bounding().as_ref().map(|s| s.len()), Some(all.len()));
        assert_eq!(from_oci(sets.bounding().as_ref()).unwrap(), all);
        assert_eq!(from_oci(sets.effective().as_ref()).unwrap(), all);
        assert!(sets.inheritable().as_ref().is_some_and(|s| s.is_empty()));
        assert!(sets.ambient().as_ref().is_some_and(|s| s.is_empty()));
    }
}
