//! The event timeline of each container: `containers/<id>/events.jsonl`.
//!
//! One JSON object per line: `{"time_ms":…,"id":…,"name":…,"kind":"oom_kill",…}`.
//! Lifecycle events (create, start, exit, rm, update) are recorded by the lifecycle;
//! limit trips (oom_kill, memory_limit, cpu_throttled, pids_limit) by a `Watcher`
//! thread that watches the container's cgroup while it runs.
//!
//! - `record(dir, &event)` appends one line in one write to a file opened with
//!   O_APPEND, so the lifecycle and the watcher, in two processes or two threads,
//!   never interleave their lines. It never creates the container's directory: an
//!   event for a container already removed is dropped.
//! - `read(dir)` gives one container's events in file order; `read_all(paths)` every
//!   container's, merged by time. A line that does not parse (being written right
//!   now, or a kind from a newer hako) is skipped.
//! - `Follower` keeps the files open and returns what is appended (`hako events -f`).
//!   Removing a container removes its events, `rm` included, so `rm` is only seen by
//!   a follower that had the file open, as with `docker events`.
//! - `spawn_watcher` starts the watcher (`watcher`), which turns counter rises into
//!   events (`tracker`) and names the OOM-killed process from the kernel log (`kmsg`).
//! - `time`: UTC formatting and `--since` parsing, without a date crate.

mod follow;
mod kmsg;
pub mod time;
mod tracker;
mod watcher;

pub use follow::Follower;
pub use time::{format_utc, now_ms, parse_since, parse_utc};
pub use watcher::{spawn_watcher, Readings, Watcher};

use crate::runtime::limits::{format_bytes, CpuQuota, Limits, MemorySwap};
use crate::runtime::paths::Paths;
use crate::runtime::text::escape_control;
use serde::{Deserialize, Serialize};
use std::fs::{self, OpenOptions};
use std::io::{self, Write};
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};
use std::time::SystemTime;
use thiserror::Error;

/// The name of the timeline file in a container's directory.
pub const EVENTS_FILE: &str = "events.jsonl";

#[derive(Debug, Error)]
pub enum EventsError {
    #[error("failed to {action} {}: {source}", path.display())]
    Io {
        action: &'static str,
        path: PathBuf,
        source: io::Error,
    },
    #[error(
        "invalid time {0:?}: use unix seconds (1795959600), a UTC time \
         (2026-11-29T13:40:00Z) or a duration ago (10m, 30s, 2h)"
    )]
    BadTime(String),
    #[error("failed to start watching the limits of container {name}: {source}")]
    Watcher { name: String, source: io::Error },
}

/// One entry of a container's timeline.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Event {
    /// Unix time in milliseconds.
    pub time_ms: u64,
    pub id: String,
    pub name: String,
    #[serde(flatten)]
    pub kind: EventKind,
}

/// What happened, with what is known about it. Sizes are in bytes; `None` means the
/// kernel does not report that value here, or for a limit, that there is none.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum EventKind {
    Create {
        image: String,
        command: Vec<String>,
    },
    Start {
        pid: i32,
    },
    Exit {
        code: i32,
        oom_killed: bool,
    },
    Rm,
    /// The limits that changed, as `limits_text` writes them.
    Update {
        limits: String,
    },
    /// The kernel's OOM killer killed `count` processes of the container.
    OomKill {
        count: u64,
        /// The newest killed process's name, from the kernel log, when it could be read.
        #[serde(default)]
        process: Option<String>,
        #[serde(default)]
        memory_limit: Option<u64>,
    },
    /// Memory use reached the limit (the kernel had to reclaim or OOM-kill).
    MemoryLimit {
        #[serde(default)]
        usage: Option<u64>,
        #[serde(default)]
        peak: Option<u64>,
        #[serde(default)]
        limit: Option<u64>,
        /// Times the limit was hit since the previous memory_limit event (v1
        /// `memory.failcnt`, v2 `memory.events` max); 0 when only the peak told.
        hits: u64,
    },
    /// The CFS quota held the container back. One event sums at most 5 s of throttling.
    CpuThrottled {
        /// Periods in which the container was throttled.
        periods: u64,
        /// Periods in which it ran, over the same time.
        #[serde(default)]
        total_periods: Option<u64>,
        /// Time it spent throttled.
        #[serde(default)]
        throttled_ns: Option<u64>,
        #[serde(default)]
        quota: Option<CpuQuota>,
    },
    /// A fork or clone was refused because of the pids limit.
    PidsLimit {
        #[serde(default)]
        current: Option<u64>,
        #[serde(default)]
        max: Option<u64>,
        /// Forks refused since the previous pids_limit event (`pids.events` max).
        refused: u64,
    },
}

