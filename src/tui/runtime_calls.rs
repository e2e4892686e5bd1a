//! Every call the dashboard makes into the runtime core, in one file.
//!
//! The dashboard never touches a cgroup file, a socket path or a container's
//! process itself: it asks these functions.

use super::collector::{Trip, TripKind};
use crate::runtime::attach::{self, AttachClient};
use crate::runtime::cgroup::{Cgroup, CgroupStats, Manager};
use crate::runtime::container::logs::{self, LogFollower};
use crate::runtime::container::monitor::{self, MonitorStderr};
use crate::runtime::container::{self, control, ContainerSpec, RunRequest};
use crate::runtime::demo::{self, DemoContainer};
use crate::runtime::events::TimelineVersion;
use crate::runtime::limits::{LimitError, Limits};
use crate::runtime::paths::Paths;
use crate::runtime::process::liveness::process_alive;
use crate::runtime::state::{self, ContainerState, Status};
use nix::sys::signal::Signal;
use portable_pty::{Child, CommandBuilder, MasterPty, PtySize};
use std::io::{self, Read, Write};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// How long `s` waits after SIGTERM before SIGKILL, as `hako stop`'s default.
pub const STOP_GRACE: Duration = Duration::from_secs(10);

/// One line of a container's event timeline, as `hako events` shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EventLine {
    /// Unix seconds.
    pub time: u64,
    /// The same time in milliseconds, to order containers made in one second.
    pub time_ms: u64,
    /// create, start, exit, rm, update, oom_kill, memory_limit, cpu_throttled, pids_limit.
    pub kind: String,
    pub detail: String,
}

/// Every container of the root, oldest first.
pub fn list(paths: &Paths) -> Result<Vec<ContainerState>, String> {
    state::list(paths).map_err(|e| e.to_string())
}

/// The container's cgroup. Finding it reads the host's mount table, so the
/// collector looks it up once per container and keeps it.
pub fn cgroup(container: &ContainerState) -> Option<Cgroup> {
    control::cgroup_of(container).ok()
}

/// `is_running`, with the container's cgroup already at hand: its first
/// process is alive and still in its cgroup (not a reused pid).
pub fn is_running_in(container: &ContainerState, cgroup: Option<&Cgroup>) -> bool {
    container.status == Status::Running
        && container.pid.is_some_and(|pid| {
            process_alive(pid) && cgroup.is_some_and(|c| control::in_cgroup(pid, &c.procs_files()))
        })
}

/// The cgroup's counters, or `None` when it is gone.
pub fn stats(cgroup: &Cgroup) -> Option<CgroupStats> {
    cgroup.stats().ok()
}

/// The cgroup's OOM kill count alone (one file), or `None` when it is gone.
pub fn oom_kills(cgroup: &Cgroup) -> Option<u64> {
    cgroup.oom_kills().ok()
}

/// What changes whenever an event is added to the container's timeline, so
/// that it is read again only then.
pub fn events_version(paths: &Paths, container: &ContainerState) -> Option<TimelineVersion> {
    crate::runtime::events::version(&paths.container(&container.id))
}

/// Events of a container the dashboard keeps (the newest).
pub const EVENTS_KEPT: usize = 100;

/// The end of the container's event timeline, as `hako events` shows it,
/// oldest first. Its `create` event is always kept first: it tells when the
/// container was made to the millisecond, which the table sorts by.
pub fn events(paths: &Paths, container: &ContainerState) -> Vec<EventLine> {
    let all = crate::runtime::events::read(&paths.container(&container.id)).unwrap_or_default();
    let line = |e: &crate::runtime::events::Event| EventLine {
        time: e.time_ms / 1000,
        time_ms: e.time_ms,
        kind: e.kind.word().to_string(),
        detail: e.kind.detail(),
    };
    let skip = all.len().saturating_sub(EVENTS_KEPT);
    let mut kept: Vec<EventLine> = all[skip..].iter().map(line).collect();
    if skip > 0 {
        if let Some(create) = all[..skip].iter().find(|e| e.kind.word() == "create") {
            kept[0] = line(create);
        }
    }
    kept
}

