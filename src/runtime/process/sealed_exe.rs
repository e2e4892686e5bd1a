//! Running hako from a sealed view of itself (the CVE-2019-5736 class).
//!
//! A process hako runs inside a container's namespaces (the first process
//! until its `execve`, exec's joiner and command, and any hako the kernel
//! starts again through a `#!/proc/self/exe` script in the image) shows the
//! binary it runs as `/proc/PID/exe`. If that were the host's file, a process
//! of the container could chmod it, or open it for writing once it is no
//! longer executing, and the next hako the operator runs would be the
//! container's. So hako re-executes itself, before anything else, from a file
//! that refuses writes, as runc does (REFERENCE.md):
//!
//! 1. First choice, as runc 1.2: the same binary seen through a read-only
//!    overlayfs of its directory that is mounted nowhere (fsopen(2),
//!    fsmount(2): a detached mount lives as long as a descriptor or a
//!    process's exe holds it). Nothing is copied; the pages of the host's
//!    binary are shared.
//! 2. Where the kernel or the caller's privileges refuse that (no fsopen, no
//!    overlay, no `lowerdir+` before Linux 6.8, no CAP_SYS_ADMIN): a copy in
//!    a memfd, sealed (fcntl(2) "File Sealing": no more writes, no resize, no
//!    new seals), as runc since 1.0-rc6. It costs the binary's size in memory
//!    for each process that runs from it.

use nix::errno::Errno;
use nix::fcntl::{fcntl, AtFlags, FcntlArg, SealFlag};
use nix::sys::memfd::{memfd_create, MFdFlags};
use nix::sys::statfs::{fstatfs, OVERLAYFS_SUPER_MAGIC};
use nix::sys::statvfs::{fstatvfs, FsFlags};
use rustix::fs::{Mode, OFlags};
use rustix::mount::{FsMountFlags, FsOpenFlags, MountAttrFlags};
use std::ffi::{CStr, CString, OsString};
use std::fs::File;
use std::io;
use std::os::fd::{AsFd, AsRawFd, OwnedFd};
use std::os::unix::ffi::OsStringExt;
use std::path::Path;
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

/// Set (to anything) to skip the overlay and run from the memfd copy: the
/// fallback, for tests and for measuring it on a kernel that has both.
pub const FORCE_MEMFD_ENV: &str = "HAKO_SEALED_MEMFD";

/// The attributes of the detached mounts: read-only, and no set-id or device
/// files through them (mount_setattr(2)).
const MOUNT_ATTRS: MountAttrFlags = MountAttrFlags::MOUNT_ATTR_RDONLY
    .union(MountAttrFlags::MOUNT_ATTR_NOSUID)
    .union(MountAttrFlags::MOUNT_ATTR_NODEV);

#[derive(Debug, Error)]
pub enum SealError {
    #[error("failed to open {SELF_EXE} to run hako from a sealed view of itself: {0} (is /proc mounted?)")]
    Open(io::Error),
    #[error("failed to create a memfd for a sealed copy of hako: {0}")]
    Create(Errno),
    #[error("failed to copy {SELF_EXE} into a memfd: {0}")]
    Copy(io::Error),
    #[error("failed to seal the memfd copy of hako: {0}")]
    Seal(Errno),
    #[error("failed to re-execute hako from its sealed copy: {0}")]
    Exec(Errno),
}

/// Whether `file` is a memfd holding all of `SEALS`. A regular file has no
/// seals at all (F_GET_SEALS fails with EINVAL).
fn is_sealed(file: &File) -> bool {
    fcntl(file, FcntlArg::F_GET_SEALS)
        .is_ok_and(|bits| SealFlag::from_bits_truncate(bits).contains(SEALS))
}

