//! Acting on a running container from outside: usage, live limits, signals.
//!
//! These are what `hako stats`, `update`, `kill` and `stop` call, and what the
//! dashboard will call: every number comes straight from the cgroup files.

use super::error::ContainerError;
use crate::runtime::cgroup::{Cgroup, CgroupStats, Manager, CGROUP_ROOT, LEAF};
use crate::runtime::events::{self, Event, EventKind};
use crate::runtime::limits::Limits;
use crate::runtime::paths::Paths;
use crate::runtime::process::liveness::process_alive;
use crate::runtime::state::{self, ContainerState, Status};
use nix::sys::signal::{kill, Signal};
use nix::unistd::Pid;
use serde::Serialize;
use std::path::Path;
use std::time::{Duration, Instant};

/// The cgroup of a container, from its state.
pub fn cgroup_of(container: &ContainerState) -> Result<Cgroup, ContainerError> {
    Cgroup::for_container(
        container.cgroup_layout,
        Path::new(CGROUP_ROOT),
        &container.cgroup_parent,
        &container.id,
    )
    .map_err(ContainerError::from)
}

/// Whether the container's first process is still alive.
pub fn is_running(container: &ContainerState) -> bool {
    container.status == Status::Running && owns_its_pid(container)
}

/// Whether the recorded pid is alive and still the container's: after its
/// hako died the pid may have been reused by an unrelated host process,
/// which must never be signalled. The container's cgroup tells them apart.
pub fn owns_its_pid(container: &ContainerState) -> bool {
    let Some(pid) = container.pid else {
        return false;
    };
    process_alive(pid)
        && cgroup_of(container).is_ok_and(|cgroup| in_cgroup(pid, &cgroup.procs_files()))
}

/// Whether `pid` is listed in a cgroup (its first hierarchy's `cgroup.procs`). A
/// container started by a hako from before the `LEAF` has its processes one level up:
/// a live one must not be taken for dead (and its cgroup removed by `gc`).
pub fn in_cgroup(pid: i32, procs_files: &[std::path::PathBuf]) -> bool {
    let wanted = pid.to_string();
    let listed = |file: &Path| {
        std::fs::read_to_string(file)
            .is_ok_and(|procs| procs.lines().any(|line| line.trim() == wanted))
    };
    let Some(file) = procs_files.first() else {
        return false;
    };
    let before_the_leaf = file
        .parent()
        .filter(|dir| dir.ends_with(LEAF) && !dir.exists())
        .and_then(Path::parent)
        .map(|dir| dir.join("cgroup.procs"));
    listed(file) || before_the_leaf.is_some_and(|file| listed(&file))
}

fn require_running(container: &ContainerState) -> Result<(), ContainerError> {
    if is_running(container) {
        Ok(())
    } else {
        Err(ContainerError::NotRunning(container.name.clone()))
    }
}

/// One reading of a container's usage, with CPU use over an interval.
#[derive(Debug, Clone, Serialize)]
pub struct UsageSample {
    pub id: String,
    pub name: String,
    #[serde(flatten)]
    pub cgroup: CgroupStats,
    /// CPU use over the sampling interval, in % of one CPU.
    pub cpu_percent: Option<f64>,
    /// CPU use as % of the container's quota, when it has one.
    pub cpu_quota_percent: Option<f64>,
    /// Memory use as % of the limit, when there is one.
    pub memory_percent: Option<f64>,
}

/// Reads the counters of each container twice, `interval` apart, to turn CPU
/// time into a percentage. Containers that are not running are skipped.
pub fn sample_usage(
    containers: &[ContainerState],
    interval: Duration,
) -> Result<Vec<UsageSample>, ContainerError> {
    let running: Vec<(&ContainerState, Cgroup)> = containers
        .iter()
        .filter(|c| is_running(c))
        .map(|c| cgroup_of(c).map(|g| (c, g)))
        .collect::<Result<_, _>>()?;
    let first: Vec<Option<u64>> = running
        .iter()
        .map(|(_, g)| g.stats().ok().and_then(|s| s.cpu_usage_ns))
        .collect();
    let start = Instant::now();
    std::thread::sleep(interval);
    let mut samples = vec![];
    for ((container, cgroup), before) in running.iter().zip(first) {
        let Ok(stats) = cgroup.stats() else { continue };
        let elapsed = start.elapsed().as_nanos() as f64;
        let cpu_percent = match (before, stats.cpu_usage_ns) {
            (Some(a), Some(b)) if elapsed > 0.0 => {
                Some(b.saturating_sub(a) as f64 / elapsed * 100.0)
            }
            _ => None,
        };
        let cpu_quota_percent = match (cpu_percent, stats.cpu_quota) {
            (Some(p), Some(q)) => Some(p / q.cpus()),
            _ => None,
        };
        let memory_percent = match (stats.memory_usage, stats.memory_limit) {
            (Some(used), Some(limit)) if limit > 0 => Some(used as f64 / limit as f64 * 100.0),
            _ => None,
        };
        samples.push(UsageSample {
            id: container.id.clone(),
            name: container.name.clone(),
            cgroup: stats,
            cpu_percent,
            cpu_quota_percent,
            memory_percent,
        });
    }
    Ok(samples)
}

