//! The container's first process, from the moment it is cloned into its new
//! namespaces to the `execve` of the user's command.
//!
//! `setup_steps` is the whole container set-up as one ordered list; read it top
//! to bottom. Each step either succeeds or stops the set-up with an error that
//! goes back to the parent over the error pipe, with the exit code docker
//! would give (125 set-up, 126 cannot execute, 127 not found).

use super::fds;
use super::mounts;
use super::network;
use super::oci::{self, Privileges};
use super::resolve;
use super::spec::ContainerSpec;
use super::SetupError;
use crate::runtime::capabilities;
use crate::runtime::process::keyring;
use crate::runtime::process::parent::ChildEnd;
use crate::runtime::process::setup_channel::SetupSender;
use crate::runtime::process::{command, stdio};
use crate::runtime::seccomp::BpfProgram;
use nix::fcntl::{open, OFlag};
use nix::sched::{unshare, CloneFlags};
use nix::sys::signal::{signal, sigprocmask, SigHandler, SigSet, SigmaskHow, Signal};
use nix::sys::stat::Mode;
use nix::unistd::{setgid, setgroups, sethostname, setsid, setuid, Gid, Uid};
use oci_spec::runtime::LinuxNamespaceType;
use std::convert::Infallible;
use std::ffi::CString;
use std::fs;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, IntoRawFd};
use std::path::PathBuf;

/// What the first process needs to know, prepared by the parent before clone.
pub struct InitContext<'a> {
    pub spec: &'a ContainerSpec,
    pub upper: PathBuf,
    pub work: PathBuf,
    /// `cgroup.procs` files to join before anything else happens.
    pub cgroup_procs: Vec<PathBuf>,
    /// The terminal's slave side, when the container has one.
    pub tty_slave: Option<PathBuf>,
    /// Descriptors for stdin, stdout and stderr without a terminal: pipes
    /// that hako (foreground) or the monitor (detached) relays, and /dev/null
    /// for stdin without `-i`. Never the caller's own.
    pub stdio: Option<[BorrowedFd<'a>; 3]>,
    /// Write end of the error pipe; closed by `execve` (O_CLOEXEC) on success.
    pub error_pipe: BorrowedFd<'a>,
    /// The seccomp program, compiled by the parent; none when unconfined.
    pub seccomp: Option<&'a BpfProgram>,
    /// Tells whether the hako that cloned this process is still there.
    pub parent: ChildEnd<'a>,
}

/// Runs the set-up and executes the command. Returns only on failure, with
/// the exit code for the process; the reason has been sent to the parent.
pub fn container_main(ctx: &InitContext) -> isize {
    let error = match setup_steps(ctx) {
        Ok(never) => match never {},
        Err(error) => error,
    };
    let _ = SetupSender::new(ctx.error_pipe).failed(&error);
    error.exit_code as isize
}

fn setup_steps(ctx: &InitContext) -> Result<Infallible, SetupError> {
    let spec = ctx.spec;
    let config = &spec.oci;

    // 1. Not dumpable until the command's execve: the container's processes
    //    must not reach this one's memory or /proc/PID/exe (CVE-2019-5736).
    //    Undo what the parent set for itself: its blocked signals and Rust's
    //    ignored SIGPIPE would otherwise be inherited by the command. If the
    //    hako that holds the container (foreground run or monitor) dies, the
    //    container goes with it instead of running on untracked.
    nix::sys::prctl::set_dumpable(false)
        .map_err(|e| step_err("make the container's first process undumpable", e))?;
    restore_signals()?;
    ctx.parent.close_parent_end();
    nix::sys::prctl::set_pdeathsig(Signal::SIGKILL)
        .map_err(|e| step_err("set the parent-death signal", e))?;

    // 2. Enter the container's cgroup, then make it the root of a new cgroup
    //    namespace, so the limits hold before any of the user's code runs.
    join_cgroup(&ctx.cgroup_procs)?;
    if oci::has_namespace(config, LinuxNamespaceType::Cgroup) {
        unshare(CloneFlags::CLONE_NEWCGROUP)
            .map_err(|e| step_err("unshare the cgroup namespace", e))?;
    }

    // 3. A session of its own; the terminal (if any) becomes its controlling tty.
    setsid().map_err(|e| step_err("start a new session", e))?;
    attach_stdio(ctx)?;

    // 4. The root filesystem: the overlay of the image at the Spec's root.
    mounts::make_root_slave()?;
    let (rootfs, read_only_root) = oci::root(config);
    if !mounts::mount_overlay(&spec.record.lower, &ctx.upper, &ctx.work, rootfs)? {
        eprintln!(
            "hako: overlayfs is not available here; copying the image instead (slower, uses disk)"
        );
        mounts::mount_copied_root(&spec.record.lower, &ctx.upper, rootfs)?;
    }
    // From here every target is resolved from this held fd of the root.
    let root = resolve::Root::open(rootfs)?;

    // 5. The Spec's mounts in order (host dirs, volumes, /proc, /dev and its
    //    nodes, /sys), /dev's links and console, then hide what a container
    //    must not touch.
    mounts::mount_all(&root, oci::mounts(config))?;
    let console = oci::terminal(config)
        .then_some(())
        .and(ctx.tty_slave.as_deref());
    mounts::make_dev_links(&root, console)?;
    mounts::mask_kernel_paths(
        &root,
        oci::masked_paths(config),
        oci::readonly_paths(config),
    )?;

    // 6. Switch to the new root and let go of the host's.
    mounts::pivot_into(&root)?;
    drop(root);

    // 7. Identity and network inside the namespaces.
    if let Some(hostname) = config.hostname() {
        sethostname(hostname).map_err(|e| step_err("set the hostname", e))?;
    }
    if oci::has_namespace(config, LinuxNamespaceType::Network) {
        network::bring_up_loopback()?;
    }
    fds::create_workdir(oci::cwd(config))?;
    if read_only_root {
        mounts::make_root_read_only()?;
    }

    // 8. Privileges: a session keyring of its own (before seccomp refuses
    //    keyctl), the capability set, the user, no_new_privs; the uid switch
    //    cleared the parent-death signal, so it is set again, and the parent
    //    checked to be still there.
    keyring::join_new_session_keyring().map_err(SetupError::from_display)?;
    drop_privileges(&oci::privileges(config).map_err(SetupError::from_display)?)?;
    ctx.parent
        .die_with_parent(Signal::SIGKILL)
        .map_err(SetupError::from_display)?;

    // 9. No descriptor of hako's reaches the command (close_range, never a
    //    /proc listing).
    fds::close_inherited_fds()?;

    // 10. The working directory, checked to be inside the container.
    fds::enter_workdir(oci::cwd(config))?;

    // 11. The seccomp filter, last, after no_new_privs: none of hako's own
    //     set-up is filtered; from here on only the PATH search and execve run.
    install_seccomp(ctx.seccomp)?;

    // 12. Run the command.
    exec_command(spec)
}

