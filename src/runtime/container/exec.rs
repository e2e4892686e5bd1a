//! Running a new process inside a running container (`hako exec`, and later
//! the dashboard's shells), as `docker exec` does.
//!
//! Three processes take part: the caller (hako), a joiner `A` that enters the
//! container, and the command `B`. The steps, in order:
//!
//! In the caller (`start`):
//! 1. check the request (-e, -u, -w) and that the container is running; read
//!    the container's seccomp program;
//! 2. open the container's namespace files `/proc/<pid>/ns/{ipc,uts,net,pid,cgroup,mnt}`,
//!    then check that the pid is still in the container's cgroup, so the
//!    descriptors are the container's and not those of a reused pid;
//! 3. with `-t`, open a PTY and its slave side here, on the host: once in the
//!    container's mount namespace the host's /dev/pts is out of sight. Without
//!    `-t`, pipes that the caller relays (stdin /dev/null without `-i`): the
//!    caller's own descriptors never reach the command;
//! 4. fork `A`.
//!
//! In `A` (`join_steps`):
//! 5. a session of its own; keep the handled signals blocked (they are taken
//!    with sigwait and passed on to `B`) and get SIGHUP if the caller dies;
//! 6. join the container's cgroup, before entering its cgroup namespace, so
//!    the namespace's root is the container's cgroup and its limits hold;
//! 7. enter the namespaces: ipc, uts, net, cgroup, pid, mnt. The mount
//!    namespace comes last: entering it sets root and cwd to the namespace's
//!    root, the container's pivoted root, and the host's paths are gone;
//! 8. fork `B`: entering a PID namespace only moves the children; `A` holds
//!    the write end of a pipe that tells `B` whether `A` is still there;
//! 9. pass signals on to `B`, reap it and exit with its status (128 + signal
//!    when it was killed).
//!
//! In `B` (`command_steps`), as the container's first process does (init.rs):
//! 10. not dumpable (as `A`), restore the signal mask and SIGPIPE;
//! 11. a session of its own; the terminal becomes its controlling tty, or
//!     stdio is attached;
//! 12. privileges: a session keyring of its own, the container's bounding
//!     set, the user (the container's unless -u), the process sets (empty for
//!     a non-root user), no_new_privs; then the parent-death signal again
//!     (the uid switch cleared it) and the check that `A` is still there;
//! 13. no descriptor of hako's reaches the command (close_range, not a listing
//!     of the /proc that the container may have faked);
//! 14. enter the working directory, checked to be inside the container;
//! 15. install the container's seccomp program (the one its first process
//!     got, kept in its directory), last, so none of hako's set-up is filtered;
//! 16. execute the command, found in the container's PATH.
//!
//! Back in the caller: the error pipe (O_CLOEXEC) closes when `B`'s execve
//! succeeds, or carries the reason it did not (exit 127 not found, 126 cannot
//! execute, 125 anything else). Then the caller waits for `A`
//! (`foreground::wait_pid`), relaying the terminal or the pipes.

use super::caller_terminal;
use super::control;
use super::error::ContainerError;
use super::fds;
use super::foreground;
use super::init::{drop_privileges, install_seccomp, join_cgroup, restore_signals, step_err};
use super::oci::{self, ConfigError, Privileges, User};
use super::signals::{self, handled_signals};
use super::spec::SpecError;
use super::stdio::{HostEnds, StdioPipes};
use super::SetupError;
use crate::runtime::cgroup::Manager;
use crate::runtime::paths::Paths;
use crate::runtime::process::clone;
use crate::runtime::process::keyring;
use crate::runtime::process::parent::{ChildEnd, ParentLink};
use crate::runtime::process::setup_channel::{SetupReceiver, SetupSender};
use crate::runtime::process::{command, stdio};
use crate::runtime::seccomp::{self, BpfProgram};
use crate::runtime::state::{self, ContainerState, StateError};
use caps::{Capability, CapsHashSet};
use nix::errno::Errno;
use nix::fcntl::{open, OFlag};
use nix::sched::{setns, CloneFlags};
use nix::sys::signal::{kill, sigprocmask, SigmaskHow, Signal};
use nix::sys::stat::Mode;
use nix::sys::wait::{waitpid, WaitPidFlag, WaitStatus};
use nix::unistd::{fork, getppid, pipe2, setsid, ForkResult, Pid};
use portable_pty::{MasterPty, PtySize};
use std::convert::Infallible;
use std::ffi::CString;
use std::fs::File;
use std::io;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, OwnedFd, RawFd};
use std::path::{Path, PathBuf};
use std::str::FromStr;

