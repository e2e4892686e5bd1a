//! The parent's side of a container: create it, learn how it ended, remove it.
//!
//! `create_and_start` is the order of events on the host:
//! 1. reserve the name and write the state file (status `created`);
//! 2. create the cgroup with its limits;
//! 3. make the container's upper, work and root directories;
//! 4. open a PTY when asked for a terminal;
//! 5. clone the first process into new namespaces (it runs `init::container_main`);
//! 6. wait for its `execve`: the error pipe closes on success, or carries the reason;
//! 7. record `running` with its pid.
//!
//! Any failure undoes what was made, so bad input or a refused limit leaves
//! nothing behind.

use super::error::ContainerError;
use super::init::{container_main, InitContext};
use super::oci;
use super::spec::{ContainerSpec, SpecError};
use crate::runtime::cgroup::{detect_layout, Cgroup, CgroupLayout, Manager, CGROUP_ROOT};
use crate::runtime::events::{self, Event, EventKind, Watcher};
use crate::runtime::paths::Paths;
use crate::runtime::process::clone;
use crate::runtime::process::liveness::process_alive;
use crate::runtime::process::parent::ParentLink;
use crate::runtime::process::setup_channel::SetupReceiver;
use crate::runtime::seccomp::{self, BpfProgram};
use crate::runtime::state::{self, ContainerState, StateError, Status};
use nix::fcntl::OFlag;
use nix::sched::CloneFlags;
use nix::sys::signal::Signal;
use nix::unistd::{pipe2, Pid};
use oci_spec::runtime::LinuxNamespaceType;
use portable_pty::{MasterPty, PtySize};
use std::fs;
use std::os::fd::{AsFd, BorrowedFd};
use std::os::unix::fs::{DirBuilderExt, PermissionsExt};
use std::path::{Path, PathBuf};

/// A container whose command is running.
pub struct RunningContainer {
    pub state: ContainerState,
    pub dir: PathBuf,
    pub pid: Pid,
    pub cgroup: Cgroup,
    /// The PTY's master side, when the container has a terminal.
    pub pty: Option<Box<dyn MasterPty + Send>>,
    /// Records limit trips into the container's event timeline while it runs.
    pub watcher: Option<Watcher>,
}

/// How a container's command ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ExitOutcome {
    /// As a shell reports it: the exit status, or 128 + the signal number.
    pub exit_code: i32,
    pub oom_killed: bool,
}