pub(super) fn step_err(what: &str, errno: nix::Error) -> SetupError {
    SetupError::new(format!("failed to {what}: {errno}"))
}

pub(super) fn restore_signals() -> Result<(), SetupError> {
    sigprocmask(SigmaskHow::SIG_SETMASK, Some(&SigSet::empty()), None)
        .map_err(|e| step_err("unblock signals", e))?;
    // SAFETY: setting a default disposition installs no Rust handler, so
    // nothing can run in signal context.
    unsafe { signal(Signal::SIGPIPE, SigHandler::SigDfl) }
        .map_err(|e| step_err("restore SIGPIPE", e))?;
    Ok(())
}

pub(super) fn join_cgroup(procs_files: &[PathBuf]) -> Result<(), SetupError> {
    for file in procs_files {
        // "0" means the writing process itself.
        fs::write(file, "0").map_err(|e| {
            SetupError::new(format!("failed to join the cgroup {}: {e}", file.display()))
        })?;
    }
    Ok(())
}

/// With a terminal: stdin, stdout and stderr are its slave side. Without one,
/// the pipes given in `ctx.stdio`: hako's own descriptors never become the
/// container's (they could be reopened through /proc/self/fd, issue 8).
fn attach_stdio(ctx: &InitContext) -> Result<(), SetupError> {
    if let Some(slave) = &ctx.tty_slave {
        let fd = open(slave.as_path(), OFlag::O_RDWR, Mode::empty())
            .map_err(|e| step_err(&format!("open the terminal {}", slave.display()), e))?;
        stdio::attach_terminal(fd.as_fd(), &slave.display())?;
        // Opened as one of 0-2 (closed in hako), it stays as that one.
        if fd.as_raw_fd() <= 2 {
            let _ = fd.into_raw_fd();
        }
    } else if let Some(fds) = ctx.stdio {
        stdio::attach_pipes(fds)?;
    } else {
        return Err(SetupError::new(
            "no stdin, stdout and stderr were given for a container without a terminal".into(),
        ));
    }
    Ok(())
}

/// The last privileged step, for the container's first process and for
/// every `exec`: drop everything outside the bounding set (that needs
/// CAP_SETPCAP, still held), take the groups and the user, set the
/// process's own capability sets (empty for a non-root user, as Docker
/// does), then no_new_privs.
pub(super) fn drop_privileges(privileges: &Privileges) -> Result<(), SetupError> {
    capabilities::restrict_bounding_set(&privileges.bounding).map_err(SetupError::from_display)?;
    let gid = Gid::from_raw(privileges.gid);
    let groups: Vec<Gid> = privileges
        .additional_gids
        .iter()
        .map(|g| Gid::from_raw(*g))
        .collect();
    setgroups(&groups).map_err(|e| step_err("set the supplementary groups", e))?;
    setgid(gid).map_err(|e| step_err(&format!("set gid {gid}"), e))?;
    setuid(Uid::from_raw(privileges.uid))
        .map_err(|e| step_err(&format!("set uid {}", privileges.uid), e))?;
    capabilities::set_process_sets(&privileges.effective).map_err(SetupError::from_display)?;
    nix::sys::prctl::set_no_new_privs().map_err(|e| step_err("set no_new_privs", e))
}

/// Installs the container's seccomp program, if it has one.
pub(super) fn install_seccomp(program: Option<&BpfProgram>) -> Result<(), SetupError> {
    match program {
        Some(program) => program
            .install()
            .map_err(|e| SetupError::new(format!("failed to install the seccomp filter: {e}"))),
        None => Ok(()),
    }
}

fn exec_command(spec: &ContainerSpec) -> Result<Infallible, SetupError> {
    let (command, env) = (oci::args(&spec.oci), oci::env(&spec.oci));
    let first = command
        .first()
        .ok_or_else(|| SetupError::new("the command is empty".into()))?;
    let to_c = |s: &str| {
        CString::new(s).map_err(|_| SetupError::new(format!("{s:?} contains a NUL byte")))
    };
    let args = command
        .iter()
        .map(|a| to_c(a))
        .collect::<Result<Vec<_>, _>>()?;
    let env_c = env.iter().map(|e| to_c(e)).collect::<Result<Vec<_>, _>>()?;
    command::execute(first, &args, env, &env_c)
}
