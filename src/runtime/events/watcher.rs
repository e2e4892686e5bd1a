//! A thread per running container that records its limit trips as they happen.
//!
//! The thread sleeps in poll(2) on:
//! - a stop eventfd, so `Watcher::stop` ends it at once (after one last reading);
//! - on v1, an eventfd the kernel signals when the memory cgroup is under OOM
//!   (registered in `cgroup.event_control` with an fd of `memory.oom_control`);
//! - on v2, inotify IN_MODIFY on `memory.events` and `pids.events`, which the kernel
//!   touches when one of their counters changes.
//!
//! and reads every counter at least every `SAMPLE_EVERY`, since nothing notifies a
//! rise of `memory.failcnt`, `memory.max_usage_in_bytes`, `cpu.stat` or, on v1,
//! `pids.events`. After a notification it reads every `SAMPLE_SOON` for a second:
//! the v1 OOM notification comes before the kill, so the kill counter rises a moment
//! later.

use super::kmsg::KernelLog;
use super::tracker::LimitTracker;
use super::{now_ms, record, Event, EventKind, EventsError};
use crate::runtime::cgroup::{Cgroup, Manager};
use nix::errno::Errno;
use nix::poll::{poll, PollFd, PollFlags};
use nix::sys::eventfd::{EfdFlags, EventFd};
use nix::sys::inotify::{AddWatchFlags, InitFlags, Inotify};
use nix::sys::signal::{pthread_sigmask, SigSet, SigmaskHow};
use std::fs::{self, File};
use std::io;
use std::os::fd::{AsFd, AsRawFd};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};

/// The longest time between two readings of the counters.
const SAMPLE_EVERY: Duration = Duration::from_millis(500);
/// The time between readings right after the kernel signalled a limit.
const SAMPLE_SOON: Duration = Duration::from_millis(50);
/// How long readings stay that frequent.
const SOON_FOR: Duration = Duration::from_secs(1);

/// A running watcher. `stop()` (or dropping it) takes a last reading, records what
/// it shows and ends the thread, within a few milliseconds.
pub struct Watcher {
    stop: Arc<EventFd>,
    thread: Option<JoinHandle<()>>,
    readings: Arc<ReadingCounts>,
}

/// How often the watcher has looked at the cgroup: the proof that it runs,
/// which a quiet timeline alone cannot give.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Readings {
    /// Readings of the counters.
    pub taken: u64,
    /// Attempts that found the cgroup unreadable (removed).
    pub failed: u64,
}

#[derive(Debug, Default)]
struct ReadingCounts {
    taken: AtomicU64,
    failed: AtomicU64,
}

impl Watcher {
    /// How many readings the watcher has taken so far.
    pub fn readings(&self) -> Readings {
        Readings {
            taken: self.readings.taken.load(Ordering::SeqCst),
            failed: self.readings.failed.load(Ordering::SeqCst),
        }
    }

    /// Stops the watcher after one last reading. Call it before removing the cgroup,
    /// so that a trip just before the container ended is still recorded.
    pub fn stop(mut self) {
        self.stop_and_wait();
    }

    fn stop_and_wait(&mut self) {
        if let Some(thread) = self.thread.take() {
            let _ = self.stop.write(1);
            let _ = thread.join();
        }
    }
}

impl Drop for Watcher {
    fn drop(&mut self) {
        self.stop_and_wait();
    }
}

impl std::fmt::Debug for Watcher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Watcher")
            .field("running", &self.thread.is_some())
            .finish()
    }
}

/// Starts watching `cgroup`, the cgroup of container `id` (named `name`), recording
/// its limit trips in the timeline in its directory `dir`. The counters count from
/// zero, as they do in a cgroup made for the container: start it right after the
/// container is created. Call it after the container's first process is cloned
/// (hako clones it while single-threaded).
pub fn spawn_watcher(
    dir: PathBuf,
    id: &str,
    name: &str,
    cgroup: Cgroup,
) -> Result<Watcher, EventsError> {
    let failed = |source: io::Error| EventsError::Watcher {
        name: name.to_string(),
        source,
    };
    let stop = Arc::new(
        EventFd::from_flags(EfdFlags::EFD_CLOEXEC | EfdFlags::EFD_NONBLOCK)
            .map_err(|e| failed(e.into()))?,
    );
    let cgroup_dirs = cgroup.paths();
    let wakeups = Wakeups::open(&cgroup);
    let kernel_log = cgroup_dirs.first().and_then(|dir| KernelLog::open(dir));
    let readings = Arc::new(ReadingCounts::default());
    let watch = Watch {
        dir,
        id: id.to_string(),
        name: name.to_string(),
        cgroup,
        tracker: LimitTracker::default(),
        wakeups,
        kernel_log,
        stop: Arc::clone(&stop),
        readings: Arc::clone(&readings),
    };
    let thread = spawn_with_signals_blocked(move || watch.run()).map_err(failed)?;
    Ok(Watcher {
        stop,
        thread: Some(thread),
        readings,
    })
}