/// Where a container reads and writes. Never hako's own descriptors: the
/// container could reopen them through /proc/self/fd (issue 8).
#[derive(Debug, Clone, Copy)]
pub enum ContainerIo<'a> {
    /// With `-t`: the container's PTY.
    Terminal,
    /// Without: descriptors for stdin, stdout and stderr, pipes that the
    /// foreground hako or the monitor relays (`stdio::StdioPipes`).
    Fds([BorrowedFd<'a>; 3]),
}

/// Creates the container described by `spec` and starts its command.
/// `terminal_size` is the size for its PTY, when it has one.
pub fn create_and_start(
    paths: &Paths,
    spec: &ContainerSpec,
    terminal_size: PtySize,
    io: ContainerIo<'_>,
) -> Result<RunningContainer, ContainerError> {
    // Every mount of the set-up would otherwise be made on the host.
    if !oci::has_namespace(&spec.oci, LinuxNamespaceType::Mount) {
        return Err(ContainerError::NoMountNamespace);
    }
    let dir = paths.container(&spec.record.id);
    let layout = detect_layout()?;
    // The compiled filter, read before anything exists; the container's
    // process only installs it (runtime/seccomp).
    let seccomp = spec
        .record
        .seccomp
        .program
        .as_deref()
        .map(BpfProgram::read)
        .transpose()?;
    reserve(paths, spec, layout, &dir)?;
    let cleanup_dir = |error: ContainerError| {
        let _ = state::bury(&dir);
        error
    };
    if let Some(program) = &seccomp {
        seccomp::keep_for_exec(program, &dir).map_err(|e| cleanup_dir(e.into()))?;
    }

    let (cgroup_parent, cgroup_leaf) = oci::cgroup_location(&spec.oci);
    let cgroup =
        Cgroup::for_container(layout, Path::new(CGROUP_ROOT), &cgroup_parent, &cgroup_leaf)
            .map_err(|e| cleanup_dir(e.into()))?;
    cgroup
        .create(&oci::limits(&spec.oci))
        .map_err(|e| cleanup_dir(e.into()))?;
    let undo = |error: ContainerError| {
        let _ = cgroup.remove();
        cleanup_dir(error)
    };

    let rootfs = oci::root(&spec.oci).0;
    let (upper, work) = (dir.join("upper"), dir.join("work"));
    for d in [rootfs, upper.as_path(), work.as_path()] {
        fs::create_dir(d).map_err(|e| undo(ContainerError::path("create", d)(e)))?;
    }

    let (pty, tty_slave) = if oci::terminal(&spec.oci) {
        let pair = portable_pty::native_pty_system()
            .openpty(terminal_size)
            .map_err(|e| undo(ContainerError::OpenTerminal(e.into())))?;
        let slave_path = pair
            .master
            .tty_name()
            .ok_or_else(|| undo(ContainerError::NoTerminalName))?;
        // Our copy of the slave closes here; the container opens its own, so
        // the master sees the end of output when the container's last
        // process exits.
        drop(pair.slave);
        (Some(pair.master), Some(slave_path))
    } else {
        (None, None)
    };

    let (error_read, error_write) =
        pipe2(OFlag::O_CLOEXEC).map_err(|e| undo(ContainerError::syscall("create a pipe")(e)))?;
    let parent_link = ParentLink::new().map_err(|e| undo(e.into()))?;
    let ctx = InitContext {
        spec,
        upper,
        work,
        cgroup_procs: cgroup.procs_files(),
        tty_slave,
        stdio: match io {
            ContainerIo::Terminal => None,
            ContainerIo::Fds(fds) => Some(fds),
        },
        error_pipe: error_write.as_fd(),
        seccomp: seccomp.as_ref(),
        parent: parent_link.child_end(),
    };
    let pid = clone_first_process(&ctx, oci::clone_flags(&spec.oci)).map_err(undo)?;
    drop(error_write);
    // Held until the command runs: the child checks it after its uid switch.
    let parent_end = parent_link.into_parent_end();

    let executed = SetupReceiver::new(error_read, "the container's first process").wait_for_exec();
    drop(parent_end);
    if let Err(error) = executed {
        let _ = nix::sys::wait::waitpid(pid, None);
        return Err(undo(error.into()));
    }

    let state = state::modify(&dir, |s| {
        s.status = Status::Running;
        s.pid = Some(pid.as_raw());
        s.started = Some(state::now());
    })
    .map_err(|e| {
        let _ = nix::sys::signal::kill(pid, Signal::SIGKILL);
        let _ = nix::sys::wait::waitpid(pid, None);
        undo(e.into())
    })?;

    // Events are the timeline, not the container: failing to record one
    // never fails the container.
    let _ = events::record(
        &dir,
        &Event::new(
            &state.id,
            &state.name,
            EventKind::Start { pid: pid.as_raw() },
        ),
    );
    // The watcher is a thread: it starts only after the clone above, which
    // needs hako single-threaded.
    let watcher = events::spawn_watcher(dir.clone(), &state.id, &state.name, cgroup.clone()).ok();
    Ok(RunningContainer {
        state,
        dir,
        pid,
        cgroup,
        pty,
        watcher,
    })
}

/// Step 1: under the store-wide lock, make sure the name is free and write the
/// first state file, so two containers can never get the same name.
fn reserve(
    paths: &Paths,
    spec: &ContainerSpec,
    layout: CgroupLayout,
    dir: &Path,
) -> Result<(), ContainerError> {
    let containers = paths.containers();
    fs::create_dir_all(&containers).map_err(ContainerError::path("create", &containers))?;
    // Only root may enter: a container's writable layer may hold setuid
    // files its root made, its state the secrets given with -e, its
    // directory the attach socket. Host users must reach none of them.
    fs::set_permissions(&containers, fs::Permissions::from_mode(0o700)).map_err(|source| {
        ContainerError::MakePrivate {
            path: containers.clone(),
            source,
        }
    })?;
    let _lock = state::lock_dir(&containers, true)?;
    let (id, name) = (&spec.record.id, &spec.record.name);
    if let Some(other) = state::claim_name(paths, name, id)? {
        return Err(SpecError::NameInUse(name.clone(), other).into());
    }
    let give_back = |error: ContainerError| {
        state::release_name(&containers, name, id);
        let _ = fs::remove_dir_all(dir);
        error
    };
    fs::DirBuilder::new()
        .mode(0o700)
        .create(dir)
        .map_err(|e| give_back(ContainerError::path("create", dir)(e)))?;
    // The container's lock file exists from now until the container is gone.
    state::lock_dir(dir, true).map_err(|e| give_back(e.into()))?;
    // The Spec is written once, as a bundle's config.json; the state then
    // changes with the container.
    oci::write_config(dir, &spec.oci).map_err(|e| give_back(e.into()))?;
    let record = ContainerState::created(spec, layout);
    state::write(dir, &record).map_err(|e| give_back(e.into()))?;
    let created = EventKind::Create {
        image: record.image.clone(),
        command: record.command.clone(),
    };
    let _ = events::record(dir, &Event::new(id, name, created));
    Ok(())
}

/// Step 5: the first process starts in the Spec's new namespaces: mount,
/// UTS, IPC, PID (it is PID 1) and, unless `--network host`, network. The
/// cgroup namespace comes later, after it has joined its cgroup. Refused
/// (one error) when hako has more than one thread: see `process::clone`.
fn clone_first_process(ctx: &InitContext, flags: CloneFlags) -> Result<Pid, ContainerError> {
    Ok(clone::clone_into_namespaces(|| container_main(ctx), flags)?)
}

/// Records how the command ended: reads the OOM-kill counter before the
/// cgroup goes (or the fact is lost), removes the cgroup, and either writes
/// the final state or, with `--rm`, removes the container.
pub fn finish(mut container: RunningContainer, exit_code: i32) -> ExitOutcome {
    // The watcher takes its last reading first, so a trip just before the
    // exit is on the timeline before the exit itself.
    if let Some(watcher) = container.watcher.take() {
        watcher.stop();
    }
    let oom_kills = container.cgroup.oom_kills().unwrap_or(0);
    // A process killed for memory exits with SIGKILL (137); the counter tells
    // it was the kernel's OOM killer and not a `kill -9`, unless the kills it
    // counts came before hako's own SIGKILL (an exec'd process OOM-killed,
    // then `hako stop`): that note is in the state file, written by the hako
    // that stopped it.
    let at_sigkill = state::read(&container.dir)
        .ok()
        .and_then(|s| s.oom_kills_at_sigkill);
    let oom_killed = super::control::killed_by_oom(exit_code, oom_kills, at_sigkill);
    let (id, name) = (&container.state.id, &container.state.name);
    let exited = EventKind::Exit {
        code: exit_code,
        oom_killed,
    };
    let _ = events::record(&container.dir, &Event::new(id, name, exited));
    let _ = container.cgroup.remove();
    if container.state.auto_remove {
        // `hako rm -f` may be removing it at this very moment: whoever holds
        // the lock first removes it, the other finds it gone.
        if let Ok(_lock) = state::lock(&container.dir) {
            let _ = events::record(&container.dir, &Event::new(id, name, EventKind::Rm));
            let _ = state::bury(&container.dir);
        }
    } else {
        let _ = state::modify(&container.dir, |s| {
            s.status = Status::Exited;
            s.exit_code = Some(exit_code);
            s.oom_killed = oom_killed;
            s.finished = Some(state::now());
            s.pid = None;
        });
        // The writable layer stays for `hako rm`; the work dir is scratch.
        let _ = fs::remove_dir_all(container.dir.join("work"));
    }
    ExitOutcome {
        exit_code,
        oom_killed,
    }
}

/// Removes a container that is not running: its cgroup (if any is left),
/// its writable layer and its state. With `force`, a running one is killed first.
pub fn remove(
    paths: &Paths,
    container: &ContainerState,
    force: bool,
) -> Result<(), ContainerError> {
    let dir = paths.container(&container.id);
    // Gone already: another hako (a foreground `--rm` run, another rm) removed it.
    let _lock = match state::lock(&dir) {
        Ok(lock) => lock,
        Err(StateError::NotFound(_)) => return Ok(()),
        Err(e) => return Err(e.into()),
    };
    let current = match state::read(&dir) {
        Ok(current) => current,
        Err(StateError::NotFound(_)) => return Ok(()),
        Err(e) => return Err(e.into()),
    };
    let alive = super::control::owns_its_pid(&current);
    if current.status == Status::Running && alive && !force {
        return Err(ContainerError::Running(current.name));
    }
    let cgroup = Cgroup::for_container(
        current.cgroup_layout,
        Path::new(CGROUP_ROOT),
        &current.cgroup_parent,
        &current.id,
    )?;
    // remove() kills whatever is still in the cgroup before removing it.
    cgroup.remove()?;
    let _ = events::record(&dir, &Event::new(&current.id, &current.name, EventKind::Rm));
    Ok(state::bury(&dir)?)
}

/// What `gc` cleaned up.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct GcReport {
    /// Containers whose hako died while they were being created or run:
    /// their cgroups are gone, their state says `exited`.
    pub recovered: Vec<String>,
    /// Containers removed entirely (`--rm` ones whose hako died).
    pub removed: Vec<String>,
}

