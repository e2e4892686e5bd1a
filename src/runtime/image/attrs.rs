//! Owner, mode, time and xattr helpers shared by extraction and copying.
//!
//! Every helper acts on the path itself, never on a symlink's target,
//! except `chmod`, which callers must not use on symlinks (Linux has no
//! symlink modes anyway).

use std::ffi::CString;
use std::fs;
use std::io;
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;

use nix::sys::stat::{utimensat, UtimensatFlags};
use nix::sys::time::TimeSpec;

/// Owner, mode and modification time of one file to be created.
#[derive(Debug, Clone, Copy)]
pub(super) struct Attrs {
    pub uid: u32,
    pub gid: u32,
    /// Permission bits including setuid, setgid and sticky.
    pub mode: u32,
    pub mtime_sec: i64,
    pub mtime_nsec: i64,
}

/// Applies owner, then mode, then time to `path`.
///
/// chown clears setuid/setgid, so the mode goes after it. Creating entries
/// inside a directory bumps its mtime, so callers apply a directory's
/// attributes only once it is filled. Symlinks have no mode to set.
pub(super) fn apply(path: &Path, attrs: &Attrs, chown: bool, symlink: bool) -> io::Result<()> {
    if chown {
        std::os::unix::fs::lchown(path, Some(attrs.uid), Some(attrs.gid))?;
    }
    if !symlink {
        fs::set_permissions(path, fs::Permissions::from_mode(attrs.mode & 0o7777))?;
    }
    set_mtime(path, attrs.mtime_sec, attrs.mtime_nsec)
}

/// Sets access and modification time without following a final symlink.
pub(super) fn set_mtime(path: &Path, sec: i64, nsec: i64) -> io::Result<()> {
    let time = TimeSpec::new(sec, nsec);
    utimensat(None, path, &time, &time, UtimensatFlags::NoFollowSymlink).map_err(io::Error::from)
}

fn c_path(path: &Path) -> io::Result<CString> {
    CString::new(path.as_os_str().as_bytes()).map_err(|_| {
        io::Error::new(
            io::ErrorKind::InvalidInput,
            format!("path {} contains a NUL byte", path.display()),
        )
    })
}

fn c_name(name: &[u8]) -> io::Result<CString> {
    CString::new(name).map_err(|_| {
        io::Error::new(
            io::ErrorKind::InvalidInput,
            "extended attribute name contains a NUL byte",
        )
    })
}

/// Sets one extended attribute on `path` itself (not a symlink's target).
pub(super) fn set_xattr(path: &Path, name: &[u8], value: &[u8]) -> io::Result<()> {
    let path = c_path(path)?;
    let name = c_name(name)?;
    // SAFETY: both strings are NUL-terminated and outlive the call; the
    // value pointer and length describe a live slice.
    let rc = unsafe {
        libc::lsetxattr(
            path.as_ptr(),
            name.as_ptr(),
            value.as_ptr().cast(),
            value.len(),
            0,
        )
    };
    if rc == 0 {
        Ok(())
    } else {
        Err(io::Error::last_os_error())
    }
}

/// Whether an xattr error means "this filesystem or this caller cannot
/// keep that attribute" rather than a real failure.
pub(super) fn xattr_unsupported(error: &io::Error) -> bool {
    matches!(
        error.raw_os_error(),
        Some(libc::ENOTSUP) | Some(libc::EPERM) | Some(libc::EACCES)
    )
}

/// All extended attributes of `path` itself, as (name, value) pairs.
pub(super) fn xattrs(path: &Path) -> io::Result<Vec<(Vec<u8>, Vec<u8>)>> {
    let c = c_path(path)?;
    let names = read_sized(|buf, len| {
        // SAFETY: `buf` is valid for `len` bytes (or null with len 0).
        unsafe { libc::llistxattr(c.as_ptr(), buf.cast(), len) }
    })?;
    let mut pairs = Vec::new();
    for name in names.split(|b| *b == 0).filter(|n| !n.is_empty()) {
        let c_name = c_name(name)?;
        let value = read_sized(|buf, len| {
            // SAFETY: as above; both strings are NUL-terminated.
            unsafe { libc::lgetxattr(c.as_ptr(), c_name.as_ptr(), buf.cast(), len) }
        });
        match value {
            Ok(value) => pairs.push((name.to_vec(), value)),
            // Removed between listing and reading: nothing to copy.
            Err(e) if e.raw_os_error() == Some(libc::ENODATA) => {}
            Err(e) => return Err(e),
        }
    }
    Ok(pairs)
}

/// Runs a "query size, then fill" libc call, retrying if the value grew
/// in between.
fn read_sized(mut call: impl FnMut(*mut u8, usize) -> isize) -> io::Result<Vec<u8>> {
    loop {
        let size = call(std::ptr::null_mut(), 0);
        if size < 0 {
            let error = io::Error::last_os_error();
            if error.raw_os_error() == Some(libc::ENOTSUP) {
                return Ok(Vec::new());
            }
            return Err(error);
        }
        let mut buf = vec![0u8; size as usize];
        let got = call(buf.as_mut_ptr(), buf.len());
        if got >= 0 {
            buf.truncate(got as usize);
            return Ok(buf);
        }
        let error = io::Error::last_os_error();
        if error.raw_os_error() != Some(libc::ERANGE) {
            return Err(error);
        }
    }
}
