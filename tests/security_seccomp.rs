//! The default seccomp profile, tried as an attacker would from inside a
//! container (root in it), in `run` and in `exec`; each attack is shown
//! failing under the default profile and working (or failing for another
//! reason than seccomp) with `--security-opt seccomp=unconfined`, so no test
//! can pass by accident. Needs root.
//!
//! The calls busybox cannot make are in `examples/attack_syscalls.rs`, which
//! `cargo test` builds; it runs in the built-in `host` image (the host's
//! /usr and /lib, so a dynamically linked binary runs).

// A test stops at the first thing that is not as expected.
#![allow(clippy::unwrap_used)]

mod common;

use common::TestEnv;
use std::collections::BTreeMap;
use std::path::PathBuf;

const PODMAN_PROFILE: &str = "/usr/share/containers/seccomp.json";

/// The directory with the built attack program, to bind read-only at /attack.
fn attack_dir() -> PathBuf {
    let deps = std::env::current_exe().unwrap();
    let dir = deps.parent().unwrap().parent().unwrap().join("examples");
    assert!(
        dir.join("attack_syscalls").exists(),
        "{} is missing: run `cargo test` (which builds the examples) or `cargo build --examples`",
        dir.join("attack_syscalls").display()
    );
    dir
}

fn attack_volume() -> String {
    format!("{}:/attack:ro", attack_dir().display())
}

