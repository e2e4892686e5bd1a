//! The container's filesystem: its writable root, the special filesystems,
//! masked paths, and the switch into the new root with `pivot_root`.
//!
//! Every function here runs in the container's first process, inside its new
//! mount namespace, so every mount disappears with the container: nothing is
//! ever mounted on the host.

use super::spec::Volume;
use super::SetupError;
use nix::mount::{mount, umount2, MntFlags, MsFlags};
use nix::sys::stat::Mode;
use nix::unistd::{chdir, pivot_root};
use std::fs;
use std::os::unix::fs::{symlink, DirBuilderExt};
use std::path::{Component, Path, PathBuf};

/// Files masked with /dev/null and directories masked with an empty read-only
/// tmpfs: runc's list plus Docker's two additions (../shared/REFERENCE.md).
const MASKED_PATHS: [&str; 12] = [
    "proc/acpi",
    "proc/asound",
    "proc/kcore",
    "proc/keys",
    "proc/latency_stats",
    "proc/timer_list",
    "proc/timer_stats",
    "proc/sched_debug",
    "proc/scsi",
    "proc/interrupts",
    "sys/firmware",
    "sys/devices/virtual/powercap",
];

/// Kernel interfaces the container may read but not change.
const READ_ONLY_PATHS: [&str; 5] = [
    "proc/bus",
    "proc/fs",
    "proc/irq",
    "proc/sys",
    "proc/sysrq-trigger",
];

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

/// Binds a host directory (or file) into the container, read-only when asked,
/// always nodev and nosuid.
///
/// The bind is not recursive: mounts below the host directory are not
/// carried into the container. A remount changes only one mount, so a
/// recursive bind would leave those submounts writable and with devices
/// usable, whatever `:ro` says.
pub fn bind(host: &Path, target: &Path, read_only: bool) -> Result<(), SetupError> {
    do_mount(
        Some(&host.to_string_lossy()),
        target,
        None,
        MsFlags::MS_BIND,
        None,
        &format!("a bind of {}", host.display()),
    )?;
    let mut flags = MsFlags::MS_NODEV | MsFlags::MS_NOSUID;
    if read_only {
        flags |= MsFlags::MS_RDONLY;
    }
    remount_bind(target, flags)
}

/// Binds the built-in image's host directories (/usr, /lib ...) read-only.
pub fn bind_host_dirs(root: &Path, dirs: &[PathBuf]) -> Result<(), SetupError> {
    for dir in dirs {
        let target = ensure_dir(root, dir)?;
        bind(dir, &target, true)?;
    }
    Ok(())
}

/// Binds each `-v HOSTDIR:CTRDIR[:ro]`, creating the target inside the root.
pub fn bind_volumes(root: &Path, volumes: &[Volume]) -> Result<(), SetupError> {
    for volume in volumes {
        let target = if volume.host.is_dir() {
            ensure_dir(root, &volume.container)?
        } else {
            ensure_file(root, &volume.container)?
        };
        bind(&volume.host, &target, volume.read_only)?;
    }
    Ok(())
}

