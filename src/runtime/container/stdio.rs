//! A container's stdin, stdout and stderr without a terminal: pipes that hako
//! relays, as Docker and podman do.
//!
//! The caller's own descriptors never enter the container. Given as fds 0-2,
//! they could be reopened through `/proc/self/fd/N` (read back or truncate the
//! file stdout was redirected into, write into a read-only stdin file, reopen
//! the operator's terminal and change its settings) or taken with
//! `pidfd_getfd` and kept after hako has returned (issue 8, finding 3).
//!
//! The relay moves bytes with `splice(2)` where the caller's end allows it (the
//! container's end is always a pipe) and with read/write where it does not
//! (a terminal, a file opened with O_APPEND: splice(2) EINVAL). Every transfer
//! is non-blocking, so a container that stops reading its stdin never stops
//! its output, and the other way round. The caller's descriptors keep their
//! own flags: O_NONBLOCK is a flag of the open file description, which the
//! caller's shell shares, so hako only waits with poll(2) and asks splice for
//! SPLICE_F_NONBLOCK instead.

use super::signals::{finish_waiting, next_signal};
use nix::errno::Errno;
use nix::fcntl::{fcntl, splice, FcntlArg, OFlag, SpliceFFlags};
use nix::poll::{poll, PollFd, PollFlags, PollTimeout};
use nix::sys::signalfd::SignalFd;
use nix::unistd::{isatty, pipe2, Pid};
use std::fs::File;
use std::io;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, OwnedFd, RawFd};

/// Bytes moved by one read/write copy.
const CHUNK: usize = 64 * 1024;

/// The size asked for each pipe, and the most one splice moves: fewer,
/// larger transfers (and fewer wake-ups of the container) than with the
/// default 64 KiB. 1 MiB is /proc/sys/fs/pipe-max-size by default, the most
/// a process without CAP_SYS_RESOURCE may ask for (fcntl(2) F_SETPIPE_SZ).
const PIPE_SIZE: usize = 1 << 20;

/// The three pipes (or /dev/null for stdin without `-i`) of one container.
pub struct StdioPipes {
    /// The container's ends, to become its fds 0, 1 and 2.
    container: [OwnedFd; 3],
    host: HostEnds,
}

/// hako's ends of a container's stdio pipes.
pub struct HostEnds {
    /// Where the caller's stdin goes, with `-i`.
    stdin: Option<OwnedFd>,
    stdout: OwnedFd,
    stderr: OwnedFd,
}

impl StdioPipes {
    /// New pipes, all close-on-exec in hako: the container's first process
    /// (or exec's command) dup2s them onto 0-2 itself. Without `interactive`
    /// the container's stdin is /dev/null.
    pub fn new(interactive: bool) -> io::Result<StdioPipes> {
        let (stdin_read, stdin_write) = if interactive {
            let (read, write) = pipe()?;
            (read, Some(write))
        } else {
            // std opens with O_CLOEXEC.
            (File::open("/dev/null")?.into(), None)
        };
        let (stdout_read, stdout_write) = pipe()?;
        let (stderr_read, stderr_write) = pipe()?;
        Ok(StdioPipes {
            container: [stdin_read, stdout_write, stderr_write],
            host: HostEnds {
                stdin: stdin_write,
                stdout: stdout_read,
                stderr: stderr_read,
            },
        })
    }

    /// The descriptors the container gets as 0, 1 and 2.
    pub fn container_fds(&self) -> [BorrowedFd<'_>; 3] {
        self.container.each_ref().map(|fd| fd.as_fd())
    }

    /// hako's own ends, which a process forked to start the command (exec's
    /// joiner) must close: one more copy of the stdin pipe's write end and
    /// the command never sees the end of its input.
    pub fn host_fds(&self) -> Vec<RawFd> {
        let host = &self.host;
        let stdin = host.stdin.as_ref().map(|fd| fd.as_raw_fd());
        stdin
            .into_iter()
            .chain([host.stdout.as_raw_fd(), host.stderr.as_raw_fd()])
            .collect()
    }

