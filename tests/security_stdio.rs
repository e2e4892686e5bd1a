//! A container's stdin, stdout and stderr are pipes that hako relays, never
//! the caller's own descriptors (issue 8, finding 3). Each attack runs as root
//! inside a real container; then the relay is checked to behave as the
//! caller's own fds did: EOF, large output in order, stderr apart, exit codes,
//! signals, `run` and `exec`. Needs root.

// A test stops at the first thing that is not as expected.
#![allow(clippy::unwrap_used)]

mod common;

use common::{wait_for, TestEnv, HAKO};
use std::fs;
use std::io::{BufRead, BufReader, Read, Write};
use std::os::unix::fs::PermissionsExt;
use std::process::{Command, Stdio};
use std::time::Duration;

/// `hako run --rm busybox sh -c SCRIPT` with `stdout` as hako's stdout.
fn run_with_stdout(env: &TestEnv, flags: &[&str], script: &str, stdout: fs::File) -> (i32, String) {
    let mut args = vec!["run", "--rm"];
    args.extend_from_slice(flags);
    args.extend_from_slice(&["busybox", "sh", "-c", script]);
    let out = env
        .command(&args)
        .stdin(Stdio::null())
        .stdout(stdout)
        .stderr(Stdio::piped())
        .output()
        .expect("hako runs");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn the_file_stdout_goes_to_cannot_be_read_back_or_truncated() {
    let env = TestEnv::new();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("out.txt");
    // The operator's `> out.txt`. Through /proc/self/fd/1 the container would
    // reopen that very file: read what is in it, then truncate it.
    let attack = "echo first; \
                  [ -f /proc/self/fd/1 ] && cat </proc/self/fd/1 >&2; \
                  : > /proc/self/fd/1; \
                  echo second";
    let (code, stderr) = run_with_stdout(&env, &[], attack, fs::File::create(&path).unwrap());
    assert_eq!(code, 0, "{stderr}");
    assert!(!stderr.contains("first"), "read back: {stderr:?}");
    assert_eq!(fs::read_to_string(&path).unwrap(), "first\nsecond\n");
    env.assert_clean();
}

#[test]
fn a_read_only_file_given_as_stdin_cannot_be_written() {
    let env = TestEnv::new();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("in.txt");
    fs::write(&path, "original\n").unwrap();
    fs::set_permissions(&path, fs::Permissions::from_mode(0o444)).unwrap();
    // Root in the container has CAP_DAC_OVERRIDE: reopening the file itself
    // for writing would succeed despite 0444.
    let out = env
        .command(&[
            "run",
            "--rm",
            "-i",
            "busybox",
            "sh",
            "-c",
            "echo attack > /proc/self/fd/0; echo rewritten > /proc/self/fd/0; cat > /dev/null; echo done",
        ])
        .stdin(fs::File::open(&path).unwrap())
        .output()
        .expect("hako runs");
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        "done\n",
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(fs::read_to_string(&path).unwrap(), "original\n");
    let mode = fs::metadata(&path).unwrap().permissions().mode();
    assert_eq!(mode & 0o777, 0o444);
    env.assert_clean();
}

#[test]
fn without_t_the_container_never_holds_the_calling_terminal() {
    let env = TestEnv::new();
    // `script` gives hako a terminal of its own, as an operator's would be.
    // The container looks for it on 0, 1 and 2 and tries to change its size;
    // `stty size` afterwards shows whether it did.
    let attack = "for fd in 0 1 2; do [ -t $fd ] && echo tty-on-$fd; \
                  stty -F /proc/self/fd/$fd rows 11 cols 33 2>/dev/null && echo changed-$fd; done; \
                  echo done";
    let out = env.hako(&["run", "-d", "--name", "box", "busybox", "sleep", "1000"]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    for command in ["run --rm", "run --rm -i", "exec box", "exec -i box"] {
        let image = if command.starts_with("run") {
            "busybox"
        } else {
            ""
        };
        let cmd = format!(
            "stty rows 37 cols 91; {HAKO} --root {} {command} {image} sh -c '{attack}'; echo size=$(stty size)",
            env.root.path().display()
        );
        let out = Command::new("script")
            .args(["-qec", &cmd, "/dev/null"])
            .env("HAKO_CGROUP_PARENT", &env.cgroup_parent)
            .stdin(Stdio::null())
            .output()
            .expect("script (bsdutils) is installed");
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert!(stdout.contains("done"), "{command}: {stdout}");
        assert!(!stdout.contains("tty-on"), "{command}: {stdout}");
        assert!(!stdout.contains("changed"), "{command}: {stdout}");
        assert!(stdout.contains("size=37 91"), "{command}: {stdout}");
    }
    assert_eq!(env.hako(&["rm", "-f", "box"]).code, 0);
    env.assert_clean();
}

#[test]
fn stdin_reaches_the_container_and_its_end_closes_the_containers_stdin() {
    let env = TestEnv::new();
    let out = env.hako_with_input(
        &[
            "run",
            "--rm",
            "-i",
            "busybox",
            "sh",
            "-c",
            "cat; echo after-eof",
        ],
        b"hello\nworld\n",
    );
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert_eq!(out.stdout, "hello\nworld\nafter-eof\n");

    // Without -i stdin is empty (/dev/null), whatever hako's own stdin holds.
    let out = env.hako_with_input(
        &["run", "--rm", "busybox", "sh", "-c", "cat; echo empty"],
        b"not for the container\n",
    );
    assert_eq!(out.stdout, "empty\n", "{}", out.stderr);
    env.assert_clean();
}

#[test]
fn large_input_and_output_arrive_complete_and_in_order() {
    let env = TestEnv::new();
    // Several MB each way at once: the container writes while hako still
    // feeds it, so neither direction may wait for the other.
    let input: Vec<u8> = (0..400_000u32)
        .flat_map(|i| format!("line {i:08}\n").into_bytes())
        .collect();
    let out = env
        .command(&["run", "--rm", "-i", "busybox", "cat"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("hako runs");
    let mut child = out;
    let mut stdin = child.stdin.take().unwrap();
    let feeder = {
        let input = input.clone();
        std::thread::spawn(move || stdin.write_all(&input))
    };
    let out = child.wait_with_output().unwrap();
    feeder.join().unwrap().unwrap();
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(out.stdout.len(), input.len());
    assert!(out.stdout == input, "the output differs from the input");

    let out = env.hako(&["run", "--rm", "busybox", "seq", "1", "800000"]);
    let expected: String = (1..=800_000).map(|i| format!("{i}\n")).collect();
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert!(
        out.stdout == expected,
        "seq's output is not complete and in order"
    );
    env.assert_clean();
}

#[test]
fn stdout_and_stderr_stay_apart_and_exit_codes_come_through() {
    let env = TestEnv::new();
    let out = env.sh(&[], "echo out; echo err >&2; echo out2; exit 7");
    assert_eq!(out.code, 7);
    assert_eq!(out.stdout, "out\nout2\n");
    assert_eq!(out.stderr, "err\n");
    env.assert_clean();
}

#[test]
fn appending_to_a_file_keeps_what_it_held() {
    let env = TestEnv::new();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("log");
    fs::write(&path, "earlier\n").unwrap();
    // The operator's `>> log`: the relay must append, not overwrite.
    let file = fs::OpenOptions::new().append(true).open(&path).unwrap();
    let (code, stderr) = run_with_stdout(&env, &[], "echo later", file);
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(fs::read_to_string(&path).unwrap(), "earlier\nlater\n");
    env.assert_clean();
}

#[test]
fn a_signal_sent_to_hako_reaches_the_container() {
    let env = TestEnv::new();
    let mut child = env
        .command(&[
            "run",
            "--rm",
            "busybox",
            "sh",
            "-c",
            "trap 'echo got-term; exit 3' TERM; echo ready; sleep 1000 & wait",
        ])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("hako runs");
    let mut stdout = BufReader::new(child.stdout.take().unwrap());
    let mut line = String::new();
    stdout.read_line(&mut line).unwrap();
    assert_eq!(line, "ready\n");
    nix::sys::signal::kill(
        nix::unistd::Pid::from_raw(child.id() as i32),
        nix::sys::signal::Signal::SIGTERM,
    )
    .unwrap();
    let mut rest = String::new();
    stdout.read_to_string(&mut rest).unwrap();
    assert_eq!(rest, "got-term\n");
    assert_eq!(child.wait().unwrap().code(), Some(3));
    env.assert_clean();
}

#[test]
fn exec_relays_through_pipes_too() {
    let env = TestEnv::new();
    let out = env.hako(&["run", "-d", "--name", "box", "busybox", "sleep", "1000"]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    wait_for("box to run", Duration::from_secs(10), || {
        env.hako(&["inspect", "box"]).stdout.contains("\"running\"")
    });

    let out = env.hako_with_input(
        &["exec", "-i", "box", "sh", "-c", "cat; echo err >&2; exit 5"],
        b"piped in\n",
    );
    assert_eq!(out.code, 5);
    assert_eq!(out.stdout, "piped in\n");
    assert_eq!(out.stderr, "err\n");

    // The exec'd command holds neither the caller's stdin nor its stdout file.
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("exec-out");
    let out = env
        .command(&[
            "exec",
            "box",
            "sh",
            "-c",
            "echo first; [ -f /proc/self/fd/1 ] && cat </proc/self/fd/1 >&2; \
             : > /proc/self/fd/1; [ -t 0 ] && echo tty; cat; echo second",
        ])
        .stdin(Stdio::piped())
        .stdout(fs::File::create(&path).unwrap())
        .stderr(Stdio::piped())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    assert!(!String::from_utf8_lossy(&out.stderr).contains("first"));
    assert_eq!(fs::read_to_string(&path).unwrap(), "first\nsecond\n");

    assert_eq!(env.hako(&["rm", "-f", "box"]).code, 0);
    env.assert_clean();
}
