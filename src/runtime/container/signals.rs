//! The signals hako takes over while it waits for a container (in the
//! foreground, in a monitor, for an exec): blocked before the container
//! starts, then read from a signalfd in order with the relayed I/O. SIGCHLD
//! reaps the container, SIGWINCH resizes its terminal, the others are
//! passed on to it.

use super::caller_terminal::terminal_size;
use nix::errno::Errno;
use nix::sys::signal::{kill, SigSet, SigmaskHow, Signal};
use nix::sys::signalfd::SignalFd;
use nix::sys::wait::{waitpid, WaitPidFlag, WaitStatus};
use nix::unistd::Pid;
use std::io;

/// The signals hako takes over while a container runs in the foreground.
pub fn handled_signals() -> SigSet {
    let mut set = SigSet::empty();
    for sig in [
        Signal::SIGCHLD,
        Signal::SIGINT,
        Signal::SIGTERM,
        Signal::SIGHUP,
        Signal::SIGQUIT,
        Signal::SIGUSR1,
        Signal::SIGUSR2,
        Signal::SIGWINCH,
    ] {
        set.add(sig);
    }
    set
}

/// Blocks the handled signals so none is lost between starting the container
/// and starting to wait. Call before `create_and_start`; the container's first
/// process unblocks them for itself.
pub fn block_signals() -> io::Result<()> {
    nix::sys::signal::sigprocmask(SigmaskHow::SIG_BLOCK, Some(&handled_signals()), None)?;
    Ok(())
}

/// The container's exit code once a relay is done: the one already reaped, or
/// the next, taking signals (and forwarding them) until it comes.
pub(super) fn finish_waiting(
    exit_code: Option<i32>,
    pid: Pid,
    signals: &SignalFd,
) -> io::Result<i32> {
    if let Some(code) = exit_code {
        return Ok(code);
    }
    loop {
        if let Some(code) = next_signal(pid, signals, None)? {
            return Ok(code);
        }
    }
}

/// Handles one signal: forwards it, resizes the PTY, or reaps the container.
/// Returns the exit code once the container's PID 1 has ended.
pub(super) fn next_signal(
    pid: Pid,
    signals: &SignalFd,
    pty: Option<&dyn portable_pty::MasterPty>,
) -> io::Result<Option<i32>> {
    let Some(info) = signals.read_signal()? else {
        return Ok(None);
    };
    let Ok(signal) = Signal::try_from(info.ssi_signo as i32) else {
        return Ok(None);
    };
    match signal {
        Signal::SIGCHLD => reap(pid),
        Signal::SIGWINCH => {
            if let Some(pty) = pty {
                let _ = pty.resize(terminal_size());
            }
            Ok(None)
        }
        other => {
            let _ = kill(pid, other);
            Ok(None)
        }
    }
}

fn reap(pid: Pid) -> io::Result<Option<i32>> {
    loop {
        match waitpid(pid, Some(WaitPidFlag::WNOHANG)) {
            Ok(WaitStatus::Exited(_, code)) => return Ok(Some(code)),
            Ok(WaitStatus::Signaled(_, sig, _)) => {
                return Ok(Some(crate::runtime::exit_code::killed_by(sig as i32)))
            }
            Ok(WaitStatus::StillAlive) => return Ok(None),
            Ok(_) => continue,
            Err(Errno::EINTR) => continue,
            Err(e) => return Err(e.into()),
        }
    }
}