impl Event {
    /// An event that happens now.
    pub fn new(id: &str, name: &str, kind: EventKind) -> Event {
        Event {
            time_ms: now_ms(),
            id: id.to_string(),
            name: name.to_string(),
            kind,
        }
    }

    /// One line for people:
    /// `2026-11-29T13:40:01.123Z  web  oom_kill  killed tail (1 kill, memory limit 10 MiB)`.
    /// It goes to a terminal, so nothing a container wrote into it (a process
    /// name) can carry a control character there.
    pub fn human_line(&self) -> String {
        let line = format!(
            "{}  {}  {}  {}",
            format_utc(self.time_ms),
            self.name,
            self.kind.word(),
            self.kind.detail()
        );
        escape_control(&line).into_owned()
    }
}

impl EventKind {
    /// The kind as it is spelled in the file and on the command line.
    pub fn word(&self) -> &'static str {
        match self {
            EventKind::Create { .. } => "create",
            EventKind::Start { .. } => "start",
            EventKind::Exit { .. } => "exit",
            EventKind::Rm => "rm",
            EventKind::Update { .. } => "update",
            EventKind::OomKill { .. } => "oom_kill",
            EventKind::MemoryLimit { .. } => "memory_limit",
            EventKind::CpuThrottled { .. } => "cpu_throttled",
            EventKind::PidsLimit { .. } => "pids_limit",
        }
    }

    /// What happened, in words, safe to show on a terminal: the command is
    /// quoted with Rust's escapes, a process name (chosen by the container,
    /// read from the kernel log) has its control characters escaped.
    pub fn detail(&self) -> String {
        match self {
            EventKind::Create { image, command } => {
                format!("image {image}, command {:?}", command.join(" "))
            }
            EventKind::Start { pid } => format!("started, pid {pid}"),
            EventKind::Exit { code, oom_killed } => {
                let oom = if *oom_killed { " (OOM killed)" } else { "" };
                format!("exited with code {code}{oom}")
            }
            EventKind::Rm => "removed".into(),
            EventKind::Update { limits } => format!("limits changed: {limits}"),
            EventKind::OomKill {
                count,
                process,
                memory_limit,
            } => {
                let who = escape_control(process.as_deref().unwrap_or("a process"));
                let kills = plural(*count, "kill");
                match memory_limit {
                    Some(limit) => format!(
                        "killed {who} ({kills}, memory limit {})",
                        format_bytes(*limit)
                    ),
                    None => format!("killed {who} ({kills})"),
                }
            }
            EventKind::MemoryLimit {
                usage,
                peak,
                limit,
                hits,
            } => {
                let mut parts = vec![];
                if let Some(usage) = usage {
                    parts.push(format!("usage {}", format_bytes(*usage)));
                }
                if let Some(peak) = peak {
                    parts.push(format!("peak {}", format_bytes(*peak)));
                }
                if let Some(limit) = limit {
                    parts.push(format!("limit {}", format_bytes(*limit)));
                }
                if *hits > 0 {
                    parts.push(plural(*hits, "hit"));
                }
                format!("memory limit reached ({})", parts.join(", "))
            }
            EventKind::CpuThrottled {
                periods,
                total_periods,
                throttled_ns,
                quota,
            } => {
                let mut text = match total_periods {
                    Some(total) => format!("throttled in {periods} of {total} periods"),
                    None => format!("throttled in {}", plural(*periods, "period")),
                };
                if let Some(ns) = throttled_ns {
                    text.push_str(&format!(" ({} held back)", format_ns(*ns)));
                }
                if let Some(quota) = quota {
                    text.push_str(&format!(", quota {} CPUs", format_cpus(quota)));
                }
                text
            }
            EventKind::PidsLimit {
                current,
                max,
                refused,
            } => {
                let number = |n: &Option<u64>| n.map_or_else(|| "?".to_string(), |n| n.to_string());
                let mut text = format!(
                    "pids limit reached ({} of {})",
                    number(current),
                    number(max)
                );
                if *refused > 0 {
                    text.push_str(&format!(", {} refused", plural(*refused, "fork")));
                }
                text
            }
        }
    }
}

fn plural(n: u64, word: &str) -> String {
    if n == 1 {
        format!("1 {word}")
    } else {
        format!("{n} {word}s")
    }
}

