//! Mount targets found and created inside the container's root by file
//! descriptor, never walked again by path as the host's root.
//!
//! A path checked inside the root and then handed to mkdir, open or mount as
//! a host path is a race: a container that shares a writable volume with a
//! new container can swap a directory of it for a symlink in between, and the
//! host's root then follows that symlink out of the root (CVE-2021-30465).
//! So the root is held open, every target is looked up from it with
//! `openat2(RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS)` (openat2(2): symlinks,
//! absolute or `..`, stay inside the root), missing components are created
//! relative to the directory fd just found (`mkdirat`, `openat` with
//! `O_CREAT | O_EXCL | O_NOFOLLOW`), and the mount goes onto the opened fd
//! (`/proc/self/fd/N` or `move_mount`), so the kernel mounts on the object
//! that was checked, whatever the path names by then. This is what runc does
//! since 1.0.0-rc95 (with securejoin) and crun does with openat2.
//!
//! Where openat2 is missing (ENOSYS, Linux < 5.6) the same lookup is done
//! one component at a time with `O_NOFOLLOW`, following symlinks by reading
//! them, never letting `..` or an absolute link climb above the root.

use super::SetupError;
use nix::mount::{mount, MsFlags};
use rustix::fs::{Mode, OFlags, ResolveFlags};
use rustix::io::Errno;
use rustix::mount::{MoveMountFlags, OpenTreeFlags};
use std::ffi::OsStr;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, OwnedFd};
use std::os::unix::ffi::OsStrExt;
use std::path::{Component, Path, PathBuf};

/// The kernel's own limit on symlinks in one lookup (path_resolution(7)).
const MAX_SYMLINKS: usize = 40;

/// What a mount target must be: a bind of a file needs a file (or any other
/// non-directory) to sit on, everything else a directory.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    Dir,
    File,
}

/// How a path is looked up below the root.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Lookup {
    /// openat2, falling back to `Walk` where the kernel lacks it.
    Openat2,
    /// One component at a time with O_NOFOLLOW (kernels before 5.6).
    Walk,
}

/// The container's root, held open for the whole set-up.
pub struct Root {
    fd: OwnedFd,
    path: PathBuf,
    lookup: Lookup,
}

/// An opened mount target (or source), with the path to name in errors.
pub struct Target {
    pub fd: OwnedFd,
    pub shown: PathBuf,
}

impl Target {
    /// The magic link that leads the kernel to exactly this object.
    pub fn proc_path(&self) -> PathBuf {
        proc_fd_path(self.fd.as_fd())
    }
}

fn proc_fd_path(fd: BorrowedFd) -> PathBuf {
    PathBuf::from(format!("/proc/self/fd/{}", fd.as_raw_fd()))
}

fn os_err(errno: Errno) -> std::io::Error {
    std::io::Error::from_raw_os_error(errno.raw_os_error())
}

impl Root {
    /// Opens the mounted root; call it after the root filesystem is mounted
    /// on `path`, so the fd is the mount's, not the directory beneath.
    pub fn open(path: &Path) -> Result<Root, SetupError> {
        Root::open_with(path, Lookup::Openat2)
    }

    /// `open` with the lookup chosen (the fallback is tested this way).
    pub fn open_with(path: &Path, lookup: Lookup) -> Result<Root, SetupError> {
        let fd = rustix::fs::open(
            path,
            OFlags::PATH | OFlags::DIRECTORY | OFlags::CLOEXEC,
            Mode::empty(),
        )
        .map_err(|e| {
            SetupError::new(format!(
                "failed to open the container's root {}: {}",
                path.display(),
                os_err(e)
            ))
        })?;
        Ok(Root {
            fd,
            path: path.to_path_buf(),
            lookup,
        })
    }

