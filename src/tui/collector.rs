//! The collector: a thread that reads every container's state and cgroup
//! counters through the runtime core at a steady tick, turns counters into
//! rates (CPU %, throttled %) and limit trips, and hands one `Snapshot` to
//! a sink. It knows nothing of the dashboard that draws it.

use super::runtime_calls::{self, EventLine};
use crate::runtime::cgroup::{Cgroup, CgroupStats};
use crate::runtime::paths::Paths;
use crate::runtime::state::{self, ContainerState, Status};
use std::collections::{HashMap, HashSet};
use std::sync::mpsc::{Receiver, RecvTimeoutError};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime};

/// One container at one tick.
#[derive(Debug, Clone)]
pub struct Sample {
    pub state: ContainerState,
    /// Its first process is alive (the state file may not know yet).
    pub running: bool,
    /// `None` when the cgroup is gone (a removed or never-started container).
    pub stats: Option<CgroupStats>,
    /// CPU use since the previous tick, in % of one CPU.
    pub cpu_percent: Option<f64>,
    /// CPU use as % of the quota, when there is one.
    pub cpu_quota_percent: Option<f64>,
    /// Share of the CFS periods since the previous tick in which it was throttled.
    pub throttled_percent: Option<f64>,
    pub events: Vec<EventLine>,
}

/// A limit that was hit between two ticks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum TripKind {
    OomKill,
    MemoryLimit,
    PidsLimit,
    CpuThrottled,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Trip {
    pub id: String,
    pub name: String,
    pub kind: TripKind,
    /// How many times since the previous tick (kills, refused forks, throttled periods).
    pub count: u64,
    /// Unix seconds.
    pub time: u64,
}

/// Everything the collector read at one tick.
#[derive(Debug, Clone, Default)]
pub struct Snapshot {
    /// Unix seconds.
    pub time: u64,
    pub samples: Vec<Sample>,
    pub trips: Vec<Trip>,
    /// Why the container list could not be read, if it could not.
    pub error: Option<String>,
}

fn rise(before: Option<u64>, after: Option<u64>) -> u64 {
    match (before, after) {
        (Some(b), Some(a)) => a.saturating_sub(b),
        _ => 0,
    }
}

/// The limits hit between two readings of the same cgroup.
pub fn trips_between(before: &CgroupStats, after: &CgroupStats) -> Vec<(TripKind, u64)> {
    [
        (TripKind::OomKill, rise(before.oom_kills, after.oom_kills)),
        (
            TripKind::MemoryLimit,
            rise(before.memory_limit_hits, after.memory_limit_hits),
        ),
        (
            TripKind::PidsLimit,
            rise(before.pids_limit_hits, after.pids_limit_hits),
        ),
        (
            TripKind::CpuThrottled,
            rise(before.nr_throttled, after.nr_throttled),
        ),
    ]
    .into_iter()
    .filter(|(_, n)| *n > 0)
    .collect()
}

/// CPU use over `elapsed` as % of one CPU, from two readings of `cpu_usage_ns`.
pub fn cpu_percent(before: Option<u64>, after: Option<u64>, elapsed: Duration) -> Option<f64> {
    let nanos = elapsed.as_nanos() as f64;
    match (before, after) {
        (Some(b), Some(a)) if nanos > 0.0 => Some(a.saturating_sub(b) as f64 / nanos * 100.0),
        _ => None,
    }
}

/// The share of CFS periods in which the cgroup was throttled, between two readings.
pub fn throttled_percent(before: &CgroupStats, after: &CgroupStats) -> Option<f64> {
    let periods = after.nr_periods?.checked_sub(before.nr_periods?)?;
    let throttled = after.nr_throttled?.checked_sub(before.nr_throttled?)?;
    if periods == 0 {
        Some(0.0)
    } else {
        Some(throttled as f64 / periods as f64 * 100.0)
    }
}

/// Containers whose counters are read in full at each tick. Reading one
/// container's counters takes a dozen cgroup files; with more containers,
/// those off screen take turns (each at least every `MOST_TICKS_BETWEEN`
/// ticks), and in between only their OOM kill counter (one file) is read,
/// so an OOM kill shows at the next tick wherever it happens.
pub const FULL_READS_PER_TICK: usize = 20;
/// The most ticks between two full readings of a container off screen.
pub const MOST_TICKS_BETWEEN: usize = 3;

/// What the collector remembers of one container between ticks.
struct Previous {
    /// When its counters were last read in full, and what they were (with
    /// the OOM kill count of any reading since).
    at: Instant,
    stats: Option<CgroupStats>,
    cpu_percent: Option<f64>,
    throttled_percent: Option<f64>,
    running: bool,
    /// Its cgroup, looked up once (that reads the host's mount table).
    cgroup: Option<Cgroup>,
    /// Its timeline, and the version of the events file it was read from.
    events: Vec<EventLine>,
    events_version: Option<(u64, SystemTime)>,
}

