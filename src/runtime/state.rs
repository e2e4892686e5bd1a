//! The on-disk record of each container: `containers/<id>/state.json`.
//!
//! The file is replaced atomically (write to a temp file, then rename), and
//! every read-modify-write holds an exclusive `flock` on `containers/<id>/lock`,
//! so two hako commands at once never see or write half a file.

use crate::runtime::cgroup::CgroupLayout;
use crate::runtime::container::oci;
use crate::runtime::container::ContainerSpec;
use crate::runtime::limits::Limits;
use crate::runtime::paths::Paths;
use crate::runtime::seccomp::SeccompProfile;
use nix::fcntl::{Flock, FlockArg};
use serde::{Deserialize, Serialize};
use std::fs::{self, File, OpenOptions};
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::time::{SystemTime, UNIX_EPOCH};
use thiserror::Error;

#[derive(Debug, Error)]
pub enum StateError {
    #[error("no such container: {0}")]
    NotFound(String),
    #[error("container name {0:?} is ambiguous: it matches {1}; use more of the id")]
    Ambiguous(String, String),
    #[error("failed to {action} {path}: {source}")]
    Io {
        action: &'static str,
        path: PathBuf,
        source: io::Error,
    },
    #[error("state file {path} is damaged ({source}); remove the container with `hako rm -f`")]
    Corrupt {
        path: PathBuf,
        source: serde_json::Error,
    },
}

fn io_err<'a>(action: &'static str, path: &'a Path) -> impl FnOnce(io::Error) -> StateError + 'a {
    move |source| StateError::Io {
        action,
        path: path.to_path_buf(),
        source,
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    Created,
    Running,
    Exited,
    Unknown,
}

impl std::fmt::Display for Status {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let word = match self {
            Status::Created => "created",
            Status::Running => "running",
            Status::Exited => "exited",
            Status::Unknown => "unknown",
        };
        f.write_str(word)
    }
}

/// Everything hako knows about one container.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ContainerState {
    pub id: String,
    pub name: String,
    pub image: String,
    pub command: Vec<String>,
    pub hostname: String,
    pub status: Status,
    /// PID of the container's first process, as the host sees it.
    pub pid: Option<i32>,
    pub exit_code: Option<i32>,
    pub oom_killed: bool,
    /// Unix seconds.
    pub created: u64,
    pub started: Option<u64>,
    pub finished: Option<u64>,
    pub limits: Limits,
    pub cgroup_layout: CgroupLayout,
    pub cgroup_parent: String,
    /// The capabilities the container keeps, by name.
    pub capabilities: Vec<String>,
    /// Removed on exit (`--rm`).
    pub auto_remove: bool,
    /// The command's environment, `KEY=VALUE` (also used by `exec`).
    #[serde(default)]
    pub env: Vec<String>,
    /// `uid:gid` the command runs as.
    #[serde(default)]
    pub user: (u32, u32),
    #[serde(default = "root_dir")]
    pub workdir: String,
    /// The container has a PTY.
    #[serde(default)]
    pub tty: bool,
    /// Its stdin is kept open for attach clients.
    #[serde(default)]
    pub interactive: bool,
    /// PID of the monitor process that holds a detached container's terminal
    /// and reaps it; `None` for a container run in the foreground.
    #[serde(default)]
    pub monitor_pid: Option<i32>,
    /// The seccomp profile (`default`, `unconfined` or a file with its
    /// digest); `exec` installs the same program. None for containers made
    /// before hako had seccomp.
    #[serde(default)]
    pub seccomp: Option<SeccompProfile>,
    /// The cgroup's OOM-kill count when hako itself last sent the container
    /// SIGKILL (`stop` after its grace, `kill`, `rm -f`): a 137 exit is an
    /// OOM kill only if the count rose past it, not because an `exec`'d
    /// process was OOM-killed earlier.
    #[serde(default)]
    pub oom_kills_at_sigkill: Option<u64>,
}

fn root_dir() -> String {
    "/".into()
}

