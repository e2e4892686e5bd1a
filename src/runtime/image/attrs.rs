//! Owner, mode, time and xattr helpers shared by extraction and copying.
//!
//! Every helper acts on the path itself, never on a symlink's target,
//! except `chmod`, which callers must not use on symlinks (Linux has no
//! symlink modes anyway).

use std::ffi::OsStr;
use std::fs;
use std::io;
use std::os::unix::ffi::{OsStrExt, OsStringExt};
use std::os::unix::fs::PermissionsExt;
use std::path::Path;

use nix::fcntl::AT_FDCWD;
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
    utimensat(
        AT_FDCWD,
        path,
        &time,
        &time,
        UtimensatFlags::NoFollowSymlink,
    )
    .map_err(io::Error::from)
}

/// Sets one extended attribute on `path` itself (not a symlink's target:
/// `xattr::set` is `lsetxattr`).
pub(super) fn set_xattr(path: &Path, name: &[u8], value: &[u8]) -> io::Result<()> {
    xattr::set(path, OsStr::from_bytes(name), value)
}

/// Whether an xattr error means "this filesystem or this caller cannot
/// keep that attribute" rather than a real failure.
pub(super) fn xattr_unsupported(error: &io::Error) -> bool {
    matches!(
        error.raw_os_error(),
        Some(libc::ENOTSUP) | Some(libc::EPERM) | Some(libc::EACCES)
    )
}

/// All extended attributes of `path` itself (not a symlink's target:
/// `xattr::list` and `get` are `llistxattr` and `lgetxattr`), as (name,
/// value) pairs.
pub(super) fn xattrs(path: &Path) -> io::Result<Vec<(Vec<u8>, Vec<u8>)>> {
    let names = match xattr::list(path) {
        Ok(names) => names,
        Err(e) if e.raw_os_error() == Some(libc::ENOTSUP) => return Ok(Vec::new()),
        Err(e) => return Err(e),
    };
    let mut pairs = Vec::new();
    for name in names {
        // `None`: removed between listing and reading, nothing to copy.
        if let Some(value) = xattr::get(path, &name)? {
            pairs.push((name.into_vec(), value));
        }
    }
    Ok(pairs)
}
