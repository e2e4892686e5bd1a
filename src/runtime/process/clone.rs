//! Starting a process in new namespaces, safely.
//!
//! `clone(2)` without CLONE_VM gives the child a copy of the parent's memory,
//! as `fork` does, but needs a stack for the child to start on. hako gives it
//! an mmap'd one with a guard page below it (the stack grows down), so an
//! overflow faults instead of writing over whatever the allocator put there.
//!
//! Both `clone` and `fork` copy only the calling thread: a lock another thread
//! held stays locked for ever in the child (the allocator's, stdio's), so
//! cloning a container's first process (here) and forking exec's joiner,
//! which then enters the container with setns (container/exec.rs), check
//! first that hako has one thread.

use nix::sched::CloneFlags;
use nix::sys::signal::Signal;
use nix::unistd::Pid;
use std::ptr::NonNull;
use thiserror::Error;

/// Enough for the set-up, which allocates little and recurses nowhere.
const STACK_SIZE: usize = 1 << 20;

#[derive(Debug, Error)]
pub enum CloneError {
    #[error(
        "refusing to {0} from a process with {1} threads: a child would inherit locks held by the other threads (a bug in hako; please report it)"
    )]
    Threaded(&'static str, usize),
    #[error("failed to count this process's threads in /proc/self/status: {0}")]
    CountThreads(String),
    #[error("failed to map a stack for the container's first process: {0}")]
    Stack(nix::Error),
    #[error("failed to create the container's namespaces: {0}")]
    Clone(nix::Error),
}

/// The number of threads of this process, from /proc/self/status
/// (proc(5), "Threads:").
pub fn thread_count() -> Result<usize, CloneError> {
    let status = std::fs::read_to_string("/proc/self/status")
        .map_err(|e| CloneError::CountThreads(e.to_string()))?;
    status
        .lines()
        .find_map(|l| l.strip_prefix("Threads:"))
        .and_then(|n| n.trim().parse().ok())
        .ok_or_else(|| CloneError::CountThreads("no Threads: line".into()))
}

/// Fails with one clear error unless this process has a single thread;
/// `what` names the operation for the message ("fork the exec process").
pub fn ensure_single_threaded(what: &'static str) -> Result<(), CloneError> {
    match thread_count()? {
        1 => Ok(()),
        n => Err(CloneError::Threaded(what, n)),
    }
}

/// An anonymous private mapping: one PROT_NONE guard page, then the stack.
struct GuardedStack {
    base: NonNull<libc::c_void>,
    len: usize,
    guard: usize,
}

impl GuardedStack {
    fn new(size: usize) -> Result<GuardedStack, CloneError> {
        // SAFETY: sysconf has no preconditions.
        let page = usize::try_from(unsafe { libc::sysconf(libc::_SC_PAGESIZE) }).unwrap_or(4096);
        let len = size + page;
        // SAFETY: a new anonymous mapping aliases no existing memory.
        let base = unsafe {
            libc::mmap(
                std::ptr::null_mut(),
                len,
                libc::PROT_READ | libc::PROT_WRITE,
                libc::MAP_PRIVATE | libc::MAP_ANONYMOUS | libc::MAP_STACK,
                -1,
                0,
            )
        };
        if base == libc::MAP_FAILED {
            return Err(CloneError::Stack(nix::Error::last()));
        }
        let stack = GuardedStack {
            base: NonNull::new(base).ok_or(CloneError::Stack(nix::Error::EINVAL))?,
            len,
            guard: page,
        };
        // SAFETY: the first page of our own mapping, which nothing uses yet.
        if unsafe { libc::mprotect(base, page, libc::PROT_NONE) } != 0 {
            return Err(CloneError::Stack(nix::Error::last()));
        }
        Ok(stack)
    }

    /// The usable part, above the guard page.
    fn usable(&mut self) -> &mut [u8] {
        // SAFETY: the range lies inside the mapping, is readable and
        // writable, and is borrowed mutably from `self`, which owns it.
        unsafe {
            std::slice::from_raw_parts_mut(
                self.base.as_ptr().cast::<u8>().add(self.guard),
                self.len - self.guard,
            )
        }
    }
}

impl Drop for GuardedStack {
    fn drop(&mut self) {
        // SAFETY: unmaps exactly the mapping made in `new`, once.
        unsafe { libc::munmap(self.base.as_ptr(), self.len) };
    }
}

/// Starts `child` in a new process with the namespaces of `flags`; it exits
/// with what `child` returns. The parent gets SIGCHLD when it ends.
///
/// Refuses to run when this process has more than one thread. Without
/// CLONE_VM the child runs on its own copy of memory (as after `fork`), so
/// `child` may use anything it borrows; its stack is a copy of the mapping
/// made here, which the parent unmaps on return.
pub fn clone_into_namespaces(
    child: impl FnMut() -> isize,
    flags: CloneFlags,
) -> Result<Pid, CloneError> {
    ensure_single_threaded("create a container's first process")?;
    if flags.contains(CloneFlags::CLONE_VM) {
        // The child would share our memory and the stack we unmap below.
        return Err(CloneError::Clone(nix::Error::EINVAL));
    }
    let mut stack = GuardedStack::new(STACK_SIZE)?;
    // SAFETY: this process has a single thread (checked above), so the
    // child's copy of memory holds no lock of a thread it lacks; without
    // CLONE_VM, unmapping the parent's stack after the call leaves the
    // child's copy in place.
    unsafe {
        nix::sched::clone(
            Box::new(child),
            stack.usable(),
            flags,
            Some(Signal::SIGCHLD as i32),
        )
    }
    .map_err(CloneError::Clone)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_stack_sits_above_an_inaccessible_guard_page() {
        let mut stack = GuardedStack::new(STACK_SIZE).unwrap();
        let guard = stack.base.as_ptr();
        let usable = stack.usable().as_ptr();
        assert_eq!(usable as usize - guard as usize, stack.guard);
        assert_eq!(stack.usable().len(), STACK_SIZE);
        let maps = std::fs::read_to_string("/proc/self/maps").unwrap();
        let start = format!("{:x}-", guard as usize);
        let line = maps
            .lines()
            .find(|l| l.starts_with(&start))
            .expect("the guard page is mapped");
        assert!(line.contains(" ---p "), "{line}");
    }

    #[test]
    fn cloning_is_refused_with_threads() {
        // The test harness runs tests on threads of their own: this process
        // has at least two.
        let (done, wait) = std::sync::mpsc::channel::<()>();
        let keep = std::thread::spawn(move || wait.recv());
        let error = clone_into_namespaces(|| 0, CloneFlags::empty()).unwrap_err();
        assert!(
            matches!(error, CloneError::Threaded(_, n) if n >= 2),
            "{error}"
        );
        drop(done);
        let _ = keep.join();
    }
}