impl ContainerState {
    /// The first state of a container, before its process exists. What was
    /// asked is the Spec's (config.json, the source of truth for it); the
    /// fields here that repeat it (command, hostname, env, user, workdir,
    /// capabilities, tty, limits, cgroup parent) are copies for `ps`,
    /// `inspect` and the dashboard. What is now (status, pids, times, the
    /// live limits after `hako update`) is only here.
    pub fn created(spec: &ContainerSpec, cgroup_layout: CgroupLayout) -> ContainerState {
        let config = &spec.oci;
        let record = &spec.record;
        let user = oci::user(config);
        ContainerState {
            id: record.id.clone(),
            name: record.name.clone(),
            image: record.image.clone(),
            command: oci::args(config).to_vec(),
            hostname: config.hostname().clone().unwrap_or_default(),
            status: Status::Created,
            pid: None,
            exit_code: None,
            oom_killed: false,
            created: now(),
            started: None,
            finished: None,
            limits: oci::limits(config),
            cgroup_layout,
            cgroup_parent: oci::cgroup_location(config).0,
            capabilities: oci::bounding_names(config),
            auto_remove: record.auto_remove,
            env: oci::env(config).to_vec(),
            user: (user.uid, user.gid),
            workdir: oci::cwd(config).to_string_lossy().into_owned(),
            tty: oci::terminal(config),
            interactive: record.interactive,
            monitor_pid: None,
            seccomp: Some(record.seccomp.profile.clone()),
            oom_kills_at_sigkill: None,
        }
    }
}

pub fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

fn state_file(dir: &Path) -> PathBuf {
    dir.join("state.json")
}

/// Holds a container's lock for as long as it lives.
pub struct StateLock {
    _lock: Flock<File>,
}

/// Takes the exclusive lock of a directory (a container's, or the store's
/// with `create`). A container's lock file is made once, with the container:
/// never re-creating it means a hako that locks a container another hako has
/// just removed gets `NotFound` instead of bringing a stale directory back.
pub fn lock_dir(dir: &Path, create: bool) -> Result<StateLock, StateError> {
    let path = dir.join("lock");
    let file = OpenOptions::new()
        .create(create)
        .truncate(false)
        .write(true)
        .open(&path)
        .map_err(|source| {
            if source.kind() == io::ErrorKind::NotFound {
                StateError::NotFound(dir.file_name().unwrap_or_default().to_string_lossy().into())
            } else {
                StateError::Io {
                    action: "open the lock",
                    path: path.clone(),
                    source,
                }
            }
        })?;
    let lock = Flock::lock(file, FlockArg::LockExclusive).map_err(|(_, errno)| StateError::Io {
        action: "lock",
        path: path.clone(),
        source: errno.into(),
    })?;
    Ok(StateLock { _lock: lock })
}

/// Takes the exclusive lock of an existing container.
pub fn lock(dir: &Path) -> Result<StateLock, StateError> {
    lock_dir(dir, false)
}

/// Writes the state atomically. The caller holds the container's lock.
pub fn write(dir: &Path, state: &ContainerState) -> Result<(), StateError> {
    let path = state_file(dir);
    let tmp = dir.join("state.json.tmp");
    let json = serde_json::to_vec_pretty(state).expect("state serializes");
    let mut file = File::create(&tmp).map_err(io_err("write", &tmp))?;
    file.write_all(&json).map_err(io_err("write", &tmp))?;
    fs::rename(&tmp, &path).map_err(io_err("rename into", &path))
}

pub fn read(dir: &Path) -> Result<ContainerState, StateError> {
    let path = state_file(dir);
    let bytes = fs::read(&path).map_err(|source| {
        if source.kind() == io::ErrorKind::NotFound {
            StateError::NotFound(dir.file_name().unwrap_or_default().to_string_lossy().into())
        } else {
            StateError::Io {
                action: "read",
                path: path.clone(),
                source,
            }
        }
    })?;
    serde_json::from_slice(&bytes).map_err(|source| StateError::Corrupt { path, source })
}

/// Reads, changes and writes a container's state under its lock.
pub fn modify(
    dir: &Path,
    change: impl FnOnce(&mut ContainerState),
) -> Result<ContainerState, StateError> {
    let _lock = lock(dir)?;
    let mut state = read(dir)?;
    change(&mut state);
    write(dir, &state)?;
    Ok(state)
}

/// Removes a container's directory for good. The caller holds its lock. The
/// directory is first renamed out of the way (atomically), so a hako that is
/// finishing the same container at this moment can no longer write into it:
/// its lock and writes now fail with `NotFound`.
pub fn bury(dir: &Path) -> Result<(), StateError> {
    let claimed = read(dir).ok().map(|s| (s.name, s.id));
    let name = dir.file_name().unwrap_or_default().to_string_lossy();
    let tomb = dir.with_file_name(format!(".removed-{name}-{}", std::process::id()));
    match fs::rename(dir, &tomb) {
        Ok(()) => {}
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(()),
        Err(e) => return Err(io_err("move away", dir)(e)),
    }
    if let (Some((name, id)), Some(containers)) = (claimed, dir.parent()) {
        release_name(containers, &name, &id);
    }
    fs::remove_dir_all(&tomb).map_err(io_err("remove", &tomb))
}