/// `NAME: RESULT` lines of the attack program, by name.
fn results(stdout: &str) -> BTreeMap<String, String> {
    stdout
        .lines()
        .filter_map(|l| l.split_once(": "))
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

/// Runs the attack program in a new container with `flags`.
fn attack_in_run(env: &TestEnv, flags: &[&str]) -> BTreeMap<String, String> {
    let volume = attack_volume();
    let mut args = vec!["run", "--rm", "-v", &volume];
    args.extend_from_slice(flags);
    args.extend_from_slice(&["host", "/attack/attack_syscalls"]);
    let out = env.hako(&args);
    assert_eq!(out.code, 0, "{}{}", out.stdout, out.stderr);
    results(&out.stdout)
}

/// What every attack gives under the default profile: EPERM from the
/// filter, ENOSYS for clone3 so that libc falls back to clone.
fn assert_all_refused(found: &BTreeMap<String, String>) {
    let expected: BTreeMap<String, String> = [
        ("io_uring_setup", "EPERM"),
        ("userfaultfd", "EPERM"),
        ("perf_event_open", "EPERM"),
        ("fanotify_init", "EPERM"),
        ("personality", "EPERM"),
        ("clone3", "ENOSYS"),
        ("socket_vsock", "EPERM"),
        ("socketcall_vsock", "EPERM"),
        ("keyctl", "EPERM"),
        ("add_key", "EPERM"),
        ("unshare_user_mount", "EPERM"),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect();
    assert_eq!(found, &expected);
}

/// Without the filter the same calls reach the kernel: they succeed, or
/// fail with the kernel's own reason (perf_event_paranoid gives EACCES,
/// clone3 with no arguments EINVAL, a host without vsock EAFNOSUPPORT).
fn assert_none_filtered(found: &BTreeMap<String, String>) {
    assert_eq!(found.len(), 11, "{found:?}");
    for name in [
        "io_uring_setup",
        "userfaultfd",
        "personality",
        "keyctl",
        "add_key",
        "unshare_user_mount",
    ] {
        assert_eq!(found[name], "ok", "{name}: {found:?}");
    }
    assert_eq!(found["clone3"], "EINVAL");
    for name in [
        "perf_event_open",
        "fanotify_init",
        "socket_vsock",
        "socketcall_vsock",
    ] {
        assert!(
            !["EPERM", "ENOSYS"].contains(&found[name].as_str()),
            "{name}: {found:?}"
        );
    }
}

#[test]
fn kernel_attack_surface_is_refused_by_default_and_reachable_unconfined() {
    let env = TestEnv::new();
    assert_all_refused(&attack_in_run(&env, &[]));
    assert_none_filtered(&attack_in_run(
        &env,
        &["--security-opt", "seccomp=unconfined"],
    ));
    env.assert_clean();
}

#[test]
fn a_new_user_namespace_is_refused_by_default() {
    let env = TestEnv::new();
    let script = "unshare -U -r sh -c 'id -u'; echo rc=$?";
    let out = env.sh(&[], script);
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert!(out.stdout.contains("rc=1"), "{}", out.stdout);
    assert!(
        out.stderr.contains("Operation not permitted"),
        "{}",
        out.stderr
    );

    let out = env.sh(&["--security-opt", "seccomp=unconfined"], script);
    assert_eq!(out.stdout, "0\nrc=0\n", "{}", out.stderr);
    env.assert_clean();
}

#[test]
fn mount_needs_cap_sys_admin_and_a_user_namespace_cannot_give_it() {
    let env = TestEnv::new();
    let mount = "mount -t tmpfs none /tmp && echo MOUNTED";
    let in_userns = "unshare -U -r -m sh -c 'mount -t tmpfs none /tmp && echo MOUNTED'";
    for script in [mount, in_userns] {
        let out = env.sh(&[], script);
        assert_ne!(out.code, 0, "{script}: {}", out.stdout);
        assert!(!out.stdout.contains("MOUNTED"), "{script}");
        assert!(
            out.stderr.contains("not permitted") || out.stderr.contains("permission denied"),
            "{script}: {}",
            out.stderr
        );
    }
    // The same mount in a user namespace works without the filter ...
    let out = env.sh(&["--security-opt", "seccomp=unconfined"], in_userns);
    assert_eq!(out.stdout, "MOUNTED\n", "{}", out.stderr);
    // ... and the profile lets mount through for a container given
    // CAP_SYS_ADMIN, as Docker's does (includes.caps).
    let out = env.sh(&["--cap-add", "SYS_ADMIN"], mount);
    assert_eq!(out.stdout, "MOUNTED\n", "{}", out.stderr);
    env.assert_clean();
}

#[test]
fn exec_installs_the_containers_filter() {
    let env = TestEnv::new();
    let volume = attack_volume();
    for (name, flags) in [
        ("confined", vec![]),
        ("unconfined", vec!["--security-opt", "seccomp=unconfined"]),
    ] {
        let mut args = vec!["run", "-d", "--name", name, "-v", &volume];
        args.extend_from_slice(&flags);
        args.extend_from_slice(&["host", "sleep", "600"]);
        let out = env.hako(&args);
        assert_eq!(out.code, 0, "{}", out.stderr);
    }

    let out = env.hako(&["exec", "confined", "/attack/attack_syscalls"]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert_all_refused(&results(&out.stdout));
    let out = env.hako(&[
        "exec",
        "confined",
        "sh",
        "-c",
        "unshare -U -r true; echo rc=$?",
    ]);
    assert_eq!(out.stdout, "rc=1\n", "{}", out.stderr);

    let out = env.hako(&["exec", "unconfined", "/attack/attack_syscalls"]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert_none_filtered(&results(&out.stdout));

    assert_eq!(env.inspect("confined")["seccomp"], "default");
    assert_eq!(env.inspect("unconfined")["seccomp"], "unconfined");
    let out = env.hako(&["rm", "-f", "confined", "unconfined"]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    env.assert_clean();
}

#[test]
fn programs_still_work_under_the_default_profile() {
    let env = TestEnv::new();
    // Busybox applets and a shell: files, pipes, signals, job control.
    let script = "set -e; mkdir -p /tmp/a; echo hello > /tmp/a/f; cp /tmp/a/f /tmp/a/g; \
        ln -s g /tmp/a/l; chmod 600 /tmp/a/g; cat /tmp/a/l | tr a-z A-Z | sort | wc -l; \
        tar -C /tmp -cf /tmp/t.tar a; tar -tf /tmp/t.tar | wc -l; ps >/dev/null; \
        sleep 5 & kill $!; wait $! || true; date >/dev/null; hostname >/dev/null; \
        ping -c1 -W1 127.0.0.1 >/dev/null; echo done";
    let out = env.sh(&[], script);
    assert_eq!(out.stdout, "1\n4\ndone\n", "{}", out.stderr);

    // A thousand children, forked one after another, all reaped.
    let script =
        "i=0; while [ $i -lt 1000 ]; do (exit 3) ; [ $? = 3 ] || exit 9; i=$((i+1)); done; \
        for j in 1 2 3 4 5 6 7 8 9 10; do sleep 0 & done; wait; echo $i";
    let out = env.sh(&[], script);
    assert_eq!(out.stdout, "1000\n", "{}", out.stderr);

    // A multi-threaded program: glibc's thread creation meets clone3's
    // ENOSYS and falls back to clone without namespace flags.
    let volume = attack_volume();
    let out = env.hako(&[
        "run",
        "--rm",
        "-v",
        &volume,
        "host",
        "/attack/attack_syscalls",
        "threads",
        "32",
    ]);
    assert_eq!(out.stdout, "threads: ok\n", "{}", out.stderr);
    env.assert_clean();
}

#[test]
fn podmans_profile_loads_and_works() {
    let env = TestEnv::new();
    assert!(
        std::path::Path::new(PODMAN_PROFILE).exists(),
        "{PODMAN_PROFILE} is missing: apt-get install golang-github-containers-common"
    );
    let opt = format!("seccomp={PODMAN_PROFILE}");
    let out = env.hako(&[
        "run",
        "-d",
        "--name",
        "pod",
        "--security-opt",
        &opt,
        "busybox",
        "sleep",
        "600",
    ]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    let out = env.hako(&[
        "exec",
        "pod",
        "sh",
        "-c",
        "grep Seccomp: /proc/self/status; ls / | wc -l",
    ]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert!(out.stdout.starts_with("Seccomp:\t2\n"), "{}", out.stdout);

    let profile = &env.inspect("pod")["seccomp"]["file"];
    assert_eq!(profile["path"], PODMAN_PROFILE);
    let digest = profile["digest"].as_str().unwrap();
    assert!(
        digest.starts_with("sha256:") && digest.len() == 71,
        "{digest}"
    );
    let out = env.hako(&["rm", "-f", "pod"]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    env.assert_clean();
}

#[test]
fn a_bad_profile_is_one_line_and_creates_nothing() {
    let env = TestEnv::new();
    let dir = tempfile::tempdir().unwrap();
    let cases = [
        ("missing.json", None, "failed to read the seccomp profile"),
        (
            "json.json",
            Some("{\"defaultAction\": "),
            "EOF while parsing",
        ),
        (
            "action.json",
            Some(
                r#"{"defaultAction":"SCMP_ACT_ERRNO","syscalls":[{"names":["read"],"action":"SCMP_ACT_MAYBE"}]}"#,
            ),
            "unknown action \"SCMP_ACT_MAYBE\"",
        ),
        (
            "notify.json",
            Some(
                r#"{"defaultAction":"SCMP_ACT_ALLOW","syscalls":[{"names":["mount"],"action":"SCMP_ACT_NOTIFY"}]}"#,
            ),
            "SCMP_ACT_NOTIFY",
        ),
        (
            "op.json",
            Some(
                r#"{"defaultAction":"SCMP_ACT_ALLOW","syscalls":[{"names":["socket"],"action":"SCMP_ACT_ERRNO","args":[{"index":0,"value":40,"op":"SCMP_CMP_SOMETIMES"}]}]}"#,
            ),
            "unknown argument operator",
        ),
    ];
    for (file, content, expected) in cases {
        let path = dir.path().join(file);
        if let Some(content) = content {
            std::fs::write(&path, content).unwrap();
        }
        let opt = format!("seccomp={}", path.display());
        let out = env.hako(&[
            "run",
            "--rm",
            "--name",
            "bad",
            "--security-opt",
            &opt,
            "busybox",
            "true",
        ]);
        assert_eq!(out.code, 125, "{file}: {}", out.stderr);
        assert_eq!(out.stderr.lines().count(), 1, "{file}: {}", out.stderr);
        assert!(
            out.stderr.contains(&path.display().to_string()),
            "{}",
            out.stderr
        );
        assert!(out.stderr.contains(expected), "{file}: {}", out.stderr);
    }
    for bad in ["seccomp", "seccomp=", "apparmor=unconfined"] {
        let out = env.hako(&["run", "--rm", "--security-opt", bad, "busybox", "true"]);
        assert_eq!(out.code, 125, "{bad}: {}", out.stderr);
        assert_eq!(out.stderr.lines().count(), 1, "{}", out.stderr);
        assert!(out.stderr.contains("--security-opt"), "{}", out.stderr);
    }
    // Nothing was made: no container, no name, no cache entry.
    assert!(!env.root.path().join("cache").exists());
    env.assert_clean();
}

#[test]
fn the_compiled_program_is_cached_and_reused() {
    let env = TestEnv::new();
    let cache = env.root.path().join("cache/seccomp");
    let out = env.hako(&["run", "--rm", "busybox", "true"]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    let programs: Vec<PathBuf> = std::fs::read_dir(&cache)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    assert_eq!(programs.len(), 1, "{programs:?}");
    let first = std::fs::metadata(&programs[0]).unwrap();

    let out = env.hako(&["run", "--rm", "busybox", "true"]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    let again = std::fs::metadata(&programs[0]).unwrap();
    use std::os::unix::fs::MetadataExt;
    assert_eq!(
        (again.ino(), again.mtime_nsec()),
        (first.ino(), first.mtime_nsec()),
        "the second run rewrote the cached program"
    );
    assert_eq!(std::fs::read_dir(&cache).unwrap().count(), 1);

    // Other capabilities are another program (CAP_SYS_ADMIN opens mount).
    let out = env.hako(&["run", "--rm", "--cap-add", "SYS_ADMIN", "busybox", "true"]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert_eq!(std::fs::read_dir(&cache).unwrap().count(), 2);
    env.assert_clean();
}
