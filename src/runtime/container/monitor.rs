//! The monitor: one small process per detached container (as Podman's conmon).
//!
//! `run_detached` starts the hako binary again as `hako __monitor`, hands it
//! the validated spec as JSON on stdin, and reads back one report: the new
//! container's state, or why it could not start. The monitor forks once more
//! and leaves its session, so it outlives the terminal and is nobody's
//! zombie; the container's first process is its child.
//!
//! The monitor then holds the container's PTY master (or the pipes of its
//! stdin and output), reaps it, keeps the last 1 MiB of output for attach
//! clients, appends all output to a size-bounded log, serves attach clients
//! on `attach.sock`, and records how the container ended.

use super::error::ContainerError;
use super::lifecycle::{create_and_start, finish, ContainerIo, RunningContainer};
use super::logs::LogWriter;
use super::oci;
use super::signals::{block_signals, handled_signals, next_signal};
use super::spec::ContainerSpec;
use super::SetupError;
use crate::runtime::attach::{self, ClientMessage, ServerMessage};
use crate::runtime::paths::Paths;
use crate::runtime::process::setup_channel::{ChannelError, SetupReceiver, SetupSender};
use crate::runtime::state::{self, ContainerState};
use nix::errno::Errno;
use nix::fcntl::{fcntl, FcntlArg, OFlag};
use nix::poll::{poll, PollFd, PollFlags, PollTimeout};
use nix::sys::signal::{kill, Signal};
use nix::sys::signalfd::{SfdFlags, SignalFd};
use nix::sys::wait::waitpid;
use nix::unistd::{dup2_stderr, dup2_stdin, dup2_stdout, fork, pipe2, setsid, ForkResult};
use portable_pty::PtySize;
use std::collections::VecDeque;
use std::fs::{self, File, OpenOptions};
use std::io::{self, Read, Write};
use std::os::fd::{AsFd, BorrowedFd, OwnedFd};
use std::os::unix::fs::PermissionsExt;
use std::os::unix::net::{UnixListener, UnixStream};
use std::os::unix::process::CommandExt;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Duration;

/// Output kept for clients that attach later.
pub const SCROLLBACK_BYTES: usize = 1 << 20;
/// The size a detached PTY starts with, until a client says otherwise.
const DETACHED_SIZE: PtySize = PtySize {
    rows: 24,
    cols: 80,
    pixel_width: 0,
    pixel_height: 0,
};

/// Where the monitor's stderr goes until it is moved to `monitor.log` (start
/// failures come back over its report, not its stderr).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MonitorStderr {
    /// The caller's: a command line, where a message of a monitor that could
    /// not even report is seen.
    Caller,
    /// /dev/null: the caller draws on its terminal (the dashboard).
    Discarded,
}

/// Starts `spec` under its own monitor, its stderr the caller's, and returns
/// its state once its command runs. Must be called from the hako binary (it
/// starts itself again).
pub fn run_detached(paths: &Paths, spec: &ContainerSpec) -> Result<ContainerState, ContainerError> {
    run_detached_with(paths, spec, MonitorStderr::Caller)
}

/// `run_detached`, with the monitor's stderr as `stderr` says.
pub fn run_detached_with(
    paths: &Paths,
    spec: &ContainerSpec,
    stderr: MonitorStderr,
) -> Result<ContainerState, ContainerError> {
    let stderr = match stderr {
        MonitorStderr::Caller => Stdio::inherit(),
        MonitorStderr::Discarded => Stdio::null(),
    };
    // /proc/self/exe and not current_exe(): hako runs from a detached
    // overlay (`/hako`) or a sealed memfd (`/memfd:hako (deleted)`), whose
    // name is no path on the host; the kernel's link starts the same sealed
    // view again, so no second one is made.
    let mut child = Command::new("/proc/self/exe")
        .arg0("hako")
        .arg("__monitor")
        .arg(&paths.lib)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(stderr)
        .spawn()
        .map_err(ContainerError::io("start the monitor"))?;
    let json = serde_json::to_vec(spec).expect("spec serializes");
    let sent = child.stdin.take().expect("piped").write_all(&json);
    let report = SetupReceiver::new(child.stdout.take().expect("piped"), MONITOR).wait_for_start();
    let _ = child.wait();
    if let Err(source) = sent {
        return Err(ChannelError::Read {
            from: MONITOR,
            source,
        }
        .into());
    }
    Ok(report?)
}