/// Spawns a thread that starts with every signal blocked. hako takes its signals
/// through a signalfd with them blocked in the main thread; a thread with them
/// unblocked would take a SIGINT meant for the container and die of it.
fn spawn_with_signals_blocked(run: impl FnOnce() + Send + 'static) -> io::Result<JoinHandle<()>> {
    let mut previous = SigSet::empty();
    pthread_sigmask(
        SigmaskHow::SIG_SETMASK,
        Some(&SigSet::all()),
        Some(&mut previous),
    )?;
    let spawned = thread::Builder::new().name("hako-events".into()).spawn(run);
    pthread_sigmask(SigmaskHow::SIG_SETMASK, Some(&previous), None)?;
    spawned
}

/// What the kernel signals before the next reading is due.
struct Wakeups {
    /// v1: signalled when the memory cgroup is under OOM.
    oom: Option<EventFd>,
    /// v2: IN_MODIFY on memory.events and pids.events.
    files: Option<Inotify>,
}

impl Wakeups {
    /// Whatever of them can be had; readings every `SAMPLE_EVERY` cover the rest.
    fn open(cgroup: &Cgroup) -> Wakeups {
        let dirs = cgroup.paths();
        match cgroup {
            Cgroup::V1(_) => Wakeups {
                oom: dirs
                    .iter()
                    .find(|dir| dir.join("memory.oom_control").exists())
                    .and_then(|dir| register_oom_eventfd(dir).ok()),
                files: None,
            },
            Cgroup::V2(_) => Wakeups {
                oom: None,
                files: dirs.first().and_then(|dir| watch_event_files(dir).ok()),
            },
        }
    }
}

/// v1: an eventfd the kernel signals when `memory_dir` is under OOM
/// (Documentation/admin-guide/cgroup-v1/memory.rst, "OOM Control").
fn register_oom_eventfd(memory_dir: &Path) -> io::Result<EventFd> {
    let eventfd = EventFd::from_flags(EfdFlags::EFD_CLOEXEC | EfdFlags::EFD_NONBLOCK)?;
    let oom_control = File::open(memory_dir.join("memory.oom_control"))?;
    fs::write(
        memory_dir.join("cgroup.event_control"),
        format!("{} {}", eventfd.as_raw_fd(), oom_control.as_raw_fd()),
    )?;
    Ok(eventfd)
}

/// v2: inotify on the event files the kernel touches when a limit is hit.
fn watch_event_files(dir: &Path) -> io::Result<Inotify> {
    let inotify = Inotify::init(InitFlags::IN_CLOEXEC | InitFlags::IN_NONBLOCK)?;
    let mut watched = 0;
    for file in ["memory.events", "pids.events"] {
        if inotify
            .add_watch(&dir.join(file), AddWatchFlags::IN_MODIFY)
            .is_ok()
        {
            watched += 1;
        }
    }
    if watched == 0 {
        return Err(io::Error::from(io::ErrorKind::NotFound));
    }
    Ok(inotify)
}

/// Why `wait` returned.
#[derive(Debug, Default)]
struct Woken {
    stop: bool,
    /// The kernel signalled a limit.
    limit: bool,
}

/// The watcher thread's own state.
struct Watch {
    dir: PathBuf,
    id: String,
    name: String,
    cgroup: Cgroup,
    tracker: LimitTracker,
    wakeups: Wakeups,
    kernel_log: Option<KernelLog>,
    stop: Arc<EventFd>,
    readings: Arc<ReadingCounts>,
}

impl Watch {
    fn run(mut self) {
        // At once: a trip in the container's first milliseconds is already there.
        self.sample(false);
        let mut soon_until = None;
        loop {
            let timeout = match soon_until {
                Some(until) if Instant::now() < until => SAMPLE_SOON,
                _ => SAMPLE_EVERY,
            };
            let woken = self.wait(timeout);
            if woken.stop {
                self.sample(true);
                return;
            }
            if woken.limit {
                soon_until = Some(Instant::now() + SOON_FOR);
            }
            self.sample(false);
        }
    }

