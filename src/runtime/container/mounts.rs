//! The container's filesystem: its writable root, the special filesystems,
//! masked paths, and the switch into the new root with `pivot_root`.
//!
//! Every function here runs in the container's first process, inside its new
//! mount namespace, so every mount disappears with the container: nothing is
//! ever mounted on the host. Every target inside the root is found and
//! created by fd through `resolve`, never walked by path (CVE-2021-30465).

use super::resolve::{self, Kind, Root};
use super::spec::{KernelPaths, Volume};
use super::SetupError;
use nix::mount::{mount, umount2, MntFlags, MsFlags};
use nix::unistd::{chdir, pivot_root};
use std::path::{Path, PathBuf};

/// The device nodes every container gets, bound from the host's /dev.
const DEVICES: [&str; 6] = ["null", "zero", "full", "random", "urandom", "tty"];

fn mount_err(what: &str, target: &Path, errno: nix::Error) -> SetupError {
    SetupError::new(format!(
        "failed to mount {what} on {}: {errno}",
        target.display()
    ))
}

fn do_mount(
    source: Option<&str>,
    target: &Path,
    fstype: Option<&str>,
    flags: MsFlags,
    data: Option<&str>,
    what: &str,
) -> Result<(), SetupError> {
    mount(source, target, fstype, flags, data).map_err(|e| mount_err(what, target, e))
}

/// Stops mount events from flowing back to the host: the container's mounts
/// stay in its namespace, the host's later mounts still reach it.
pub fn make_root_slave() -> Result<(), SetupError> {
    do_mount(
        None,
        Path::new("/"),
        None,
        MsFlags::MS_SLAVE | MsFlags::MS_REC,
        None,
        "rslave propagation",
    )
}

/// Mounts the container's writable root: an overlay whose lower layer is the
/// image and whose upper and work dirs belong to this container. Returns
/// `false` when overlayfs cannot be used here, so the caller can fall back.
pub fn mount_overlay(
    lower: &Path,
    upper: &Path,
    work: &Path,
    target: &Path,
) -> Result<bool, SetupError> {
    let data = format!(
        "lowerdir={},upperdir={},workdir={}",
        lower.display(),
        upper.display(),
        work.display()
    );
    match mount(
        Some("overlay"),
        target,
        Some("overlay"),
        MsFlags::MS_NODEV,
        Some(data.as_str()),
    ) {
        Ok(()) => Ok(true),
        Err(nix::Error::ENODEV) | Err(nix::Error::EINVAL) => Ok(false),
        Err(e) => Err(mount_err("the overlay root", target, e)),
    }
}

/// The fallback root when overlayfs is unavailable: a private copy of the
/// image in the upper dir, bound on the target.
pub fn mount_copied_root(lower: &Path, upper: &Path, target: &Path) -> Result<(), SetupError> {
    crate::runtime::image::copy_tree(lower, upper).map_err(|e| {
        SetupError::new(format!("failed to copy the image {}: {e}", lower.display()))
    })?;
    do_mount(
        Some(&upper.to_string_lossy()),
        target,
        None,
        MsFlags::MS_BIND,
        None,
        "the copied root",
    )?;
    remount_bind(target, MsFlags::MS_NODEV)
}

fn remount_bind(target: &Path, flags: MsFlags) -> Result<(), SetupError> {
    do_mount(
        None,
        target,
        None,
        MsFlags::MS_BIND | MsFlags::MS_REMOUNT | flags,
        None,
        "a remount",
    )
}

/// The flags every bind into the container gets: never devices, never
/// setuid, read-only when asked.
///
/// The bind is not recursive: mounts below the host directory are not
/// carried into the container. A remount changes only one mount, so a
/// recursive bind would leave those submounts writable and with devices
/// usable, whatever `:ro` says.
fn bind_flags(read_only: bool) -> MsFlags {
    let mut flags = MsFlags::MS_NODEV | MsFlags::MS_NOSUID;
    if read_only {
        flags |= MsFlags::MS_RDONLY;
    }
    flags
}