/// What a user asks to run, in their own words (the CLI's flags).
#[derive(Debug, Clone, Default)]
pub struct ExecRequest {
    /// The command and its arguments; found in the container's PATH.
    pub command: Vec<String>,
    /// `KEY=VALUE` added to (or replacing in) the container's environment;
    /// `KEY` alone takes hako's own value, as docker does.
    pub env: Vec<String>,
    /// Absolute working directory (default: the container's).
    pub workdir: Option<String>,
    /// `UID`, `UID:GID` or `root` (default: the container's user).
    pub user: Option<String>,
    /// Keep stdin open and pass it on.
    pub interactive: bool,
    /// Run the command on a new PTY.
    pub tty: bool,
}

/// A command started in a container.
pub struct ExecProcess {
    /// The joiner `A`, a child of the caller: it exits with the command's status.
    pub pid: Pid,
    /// The PTY's master side, with `-t`.
    pub pty: Option<Box<dyn MasterPty + Send>>,
    /// The caller's ends of the command's stdio pipes, without `-t`.
    pub pipes: Option<HostEnds>,
}

/// Runs `request` in the container in the foreground of the calling terminal
/// and returns the command's exit code (128 + N when killed by signal N).
pub fn exec(
    paths: &Paths,
    container: &ContainerState,
    request: &ExecRequest,
) -> Result<i32, ContainerError> {
    signals::block_signals().map_err(ContainerError::io("block signals"))?;
    let process = start(paths, container, request, caller_terminal::terminal_size())?;
    foreground::wait_pid(process.pid, process.pty, request.interactive, process.pipes).map_err(
        |source| ContainerError::LostCommand {
            container: container.name.clone(),
            source,
        },
    )
}

/// Starts `request` in the container and returns once the command has been
/// executed (or failed to be). The caller then waits for `pid` (and relays
/// `pty`). The caller should have blocked `signals::handled_signals()` so
/// no SIGCHLD is lost. Refused (one error) in a multi-threaded caller: the
/// forked processes allocate memory and enter namespaces.
pub fn start(
    paths: &Paths,
    container: &ContainerState,
    request: &ExecRequest,
    terminal_size: PtySize,
) -> Result<ExecProcess, ContainerError> {
    // 1. The request, then the container as it is now (not as it was read).
    let current = state::read(&paths.container(&container.id)).map_err(|e| match e {
        StateError::NotFound(_) => ContainerError::NoSuchContainer(container.name.clone()),
        other => other.into(),
    })?;
    let plan = ExecPlan::new(&current, &paths.container(&current.id), request)?;
    let pid = match current.pid {
        Some(pid) if control::is_running(&current) => Pid::from_raw(pid),
        _ => return Err(not_running(&current)),
    };

    // 2. The namespaces, then proof that they are the container's.
    let namespaces = open_namespaces(&current, pid)?;
    let cgroup_procs = control::cgroup_of(&current)?.procs_files();
    if !control::in_cgroup(pid.as_raw(), &cgroup_procs) {
        return Err(not_running(&current));
    }

    // 3. The terminal, or pipes.
    let (pty, terminal) = if request.tty {
        let (master, slave) = open_terminal(terminal_size)?;
        (Some(master), Some(slave))
    } else {
        (None, None)
    };
    let pipes = match request.tty {
        true => None,
        false => {
            Some(StdioPipes::new(request.interactive).map_err(ContainerError::io("create pipes"))?)
        }
    };

    // 4. The joiner.
    let (error_read, error_write) =
        pipe2(OFlag::O_CLOEXEC).map_err(ContainerError::syscall("create a pipe"))?;
    let ctx = JoinContext {
        plan: &plan,
        namespaces: &namespaces,
        cgroup_procs,
        caller_ends: match &pipes {
            Some(pipes) => pipes.host_fds(),
            None => pty
                .as_ref()
                .and_then(|m| m.as_raw_fd())
                .into_iter()
                .collect(),
        },
        terminal: terminal.as_ref().map(|fd| fd.as_fd()),
        stdio: pipes.as_ref().map(StdioPipes::container_fds),
        error_pipe: error_write.as_fd(),
        caller: nix::unistd::getpid(),
    };
    clone::ensure_single_threaded("fork the exec process")?;
    // SAFETY: hako is single-threaded here (checked above), so the child's
    // copy of memory holds no lock taken by another thread; the child only
    // uses `ctx` and ends with _exit.
    let joiner = match unsafe { fork() } {
        Ok(ForkResult::Child) => joiner_main(&ctx),
        Ok(ForkResult::Parent { child }) => child,
        Err(e) => return Err(ContainerError::syscall("start a process")(e)),
    };
    // Only `A` and `B` keep these; the slave must close here so the master
    // sees the end of output when the command's last process is gone.
    drop((error_write, terminal, namespaces));
    let pipes = pipes.map(StdioPipes::into_host_ends);

    if let Err(error) = SetupReceiver::new(error_read, "the exec process").wait_for_exec() {
        let _ = waitpid(joiner, None);
        return Err(error.into());
    }
    Ok(ExecProcess {
        pid: joiner,
        pty,
        pipes,
    })
}