/// Whether `file` lies on an overlayfs that is read-only (statfs(2) f_type,
/// statvfs(3) ST_RDONLY, which is set when either the mount or the
/// filesystem is read-only).
///
/// Why that is enough to skip the re-execution: the overlay made below has
/// no upper layer, and overlayfs without an upper layer is read-only in
/// itself (overlayfs.rst "Multiple lower layers"), so no remount reaches the
/// real file, not even by a container holding CAP_SYS_ADMIN. This is how
/// the monitor (started through /proc/self/exe) and a nested hako know they
/// already run from such a view. The test also accepts a read-only overlay
/// that has an upper layer (a host whose / is one): writes through it fail
/// all the same, and making that mount writable takes CAP_SYS_ADMIN over the
/// mount namespace it belongs to, the host's (mount_setattr(2)); a container
/// holding that owns the host anyway. It is no weaker than a host binary on a
/// read-only /. A memfd is accepted only with all of `SEALS`.
fn is_read_only_overlay(file: &File) -> bool {
    let overlay = fstatfs(file).is_ok_and(|fs| fs.filesystem_type() == OVERLAYFS_SUPER_MAGIC);
    overlay && fstatvfs(file).is_ok_and(|vfs| vfs.flags().contains(FsFlags::ST_RDONLY))
}

/// Returns when hako already runs from a sealed view of itself; otherwise
/// re-executes from one (the overlay, else the memfd copy) with the same
/// arguments and environment, and does not return unless that fails.
///
/// Must run first in `main`, while hako is single-threaded and before it
/// has opened anything: nothing is carried over the `execve` but the
/// arguments, the environment and the inherited descriptors.
pub fn reexec_from_sealed_exe() -> Result<(), SealError> {
    let exe = File::open(SELF_EXE).map_err(SealError::Open)?;
    if is_sealed(&exe) || is_read_only_overlay(&exe) {
        // Started through /proc/self/exe (a monitor, the dashboard's exec),
        // the kernel names the process "exe"; `ps` should say hako.
        let _ = nix::sys::prctl::set_name(c"hako");
        return Ok(());
    }
    let args = to_cstrings(std::env::args_os());
    let env = to_cstrings(std::env::vars_os().map(|(key, value)| {
        let mut entry = key;
        entry.push("=");
        entry.push(value);
        entry
    }));
    // The descriptors are close-on-exec: after the execveat(2) only the new
    // process's exe holds the overlay (or the memfd's pages).
    if std::env::var_os(FORCE_MEMFD_ENV).is_none() {
        // Any failure, of the set-up or of the exec itself (which returns
        // before the new image replaces this one), leaves the memfd copy.
        if let Ok(view) = read_only_overlay_view(&exe) {
            let _ = nix::unistd::execveat(&view, c"", &args, &env, AtFlags::AT_EMPTY_PATH);
        }
    }
    let copy = sealed_copy(exe)?;
    // execveat(2) with AT_EMPTY_PATH is what fexecve(3) does on Linux.
    let errno = match nix::unistd::fexecve(&copy, &args, &env) {
        Ok(never) => match never {},
        Err(errno) => errno,
    };
    Err(SealError::Exec(errno))
}

/// `/proc/self/fd/N`: how a path option of fsconfig(2) names a descriptor.
fn fd_path(fd: &OwnedFd) -> String {
    format!("/proc/self/fd/{}", fd.as_raw_fd())
}