/// `0.2`, `1.5`, `2`: at most two decimals, no trailing zeros.
fn format_cpus(quota: &CpuQuota) -> String {
    let text = format!("{:.2}", quota.cpus());
    text.trim_end_matches('0').trim_end_matches('.').to_string()
}

/// `850 µs`, `120 ms`, `1.2 s`.
fn format_ns(ns: u64) -> String {
    match ns {
        0..=999_999 => format!("{} µs", ns / 1_000),
        1_000_000..=999_999_999 => format!("{} ms", ns / 1_000_000),
        _ => format!("{:.1} s", ns as f64 / 1e9),
    }
}

/// The limits set in `limits` (a change, as `hako update` gives it), in words:
/// `memory 16 MiB, memory+swap 32 MiB, cpus 0.5, pids 64`.
pub fn limits_text(limits: &Limits) -> String {
    let mut parts = vec![];
    if let Some(memory) = limits.memory {
        parts.push(format!("memory {}", format_bytes(memory)));
        match limits.memory_swap {
            Some(MemorySwap::Unlimited) => parts.push("memory+swap unlimited".into()),
            Some(MemorySwap::Total(total)) => {
                parts.push(format!("memory+swap {}", format_bytes(total)))
            }
            None => {}
        }
    }
    if let Some(cpu) = &limits.cpu {
        parts.push(format!("cpus {}", format_cpus(cpu)));
    }
    if let Some(pids) = limits.pids {
        parts.push(format!("pids {pids}"));
    }
    if parts.is_empty() {
        "none".into()
    } else {
        parts.join(", ")
    }
}

/// Appends `event` to the timeline in the container directory `dir`.
pub fn record(dir: &Path, event: &Event) -> Result<(), EventsError> {
    let path = dir.join(EVENTS_FILE);
    let mut line = serde_json::to_vec(event).expect("an event serializes");
    line.push(b'\n');
    let io_error = |action| {
        let path = path.clone();
        move |source| EventsError::Io {
            action,
            path,
            source,
        }
    };
    let mut file = OpenOptions::new()
        .append(true)
        .create(true)
        .mode(0o644)
        .open(&path)
        .map_err(io_error("open"))?;
    // One write of the whole line: with O_APPEND the kernel puts it at the end of the
    // file as one piece, whoever else is appending at the same time.
    file.write_all(&line).map_err(io_error("append to"))
}

/// The events of the container whose directory is `dir`, in the order they were
/// recorded; none when it has no timeline yet.
pub fn read(dir: &Path) -> Result<Vec<Event>, EventsError> {
    let path = dir.join(EVENTS_FILE);
    match fs::read(&path) {
        Ok(bytes) => Ok(parse_lines(&bytes)),
        Err(source) if source.kind() == io::ErrorKind::NotFound => Ok(vec![]),
        Err(source) => Err(EventsError::Io {
            action: "read",
            path,
            source,
        }),
    }
}

/// What changes whenever an event is added to a timeline: the length and
/// time of its file.
pub type TimelineVersion = (u64, SystemTime);

/// The version of the timeline in the container directory `dir`; `None`
/// when it has none (yet).
pub fn version(dir: &Path) -> Option<TimelineVersion> {
    let meta = fs::metadata(dir.join(EVENTS_FILE)).ok()?;
    Some((meta.len(), meta.modified().ok()?))
}

/// Every container's events, merged by time (events of the same millisecond keep
/// their order within each file).
pub fn read_all(paths: &Paths) -> Result<Vec<Event>, EventsError> {
    let containers = paths.containers();
    let entries = match fs::read_dir(&containers) {
        Ok(entries) => entries,
        Err(source) if source.kind() == io::ErrorKind::NotFound => return Ok(vec![]),
        Err(source) => {
            return Err(EventsError::Io {
                action: "list",
                path: containers,
                source,
            })
        }
    };
    let mut all = vec![];
    for entry in entries.flatten() {
        if entry.file_type().is_ok_and(|t| t.is_dir()) {
            all.extend(read(&entry.path())?);
        }
    }
    sort_by_time(&mut all);
    Ok(all)
}

/// Sorts by time, keeping the order of events recorded in the same millisecond.
pub fn sort_by_time(events: &mut [Event]) {
    events.sort_by_key(|e| e.time_ms);
}