/// Changes the limits of a running container live. Only the limits given
/// (`Some`) change; the state file follows once the kernel has taken them.
pub fn update_limits(
    paths: &Paths,
    container: &ContainerState,
    change: &Limits,
) -> Result<ContainerState, ContainerError> {
    require_running(container)?;
    update_limits_of(
        &cgroup_of(container)?,
        &paths.container(&container.id),
        change,
    )
}

/// The kernel first, then the state file in `dir` and the event: limits the kernel
/// refuses leave both as they were. The cgroup comes from the caller, so that tests can
/// pass a fake.
fn update_limits_of(
    cgroup: &impl Manager,
    dir: &Path,
    change: &Limits,
) -> Result<ContainerState, ContainerError> {
    cgroup.update(change)?;
    let updated = state::modify(dir, |s| {
        if change.memory.is_some() {
            s.limits.memory = change.memory;
            s.limits.memory_swap = change.memory_swap;
        }
        if change.cpu.is_some() {
            s.limits.cpu = change.cpu;
        }
        if change.pids.is_some() {
            s.limits.pids = change.pids;
        }
    })?;
    let limits = events::limits_text(change);
    let _ = events::record(
        dir,
        &Event::new(&updated.id, &updated.name, EventKind::Update { limits }),
    );
    Ok(updated)
}

/// Sends a signal to the container's first process.
pub fn send_signal(
    paths: &Paths,
    container: &ContainerState,
    signal: Signal,
) -> Result<(), ContainerError> {
    require_running(container)?;
    let pid = Pid::from_raw(container.pid.unwrap_or_default());
    if signal == Signal::SIGKILL {
        note_sigkill(paths, container);
    }
    kill(pid, signal).map_err(|source| ContainerError::Signal {
        signal,
        container: container.name.clone(),
        source,
    })
}

/// SIGTERM, then SIGKILL if the container is still running after `grace`.
/// A PID 1 without a SIGTERM handler ignores SIGTERM, hence the second step.
/// Returns once the first process is gone.
pub fn stop(
    paths: &Paths,
    container: &ContainerState,
    grace: Duration,
) -> Result<(), ContainerError> {
    if !is_running(container) {
        return Ok(());
    }
    let pid = Pid::from_raw(container.pid.unwrap_or_default());
    let _ = kill(pid, Signal::SIGTERM);
    if wait_gone(pid, grace) {
        return Ok(());
    }
    note_sigkill(paths, container);
    let _ = kill(pid, Signal::SIGKILL);
    if wait_gone(pid, Duration::from_secs(10)) {
        Ok(())
    } else {
        Err(ContainerError::DidNotStop(container.name.clone()))
    }
}

/// Notes, before hako sends SIGKILL, how many OOM kills the container's
/// cgroup has seen: its 137 is then told apart from the kernel's OOM kill
/// (`lifecycle::finish`). Best effort: without the note the exit is judged by
/// the counter alone, as before.
fn note_sigkill(paths: &Paths, container: &ContainerState) {
    if let Ok(count) = cgroup_of(container).and_then(|c| Ok(c.oom_kills()?)) {
        let _ = state::modify(&paths.container(&container.id), |s| {
            s.oom_kills_at_sigkill = Some(count);
        });
    }
}

/// Whether a container that exited with `exit_code` was killed by the
/// kernel's OOM killer: SIGKILL (137), and an OOM kill in its cgroup that
/// hako's own SIGKILL (noted as `at_sigkill`) does not account for.
pub fn killed_by_oom(exit_code: i32, oom_kills: u64, at_sigkill: Option<u64>) -> bool {
    exit_code == crate::runtime::exit_code::KILLED_BY_SIGKILL && oom_kills > at_sigkill.unwrap_or(0)
}

