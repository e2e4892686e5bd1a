//! Running hako from a sealed copy of itself (the CVE-2019-5736 class).
//!
//! A process hako runs inside a container's namespaces (the first process
//! until its `execve`, exec's joiner and command, and any hako the kernel
//! starts again through a `#!/proc/self/exe` script in the image) shows the
//! binary it runs as `/proc/PID/exe`. If that were the host's file, a process
//! of the container could chmod it, or open it for writing once it is no
//! longer executing, and the next hako the operator runs would be the
//! container's. As runc does since 1.0-rc6, hako copies itself into a memfd,
//! seals it (fcntl(2) "File Sealing": no more writes, no resize, no new seals)
//! and re-executes from it, so `/proc/PID/exe` is that sealed copy and never
//! the host's file.

use nix::errno::Errno;
use nix::fcntl::{fcntl, FcntlArg, SealFlag};
use nix::sys::memfd::{memfd_create, MemFdCreateFlag};
use std::ffi::{CStr, CString, OsString};
use std::fs::File;
use std::os::fd::{AsRawFd, OwnedFd};
use std::os::unix::ffi::OsStringExt;
use thiserror::Error;

/// The seals that make the copy immutable. F_SEAL_WRITE already refuses
/// every write (F_SEAL_FUTURE_WRITE would only add the refusal of new
/// writable mappings, which F_SEAL_WRITE covers), and F_SEAL_SEAL keeps
/// anyone from removing them: seals can only be added (memfd_create(2)).
const SEALS: SealFlag = SealFlag::F_SEAL_SEAL
    .union(SealFlag::F_SEAL_SHRINK)
    .union(SealFlag::F_SEAL_GROW)
    .union(SealFlag::F_SEAL_WRITE);

/// The running binary, as the kernel knows it.
const SELF_EXE: &str = "/proc/self/exe";

#[derive(Debug, Error)]
pub enum SealError {
    #[error("failed to open {SELF_EXE} to copy hako into a sealed memfd: {0} (is /proc mounted?)")]
    Open(std::io::Error),
    #[error("failed to create a memfd for a sealed copy of hako: {0}")]
    Create(Errno),
    #[error("failed to copy {SELF_EXE} into a memfd: {0}")]
    Copy(std::io::Error),
    #[error("failed to seal the memfd copy of hako: {0}")]
    Seal(Errno),
    #[error("failed to re-execute hako from its sealed copy: {0}")]
    Exec(Errno),
}

/// Whether `file` is a memfd holding all of `SEALS`. A regular file has no
/// seals at all (F_GET_SEALS fails with EINVAL).
fn is_sealed(file: &File) -> bool {
    fcntl(file.as_raw_fd(), FcntlArg::F_GET_SEALS)
        .is_ok_and(|bits| SealFlag::from_bits_truncate(bits).contains(SEALS))
}

/// Returns when hako already runs from a sealed memfd; otherwise copies
/// itself into one and re-executes from it with the same arguments and
/// environment, and does not return unless that fails.
///
/// Must run first in `main`, while hako is single-threaded and before it
/// has opened anything: nothing is carried over the `execve` but the
/// arguments, the environment and the inherited descriptors.
pub fn reexec_from_sealed_copy() -> Result<(), SealError> {
    let exe = File::open(SELF_EXE).map_err(SealError::Open)?;
    if is_sealed(&exe) {
        // Started through /proc/self/exe (a monitor, the dashboard's exec),
        // the kernel names the process "exe"; `ps` should say hako.
        let _ = nix::sys::prctl::set_name(c"hako");
        return Ok(());
    }
    let copy = sealed_copy(exe)?;
    let args = to_cstrings(std::env::args_os());
    let env = to_cstrings(std::env::vars_os().map(|(key, value)| {
        let mut entry = key;
        entry.push("=");
        entry.push(value);
        entry
    }));
    // The memfd is close-on-exec: the new image keeps it mapped, no process
    // keeps a descriptor of it. execveat(2) with AT_EMPTY_PATH is what
    // fexecve(3) does on Linux.
    let errno = match nix::unistd::fexecve(copy.as_raw_fd(), &args, &env) {
        Ok(never) => match never {},
        Err(errno) => errno,
    };
    Err(SealError::Exec(errno))
}

/// A memfd named "hako" holding the bytes of `exe`, with all of `SEALS`.
fn sealed_copy(mut exe: File) -> Result<OwnedFd, SealError> {
    let name: &CStr = c"hako";
    let flags = MemFdCreateFlag::MFD_CLOEXEC | MemFdCreateFlag::MFD_ALLOW_SEALING;
    // MFD_EXEC says the copy is to be executed: where vm.memfd_noexec is 1,
    // a memfd made without it is sealed non-executable (memfd_create(2)).
    // Kernels before 6.3 do not know the flag (EINVAL) and execute any memfd.
    let exec = MemFdCreateFlag::from_bits_retain(libc::MFD_EXEC);
    let fd = match memfd_create(name, flags | exec) {
        Err(Errno::EINVAL) => memfd_create(name, flags),
        made => made,
    }
    .map_err(SealError::Create)?;
    let mut memfd = File::from(fd);
    std::io::copy(&mut exe, &mut memfd).map_err(SealError::Copy)?;
    fcntl(memfd.as_raw_fd(), FcntlArg::F_ADD_SEALS(SEALS)).map_err(SealError::Seal)?;
    Ok(OwnedFd::from(memfd))
}

/// Arguments and environment entries never hold a NUL byte (the kernel
/// passes them as C strings), so none is dropped here.
fn to_cstrings(items: impl Iterator<Item = OsString>) -> Vec<CString> {
    items
        .filter_map(|item| CString::new(item.into_vec()).ok())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    #[test]
    fn a_sealed_copy_refuses_writes_and_resizes() {
        let exe = File::open(SELF_EXE).unwrap();
        let size = exe.metadata().unwrap().len();
        let copy = File::from(sealed_copy(exe).unwrap());
        assert!(is_sealed(&copy));
        assert_eq!(copy.metadata().unwrap().len(), size);
        assert!((&copy).write_all(b"x").is_err());
        assert!(copy.set_len(1).is_err());
        assert!(copy.set_len(size + 1).is_err());
    }

    #[test]
    fn a_regular_file_is_not_sealed() {
        assert!(!is_sealed(&File::open(SELF_EXE).unwrap()));
    }
}