/// The monitor, as errors about it name it.
const MONITOR: &str = "the monitor";

/// `hako __monitor ROOT`: the monitor's entry point. Returns an exit code
/// for the first, short-lived process; the long-lived one never returns.
pub fn monitor_main(paths: &Paths) -> i32 {
    let mut json = Vec::new();
    if let Err(e) = io::stdin().read_to_end(&mut json) {
        return report_error(&SetupError::new(format!("failed to read the spec: {e}")));
    }
    let spec: ContainerSpec = match serde_json::from_slice(&json) {
        Ok(spec) => spec,
        Err(e) => return report_error(&SetupError::new(format!("bad spec from hako run: {e}"))),
    };
    // Fork so that the process `run_detached` waits for ends now; the monitor
    // (the grandchild) is then adopted by init and never left a zombie.
    // SAFETY: this process is single-threaded (it only read stdin so far).
    match unsafe { fork() } {
        Ok(ForkResult::Parent { .. }) => return 0,
        Ok(ForkResult::Child) => {}
        Err(e) => {
            return report_error(&SetupError::new(format!("failed to fork the monitor: {e}")))
        }
    }
    let _ = setsid();
    close_inherited_fds();
    std::process::exit(match start_and_serve(paths, &spec) {
        Ok(()) => 0,
        Err(e) => report_error(&SetupError::from(&e)),
    });
}

/// The monitor lives as long as its container: it must not keep whatever its
/// caller happened to have open (a file, a pipe someone waits on to close).
fn close_inherited_fds() {
    let fds: Vec<i32> = fs::read_dir("/proc/self/fd")
        .map(|entries| {
            entries
                .flatten()
                .filter_map(|e| e.file_name().to_str()?.parse().ok())
                .filter(|fd| *fd > 2)
                .collect()
        })
        .unwrap_or_default();
    for fd in fds {
        // The listing's own descriptor is already closed: EBADF is fine.
        let _ = nix::unistd::close(fd);
    }
}

/// Tells `run_detached` why the container did not start; returns the code.
fn report_error(error: &SetupError) -> i32 {
    let _ = SetupSender::new(io::stdout().as_fd()).failed(error);
    error.exit_code
}

