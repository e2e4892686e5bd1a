//! `hako exec` into real running containers: namespaces, cgroup, privileges,
//! stdio, terminal, signals, exit codes and refusals. Needs root.

// A test stops at the first thing that is not as expected.
#![allow(clippy::unwrap_used)]

mod common;

use common::{status_field, wait_for, Run, TestEnv};
use std::path::Path;
use std::process::{Child, Stdio};
use std::time::Duration;

/// The container every test execs into: PID 1 is `sh`, which leaves a file
/// behind and waits on a `sleep` (the trailing `true` keeps busybox's sh from
/// replacing itself with the sleep).
const BOX_SCRIPT: &str = "echo hi > /made-inside; sleep 1000; true";

/// Starts `hako run --rm [flags] --name NAME busybox sh -c BOX_SCRIPT` in the
/// background and returns once `hako inspect` shows it running.
fn start_box(env: &TestEnv, name: &str, flags: &[&str]) -> Child {
    let mut args = vec!["run", "--rm", "--name", name];
    args.extend_from_slice(flags);
    args.extend_from_slice(&["busybox", "sh", "-c", BOX_SCRIPT]);
    let child = env
        .command(&args)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("hako run starts");
    wait_for(&format!("{name} to run"), Duration::from_secs(10), || {
        env.hako(&["inspect", name]).stdout.contains("\"running\"")
    });
    child
}

/// Removes the container and waits for the `hako run` that held it.
fn remove_box(env: &TestEnv, name: &str, mut child: Child) {
    let out = env.hako(&["rm", "-f", name]);
    assert_eq!(out.code, 0, "rm -f {name}: {}", out.stderr);
    child.wait().expect("hako run ends");
}

/// `hako exec NAME sh -c SCRIPT`, which must succeed.
fn exec_sh(env: &TestEnv, flags: &[&str], name: &str, script: &str) -> String {
    let mut args = vec!["exec"];
    args.extend_from_slice(flags);
    args.extend_from_slice(&[name, "sh", "-c", script]);
    let out = env.hako(&args);
    assert_eq!(out.code, 0, "exec {script:?}: {}", out.stderr);
    out.stdout
}

/// One line on stderr, starting with `hako: `.
fn assert_one_line(out: &Run, contains: &str) {
    assert!(
        out.stderr.starts_with("hako: ") && out.stderr.lines().count() == 1,
        "not one line: {:?}",
        out.stderr
    );
    assert!(out.stderr.contains(contains), "{:?}", out.stderr);
}

#[test]
fn exec_joins_the_containers_namespaces_cgroup_and_root() {
    let env = TestEnv::new();
    let child = start_box(&env, "box", &[]);

    // UTS: the container's hostname, not the host's.
    let hostname = exec_sh(&env, &[], "box", "hostname");
    assert_eq!(hostname.trim(), env.inspect("box")["hostname"]);
    assert_ne!(
        hostname.trim(),
        nix::unistd::gethostname().unwrap().to_string_lossy()
    );

    // PID: PID 1 is the container's sh, its sleep is there, and little else.
    let out = exec_sh(
        &env,
        &[],
        "box",
        "tr '\\0' ' ' < /proc/1/cmdline; echo; ps; echo self=$$; set -- /proc/[0-9]*; echo procs=$#",
    );
    assert!(
        out.starts_with(&format!("sh -c {BOX_SCRIPT} \n")),
        "PID 1 is not the container's sh:\n{out}"
    );
    assert!(
        out.lines()
            .any(|l| l.trim_end().ends_with("sleep 1000") && !l.contains("sh -c")),
        "no sleep in:\n{out}"
    );
    assert!(!out.contains("self=1\n"), "{out}");
    let procs: usize = out
        .lines()
        .find_map(|l| l.strip_prefix("procs="))
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("no count in:\n{out}"));
    assert!(procs <= 5, "the host's processes are visible:\n{out}");

    // Mount: the container's root, with what its command wrote.
    assert_eq!(exec_sh(&env, &[], "box", "cat /made-inside"), "hi\n");

    // Cgroup: the same cgroup as PID 1, seen from the same cgroup namespace.
    let out = exec_sh(
        &env,
        &[],
        "box",
        "cat /proc/self/cgroup; echo ---; cat /proc/1/cgroup",
    );
    let (own, first) = out.split_once("---\n").unwrap();
    assert_eq!(own, first);
    assert!(own.lines().all(|l| l.ends_with(":/")), "{own}");

    remove_box(&env, "box", child);
    env.assert_clean();
}