    /// Closes hako's copies of the container's ends (once the container has
    /// its own), so that hako sees the end of output when the container's
    /// processes are gone.
    pub fn into_host_ends(self) -> HostEnds {
        self.host
    }
}

/// A close-on-exec pipe of `PIPE_SIZE` where the kernel allows it (a lower
/// pipe-max-size or the user's pipe budget may refuse: the default size then).
fn pipe() -> io::Result<(OwnedFd, OwnedFd)> {
    let (read, write) = pipe2(OFlag::O_CLOEXEC)?;
    let _ = fcntl(&write, FcntlArg::F_SETPIPE_SZ(PIPE_SIZE as i32));
    Ok((read, write))
}

/// Relays the caller's stdin to the container and its stdout and stderr back,
/// passes the handled signals on to `pid` and returns its exit code once it
/// has ended and everything it wrote has been passed on.
pub fn relay(pid: Pid, signals: &SignalFd, ends: HostEnds) -> io::Result<i32> {
    // SAFETY: 0, 1 and 2 stay open for as long as hako runs.
    let (stdin, stdout, stderr) = unsafe {
        (
            BorrowedFd::borrow_raw(0),
            BorrowedFd::borrow_raw(1),
            BorrowedFd::borrow_raw(2),
        )
    };
    let mut streams = [
        match ends.stdin {
            Some(pipe) => Some(Stream::new(stdin, Owned::To(pipe))?),
            None => None,
        },
        Some(Stream::new(stdout, Owned::From(ends.stdout))?),
        Some(Stream::new(stderr, Owned::From(ends.stderr))?),
    ];
    let mut exit_code = None;
    loop {
        if exit_code.is_some() {
            // Nothing reads the container's stdin any more.
            streams[0] = None;
            if streams.iter().all(Option::is_none) {
                break;
            }
        }
        let mut fds = vec![PollFd::new(signals.as_fd(), PollFlags::POLLIN)];
        let polled: Vec<usize> = (0..streams.len())
            .filter(|&i| streams[i].is_some())
            .collect();
        fds.extend(
            polled
                .iter()
                .filter_map(|&i| streams[i].as_ref())
                .map(Stream::poll_fd),
        );
        // Once the command has ended, pass on what it already wrote: wait only
        // for a destination that is not ready to take it yet.
        let timeout = match exit_code {
            None => PollTimeout::NONE,
            Some(_) if streams.iter().flatten().any(|s| s.waits_to_write()) => PollTimeout::NONE,
            Some(_) => PollTimeout::ZERO,
        };
        match poll(&mut fds, timeout) {
            Err(Errno::EINTR) => continue,
            Err(e) => return Err(e.into()),
            Ok(0) => break,
            Ok(_) => {}
        }
        let ready: Vec<bool> = fds
            .iter()
            .map(|fd| !fd.revents().unwrap_or(PollFlags::empty()).is_empty())
            .collect();
        drop(fds);
        for (&i, _) in polled.iter().zip(&ready[1..]).filter(|(_, &r)| r) {
            let closed = streams[i]
                .as_mut()
                .is_some_and(|stream| stream.transfer() == Flow::Closed);
            if closed {
                // Dropping the stream closes hako's end: EOF on the
                // container's stdin, EPIPE for a container whose output
                // nobody takes any more, as before.
                streams[i] = None;
            }
        }
        if ready[0] {
            if let Some(code) = next_signal(pid, signals, None)? {
                exit_code = Some(code);
            }
        }
    }
    finish_waiting(exit_code, pid, signals)
}

/// hako's end of a container pipe, and which way the bytes go through it.
enum Owned {
    /// The read end of the container's stdout or stderr.
    From(OwnedFd),
    /// The write end of the container's stdin.
    To(OwnedFd),
}