    pub fn fd(&self) -> BorrowedFd<'_> {
        self.fd.as_fd()
    }

    fn lookup(&self, rel: &Path) -> Result<OwnedFd, Errno> {
        match self.lookup {
            Lookup::Openat2 => lookup(self.fd(), rel),
            Lookup::Walk => walk(self.fd(), rel),
        }
    }

    /// `path` (as the container sees it) if it exists, else `None`.
    pub fn open_existing(&self, path: &Path) -> Result<Option<Target>, SetupError> {
        match self.lookup(&relative(path)) {
            Ok(fd) => Ok(Some(Target {
                fd,
                shown: path.to_path_buf(),
            })),
            Err(Errno::NOENT) => Ok(None),
            Err(e) => Err(self.lookup_err(path, e)),
        }
    }

    /// `path` inside the root, created (with its missing parents) if it
    /// does not exist; an existing entry of the wrong kind is refused.
    pub fn ensure(&self, path: &Path, kind: Kind) -> Result<Target, SetupError> {
        let rel = relative(path);
        let fd = match self.lookup(&rel) {
            Ok(fd) => fd,
            Err(Errno::NOENT) => self.create(path, &rel, kind)?,
            Err(e) => return Err(self.lookup_err(path, e)),
        };
        check_kind(&fd, path, kind)?;
        Ok(Target {
            fd,
            shown: path.to_path_buf(),
        })
    }

    /// Whether `name`, at the top of the root, exists as anything but a real
    /// directory (a symlink, a file): runc refuses to mount /proc, /sys or
    /// /dev on one.
    pub fn is_symlink_or_not_dir(&self, name: &str) -> bool {
        match rustix::fs::statat(self.fd(), name, rustix::fs::AtFlags::SYMLINK_NOFOLLOW) {
            Ok(stat) => !is_dir(stat.st_mode),
            Err(_) => false,
        }
    }

    /// Walks `rel` from the root, creating each missing component relative
    /// to the fd of its parent, then returns the last one.
    fn create(&self, path: &Path, rel: &Path, kind: Kind) -> Result<OwnedFd, SetupError> {
        let parts: Vec<&OsStr> = rel.iter().collect();
        let mut done = PathBuf::new();
        let mut current: Option<OwnedFd> = None;
        for (i, part) in parts.iter().enumerate() {
            done.push(part);
            let found = match self.lookup(&done) {
                Err(Errno::NOENT) => {
                    let parent = match &current {
                        Some(fd) => require_dir(fd, path)?,
                        None => self.fd(),
                    };
                    let part_kind = if i + 1 == parts.len() {
                        kind
                    } else {
                        Kind::Dir
                    };
                    create_one(parent, part, part_kind).map_err(|e| {
                        SetupError::new(format!(
                            "failed to create /{} in the container (for {}): {}",
                            done.display(),
                            path.display(),
                            os_err(e)
                        ))
                    })?;
                    // Looked up again from the root: whatever the name
                    // leads to now, it is inside the root.
                    self.lookup(&done)
                }
                other => other,
            };
            current = Some(found.map_err(|e| match e {
                Errno::NOENT => SetupError::new(format!(
                    "cannot create {} in the container: /{} is a symlink to nothing \
                     (or was removed while the container started); fix the image or the volume",
                    path.display(),
                    done.display()
                )),
                e => self.lookup_err(path, e),
            })?);
        }
        current.ok_or_else(|| self.lookup_err(path, Errno::NOENT))
    }

    fn lookup_err(&self, path: &Path, errno: Errno) -> SetupError {
        SetupError::new(format!(
            "failed to resolve {} inside the container's root {}: {}",
            path.display(),
            self.path.display(),
            os_err(errno)
        ))
    }
}

/// A container path as a path relative to the root ("." for the root).
fn relative(path: &Path) -> PathBuf {
    let rel: PathBuf = path
        .components()
        .filter(|c| !matches!(c, Component::RootDir | Component::CurDir))
        .collect();
    if rel.as_os_str().is_empty() {
        PathBuf::from(".")
    } else {
        rel
    }
}

/// `fd` as the parent of a creation: it must be a directory, or nothing
/// can be created below it.
fn require_dir<'a>(fd: &'a OwnedFd, path: &Path) -> Result<BorrowedFd<'a>, SetupError> {
    let stat = rustix::fs::fstat(fd).map_err(|e| {
        SetupError::new(format!(
            "failed to inspect a parent of {}: {}",
            path.display(),
            os_err(e)
        ))
    })?;
    if !is_dir(stat.st_mode) {
        return Err(SetupError::new(format!(
            "cannot mount on {} in the container: one of its parents is not a directory",
            path.display()
        )));
    }
    Ok(fd.as_fd())
}