/// The limit trips the containers' event files recorded before `before_ms`
/// (the dashboard's start), oldest first. One file at a time: a file that
/// cannot be read loses its trips, never the others'.
pub fn recorded_trips(paths: &Paths, before_ms: u64) -> Vec<Trip> {
    use crate::runtime::events::EventKind;
    let containers = state::list(paths).unwrap_or_default();
    let mut trips: Vec<Trip> = containers
        .iter()
        .flat_map(|c| crate::runtime::events::read(&paths.container(&c.id)).unwrap_or_default())
        .filter(|e| e.time_ms < before_ms)
        .filter_map(|e| {
            let (kind, count) = match e.kind {
                EventKind::OomKill { count, .. } => (TripKind::OomKill, count),
                EventKind::MemoryLimit { hits, .. } => (TripKind::MemoryLimit, hits.max(1)),
                EventKind::PidsLimit { refused, .. } => (TripKind::PidsLimit, refused.max(1)),
                EventKind::CpuThrottled { periods, .. } => (TripKind::CpuThrottled, periods),
                _ => return None,
            };
            Some(Trip {
                id: e.id,
                name: e.name,
                kind,
                count,
                time: e.time_ms / 1000,
            })
        })
        .collect();
    trips.sort_by_key(|t| t.time);
    trips
}

/// What the container wrote to its log so far, and a follower that reads
/// what it appends.
pub fn log_read(paths: &Paths, container: &ContainerState) -> (Vec<u8>, LogFollower) {
    logs::read(&paths.container(&container.id))
}

/// The time now, in unix milliseconds, as the event files write it.
pub fn now_ms() -> u64 {
    crate::runtime::events::now_ms()
}

/// Whether the container's first process still runs.
pub fn is_running(container: &ContainerState) -> bool {
    control::is_running(container)
}

