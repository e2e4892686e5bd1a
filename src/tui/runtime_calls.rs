//! Every call the dashboard makes into the runtime core, in one file.
//!
//! The dashboard never touches a cgroup file, a socket path or a container's
//! process itself: it asks these functions.

use crate::runtime::attach::{self, AttachClient};
use crate::runtime::cgroup::CgroupStats;
use crate::runtime::container::{self, control, ContainerSpec, RunRequest};
use crate::runtime::limits::{LimitError, Limits};
use crate::runtime::paths::Paths;
use crate::runtime::state::{self, ContainerState};
use nix::sys::signal::Signal;
use std::io;
use std::time::Duration;

/// How long `s` waits after SIGTERM before SIGKILL, as `hako stop`'s default.
pub const STOP_GRACE: Duration = Duration::from_secs(10);

/// One line of a container's event timeline, as `hako events` shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EventLine {
    /// Unix seconds.
    pub time: u64,
    /// create, start, exit, rm, update, oom_kill, memory_limit, cpu_throttled, pids_limit.
    pub kind: String,
    pub detail: String,
}

/// Every container of the root, oldest first.
pub fn list(paths: &Paths) -> Result<Vec<ContainerState>, String> {
    state::list(paths).map_err(|e| e.to_string())
}

pub fn is_running(container: &ContainerState) -> bool {
    control::is_running(container)
}

/// The container's cgroup counters, or `None` when its cgroup is gone.
pub fn stats(container: &ContainerState) -> Option<CgroupStats> {
    control::cgroup_of(container).ok()?.stats().ok()
}

/// Events of a container the dashboard keeps (the newest).
pub const EVENTS_KEPT: usize = 100;

/// The end of the container's event timeline, as `hako events` shows it,
/// oldest first.
pub fn events(paths: &Paths, container: &ContainerState) -> Vec<EventLine> {
    let all = crate::runtime::events::read(&paths.container(&container.id)).unwrap_or_default();
    let skip = all.len().saturating_sub(EVENTS_KEPT);
    all.into_iter()
        .skip(skip)
        .map(|e| EventLine {
            time: e.time_ms / 1000,
            kind: e.kind.word().to_string(),
            detail: e.kind.detail(),
        })
        .collect()
}

/// Cleans up after hako processes that died holding containers (run at
/// start); says what it did, if anything.
pub fn gc(paths: &Paths) -> Result<String, String> {
    let report = container::gc(paths).map_err(|e| e.message)?;
    let mut parts = vec![];
    if !report.recovered.is_empty() {
        parts.push(format!(
            "marked exited (their hako had died): {}",
            report.recovered.join(", ")
        ));
    }
    if !report.removed.is_empty() {
        parts.push(format!("removed: {}", report.removed.join(", ")));
    }
    Ok(parts.join("; "))
}

/// Checks a new container's request completely, creating nothing.
pub fn validate(paths: &Paths, request: &RunRequest) -> Result<ContainerSpec, String> {
    ContainerSpec::from_request(paths, request).map_err(|e| e.to_string())
}

/// Starts a validated container under its own monitor, so that it outlives
/// the dashboard and its terminal can be attached.
pub fn run_detached(paths: &Paths, spec: &ContainerSpec) -> Result<ContainerState, String> {
    container::monitor::run_detached(paths, spec).map_err(|e| e.message)
}

pub fn stop(container: &ContainerState) -> Result<(), String> {
    control::stop(container, STOP_GRACE).map_err(|e| e.message)
}

pub fn kill(container: &ContainerState) -> Result<(), String> {
    control::send_signal(container, Signal::SIGKILL).map_err(|e| e.message)
}

pub fn remove(paths: &Paths, container: &ContainerState) -> Result<(), String> {
    container::remove(paths, container, true).map_err(|e| e.message)
}

/// Parses limits as `hako update` does (docker's units).
pub fn parse_limits(
    memory: Option<&str>,
    cpus: Option<&str>,
    pids: Option<&str>,
) -> Result<Limits, LimitError> {
    Limits::parse(memory, None, cpus, pids)
}

/// Changes the limits of a running container live; only `Some` fields change.
pub fn update_limits(
    paths: &Paths,
    container: &ContainerState,
    change: &Limits,
) -> Result<ContainerState, String> {
    control::update_limits(paths, container, change).map_err(|e| e.message)
}

/// Connects to the container's monitor (scrollback is replayed first).
pub fn attach(paths: &Paths, id: &str) -> io::Result<AttachClient> {
    AttachClient::connect(&attach::socket_path(paths, id))
}

/// Starts a new shell in a running container, in its own session.
///
/// `runtime::container::exec::start` forks and must be called from a
/// single-threaded process, which the dashboard is not: until the monitor
/// can run an exec for its clients, `x` says how to get a shell instead.
pub fn exec_shell(_paths: &Paths, container: &ContainerState) -> Result<String, String> {
    Err(format!(
        "x needs exec through the monitor, which hako does not have yet: Enter attaches to {name}'s terminal, or run `hako exec -it {name} sh` in another terminal",
        name = container.name
    ))
}