/// Where the names in use are kept: `containers/.names/<name>` holds the id
/// of the container that has it, so that starting a container checks one
/// file instead of reading every stored container's state.
fn name_file(containers: &Path, name: &str) -> PathBuf {
    containers.join(".names").join(name)
}

/// Claims `name` for container `id`; the caller holds the store's lock.
/// Returns the id of the container that already has the name, if any. A
/// claim whose container is gone (its hako died half-way) is taken over.
pub fn claim_name(paths: &Paths, name: &str, id: &str) -> Result<Option<String>, StateError> {
    let containers = paths.containers();
    let file = name_file(&containers, name);
    if let Ok(owner) = fs::read_to_string(&file) {
        if owner != id && containers.join(&owner).join("state.json").exists() {
            return Ok(Some(owner));
        }
    }
    let dir = containers.join(".names");
    fs::create_dir_all(&dir).map_err(io_err("create", &dir))?;
    fs::write(&file, id).map_err(io_err("write", &file))?;
    Ok(None)
}

/// Names claimed by containers that never came to be (their hako died
/// between the claim and the state file), at least `min_age` old so that a
/// claim being made right now is left alone. `gc` removes them.
pub fn stale_name_claims(paths: &Paths, min_age: std::time::Duration) -> Vec<PathBuf> {
    let containers = paths.containers();
    let Ok(entries) = fs::read_dir(containers.join(".names")) else {
        return vec![];
    };
    entries
        .flatten()
        .filter(|entry| {
            let old_enough = entry
                .metadata()
                .and_then(|m| m.modified())
                .ok()
                .and_then(|t| t.elapsed().ok())
                .is_some_and(|age| age >= min_age);
            let owner = fs::read_to_string(entry.path()).unwrap_or_default();
            old_enough && !containers.join(owner).join("state.json").exists()
        })
        .map(|entry| entry.path())
        .collect()
}

/// Gives a name back, if container `id` still holds it.
pub fn release_name(containers: &Path, name: &str, id: &str) {
    let file = name_file(containers, name);
    if fs::read_to_string(&file).is_ok_and(|owner| owner == id) {
        let _ = fs::remove_file(file);
    }
}

/// Directories left by a removal that was itself interrupted (`gc`).
pub fn leftover_tombs(paths: &Paths) -> Vec<PathBuf> {
    fs::read_dir(paths.containers())
        .map(|entries| {
            entries
                .flatten()
                .filter(|e| e.file_name().to_string_lossy().starts_with(".removed-"))
                .map(|e| e.path())
                .collect()
        })
        .unwrap_or_default()
}

/// Every container with a readable state file, oldest first.
pub fn list(paths: &Paths) -> Result<Vec<ContainerState>, StateError> {
    let dir = paths.containers();
    let entries = match fs::read_dir(&dir) {
        Ok(entries) => entries,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(vec![]),
        Err(e) => return Err(io_err("list", &dir)(e)),
    };
    // Names starting with '.' are containers being removed (see `bury`).
    let mut all: Vec<ContainerState> = entries
        .flatten()
        .filter(|entry| !entry.file_name().to_string_lossy().starts_with('.'))
        .filter_map(|entry| read(&entry.path()).ok())
        .collect();
    all.sort_by(|a, b| a.created.cmp(&b.created).then(a.id.cmp(&b.id)));
    Ok(all)
}

/// Finds a container by full id, name, or unique id prefix (as docker does).
pub fn resolve(paths: &Paths, key: &str) -> Result<ContainerState, StateError> {
    let all = list(paths)?;
    if let Some(found) = all.iter().find(|c| c.id == key || c.name == key) {
        return Ok(found.clone());
    }
    // `ps` shows ids without dashes (docker's 12 hex digits); both forms match.
    let compact_key = key.replace('-', "");
    let matches: Vec<&ContainerState> = all
        .iter()
        .filter(|c| c.id.starts_with(key) || c.id.replace('-', "").starts_with(&compact_key))
        .collect();
    match matches.as_slice() {
        [] => Err(StateError::NotFound(key.to_string())),
        [one] if !key.is_empty() => Ok((*one).clone()),
        _ => Err(StateError::Ambiguous(
            key.to_string(),
            matches
                .iter()
                .map(|c| c.id.as_str())
                .collect::<Vec<_>>()
                .join(", "),
        )),
    }
}