/// Creates one entry in `parent`, never through a symlink: mkdirat does not
/// follow a final symlink, and O_EXCL with O_NOFOLLOW fails on one.
fn create_one(parent: BorrowedFd, name: &OsStr, kind: Kind) -> Result<(), Errno> {
    let result = match kind {
        Kind::Dir => rustix::fs::mkdirat(parent, name, Mode::from_raw_mode(0o755)),
        Kind::File => rustix::fs::openat(
            parent,
            name,
            OFlags::CREATE | OFlags::EXCL | OFlags::NOFOLLOW | OFlags::WRONLY | OFlags::CLOEXEC,
            Mode::from_raw_mode(0o644),
        )
        .map(drop),
    };
    match result {
        // Made by someone else in the meantime: the lookup that follows
        // decides what it is.
        Err(Errno::EXIST) => Ok(()),
        other => other,
    }
}

fn is_dir(mode: u32) -> bool {
    mode & libc::S_IFMT == libc::S_IFDIR
}

fn check_kind(fd: &OwnedFd, path: &Path, kind: Kind) -> Result<(), SetupError> {
    let stat = rustix::fs::fstat(fd).map_err(|e| {
        SetupError::new(format!(
            "failed to inspect {}: {}",
            path.display(),
            os_err(e)
        ))
    })?;
    match (kind, is_dir(stat.st_mode)) {
        (Kind::Dir, false) => Err(SetupError::new(format!(
            "{} in the container is not a directory: refusing to mount a directory there",
            path.display()
        ))),
        (Kind::File, true) => Err(SetupError::new(format!(
            "{} in the container is a directory: refusing to mount a file there",
            path.display()
        ))),
        _ => Ok(()),
    }
}

/// Opens `rel` below `root` as an O_PATH fd, symlinks resolved as if `root`
/// were `/`.
fn lookup(root: BorrowedFd, rel: &Path) -> Result<OwnedFd, Errno> {
    // openat2(2): EAGAIN when a rename elsewhere in the filesystem happened
    // during a `..` step and the kernel could not be sure the walk stayed
    // inside; retrying is what the man page asks for.
    for _ in 0..64 {
        match rustix::fs::openat2(
            root,
            rel,
            OFlags::PATH | OFlags::CLOEXEC,
            Mode::empty(),
            ResolveFlags::IN_ROOT | ResolveFlags::NO_MAGICLINKS,
        ) {
            Err(Errno::AGAIN) => continue,
            Err(Errno::NOSYS) => return walk(root, rel),
            other => return other,
        }
    }
    Err(Errno::AGAIN)
}

/// The lookup without openat2: one component at a time with O_NOFOLLOW;
/// a symlink is read and its target walked in its place, from the root
/// when absolute; `..` never climbs above the root.
pub(super) fn walk(root: BorrowedFd, rel: &Path) -> Result<OwnedFd, Errno> {
    // The directories resolved so far below the root.
    let mut stack: Vec<OwnedFd> = vec![];
    let mut pending: Vec<PathBuf> = components_reversed(rel);
    let mut links = 0;
    while let Some(part) = pending.pop() {
        match part.components().next() {
            None | Some(Component::RootDir) | Some(Component::CurDir) => continue,
            Some(Component::ParentDir) => {
                stack.pop();
                continue;
            }
            _ => {}
        }
        let parent = stack.last().map(|fd| fd.as_fd()).unwrap_or(root);
        let fd = rustix::fs::openat(
            parent,
            &part,
            OFlags::PATH | OFlags::NOFOLLOW | OFlags::CLOEXEC,
            Mode::empty(),
        )?;
        let stat = rustix::fs::fstat(&fd)?;
        if stat.st_mode & libc::S_IFMT == libc::S_IFLNK {
            links += 1;
            if links > MAX_SYMLINKS {
                return Err(Errno::LOOP);
            }
            let target = rustix::fs::readlinkat(&fd, "", Vec::new())?;
            let target = Path::new(OsStr::from_bytes(target.as_bytes()));
            if target.is_absolute() {
                stack.clear();
            }
            pending.extend(components_reversed(target));
        } else {
            if !pending.is_empty() && !is_dir(stat.st_mode) {
                return Err(Errno::NOTDIR);
            }
            stack.push(fd);
        }
    }
    match stack.pop() {
        Some(fd) => Ok(fd),
        None => rustix::io::dup(root),
    }
}