fn not_running(container: &ContainerState) -> ContainerError {
    ContainerError::NotRunning(container.name.clone())
}

/// The request checked and turned into what `B` needs, before any fork.
struct ExecPlan {
    /// The command's name as given, for the PATH search.
    program: String,
    args: Vec<CString>,
    /// The environment as text (for PATH) and for execve.
    env: Vec<String>,
    env_c: Vec<CString>,
    workdir: PathBuf,
    /// The container's bounding set; its user (unless -u) and, for root,
    /// its process sets.
    privileges: Privileges,
    /// The container's seccomp program, read from its directory.
    seccomp: Option<BpfProgram>,
}

impl ExecPlan {
    fn new(
        container: &ContainerState,
        container_dir: &Path,
        request: &ExecRequest,
    ) -> Result<ExecPlan, ContainerError> {
        let program = match request.command.first() {
            Some(p) if !p.is_empty() => p.clone(),
            _ => return Err(SpecError::EmptyCommand.into()),
        };
        let made_with = MadeWith::read(container, container_dir)?;
        let user = match request.user.as_deref() {
            Some(text) => super::spec::parse_user(text)?,
            None => made_with.user,
        };
        let workdir = match request.workdir.as_deref() {
            None => made_with.cwd,
            Some(w) if w.starts_with('/') => PathBuf::from(w),
            Some(w) => return Err(SpecError::BadWorkdir(w.to_string()).into()),
        };
        let env = build_env(&made_with.env, &request.env, request.tty)?;
        let kept = made_with.kept;
        let to_c =
            |s: &String| CString::new(s.as_str()).map_err(|_| ContainerError::NulByte(s.clone()));
        Ok(ExecPlan {
            program,
            args: request.command.iter().map(to_c).collect::<Result<_, _>>()?,
            env_c: env.iter().map(to_c).collect::<Result<_, _>>()?,
            env,
            workdir,
            privileges: Privileges::for_user(&kept, user),
            seccomp: seccomp::program_for_exec(container.seccomp.as_ref(), container_dir)?,
        })
    }
}

/// What an exec starts from: the container's user, working directory,
/// environment and kept capabilities.
struct MadeWith {
    user: User,
    cwd: PathBuf,
    env: Vec<String>,
    kept: CapsHashSet,
}

impl MadeWith {
    /// From the container's config.json, the one description of what it was
    /// made with; for a container an older hako made (no config.json), from
    /// the copies its state kept, so that it can still be entered.
    fn read(container: &ContainerState, dir: &Path) -> Result<MadeWith, ContainerError> {
        let bad_config = |source| ContainerError::BadConfig {
            container: container.name.clone(),
            source,
        };
        match oci::read_config(dir) {
            Ok(config) => Ok(MadeWith {
                user: oci::user(&config),
                cwd: oci::cwd(&config).to_path_buf(),
                env: oci::env(&config).to_vec(),
                kept: oci::privileges(&config).map_err(bad_config)?.bounding,
            }),
            Err(ConfigError::Io { source, .. }) if source.kind() == io::ErrorKind::NotFound => {
                let kept = container
                    .capabilities
                    .iter()
                    .map(|name| {
                        Capability::from_str(name)
                            .map_err(|_| bad_config(ConfigError::UnknownCapability(name.clone())))
                    })
                    .collect::<Result<CapsHashSet, _>>()?;
                Ok(MadeWith {
                    user: User {
                        uid: container.user.0,
                        gid: container.user.1,
                    },
                    cwd: PathBuf::from(&container.workdir),
                    env: container.env.clone(),
                    kept,
                })
            }
            Err(error) => Err(error.into()),
        }
    }
}