/// Cleans up after hako processes that died holding containers (run at
/// start); says what it did, if anything.
pub fn gc(paths: &Paths) -> Result<String, String> {
    let report = container::gc(paths).map_err(|e| e.to_string())?;
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
/// the dashboard and its terminal can be attached. The monitor's stderr is
/// not the dashboard's screen.
pub fn run_detached(paths: &Paths, spec: &ContainerSpec) -> Result<ContainerState, String> {
    monitor::run_detached_with(paths, spec, MonitorStderr::Discarded).map_err(|e| e.to_string())
}

/// Starts the demo's containers; their names, those kept as they were
/// marked `(already running)`.
pub fn start_demo(paths: &Paths, cgroup_parent: &str) -> Result<Vec<String>, String> {
    let done =
        demo::start(paths, cgroup_parent, MonitorStderr::Discarded).map_err(|e| e.to_string())?;
    Ok(done
        .into_iter()
        .map(|c| match c {
            DemoContainer::Started(name) => name.to_string(),
            DemoContainer::AlreadyRunning(name) => format!("{name} (already running)"),
        })
        .collect())
}

pub fn stop(paths: &Paths, container: &ContainerState) -> Result<(), String> {
    control::stop(paths, container, STOP_GRACE).map_err(|e| e.to_string())
}

pub fn kill(paths: &Paths, container: &ContainerState) -> Result<(), String> {
    control::send_signal(paths, container, Signal::SIGKILL).map_err(|e| e.to_string())
}

pub fn remove(paths: &Paths, container: &ContainerState) -> Result<(), String> {
    container::remove(paths, container, true).map_err(|e| e.to_string())
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
    control::update_limits(paths, container, change).map_err(|e| e.to_string())
}

/// Connects to the container's monitor (scrollback is replayed first).
pub fn attach(paths: &Paths, id: &str) -> io::Result<AttachClient> {
    AttachClient::connect(&attach::socket_path(paths, id))
}

/// A shell that `hako exec` started in a container, on a PTY the dashboard
/// owns: its output, its input, the PTY (for resizes) and the process.
pub struct ExecShell {
    pub output: Box<dyn Read + Send>,
    pub input: Box<dyn Write + Send>,
    pub pty: Box<dyn MasterPty + Send>,
    pub process: ShellProcess,
}

/// The command line that opens a shell in container `id`: the real CLI,
/// `hako --root ROOT exec -it ID /bin/sh`, so that exec's fork and namespace
/// entering happen in a single-threaded process of its own.
pub fn exec_command_line(paths: &Paths, id: &str) -> Result<Vec<String>, String> {
    let mut line = vec![];
    if *paths != Paths::system() {
        line.push("--root".to_string());
        line.push(paths.lib.display().to_string());
    }
    line.extend(["exec", "-it", id, "/bin/sh"].map(String::from));
    Ok(line)
}

/// Starts a new shell in a running container: this very binary runs
/// `exec -it ID /bin/sh` as a child on a new PTY of `rows` x `cols`.
///
/// `runtime::container::exec::start` forks and carries on in the child,
/// which a multi-threaded program like the dashboard must not do; a child
/// that is the CLI itself is started like any other program.
pub fn exec_shell(paths: &Paths, id: &str, rows: u16, cols: u16) -> Result<ExecShell, String> {
    // The kernel's link to the running (sealed) binary: current_exe() of a
    // detached overlay or a memfd names no host file (see
    // runtime::process::sealed_exe).
    let mut command = CommandBuilder::new("/proc/self/exe");
    command.args(exec_command_line(paths, id)?);
    if *paths == Paths::system() {
        command.env_remove("HAKO_ROOT");
    }
    command.cwd("/");
    spawn_on_pty(command, rows, cols).map_err(|e| format!("cannot start hako exec: {e}"))
}

/// Starts `command` as the session leader of a new PTY of `rows` x `cols`.
fn spawn_on_pty(command: CommandBuilder, rows: u16, cols: u16) -> io::Result<ExecShell> {
    let size = PtySize {
        rows: rows.max(1),
        cols: cols.max(1),
        pixel_width: 0,
        pixel_height: 0,
    };
    let pair = portable_pty::native_pty_system()
        .openpty(size)
        .map_err(io::Error::other)?;
    let child = pair
        .slave
        .spawn_command(command)
        .map_err(io::Error::other)?;
    let process = ShellProcess(Arc::new(Mutex::new(child)));
    // Only the child keeps the slave side open, so reading the master ends
    // (EIO) once the child and everything it started are gone.
    drop(pair.slave);
    let pty = pair.master;
    let opened = pty
        .try_clone_reader()
        .and_then(|output| Ok((output, pty.take_writer()?)));
    match opened {
        Ok((output, input)) => Ok(ExecShell {
            output,
            input,
            pty,
            process,
        }),
        Err(e) => {
            process.end();
            Err(io::Error::other(e))
        }
    }
}

/// Starts `program ARGS` on a PTY, for tests of the pane's plumbing.
#[cfg(test)]
pub fn spawn_program(program: &str, args: &[&str], rows: u16, cols: u16) -> io::Result<ExecShell> {
    let mut command = CommandBuilder::new(program);
    command.args(args);
    command.cwd("/");
    spawn_on_pty(command, rows, cols)
}

/// The `hako exec` process of a shell, shared by the session's output side
/// (which reaps it) and its input side (which ends it when the session is
/// dropped: a shell the dashboard no longer has must not live on).
#[derive(Debug, Clone)]
pub struct ShellProcess(Arc<Mutex<Box<dyn Child + Send + Sync>>>);

impl ShellProcess {
    /// Waits for the process to exit: its exit code, or the signal that
    /// killed it.
    pub fn wait(&self) -> Result<i32, String> {
        let mut child = self.0.lock().unwrap_or_else(|e| e.into_inner());
        match child.wait() {
            Ok(status) => match status.signal() {
                Some(signal) => Err(format!("hako exec was killed ({signal})")),
                None => Ok(i32::try_from(status.exit_code()).unwrap_or(i32::MAX)),
            },
            Err(e) => Err(format!("cannot wait for hako exec: {e}")),
        }
    }

    /// Ends the process unless it has exited (and was reaped) already:
    /// SIGHUP, which `hako exec` passes on to the shell, then SIGKILL after
    /// a short grace. Waiting and ending take the same lock, so a reaped pid
    /// is never signalled.
    pub fn end(&self) {
        let mut child = self.0.lock().unwrap_or_else(|e| e.into_inner());
        if matches!(child.try_wait(), Ok(None)) {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}
