//! `hako update`, `stats`, `inspect`, `kill` and `stop` on a running container,
//! against the real kernel. Needs root.

// A test stops at the first thing that is not as expected.
#![allow(clippy::unwrap_used)]

mod common;

use common::{wait_for, TestEnv};
use std::process::{Child, Stdio};
use std::time::{Duration, Instant};

fn start(env: &TestEnv, args: &[&str]) -> Child {
    env.command(args)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap()
}

fn stats(env: &TestEnv, name: &str) -> serde_json::Value {
    let out = env.hako(&["stats", "--no-stream", "--format", "json", name]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    let all: serde_json::Value = serde_json::from_str(&out.stdout).unwrap();
    all[0].clone()
}

fn wait_running(env: &TestEnv, name: &str) {
    for _ in 0..100 {
        let out = env.hako(&["inspect", name]);
        if out.stdout.contains("\"running\"") {
            return;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    panic!("{name} never started");
}

/// Waits (up to 10 s) for an event of `kind` and returns the whole timeline.
fn wait_for_event(env: &TestEnv, name: &str, kind: &str) -> Vec<serde_json::Value> {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let out = env.hako(&["events", "--format", "json", name]);
        let events: Vec<serde_json::Value> = out
            .stdout
            .lines()
            .filter_map(|l| serde_json::from_str(l).ok())
            .collect();
        if events.iter().any(|e| e["kind"] == kind) {
            return events;
        }
        assert!(
            Instant::now() < deadline,
            "no {kind} event for {name}: {}",
            out.stdout
        );
        std::thread::sleep(Duration::from_millis(200));
    }
}

#[test]
fn lowering_memory_live_oom_kills_what_fitted_before() {
    let env = TestEnv::new();
    // A 30 MB allocation every 0.2 s: fits in 64 MiB, not in 16 MiB.
    let mut child = start(
        &env,
        &[
            "run",
            "--rm",
            "--name",
            "grower",
            "--memory",
            "64m",
            "busybox",
            "sh",
            "-c",
            "while :; do head -c 30000000 /dev/zero | tail >/dev/null; sleep 0.2; done",
        ],
    );
    wait_running(&env, "grower");
    // One allocation has run (and fitted) before the limit is lowered.
    let mut before = serde_json::Value::Null;
    wait_for("an allocation of 30 MB", Duration::from_secs(10), || {
        before = stats(&env, "grower");
        before["memory_peak"].as_u64().unwrap_or(0) >= 25 << 20
    });
    assert_eq!(before["memory_limit"], 64 << 20);
    assert_eq!(before["oom_kills"], 0);

    // On v1 the kernel refuses a limit below what is in use at that moment
    // (EBUSY); that must be one clear line and leave the limit as it was.
    // Between two allocations usage is low and the new limit takes.
    let mut tries = 0;
    loop {
        let out = env.hako(&["update", "--memory", "16m", "grower"]);
        if out.code == 0 {
            break;
        }
        assert_eq!(out.stderr.lines().count(), 1, "{}", out.stderr);
        assert!(out.stderr.contains("memory"), "{}", out.stderr);
        assert_eq!(stats(&env, "grower")["memory_limit"], 64 << 20);
        tries += 1;
        assert!(
            tries < 50,
            "the kernel never took the new limit: {}",
            out.stderr
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    let inspect = env.hako(&["inspect", "grower"]);
    let state: serde_json::Value = serde_json::from_str(&inspect.stdout).unwrap();
    assert_eq!(state[0]["limits"]["memory"], 16 << 20);

    let deadline = Instant::now() + Duration::from_secs(15);
    let after = loop {
        let s = stats(&env, "grower");
        if s["oom_kills"].as_u64().unwrap_or(0) >= 1 || Instant::now() > deadline {
            break s;
        }
        std::thread::sleep(Duration::from_millis(200));
    };
    assert_eq!(after["memory_limit"], 16 << 20);
    assert!(after["oom_kills"].as_u64().unwrap() >= 1, "{after}");

    // The timeline has the update, then the OOM kill, each with a time.
    let kinds = wait_for_event(&env, "grower", "oom_kill");
    let update = kinds
        .iter()
        .position(|e| e["kind"] == "update")
        .expect("update event");
    let oom = kinds.iter().position(|e| e["kind"] == "oom_kill").unwrap();
    assert!(update < oom, "{kinds:?}");
    assert!(kinds[oom]["time_ms"].as_u64().unwrap() > 1_700_000_000_000);
    let text = env.hako(&["events", "grower"]);
    assert!(text.stdout.contains("oom_kill"), "{}", text.stdout);

    // PID 1 ignores SIGTERM: stop falls back to SIGKILL after the grace time.
    let started = Instant::now();
    let out = env.hako(&["stop", "-t", "1", "grower"]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert!(started.elapsed() < Duration::from_secs(5));
    assert_eq!(child.wait().unwrap().code(), Some(137));
    env.assert_clean();
}

#[test]
fn stats_report_cpu_against_the_quota_and_pids_against_the_limit() {
    let env = TestEnv::new();
    let mut child = start(
        &env,
        &[
            "run",
            "--rm",
            "--name",
            "burner",
            "--cpus",
            "0.2",
            "--pids-limit",
            "20",
            "busybox",
            "sh",
            "-c",
            "while :; do :; done",
        ],
    );
    wait_running(&env, "burner");
    let mut s = serde_json::Value::Null;
    wait_for("throttling", Duration::from_secs(10), || {
        s = stats(&env, "burner");
        s["nr_throttled"].as_u64().unwrap_or(0) > 0
    });
    let cpu = s["cpu_percent"].as_f64().unwrap();
    assert!(cpu > 5.0 && cpu < 26.0, "cpu {cpu}% under a 0.2 quota");
    assert!(s["cpu_quota_percent"].as_f64().unwrap() > 25.0, "{s}");
    assert!(s["nr_throttled"].as_u64().unwrap() > 0, "{s}");
    assert_eq!(s["pids_current"], 1);
    assert_eq!(s["pids_limit"], 20);
    let table = env.hako(&["stats", "--no-stream", "burner"]);
    assert!(
        table.stdout.contains("burner") && table.stdout.contains("1 / 20"),
        "{}",
        table.stdout
    );

    let events = wait_for_event(&env, "burner", "cpu_throttled");
    assert_eq!(events[0]["kind"], "create", "{events:?}");
    assert_eq!(events[1]["kind"], "start", "{events:?}");

    let out = env.hako(&["update", "--memory", "1zz", "burner"]);
    assert_eq!(out.code, 125);
    assert_eq!(out.stderr.lines().count(), 1, "{}", out.stderr);

    let out = env.hako(&["kill", "-s", "KILL", "burner"]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert_eq!(child.wait().unwrap().code(), Some(137));
    let out = env.hako(&["kill", "burner"]);
    assert_eq!(out.code, 1, "killing a removed container");
    env.assert_clean();
}

#[test]
fn a_fork_loop_under_a_pids_limit_is_on_the_timeline() {
    let env = TestEnv::new();
    let out = env.hako(&[
        "run",
        "-d",
        "--name",
        "forker",
        "--pids-limit",
        "10",
        "busybox",
        "sh",
        "-c",
        "while :; do sleep 5 & done 2>/dev/null",
    ]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    let events = wait_for_event(&env, "forker", "pids_limit");
    let hit = events.iter().find(|e| e["kind"] == "pids_limit").unwrap();
    assert_eq!(hit["max"], 10, "{hit}");
    assert_eq!(env.hako(&["rm", "-f", "forker"]).code, 0);
    env.assert_clean();
}