/// An O_PATH descriptor of the running binary seen through a read-only
/// overlayfs of its directory, mounted nowhere.
///
/// overlayfs without an upper layer needs two lower layers at least and
/// refuses the same directory twice, so the second one is an empty tmpfs,
/// itself detached (it holds no file, so it costs no memory). `lowerdir+`
/// takes one layer per call (Linux 6.8, overlayfs.rst), so a directory name
/// holding a comma or a colon needs no escaping.
fn read_only_overlay_view(exe: &File) -> io::Result<OwnedFd> {
    let unusable = || io::Error::from(io::ErrorKind::InvalidInput);
    // The binary's real path, read once; the directory is held from here on.
    let path = std::fs::read_link(SELF_EXE)?;
    let (Some(dir), Some(name)) = (path.parent(), path.file_name()) else {
        return Err(unusable());
    };
    let dir = rustix::fs::open(
        dir,
        OFlags::PATH | OFlags::DIRECTORY | OFlags::CLOEXEC,
        Mode::empty(),
    )?;

    let tmpfs = rustix::mount::fsopen("tmpfs", FsOpenFlags::FSOPEN_CLOEXEC)?;
    rustix::mount::fsconfig_create(tmpfs.as_fd())?;
    let empty = rustix::mount::fsmount(tmpfs.as_fd(), FsMountFlags::FSMOUNT_CLOEXEC, MOUNT_ATTRS)?;

    let overlay = rustix::mount::fsopen("overlay", FsOpenFlags::FSOPEN_CLOEXEC)?;
    rustix::mount::fsconfig_set_string(overlay.as_fd(), "lowerdir+", fd_path(&dir))?;
    rustix::mount::fsconfig_set_string(overlay.as_fd(), "lowerdir+", fd_path(&empty))?;
    rustix::mount::fsconfig_create(overlay.as_fd())?;
    let mnt = rustix::mount::fsmount(overlay.as_fd(), FsMountFlags::FSMOUNT_CLOEXEC, MOUNT_ATTRS)?;

    // NOFOLLOW: the name is the real file's, so a symbolic link there now
    // (which could point out of the overlay) is not hako.
    let view = rustix::fs::openat(
        &mnt,
        Path::new(name),
        OFlags::PATH | OFlags::NOFOLLOW | OFlags::CLOEXEC,
        Mode::empty(),
    )?;
    // The same file as the one running, not one put in its place since hako
    // started (an upgrade): same size and modification time.
    let (running, seen) = (rustix::fs::fstat(exe)?, rustix::fs::fstat(&view)?);
    let identity = |st: &rustix::fs::Stat| (st.st_size, st.st_mtime, st.st_mtime_nsec, st.st_mode);
    if identity(&running) != identity(&seen) {
        return Err(unusable());
    }
    Ok(view)
}

/// A memfd named "hako" holding the bytes of `exe`, with all of `SEALS`.
fn sealed_copy(mut exe: File) -> Result<OwnedFd, SealError> {
    let name: &CStr = c"hako";
    let flags = MFdFlags::MFD_CLOEXEC | MFdFlags::MFD_ALLOW_SEALING;
    // MFD_EXEC says the copy is to be executed: where vm.memfd_noexec is 1,
    // a memfd made without it is sealed non-executable (memfd_create(2)).
    // Kernels before 6.3 do not know the flag (EINVAL) and execute any memfd.
    let exec = MFdFlags::from_bits_retain(libc::MFD_EXEC);
    let fd = match memfd_create(name, flags | exec) {
        Err(Errno::EINVAL) => memfd_create(name, flags),
        made => made,
    }
    .map_err(SealError::Create)?;
    let mut memfd = File::from(fd);
    std::io::copy(&mut exe, &mut memfd).map_err(SealError::Copy)?;
    fcntl(&memfd, FcntlArg::F_ADD_SEALS(SEALS)).map_err(SealError::Seal)?;
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
        let exe = File::open(SELF_EXE).unwrap();
        assert!(!is_sealed(&exe));
        assert!(!is_read_only_overlay(&exe));
    }

    /// Needs root (CAP_SYS_ADMIN for fsopen) and Linux 6.8 (`lowerdir+`).
    #[test]
    fn the_overlay_view_is_the_running_binary_and_refuses_writes() {
        let exe = File::open(SELF_EXE).unwrap();
        let view = File::from(read_only_overlay_view(&exe).unwrap());
        assert!(is_read_only_overlay(&view));
        let through = format!("/proc/self/fd/{}", view.as_raw_fd());
        let bytes = std::fs::read(&through).unwrap();
        assert_eq!(bytes, std::fs::read(SELF_EXE).unwrap());
        let name = std::fs::read_link(SELF_EXE).unwrap();
        let name = name.file_name().unwrap().to_str().unwrap();
        // Mounted nowhere: the link names the file from the overlay's root.
        assert_eq!(
            std::fs::read_link(&through).unwrap(),
            Path::new("/").join(name)
        );
        let write = std::fs::OpenOptions::new().write(true).open(&through);
        assert_eq!(write.unwrap_err().raw_os_error(), Some(libc::EROFS));
    }
}
