//! Fixtures for the dashboard's tests: containers, samples and an app in a
//! known state, at a fixed time, so that drawings are the same every run.

use super::app::App;
use super::collector::{Sample, Snapshot, Trip, TripKind};
use super::runtime_calls::EventLine;
use crate::runtime::cgroup::CgroupStats;
use crate::runtime::limits::Limits;
use crate::runtime::state::{ContainerState, Status};

/// The fixed "now" of every fixture, in unix seconds.
pub const NOW: u64 = 1_800_000_000;

/// A running, detached container with a terminal, started `age` seconds ago.
pub fn state(name: &str, id: &str, age: u64) -> ContainerState {
    let json = serde_json::json!({
        "id": id, "name": name, "image": "host", "command": ["sh"],
        "hostname": name, "status": "running", "pid": 4242, "exit_code": null,
        "oom_killed": false, "created": NOW - age, "started": NOW - age,
        "finished": null,
        "limits": {"memory": null, "memory_swap": null, "cpu": null, "pids": null},
        "cgroup_layout": "V1", "cgroup_parent": "hako", "capabilities": [],
        "auto_remove": false, "tty": true, "interactive": true, "monitor_pid": 4241
    });
    serde_json::from_value(json).expect("a valid state")
}

pub fn limits(memory: Option<&str>, cpus: Option<&str>, pids: Option<&str>) -> Limits {
    Limits::parse(memory, None, cpus, pids).expect("valid limits")
}

pub fn stats(memory: u64, limit: Option<u64>, pids: u64, pids_limit: Option<u64>) -> CgroupStats {
    CgroupStats {
        memory_usage: Some(memory),
        memory_limit: limit,
        memory_peak: Some(memory),
        memory_limit_hits: Some(0),
        oom_kills: Some(0),
        cpu_usage_ns: Some(1_000_000_000),
        cpu_quota: None,
        nr_periods: Some(100),
        nr_throttled: Some(0),
        throttled_ns: Some(0),
        pids_current: Some(pids),
        pids_limit,
        pids_limit_hits: Some(0),
    }
}

pub fn running(state: ContainerState, stats: CgroupStats, cpu: f64) -> Sample {
    let quota = state.limits.cpu.map(|q| cpu / q.cpus());
    Sample {
        running: true,
        stats: Some(stats),
        cpu_percent: Some(cpu),
        cpu_quota_percent: quota,
        throttled_percent: Some(0.0),
        events: vec![
            event(state.created, "create", "image host, command \"sh\""),
            event(state.created, "start", "started, pid 4242"),
        ],
        state,
    }
}

pub fn exited(mut state: ContainerState, code: i32, oom_killed: bool, ago: u64) -> Sample {
    state.status = Status::Exited;
    state.exit_code = Some(code);
    state.oom_killed = oom_killed;
    state.finished = Some(NOW - ago);
    state.pid = None;
    let mut events = vec![
        event(state.created, "create", "image host, command \"sh\""),
        event(state.created, "start", "started, pid 4242"),
    ];
    if oom_killed {
        events.push(event(
            NOW - ago,
            "oom_kill",
            "killed tail (1 kill, memory limit 10 MiB)",
        ));
    }
    events.push(event(
        NOW - ago,
        "exit",
        &format!(
            "exited with code {code}{}",
            if oom_killed { " (OOM killed)" } else { "" }
        ),
    ));
    Sample {
        running: false,
        stats: None,
        cpu_percent: None,
        cpu_quota_percent: None,
        throttled_percent: None,
        events,
        state,
    }
}

pub fn event(time: u64, kind: &str, detail: &str) -> EventLine {
    EventLine {
        time,
        time_ms: time * 1000,
        kind: kind.into(),
        detail: detail.into(),
    }
}

pub fn trip(sample: &Sample, kind: TripKind, count: u64, ago: u64) -> Trip {
    Trip {
        id: sample.state.id.clone(),
        name: sample.state.name.clone(),
        kind,
        count,
        time: NOW - ago,
    }
}

/// Three containers: a web server near its memory limit, a CPU burner held
/// at its quota, and a memory hog that was just OOM-killed and exited.
pub fn three_samples() -> Vec<Sample> {
    let mut web = state("web", "0a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d", 3 * 3600);
    web.limits = limits(Some("10m"), Some("0.5"), Some("64"));
    let web = running(web, stats(8_178_893, Some(10 << 20), 3, Some(64)), 12.5);

    let mut burner = state("cpu-burner", "5f73ce73-7975-4aba-abf6-3fa7d41a93c1", 95);
    burner.limits = limits(None, Some("0.2"), None);
    let mut burner = running(burner, stats(466_944, None, 1, None), 20.1);
    burner.throttled_percent = Some(100.0);
    if let Some(s) = &mut burner.stats {
        s.nr_throttled = Some(384);
        s.nr_periods = Some(390);
    }
    burner.events.push(event(
        NOW - 2,
        "cpu_throttled",
        "throttled in 50 of 50 periods (3.4 s held back), quota 0.2 CPUs",
    ));

    let mut hog = state("memory-hog", "7b2a3f9d-c4fd-4aa2-a3ec-cbacb325e5a0", 600);
    hog.limits = limits(Some("10m"), None, None);
    let hog = exited(hog, crate::runtime::exit_code::KILLED_BY_SIGKILL, true, 40);
    vec![web, burner, hog]
}

/// An app that has seen `samples` (twice, for some history) and `trips`.
pub fn app_with(samples: Vec<Sample>, trips: Vec<Trip>) -> App {
    let mut app = App::new("/var/lib/hako".into(), 1000, "hako".into());
    for back in (1..=30).rev() {
        let mut earlier = samples.clone();
        for (i, s) in earlier.iter_mut().enumerate() {
            // A gentle wave, so the charts have a shape.
            let wave = ((back + i as u64 * 7) % 10) as f64 / 10.0;
            if let Some(st) = &mut s.stats {
                st.memory_usage = st
                    .memory_usage
                    .map(|m| (m as f64 * (0.5 + wave / 2.0)) as u64);
            }
            s.cpu_percent = s.cpu_percent.map(|c| c * (0.6 + wave * 0.4));
        }
        app.on_snapshot(Snapshot {
            time: NOW - back,
            samples: earlier,
            trips: vec![],
            error: None,
        });
    }
    app.on_snapshot(Snapshot {
        time: NOW,
        samples,
        trips,
        error: None,
    });
    app
}
