//! What a container's command inherits from hako besides its stdio: no
//! descriptor, and a working directory inside the container (the
//! CVE-2024-21626 class, issue 8 finding 5). Used by the container's first
//! process (init.rs) and by exec's command (exec.rs).

use super::SetupError;
use nix::errno::Errno;
use nix::fcntl::{openat2, OFlag, OpenHow, ResolveFlag, AT_FDCWD};
use nix::sys::stat::{mkdirat, Mode};
use std::ffi::OsStr;
use std::os::fd::{AsFd, BorrowedFd, OwnedFd};
use std::path::{Component, Path};

/// Marks every descriptor above 2 close-on-exec, so that nothing hako holds
/// or inherited from its own caller reaches the command; the error pipe is
/// among them and stays open until `execve` succeeds, as it must.
///
/// One `close_range(3, ~0U, CLOSE_RANGE_CLOEXEC)` (close_range(2), Linux 5.11)
/// covers every descriptor, whatever is mounted on /proc: a listing of
/// /proc/self/fd is the container's to fake once hako has joined its mount
/// namespace (runc does the same since 1.1.12).
pub fn close_inherited_fds() -> Result<(), SetupError> {
    // SAFETY: close_range only changes descriptor flags; no memory is involved.
    let done = unsafe { libc::close_range(3, u32::MAX, libc::CLOSE_RANGE_CLOEXEC as i32) };
    if done == 0 {
        return Ok(());
    }
    match Errno::last() {
        // A kernel older than 5.11: every possible descriptor, one by one,
        // up to the limit on open files (none can be above it).
        Errno::ENOSYS | Errno::EINVAL => mark_each_below_limit(),
        e => Err(SetupError::new(format!(
            "failed to mark descriptors close-on-exec with close_range: {e}"
        ))),
    }
}

fn mark_each_below_limit() -> Result<(), SetupError> {
    let (soft, _) = nix::sys::resource::getrlimit(nix::sys::resource::Resource::RLIMIT_NOFILE)
        .map_err(|e| SetupError::new(format!("failed to read the open-files limit: {e}")))?;
    let limit = soft.min(1 << 20) as i32;
    for fd in 3..limit {
        // Most of these numbers are not open, which a BorrowedFd may not
        // stand for: the raw call, whose EBADF for them is ignored.
        // SAFETY: F_SETFD takes an int and touches no memory.
        let _ = unsafe { libc::fcntl(fd, libc::F_SETFD, libc::FD_CLOEXEC) };
    }
    Ok(())
}

/// Creates `workdir` (and its missing parents) one component at a time, each
/// opened with openat2(2) RESOLVE_NO_MAGICLINKS: a path through a descriptor
/// (`/proc/self/fd/N/sub`, N a host directory hako's caller left open) would
/// otherwise create a directory on the host before any check could refuse
/// it. Ordinary symlinks are followed, inside the container's root.
pub fn create_workdir(workdir: &Path) -> Result<(), SetupError> {
    let failed = |e: Errno| {
        match e {
        Errno::ELOOP => SetupError::new(format!(
            "the working directory {} goes through a descriptor's /proc link, not a path in the container: give a path inside it with -w",
            workdir.display()
        )),
        e => SetupError::new(format!(
            "failed to create the working directory {}: {e}",
            workdir.display()
        )),
    }
    };
    let mut dir = open_dir(AT_FDCWD, OsStr::new("/")).map_err(failed)?;
    for part in workdir.components() {
        let name = match part {
            Component::RootDir | Component::CurDir => continue,
            other => other.as_os_str(),
        };
        dir = match open_dir(dir.as_fd(), name) {
            Err(Errno::ENOENT) => {
                match mkdirat(&dir, name, Mode::from_bits_truncate(0o755)) {
                    Ok(()) | Err(Errno::EEXIST) => {}
                    Err(e) => return Err(failed(e)),
                }
                open_dir(dir.as_fd(), name).map_err(failed)?
            }
            other => other.map_err(failed)?,
        };
    }
    Ok(())
}

fn open_dir(dir: BorrowedFd, name: &OsStr) -> Result<OwnedFd, Errno> {
    let how = OpenHow::new()
        .flags(OFlag::O_PATH | OFlag::O_DIRECTORY | OFlag::O_CLOEXEC)
        .resolve(ResolveFlag::RESOLVE_NO_MAGICLINKS);
    openat2(dir, name, how)
}

/// Enters `workdir` and checks that the result is inside the container's
/// root: a path through a descriptor still open (`/proc/self/fd/N` of a host
/// directory) would leave the command on the host, which getcwd(3) then
/// reports as unreachable (ENOENT; the kernel's "(unreachable)" prefix), as
/// runc 1.1.12 checks.
pub fn enter_workdir(workdir: &Path) -> Result<(), SetupError> {
    nix::unistd::chdir(workdir).map_err(|e| {
        SetupError::new(format!(
            "failed to enter the working directory {}: {e}",
            workdir.display()
        ))
    })?;
    match nix::unistd::getcwd() {
        Ok(cwd) if cwd.is_absolute() => Ok(()),
        Ok(cwd) => Err(outside(workdir, &cwd.to_string_lossy())),
        Err(e) => Err(outside(workdir, e.desc())),
    }
}

fn outside(workdir: &Path, found: &str) -> SetupError {
    SetupError::new(format!(
        "the working directory {} is outside the container ({found}): give a path inside it with -w",
        workdir.display()
    ))
}
