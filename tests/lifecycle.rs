//! Detached containers: `run -d`, the monitor, `attach`, `logs`, `stop`,
//! `rm`, `gc`, against the real kernel. Needs root.

// A test stops at the first thing that is not as expected.
#![allow(clippy::unwrap_used)]

mod common;

use common::{wait_for, TestEnv};
use portable_pty::{CommandBuilder, PtySize};
use std::io::{Read, Write};
use std::sync::mpsc;
use std::time::{Duration, Instant};

fn alive(pid: i64) -> bool {
    hako::runtime::process::liveness::process_alive(pid as i32)
}

#[test]
fn a_detached_container_outlives_its_hako_and_stops_within_the_grace_period() {
    let env = TestEnv::new();
    let out = env.hako(&["run", "-d", "--name", "bg", "busybox", "sleep", "1000"]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    let id = out.stdout.trim().to_string();
    assert_eq!(id.len(), 36, "{id}");
    // `hako run -d` has exited; the container still runs.
    let ps = env.hako(&["ps"]);
    assert!(
        ps.stdout.contains("bg") && ps.stdout.contains("Up"),
        "{}",
        ps.stdout
    );
    let state = env.inspect("bg");
    let (pid, monitor) = (
        state["pid"].as_i64().unwrap(),
        state["monitor_pid"].as_i64().unwrap(),
    );
    assert!(alive(pid) && alive(monitor));

    let started = Instant::now();
    let out = env.hako(&["stop", "-t", "2", "bg"]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    // sleep as PID 1 ignores SIGTERM: SIGKILL comes after the 2 s grace.
    assert!(started.elapsed() < Duration::from_secs(5));
    wait_for("the exit to be recorded", Duration::from_secs(5), || {
        env.inspect("bg")["status"] == "exited"
    });
    assert_eq!(env.inspect("bg")["exit_code"], 137);
    wait_for("the monitor to end", Duration::from_secs(5), || {
        !alive(monitor)
    });

    let out = env.hako(&["rm", "bg"]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert!(!alive(pid));
    env.assert_clean();
}

/// Runs `hako attach NAME` on a PTY the test drives, as a user's terminal would.
struct AttachedTerminal {
    writer: Box<dyn Write + Send>,
    output: mpsc::Receiver<Vec<u8>>,
    child: Box<dyn portable_pty::Child + Send + Sync>,
    seen: String,
}

impl AttachedTerminal {
    fn open(env: &TestEnv, name: &str) -> AttachedTerminal {
        let pair = portable_pty::native_pty_system()
            .openpty(PtySize {
                rows: 30,
                cols: 100,
                pixel_width: 0,
                pixel_height: 0,
            })
            .unwrap();
        let mut cmd = CommandBuilder::new(common::HAKO);
        cmd.args(["--root", env.root.path().to_str().unwrap(), "attach", name]);
        cmd.env("HAKO_CGROUP_PARENT", &env.cgroup_parent);
        let child = pair.slave.spawn_command(cmd).unwrap();
        drop(pair.slave);
        let mut reader = pair.master.try_clone_reader().unwrap();
        let (tx, output) = mpsc::channel();
        std::thread::spawn(move || {
            let mut buf = [0u8; 4096];
            while let Ok(n) = reader.read(&mut buf) {
                if n == 0 || tx.send(buf[..n].to_vec()).is_err() {
                    break;
                }
            }
        });
        let writer = pair.master.take_writer().unwrap();
        std::mem::forget(pair.master); // keep the PTY open for the child
        AttachedTerminal {
            writer,
            output,
            child,
            seen: String::new(),
        }
    }

    fn type_text(&mut self, text: &str) {
        self.writer.write_all(text.as_bytes()).unwrap();
        self.writer.flush().unwrap();
    }

    fn expect(&mut self, marker: &str) {
        let deadline = Instant::now() + Duration::from_secs(10);
        while !self.seen.contains(marker) {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.output.recv_timeout(left) {
                Ok(bytes) => self.seen.push_str(&String::from_utf8_lossy(&bytes)),
                Err(_) => panic!("never saw {marker:?}; the terminal showed:\n{}", self.seen),
            }
        }
    }

    fn wait_exit(&mut self) -> u32 {
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                return status.exit_code();
            }
            assert!(Instant::now() < deadline, "hako attach did not end");
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

#[test]
fn attach_types_into_the_shell_detaches_and_replays_the_scrollback() {
    let env = TestEnv::new();
    let out = env.hako(&["run", "-dit", "--name", "shell", "busybox", "sh"]);
    assert_eq!(out.code, 0, "{}", out.stderr);

    let mut term = AttachedTerminal::open(&env, "shell");
    term.type_text("echo marker-$((40+2))\r");
    term.expect("marker-42");
    term.type_text("\x10\x11"); // Ctrl-P Ctrl-Q
    assert_eq!(term.wait_exit(), 0);
    assert_eq!(env.inspect("shell")["status"], "running");

    // A second attach first shows what the shell printed before.
    let mut again = AttachedTerminal::open(&env, "shell");
    again.expect("marker-42");
    again.type_text("exit 3\r");
    assert_eq!(again.wait_exit(), 3);
    wait_for("the exit", Duration::from_secs(5), || {
        env.inspect("shell")["status"] == "exited"
    });

    let out = env.hako(&["attach", "shell"]);
    assert_eq!(out.code, 1);
    assert!(out.stderr.contains("not running"), "{}", out.stderr);
    let logs = env.hako(&["logs", "shell"]);
    assert!(logs.stdout.contains("marker-42"), "{}", logs.stdout);
    assert_eq!(env.hako(&["rm", "shell"]).code, 0);
    env.assert_clean();
}

#[test]
fn logs_of_a_container_without_a_terminal() {
    let env = TestEnv::new();
    let out = env.hako(&[
        "run",
        "-d",
        "--name",
        "printer",
        "busybox",
        "sh",
        "-c",
        "for i in 1 2 3 4 5; do echo line $i; done; echo oops >&2; sleep 1000",
    ]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    wait_for("the output", Duration::from_secs(5), || {
        env.hako(&["logs", "printer"]).stdout.contains("oops")
    });
    let tail = env.hako(&["logs", "--tail", "2", "printer"]);
    assert_eq!(tail.stdout, "line 5\noops\n");
    assert_eq!(env.hako(&["rm", "-f", "printer"]).code, 0);
    env.assert_clean();
}

#[test]
fn a_killed_monitor_is_never_silently_lost_and_gc_cleans_a_killed_run() {
    let env = TestEnv::new();
    let out = env.hako(&["run", "-d", "--name", "orphan", "busybox", "sleep", "1000"]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    let state = env.inspect("orphan");
    let (pid, monitor) = (
        state["pid"].as_i64().unwrap(),
        state["monitor_pid"].as_i64().unwrap(),
    );
    nix::sys::signal::kill(
        nix::unistd::Pid::from_raw(monitor as i32),
        nix::sys::signal::Signal::SIGKILL,
    )
    .unwrap();
    wait_for(
        "the container to go with its monitor",
        Duration::from_secs(5),
        || !alive(pid),
    );
    let ps = env.hako(&["ps", "-a"]);
    assert!(ps.stdout.contains("orphan"), "{}", ps.stdout);
    assert!(
        ps.stdout.contains("Unknown") || ps.stdout.contains("Exited"),
        "{}",
        ps.stdout
    );
    assert_eq!(env.hako(&["rm", "-f", "orphan"]).code, 0);

    // A foreground `hako run` killed by SIGKILL leaves a cgroup and state; gc cleans them.
    let mut run = env
        .command(&["run", "--name", "victim", "busybox", "sleep", "1000"])
        .stdin(std::process::Stdio::null())
        .spawn()
        .unwrap();
    wait_for("victim to run", Duration::from_secs(5), || {
        env.hako(&["ps"]).stdout.contains("victim")
    });
    let victim_pid = env.inspect("victim")["pid"].as_i64().unwrap();
    run.kill().unwrap();
    run.wait().unwrap();
    // The container dies with its hako (parent-death signal).
    wait_for(
        "victim to die with its hako",
        Duration::from_secs(5),
        || !alive(victim_pid),
    );
    assert!(
        !env.cgroup_dirs().is_empty(),
        "the killed run left its cgroup"
    );
    let gc = env.hako(&["gc"]);
    assert_eq!(gc.code, 0, "{}", gc.stderr);
    assert!(gc.stdout.contains("victim"), "{}", gc.stdout);
    assert!(
        env.cgroup_dirs().is_empty(),
        "gc left {:?}",
        env.cgroup_dirs()
    );
    assert_eq!(env.inspect("victim")["status"], "exited");
    assert_eq!(env.hako(&["rm", "victim"]).code, 0);
    env.assert_clean();
}

#[test]
fn fifty_detached_containers_three_rounds_leave_nothing() {
    let env = TestEnv::new();
    for round in 0..3 {
        let mut names = vec![];
        for i in 0..50 {
            let name = format!("c{round}-{i}");
            let script = format!("exit {}", i % 7);
            let out = env.hako(&[
                "run", "-d", "--name", &name, "--memory", "32m", "busybox", "sh", "-c", &script,
            ]);
            assert_eq!(out.code, 0, "{name}: {}", out.stderr);
            names.push((name, i % 7));
        }
        for (name, code) in &names {
            wait_for(name, Duration::from_secs(20), || {
                env.inspect(name)["status"] == "exited"
            });
            assert_eq!(env.inspect(name)["exit_code"], *code, "{name}");
        }
        let mut args = vec!["rm"];
        args.extend(names.iter().map(|(n, _)| n.as_str()));
        let out = env.hako(&args);
        assert_eq!(out.code, 0, "{}", out.stderr);
        env.assert_clean();
    }
    let leftover = std::process::Command::new("pgrep")
        .args(["-f", &format!("__monitor {}", env.root.path().display())])
        .output()
        .unwrap();
    assert!(
        leftover.stdout.is_empty(),
        "monitors left: {}",
        String::from_utf8_lossy(&leftover.stdout)
    );
}

#[test]
fn several_clients_attach_at_once_and_one_leaving_changes_nothing() {
    use hako::runtime::attach::{AttachClient, ClientMessage, ServerMessage};
    let env = TestEnv::new();
    let out = env.hako(&["run", "-dit", "--name", "shared", "busybox", "sh"]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    let id = out.stdout.trim();
    let socket = env
        .root
        .path()
        .join("containers")
        .join(id)
        .join("attach.sock");
    let first = AttachClient::connect(&socket).unwrap();
    let mut second = AttachClient::connect(&socket).unwrap();
    drop(first);
    second
        .send(&ClientMessage::Input(
            b"echo two-$((1+1))-clients\r".to_vec(),
        ))
        .unwrap();
    let mut seen = String::new();
    let deadline = Instant::now() + Duration::from_secs(10);
    while !seen.contains("two-2-clients") {
        assert!(Instant::now() < deadline, "never saw the echo: {seen}");
        if let Some(ServerMessage::Output(bytes)) = second.receive().unwrap() {
            seen.push_str(&String::from_utf8_lossy(&bytes));
        }
    }
    assert_eq!(env.inspect("shared")["status"], "running");
    assert_eq!(env.hako(&["rm", "-f", "shared"]).code, 0);
    env.assert_clean();
}

#[test]
fn rm_f_while_the_foreground_hako_finishes_the_same_container() {
    let env = TestEnv::new();
    // Both orders of the race, many times: `rm -f` kills the container and
    // removes it while the `hako run` that holds it records the exit (and,
    // with --rm, removes it too). Every rm must succeed and leave nothing.
    for round in 0..10 {
        let name = format!("race{round}");
        let mut args = vec!["run", "--name", name.as_str()];
        if round % 2 == 0 {
            args.push("--rm");
        }
        args.extend_from_slice(&["busybox", "sleep", "1000"]);
        let mut run = env
            .command(&args)
            .stdin(std::process::Stdio::null())
            .spawn()
            .unwrap();
        wait_for(&name, Duration::from_secs(5), || {
            env.hako(&["ps"]).stdout.contains(&name)
        });
        let out = env.hako(&["rm", "-f", &name]);
        assert_eq!(out.code, 0, "round {round}: {}", out.stderr);
        assert_eq!(run.wait().unwrap().code(), Some(137));
    }
    env.assert_clean();
}

#[test]
fn a_name_belongs_to_one_container_until_it_is_removed() {
    let env = TestEnv::new();
    let out = env.hako(&["run", "-d", "--name", "only", "busybox", "sleep", "1000"]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    let again = env.hako(&["run", "-d", "--name", "only", "busybox", "true"]);
    assert_eq!(again.code, 125);
    assert!(again.stderr.contains("already in use"), "{}", again.stderr);
    assert_eq!(env.hako(&["ps", "-a", "-q"]).stdout.lines().count(), 1);
    assert_eq!(env.hako(&["rm", "-f", "only"]).code, 0);
    // Free again once removed.
    let out = env.hako(&["run", "--rm", "--name", "only", "busybox", "true"]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    env.assert_clean();
}
