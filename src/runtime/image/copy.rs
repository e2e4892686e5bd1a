//! `copy_tree`: a faithful copy of a directory tree, used to import a
//! directory and, when overlayfs is unavailable, to give a container its
//! own writable copy of an image.

use std::fs;
use std::io;
use std::os::unix::fs::{DirBuilderExt, FileTypeExt, MetadataExt, OpenOptionsExt};
use std::path::{Path, PathBuf};

use nix::sys::stat::{mknod, Mode, SFlag};

use super::attrs::{self, Attrs};

/// What a copy produced.
#[derive(Debug, Default)]
pub(super) struct Copied {
    /// Entries created under the destination (the destination itself not counted).
    pub entries: u64,
    /// Sockets and device nodes found in the source and not copied.
    pub skipped: Vec<PathBuf>,
}

/// Copies the directory `src` to `dst`, keeping modes (setuid included),
/// numeric owners, modification times, symlinks as symlinks, FIFOs and
/// extended attributes where the destination filesystem allows.
///
/// Symlinks are never followed, so the copy cannot reach outside `src`
/// (only `src` itself may be a symlink to a directory). Hard-linked files
/// become separate copies. Sockets and device nodes are skipped: sockets
/// are meaningless in a copy and device nodes are not wanted in images.
///
/// `dst` is created if missing; if it exists it must be a directory and
/// nothing in it may clash with `src`'s entries.
pub fn copy_tree(src: &Path, dst: &Path) -> io::Result<()> {
    copy_tree_report(src, dst).map(drop)
}

pub(super) fn copy_tree_report(src: &Path, dst: &Path) -> io::Result<Copied> {
    let root = fs::metadata(src).map_err(context("reading", src))?;
    if !root.is_dir() {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            format!("cannot copy {}: it is not a directory", src.display()),
        ));
    }
    match fs::symlink_metadata(dst) {
        Ok(meta) if meta.is_dir() => {}
        Ok(_) => {
            return Err(io::Error::new(
                io::ErrorKind::AlreadyExists,
                format!(
                    "cannot copy into {}: it exists and is not a directory",
                    dst.display()
                ),
            ))
        }
        Err(e) if e.kind() == io::ErrorKind::NotFound => {
            // 0700 until the copy is complete and the real mode is applied.
            fs::DirBuilder::new()
                .mode(0o700)
                .create(dst)
                .map_err(context("creating", dst))?;
        }
        Err(e) => return Err(context("reading", dst)(e)),
    }
    // A destination inside the source would be copied into itself forever.
    let src_real = fs::canonicalize(src).map_err(context("resolving", src))?;
    let dst_real = fs::canonicalize(dst).map_err(context("resolving", dst))?;
    if dst_real.starts_with(&src_real) {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            format!(
                "cannot copy {} into {}, which is inside it",
                src.display(),
                dst.display()
            ),
        ));
    }

    // Only root can give files away; anyone else keeps them as their own.
    let chown = nix::unistd::geteuid().is_root();
    let mut copied = Copied::default();
    copy_dir(src, dst, chown, &mut copied)?;
    copy_attrs(src, dst, &root, chown)?;
    Ok(copied)
}

fn copy_dir(src: &Path, dst: &Path, chown: bool, copied: &mut Copied) -> io::Result<()> {
    for entry in fs::read_dir(src).map_err(context("reading directory", src))? {
        let entry = entry.map_err(context("reading directory", src))?;
        let from = entry.path();
        let to = dst.join(entry.file_name());
        let meta = fs::symlink_metadata(&from).map_err(context("reading", &from))?;
        let kind = meta.file_type();
        if kind.is_dir() {
            fs::DirBuilder::new()
                .mode(0o700)
                .create(&to)
                .map_err(context("creating directory", &to))?;
            copy_dir(&from, &to, chown, copied)?;
        } else if kind.is_file() {
            // O_NOFOLLOW on both ends: if either path was swapped for a
            // symlink since we looked, fail instead of following it.
            let mut input = fs::OpenOptions::new()
                .read(true)
                .custom_flags(libc::O_NOFOLLOW)
                .open(&from)
                .map_err(context("opening", &from))?;
            let mut output = fs::OpenOptions::new()
                .write(true)
                .create_new(true)
                .mode(0o600)
                .custom_flags(libc::O_NOFOLLOW)
                .open(&to)
                .map_err(context("creating", &to))?;
            io::copy(&mut input, &mut output).map_err(context("copying to", &to))?;
        } else if kind.is_symlink() {
            let target = fs::read_link(&from).map_err(context("reading symlink", &from))?;
            std::os::unix::fs::symlink(&target, &to).map_err(context("creating symlink", &to))?;
        } else if kind.is_fifo() {
            mknod(&to, SFlag::S_IFIFO, Mode::from_bits_truncate(0o600), 0)
                .map_err(|e| context("creating FIFO", &to)(e.into()))?;
        } else {
            copied.skipped.push(from);
            continue;
        }
        copy_attrs(&from, &to, &meta, chown)?;
        copied.entries += 1;
    }
    Ok(())
}

/// Gives `to` the owner, mode, mtime and xattrs of `from` (whose metadata
/// is `meta`). Called on a directory only after its contents are copied,
/// since filling it changes its mtime.
fn copy_attrs(from: &Path, to: &Path, meta: &fs::Metadata, chown: bool) -> io::Result<()> {
    let wanted = Attrs {
        uid: meta.uid(),
        gid: meta.gid(),
        mode: meta.mode() & 0o7777,
        mtime_sec: meta.mtime(),
        mtime_nsec: meta.mtime_nsec(),
    };
    let symlink = meta.file_type().is_symlink();
    attrs::apply(to, &wanted, chown, symlink).map_err(context("setting attributes of", to))?;
    // After chown, which would clear security.capability.
    let xattrs = match attrs::xattrs(from) {
        Ok(xattrs) => xattrs,
        Err(e) if attrs::xattr_unsupported(&e) => Vec::new(),
        Err(e) => return Err(context("reading extended attributes of", from)(e)),
    };
    for (name, value) in xattrs {
        match attrs::set_xattr(to, &name, &value) {
            Ok(()) => {}
            // The destination filesystem or the caller cannot keep it;
            // a copy without it is still the best we can do.
            Err(e) if attrs::xattr_unsupported(&e) => {}
            Err(e) => return Err(context("setting extended attributes of", to)(e)),
        }
    }
    Ok(())
}

/// Wraps an io::Error with what was being done and to which path, keeping
/// its kind so callers can still match on it.
fn context<'a>(what: &'a str, path: &'a Path) -> impl Fn(io::Error) -> io::Error + 'a {
    move |e| io::Error::new(e.kind(), format!("{what} {}: {e}", path.display()))
}
