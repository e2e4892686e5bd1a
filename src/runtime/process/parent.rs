//! Dying with the hako that holds a container.
//!
//! The container's first process asks for SIGKILL when its parent (the
//! foreground hako or the monitor) dies, so it never runs on untracked. But
//! changing the uid or gid clears that request (prctl(2), PR_SET_PDEATHSIG:
//! "cleared ... when ... changing credentials"), so it is set again after the
//! switch, and then the parent is checked: it may have died in between, before
//! the request was back. `getppid()` cannot tell (it is 0 for PID 1 of a new
//! PID namespace, and for a child whose parent is outside the child's PID
//! namespace), so a pipe does: only the parent holds its write end, nothing is
//! ever written, and the read end sees POLLHUP once the parent is gone.

use nix::fcntl::OFlag;
use nix::poll::{poll, PollFd, PollFlags, PollTimeout};
use nix::sys::signal::Signal;
use nix::unistd::pipe2;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, OwnedFd};
use thiserror::Error;

#[derive(Debug, Error)]
pub enum ParentError {
    #[error("failed to create the parent-death pipe: {0}")]
    Pipe(nix::Error),
    #[error("failed to set the parent-death signal: {0}")]
    Signal(nix::Error),
    #[error("failed to check that hako is still running: {0}")]
    Poll(nix::Error),
    #[error("hako exited before the command started")]
    Gone,
}

/// Made by the parent before it clones or forks the child.
pub struct ParentLink {
    read: OwnedFd,
    write: OwnedFd,
}

/// The link as the child sees it: the same descriptors, in its copy of the
/// parent's descriptor table.
#[derive(Debug, Clone, Copy)]
pub struct ChildEnd<'a> {
    read: BorrowedFd<'a>,
    parent_write: BorrowedFd<'a>,
}

impl ParentLink {
    /// Both ends are close-on-exec: the user's command inherits neither.
    pub fn new() -> Result<ParentLink, ParentError> {
        let (read, write) = pipe2(OFlag::O_CLOEXEC).map_err(ParentError::Pipe)?;
        Ok(ParentLink { read, write })
    }

    pub fn child_end(&self) -> ChildEnd<'_> {
        ChildEnd {
            read: self.read.as_fd(),
            parent_write: self.write.as_fd(),
        }
    }

    /// After the clone or fork: the parent keeps only the write end, until
    /// the child has executed its command (the check comes before that).
    pub fn into_parent_end(self) -> OwnedFd {
        self.write
    }
}

impl ChildEnd<'_> {
    /// First thing in the child: let go of its copy of the parent's end, or
    /// the pipe would never hang up.
    pub fn close_parent_end(&self) {
        let _ = nix::unistd::close(self.parent_write.as_raw_fd());
    }

    /// After the uid/gid switch: ask for `signal` again when the parent dies,
    /// then make sure it has not died already.
    pub fn die_with_parent(&self, signal: Signal) -> Result<(), ParentError> {
        nix::sys::prctl::set_pdeathsig(signal).map_err(ParentError::Signal)?;
        if parent_gone(self.read)? {
            return Err(ParentError::Gone);
        }
        Ok(())
    }
}

/// Whether the pipe whose read end is `read` has hung up (nothing is ever
/// written to it, so readable means the same).
fn parent_gone(read: BorrowedFd) -> Result<bool, ParentError> {
    let mut fds = [PollFd::new(read, PollFlags::POLLIN)];
    poll(&mut fds, PollTimeout::ZERO).map_err(ParentError::Poll)?;
    Ok(fds[0]
        .revents()
        .is_some_and(|r| r.intersects(PollFlags::POLLHUP | PollFlags::POLLIN)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_pipe_hangs_up_once_the_parent_end_is_gone() {
        let link = ParentLink::new().unwrap();
        let read = link.child_end().read;
        assert!(!parent_gone(read).unwrap());
        // One process plays both sides here: the read end stays open.
        let ParentLink { read: keep, write } = link;
        drop(write);
        assert!(parent_gone(keep.as_fd()).unwrap());
    }
}
