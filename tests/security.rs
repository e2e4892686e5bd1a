//! Hostile images, host users and stale state: each case was a way out of
//! the container (or into it) found in review. Needs root.

// A test stops at the first thing that is not as expected.
#![allow(clippy::unwrap_used)]

mod common;

use common::TestEnv;
use std::os::unix::fs::{symlink, PermissionsExt};
use std::time::{Duration, Instant};

/// Imports a busybox image changed by `change(rootfs)` under `name`.
fn import_changed(env: &TestEnv, name: &str, change: impl FnOnce(&std::path::Path)) {
    let rootfs = env.root.path().join(format!("{name}-rootfs"));
    common::build_busybox_rootfs(&rootfs);
    change(&rootfs);
    let out = env.hako(&["image", "import", name, rootfs.to_str().unwrap()]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    std::fs::remove_dir_all(&rootfs).unwrap();
}

#[test]
fn an_image_whose_proc_is_a_symlink_is_refused() {
    let env = TestEnv::new();
    import_changed(&env, "evil", |rootfs| {
        std::fs::remove_dir(rootfs.join("proc")).unwrap();
        symlink("/p", rootfs.join("proc")).unwrap();
    });
    let out = env.hako(&[
        "run",
        "--rm",
        "evil",
        "sh",
        "-c",
        "echo x > /proc/sys/kernel/hostname && echo WROTE",
    ]);
    assert_eq!(out.code, 125, "{} {}", out.stdout, out.stderr);
    assert!(!out.stdout.contains("WROTE"));
    assert!(
        out.stderr.contains("/proc is not a directory"),
        "{}",
        out.stderr
    );
    env.assert_clean();
}

#[test]
fn a_symlink_chain_in_the_image_never_reaches_the_host() {
    let env = TestEnv::new();
    let outside = env.root.path().join("created-on-the-host");
    let target = outside.clone();
    import_changed(&env, "chain", move |rootfs| {
        for i in 0..45 {
            symlink(format!("/l{}", i + 1), rootfs.join(format!("l{i}"))).unwrap();
        }
        symlink(&target, rootfs.join("l45")).unwrap();
    });
    let volume = tempfile::tempdir().unwrap();
    std::fs::write(volume.path().join("f"), "x").unwrap();
    let spec = format!("{}/f:/l0", volume.path().display());
    let out = env.hako(&["run", "--rm", "-v", &spec, "chain", "true"]);
    assert_eq!(out.code, 125, "{}", out.stderr);
    assert!(out.stderr.contains("symbolic links"), "{}", out.stderr);
    assert!(
        !outside.exists(),
        "hako created {} on the host",
        outside.display()
    );
    env.assert_clean();
}

#[test]
fn host_users_cannot_reach_a_containers_files() {
    let env = TestEnv::new();
    let out = env.hako(&[
        "run",
        "-d",
        "--name",
        "private",
        "-e",
        "SECRET=hunter2",
        "busybox",
        "sleep",
        "1000",
    ]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    let id = out.stdout.trim();
    let containers = env.containers_dir();
    let mode = |p: &std::path::Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode(&containers), 0o700);
    assert_eq!(mode(&containers.join(id)), 0o700);
    assert_eq!(mode(&containers.join(id).join("attach.sock")), 0o600);
    assert_eq!(env.hako(&["rm", "-f", "private"]).code, 0);
    env.assert_clean();
}

#[test]
fn a_read_only_volume_carries_no_writable_submount() {
    let env = TestEnv::new();
    let shared = tempfile::tempdir().unwrap();
    let sub = shared.path().join("sub");
    std::fs::create_dir(&sub).unwrap();
    nix::mount::mount(
        Some("tmpfs"),
        &sub,
        Some("tmpfs"),
        nix::mount::MsFlags::empty(),
        None::<&str>,
    )
    .unwrap();
    let spec = format!("{}:/data:ro", shared.path().display());
    let out = env.sh(
        &["-v", &spec],
        "touch /data/sub/x 2>/dev/null && echo WROTE; mknod /data/sub/null c 1 3 2>/dev/null && echo MADE; echo done",
    );
    nix::mount::umount(&sub).unwrap();
    assert_eq!(out.stdout, "done\n", "{}", out.stderr);
    assert!(!sub.join("x").exists());
    env.assert_clean();
}

#[test]
fn a_reused_pid_is_never_signalled() {
    let env = TestEnv::new();
    // A container whose hako died; its pid now belongs to a host process.
    let out = env.hako(&["run", "-d", "--name", "stale", "busybox", "sleep", "1000"]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    let id = out.stdout.trim().to_string();
    let mut host = std::process::Command::new("sleep")
        .arg("60")
        .spawn()
        .unwrap();
    let state_file = env.containers_dir().join(&id).join("state.json");
    let mut state: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&state_file).unwrap()).unwrap();
    let real_pid = state["pid"].clone();
    state["pid"] = serde_json::json!(host.id());
    std::fs::write(&state_file, serde_json::to_vec(&state).unwrap()).unwrap();

    let out = env.hako(&["kill", "stale"]);
    assert_eq!(out.code, 1, "{}", out.stderr);
    assert!(
        host.try_wait().unwrap().is_none(),
        "hako kill signalled a host process"
    );
    host.kill().unwrap();
    let _ = host.wait();

    state["pid"] = real_pid;
    std::fs::write(&state_file, serde_json::to_vec(&state).unwrap()).unwrap();
    assert_eq!(env.hako(&["rm", "-f", "stale"]).code, 0);
    env.assert_clean();
}

#[test]
fn a_container_that_never_reads_its_input_cannot_hang_hako() {
    use std::io::Write;
    let env = TestEnv::new();
    let mut child = env
        .command(&[
            "run",
            "-i",
            "-t",
            "--rm",
            "busybox",
            "sh",
            "-c",
            "sleep 1; i=0; while [ $i -lt 3000 ]; do echo line $i; i=$((i+1)); done",
        ])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    // Like `yes |`: far more input than the terminal buffers, never read.
    let mut stdin = child.stdin.take().unwrap();
    std::thread::spawn(move || {
        let chunk = vec![b'y'; 4096];
        while stdin.write_all(&chunk).is_ok() {}
    });
    let mut stdout = child.stdout.take().unwrap();
    let reader = std::thread::spawn(move || {
        let mut all = Vec::new();
        let _ = std::io::Read::read_to_end(&mut stdout, &mut all);
        all
    });
    let deadline = Instant::now() + Duration::from_secs(20);
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            panic!("hako hung relaying a terminal whose container does not read");
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    assert_eq!(status.code(), Some(0));
    let output = String::from_utf8_lossy(&reader.join().unwrap()).into_owned();
    assert!(
        output.contains("line 2999"),
        "{}",
        &output[output.len().saturating_sub(300)..]
    );
    env.assert_clean();
}