fn wait_gone(pid: Pid, within: Duration) -> bool {
    let deadline = Instant::now() + within;
    loop {
        // Gone, or a zombie its parent (the hako that runs it) has not reaped yet.
        if !process_alive(pid.as_raw()) {
            return true;
        }
        if Instant::now() >= deadline {
            return false;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::runtime::cgroup::CgroupError;

    #[test]
    fn membership_is_read_in_the_leaf_or_above_a_leaf_that_never_was() {
        let root = tempfile::tempdir().unwrap();
        let dir = root.path().join("c1");
        std::fs::create_dir(&dir).unwrap();
        std::fs::write(dir.join("cgroup.procs"), "41\n42\n").unwrap();
        let procs = [dir.join(LEAF).join("cgroup.procs")];
        // Made by an earlier hako: no leaf, the processes in c1.
        assert!(in_cgroup(42, &procs));
        assert!(!in_cgroup(43, &procs));
        // With the leaf, only what it lists counts.
        std::fs::create_dir(dir.join(LEAF)).unwrap();
        std::fs::write(&procs[0], "43\n").unwrap();
        assert!(in_cgroup(43, &procs));
        assert!(!in_cgroup(42, &procs));
        assert!(!in_cgroup(42, &[]));
    }

    /// A cgroup that takes or refuses every update, and remembers what it was asked.
    struct FakeCgroup {
        refuse: bool,
        asked: std::cell::RefCell<Vec<Limits>>,
    }

    impl Manager for FakeCgroup {
        fn update(&self, limits: &Limits) -> Result<(), CgroupError> {
            self.asked.borrow_mut().push(limits.clone());
            if !self.refuse {
                return Ok(());
            }
            Err(CgroupError::Write {
                path: "/sys/fs/cgroup/hako/c1/pids.max".into(),
                value: "64".into(),
                error: std::io::Error::from_raw_os_error(libc::EINVAL),
                hint: "",
            })
        }

        fn create(&self, _: &Limits) -> Result<(), CgroupError> {
            unimplemented!("update_limits only updates")
        }
        fn stats(&self) -> Result<CgroupStats, CgroupError> {
            unimplemented!("update_limits only updates")
        }
        fn oom_kills(&self) -> Result<u64, CgroupError> {
            unimplemented!("update_limits only updates")
        }
        fn paths(&self) -> Vec<std::path::PathBuf> {
            unimplemented!("update_limits only updates")
        }
        fn procs_files(&self) -> Vec<std::path::PathBuf> {
            unimplemented!("update_limits only updates")
        }
        fn kill(&self) -> Result<(), CgroupError> {
            unimplemented!("update_limits only updates")
        }
        fn remove(&self) -> Result<(), CgroupError> {
            unimplemented!("update_limits only updates")
        }
    }

    fn running_state(limits: Limits) -> ContainerState {
        let mut running = state::sample("c1c1c1c1c1c1-0000", "web");
        running.status = Status::Running;
        running.pid = Some(1);
        running.started = Some(0);
        running.limits = limits;
        running.cgroup_layout = crate::runtime::cgroup::CgroupLayout::V2;
        running
    }

    #[test]
    fn a_sigkill_is_an_oom_kill_only_past_the_count_hako_noted() {
        // The kernel killed it: SIGKILL, and the counter moved.
        assert!(killed_by_oom(137, 1, None));
        // hako's stop or kill came after an earlier OOM kill of another process.
        assert!(!killed_by_oom(137, 1, Some(1)));
        // An OOM kill after hako's note still counts.
        assert!(killed_by_oom(137, 2, Some(1)));
        // No OOM kill, or not SIGKILL: never.
        assert!(!killed_by_oom(137, 0, None));
        assert!(!killed_by_oom(0, 3, None));
        assert!(!killed_by_oom(143, 3, Some(0)));
    }

    #[test]
    fn the_state_follows_only_limits_the_kernel_took() {
        let dir = tempfile::tempdir().unwrap();
        let before = Limits {
            memory: Some(64 << 20),
            pids: Some(32),
            ..Limits::default()
        };
        drop(state::lock_dir(dir.path(), true).unwrap());
        state::write(dir.path(), &running_state(before.clone())).unwrap();
        let change = Limits {
            pids: Some(64),
            ..Limits::default()
        };

        let refusing = FakeCgroup {
            refuse: true,
            asked: Default::default(),
        };
        let error = update_limits_of(&refusing, dir.path(), &change).unwrap_err();
        assert!(error.to_string().contains("pids.max"), "{error}");
        assert_eq!(
            refusing.asked.borrow().as_slice(),
            std::slice::from_ref(&change)
        );
        assert_eq!(state::read(dir.path()).unwrap().limits, before);
        assert!(events::read(dir.path()).unwrap().is_empty());

        let taking = FakeCgroup {
            refuse: false,
            asked: Default::default(),
        };
        let updated = update_limits_of(&taking, dir.path(), &change).unwrap();
        assert_eq!(taking.asked.borrow().as_slice(), [change]);
        let after = Limits {
            pids: Some(64),
            ..before
        };
        assert_eq!(updated.limits, after);
        assert_eq!(state::read(dir.path()).unwrap().limits, after);
        assert_eq!(events::read(dir.path()).unwrap().len(), 1);
    }
}