/// The container's environment, then TERM=xterm with a terminal, then the
/// user's `-e`, each replacing an entry with the same key.
fn build_env(base: &[String], extra: &[String], tty: bool) -> Result<Vec<String>, ContainerError> {
    let mut env = base.to_vec();
    let mut set = |entry: String| {
        let key = entry.split('=').next().unwrap_or_default().to_string();
        env.retain(|e| e.split('=').next() != Some(key.as_str()));
        env.push(entry);
    };
    if tty {
        set("TERM=xterm".into());
    }
    for entry in extra {
        match entry.split_once('=') {
            Some(("", _)) => return Err(bad_env(entry)),
            Some(_) => set(entry.clone()),
            None if entry.is_empty() => return Err(bad_env(entry)),
            None => {
                if let Ok(value) = std::env::var(entry) {
                    set(format!("{entry}={value}"));
                }
            }
        }
    }
    Ok(env)
}

fn bad_env(entry: &str) -> ContainerError {
    SpecError::BadEnv(entry.to_string()).into()
}

/// One of the container's namespaces, open.
struct Namespace {
    name: &'static str,
    kind: CloneFlags,
    file: File,
}

/// Step 2, in the order they are entered (mnt last).
fn open_namespaces(container: &ContainerState, pid: Pid) -> Result<Vec<Namespace>, ContainerError> {
    [
        ("ipc", CloneFlags::CLONE_NEWIPC),
        ("uts", CloneFlags::CLONE_NEWUTS),
        ("net", CloneFlags::CLONE_NEWNET),
        ("cgroup", CloneFlags::CLONE_NEWCGROUP),
        ("pid", CloneFlags::CLONE_NEWPID),
        ("mnt", CloneFlags::CLONE_NEWNS),
    ]
    .into_iter()
    .map(|(name, kind)| {
        let path = format!("/proc/{pid}/ns/{name}");
        // std opens with O_CLOEXEC.
        match File::open(&path) {
            Ok(file) => Ok(Namespace { name, kind, file }),
            // Gone, or a zombie whose namespaces are already released.
            Err(e) if e.kind() == io::ErrorKind::NotFound => Err(not_running(container)),
            Err(e) => Err(ContainerError::path("open", path)(e)),
        }
    })
    .collect()
}

/// Step 3: a new PTY and its slave side, opened without becoming hako's
/// controlling terminal.
fn open_terminal(size: PtySize) -> Result<(Box<dyn MasterPty + Send>, OwnedFd), ContainerError> {
    let pair = portable_pty::native_pty_system()
        .openpty(size)
        .map_err(|e| ContainerError::OpenTerminal(e.into()))?;
    let slave_path = pair
        .master
        .tty_name()
        .ok_or(ContainerError::NoTerminalName)?;
    let slave = open_fd(&slave_path, OFlag::O_RDWR | OFlag::O_NOCTTY)?;
    // portable-pty's own slave descriptor closes here; `B` gets ours.
    drop(pair.slave);
    Ok((pair.master, slave))
}

fn open_fd(path: &Path, flags: OFlag) -> Result<OwnedFd, ContainerError> {
    open(path, flags | OFlag::O_CLOEXEC, Mode::empty()).map_err(|source| ContainerError::Open {
        path: path.to_path_buf(),
        source,
    })
}

/// What `A` and `B` need, prepared by the caller before fork.
struct JoinContext<'a> {
    plan: &'a ExecPlan,
    namespaces: &'a [Namespace],
    cgroup_procs: Vec<PathBuf>,
    /// The caller's side of the PTY (with `-t`) or of the pipes (without):
    /// not for `A` or `B`.
    caller_ends: Vec<RawFd>,
    /// The PTY's slave side, with `-t`.
    terminal: Option<BorrowedFd<'a>>,
    /// Without `-t`: the command's stdin (a pipe, or /dev/null without `-i`),
    /// stdout and stderr (pipes).
    stdio: Option<[BorrowedFd<'a>; 3]>,
    /// Write end of the error pipe; closed by `B`'s execve (O_CLOEXEC).
    error_pipe: BorrowedFd<'a>,
    /// The caller, to notice it died before `A` asked to be told.
    caller: Pid,
}

