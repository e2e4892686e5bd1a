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

use super::caller_terminal::RawMode;
use super::lifecycle::RunningContainer;
use super::signals::{finish_waiting, handled_signals, next_signal};
use super::stdio::{self, HostEnds};
use nix::errno::Errno;
use nix::fcntl::{fcntl, FcntlArg, OFlag};
use nix::poll::{poll, PollFd, PollFlags, PollTimeout};
use nix::sys::signal::Signal;
use nix::sys::signalfd::{SfdFlags, SignalFd};
use nix::unistd::Pid;
use portable_pty::MasterPty;
use std::io::{self, Write};
use std::os::fd::{AsFd, BorrowedFd};

/// Lets a closed output pipe end the process quietly (the default for Unix
/// tools) instead of Rust's ignored SIGPIPE turning it into an error.
/// Only for commands that just print: a monitor must survive a client that
/// disconnects.
pub fn default_sigpipe() {
    // SAFETY: installing the default disposition registers no handler.
    let _ =
        unsafe { nix::sys::signal::signal(Signal::SIGPIPE, nix::sys::signal::SigHandler::SigDfl) };
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