/// A container in the state it has just after `reserve`, for the runtime's
/// unit tests (one fixture instead of a struct literal in each test module).
#[cfg(test)]
pub(crate) fn sample(id: &str, name: &str) -> ContainerState {
    ContainerState {
        id: id.into(),
        name: name.into(),
        image: "busybox".into(),
        command: vec!["sh".into()],
        hostname: id[..12].into(),
        status: Status::Created,
        pid: None,
        exit_code: None,
        oom_killed: false,
        created: now(),
        started: None,
        finished: None,
        limits: Limits::default(),
        cgroup_layout: CgroupLayout::V1,
        cgroup_parent: "hako".into(),
        capabilities: vec![],
        auto_remove: false,
        env: vec![],
        user: (0, 0),
        workdir: "/".into(),
        tty: false,
        interactive: false,
        monitor_pid: None,
        seccomp: None,
        oom_kills_at_sigkill: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn resolves_by_id_name_and_unique_prefix() {
        let root = tempfile::tempdir().unwrap();
        let paths = Paths::under(root.path());
        for (id, name) in [
            ("aaaa1111-0000-4000-8000-000000000000", "web"),
            ("aaaa2222-0000-4000-8000-000000000000", "db"),
        ] {
            let dir = paths.container(id);
            fs::create_dir_all(&dir).unwrap();
            write(&dir, &sample(id, name)).unwrap();
        }
        assert_eq!(resolve(&paths, "web").unwrap().name, "web");
        assert_eq!(resolve(&paths, "aaaa2").unwrap().name, "db");
        // The 12-digit form `ps` prints, with no dash.
        assert_eq!(resolve(&paths, "aaaa22220000").unwrap().name, "db");
        assert!(matches!(
            resolve(&paths, "aaaa"),
            Err(StateError::Ambiguous(_, list)) if list.contains("aaaa1111") && list.contains("aaaa2222")
        ));
        assert!(matches!(
            resolve(&paths, "zzz"),
            Err(StateError::NotFound(_))
        ));
    }

    #[test]
    fn a_name_is_held_until_its_container_is_buried() {
        let root = tempfile::tempdir().unwrap();
        let paths = Paths::under(root.path());
        let id = "dddd1111-0000-4000-8000-000000000000";
        let dir = paths.container(id);
        fs::create_dir_all(&dir).unwrap();
        assert_eq!(claim_name(&paths, "web", id).unwrap(), None);
        write(&dir, &sample(id, "web")).unwrap();
        let other = "eeee1111-0000-4000-8000-000000000000";
        assert_eq!(
            claim_name(&paths, "web", other).unwrap(),
            Some(id.to_string())
        );
        bury(&dir).unwrap();
        assert_eq!(claim_name(&paths, "web", other).unwrap(), None);
        // A claim whose container never got a state file (its hako died) is taken over.
        assert_eq!(claim_name(&paths, "web", "ffff").unwrap(), None);
    }

    #[test]
    fn a_removed_container_stays_removed() {
        let root = tempfile::tempdir().unwrap();
        let dir = root.path().join("c");
        fs::create_dir_all(&dir).unwrap();
        write(&dir, &sample("cccc1111-0000-4000-8000-000000000000", "x")).unwrap();
        let held = lock_dir(&dir, true).unwrap();
        bury(&dir).unwrap();
        drop(held);
        // A late writer (a hako finishing the same container) finds it gone
        // and creates nothing.
        assert!(matches!(modify(&dir, |_| {}), Err(StateError::NotFound(_))));
        assert!(!dir.exists());
        assert_eq!(fs::read_dir(root.path()).unwrap().count(), 0);
    }

    #[test]
    fn modify_rewrites_the_file_atomically() {
        let root = tempfile::tempdir().unwrap();
        let dir = root.path().join("c");
        fs::create_dir_all(&dir).unwrap();
        write(&dir, &sample("bbbb1111-0000-4000-8000-000000000000", "x")).unwrap();
        drop(lock_dir(&dir, true).unwrap());
        modify(&dir, |s| {
            s.status = Status::Exited;
            s.exit_code = Some(3);
        })
        .unwrap();
        let back = read(&dir).unwrap();
        assert_eq!(back.status, Status::Exited);
        assert_eq!(back.exit_code, Some(3));
        assert!(!dir.join("state.json.tmp").exists());
    }
}