/// The joiner `A`: steps 5 to 9. Never returns.
fn joiner_main(ctx: &JoinContext) -> ! {
    // `_parent_end` stays open until `A` exits: `B` watches it.
    let (command, _parent_end) = match join_steps(ctx) {
        Ok(started) => started,
        Err(error) => exit_with(ctx.error_pipe, &error),
    };
    // Only `B` keeps the error pipe, the terminal and the pipes from here on.
    let stdio = ctx.stdio.into_iter().flatten().map(Some);
    for fd in [Some(ctx.error_pipe), ctx.terminal]
        .into_iter()
        .chain(stdio)
        .flatten()
    {
        let _ = nix::unistd::close(fd.as_raw_fd());
    }
    let code = relay_signals(command);
    // SAFETY: _exit ends the process without running the caller's atexit
    // handlers or flushing its copies of stdio buffers.
    unsafe { libc::_exit(code) }
}

/// Steps 5 to 8; returns `B`'s pid (as `A` sees it) and `A`'s end of the
/// pipe `B` watches.
fn join_steps(ctx: &JoinContext) -> Result<(Pid, OwnedFd), SetupError> {
    // 4b. Not dumpable: once inside the container's PID namespace, its root
    //     must not open /proc/<pid>/exe of this process (the host's hako
    //     binary) or its memory, as runc guards against (CVE-2019-5736).
    //     `execve` of the command makes the command dumpable again.
    nix::sys::prctl::set_dumpable(false)
        .map_err(|e| step_err("make the exec process undumpable", e))?;
    // 5. A session of its own, so that only the caller's forwarding (and not
    //    also the calling terminal) signals it. Signals stay blocked:
    //    `relay_signals` takes them with sigwait. If the caller dies, SIGHUP
    //    comes, and is passed on as a hang-up.
    for &fd in &ctx.caller_ends {
        let _ = nix::unistd::close(fd);
    }
    setsid().map_err(|e| step_err("start a new session", e))?;
    sigprocmask(SigmaskHow::SIG_SETMASK, Some(&handled_signals()), None)
        .map_err(|e| step_err("block signals", e))?;
    nix::sys::prctl::set_pdeathsig(Signal::SIGHUP)
        .map_err(|e| step_err("set the parent-death signal", e))?;
    if getppid() != ctx.caller {
        return Err(SetupError::new(
            "hako exited before the command started".into(),
        ));
    }

    // 6. The cgroup, while its files are still in sight.
    join_cgroup(&ctx.cgroup_procs)?;

    // 7. The namespaces, mnt last.
    for ns in ctx.namespaces {
        setns(&ns.file, ns.kind)
            .map_err(|e| step_err(&format!("enter the container's {} namespace", ns.name), e))?;
    }

    // 8. The command, in the container's PID namespace. `B`'s parent is out
    //    of its PID namespace (getppid() gives 0 there): a pipe tells it
    //    whether `A` is still there.
    let parent_link = ParentLink::new().map_err(SetupError::from_display)?;
    // SAFETY: this process is single-threaded (a fork of a caller checked to
    // be); the child only uses `ctx` and ends in execve or _exit.
    match unsafe { fork() } {
        Ok(ForkResult::Child) => command_main(ctx, parent_link.child_end()),
        Ok(ForkResult::Parent { child }) => Ok((child, parent_link.into_parent_end())),
        Err(Errno::EAGAIN) => Err(SetupError::new(
            "failed to start the command: the container is at its process limit (--pids-limit)"
                .into(),
        )),
        Err(e) => Err(step_err("start the command", e)),
    }
}