/// Binds the built-in image's host directories (/usr, /lib ...) read-only.
pub fn bind_host_dirs(root: &Root, dirs: &[PathBuf]) -> Result<(), SetupError> {
    for dir in dirs {
        let source = resolve::open_source(dir)?;
        let target = root.ensure(dir, Kind::Dir)?;
        resolve::bind_fd(&source, &target, bind_flags(true))?;
    }
    Ok(())
}

/// Binds each `-v HOST:CTR[:ro]`, creating the target inside the root. The
/// host side is opened once, so its type and what is bound are the same.
pub fn bind_volumes(root: &Root, volumes: &[Volume]) -> Result<(), SetupError> {
    for volume in volumes {
        let source = resolve::open_source(&volume.host)?;
        let target = root.ensure(&volume.container, source.kind()?)?;
        resolve::bind_fd(&source, &target, bind_flags(volume.read_only))?;
    }
    Ok(())
}

/// /proc, /dev (with its nodes, devpts, shm, mqueue), /sys read-only.
pub fn mount_special_filesystems(root: &Root, console: Option<&Path>) -> Result<(), SetupError> {
    // As runc does: the kernel's filesystems go on real directories of the
    // image, never through a symlink, so that masking /proc/kcore and making
    // /proc/sys read-only below act on the mounts made here.
    for dir in ["proc", "sys", "dev"] {
        if root.is_symlink_or_not_dir(dir) {
            return Err(SetupError::new(format!(
                "the image's /{dir} is not a directory (a symlink?): refusing to mount {dir} there"
            )));
        }
    }
    let nosuid_noexec_nodev = MsFlags::MS_NOSUID | MsFlags::MS_NOEXEC | MsFlags::MS_NODEV;

    let proc_dir = root.ensure(Path::new("/proc"), Kind::Dir)?;
    resolve::mount_fs("proc", &proc_dir, nosuid_noexec_nodev, None)?;

    // /dev is nodev: a node the container makes there (it keeps CAP_MKNOD)
    // cannot be opened. The real nodes are bind mounts of the host's, each
    // its own mount and so not affected by nodev.
    let dev = root.ensure(Path::new("/dev"), Kind::Dir)?;
    resolve::mount_fs(
        "tmpfs",
        &dev,
        MsFlags::MS_NOSUID | MsFlags::MS_STRICTATIME | MsFlags::MS_NODEV,
        Some("mode=755,size=65536k"),
    )?;
    for name in DEVICES {
        let host = resolve::open_source(&Path::new("/dev").join(name))?;
        let node = root.ensure(&Path::new("/dev").join(name), Kind::File)?;
        resolve::bind_fd(&host, &node, MsFlags::empty())?;
    }
    let pts = root.ensure(Path::new("/dev/pts"), Kind::Dir)?;
    resolve::mount_fs(
        "devpts",
        &pts,
        MsFlags::MS_NOSUID | MsFlags::MS_NOEXEC,
        Some("newinstance,ptmxmode=0666,mode=0620,gid=5"),
    )?;
    let shm = root.ensure(Path::new("/dev/shm"), Kind::Dir)?;
    resolve::mount_fs(
        "tmpfs",
        &shm,
        nosuid_noexec_nodev,
        Some("mode=1777,size=65536k"),
    )?;
    let mqueue = root.ensure(Path::new("/dev/mqueue"), Kind::Dir)?;
    resolve::mount_fs("mqueue", &mqueue, nosuid_noexec_nodev, None)?;
    // The new tmpfs, looked up again: `dev` is the directory beneath it.
    let dev = root.ensure(Path::new("/dev"), Kind::Dir)?;
    for (link, target) in [
        ("ptmx", "pts/ptmx"),
        ("fd", "/proc/self/fd"),
        ("stdin", "/proc/self/fd/0"),
        ("stdout", "/proc/self/fd/1"),
        ("stderr", "/proc/self/fd/2"),
    ] {
        rustix::fs::symlinkat(target, &dev.fd, link).map_err(|e| {
            SetupError::new(format!(
                "failed to create /dev/{link} in the container: {}",
                std::io::Error::from_raw_os_error(e.raw_os_error())
            ))
        })?;
    }
    if let Some(console) = console {
        let pty = resolve::open_source(console)?;
        let node = root.ensure(Path::new("/dev/console"), Kind::File)?;
        resolve::bind_fd(&pty, &node, MsFlags::empty())?;
    }

    let sys = root.ensure(Path::new("/sys"), Kind::Dir)?;
    let sys_flags = nosuid_noexec_nodev | MsFlags::MS_RDONLY;
    if resolve::mount_fs("sysfs", &sys, sys_flags, None).is_err() {
        // A fresh sysfs needs a network namespace of our own; with
        // --network host, bind the host's /sys read-only as runc does.
        // Not recursive: the host's cgroup and other mounts under /sys
        // must not come along, writable.
        let host_sys = resolve::open_source(Path::new("/sys"))?;
        resolve::bind_fd(&host_sys, &sys, sys_flags)?;
    }
    Ok(())
}