    fn wait(&mut self, timeout: Duration) -> Woken {
        let ready = {
            let mut fds = vec![PollFd::new(self.stop.as_fd(), PollFlags::POLLIN)];
            if let Some(oom) = &self.wakeups.oom {
                fds.push(PollFd::new(oom.as_fd(), PollFlags::POLLIN));
            }
            if let Some(files) = &self.wakeups.files {
                fds.push(PollFd::new(files.as_fd(), PollFlags::POLLIN));
            }
            let millis = u16::try_from(timeout.as_millis()).unwrap_or(u16::MAX);
            match poll(&mut fds, millis) {
                Ok(_) => {}
                Err(Errno::EINTR) => return Woken::default(),
                Err(_) => {
                    thread::sleep(timeout);
                    return Woken::default();
                }
            }
            fds.iter()
                .map(|fd| fd.revents().is_some_and(|r| !r.is_empty()))
                .collect::<Vec<bool>>()
        };
        let mut woken = Woken {
            stop: ready[0],
            limit: false,
        };
        let mut index = 1;
        if let Some(oom) = &self.wakeups.oom {
            if ready[index] {
                woken.limit = true;
                // Reading resets the count; one that cannot be read would wake poll
                // forever, so it is given up.
                if matches!(oom.read(), Err(e) if e != Errno::EAGAIN) {
                    self.wakeups.oom = None;
                }
            }
            index += 1;
        }
        if let Some(files) = &self.wakeups.files {
            if ready[index] {
                woken.limit = true;
                if matches!(files.read_events(), Err(e) if e != Errno::EAGAIN) {
                    self.wakeups.files = None;
                }
            }
        }
        woken
    }

    /// Reads the counters and records the trips they show.
    fn sample(&mut self, last: bool) {
        // A cgroup already removed has nothing more to tell.
        let Ok(stats) = self.cgroup.stats() else {
            self.readings.failed.fetch_add(1, Ordering::SeqCst);
            return;
        };
        let now = now_ms();
        for kind in self.tracker.observe(&stats, now, last) {
            let kind = match kind {
                EventKind::OomKill {
                    count,
                    process: None,
                    memory_limit,
                } => EventKind::OomKill {
                    count,
                    process: self.killed_process(),
                    memory_limit,
                },
                other => other,
            };
            let event = Event {
                time_ms: now,
                id: self.id.clone(),
                name: self.name.clone(),
                kind,
            };
            // The container directory may be gone (removed while running): nothing
            // to record into, and nothing to tell anyone.
            let _ = record(&self.dir, &event);
        }
        // Counted once what it showed is recorded, so whoever sees the count
        // sees the events too.
        self.readings.taken.fetch_add(1, Ordering::SeqCst);
    }

