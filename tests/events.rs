//! The event timeline: limit trips seen by the watcher in real cgroups (as root), and
//! `hako events` reading, filtering and following timelines through the real binary.

// A test stops at the first thing that is not as expected.
#![allow(clippy::unwrap_used)]

use hako::runtime::cgroup::{detect_layout, Cgroup, CgroupLayout, Manager, CGROUP_ROOT};
use hako::runtime::events::{self, spawn_watcher, Event, EventKind, Readings, Watcher};
use hako::runtime::limits::{CpuQuota, Limits};
use hako::runtime::paths::Paths;
use hako::runtime::state::{self, ContainerState, Status};
use std::fs;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

const HAKO: &str = env!("CARGO_BIN_EXE_hako");

/// Fails (never skips) when not run as root.
fn require_root() {
    assert!(
        nix::unistd::geteuid().is_root(),
        "these tests create real cgroups and read the kernel log: run them as root"
    );
}

/// A real cgroup with one process in it, watched; dropping it takes everything away.
struct Watched {
    parent: String,
    cgroup: Cgroup,
    child: Child,
    watcher: Option<Watcher>,
    /// The container directory the timeline goes into.
    dir: tempfile::TempDir,
    started_ms: u64,
}

impl Watched {
    /// Creates `hako-test-events-<uuid>/<uuid>` with `limits`, starts the watcher and
    /// runs `script` (after `sh` has joined every hierarchy) in it.
    fn start(limits: Limits, script: &str) -> Watched {
        require_root();
        let parent = format!("hako-test-events-{}", uuid::Uuid::new_v4());
        let id = uuid::Uuid::new_v4().to_string();
        let layout = detect_layout().unwrap();
        let cgroup = Cgroup::for_container(layout, Path::new(CGROUP_ROOT), &parent, &id).unwrap();
        cgroup.create(&limits).unwrap();
        let dir = tempfile::tempdir().unwrap();
        let started_ms = events::now_ms();
        let watcher = spawn_watcher(dir.path().to_path_buf(), &id, "box", cgroup.clone()).unwrap();
        let join = "for f; do echo $$ > \"$f\" || exit 99; done; echo joined; exec >/dev/null; ";
        let mut child = Command::new("sh")
            .arg("-c")
            .arg(format!("{join}{script}"))
            .arg("sh")
            .args(cgroup.procs_files())
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        // Until `sh` is in every hierarchy, a removal could freeze and kill it in
        // some and miss it in others: wait for it to say it joined them all.
        let mut said = String::new();
        std::io::BufRead::read_line(
            &mut std::io::BufReader::new(child.stdout.take().unwrap()),
            &mut said,
        )
        .unwrap();
        assert_eq!(said, "joined\n", "sh did not join every hierarchy");
        Watched {
            parent,
            cgroup,
            child,
            watcher: Some(watcher),
            dir,
            started_ms,
        }
    }

    /// Waits up to `within` for an event of `kind`.
    fn wait_for(&self, kind: &str, within: Duration) -> Event {
        let mut recorded = vec![];
        let found = wait_until(within, || {
            recorded = events::read(self.dir.path()).unwrap();
            recorded.iter().any(|e| e.kind.word() == kind)
        });
        assert!(
            found,
            "no {kind} event within {within:?}; recorded: {recorded:?}"
        );
        recorded
            .into_iter()
            .find(|e| e.kind.word() == kind)
            .unwrap()
    }

    fn readings(&self) -> Readings {
        self.watcher.as_ref().expect("watching").readings()
    }

    /// Waits up to 5 s until the watcher's readings satisfy `enough`.
    fn wait_for_readings(&self, what: &str, enough: impl Fn(Readings) -> bool) {
        let found = wait_until(Duration::from_secs(5), || enough(self.readings()));
        assert!(found, "no {what} within 5 s: {:?}", self.readings());
    }

