//! The container's filesystem: its writable root, the special filesystems,
//! masked paths, and the switch into the new root with `pivot_root`.
//!
//! Every function here runs in the container's first process, inside its new
//! mount namespace, so every mount disappears with the container: nothing is
//! ever mounted on the host. Every target inside the root is found and
//! created by fd through `resolve`, never walked by path (CVE-2021-30465).

use super::resolve::{self, Kind, Root};
use super::SetupError;
use nix::mount::{mount, umount2, MntFlags, MsFlags};
use nix::unistd::{chdir, pivot_root};
use oci_spec::runtime::Mount;
use std::path::Path;

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

/// An OCI mount's options as mount(2) flags and the filesystem's data; the
/// options that are not flags (`mode=755`, `newinstance` ...) are the data.
struct MountOptions {
    flags: MsFlags,
    data: Option<String>,
    bind: bool,
}

fn mount_options(mount: &Mount) -> Result<MountOptions, SetupError> {
    let mut flags = MsFlags::empty();
    let mut data = Vec::new();
    let mut bind = mount.typ().as_deref() == Some("bind");
    for option in mount.options().iter().flatten() {
        match option.as_str() {
            "ro" => flags |= MsFlags::MS_RDONLY,
            "rw" | "suid" | "dev" | "exec" => {}
            "nosuid" => flags |= MsFlags::MS_NOSUID,
            "nodev" => flags |= MsFlags::MS_NODEV,
            "noexec" => flags |= MsFlags::MS_NOEXEC,
            "strictatime" => flags |= MsFlags::MS_STRICTATIME,
            "relatime" => flags |= MsFlags::MS_RELATIME,
            "noatime" => flags |= MsFlags::MS_NOATIME,
            "bind" => bind = true,
            // A remount changes one mount only: submounts of a recursive
            // bind would stay writable and with devices usable.
            "rbind" => {
                return Err(SetupError::new(format!(
                    "mount on {}: recursive binds (rbind) are not supported; use bind",
                    mount.destination().display()
                )))
            }
            other => data.push(other),
        }
    }
    // A bind has no filesystem to take data: an option hako does not know
    // (`nosymfollow`, a propagation such as `rslave`) would be dropped, and the
    // mount would give less than the Spec asked for.
    if bind && !data.is_empty() {
        return Err(SetupError::new(format!(
            "bind mount on {}: option {} is not supported",
            mount.destination().display(),
            data.join(",")
        )));
    }
    Ok(MountOptions {
        flags,
        data: (!data.is_empty()).then(|| data.join(",")),
        bind,
    })
}

/// Makes the Spec's mounts in their order, as bubblewrap runs its list of
/// operations: each bind from the source's fd onto its target's, each
/// filesystem (proc, tmpfs, devpts, mqueue, sysfs) on a target opened from
/// the held root. Binds are never recursive (see `mount_options`).
pub fn mount_all(root: &Root, mounts: &[Mount]) -> Result<(), SetupError> {
    for mount in mounts {
        let options = mount_options(mount)?;
        let destination = mount.destination();
        if options.bind {
            let source = mount.source().as_deref().ok_or_else(|| {
                SetupError::new(format!(
                    "the bind mount on {} has no source",
                    destination.display()
                ))
            })?;
            let source = resolve::open_source(source)?;
            let target = root.ensure(destination, source.kind()?)?;
            resolve::bind_fd(&source, &target, options.flags)?;
            continue;
        }
        let fstype = mount.typ().as_deref().unwrap_or("none");
        refuse_kernel_dir_on_symlink(root, destination)?;
        let target = root.ensure(destination, Kind::Dir)?;
        let mounted = resolve::mount_fs(fstype, &target, options.flags, options.data.as_deref());
        if mounted.is_err() && fstype == "sysfs" {
            // A fresh sysfs needs a network namespace of our own; with
            // --network host, bind the host's /sys read-only as runc does.
            // Not recursive: the host's cgroup and other mounts under /sys
            // must not come along, writable.
            let host_sys = resolve::open_source(Path::new("/sys"))?;
            resolve::bind_fd(&host_sys, &target, options.flags)?;
        } else {
            mounted?;
        }
    }
    Ok(())
}

/// As runc does: the kernel's filesystems go on real directories of the
/// image, never through a symlink, so that masking /proc/kcore and making
/// /proc/sys read-only below act on the mounts made here.
fn refuse_kernel_dir_on_symlink(root: &Root, destination: &Path) -> Result<(), SetupError> {
    for dir in ["proc", "sys", "dev"] {
        if destination == Path::new("/").join(dir) && root.is_symlink_or_not_dir(dir) {
            return Err(SetupError::new(format!(
                "the image's /{dir} is not a directory (a symlink?): refusing to mount {dir} there"
            )));
        }
    }
    Ok(())
}

/// The links every /dev has (ptmx to the new devpts instance, the stdio
/// links), then /dev/console bound to the container's terminal, if any.
pub fn make_dev_links(root: &Root, console: Option<&Path>) -> Result<(), SetupError> {
    // Looked up now: the tmpfs mounted on /dev, not the directory beneath it.
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
    Ok(())
}

/// Hides the kernel interfaces a container must not use (`masked`: files
/// under /dev/null, directories under an empty read-only tmpfs) and freezes
/// those it may only read (`read_only`): the Spec's linux.maskedPaths and
/// linux.readonlyPaths.
pub fn mask_kernel_paths(
    root: &Root,
    masked: &[String],
    read_only: &[String],
) -> Result<(), SetupError> {
    let null = resolve::open_source(Path::new("/dev/null"))?;
    for path in masked {
        let Some(target) = root.open_existing(Path::new(path))? else {
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
    for path in read_only {
        let Some(target) = root.open_existing(Path::new(path))? else {
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

#[cfg(test)]
mod tests {
    use super::*;

    fn with_options(typ: &str, options: &[&str]) -> Mount {
        let mut mount = Mount::default();
        mount
            .set_destination("/x".into())
            .set_typ(Some(typ.into()))
            .set_options(Some(options.iter().map(|o| o.to_string()).collect()));
        mount
    }

    #[test]
    fn options_split_into_flags_and_data() {
        let parsed = mount_options(&with_options(
            "devpts",
            &["nosuid", "noexec", "newinstance", "mode=0620", "gid=5"],
        ))
        .unwrap();
        assert_eq!(parsed.flags, MsFlags::MS_NOSUID | MsFlags::MS_NOEXEC);
        assert_eq!(parsed.data.as_deref(), Some("newinstance,mode=0620,gid=5"));
        assert!(!parsed.bind);

        let bind = mount_options(&with_options("none", &["bind", "ro", "nodev"])).unwrap();
        assert!(bind.bind);
        assert_eq!(bind.flags, MsFlags::MS_RDONLY | MsFlags::MS_NODEV);
        assert_eq!(bind.data, None);
        assert!(mount_options(&with_options("bind", &[])).unwrap().bind);
    }

    #[test]
    fn a_recursive_bind_is_refused() {
        let error = mount_options(&with_options("bind", &["rbind"]))
            .err()
            .unwrap();
        assert!(error.message.contains("rbind"), "{}", error.message);
    }

    #[test]
    fn a_bind_option_hako_does_not_know_is_refused_not_dropped() {
        for option in ["nosymfollow", "rslave", "shared"] {
            let error = mount_options(&with_options("bind", &["bind", "ro", option]))
                .err()
                .unwrap();
            assert!(error.message.contains(option), "{}", error.message);
        }
    }
}