#[test]
fn exec_runs_in_the_containers_cgroup_and_passes_signals_on() {
    let env = TestEnv::new();
    let child = start_box(&env, "box", &[]);
    let id = env.inspect("box")["id"].as_str().unwrap().to_string();

    let mut exec = env
        .command(&["exec", "box", "sleep", "300"])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // hako exec's child enters the container; the command is its child.
    let children = |pid: u32| -> Vec<String> {
        std::fs::read_to_string(format!("/proc/{pid}/task/{pid}/children"))
            .unwrap_or_default()
            .split_whitespace()
            .map(String::from)
            .collect()
    };
    let mut joiner = String::new();
    let mut command = String::new();
    wait_for("the exec'd sleep", Duration::from_secs(10), || {
        if let Some(a) = children(exec.id()).first() {
            joiner = a.clone();
            if let Some(b) = children(a.parse().unwrap()).first() {
                command = b.clone();
                return std::fs::read_to_string(format!("/proc/{b}/cmdline"))
                    .is_ok_and(|c| c.starts_with("sleep\0"));
            }
        }
        false
    });
    // In every hierarchy, both are in the container's cgroup: in the leaf that holds
    // its processes where hako made one, else in the container's own directory.
    let dirs = env.cgroup_dirs();
    assert!(!dirs.is_empty());
    for dir in dirs {
        let own = Path::new(&dir).join(&id);
        let leaf = own.join(hako::runtime::cgroup::LEAF);
        let procs_dir = if leaf.is_dir() { leaf } else { own };
        let procs = std::fs::read_to_string(procs_dir.join("cgroup.procs"))
            .unwrap_or_else(|e| panic!("{}: {e}", procs_dir.display()));
        let procs: Vec<&str> = procs.lines().collect();
        assert!(
            procs.contains(&joiner.as_str()) && procs.contains(&command.as_str()),
            "{}: {procs:?} lacks {joiner} and {command}",
            procs_dir.display()
        );
    }

    // SIGTERM to hako exec reaches the command: 128 + 15.
    nix::sys::signal::kill(
        nix::unistd::Pid::from_raw(exec.id() as i32),
        nix::sys::signal::Signal::SIGTERM,
    )
    .unwrap();
    let status = exec.wait().unwrap();
    assert_eq!(status.code(), Some(143));
    assert!(
        !Path::new(&format!("/proc/{command}")).exists()
            || std::fs::read_to_string(format!("/proc/{command}/cmdline"))
                .is_ok_and(|c| !c.starts_with("sleep\0")),
        "the exec'd sleep outlived hako exec"
    );

    remove_box(&env, "box", child);
    env.assert_clean();
}

#[test]
fn exec_keeps_the_containers_privileges_and_cannot_add_any() {
    let env = TestEnv::new();
    let child = start_box(&env, "box", &[]);
    let status = exec_sh(&env, &[], "box", "cat /proc/self/status");
    for field in ["CapBnd", "CapEff", "CapPrm"] {
        assert_eq!(status_field(&status, field), "00000000a80425fb", "{field}");
    }
    // Inheritable empty, as Docker since CVE-2022-24769.
    assert_eq!(status_field(&status, "CapInh"), "0000000000000000");
    assert_eq!(status_field(&status, "CapAmb"), "0000000000000000");
    assert_eq!(status_field(&status, "NoNewPrivs"), "1");

    // Another user: no capabilities, the same bounding set.
    let status = exec_sh(
        &env,
        &["-u", "1000:50"],
        "box",
        "id -u; id -g; cat /proc/self/status",
    );
    assert!(status.starts_with("1000\n50\n"), "{status}");
    assert_eq!(status_field(&status, "CapEff"), "0000000000000000");
    assert_eq!(status_field(&status, "CapBnd"), "00000000a80425fb");

    // There is no way to ask for more.
    for flag in [["--cap-add", "SYS_ADMIN"], ["--privileged", "true"]] {
        let out = env.hako(&["exec", flag[0], flag[1], "box", "true"]);
        assert_eq!(out.code, 125, "{flag:?}: {}", out.stderr);
    }
    remove_box(&env, "box", child);

    // A container started with less keeps less in exec too (SYS_CHROOT is bit 18).
    let child = start_box(&env, "small", &["--cap-drop", "SYS_CHROOT"]);
    let status = exec_sh(&env, &[], "small", "cat /proc/self/status");
    assert_eq!(status_field(&status, "CapBnd"), "00000000a80025fb");
    assert_eq!(status_field(&status, "CapEff"), "00000000a80025fb");
    let out = env.hako(&["exec", "small", "chroot", "/", "true"]);
    assert_ne!(out.code, 0, "chroot worked without CAP_SYS_CHROOT");
    remove_box(&env, "small", child);
    env.assert_clean();
}

