//! The dashboard end to end: the real binary in a real terminal (tmux), driven
//! with send-keys and read with capture-pane, as a person would use it.
//!
//! Needs root (real containers) and tmux (`apt-get install tmux`).

// A test stops at the first thing that is not as expected.
#![allow(clippy::unwrap_used)]

mod common;

use common::tmux::Tmux;
use common::{wait_for, TestEnv, HAKO};
use std::process::Command;
use std::time::Duration;

/// The shell command that runs the dashboard, then says how it ended and
/// whether the terminal is back in its normal (canonical, echoing) mode
/// (`MODE=` comes last: waiting for it sees both).
fn dashboard_command(env: &TestEnv, extra: &str) -> String {
    format!(
        "HAKO_CGROUP_PARENT={parent} {HAKO} --root {root} {extra}; \
         echo EXIT=$?; stty -a | grep -o -w -e -icanon -e icanon | sed 's/^/MODE=/'; sleep 60",
        parent = env.cgroup_parent,
        root = env.root.path().display(),
    )
}

#[test]
fn without_a_terminal_the_dashboard_says_so_in_one_line_and_exits_2() {
    let env = TestEnv::empty();
    for args in [&[][..], &["tui"][..]] {
        let out = env.hako(args);
        assert_eq!(out.code, 2, "{args:?}");
        assert_eq!(
            out.stderr,
            "hako: the dashboard needs a terminal; use hako ps\n"
        );
        assert_eq!(out.stdout, "");
    }
}

#[test]
fn a_container_from_the_form_its_shell_an_oom_alert_a_live_limit_and_quit_leaves_it_running() {
    let env = TestEnv::empty();
    let tmux = Tmux::new("main");
    tmux.start(&dashboard_command(&env, "tui --tick 500"));
    tmux.wait_for("No containers yet", Duration::from_secs(10));

    // n: the form; image host and command sh are the defaults.
    tmux.keys(&["n"]);
    tmux.wait_for("New container", Duration::from_secs(5));
    tmux.keys(&["Tab", "Tab"]);
    tmux.type_text("e2e-box");
    tmux.keys(&["Tab"]);
    tmux.type_text("10m");
    tmux.keys(&["Enter"]);
    tmux.wait_for("started e2e-box (memory 10 MiB)", Duration::from_secs(20));
    tmux.wait_for("/ 10 MiB", Duration::from_secs(5));

    // Enter: its shell in the pane.
    tmux.keys(&["Enter"]);
    tmux.wait_for("keys go to the shell", Duration::from_secs(5));
    tmux.type_text("echo MARK$((6*7))");
    tmux.keys(&["Enter"]);
    tmux.wait_for("MARK42", Duration::from_secs(10));

    // A memory hog: the OOM killer ends it, the alert and the kill count show.
    tmux.type_text("tail /dev/zero");
    tmux.keys(&["Enter"]);
    tmux.wait_for("Killed", Duration::from_secs(20));
    let screen = tmux.wait_for("OOM kill", Duration::from_secs(10));
    assert!(screen.contains("e2e-box"), "{screen}");
    tmux.wait_for("OOM kills 1", Duration::from_secs(5));

    // Back to the dashboard (the shell keeps running), then e: a new limit, live.
    tmux.keys(&["C-\\"]);
    tmux.wait_for("back to the dashboard", Duration::from_secs(5));
    tmux.keys(&["e"]);
    tmux.wait_for("Limits of e2e-box", Duration::from_secs(5));
    tmux.keys(&["C-u"]);
    tmux.type_text("20m");
    tmux.keys(&["Enter"]);
    tmux.wait_for("limits now memory 20 MiB", Duration::from_secs(10));
    tmux.wait_for("/ 20 MiB", Duration::from_secs(5));

    // q: the dashboard ends, the terminal is restored, the container runs on.
    tmux.keys(&["q"]);
    let screen = tmux.wait_for("MODE=", Duration::from_secs(10));
    assert!(screen.contains("EXIT=0"), "{screen}");
    assert!(
        screen.contains("MODE=icanon"),
        "raw mode was left on:\n{screen}"
    );
    let ps = env.hako(&["ps"]);
    assert!(
        ps.stdout
            .lines()
            .any(|l| l.contains("e2e-box") && l.contains("Up")),
        "{}",
        ps.stdout
    );
    let inspect = env.hako(&["inspect", "e2e-box"]);
    assert!(
        inspect.stdout.contains(&(20u64 << 20).to_string()),
        "{}",
        inspect.stdout
    );
}