    /// Stops the watcher, removes the cgroup and checks that nothing is left.
    fn finish(mut self) {
        let started = Instant::now();
        self.watcher.take().unwrap().stop();
        assert!(
            started.elapsed() < Duration::from_millis(100),
            "stop took {:?}",
            started.elapsed()
        );
        self.cgroup.remove().unwrap();
        self.child.wait().unwrap();
        assert_eq!(
            cgroups_named(Path::new(CGROUP_ROOT), &self.parent),
            Vec::<PathBuf>::new()
        );
        // Killed processes whose parent had exited stay zombies until init reaps
        // them, and a zombie still names its (deleted) cgroup.
        wait_until(Duration::from_secs(5), || {
            processes_in(&self.parent).is_empty()
        });
        assert_eq!(processes_in(&self.parent), Vec::<String>::new());
    }
}

impl Drop for Watched {
    fn drop(&mut self) {
        drop(self.watcher.take());
        let _ = self.cgroup.remove();
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Polls `done` until it holds or `within` has passed; whether it held.
fn wait_until(within: Duration, mut done: impl FnMut() -> bool) -> bool {
    let deadline = Instant::now() + within;
    loop {
        if done() {
            return true;
        }
        if Instant::now() >= deadline {
            return false;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Every directory named `name` below `dir` (symlinks such as `cpu -> cpu,cpuacct`
/// are not followed).
fn cgroups_named(dir: &Path, name: &str) -> Vec<PathBuf> {
    let mut found = vec![];
    let Ok(entries) = fs::read_dir(dir) else {
        return found;
    };
    for entry in entries.flatten() {
        if entry.file_type().is_ok_and(|t| t.is_dir()) {
            if entry.file_name() == name {
                found.push(entry.path());
            }
            found.extend(cgroups_named(&entry.path(), name));
        }
    }
    found
}

/// The pids of processes whose /proc/PID/cgroup mentions `parent`.
fn processes_in(parent: &str) -> Vec<String> {
    fs::read_dir("/proc")
        .unwrap()
        .flatten()
        .filter(|e| {
            e.file_name()
                .to_string_lossy()
                .bytes()
                .all(|b| b.is_ascii_digit())
        })
        .filter(|e| {
            fs::read_to_string(e.path().join("cgroup")).is_ok_and(|text| text.contains(parent))
        })
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect()
}

#[test]
fn an_oom_kill_is_recorded_with_its_time_and_the_killed_process() {
    let watched = Watched::start(
        Limits {
            memory: Some(16 << 20),
            ..Limits::default()
        },
        // tail keeps everything since the last newline, and /dev/zero has none.
        "exec tail /dev/zero",
    );
    let event = watched.wait_for("oom_kill", Duration::from_secs(10));
    assert!(
        (watched.started_ms..=events::now_ms()).contains(&event.time_ms),
        "{event:?}"
    );
    assert_eq!(event.name, "box");
    let EventKind::OomKill {
        count,
        process,
        memory_limit,
    } = &event.kind
    else {
        unreachable!()
    };
    assert!(*count >= 1);
    assert_eq!(*memory_limit, Some(16 << 20));
    if fs::File::open("/dev/kmsg").is_ok() {
        assert_eq!(process.as_deref(), Some("tail"), "{event:?}");
    }
    assert!(
        event
            .human_line()
            .contains("oom_kill  killed tail (1 kill, memory limit 16 MiB)")
            || process.is_none(),
        "{}",
        event.human_line()
    );
    watched.finish();
}

#[test]
fn a_busy_loop_under_a_cpu_quota_is_throttled() {
    let quota = CpuQuota {
        quota_us: 20_000,
        period_us: 100_000,
    };
    let watched = Watched::start(
        Limits {
            cpu: Some(quota),
            ..Limits::default()
        },
        "while :; do :; done",
    );
    let event = watched.wait_for("cpu_throttled", Duration::from_secs(5));
    let EventKind::CpuThrottled {
        periods,
        quota: seen,
        ..
    } = event.kind
    else {
        unreachable!()
    };
    assert!(periods >= 1);
    assert_eq!(seen, Some(quota));
    // Throttled in every period, but recorded at most once per 5 s: two more
    // readings (each of them sees more throttling) add no event.
    let seen_at = watched.readings().taken;
    watched.wait_for_readings("two more readings", |r| r.taken >= seen_at + 2);
    let throttled = events::read(watched.dir.path())
        .unwrap()
        .iter()
        .filter(|e| e.kind.word() == "cpu_throttled")
        .count();
    assert_eq!(throttled, 1);
    watched.finish();
}

#[test]
fn a_fork_loop_under_a_pids_limit_hits_it() {
    let watched = Watched::start(
        Limits {
            pids: Some(10),
            ..Limits::default()
        },
        "while :; do sleep 5 & done",
    );
    let event = watched.wait_for("pids_limit", Duration::from_secs(5));
    assert!(
        matches!(event.kind, EventKind::PidsLimit { max: Some(10), .. }),
        "{event:?}"
    );
    watched.finish();
}

#[test]
fn stopping_records_a_trip_seen_only_by_the_last_reading() {
    // The OOM kill happens and the watcher is stopped at once: whatever the regular
    // readings missed, the last one records.
    let mut watched = Watched::start(
        Limits {
            memory: Some(16 << 20),
            ..Limits::default()
        },
        "exec tail /dev/zero",
    );
    let status = watched.child.wait().unwrap();
    assert_eq!(
        std::os::unix::process::ExitStatusExt::signal(&status),
        Some(9)
    );
    watched.watcher.take().unwrap().stop();
    let kinds: Vec<&str> = events::read(watched.dir.path())
        .unwrap()
        .iter()
        .map(|e| e.kind.word())
        .collect();
    assert!(kinds.contains(&"oom_kill"), "{kinds:?}");
    watched.cgroup.remove().unwrap();
    assert!(cgroups_named(Path::new(CGROUP_ROOT), &watched.parent).is_empty());
}

#[test]
fn a_cgroup_removed_under_a_running_watcher_goes_quietly() {
    // As `hako rm -f` does from another process while the monitor's watcher runs.
    let mut watched = Watched::start(
        Limits {
            memory: Some(16 << 20),
            ..Limits::default()
        },
        "exec sleep 60",
    );
    // The watcher reads the live cgroup, then tries the removed one.
    watched.wait_for_readings("reading", |r| r.taken >= 1);
    watched.cgroup.remove().unwrap();
    watched.child.wait().unwrap();
    watched.wait_for_readings("reading of the removed cgroup", |r| r.failed >= 1);
    let started = Instant::now();
    watched.watcher.take().unwrap().stop();
    assert!(started.elapsed() < Duration::from_millis(100));
    assert!(events::read(watched.dir.path()).unwrap().is_empty());
    assert!(cgroups_named(Path::new(CGROUP_ROOT), &watched.parent).is_empty());
}

// ---- `hako events` through the binary ----

const WEB: &str = "aaaa1111-0000-4000-8000-000000000000";
const DB: &str = "bbbb2222-0000-4000-8000-000000000000";

fn container_state(id: &str, name: &str) -> ContainerState {
    ContainerState {
        id: id.into(),
        name: name.into(),
        image: "busybox".into(),
        command: vec!["sh".into()],
        hostname: id[..12].into(),
        status: Status::Exited,
        pid: None,
        exit_code: Some(137),
        oom_killed: true,
        created: 1_795_959_600,
        started: Some(1_795_959_600),
        finished: Some(1_795_959_610),
        limits: Limits::default(),
        cgroup_layout: CgroupLayout::V1,
        cgroup_parent: "hako".into(),
        capabilities: vec![],
        auto_remove: false,
        env: vec![],
        user: (0, 0),
        workdir: "/".into(),
        tty: false,
        interactive: false,
        monitor_pid: None,
        seccomp: None,
        oom_kills_at_sigkill: None,
    }
}

/// A root with two containers, `web` and `db`, and timelines written by hand.
fn root_with_timelines(web_lines: &[String], db_lines: &[String]) -> tempfile::TempDir {
    let root = tempfile::tempdir().unwrap();
    let paths = Paths::under(root.path());
    for (id, name, lines) in [(WEB, "web", web_lines), (DB, "db", db_lines)] {
        let dir = paths.container(id);
        fs::create_dir_all(&dir).unwrap();
        state::write(&dir, &container_state(id, name)).unwrap();
        let text: String = lines.iter().map(|l| format!("{l}\n")).collect();
        fs::write(dir.join(events::EVENTS_FILE), text).unwrap();
    }
    root
}

fn line(time_ms: u64, id: &str, name: &str, rest: &str) -> String {
    format!(r#"{{"time_ms":{time_ms},"id":"{id}","name":"{name}",{rest}}}"#)
}

struct Output {
    code: i32,
    stdout: String,
    stderr: String,
}

fn hako(root: &Path, args: &[&str]) -> Output {
    let out = Command::new(HAKO)
        .arg("--root")
        .arg(root)
        .args(args)
        .env_remove("HAKO_ROOT")
        .stdin(Stdio::null())
        .output()
        .unwrap();
    Output {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

fn json_lines(text: &str) -> Vec<serde_json::Value> {
    text.lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{l:?}: {e}")))
        .collect()
}

/// 2026-11-29T13:40:00Z.
const T0: u64 = 1_795_959_600_000;

fn sample_root() -> tempfile::TempDir {
    root_with_timelines(
        &[
            line(
                T0,
                WEB,
                "web",
                r#""kind":"create","image":"busybox","command":["tail","/dev/zero"]"#,
            ),
            line(T0 + 5, WEB, "web", r#""kind":"start","pid":4242"#),
            line(
                T0 + 1123,
                WEB,
                "web",
                r#""kind":"oom_kill","count":1,"process":"tail","memory_limit":10485760"#,
            ),
            line(
                T0 + 1130,
                WEB,
                "web",
                r#""kind":"exit","code":137,"oom_killed":true"#,
            ),
        ],
        &[
            line(
                T0 + 2,
                DB,
                "db",
                r#""kind":"create","image":"busybox","command":["sh"]"#,
            ),
            line(
                T0 + 60_000,
                DB,
                "db",
                r#""kind":"update","limits":"memory 64 MiB""#,
            ),
            "not json at all".into(),
        ],
    )
}

#[test]
fn events_of_every_container_are_merged_by_time() {
    let root = sample_root();
    let out = hako(root.path(), &["events", "--format", "json"]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    let all = json_lines(&out.stdout);
    let order: Vec<(&str, &str)> = all
        .iter()
        .map(|e| (e["name"].as_str().unwrap(), e["kind"].as_str().unwrap()))
        .collect();
    assert_eq!(
        order,
        [
            ("web", "create"),
            ("db", "create"),
            ("web", "start"),
            ("web", "oom_kill"),
            ("web", "exit"),
            ("db", "update"),
        ]
    );
    assert_eq!(all[3]["process"], "tail");
    assert_eq!(all[3]["time_ms"], T0 + 1123);
}

#[test]
fn one_container_by_name_or_id_prefix_in_text() {
    let root = sample_root();
    let by_name = hako(root.path(), &["events", "web"]);
    assert_eq!(by_name.code, 0, "{}", by_name.stderr);
    assert_eq!(
        by_name.stdout.lines().collect::<Vec<_>>(),
        [
            r#"2026-11-29T13:40:00.000Z  web  create  image busybox, command "tail /dev/zero""#,
            "2026-11-29T13:40:00.005Z  web  start  started, pid 4242",
            "2026-11-29T13:40:01.123Z  web  oom_kill  killed tail (1 kill, memory limit 10 MiB)",
            "2026-11-29T13:40:01.130Z  web  exit  exited with code 137 (OOM killed)",
        ]
    );
    let by_prefix = hako(root.path(), &["events", "--format", "json", "bbbb"]);
    assert_eq!(json_lines(&by_prefix.stdout).len(), 2);
}

#[test]
fn since_takes_unix_seconds_a_utc_time_or_a_duration() {
    let root = sample_root();
    let kinds = |args: &[&str]| -> Vec<String> {
        let out = hako(root.path(), args);
        assert_eq!(out.code, 0, "{args:?}: {}", out.stderr);
        json_lines(&out.stdout)
            .iter()
            .map(|e| e["kind"].as_str().unwrap().to_string())
            .collect()
    };
    let unix = (T0 / 1000 + 1).to_string();
    assert_eq!(
        kinds(&["events", "--format", "json", "--since", &unix]),
        ["oom_kill", "exit", "update"]
    );
    assert_eq!(
        kinds(&[
            "events",
            "--format",
            "json",
            "--since",
            "2026-11-29T13:41:00Z",
            "db"
        ]),
        ["update"]
    );

    // Recent events, against a duration.
    let now = events::now_ms();
    let recent = root_with_timelines(
        &[
            line(now - 20 * 60_000, WEB, "web", r#""kind":"start","pid":1"#),
            line(now - 60_000, WEB, "web", r#""kind":"rm""#),
        ],
        &[],
    );
    let out = hako(recent.path(), &["events", "--since", "10m"]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert_eq!(out.stdout.lines().count(), 1, "{}", out.stdout);
    assert!(out.stdout.contains("  web  rm  removed"), "{}", out.stdout);
}

#[test]
fn unknown_containers_and_bad_times_are_one_line_errors() {
    let root = sample_root();
    let out = hako(root.path(), &["events", "nope"]);
    assert_eq!(out.code, 1);
    assert_eq!(out.stderr, "hako: no such container: nope\n");
    assert!(out.stdout.is_empty());
    let out = hako(root.path(), &["events", "--since", "yesterday"]);
    assert_eq!(out.code, 125);
    assert_eq!(out.stderr.lines().count(), 1, "{}", out.stderr);
    assert!(
        out.stderr.contains("invalid time \"yesterday\""),
        "{}",
        out.stderr
    );
    let empty = tempfile::tempdir().unwrap();
    let out = hako(empty.path(), &["events"]);
    assert_eq!((out.code, out.stdout.as_str()), (0, ""));
}

#[test]
fn following_prints_new_events_and_the_rm_of_a_removed_container() {
    let root = sample_root();
    let mut follower = Command::new(HAKO)
        .arg("--root")
        .arg(root.path())
        .args([
            "events",
            "-f",
            "--format",
            "json",
            "--since",
            "2026-11-29T13:40:01Z",
        ])
        .env_remove("HAKO_ROOT")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let (lines_tx, lines) = mpsc::channel();
    let stdout = follower.stdout.take().unwrap();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            let _ = lines_tx.send(line);
        }
    });
    let next = || -> serde_json::Value {
        let line = lines
            .recv_timeout(Duration::from_secs(5))
            .expect("the follower printed nothing within 5 s");
        serde_json::from_str(&line).unwrap()
    };
    // History first, from --since on.
    let history: Vec<String> = (0..3)
        .map(|_| next()["kind"].as_str().unwrap().into())
        .collect();
    assert_eq!(history, ["oom_kill", "exit", "update"]);

    // A line appended to a known timeline.
    let paths = Paths::under(root.path());
    let now = events::now_ms();
    let update = Event {
        time_ms: now,
        id: DB.into(),
        name: "db".into(),
        kind: EventKind::Update {
            limits: "pids 64".into(),
        },
    };
    events::record(&paths.container(DB), &update).unwrap();
    assert_eq!(next()["limits"], "pids 64");

    // A container that appears, ends and is removed at once.
    let short = paths.container("cccc3333-0000-4000-8000-000000000000");
    fs::create_dir_all(&short).unwrap();
    let event = |kind| Event {
        time_ms: events::now_ms(),
        id: "cccc3333-0000-4000-8000-000000000000".into(),
        name: "short".into(),
        kind,
    };
    events::record(&short, &event(EventKind::Start { pid: 7 })).unwrap();
    // Printed, so the follower has the file open: removing it cannot hide the rm.
    assert_eq!(next()["kind"], "start");
    events::record(&short, &event(EventKind::Rm)).unwrap();
    fs::remove_dir_all(&short).unwrap();
    let rm = next();
    assert_eq!(
        (rm["name"].as_str(), rm["kind"].as_str()),
        (Some("short"), Some("rm"))
    );

    follower.kill().unwrap();
    follower.wait().unwrap();
}
