//! stdin, stdout and stderr of a process about to execute a container's
//! command: a terminal that becomes its controlling terminal, or pipes.

use super::setup_error::SetupError;
use nix::unistd::{dup2_stderr, dup2_stdin, dup2_stdout};
use std::fmt::Display;
use std::os::fd::{AsRawFd, BorrowedFd};

/// Makes the open terminal `fd` (named `terminal` in errors) the controlling
/// terminal of this process and its stdin, stdout and stderr. The process
/// must be a session leader without one (after setsid). `fd` stays open: the
/// caller closes it, unless it is itself one of 0, 1 and 2.
pub fn attach_terminal(fd: BorrowedFd, terminal: &dyn Display) -> Result<(), SetupError> {
    // SAFETY: TIOCSCTTY on an open terminal fd with arg 0 (do not steal it
    // from another session) reads no memory.
    if unsafe { libc::ioctl(fd.as_raw_fd(), libc::TIOCSCTTY, 0) } < 0 {
        return Err(SetupError::new(format!(
            "failed to make {terminal} the controlling terminal: {}",
            std::io::Error::last_os_error()
        )));
    }
    attach([fd, fd, fd]).map_err(|e| SetupError::new(format!("failed to attach the terminal: {e}")))
}

/// Makes `fds` this process's stdin, stdout and stderr.
pub fn attach_pipes(fds: [BorrowedFd; 3]) -> Result<(), SetupError> {
    attach(fds).map_err(|e| SetupError::new(format!("failed to attach the stdio pipes: {e}")))
}

fn attach([stdin, stdout, stderr]: [BorrowedFd; 3]) -> nix::Result<()> {
    dup2_stdin(stdin)?;
    dup2_stdout(stdout)?;
    dup2_stderr(stderr)
}
