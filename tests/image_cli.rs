//! `hako image import|ls|rm` through the real binary. Needs root.

// A test stops at the first thing that is not as expected.
#![allow(clippy::unwrap_used)]

mod common;

use common::TestEnv;
use std::process::Command;

/// A busybox rootfs as `tar -C rootfs -c .` makes it, optionally compressed.
fn busybox_tarball(env: &TestEnv, compress: Option<&str>) -> Vec<u8> {
    let rootfs = env.root.path().join("rootfs-for-tar");
    common::build_busybox_rootfs(&rootfs);
    let out = Command::new("tar")
        .arg("-C")
        .arg(&rootfs)
        .args(["-c", "."])
        .output()
        .unwrap();
    assert!(out.status.success());
    std::fs::remove_dir_all(&rootfs).unwrap();
    match compress {
        None => out.stdout,
        Some(tool) => {
            let mut child = Command::new(tool)
                .arg("-c")
                .stdin(std::process::Stdio::piped())
                .stdout(std::process::Stdio::piped())
                .spawn()
                .unwrap();
            let mut stdin = child.stdin.take().unwrap();
            let data = out.stdout;
            let writer = std::thread::spawn(move || {
                use std::io::Write;
                stdin.write_all(&data).unwrap();
            });
            let out = child.wait_with_output().unwrap();
            writer.join().unwrap();
            out.stdout
        }
    }
}

#[test]
fn imports_a_tarball_from_stdin_and_runs_it() {
    let env = TestEnv::empty();
    let tar = busybox_tarball(&env, Some("gzip"));
    let out = env.hako_with_input(&["image", "import", "bb", "-"], &tar);
    assert_eq!(out.code, 0, "{}", out.stderr);
    let ls = env.hako(&["image", "ls"]);
    assert!(
        ls.stdout.contains("bb") && ls.stdout.contains("host"),
        "{}",
        ls.stdout
    );
    let run = env.hako(&["run", "--rm", "bb", "echo", "from-stdin"]);
    assert_eq!(run.stdout, "from-stdin\n", "{}", run.stderr);
    env.assert_clean();
}

#[test]
fn an_image_in_use_cannot_be_removed() {
    let env = TestEnv::new();
    let out = env.hako(&["run", "--name", "keeper", "busybox", "true"]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    let rm = env.hako(&["image", "rm", "busybox"]);
    assert_ne!(rm.code, 0);
    assert!(rm.stderr.contains("keeper"), "{}", rm.stderr);
    assert!(env.images_dir().join("busybox").exists());
    assert_eq!(env.hako(&["rm", "keeper"]).code, 0);
    assert_eq!(env.hako(&["image", "rm", "busybox"]).code, 0);
    assert!(!env.images_dir().join("busybox").exists());
    env.assert_clean();
}

#[test]
fn a_hostile_archive_is_refused_with_one_line_and_leaves_nothing() {
    let env = TestEnv::empty();
    let outside = tempfile::tempdir().unwrap();
    // A symlink to a directory outside, then a file written through it.
    let mut builder = tar::Builder::new(Vec::new());
    let mut link = tar::Header::new_gnu();
    link.set_entry_type(tar::EntryType::Symlink);
    link.set_size(0);
    link.set_mode(0o777);
    link.set_uid(0);
    link.set_gid(0);
    link.set_mtime(0);
    builder
        .append_link(&mut link, "evil", outside.path())
        .unwrap();
    let mut file = tar::Header::new_gnu();
    file.set_size(5);
    file.set_mode(0o644);
    file.set_uid(0);
    file.set_gid(0);
    file.set_mtime(0);
    builder
        .append_data(&mut file, "evil/owned", &b"owned"[..])
        .unwrap();
    let archive = builder.into_inner().unwrap();
    let path = env.root.path().join("evil.tar");
    std::fs::create_dir_all(env.root.path()).unwrap();
    std::fs::write(&path, archive).unwrap();

    let out = env.hako(&["image", "import", "evil", path.to_str().unwrap()]);
    assert_eq!(out.code, 125);
    assert_eq!(out.stderr.lines().count(), 1, "{}", out.stderr);
    assert!(out.stderr.contains("evil/owned"), "{}", out.stderr);
    assert!(!outside.path().join("owned").exists());
    let leftovers: Vec<_> = std::fs::read_dir(env.images_dir())
        .map(|d| d.flatten().map(|e| e.file_name()).collect())
        .unwrap_or_default();
    assert!(
        leftovers.iter().all(|n| n == "host"),
        "left in the store: {leftovers:?}"
    );
    env.assert_clean();
}