impl Owned {
    fn fd(&self) -> BorrowedFd<'_> {
        match self {
            Owned::From(fd) | Owned::To(fd) => fd.as_fd(),
        }
    }

    /// The stream's source and destination, `caller` being the other end.
    fn ends<'a>(&'a self, caller: BorrowedFd<'a>) -> (BorrowedFd<'a>, BorrowedFd<'a>) {
        match self {
            Owned::From(pipe) => (pipe.as_fd(), caller),
            Owned::To(pipe) => (caller, pipe.as_fd()),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Flow {
    Open,
    Closed,
}

/// One direction: from `from` to `to`, one of which is the caller's fd.
struct Stream {
    /// The caller's 0, 1 or 2, open for as long as hako runs.
    caller: BorrowedFd<'static>,
    /// hako's own end, closed with the stream.
    pipe: Owned,
    splice: bool,
    /// Bytes read but not written yet (read/write only).
    pending: Vec<u8>,
    /// The last splice found the destination full: wait for it, not the source.
    destination_full: bool,
}

impl Stream {
    fn new(caller: BorrowedFd<'static>, pipe: Owned) -> io::Result<Stream> {
        // hako's own end is non-blocking; the caller's stays as it is.
        let own = pipe.fd();
        let flags = OFlag::from_bits_truncate(fcntl(own, FcntlArg::F_GETFL)?);
        fcntl(own, FcntlArg::F_SETFL(flags | OFlag::O_NONBLOCK))?;
        Ok(Stream {
            caller,
            pipe,
            // A terminal is relayed with read/write, as a terminal expects
            // (splice on a tty is refused or line-disciplined differently).
            splice: !isatty(caller).unwrap_or(false),
            pending: Vec::new(),
            destination_full: false,
        })
    }

    fn waits_to_write(&self) -> bool {
        self.destination_full || !self.pending.is_empty()
    }

    fn poll_fd(&self) -> PollFd<'_> {
        let (from, to) = self.pipe.ends(self.caller);
        if self.waits_to_write() {
            PollFd::new(to, PollFlags::POLLOUT)
        } else {
            PollFd::new(from, PollFlags::POLLIN)
        }
    }

    /// Moves what can be moved now, without blocking on hako's end.
    fn transfer(&mut self) -> Flow {
        let (from, to) = self.pipe.ends(self.caller);
        if self.splice {
            let flags = SpliceFFlags::SPLICE_F_NONBLOCK | SpliceFFlags::SPLICE_F_MOVE;
            return match splice(from, None, to, None, PIPE_SIZE, flags) {
                Ok(0) => Flow::Closed,
                Ok(_) => {
                    self.destination_full = false;
                    Flow::Open
                }
                // Either side may be the one not ready: after waiting for the
                // source, it is the destination, and the other way round.
                Err(Errno::EAGAIN) => {
                    self.destination_full = !self.destination_full;
                    Flow::Open
                }
                Err(Errno::EINTR) => Flow::Open,
                // This pair cannot be spliced (O_APPEND, a socket type or a
                // device without splice support): copy from now on.
                Err(Errno::EINVAL) => {
                    self.splice = false;
                    self.destination_full = false;
                    self.transfer()
                }
                Err(_) => Flow::Closed,
            };
        }
        if self.pending.is_empty() {
            let mut buf = vec![0u8; CHUNK];
            match nix::unistd::read(from, &mut buf) {
                Ok(0) => return Flow::Closed,
                Ok(n) => self.pending.extend_from_slice(&buf[..n]),
                Err(Errno::EAGAIN) | Err(Errno::EINTR) => return Flow::Open,
                Err(_) => return Flow::Closed,
            }
        }
        match nix::unistd::write(to, &self.pending) {
            Ok(n) => {
                self.pending.drain(..n);
                Flow::Open
            }
            Err(Errno::EAGAIN) | Err(Errno::EINTR) => Flow::Open,
            Err(_) => Flow::Closed,
        }
    }
}