fn start_and_serve(paths: &Paths, spec: &ContainerSpec) -> Result<(), ContainerError> {
    block_signals().map_err(ContainerError::io("block signals"))?;

    // Without a terminal the container writes into a pipe (stdout and stderr
    // together, in order) and reads stdin from a pipe only with -i.
    let (output_read, output_write) =
        pipe2(OFlag::O_CLOEXEC).map_err(ContainerError::syscall("create a pipe"))?;
    let (stdin_read, stdin_write) =
        pipe2(OFlag::O_CLOEXEC).map_err(ContainerError::syscall("create a pipe"))?;
    let null = File::open("/dev/null").map_err(ContainerError::path("open", "/dev/null"))?;
    let stdin_fd = if spec.record.interactive {
        stdin_read.as_fd()
    } else {
        null.as_fd()
    };
    let container_io = if oci::terminal(&spec.oci) {
        ContainerIo::Terminal
    } else {
        ContainerIo::Fds([stdin_fd, output_write.as_fd(), output_write.as_fd()])
    };
    let signals = SignalFd::with_flags(&handled_signals(), SfdFlags::SFD_CLOEXEC)
        .map_err(ContainerError::syscall("create a signalfd"))?;
    let container = create_and_start(paths, spec, DETACHED_SIZE, container_io)?;
    drop((output_write, stdin_read, null));

    // Until the report is sent, a failure takes the new container away again.
    let dir = container.dir.clone();
    let prepared = state::modify(&dir, |s| s.monitor_pid = Some(std::process::id() as i32))
        .map_err(ContainerError::from)
        .and_then(|state| {
            Ok((
                state,
                bind_socket(&attach::socket_path(paths, &spec.record.id))?,
            ))
        })
        .and_then(|(state, listener)| {
            let (output, input) = container_io_ends(
                &container,
                output_read,
                stdin_write,
                spec.record.interactive,
            )?;
            Ok((state, listener, output, input))
        });
    let (container_state, listener, output, input) = match prepared {
        Ok(prepared) => prepared,
        Err(error) => return Err(abandon(paths, container, error)),
    };

    // The report: `run_detached` is waiting for it, then for end of stream.
    let _ = SetupSender::new(io::stdout().as_fd()).started(&container_state);
    detach_stdio(&dir);

    let mut monitor = Monitor {
        log: LogWriter::open(&dir),
        container,
        listener,
        clients: vec![],
        output,
        input,
        pending_input: Vec::new(),
        scrollback: Scrollback {
            bytes: VecDeque::new(),
        },
        signals,
    };
    let exit_code = monitor.serve();
    let outcome = finish(monitor.container, exit_code);
    for client in &mut monitor.clients {
        let _ = ServerMessage::Exited {
            code: outcome.exit_code,
            oom_killed: outcome.oom_killed,
        }
        .write_to(client);
    }
    let _ = fs::remove_file(attach::socket_path(paths, &spec.record.id));
    Ok(())
}

/// Kills and removes a container the monitor could not take charge of, so a
/// refused `run -d` leaves nothing behind. Returns the error to report.
fn abandon(paths: &Paths, container: RunningContainer, error: ContainerError) -> ContainerError {
    let _ = kill(container.pid, Signal::SIGKILL);
    let _ = waitpid(container.pid, None);
    let state = container.state.clone();
    finish(container, crate::runtime::exit_code::KILLED_BY_SIGKILL);
    let _ = super::lifecycle::remove(paths, &state, true);
    error
}

/// The monitor's ends of the container's I/O: what to read output from (the
/// PTY master, or the output pipe) and where client input goes (the PTY
/// master, or the stdin pipe with -i). Both are non-blocking: a container
/// that stops reading its input must never stop the monitor.
fn container_io_ends(
    container: &RunningContainer,
    output_pipe: OwnedFd,
    stdin_pipe: OwnedFd,
    interactive: bool,
) -> Result<(OwnedFd, Option<OwnedFd>), ContainerError> {
    let (output, input) = match &container.pty {
        None => (output_pipe, interactive.then_some(stdin_pipe)),
        Some(pty) => {
            let fd = pty.as_raw_fd().expect("a unix pty has a descriptor");
            // SAFETY: `fd` is the PTY master's, open for as long as `pty`
            // lives, which outlives this borrow.
            let master = unsafe { BorrowedFd::borrow_raw(fd) };
            // The monitor's own descriptors of the same PTY master,
            // close-on-exec as every descriptor of hako's (F_DUPFD_CLOEXEC).
            let dup = || {
                master
                    .try_clone_to_owned()
                    .map_err(ContainerError::io("dup the PTY"))
            };
            (dup()?, Some(dup()?))
        }
    };
    for fd in std::iter::once(&output).chain(input.as_ref()) {
        let flags = fcntl(fd, FcntlArg::F_GETFL)
            .map_err(ContainerError::syscall("read descriptor flags"))?;
        fcntl(
            fd,
            FcntlArg::F_SETFL(OFlag::from_bits_truncate(flags) | OFlag::O_NONBLOCK),
        )
        .map_err(ContainerError::syscall("make a descriptor non-blocking"))?;
    }
    Ok((output, input))
}