/// /proc, /dev (with its nodes, devpts, shm, mqueue), /sys read-only.
pub fn mount_special_filesystems(root: &Path, console: Option<&Path>) -> Result<(), SetupError> {
    // As runc does: the kernel's filesystems go on real directories of the
    // image, never through a symlink, so that masking /proc/kcore and making
    // /proc/sys read-only below act on the mounts made here.
    for dir in ["proc", "sys", "dev"] {
        if let Ok(meta) = fs::symlink_metadata(root.join(dir)) {
            if !meta.is_dir() {
                return Err(SetupError::new(format!(
                    "the image's /{dir} is not a directory (a symlink?): refusing to mount {dir} there"
                )));
            }
        }
    }
    let nosuid_noexec_nodev = MsFlags::MS_NOSUID | MsFlags::MS_NOEXEC | MsFlags::MS_NODEV;

    let proc_dir = ensure_dir(root, Path::new("/proc"))?;
    do_mount(
        Some("proc"),
        &proc_dir,
        Some("proc"),
        nosuid_noexec_nodev,
        None,
        "proc",
    )?;

    // /dev is nodev: a node the container makes there (it keeps CAP_MKNOD)
    // cannot be opened. The real nodes are bind mounts of the host's, each
    // its own mount and so not affected by nodev.
    let dev = ensure_dir(root, Path::new("/dev"))?;
    do_mount(
        Some("tmpfs"),
        &dev,
        Some("tmpfs"),
        MsFlags::MS_NOSUID | MsFlags::MS_STRICTATIME | MsFlags::MS_NODEV,
        Some("mode=755,size=65536k"),
        "tmpfs /dev",
    )?;
    for name in DEVICES {
        let node = dev.join(name);
        create_empty_file(&node)?;
        let host = Path::new("/dev").join(name);
        do_mount(
            Some(&host.to_string_lossy()),
            &node,
            None,
            MsFlags::MS_BIND,
            None,
            &format!("the device {}", host.display()),
        )?;
    }
    let pts = make_dir(&dev.join("pts"), 0o755)?;
    do_mount(
        Some("devpts"),
        &pts,
        Some("devpts"),
        MsFlags::MS_NOSUID | MsFlags::MS_NOEXEC,
        Some("newinstance,ptmxmode=0666,mode=0620,gid=5"),
        "devpts",
    )?;
    let shm = make_dir(&dev.join("shm"), 0o1777)?;
    do_mount(
        Some("shm"),
        &shm,
        Some("tmpfs"),
        nosuid_noexec_nodev,
        Some("mode=1777,size=65536k"),
        "tmpfs /dev/shm",
    )?;
    let mqueue = make_dir(&dev.join("mqueue"), 0o755)?;
    do_mount(
        Some("mqueue"),
        &mqueue,
        Some("mqueue"),
        nosuid_noexec_nodev,
        None,
        "mqueue",
    )?;
    for (link, target) in [
        ("ptmx", "pts/ptmx"),
        ("fd", "/proc/self/fd"),
        ("stdin", "/proc/self/fd/0"),
        ("stdout", "/proc/self/fd/1"),
        ("stderr", "/proc/self/fd/2"),
    ] {
        let path = dev.join(link);
        symlink(target, &path)
            .map_err(|e| SetupError::new(format!("failed to create {}: {e}", path.display())))?;
    }
    if let Some(console) = console {
        let node = dev.join("console");
        create_empty_file(&node)?;
        do_mount(
            Some(&console.to_string_lossy()),
            &node,
            None,
            MsFlags::MS_BIND,
            None,
            "the console",
        )?;
    }

    let sys = ensure_dir(root, Path::new("/sys"))?;
    let sys_flags = nosuid_noexec_nodev | MsFlags::MS_RDONLY;
    if mount(Some("sysfs"), &sys, Some("sysfs"), sys_flags, None::<&str>).is_err() {
        // A fresh sysfs needs a network namespace of our own; with
        // --network host, bind the host's /sys read-only as runc does.
        // Not recursive: the host's cgroup and other mounts under /sys
        // must not come along, writable.
        do_mount(Some("/sys"), &sys, None, MsFlags::MS_BIND, None, "/sys")?;
        remount_bind(&sys, sys_flags)?;
    }
    Ok(())
}