fn components_reversed(path: &Path) -> Vec<PathBuf> {
    path.components()
        .rev()
        .map(|c| PathBuf::from(c.as_os_str()))
        .collect()
}

/// Opens a host path the operator gave (a volume's source, the host
/// image's directories, a device node) once; the bind is made from this fd,
/// so the path cannot change between the check of its type and the bind.
pub fn open_source(path: &Path) -> Result<Target, SetupError> {
    let fd =
        rustix::fs::open(path, OFlags::PATH | OFlags::CLOEXEC, Mode::empty()).map_err(|e| {
            SetupError::new(format!("failed to open {}: {}", path.display(), os_err(e)))
        })?;
    Ok(Target {
        fd,
        shown: path.to_path_buf(),
    })
}

impl Target {
    pub fn kind(&self) -> Result<Kind, SetupError> {
        let stat = rustix::fs::fstat(&self.fd).map_err(|e| {
            SetupError::new(format!(
                "failed to inspect {}: {}",
                self.shown.display(),
                os_err(e)
            ))
        })?;
        Ok(if is_dir(stat.st_mode) {
            Kind::Dir
        } else {
            Kind::File
        })
    }
}

/// Binds `source` on `target` (not recursively), then applies `flags`
/// (MS_RDONLY, MS_NODEV ...) to that one new mount.
///
/// open_tree(OPEN_TREE_CLONE) makes a detached copy of the source's mount
/// and move_mount attaches it on the target's fd, so neither side is
/// looked up by path. The remount goes through the tree's own fd, which is
/// the new mount's root (a path to the target would reach the mount below).
pub fn bind_fd(source: &Target, target: &Target, flags: MsFlags) -> Result<(), SetupError> {
    let fail = |what: &str, e: String| {
        SetupError::new(format!(
            "failed to {what} {} on {} in the container: {e}",
            source.shown.display(),
            target.shown.display()
        ))
    };
    let tree = rustix::mount::open_tree(
        source.fd.as_fd(),
        "",
        OpenTreeFlags::OPEN_TREE_CLONE
            | OpenTreeFlags::OPEN_TREE_CLOEXEC
            | OpenTreeFlags::AT_EMPTY_PATH,
    )
    .map_err(|e| fail("clone the mount of", os_err(e).to_string()))?;
    rustix::mount::move_mount(
        tree.as_fd(),
        "",
        target.fd.as_fd(),
        "",
        MoveMountFlags::MOVE_MOUNT_F_EMPTY_PATH | MoveMountFlags::MOVE_MOUNT_T_EMPTY_PATH,
    )
    .map_err(|e| fail("bind", os_err(e).to_string()))?;
    if !flags.is_empty() {
        mount(
            None::<&str>,
            &proc_fd_path(tree.as_fd()),
            None::<&str>,
            MsFlags::MS_BIND | MsFlags::MS_REMOUNT | flags,
            None::<&str>,
        )
        .map_err(|e| fail("set the flags of the bind of", e.to_string()))?;
    }
    Ok(())
}