/// Step 9: passes the handled signals on to `B` until it ends, and returns
/// its status as a shell gives it.
fn relay_signals(command: Pid) -> i32 {
    let signals = handled_signals();
    loop {
        match signals.wait() {
            Ok(Signal::SIGCHLD) => loop {
                match waitpid(command, Some(WaitPidFlag::WNOHANG)) {
                    Ok(WaitStatus::Exited(_, code)) => return code,
                    Ok(WaitStatus::Signaled(_, sig, _)) => {
                        return crate::runtime::exit_code::killed_by(sig as i32)
                    }
                    Ok(WaitStatus::StillAlive) => break,
                    Ok(_) | Err(Errno::EINTR) => continue,
                    Err(_) => return crate::runtime::exit_code::HAKO_ERROR,
                }
            },
            // The PTY's size changes reach `B` from the kernel.
            Ok(Signal::SIGWINCH) => {}
            Ok(other) => {
                let _ = kill(command, other);
            }
            Err(_) => {}
        }
    }
}

/// The command `B`: steps 10 to 16. Never returns.
fn command_main(ctx: &JoinContext, parent: ChildEnd<'_>) -> ! {
    let error = match command_steps(ctx, parent) {
        Ok(never) => match never {},
        Err(error) => error,
    };
    exit_with(ctx.error_pipe, &error)
}

fn command_steps(ctx: &JoinContext, parent: ChildEnd<'_>) -> Result<Infallible, SetupError> {
    let plan = ctx.plan;

    // 10. Not dumpable until execve, as `A` (fork keeps it; said again so it
    //     holds whatever `A` does). The caller's blocked signals and ignored
    //     SIGPIPE are not the command's.
    nix::sys::prctl::set_dumpable(false)
        .map_err(|e| step_err("make the exec process undumpable", e))?;
    parent.close_parent_end();
    restore_signals()?;

    // 11. A session of its own, and its stdio.
    setsid().map_err(|e| step_err("start a new session", e))?;
    attach_stdio(ctx)?;

    // 12. Privileges: a session keyring of its own (before seccomp refuses
    //     keyctl), bounding set (needs CAP_SETPCAP), then the user, then the
    //     process's own sets, then no_new_privs; then die with `A` again.
    keyring::join_new_session_keyring().map_err(SetupError::from_display)?;
    drop_privileges(&plan.privileges)?;
    parent
        .die_with_parent(Signal::SIGKILL)
        .map_err(SetupError::from_display)?;

    // 13. No descriptor of hako's reaches the command: close_range, as the
    //     container's /proc may be a fake (CVE-2024-21626 class).
    fds::close_inherited_fds()?;

    // 14. The working directory, checked to be inside the container.
    fds::enter_workdir(&plan.workdir)?;

    // 15. The container's seccomp filter, last, after no_new_privs.
    install_seccomp(plan.seccomp.as_ref())?;

    // 16. The command, found in the container's PATH.
    command::execute(&plan.program, &plan.args, &plan.env, &plan.env_c)
}

/// With a terminal: stdin, stdout and stderr are its slave side, and it is the
/// session's controlling terminal. Without: the pipes the caller relays.
fn attach_stdio(ctx: &JoinContext) -> Result<(), SetupError> {
    if let Some(fd) = ctx.terminal {
        stdio::attach_terminal(fd, &"the terminal")?;
        // From here on the terminal is 0-2 only, as in the first process.
        if fd.as_raw_fd() > 2 {
            let _ = nix::unistd::close(fd.as_raw_fd());
        }
        Ok(())
    } else if let Some(fds) = ctx.stdio {
        stdio::attach_pipes(fds)
    } else {
        Ok(())
    }
}

/// Sends the failure to the caller over the error pipe and exits with its code.
fn exit_with(error_pipe: BorrowedFd, error: &SetupError) -> ! {
    let _ = SetupSender::new(error_pipe).failed(error);
    // SAFETY: as in `joiner_main`.
    unsafe { libc::_exit(error.exit_code) }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn env_adds_to_the_containers_and_replaces_by_key() {
        let base = vec!["PATH=/bin".to_string(), "HOME=/root".to_string()];
        let env = build_env(&base, &["HOME=/tmp".into(), "A=b=c".into()], true).unwrap();
        assert_eq!(env, ["PATH=/bin", "TERM=xterm", "HOME=/tmp", "A=b=c"]);
        let env = build_env(&base, &[], false).unwrap();
        assert_eq!(env, base);
        for bad in ["", "=x"] {
            assert_eq!(
                build_env(&base, &[bad.into()], false)
                    .unwrap_err()
                    .exit_code(),
                crate::runtime::exit_code::HAKO_ERROR
            );
        }
    }
}