/// The attach socket: whoever connects types into the container as its
/// user, so only root may (whatever the umask was).
fn bind_socket(path: &Path) -> Result<UnixListener, ContainerError> {
    let _ = fs::remove_file(path);
    let listener = UnixListener::bind(path).map_err(ContainerError::path("listen on", path))?;
    fs::set_permissions(path, fs::Permissions::from_mode(0o600)).map_err(|source| {
        ContainerError::MakePrivate {
            path: path.to_path_buf(),
            source,
        }
    })?;
    Ok(listener)
}

/// From here on nobody reads the monitor's own stdout or stderr: they go to
/// `monitor.log` in the container's directory, stdin to /dev/null.
fn detach_stdio(dir: &Path) {
    let log = OpenOptions::new()
        .create(true)
        .append(true)
        .open(dir.join("monitor.log"));
    if let (Ok(null), Ok(log)) = (File::open("/dev/null"), log) {
        let _ = dup2_stdin(&null);
        let _ = dup2_stdout(&log);
        let _ = dup2_stderr(&log);
    }
}

/// The last output, for clients that attach later.
struct Scrollback {
    bytes: VecDeque<u8>,
}

impl Scrollback {
    fn push(&mut self, data: &[u8]) {
        self.bytes.extend(data);
        let excess = self.bytes.len().saturating_sub(SCROLLBACK_BYTES);
        self.bytes.drain(..excess);
    }

    fn contents(&self) -> Vec<u8> {
        self.bytes.iter().copied().collect()
    }
}

struct Monitor {
    container: RunningContainer,
    listener: UnixListener,
    clients: Vec<UnixStream>,
    /// The PTY master, or the read end of the output pipe.
    output: OwnedFd,
    /// Where client input goes: the PTY master, or the container's stdin pipe.
    input: Option<OwnedFd>,
    /// Client input the container has not taken yet.
    pending_input: Vec<u8>,
    scrollback: Scrollback,
    log: LogWriter,
    signals: SignalFd,
}

impl Monitor {
    /// Serves until the container's first process ends; returns its exit code.
    fn serve(&mut self) -> i32 {
        let mut output_open = true;
        let mut exit_code = None;
        loop {
            let mut fds = vec![
                PollFd::new(self.signals.as_fd(), PollFlags::POLLIN),
                PollFd::new(self.listener.as_fd(), PollFlags::POLLIN),
            ];
            let output_slot = fds.len();
            if output_open {
                fds.push(PollFd::new(self.output.as_fd(), PollFlags::POLLIN));
            }
            let input_slot = fds.len();
            if let (Some(input), false) = (&self.input, self.pending_input.is_empty()) {
                fds.push(PollFd::new(input.as_fd(), PollFlags::POLLOUT));
            }
            // While input waits for the container, clients are not read: they
            // wait (or, if they stop reading output meanwhile, are dropped).
            let first_client = fds.len();
            if self.pending_input.is_empty() {
                for client in &self.clients {
                    fds.push(PollFd::new(client.as_fd(), PollFlags::POLLIN));
                }
            }
            // After the exit, only drain what is already written.
            let timeout = if exit_code.is_some() {
                PollTimeout::ZERO
            } else {
                PollTimeout::NONE
            };
            match poll(&mut fds, timeout) {
                Err(Errno::EINTR) => continue,
                Err(_) => return exit_code.unwrap_or(crate::runtime::exit_code::HAKO_ERROR),
                Ok(0) => return exit_code.unwrap_or(crate::runtime::exit_code::HAKO_ERROR),
                Ok(_) => {}
            }
            let ready: Vec<bool> = fds
                .iter()
                .map(|fd| fd.revents().is_some_and(|r| !r.is_empty()))
                .collect();
            drop(fds);

            if output_open && ready[output_slot] {
                output_open = self.forward_output();
            }
            if input_slot < first_client && ready[input_slot] {
                self.forward_input();
            }
            let mut gone = vec![];
            for (i, is_ready) in ready[first_client..].iter().enumerate() {
                if *is_ready && !self.handle_client(i) {
                    gone.push(i);
                }
            }
            for i in gone.into_iter().rev() {
                self.clients.remove(i);
            }
            if ready[1] {
                self.accept_client();
            }
            if ready[0] {
                if let Some(code) = self.handle_signal() {
                    exit_code = Some(code);
                }
            }
            if exit_code.is_some() && !output_open {
                return exit_code.unwrap_or(crate::runtime::exit_code::HAKO_ERROR);
            }
        }
    }