/// The events in `bytes`, one JSON object per line; other lines are skipped.
fn parse_lines(bytes: &[u8]) -> Vec<Event> {
    bytes
        .split(|&b| b == b'\n')
        .filter(|line| !line.is_empty())
        .filter_map(|line| serde_json::from_slice(line).ok())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn event(time_ms: u64, kind: EventKind) -> Event {
        Event {
            time_ms,
            id: "0123abcd-ef01-4234-8567-89abcdef0123".into(),
            name: "web".into(),
            kind,
        }
    }

    #[test]
    fn events_are_flat_json_objects_with_their_kind() {
        let e = event(
            1_795_959_601_123,
            EventKind::OomKill {
                count: 1,
                process: Some("tail".into()),
                memory_limit: Some(10 << 20),
            },
        );
        let json = serde_json::to_string(&e).unwrap();
        assert_eq!(
            json,
            r#"{"time_ms":1795959601123,"id":"0123abcd-ef01-4234-8567-89abcdef0123","name":"web","kind":"oom_kill","count":1,"process":"tail","memory_limit":10485760}"#
        );
        assert_eq!(serde_json::from_str::<Event>(&json).unwrap(), e);
    }

    #[test]
    fn every_kind_reads_back_as_written() {
        let kinds = [
            EventKind::Create {
                image: "busybox".into(),
                command: vec!["sh".into(), "-c".into(), "echo hi".into()],
            },
            EventKind::Start { pid: 4242 },
            EventKind::Exit {
                code: crate::runtime::exit_code::KILLED_BY_SIGKILL,
                oom_killed: true,
            },
            EventKind::Rm,
            EventKind::Update {
                limits: "memory 16 MiB".into(),
            },
            EventKind::OomKill {
                count: 2,
                process: None,
                memory_limit: None,
            },
            EventKind::MemoryLimit {
                usage: Some(1),
                peak: Some(2),
                limit: Some(3),
                hits: 4,
            },
            EventKind::CpuThrottled {
                periods: 37,
                total_periods: Some(50),
                throttled_ns: Some(1_200_000_000),
                quota: Some(CpuQuota {
                    quota_us: 20_000,
                    period_us: 100_000,
                }),
            },
            EventKind::PidsLimit {
                current: Some(10),
                max: Some(10),
                refused: 3,
            },
        ];
        for kind in kinds {
            let e = event(1, kind);
            let json = serde_json::to_string(&e).unwrap();
            assert_eq!(serde_json::from_str::<Event>(&json).unwrap(), e, "{json}");
        }
        let rm = serde_json::to_string(&event(5, EventKind::Rm)).unwrap();
        assert!(rm.ends_with(r#""kind":"rm"}"#), "{rm}");
    }

    #[test]
    fn missing_optional_fields_read_as_not_reported() {
        let json = r#"{"time_ms":7,"id":"x","name":"web","kind":"oom_kill","count":1}"#;
        assert_eq!(
            serde_json::from_str::<Event>(json).unwrap().kind,
            EventKind::OomKill {
                count: 1,
                process: None,
                memory_limit: None
            }
        );
    }

    #[test]
    fn human_lines_say_what_happened() {
        let cases = [
            (
                EventKind::OomKill {
                    count: 1,
                    process: Some("tail".into()),
                    memory_limit: Some(10 << 20),
                },
                "2026-11-29T13:40:01.123Z  web  oom_kill  killed tail (1 kill, memory limit 10 MiB)",
            ),
            (
                EventKind::OomKill {
                    count: 3,
                    process: None,
                    memory_limit: None,
                },
                "2026-11-29T13:40:01.123Z  web  oom_kill  killed a process (3 kills)",
            ),
            (
                EventKind::MemoryLimit {
                    usage: Some(8178893),
                    peak: Some(10 << 20),
                    limit: Some(10 << 20),
                    hits: 0,
                },
                "2026-11-29T13:40:01.123Z  web  memory_limit  memory limit reached \
                 (usage 7.8 MiB, peak 10 MiB, limit 10 MiB)",
            ),
            (
                EventKind::CpuThrottled {
                    periods: 37,
                    total_periods: Some(50),
                    throttled_ns: Some(1_234_000_000),
                    quota: Some(CpuQuota {
                        quota_us: 20_000,
                        period_us: 100_000,
                    }),
                },
                "2026-11-29T13:40:01.123Z  web  cpu_throttled  throttled in 37 of 50 periods \
                 (1.2 s held back), quota 0.2 CPUs",
            ),
            (
                EventKind::PidsLimit {
                    current: Some(10),
                    max: Some(10),
                    refused: 1,
                },
                "2026-11-29T13:40:01.123Z  web  pids_limit  pids limit reached (10 of 10), \
                 1 fork refused",
            ),
            (
                EventKind::Exit {
                    code: crate::runtime::exit_code::KILLED_BY_SIGKILL,
                    oom_killed: true,
                },
                "2026-11-29T13:40:01.123Z  web  exit  exited with code 137 (OOM killed)",
            ),
            (
                EventKind::Rm,
                "2026-11-29T13:40:01.123Z  web  rm  removed",
            ),
        ];
        for (kind, line) in cases {
            assert_eq!(event(1_795_959_601_123, kind).human_line(), line);
        }
    }

    #[test]
    fn limits_read_like_the_flags_that_set_them() {
        let limits = Limits {
            memory: Some(16 << 20),
            memory_swap: Some(MemorySwap::Total(32 << 20)),
            cpu: Some(CpuQuota {
                quota_us: 50_000,
                period_us: 100_000,
            }),
            pids: Some(64),
        };
        assert_eq!(
            limits_text(&limits),
            "memory 16 MiB, memory+swap 32 MiB, cpus 0.5, pids 64"
        );
        let cpus_only = Limits {
            cpu: Some(CpuQuota {
                quota_us: 150_000,
                period_us: 100_000,
            }),
            ..Limits::default()
        };
        assert_eq!(limits_text(&cpus_only), "cpus 1.5");
        assert_eq!(limits_text(&Limits::default()), "none");
        assert_eq!(format_ns(850_000), "850 µs");
        assert_eq!(format_ns(120_000_000), "120 ms");
    }

    #[test]
    fn record_appends_lines_that_read_back_in_order() {
        let dir = tempfile::tempdir().unwrap();
        assert!(read(dir.path()).unwrap().is_empty());
        let first = event(2, EventKind::Start { pid: 1 });
        let second = event(1, EventKind::Rm);
        record(dir.path(), &first).unwrap();
        record(dir.path(), &second).unwrap();
        // A line cut short (a writer that died mid-line) and a kind from a newer hako.
        let path = dir.path().join(EVENTS_FILE);
        let mut file = OpenOptions::new().append(true).open(&path).unwrap();
        file.write_all(
            b"{\"time_ms\":3,\"kind\":\"teleport\",\"id\":\"x\",\"name\":\"y\"}\n{\"time_",
        )
        .unwrap();
        assert_eq!(read(dir.path()).unwrap(), [first, second]);
    }

    #[test]
    fn record_never_makes_the_container_directory() {
        let root = tempfile::tempdir().unwrap();
        let gone = root.path().join("removed");
        let error = record(&gone, &event(1, EventKind::Rm)).unwrap_err();
        assert!(error.to_string().contains("events.jsonl"), "{error}");
        assert!(!gone.exists());
    }

    #[test]
    fn concurrent_writers_never_interleave_lines() {
        let dir = tempfile::tempdir().unwrap();
        let writers: Vec<_> = (0..4)
            .map(|w| {
                let dir = dir.path().to_path_buf();
                std::thread::spawn(move || {
                    for i in 0..200 {
                        let kind = EventKind::Update {
                            limits: format!("writer {w} line {i} {}", "x".repeat(300)),
                        };
                        record(&dir, &event(i, kind)).unwrap();
                    }
                })
            })
            .collect();
        for writer in writers {
            writer.join().unwrap();
        }
        let text = fs::read_to_string(dir.path().join(EVENTS_FILE)).unwrap();
        assert_eq!(text.lines().count(), 800);
        assert_eq!(read(dir.path()).unwrap().len(), 800);
    }

    #[test]
    fn read_all_merges_every_container_by_time() {
        let root = tempfile::tempdir().unwrap();
        let paths = Paths::under(root.path());
        assert!(read_all(&paths).unwrap().is_empty());
        for (id, times) in [("a", [1, 4]), ("b", [2, 3])] {
            let dir = paths.container(id);
            fs::create_dir_all(&dir).unwrap();
            for t in times {
                let mut e = event(t, EventKind::Start { pid: t as i32 });
                e.id = id.into();
                record(&dir, &e).unwrap();
            }
        }
        let order: Vec<(u64, String)> = read_all(&paths)
            .unwrap()
            .into_iter()
            .map(|e| (e.time_ms, e.id))
            .collect();
        assert_eq!(
            order,
            [
                (1, "a".to_string()),
                (2, "b".to_string()),
                (3, "b".to_string()),
                (4, "a".to_string())
            ]
        );
    }
}