/// Reads all containers and compares them with the previous tick.
pub struct Collector {
    paths: Paths,
    previous: HashMap<String, Previous>,
}

impl Collector {
    pub fn new(paths: Paths) -> Collector {
        Collector {
            paths,
            previous: HashMap::new(),
        }
    }

    /// The containers whose counters are read in full this tick: those on
    /// screen, those not running (their cgroup is gone: nothing to read),
    /// those never read, then those read longest ago: up to
    /// `FULL_READS_PER_TICK` in all, but at least a `MOST_TICKS_BETWEEN`th
    /// of those waiting.
    fn full_readings(
        &self,
        containers: &[ContainerState],
        on_screen: &HashSet<String>,
    ) -> HashSet<String> {
        let mut full = HashSet::new();
        let mut waiting = vec![];
        for c in containers {
            match self.previous.get(&c.id) {
                Some(p) if p.running && !on_screen.contains(&c.id) => waiting.push((p.at, &c.id)),
                _ => {
                    full.insert(c.id.clone());
                }
            }
        }
        waiting.sort_by_key(|(at, _)| *at);
        let room = FULL_READS_PER_TICK
            .saturating_sub(full.len())
            .max(waiting.len().div_ceil(MOST_TICKS_BETWEEN));
        full.extend(waiting.into_iter().take(room).map(|(_, id)| id.clone()));
        full
    }

    /// The container's timeline, and the version of its events file: read
    /// again only when the file changed.
    fn events_of(
        &self,
        container: &ContainerState,
        previous: Option<&mut Previous>,
    ) -> (Vec<EventLine>, Option<(u64, SystemTime)>) {
        let version = runtime_calls::events_version(&self.paths, container);
        let events = match previous {
            Some(p) if version.is_some() && p.events_version == version => {
                std::mem::take(&mut p.events)
            }
            _ => runtime_calls::events(&self.paths, container),
        };
        (events, version)
    }

    /// Reads every container; `on_screen` (table rows, the selected one)
    /// are read in full.
    pub fn collect(&mut self, on_screen: &HashSet<String>) -> Snapshot {
        let time = state::now();
        let containers = match runtime_calls::list(&self.paths) {
            Ok(c) => c,
            Err(e) => {
                return Snapshot {
                    time,
                    error: Some(e),
                    ..Snapshot::default()
                }
            }
        };
        let full = self.full_readings(&containers, on_screen);
        let mut samples = Vec::with_capacity(containers.len());
        let mut trips = vec![];
        let mut seen = HashMap::with_capacity(containers.len());
        for container in containers {
            let at = Instant::now();
            let mut previous = self.previous.remove(&container.id);
            let cgroup = match previous.as_mut().and_then(|p| p.cgroup.take()) {
                Some(c) => Some(c),
                None => runtime_calls::cgroup(&container),
            };
            let running = runtime_calls::is_running_in(&container, cgroup.as_ref());
            let stale = match previous.as_mut() {
                Some(p) if running && !full.contains(&container.id) => Some(p),
                _ => None,
            };
            if let Some(prev) = stale {
                // Its turn is later: the last full reading, with a fresh OOM
                // kill count.
                let mut stats = prev.stats.clone();
                let oom = cgroup.as_ref().and_then(runtime_calls::oom_kills);
                if let (Some(s), Some(kills)) = (stats.as_mut(), oom) {
                    let rise = kills.saturating_sub(s.oom_kills.unwrap_or(kills));
                    if rise > 0 {
                        trips.push(trip(&container, TripKind::OomKill, rise, time));
                    }
                    s.oom_kills = Some(kills);
                }
                let (events, events_version) = self.events_of(&container, Some(prev));
                let sample = Sample {
                    running,
                    stats: stats.clone(),
                    cpu_percent: prev.cpu_percent,
                    cpu_quota_percent: quota_percent(prev.cpu_percent, &container),
                    throttled_percent: prev.throttled_percent,
                    events: events.clone(),
                    state: container,
                };
                seen.insert(
                    sample.state.id.clone(),
                    Previous {
                        at: prev.at,
                        stats,
                        cpu_percent: prev.cpu_percent,
                        throttled_percent: prev.throttled_percent,
                        running,
                        cgroup,
                        events,
                        events_version,
                    },
                );
                samples.push(sample);
                continue;
            }
            let stats = cgroup.as_ref().and_then(runtime_calls::stats);
            let (events, events_version) = self.events_of(&container, previous.as_mut());
            let mut sample = Sample {
                running,
                stats: stats.clone(),
                cpu_percent: None,
                cpu_quota_percent: None,
                throttled_percent: None,
                events,
                state: container,
            };
            if let (Some(prev), Some(now)) = (previous.as_ref(), stats.as_ref()) {
                if let Some(before) = &prev.stats {
                    if running {
                        sample.cpu_percent =
                            cpu_percent(before.cpu_usage_ns, now.cpu_usage_ns, at - prev.at);
                        sample.throttled_percent = throttled_percent(before, now);
                    }
                    for (kind, count) in trips_between(before, now) {
                        trips.push(trip(&sample.state, kind, count, time));
                    }
                }
            }
            // The kernel's counter is gone with the cgroup, but the state
            // file remembers: an exit by OOM kill is a trip too.
            let just_exited = previous.as_ref().is_some_and(|p| p.running) && !running;
            let counted = trips
                .iter()
                .any(|t| t.id == sample.state.id && t.kind == TripKind::OomKill);
            if just_exited && sample.state.oom_killed && !counted {
                trips.push(trip(&sample.state, TripKind::OomKill, 1, time));
            }
            sample.cpu_quota_percent = quota_percent(sample.cpu_percent, &sample.state);
            seen.insert(
                sample.state.id.clone(),
                Previous {
                    at,
                    stats,
                    cpu_percent: sample.cpu_percent,
                    throttled_percent: sample.throttled_percent,
                    running,
                    cgroup,
                    events: sample.events.clone(),
                    events_version,
                },
            );
            samples.push(sample);
        }
        self.previous = seen;
        Snapshot {
            time,
            samples,
            trips,
            error: None,
        }
    }
}

