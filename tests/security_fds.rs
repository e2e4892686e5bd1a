//! No descriptor of hako's caller reaches a container's command, even when the
//! container fakes /proc, and the working directory is always inside the
//! container (issue 8, finding 5; the CVE-2024-21626 class). The attacks run
//! as root inside real containers. Needs root.

// A test stops at the first thing that is not as expected.
#![allow(clippy::unwrap_used)]

mod common;

use common::{wait_for, TestEnv, HAKO};
use std::fs;
use std::process::{Command, Stdio};
use std::time::Duration;

/// Extra `run` arguments for the container that fakes /proc: it needs a user
/// namespace of its own, which the default seccomp profile refuses
/// (tests/security_seccomp.rs). This is the defence behind the filter.
const UNCONFINED: &[&str] = &["--security-opt", "seccomp=unconfined"];

const MARKER: &str = "host-secret-4f1c";

/// Runs `hako ARGS` from a shell that first opens `path` as fd 5 without
/// close-on-exec, as a caller's open file would be.
fn hako_with_fd5(env: &TestEnv, path: &std::path::Path, args: &[&str]) -> (i32, String, String) {
    let out = Command::new("sh")
        .arg("-c")
        .arg("exec 5<\"$1\"; shift; exec \"$@\"")
        .arg("sh")
        .arg(path)
        .arg(HAKO)
        .arg("--root")
        .arg(env.root.path())
        .args(args)
        .env("HAKO_CGROUP_PARENT", &env.cgroup_parent)
        .env_remove("HAKO_ROOT")
        .stdin(Stdio::null())
        .output()
        .expect("sh runs");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn start_detached(env: &TestEnv, name: &str, extra: &[&str], command: &[&str]) {
    let mut args = vec!["run", "-d", "--name", name];
    args.extend_from_slice(extra);
    args.push("busybox");
    args.extend_from_slice(command);
    let out = env.hako(&args);
    assert_eq!(out.code, 0, "run -d {name}: {}", out.stderr);
    wait_for(&format!("{name} to run"), Duration::from_secs(10), || {
        env.hako(&["inspect", name]).stdout.contains("\"running\"")
    });
}

#[test]
fn exec_leaks_no_fd_into_a_container_that_fakes_proc() {
    let env = TestEnv::new();
    let dir = tempfile::tempdir().unwrap();
    let secret = dir.path().join("secret");
    fs::write(&secret, MARKER).unwrap();

    // PID 1 itself moves into a mount namespace (in a user namespace of its
    // own) where /proc is an empty tmpfs with an empty /proc/self/fd: any
    // listing of it finds nothing to close. `hako exec` joins that namespace.
    let fake_proc = "mount -t tmpfs t /proc && mkdir -p /proc/self/fd && exec sleep 1000";
    start_detached(
        &env,
        "faker",
        UNCONFINED,
        &["unshare", "-Urm", "sh", "-c", fake_proc],
    );
    wait_for("the fake /proc", Duration::from_secs(10), || {
        let out = env.hako(&[
            "exec",
            "faker",
            "sh",
            "-c",
            "[ -e /proc/self/status ] || echo fake",
        ]);
        out.stdout == "fake\n"
    });

    let (_, stdout, stderr) = hako_with_fd5(
        &env,
        &secret,
        &["exec", "faker", "sh", "-c", "cat <&5 || echo fd-5-closed"],
    );
    assert!(
        !stdout.contains(MARKER),
        "fd 5 reached the command: {stdout:?} {stderr:?}"
    );
    assert!(stdout.contains("fd-5-closed"), "{stdout:?} {stderr:?}");

    assert_eq!(env.hako(&["rm", "-f", "faker"]).code, 0);
    env.assert_clean();
}

#[test]
fn run_leaks_no_fd_of_its_caller() {
    let env = TestEnv::new();
    let dir = tempfile::tempdir().unwrap();
    let secret = dir.path().join("secret");
    fs::write(&secret, MARKER).unwrap();
    let (code, stdout, stderr) = hako_with_fd5(
        &env,
        &secret,
        &[
            "run",
            "--rm",
            "busybox",
            "sh",
            "-c",
            "cat <&5 || echo fd-5-closed",
        ],
    );
    assert_eq!(code, 0, "{stderr}");
    assert!(!stdout.contains(MARKER), "{stdout:?}");
    assert!(stdout.contains("fd-5-closed"), "{stdout:?} {stderr:?}");
    env.assert_clean();
}

#[test]
fn a_working_directory_through_a_leaked_fd_is_refused() {
    // runc's CVE-2024-21626: `-w /proc/self/fd/N`, with N a host directory
    // still open while the runtime enters the working directory, puts the
    // command's cwd on the host.
    let env = TestEnv::new();
    let dir = tempfile::tempdir().unwrap();
    fs::write(dir.path().join("secret"), MARKER).unwrap();
    start_detached(&env, "box", &[], &["sleep", "1000"]);

    // `run` also creates a missing working directory: through the fd, that
    // would be a directory made on the host, before any check.
    let run = |workdir: &'static str, file: &'static str| {
        ["run", "--rm", "-w", workdir, "busybox", "cat", file]
    };
    let attempts: [&[&str]; 3] = [
        &["exec", "-w", "/proc/self/fd/5", "box", "cat", "secret"],
        &run("/proc/self/fd/5", "secret"),
        &run("/proc/self/fd/5/made", "../secret"),
    ];
    for args in attempts {
        let (code, stdout, stderr) = hako_with_fd5(&env, dir.path(), args);
        assert!(
            !stdout.contains(MARKER),
            "{args:?}: the host dir was the cwd"
        );
        assert_eq!(code, 125, "{args:?}: {stdout:?} {stderr:?}");
        assert!(
            stderr.starts_with("hako: ") && stderr.contains("working directory"),
            "{args:?}: {stderr:?}"
        );
    }

    assert!(
        !dir.path().join("made").exists(),
        "a directory was made on the host"
    );
    assert_eq!(env.hako(&["rm", "-f", "box"]).code, 0);
    env.assert_clean();
}
