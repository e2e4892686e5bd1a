//! The built-in `host` image: the host's own programs and libraries, with
//! nothing to import.
//!
//! Its rootfs is only a skeleton: a directory or symlink for each of the
//! host's /usr, /bin, /lib ..., the usual empty top-level directories and a
//! minimal generated /etc. The container setup bind-mounts the host's real
//! directories (`Image::host_binds`) read-only over the empty ones, so the
//! container runs the host's binaries without seeing the host's /etc,
//! /home or /var.

use std::fs;
use std::io;
use std::os::unix::fs::{DirBuilderExt, PermissionsExt};
use std::path::Path;

use super::{is_real_dir, Image, ImageError, TempDir, HOST_IMAGE};

/// Host directories the container gets: a symlink stays a symlink (merged
/// /usr: /bin -> usr/bin), a real directory is bind-mounted.
const HOST_DIRS: [&str; 7] = ["usr", "bin", "sbin", "lib", "lib32", "lib64", "libx32"];

/// Empty directories every container expects, with their usual modes.
const EMPTY_DIRS: [(&str, u32); 11] = [
    ("etc", 0o755),
    ("proc", 0o555),
    ("sys", 0o555),
    ("dev", 0o755),
    ("tmp", 0o1777),
    ("root", 0o700),
    ("home", 0o755),
    ("run", 0o755),
    ("var", 0o755),
    ("var/tmp", 0o1777),
    ("mnt", 0o755),
];

// The generated /etc is data, kept in assets/ and built into the binary.
const PASSWD: &str = include_str!("../../../assets/host-etc/passwd");
const GROUP: &str = include_str!("../../../assets/host-etc/group");
const HOSTS: &str = include_str!("../../../assets/host-etc/hosts");
const NSSWITCH: &str = include_str!("../../../assets/host-etc/nsswitch.conf");
const FALLBACK_RESOLV: &str = "nameserver 127.0.0.1\n";

/// Opens the `host` image of the store `store`, generating its skeleton
/// from `host_root` (`/` outside tests) on first use.
pub(super) fn open(store: &Path, host_root: &Path) -> Result<Image, ImageError> {
    let image_dir = store.join(HOST_IMAGE);
    let rootfs = image_dir.join("rootfs");
    if !is_real_dir(&rootfs) {
        generate(store, &image_dir, host_root)?;
    }
    // Bind only what is a real directory on both sides: a host symlink was
    // copied as a symlink, and a directory the host lost since the skeleton
    // was made has nothing to bind.
    let host_binds = HOST_DIRS
        .iter()
        .filter(|name| is_real_dir(&host_root.join(name)) && is_real_dir(&rootfs.join(name)))
        .map(|name| host_root.join(name))
        .collect();
    Ok(Image {
        name: HOST_IMAGE.to_string(),
        rootfs,
        host_binds,
    })
}

/// Builds the skeleton in a temporary directory and renames it into
/// place, so that two hako processes starting at once cannot see or make
/// a half-built one.
fn generate(store: &Path, image_dir: &Path, host_root: &Path) -> Result<(), ImageError> {
    let temp = TempDir::create(store, ".host")?;
    build(&temp.path.join("rootfs"), host_root)
        .map_err(|e| ImageError::io("generating the built-in host image in", &temp.path, e))?;
    match fs::rename(&temp.path, image_dir) {
        Ok(()) => {
            temp.keep();
            Ok(())
        }
        // Another process won the race; its skeleton is as good as ours,
        // and ours is deleted when `temp` drops.
        Err(_) if is_real_dir(&image_dir.join("rootfs")) => Ok(()),
        Err(e) => Err(ImageError::io(
            "installing the built-in host image (remove that directory and retry)",
            image_dir,
            e,
        )),
    }
}

fn build(rootfs: &Path, host_root: &Path) -> io::Result<()> {
    make_dir(rootfs, 0o755)?;
    for name in HOST_DIRS {
        let host = host_root.join(name);
        let meta = match fs::symlink_metadata(&host) {
            Ok(meta) => meta,
            Err(e) if e.kind() == io::ErrorKind::NotFound => continue,
            Err(e) => return Err(context("reading", &host, e)),
        };
        let inside = rootfs.join(name);
        if meta.file_type().is_symlink() {
            let target = fs::read_link(&host).map_err(|e| context("reading", &host, e))?;
            std::os::unix::fs::symlink(target, &inside)
                .map_err(|e| context("creating symlink", &inside, e))?;
        } else if meta.is_dir() {
            make_dir(&inside, 0o755)?;
        }
    }
    for (name, mode) in EMPTY_DIRS {
        make_dir(&rootfs.join(name), mode)?;
    }

    // With `--network none` the file is unused; otherwise the host's
    // resolvers are the ones the container can reach.
    let resolv = fs::read(host_root.join("etc/resolv.conf"))
        .unwrap_or_else(|_| FALLBACK_RESOLV.as_bytes().to_vec());
    let etc = rootfs.join("etc");
    let files: [(&str, &[u8]); 5] = [
        ("passwd", PASSWD.as_bytes()),
        ("group", GROUP.as_bytes()),
        ("hosts", HOSTS.as_bytes()),
        ("nsswitch.conf", NSSWITCH.as_bytes()),
        ("resolv.conf", &resolv),
    ];
    for (name, contents) in files {
        let path = etc.join(name);
        fs::write(&path, contents).map_err(|e| context("writing", &path, e))?;
        set_mode(&path, 0o644)?;
    }
    Ok(())
}

fn make_dir(path: &Path, mode: u32) -> io::Result<()> {
    fs::DirBuilder::new()
        .mode(0o700)
        .create(path)
        .map_err(|e| context("creating directory", path, e))?;
    // Explicitly, since mkdir's mode is filtered by the umask.
    set_mode(path, mode)
}

fn set_mode(path: &Path, mode: u32) -> io::Result<()> {
    fs::set_permissions(path, fs::Permissions::from_mode(mode))
        .map_err(|e| context("setting the mode of", path, e))
}

fn context(what: &str, path: &Path, e: io::Error) -> io::Error {
    io::Error::new(e.kind(), format!("{what} {}: {e}", path.display()))
}