/// CPU use as a share of the container's quota, when it has one.
fn quota_percent(cpu_percent: Option<f64>, state: &ContainerState) -> Option<f64> {
    match (cpu_percent, state.limits.cpu) {
        (Some(p), Some(q)) if q.cpus() > 0.0 => Some(p / q.cpus()),
        _ => None,
    }
}

fn trip(state: &ContainerState, kind: TripKind, count: u64, time: u64) -> Trip {
    Trip {
        id: state.id.clone(),
        name: state.name.clone(),
        kind,
        count,
        time,
    }
}

/// The containers the dashboard shows (table rows, the selected one),
/// shared with the collector: their counters are read in full at every tick.
pub type OnScreen = Arc<Mutex<HashSet<String>>>;

/// Runs the collector until `sink` returns false: one snapshot at once, then
/// one per `tick`, and one more whenever `wake` receives (after an action).
pub fn spawn(
    paths: Paths,
    tick: Duration,
    wake: Receiver<()>,
    on_screen: OnScreen,
    sink: impl Fn(Snapshot) -> bool + Send + 'static,
) -> std::thread::JoinHandle<()> {
    std::thread::Builder::new()
        .name("hako-collector".into())
        .spawn(move || {
            let mut collector = Collector::new(paths);
            let mut next = Instant::now();
            loop {
                let shown = on_screen.lock().map(|s| s.clone()).unwrap_or_default();
                if !sink(collector.collect(&shown)) {
                    return;
                }
                next += tick;
                let now = Instant::now();
                if next < now {
                    next = now + tick;
                }
                match wake.recv_timeout(next - now) {
                    Ok(()) | Err(RecvTimeoutError::Timeout) => {}
                    Err(RecvTimeoutError::Disconnected) => return,
                }
            }
        })
        .expect("spawn the collector thread")
}