/// Cleans up after hako processes that died (even by SIGKILL) while they
/// held a container: a container whose first process is gone but whose
/// state still says `created` or `running` gets its cgroup removed and is
/// marked `exited` (or removed, with `--rm`). Its mounts lived in its own
/// mount namespace and went with it. Running containers are not touched.
pub fn gc(paths: &Paths) -> Result<GcReport, ContainerError> {
    let mut report = GcReport::default();
    for container in state::list(paths)? {
        let dir = paths.container(&container.id);
        let Ok(_lock) = state::lock(&dir) else {
            continue;
        };
        let Ok(current) = state::read(&dir) else {
            continue;
        };
        // A live monitor is about to record the end itself (and read the
        // OOM counter before the cgroup goes): leave that container alone.
        let monitor_alive = current.monitor_pid.is_some_and(process_alive);
        let stale = matches!(current.status, Status::Created | Status::Running)
            && !monitor_alive
            && !super::control::owns_its_pid(&current);
        // A container still being created has no pid yet; give its hako a
        // moment (a create takes milliseconds) before calling it dead.
        if !stale || state::now().saturating_sub(current.created) < 5 && current.pid.is_none() {
            continue;
        }
        if let Ok(cgroup) = Cgroup::for_container(
            current.cgroup_layout,
            Path::new(CGROUP_ROOT),
            &current.cgroup_parent,
            &current.id,
        ) {
            let _ = cgroup.remove();
        }
        if current.auto_remove {
            let _ = state::bury(&dir);
            report.removed.push(current.name);
        } else {
            let mut exited = current;
            exited.status = Status::Exited;
            exited.pid = None;
            exited.finished = Some(state::now());
            let _ = state::write(&dir, &exited);
            let _ = fs::remove_dir_all(dir.join("work"));
            report.recovered.push(exited.name);
        }
    }
    for claim in state::stale_name_claims(paths, std::time::Duration::from_secs(5)) {
        if fs::remove_file(&claim).is_ok() {
            let name = claim.file_name().unwrap_or_default().to_string_lossy();
            report.removed.push(format!("the claim on the name {name}"));
        }
    }
    for tomb in state::leftover_tombs(paths) {
        if fs::remove_dir_all(&tomb).is_ok() {
            report.removed.push(
                tomb.file_name()
                    .unwrap_or_default()
                    .to_string_lossy()
                    .into(),
            );
        }
    }
    Ok(report)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::runtime::container::RunRequest;

    #[test]
    fn a_spec_without_a_mount_namespace_is_refused_before_anything_exists() {
        let root = tempfile::tempdir().unwrap();
        let paths = Paths::under(root.path());
        let request = RunRequest {
            image: "host".into(),
            cgroup_parent: "hako-test-no-mntns".into(),
            security_opt: vec!["seccomp=unconfined".into()],
            ..RunRequest::default()
        };
        let mut spec = ContainerSpec::from_request(&paths, &request).unwrap();
        let linux = spec.oci.linux_mut().as_mut().unwrap();
        let namespaces = linux.namespaces().clone().unwrap_or_default();
        linux.set_namespaces(Some(
            namespaces
                .into_iter()
                .filter(|ns| ns.typ() != LinuxNamespaceType::Mount)
                .collect(),
        ));
        let size = PtySize::default();
        let error = create_and_start(&paths, &spec, size, ContainerIo::Terminal)
            .err()
            .unwrap();
        assert!(matches!(error, ContainerError::NoMountNamespace), "{error}");
        assert_eq!(error.exit_code(), crate::runtime::exit_code::HAKO_ERROR);
        assert!(!paths.containers().exists());
    }
}
