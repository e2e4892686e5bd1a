//! Waiting for a container in the foreground (`hako run` without `-d`).
//!
//! Signals sent to hako (SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGUSR1/2) are
//! passed on to the container's PID 1. With a terminal, the calling terminal
//! is put in raw mode (restored on every way out, by a guard), its input goes
//! to the container's PTY, the PTY's output comes back, and window-size
//! changes follow (SIGWINCH). Without one, the container's stdio pipes are
//! relayed (`stdio::relay`).
//!
//! Signals are received through a signalfd, so the loop handles them in
//! order with the terminal's input and output, with no signal handlers.

use super::lifecycle::RunningContainer;
use super::stdio::{self, HostEnds};
use nix::errno::Errno;
use nix::fcntl::{fcntl, FcntlArg, OFlag};
use nix::poll::{poll, PollFd, PollFlags, PollTimeout};
use nix::sys::signal::{kill, SigSet, SigmaskHow, Signal};
use nix::sys::signalfd::{SfdFlags, SignalFd};
use nix::sys::termios::{self, SetArg, Termios};
use nix::sys::wait::{waitpid, WaitPidFlag, WaitStatus};
use nix::unistd::Pid;
use portable_pty::{MasterPty, PtySize};
use std::io::{self, Write};
use std::os::fd::{AsFd, BorrowedFd};

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

/// Lets a closed output pipe end the process quietly (the default for Unix
/// tools) instead of Rust's ignored SIGPIPE turning it into an error.
/// Only for commands that just print: a monitor must survive a client that
/// disconnects.
pub fn default_sigpipe() {
    // SAFETY: installing the default disposition registers no handler.
    let _ =
        unsafe { nix::sys::signal::signal(Signal::SIGPIPE, nix::sys::signal::SigHandler::SigDfl) };
}

/// The size of the calling terminal, or 80x24 when there is none.
pub fn terminal_size() -> PtySize {
    let mut size = PtySize {
        rows: 24,
        cols: 80,
        pixel_width: 0,
        pixel_height: 0,
    };
    // SAFETY: TIOCGWINSZ writes one winsize into the struct we pass, which is
    // valid and writable; on failure (not a terminal) it writes nothing.
    let mut ws: libc::winsize = unsafe { std::mem::zeroed() };
    for fd in [1, 0, 2] {
        if unsafe { libc::ioctl(fd, libc::TIOCGWINSZ, &mut ws) } == 0 && ws.ws_row > 0 {
            size.rows = ws.ws_row;
            size.cols = ws.ws_col;
            break;
        }
    }
    size
}

/// Puts the calling terminal in raw mode and restores it when dropped, also
/// when a panic unwinds through it.
pub(crate) struct RawMode {
    saved: Termios,
}

impl RawMode {
    pub(crate) fn enable() -> Option<RawMode> {
        let stdin = io::stdin();
        let saved = termios::tcgetattr(stdin.as_fd()).ok()?;
        let mut raw = saved.clone();
        termios::cfmakeraw(&mut raw);
        termios::tcsetattr(stdin.as_fd(), SetArg::TCSANOW, &raw).ok()?;
        Some(RawMode { saved })
    }
}

impl Drop for RawMode {
    fn drop(&mut self) {
        let _ = termios::tcsetattr(io::stdin().as_fd(), SetArg::TCSADRAIN, &self.saved);
    }
}

/// Waits for the container's command to end and returns its exit code as a
/// shell gives it (status, or 128 + signal). `pipes`: hako's ends of its stdio
/// pipes, when it has no terminal.
pub fn wait(
    container: &mut RunningContainer,
    forward_input: bool,
    pipes: Option<HostEnds>,
) -> io::Result<i32> {
    wait_pid(container.pid, container.pty.take(), forward_input, pipes)
}