/// Hides and freezes the kernel interfaces a container must not use.
pub fn mask_kernel_paths(root: &Path) -> Result<(), SetupError> {
    for path in MASKED_PATHS {
        let target = root.join(path);
        let Ok(meta) = fs::symlink_metadata(&target) else {
            continue;
        };
        if meta.is_dir() {
            do_mount(
                Some("tmpfs"),
                &target,
                Some("tmpfs"),
                MsFlags::MS_RDONLY | MsFlags::MS_NOSUID | MsFlags::MS_NODEV | MsFlags::MS_NOEXEC,
                None,
                "a masking tmpfs",
            )?;
        } else {
            do_mount(
                Some("/dev/null"),
                &target,
                None,
                MsFlags::MS_BIND,
                None,
                "/dev/null",
            )?;
        }
    }
    for path in READ_ONLY_PATHS {
        let target = root.join(path);
        if !target.exists() {
            continue;
        }
        let target_str = target.to_string_lossy().into_owned();
        do_mount(
            Some(target_str.as_str()),
            &target,
            None,
            MsFlags::MS_BIND,
            None,
            "a read-only bind",
        )?;
        remount_bind(
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
pub fn pivot_into(root: &Path) -> Result<(), SetupError> {
    chdir(root).map_err(|e| SetupError::new(format!("failed to enter {}: {e}", root.display())))?;
    pivot_root(".", ".").map_err(|e| {
        SetupError::new(format!("failed to pivot_root into {}: {e}", root.display()))
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

/// Resolves `path` as the container will see it, following symlinks inside
/// `root` only: an image's `/data -> /etc` symlink leads to `root/etc`, never
/// to the host's /etc. The result always lies under `root`; a chain of more
/// than 40 links is refused, as the kernel refuses it (ELOOP), rather than
/// handed to the kernel, which would follow it from the host's root.
pub fn resolve_in_root(root: &Path, path: &Path) -> Result<PathBuf, SetupError> {
    let mut resolved = PathBuf::new();
    let mut pending: Vec<PathBuf> = path
        .components()
        .rev()
        .map(|c| PathBuf::from(c.as_os_str()))
        .collect();
    let mut links_followed = 0;
    while let Some(part) = pending.pop() {
        match Path::new(&part).components().next() {
            None | Some(Component::RootDir) | Some(Component::CurDir) => continue,
            Some(Component::ParentDir) => {
                resolved.pop();
                continue;
            }
            _ => {}
        }
        let candidate = root.join(&resolved).join(&part);
        match fs::read_link(&candidate) {
            Ok(_) if links_followed >= 40 => {
                return Err(SetupError::new(format!(
                    "too many levels of symbolic links in the image at {}",
                    path.display()
                )))
            }
            Ok(target) => {
                links_followed += 1;
                if target.is_absolute() {
                    resolved.clear();
                }
                pending.extend(
                    target
                        .components()
                        .rev()
                        .map(|c| PathBuf::from(c.as_os_str())),
                );
            }
            Err(_) => resolved.push(&part),
        }
    }
    Ok(root.join(resolved))
}

fn make_dir(path: &Path, mode: u32) -> Result<PathBuf, SetupError> {
    match fs::DirBuilder::new().mode(mode).create(path) {
        Ok(()) => {
            // The umask may have narrowed the mode (1777 for /dev/shm).
            let _ = nix::sys::stat::fchmodat(
                None,
                path,
                Mode::from_bits_truncate(mode),
                nix::sys::stat::FchmodatFlags::FollowSymlink,
            );
            Ok(path.to_path_buf())
        }
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => Ok(path.to_path_buf()),
        Err(e) => Err(SetupError::new(format!(
            "failed to create {}: {e}",
            path.display()
        ))),
    }
}

/// The directory at `path` inside `root`, created if missing.
fn ensure_dir(root: &Path, path: &Path) -> Result<PathBuf, SetupError> {
    let target = resolve_in_root(root, path)?;
    fs::DirBuilder::new()
        .recursive(true)
        .mode(0o755)
        .create(&target)
        .map_err(|e| SetupError::new(format!("failed to create {}: {e}", target.display())))?;
    Ok(target)
}

/// A file at `path` inside `root` to bind a file on, created if missing.
fn ensure_file(root: &Path, path: &Path) -> Result<PathBuf, SetupError> {
    let target = resolve_in_root(root, path)?;
    if let Some(parent) = target.parent() {
        fs::create_dir_all(parent)
            .map_err(|e| SetupError::new(format!("failed to create {}: {e}", parent.display())))?;
    }
    if !target.exists() {
        create_empty_file(&target)?;
    }
    Ok(target)
}

fn create_empty_file(path: &Path) -> Result<(), SetupError> {
    fs::File::create(path)
        .map(drop)
        .map_err(|e| SetupError::new(format!("failed to create {}: {e}", path.display())))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn symlinks_resolve_inside_the_root() {
        let root = tempfile::tempdir().unwrap();
        let r = root.path();
        fs::create_dir_all(r.join("real")).unwrap();
        symlink("/etc", r.join("abs")).unwrap();
        symlink("../../..", r.join("real/up")).unwrap();
        symlink("real", r.join("rel")).unwrap();
        assert_eq!(
            resolve_in_root(r, Path::new("/abs/passwd")).unwrap(),
            r.join("etc/passwd")
        );
        assert_eq!(
            resolve_in_root(r, Path::new("/real/up/x")).unwrap(),
            r.join("x")
        );
        assert_eq!(
            resolve_in_root(r, Path::new("/rel/y")).unwrap(),
            r.join("real/y")
        );
        assert_eq!(
            resolve_in_root(r, Path::new("/../../z")).unwrap(),
            r.join("z")
        );
    }

    #[test]
    fn symlink_loops_stop() {
        let root = tempfile::tempdir().unwrap();
        let r = root.path();
        symlink("b", r.join("a")).unwrap();
        symlink("a", r.join("b")).unwrap();
        assert!(resolve_in_root(r, Path::new("/a/x")).is_err());
        // A long chain that ends outside is refused, never followed on the host.
        for i in 0..45 {
            symlink(format!("l{}", i + 1), r.join(format!("l{i}"))).unwrap();
        }
        symlink("/tmp/outside", r.join("l45")).unwrap();
        assert!(resolve_in_root(r, Path::new("/l0")).is_err());
    }
}