    /// Reads what the container wrote; false once it can write no more.
    fn forward_output(&mut self) -> bool {
        let mut buf = [0u8; 64 * 1024];
        match nix::unistd::read(&self.output, &mut buf) {
            Err(Errno::EAGAIN) | Err(Errno::EINTR) => true,
            Ok(0) | Err(_) => false, // EOF, or EIO: every slave is closed.
            Ok(n) => {
                let data = &buf[..n];
                self.scrollback.push(data);
                self.log.write(data);
                let message = ServerMessage::Output(data.to_vec());
                // A client that cannot keep up is dropped, not waited for.
                self.clients.retain_mut(|c| message.write_to(c).is_ok());
                true
            }
        }
    }

    /// Writes what the container will take of the pending input.
    fn forward_input(&mut self) {
        let Some(input) = &self.input else {
            self.pending_input.clear();
            return;
        };
        match nix::unistd::write(input, &self.pending_input) {
            Ok(n) => {
                self.pending_input.drain(..n);
            }
            Err(Errno::EAGAIN) | Err(Errno::EINTR) => {}
            // The container closed its input: nothing will ever take it.
            Err(_) => self.pending_input.clear(),
        }
    }

    fn accept_client(&mut self) {
        let Ok((mut client, _)) = self.listener.accept() else {
            return;
        };
        // A client that stalls mid-message must not stall the monitor.
        let _ = client.set_write_timeout(Some(Duration::from_secs(1)));
        let _ = client.set_read_timeout(Some(Duration::from_secs(1)));
        let replay = ServerMessage::Output(self.scrollback.contents());
        if replay.write_to(&mut client).is_ok() {
            self.clients.push(client);
        }
    }

    /// Handles one message of client `i`; false when the client has gone.
    fn handle_client(&mut self, i: usize) -> bool {
        match ClientMessage::read_from(&mut self.clients[i]) {
            Ok(Some(ClientMessage::Input(bytes))) => {
                if self.input.is_some() {
                    self.pending_input.extend_from_slice(&bytes);
                    self.forward_input();
                }
                true
            }
            Ok(Some(ClientMessage::Resize { rows, cols })) => {
                if let Some(pty) = &self.container.pty {
                    let _ = pty.resize(PtySize {
                        rows,
                        cols,
                        pixel_width: 0,
                        pixel_height: 0,
                    });
                }
                true
            }
            // Disconnecting (or garbage) ends this client only.
            Ok(None) | Err(_) => false,
        }
    }

    /// Reaps the container on SIGCHLD; passes other signals on to it.
    fn handle_signal(&mut self) -> Option<i32> {
        next_signal(self.container.pid, &self.signals, None)
            .ok()
            .flatten()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scrollback_keeps_the_last_mebibyte() {
        let mut s = Scrollback {
            bytes: VecDeque::new(),
        };
        s.push(&vec![b'a'; SCROLLBACK_BYTES]);
        s.push(b"tail");
        let c = s.contents();
        assert_eq!(c.len(), SCROLLBACK_BYTES);
        assert!(c.ends_with(b"aaaatail"));
    }
}