    fn killed_process(&mut self) -> Option<String> {
        let log = self.kernel_log.as_mut()?;
        log.newest_killed().or_else(|| {
            // The kill counter can rise a moment before the log has the record.
            thread::sleep(Duration::from_millis(20));
            log.newest_killed()
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::runtime::events::read;
    use crate::runtime::limits::Limits;

    /// A temp dir laid out like a cgroup2 root with `hako/c1` in it, as `V2Cgroup`
    /// reads it.
    fn fake_v2() -> (tempfile::TempDir, Cgroup, PathBuf) {
        let root = tempfile::tempdir().unwrap();
        fs::write(root.path().join("cgroup.controllers"), "memory pids\n").unwrap();
        fs::create_dir(root.path().join("hako")).unwrap();
        fs::write(root.path().join("hako/cgroup.controllers"), "memory pids\n").unwrap();
        let cgroup = Cgroup::v2(root.path(), "hako", "c1").unwrap();
        cgroup
            .create(&Limits {
                memory: Some(16 << 20),
                pids: Some(10),
                ..Limits::default()
            })
            .unwrap();
        let dir = root.path().join("hako/c1");
        fs::write(dir.join("memory.events"), "max 0\noom 0\noom_kill 0\n").unwrap();
        fs::write(dir.join("pids.events"), "max 0\n").unwrap();
        (root, cgroup, dir)
    }

    fn kinds(dir: &Path) -> Vec<&'static str> {
        read(dir).unwrap().iter().map(|e| e.kind.word()).collect()
    }

    /// Polls `done` until it holds; fails naming `what` after `within`.
    fn wait_until(within: Duration, what: &str, mut done: impl FnMut() -> bool) {
        let deadline = Instant::now() + within;
        while !done() {
            assert!(Instant::now() < deadline, "timed out waiting for {what}");
            thread::sleep(Duration::from_millis(5));
        }
    }

    /// Waits for the watcher's first reading, which it takes at once.
    fn wait_for_first_reading(watcher: &Watcher) {
        wait_until(Duration::from_secs(2), "the first reading", || {
            watcher.readings() != Readings::default()
        });
    }

    #[test]
    fn a_v2_oom_kill_is_recorded_when_memory_events_changes() {
        let (_root, cgroup, cgroup_dir) = fake_v2();
        let container = tempfile::tempdir().unwrap();
        let watcher = spawn_watcher(container.path().into(), "c1", "web", cgroup).unwrap();
        assert!(watcher.thread.is_some());
        // The first reading (all zeros), then a change of the file.
        wait_for_first_reading(&watcher);
        fs::write(
            cgroup_dir.join("memory.events"),
            "max 3\noom 1\noom_kill 1\n",
        )
        .unwrap();
        // inotify wakes the watcher well before the next regular reading. (It may
        // read the file half-written, and see the kill on a second reading.)
        wait_until(Duration::from_millis(400), "two events", || {
            kinds(container.path()).len() >= 2
        });
        assert_eq!(kinds(container.path()), ["memory_limit", "oom_kill"]);
        let events = read(container.path()).unwrap();
        assert_eq!(
            (events[1].id.as_str(), events[1].name.as_str()),
            ("c1", "web")
        );
        assert!(matches!(
            &events[1].kind,
            EventKind::OomKill { count: 1, memory_limit: Some(m), .. } if *m == 16 << 20
        ));
        assert!(events[1].time_ms > 0);
        watcher.stop();
    }

    #[test]
    fn stop_is_prompt_and_takes_a_last_reading() {
        let (_root, cgroup, cgroup_dir) = fake_v2();
        let container = tempfile::tempdir().unwrap();
        let watcher = spawn_watcher(container.path().into(), "c1", "web", cgroup).unwrap();
        wait_for_first_reading(&watcher);
        // pids.max reached just before the end: a plain write the watcher is not woken
        // for (inotify watches pids.events, not pids.current).
        fs::write(cgroup_dir.join("pids.current"), "10\n").unwrap();
        let mut events = fs::read_to_string(cgroup_dir.join("pids.events")).unwrap();
        events = events.replace("max 0", "max 2");
        // Rewrite through a rename, which inotify on the old inode does not report.
        fs::write(cgroup_dir.join("pids.events.new"), events).unwrap();
        fs::rename(
            cgroup_dir.join("pids.events.new"),
            cgroup_dir.join("pids.events"),
        )
        .unwrap();
        let started = Instant::now();
        watcher.stop();
        assert!(
            started.elapsed() < Duration::from_millis(100),
            "{:?}",
            started.elapsed()
        );
        assert_eq!(kinds(container.path()), ["pids_limit"]);
    }

    #[test]
    fn a_cgroup_that_is_gone_is_tried_and_records_nothing() {
        let root = tempfile::tempdir().unwrap();
        let cgroup = Cgroup::v2(root.path(), "hako", "gone").unwrap();
        let container = tempfile::tempdir().unwrap();
        let watcher = spawn_watcher(container.path().into(), "gone", "gone", cgroup).unwrap();
        wait_until(
            Duration::from_secs(2),
            "a reading of the gone cgroup",
            || watcher.readings().failed >= 1,
        );
        watcher.stop();
        assert!(read(container.path()).unwrap().is_empty());
    }

    #[test]
    fn a_trip_of_a_container_removed_creates_no_directory() {
        let (_root, cgroup, cgroup_dir) = fake_v2();
        // Tripped before the first reading, which sees it and has nowhere to put it.
        fs::write(
            cgroup_dir.join("memory.events"),
            "max 1\noom 1\noom_kill 1\n",
        )
        .unwrap();
        let container = tempfile::tempdir().unwrap();
        let removed = container.path().join("removed");
        let watcher = spawn_watcher(removed.clone(), "c1", "web", cgroup).unwrap();
        wait_until(Duration::from_secs(2), "a reading of the trip", || {
            watcher.readings().taken >= 1
        });
        drop(watcher);
        assert!(!removed.exists());
    }
}