/// Whether a status word should say the container is alive.
pub fn status_word(sample: &Sample) -> Status {
    if sample.running {
        Status::Running
    } else if sample.state.status == Status::Running {
        // Its process is gone but no one has recorded the exit yet.
        Status::Exited
    } else {
        sample.state.status
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::runtime::events::{self, Event, EventKind};

    #[test]
    fn off_screen_containers_take_turns_for_a_full_reading() {
        let mut collector = Collector::new(Paths::under(std::path::Path::new("/nonexistent")));
        let start = Instant::now();
        let containers: Vec<ContainerState> = (0..30)
            .map(|i| crate::tui::testing::state(&format!("c{i}"), &format!("id-{i:02}"), 60))
            .collect();
        for (i, c) in containers.iter().enumerate() {
            if i == 29 {
                continue; // never read yet
            }
            collector.previous.insert(
                c.id.clone(),
                Previous {
                    at: start + Duration::from_millis(i as u64),
                    stats: None,
                    cpu_percent: None,
                    throttled_percent: None,
                    running: i != 28, // not running: nothing to spare
                    cgroup: None,
                    events: vec![],
                    events_version: None,
                },
            );
        }
        let on_screen: HashSet<String> = ["id-20", "id-21", "id-22"].map(String::from).into();
        let full = collector.full_readings(&containers, &on_screen);
        assert_eq!(full.len(), FULL_READS_PER_TICK);
        let mut expected: HashSet<String> = on_screen.clone();
        expected.extend(["id-28", "id-29"].map(String::from));
        // Then the ones read longest ago.
        expected.extend((0..15).map(|i| format!("id-{i:02}")));
        assert_eq!(full, expected);
        // However many are on screen, those off screen still take turns: a
        // third of those waiting (rounded up) at each tick, oldest first.
        let many: HashSet<String> = (3..28).map(|i| format!("id-{i:02}")).collect();
        let full = collector.full_readings(&containers, &many);
        assert_eq!(full.len(), 25 + 2 + 1);
        assert!(full.contains("id-00"), "{full:?}");
        let everyone: HashSet<String> = (0..23).map(|i| format!("id-{i:02}")).collect();
        let full = collector.full_readings(&containers, &everyone);
        assert_eq!(full.len(), 23 + 2 + 2, "{full:?}");
        // With few containers, every one is read in full at every tick.
        let few = collector.full_readings(&containers[..FULL_READS_PER_TICK], &HashSet::new());
        assert_eq!(few.len(), FULL_READS_PER_TICK);
    }

    #[test]
    fn the_timeline_is_read_again_only_when_it_grew() {
        let root = tempfile::tempdir().unwrap();
        let paths = Paths::under(root.path());
        let mut exited =
            crate::tui::testing::state("old", "0a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d", 60);
        exited.status = Status::Exited;
        exited.pid = None;
        let dir = paths.container(&exited.id);
        std::fs::create_dir_all(&dir).unwrap();
        state::write(&dir, &exited).unwrap();
        let event = |kind| Event::new(&exited.id, &exited.name, kind);
        events::record(&dir, &event(EventKind::Start { pid: 7 })).unwrap();

        let mut collector = Collector::new(paths.clone());
        let first = collector.collect(&HashSet::new());
        assert_eq!(first.samples.len(), 1);
        assert!(!first.samples[0].running);
        assert_eq!(first.samples[0].events.len(), 1);
        assert_eq!(
            collector.collect(&HashSet::new()).samples[0].events,
            first.samples[0].events
        );

        events::record(&dir, &event(EventKind::Rm)).unwrap();
        let kinds: Vec<String> = collector.collect(&HashSet::new()).samples[0]
            .events
            .iter()
            .map(|e| e.kind.clone())
            .collect();
        assert_eq!(kinds, ["start", "rm"]);
    }

    fn stats(oom: u64, hits: u64, pids: u64, periods: u64, throttled: u64) -> CgroupStats {
        CgroupStats {
            oom_kills: Some(oom),
            memory_limit_hits: Some(hits),
            pids_limit_hits: Some(pids),
            nr_periods: Some(periods),
            nr_throttled: Some(throttled),
            ..CgroupStats::default()
        }
    }

    #[test]
    fn a_rising_counter_is_a_trip() {
        let before = stats(0, 3, 0, 100, 10);
        let after = stats(1, 5, 0, 110, 19);
        assert_eq!(
            trips_between(&before, &after),
            vec![
                (TripKind::OomKill, 1),
                (TripKind::MemoryLimit, 2),
                (TripKind::CpuThrottled, 9)
            ]
        );
        assert!(trips_between(&after, &after).is_empty());
    }

    #[test]
    fn a_missing_counter_is_never_a_trip() {
        let before = CgroupStats::default();
        let after = stats(4, 4, 4, 4, 4);
        assert!(trips_between(&before, &after).is_empty());
        assert!(trips_between(&after, &before).is_empty());
    }

    #[test]
    fn cpu_percent_is_the_rise_of_cpu_time_over_wall_time() {
        let second = Duration::from_secs(1);
        assert_eq!(cpu_percent(Some(0), Some(200_000_000), second), Some(20.0));
        assert_eq!(
            cpu_percent(Some(0), Some(1_500_000_000), second),
            Some(150.0)
        );
        assert_eq!(cpu_percent(None, Some(5), second), None);
        assert_eq!(cpu_percent(Some(1), Some(5), Duration::ZERO), None);
    }

    #[test]
    fn throttled_percent_is_per_period() {
        assert_eq!(
            throttled_percent(&stats(0, 0, 0, 100, 10), &stats(0, 0, 0, 110, 18)),
            Some(80.0)
        );
        assert_eq!(
            throttled_percent(&stats(0, 0, 0, 100, 10), &stats(0, 0, 0, 100, 10)),
            Some(0.0)
        );
        assert_eq!(
            throttled_percent(&CgroupStats::default(), &stats(0, 0, 0, 1, 1)),
            None
        );
    }
}
