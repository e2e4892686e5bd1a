//! The dashboard's alerts view and log view end to end: the real binary in
//! tmux over real containers, the trips and the output recorded before the
//! dashboard started included.
//!
//! Needs root (real containers) and tmux (`apt-get install tmux`).

#![allow(clippy::unwrap_used)]

mod common;

use common::tmux::Tmux;
use common::{wait_for, TestEnv, HAKO};
use std::time::Duration;

#[test]
fn past_trips_show_in_the_alerts_view_and_a_log_is_followed_and_searched() {
    let env = TestEnv::new();
    // Before the dashboard: a container trips its pids limit (recorded in
    // its event file), another writes lines and exits, a third talks on.
    let out = env.hako(&[
        "run",
        "-d",
        "--name",
        "forker",
        "--pids-limit",
        "4",
        "busybox",
        "sh",
        "-c",
        "for i in 1 2 3 4 5 6 7 8; do sleep 100 & done; sleep 1000",
    ]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    wait_for(
        "a recorded pids_limit event",
        Duration::from_secs(20),
        || {
            env.hako(&["events", "forker"])
                .stdout
                .contains("pids_limit")
        },
    );
    let out = env.hako(&[
        "run",
        "-d",
        "--name",
        "quitter",
        "busybox",
        "sh",
        "-c",
        "echo first-$((2*3))-words; echo last-$((6*7))-words",
    ]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    let out = env.hako(&[
        "run", "-d", "--name", "talker", "busybox", "sh", "-c",
        "i=0; while true; do i=$((i+1)); echo tick-$i; [ $i = 5 ] && echo NEE\"\"DLE-here; sleep 0.2; done",
    ]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    wait_for("quitter to exit", Duration::from_secs(10), || {
        env.hako(&["ps", "-a"])
            .stdout
            .lines()
            .any(|l| l.contains("quitter") && l.contains("Exited"))
    });

    let tmux = Tmux::new("views");
    let command = format!(
        "HAKO_CGROUP_PARENT={parent} {HAKO} --root {root} tui --tick 500; sleep 60",
        parent = env.cgroup_parent,
        root = env.root.path().display(),
    );
    tmux.start(&command);
    tmux.wait_for("talker", Duration::from_secs(10));

    // a: the alerts view has the trip recorded before the dashboard started.
    tmux.keys(&["a"]);
    let screen = tmux.wait_for("pids limit reached", Duration::from_secs(10));
    assert!(screen.contains("forker"), "{screen}");
    tmux.keys(&["Escape"]);
    tmux.wait_for("a shows all", Duration::from_secs(5));

    // Enter on the exited container: its log, not "no terminal".
    tmux.keys(&["Home", "Down"]);
    tmux.wait_for("▶ quitter", Duration::from_secs(5));
    tmux.keys(&["Enter"]);
    let screen = tmux.wait_for("last-42-words", Duration::from_secs(10));
    assert!(screen.contains("first-6-words"), "{screen}");
    assert!(screen.contains("log of quitter"), "{screen}");
    // The view gone, before the next key: an Escape followed at once by a
    // key's escape sequence would read as one key.
    tmux.keys(&["Escape"]);
    tmux.wait_for("Alerts limit trips", Duration::from_secs(5));

    // l on the running one: it follows, and / finds the line.
    tmux.keys(&["Down"]);
    tmux.wait_for("▶ talker", Duration::from_secs(5));
    tmux.keys(&["l"]);
    tmux.wait_for("log of talker", Duration::from_secs(5));
    tmux.wait_for("tick-12", Duration::from_secs(10));
    tmux.keys(&["/"]);
    tmux.type_text("needle");
    tmux.keys(&["Enter"]);
    tmux.wait_for("\"needle\" on line 6", Duration::from_secs(5));
    tmux.keys(&["Escape", "q"]);

    for name in ["forker", "quitter", "talker"] {
        let out = env.hako(&["rm", "-f", name]);
        assert_eq!(out.code, 0, "{}", out.stderr);
    }
    env.assert_clean();
}