/// Mounts a new filesystem (proc, tmpfs, devpts ...) on the opened target.
pub fn mount_fs(
    fstype: &str,
    target: &Target,
    flags: MsFlags,
    data: Option<&str>,
) -> Result<(), SetupError> {
    mount(Some(fstype), &target.proc_path(), Some(fstype), flags, data).map_err(|e| {
        SetupError::new(format!(
            "failed to mount {fstype} on {} in the container: {e}",
            target.shown.display()
        ))
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::fs;
    use std::os::unix::fs::symlink;

    /// Where an fd leads, as a path on the host.
    fn where_is(fd: &OwnedFd) -> PathBuf {
        fs::read_link(proc_fd_path(fd.as_fd())).unwrap()
    }

    fn image_with_links() -> tempfile::TempDir {
        let root = tempfile::tempdir().unwrap();
        let r = root.path();
        fs::create_dir_all(r.join("real/sub")).unwrap();
        fs::create_dir_all(r.join("etc")).unwrap();
        symlink("/etc", r.join("abs")).unwrap();
        symlink("../../..", r.join("real/up")).unwrap();
        symlink("real", r.join("rel")).unwrap();
        root
    }

    #[test]
    fn symlinks_resolve_inside_the_root_with_openat2_and_without() {
        let root = image_with_links();
        let r = root.path();
        let held = Root::open(r).unwrap();
        for (path, expected) in [
            ("/abs", r.join("etc")),
            ("/real/up/etc", r.join("etc")),
            ("/rel/sub", r.join("real/sub")),
            ("/../../real", r.join("real")),
            ("/", r.to_path_buf()),
        ] {
            let rel = relative(Path::new(path));
            let by_openat2 = lookup(held.fd(), &rel).unwrap();
            let by_walk = walk(held.fd(), &rel).unwrap();
            assert_eq!(where_is(&by_openat2), expected, "openat2: {path}");
            assert_eq!(where_is(&by_walk), expected, "walk: {path}");
        }
    }

    #[test]
    fn symlink_loops_stop_and_long_chains_never_leave() {
        let root = tempfile::tempdir().unwrap();
        let r = root.path();
        symlink("b", r.join("a")).unwrap();
        symlink("a", r.join("b")).unwrap();
        for i in 0..45 {
            symlink(format!("l{}", i + 1), r.join(format!("l{i}"))).unwrap();
        }
        symlink("/tmp", r.join("l45")).unwrap();
        let held = Root::open(r).unwrap();
        for path in ["a/x", "l0"] {
            assert_eq!(lookup(held.fd(), Path::new(path)).unwrap_err(), Errno::LOOP);
            assert_eq!(walk(held.fd(), Path::new(path)).unwrap_err(), Errno::LOOP);
        }
        assert!(held.ensure(Path::new("/l0/f"), Kind::File).is_err());
    }

    #[test]
    fn missing_targets_are_created_inside_the_root_through_symlinks() {
        for how in [Lookup::Openat2, Lookup::Walk] {
            created_inside_the_root(how);
        }
    }

    fn created_inside_the_root(how: Lookup) {
        let root = image_with_links();
        let r = root.path();
        let held = Root::open_with(r, how).unwrap();
        let dir = held.ensure(Path::new("/abs/new/dir"), Kind::Dir).unwrap();
        assert_eq!(where_is(&dir.fd), r.join("etc/new/dir"));
        let file = held.ensure(Path::new("/rel/sub/file"), Kind::File).unwrap();
        assert_eq!(where_is(&file.fd), r.join("real/sub/file"));
        assert!(r.join("real/sub/file").is_file());
        // Existing entries are found, not created again.
        let again = held
            .ensure(Path::new("/real/sub/file"), Kind::File)
            .unwrap();
        assert_eq!(where_is(&again.fd), r.join("real/sub/file"));
    }

    #[test]
    fn an_entry_of_the_wrong_kind_is_refused() {
        let root = image_with_links();
        let held = Root::open(root.path()).unwrap();
        held.ensure(Path::new("/file"), Kind::File).unwrap();
        let err = held.ensure(Path::new("/file"), Kind::Dir).err().unwrap();
        assert!(
            err.message.contains("is not a directory"),
            "{}",
            err.message
        );
        let err = held.ensure(Path::new("/real"), Kind::File).err().unwrap();
        assert!(err.message.contains("is a directory"), "{}", err.message);
        let err = held
            .ensure(Path::new("/file/below"), Kind::Dir)
            .err()
            .unwrap();
        assert!(!err.message.is_empty());
    }

    #[test]
    fn a_dangling_symlink_is_refused_not_followed() {
        for how in [Lookup::Openat2, Lookup::Walk] {
            let root = tempfile::tempdir().unwrap();
            let outside = tempfile::tempdir().unwrap();
            let gone = outside.path().join("gone");
            symlink(&gone, root.path().join("dangling")).unwrap();
            let held = Root::open_with(root.path(), how).unwrap();
            assert!(held.ensure(Path::new("/dangling/x"), Kind::Dir).is_err());
            assert!(held.ensure(Path::new("/dangling"), Kind::File).is_err());
            assert!(!gone.exists(), "created outside the root ({how:?})");
        }
    }
}