#[test]
fn sigterm_and_sighup_restore_the_terminal() {
    let env = TestEnv::empty();
    for (signal, name) in [(15, "TERM"), (1, "HUP")] {
        let tmux = Tmux::new(name);
        tmux.start(&dashboard_command(&env, ""));
        tmux.wait_for("No containers yet", Duration::from_secs(10));
        let shell = tmux.pane_pid();
        let children = Command::new("pgrep")
            .args(["-P", &shell.to_string()])
            .output()
            .expect("pgrep runs");
        let pid: i32 = String::from_utf8_lossy(&children.stdout)
            .lines()
            .next()
            .and_then(|l| l.trim().parse().ok())
            .expect("the dashboard's pid");
        nix::sys::signal::kill(
            nix::unistd::Pid::from_raw(pid),
            nix::sys::signal::Signal::try_from(signal).unwrap(),
        )
        .unwrap();
        let screen = tmux.wait_for("MODE=", Duration::from_secs(10));
        assert!(
            screen.contains(&format!("EXIT={}", 128 + signal)),
            "{screen}"
        );
        assert!(
            screen.contains("MODE=icanon"),
            "SIG{name} left raw mode on:\n{screen}"
        );
        assert!(
            !screen.contains("No containers yet"),
            "SIG{name} left the alternate screen on:\n{screen}"
        );
    }
}

#[test]
fn the_demo_starts_three_containers_that_each_trip_their_limit() {
    let env = TestEnv::empty();
    let out = env.hako(&["demo"]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    let tmux = Tmux::new("demo");
    tmux.start(&dashboard_command(&env, "tui --tick 500"));
    for name in ["demo-memory-hog", "demo-cpu-burner", "demo-fork-loop"] {
        tmux.wait_for(name, Duration::from_secs(10));
    }
    let screen = tmux.wait_for("OOM kill", Duration::from_secs(60));
    let screen = if screen.contains("CPU throttled") {
        screen
    } else {
        tmux.wait_for("CPU throttled", Duration::from_secs(60))
    };
    let screen = if screen.contains("pids limit reached") {
        screen
    } else {
        tmux.wait_for("pids limit reached", Duration::from_secs(60))
    };
    assert!(screen.contains("demo-fork-loop"), "{screen}");
    tmux.keys(&["q"]);
    tmux.wait_for("EXIT=0", Duration::from_secs(10));
}

/// The pids of `hako exec` processes (the shells `x` starts) on this test's root.
fn exec_processes(env: &TestEnv) -> Vec<String> {
    let root = env.root.path().display().to_string();
    let out = Command::new("pgrep")
        .args(["-f", &format!("{root} exec -it")])
        .output()
        .expect("pgrep runs");
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(str::to_string)
        .collect()
}

#[test]
fn x_opens_a_new_shell_through_exec_in_its_own_pane() {
    let env = TestEnv::empty();
    let out = env.hako(&["run", "-d", "--name", "exec-box", "host", "sleep", "1000"]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    let tmux = Tmux::new("exec");
    tmux.start(&dashboard_command(&env, "tui --tick 500"));
    tmux.wait_for("exec-box", Duration::from_secs(10));

    // x: a shell of its own, though the container's command has no terminal.
    tmux.keys(&["x"]);
    tmux.wait_for("exec /bin/sh", Duration::from_secs(5));
    tmux.wait_for("keys go to the shell", Duration::from_secs(5));
    tmux.wait_for("# ", Duration::from_secs(10));
    tmux.type_text("echo $((6*7))-from-exec");
    tmux.keys(&["Enter"]);
    tmux.wait_for("42-from-exec", Duration::from_secs(10));
    // hako exec, and the process it forked to enter the container.
    assert!(!exec_processes(&env).is_empty(), "hako exec runs the shell");

    // Back to the dashboard: the shell keeps running.
    tmux.keys(&["C-\\"]);
    tmux.wait_for("(x returns)", Duration::from_secs(5));
    assert!(!exec_processes(&env).is_empty());

    // x again shows the same shell; exit ends it and the pane says so.
    tmux.keys(&["x"]);
    tmux.wait_for("keys go to the shell", Duration::from_secs(5));
    tmux.type_text("exit 7");
    tmux.keys(&["Enter"]);
    tmux.wait_for("The shell exited (7)", Duration::from_secs(10));
    wait_for(
        "hako exec to end with its shell",
        Duration::from_secs(5),
        || exec_processes(&env).is_empty(),
    );

    // A new shell, left running when the dashboard quits: it ends with it.
    tmux.keys(&["C-\\"]);
    tmux.keys(&["x"]);
    tmux.wait_for("keys go to the shell", Duration::from_secs(5));
    tmux.type_text("echo second-$((2+3))");
    tmux.keys(&["Enter"]);
    tmux.wait_for("second-5", Duration::from_secs(10));
    tmux.keys(&["C-\\"]);
    tmux.wait_for("(x returns)", Duration::from_secs(5));
    tmux.keys(&["q"]);
    let screen = tmux.wait_for("MODE=", Duration::from_secs(10));
    assert!(screen.contains("EXIT=0"), "{screen}");
    assert!(screen.contains("MODE=icanon"), "{screen}");
    wait_for(
        "hako exec to end with the dashboard",
        Duration::from_secs(5),
        || exec_processes(&env).is_empty(),
    );
    // The container runs on; then it goes, and nothing is left.
    let ps = env.hako(&["ps"]);
    assert!(ps.stdout.contains("exec-box"), "{}", ps.stdout);
    drop(tmux);
    let out = env.hako(&["rm", "-f", "exec-box"]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    env.assert_clean();
}
