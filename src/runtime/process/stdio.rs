//! stdin, stdout and stderr of a process about to execute a container's
//! command: a terminal that becomes its controlling terminal, or pipes.

use super::setup_error::SetupError;
use nix::unistd::dup2;
use std::fmt::Display;
use std::os::fd::RawFd;

/// Makes the open terminal `fd` (named `terminal` in errors) the controlling
/// terminal of this process and its stdin, stdout and stderr. The process
/// must be a session leader without one (after setsid).
pub fn attach_terminal(fd: RawFd, terminal: &dyn Display) -> Result<(), SetupError> {
    // SAFETY: TIOCSCTTY on an open terminal fd with arg 0 (do not steal it
    // from another session) reads no memory.
    if unsafe { libc::ioctl(fd, libc::TIOCSCTTY, 0) } < 0 {
        return Err(SetupError::new(format!(
            "failed to make {terminal} the controlling terminal: {}",
            std::io::Error::last_os_error()
        )));
    }
    for target in 0..=2 {
        dup2(fd, target)
            .map_err(|e| SetupError::new(format!("failed to attach the terminal: {e}")))?;
    }
    if fd > 2 {
        let _ = nix::unistd::close(fd);
    }
    Ok(())
}

/// Makes `fds` this process's stdin, stdout and stderr.
pub fn attach_pipes(fds: [RawFd; 3]) -> Result<(), SetupError> {
    for (target, fd) in fds.into_iter().enumerate() {
        dup2(fd, target as RawFd)
            .map_err(|e| SetupError::new(format!("failed to attach the stdio pipes: {e}")))?;
    }
    Ok(())
}