#[test]
fn exec_passes_exit_codes_stdio_env_workdir_and_a_terminal() {
    let env = TestEnv::new();
    let child = start_box(&env, "box", &[]);

    let out = env.hako(&["exec", "box", "sh", "-c", "exit 7"]);
    assert_eq!(out.code, 7, "{}", out.stderr);
    let out = env.hako(&["exec", "box", "sh", "-c", "kill -9 $$"]);
    assert_eq!(out.code, 137, "{}", out.stderr);
    let out = env.hako(&["exec", "box", "nosuch"]);
    assert_eq!(out.code, 127);
    assert_one_line(&out, "\"nosuch\": executable file not found in $PATH");
    let out = env.hako(&["exec", "box", "/etc/passwd"]);
    assert_eq!(out.code, 126);
    assert_one_line(&out, "/etc/passwd");

    // stdin only with -i.
    let out = env.hako_with_input(&["exec", "-i", "box", "cat"], b"hi\n");
    assert_eq!(
        (out.code, out.stdout.as_str()),
        (0, "hi\n"),
        "{}",
        out.stderr
    );
    let out = env.hako_with_input(&["exec", "box", "cat"], b"hi\n");
    assert_eq!((out.code, out.stdout.as_str()), (0, ""), "{}", out.stderr);

    // The container's environment and workdir, changed by -e and -w.
    let out = exec_sh(
        &env,
        &["-e", "FOO=bar", "-e", "HOSTNAME=other", "-w", "/tmp"],
        "box",
        "echo $FOO $HOSTNAME $PATH; pwd; [ -t 0 ] || echo no-tty",
    );
    assert_eq!(
        out,
        "bar other /usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin\n/tmp\nno-tty\n"
    );

    // Bad flags: 125, one line.
    for (flags, message) in [
        (["-u", "bob"], "invalid --user"),
        (["-e", "=x"], "invalid -e"),
        (["-w", "tmp"], "invalid -w"),
        (["-w", "/nowhere"], "/nowhere"),
    ] {
        let out = env.hako(&["exec", flags[0], flags[1], "box", "true"]);
        assert_eq!(out.code, 125, "{flags:?}");
        assert_one_line(&out, message);
    }

    // -t: the command gets a terminal (under `script`, which gives hako one).
    let line = format!(
        "{} --root {} exec -t box sh -c '[ -t 0 ] && [ -t 1 ] && echo is-a-tty $TERM; exit 3'",
        common::HAKO,
        env.root.path().display()
    );
    let out: Run = std::process::Command::new("script")
        .args(["-qec", &line, "/dev/null"])
        .stdin(Stdio::null())
        .output()
        .expect("script (bsdutils) is installed")
        .into();
    assert_eq!(out.code, 3, "{} {}", out.stdout, out.stderr);
    assert!(out.stdout.contains("is-a-tty xterm"), "{:?}", out.stdout);

    remove_box(&env, "box", child);
    env.assert_clean();
}

#[test]
fn exec_into_an_exited_or_unknown_container_fails_in_one_line() {
    let env = TestEnv::new();
    let out = env.hako(&["run", "--name", "done", "busybox", "true"]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    let out = env.hako(&["exec", "done", "true"]);
    assert_eq!(out.code, 1);
    assert_one_line(&out, "container done is not running");
    let out = env.hako(&["exec", "nosuch", "true"]);
    assert_eq!(out.code, 1);
    assert_one_line(&out, "no such container: nosuch");
    assert_eq!(env.hako(&["rm", "done"]).code, 0);
    env.assert_clean();
}

#[test]
fn exec_into_a_detached_container() {
    let env = TestEnv::new();
    let out = env.hako(&[
        "run", "-d", "--name", "bg", "busybox", "sh", "-c", BOX_SCRIPT,
    ]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    wait_for("bg to run", Duration::from_secs(10), || {
        env.hako(&["inspect", "bg"]).stdout.contains("\"running\"")
    });
    assert_eq!(exec_sh(&env, &[], "bg", "cat /made-inside"), "hi\n");
    let out = env.hako(&["exec", "bg", "sh", "-c", "exit 9"]);
    assert_eq!(out.code, 9, "{}", out.stderr);
    assert_eq!(env.hako(&["rm", "-f", "bg"]).code, 0);
    env.assert_clean();
}
