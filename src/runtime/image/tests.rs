//! Unit tests for the store internals; the public behaviour is covered by
//! tests/image_import.rs.

use super::*;
use std::os::unix::fs::{symlink, PermissionsExt};

/// A fake host root: merged-usr style /bin and /sbin, a real /usr and
/// /lib64, no /lib32, and its own resolv.conf.
fn fake_host(root: &Path, resolv: Option<&str>) {
    fs::create_dir_all(root.join("usr/bin")).unwrap();
    fs::create_dir_all(root.join("lib64")).unwrap();
    fs::write(root.join("lib64/ld.so"), "ld").unwrap();
    symlink("usr/bin", root.join("bin")).unwrap();
    symlink("usr/sbin", root.join("sbin")).unwrap();
    symlink("usr/lib", root.join("lib")).unwrap();
    fs::create_dir_all(root.join("etc")).unwrap();
    if let Some(resolv) = resolv {
        fs::write(root.join("etc/resolv.conf"), resolv).unwrap();
    }
}

fn names_in(dir: &Path) -> Vec<String> {
    let mut names: Vec<_> = fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

#[test]
fn host_skeleton_follows_the_host_layout() {
    let tmp = tempfile::tempdir().unwrap();
    let host_root = tmp.path().join("host-root");
    let store = tmp.path().join("store");
    fake_host(&host_root, Some("nameserver 10.1.2.3\n"));
    fs::create_dir(&store).unwrap();

    let image = host::open(&store, &host_root).unwrap();
    let rootfs = &image.rootfs;
    assert_eq!(image.name, "host");
    assert_eq!(
        image.host_binds,
        vec![host_root.join("usr"), host_root.join("lib64")]
    );
    for (link, target) in [("bin", "usr/bin"), ("sbin", "usr/sbin"), ("lib", "usr/lib")] {
        assert_eq!(fs::read_link(rootfs.join(link)).unwrap(), Path::new(target));
    }
    // Real host directories become empty mount points, not copies.
    assert!(is_real_dir(&rootfs.join("lib64")));
    assert_eq!(names_in(&rootfs.join("lib64")), Vec::<String>::new());
    assert!(fs::symlink_metadata(rootfs.join("lib32")).is_err());
    assert_eq!(
        names_in(rootfs),
        [
            "bin", "dev", "etc", "home", "lib", "lib64", "mnt", "proc", "root", "run", "sbin",
            "sys", "tmp", "usr", "var"
        ]
    );
    assert_eq!(
        names_in(&rootfs.join("etc")),
        ["group", "hosts", "nsswitch.conf", "passwd", "resolv.conf"]
    );
    assert_eq!(
        fs::read_to_string(rootfs.join("etc/resolv.conf")).unwrap(),
        "nameserver 10.1.2.3\n"
    );
    assert_eq!(
        fs::read_to_string(rootfs.join("etc/group")).unwrap(),
        "root:x:0:\ntty:x:5:\nnogroup:x:65534:\n"
    );
    assert!(fs::read_to_string(rootfs.join("etc/nsswitch.conf"))
        .unwrap()
        .contains("hosts: files dns"));
    let mode = |p: &str| fs::metadata(rootfs.join(p)).unwrap().permissions().mode() & 0o7777;
    assert_eq!(mode("tmp"), 0o1777);
    assert_eq!(mode("var/tmp"), 0o1777);
    assert_eq!(mode("root"), 0o700);
    assert_eq!(mode("etc/passwd"), 0o644);
    assert_eq!(names_in(&store), ["host"]);
}

#[test]
fn host_skeleton_falls_back_without_resolv_conf() {
    let tmp = tempfile::tempdir().unwrap();
    let host_root = tmp.path().join("host-root");
    fake_host(&host_root, None);
    let image = host::open(tmp.path(), &host_root).unwrap();
    assert_eq!(
        fs::read_to_string(image.rootfs.join("etc/resolv.conf")).unwrap(),
        "nameserver 127.0.0.1\n"
    );
}

#[test]
fn host_skeleton_is_generated_once_even_when_raced() {
    let tmp = tempfile::tempdir().unwrap();
    let host_root = tmp.path().join("host-root");
    let store = tmp.path().join("store");
    fake_host(&host_root, None);
    fs::create_dir(&store).unwrap();

    let barrier = std::sync::Barrier::new(8);
    let images: Vec<Image> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..8)
            .map(|_| {
                scope.spawn(|| {
                    barrier.wait();
                    host::open(&store, &host_root).unwrap()
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    for image in &images {
        assert_eq!(image.rootfs, store.join("host/rootfs"));
        assert_eq!(image.host_binds.len(), 2);
    }
    // Losers cleaned up their temporary skeletons.
    assert_eq!(names_in(&store), ["host"]);
    assert_eq!(names_in(&store.join("host")), ["rootfs"]);
    assert!(store.join("host/rootfs/etc/passwd").is_file());
}

#[test]
fn tree_size_counts_hard_links_once_and_ignores_symlinks() {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path();
    fs::create_dir(root.join("sub")).unwrap();
    fs::write(root.join("a"), [0u8; 100]).unwrap();
    fs::write(root.join("sub/b"), [0u8; 20]).unwrap();
    fs::hard_link(root.join("a"), root.join("sub/a-again")).unwrap();
    symlink("/usr", root.join("usr-link")).unwrap();
    assert_eq!(tree_size(root).unwrap(), 120);
}

#[test]
fn temp_dir_is_removed_unless_kept() {
    let tmp = tempfile::tempdir().unwrap();
    let dropped = TempDir::create(tmp.path(), ".import-x").unwrap();
    let dropped_path = dropped.path.clone();
    fs::create_dir_all(dropped_path.join("rootfs/deep")).unwrap();
    assert_eq!(
        fs::metadata(&dropped_path).unwrap().permissions().mode() & 0o777,
        0o700
    );
    drop(dropped);
    assert!(!dropped_path.exists());

    let kept = TempDir::create(tmp.path(), ".import-y").unwrap();
    let kept_path = kept.path.clone();
    kept.keep();
    assert!(kept_path.is_dir());
}

#[test]
fn name_errors_say_what_is_wrong() {
    let reason = |name: &str| match validate_name(name) {
        Err(ImageError::InvalidName { reason, .. }) => reason,
        other => panic!("{name:?}: {other:?}"),
    };
    assert_eq!(reason(""), "it is empty");
    assert_eq!(reason(".x"), "it starts with '.'");
    assert_eq!(reason(&"x".repeat(65)), "it is longer than 64 characters");
    assert_eq!(reason("a/b"), "it contains a character that is not allowed");
    assert!(validate_name("host").is_ok());
}