/// Waits for the child `pid` of this process to end, passing the handled
/// signals on to it and, with `pty`, relaying the calling terminal to the
/// PTY's master side (`forward_input`: also the terminal's input), or with
/// `pipes`, relaying the caller's stdio to the container's pipes. Returns
/// its exit code as a shell gives it (status, or 128 + signal). The handled
/// signals must have been blocked (`block_signals`) before `pid` was started.
pub fn wait_pid(
    pid: Pid,
    pty: Option<Box<dyn MasterPty + Send>>,
    forward_input: bool,
    pipes: Option<HostEnds>,
) -> io::Result<i32> {
    let signals = SignalFd::with_flags(&handled_signals(), SfdFlags::SFD_CLOEXEC)?;
    match (pty, pipes) {
        (Some(pty), _) => relay_terminal(pid, pty, &signals, forward_input),
        (None, Some(pipes)) => stdio::relay(pid, &signals, pipes),
        (None, None) => loop {
            if let Some(code) = next_signal(pid, &signals, None)? {
                return Ok(code);
            }
        },
    }
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

fn relay_terminal(
    pid: Pid,
    pty: Box<dyn portable_pty::MasterPty + Send>,
    signals: &SignalFd,
    mut forward_input: bool,
) -> io::Result<i32> {
    let _raw = if forward_input {
        RawMode::enable()
    } else {
        None
    };
    let master_fd = pty.as_raw_fd().expect("a unix pty has a descriptor");
    // SAFETY: the fd belongs to `pty`, which outlives every use below.
    let master = unsafe { BorrowedFd::borrow_raw(master_fd) };
    // Non-blocking: a container that does not read its input must never stop
    // hako from reading its output (both would wait for ever). Input that
    // the PTY does not take yet waits in `pending`, and hako reads no more of
    // its own stdin until it has gone.
    let flags = OFlag::from_bits_truncate(fcntl(master, FcntlArg::F_GETFL)?);
    fcntl(master, FcntlArg::F_SETFL(flags | OFlag::O_NONBLOCK))?;
    let stdin = io::stdin();
    let mut stdout = io::stdout();
    let mut buf = vec![0u8; 64 * 1024];
    let mut pending: Vec<u8> = Vec::new();
    let mut exit_code = None;
    let mut output_open = true;

    while output_open {
        let master_events = if pending.is_empty() {
            PollFlags::POLLIN
        } else {
            PollFlags::POLLIN | PollFlags::POLLOUT
        };
        let mut fds = vec![
            PollFd::new(signals.as_fd(), PollFlags::POLLIN),
            PollFd::new(master, master_events),
        ];
        let read_stdin = forward_input && pending.is_empty();
        if read_stdin {
            fds.push(PollFd::new(stdin.as_fd(), PollFlags::POLLIN));
        }
        // Once the command has ended, only drain what it already wrote.
        let timeout = if exit_code.is_some() {
            PollTimeout::ZERO
        } else {
            PollTimeout::NONE
        };
        match poll(&mut fds, timeout) {
            Err(Errno::EINTR) => continue,
            Err(e) => return Err(e.into()),
            Ok(0) => break,
            Ok(_) => {}
        }
        let revents = |fd: &PollFd| fd.revents().unwrap_or(PollFlags::empty());
        let readable = PollFlags::POLLIN | PollFlags::POLLHUP | PollFlags::POLLERR;
        let signal_ready = revents(&fds[0]).intersects(readable);
        let master_readable = revents(&fds[1]).intersects(readable);
        let master_writable = revents(&fds[1]).contains(PollFlags::POLLOUT);
        let stdin_ready = read_stdin && revents(&fds[2]).intersects(readable);
        if master_readable {
            match nix::unistd::read(master, &mut buf) {
                Err(Errno::EAGAIN) | Err(Errno::EINTR) => {}
                Ok(0) | Err(_) => output_open = false, // EIO: every slave is closed.
                Ok(n) => {
                    stdout.write_all(&buf[..n])?;
                    stdout.flush()?;
                }
            }
        }
        if master_writable {
            match nix::unistd::write(master, &pending) {
                Ok(n) => {
                    pending.drain(..n);
                }
                Err(Errno::EAGAIN) | Err(Errno::EINTR) => {}
                Err(_) => pending.clear(),
            }
        }
        if stdin_ready {
            match nix::unistd::read(&stdin, &mut buf) {
                Ok(0) | Err(_) => forward_input = false,
                Ok(n) => pending.extend_from_slice(&buf[..n]),
            }
        }
        if signal_ready {
            if let Some(code) = next_signal(pid, signals, Some(pty.as_ref()))? {
                exit_code = Some(code);
            }
        }
    }
    finish_waiting(exit_code, pid, signals)
}