/// Hides the kernel interfaces a container must not use (`masked`: files
/// under /dev/null, directories under an empty read-only tmpfs) and freezes
/// those it may only read (`read_only`). Both lists come from the spec;
/// `KernelPaths::default()` is Docker's.
pub fn mask_kernel_paths(root: &Root, paths: &KernelPaths) -> Result<(), SetupError> {
    let null = resolve::open_source(Path::new("/dev/null"))?;
    for path in &paths.masked {
        let Some(target) = root.open_existing(path)? else {
            continue;
        };
        if target.kind()? == Kind::Dir {
            resolve::mount_fs(
                "tmpfs",
                &target,
                MsFlags::MS_RDONLY | MsFlags::MS_NOSUID | MsFlags::MS_NODEV | MsFlags::MS_NOEXEC,
                None,
            )?;
        } else {
            resolve::bind_fd(&null, &target, MsFlags::empty())?;
        }
    }
    for path in &paths.read_only {
        let Some(target) = root.open_existing(path)? else {
            continue;
        };
        resolve::bind_fd(
            &target,
            &target,
            MsFlags::MS_RDONLY | MsFlags::MS_NOSUID | MsFlags::MS_NODEV | MsFlags::MS_NOEXEC,
        )?;
    }
    Ok(())
}

/// Makes `root` the container's `/` and detaches the host's root.
///
/// `pivot_root(".", ".")` stacks the old root on top of the new one at the
/// same place; unmounting "." then removes the old root, with no need for a
/// directory to hold it inside the container.
pub fn pivot_into(root: &Root) -> Result<(), SetupError> {
    rustix::process::fchdir(root.fd()).map_err(|e| {
        SetupError::new(format!(
            "failed to enter the container's root: {}",
            std::io::Error::from_raw_os_error(e.raw_os_error())
        ))
    })?;
    pivot_root(".", ".").map_err(|e| {
        SetupError::new(format!(
            "failed to pivot_root into the container's root: {e}"
        ))
    })?;
    // The old root must not pass the unmount on to the host's mounts.
    do_mount(
        None,
        Path::new("."),
        None,
        MsFlags::MS_SLAVE | MsFlags::MS_REC,
        None,
        "rslave old root",
    )?;
    umount2(".", MntFlags::MNT_DETACH)
        .map_err(|e| SetupError::new(format!("failed to detach the host's root: {e}")))?;
    chdir("/").map_err(|e| SetupError::new(format!("failed to enter the new root: {e}")))
}

/// `--read-only`: the root becomes read-only once everything is mounted.
pub fn make_root_read_only() -> Result<(), SetupError> {
    remount_bind(Path::new("/"), MsFlags::MS_RDONLY | MsFlags::MS_NODEV)
}
