//! The collector: a thread that reads every container's state and cgroup
//! counters through the runtime core at a steady tick, turns counters into
//! rates (CPU %, throttled %) and limit trips, and hands one `Snapshot` to
//! a sink. It knows nothing of the dashboard that draws it.

use super::runtime_calls::{self, EventLine};
use crate::runtime::cgroup::CgroupStats;
use crate::runtime::paths::Paths;
use crate::runtime::state::{self, ContainerState, Status};
use std::collections::HashMap;
use std::sync::mpsc::{Receiver, RecvTimeoutError};
use std::time::{Duration, Instant};

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

/// What the collector remembers of one container between ticks.
struct Previous {
    at: Instant,
    stats: Option<CgroupStats>,
    running: bool,
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

    pub fn collect(&mut self) -> Snapshot {
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
        let mut samples = Vec::with_capacity(containers.len());
        let mut trips = vec![];
        let mut seen = HashMap::with_capacity(containers.len());
        for container in containers {
            let at = Instant::now();
            let running = runtime_calls::is_running(&container);
            let stats = runtime_calls::stats(&container);
            let previous = self.previous.remove(&container.id);
            let mut sample = Sample {
                running,
                stats: stats.clone(),
                cpu_percent: None,
                cpu_quota_percent: None,
                throttled_percent: None,
                events: runtime_calls::events(&self.paths, &container),
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
            sample.cpu_quota_percent = match (sample.cpu_percent, sample.state.limits.cpu) {
                (Some(p), Some(q)) if q.cpus() > 0.0 => Some(p / q.cpus()),
                _ => None,
            };
            seen.insert(sample.state.id.clone(), Previous { at, stats, running });
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

fn trip(state: &ContainerState, kind: TripKind, count: u64, time: u64) -> Trip {
    Trip {
        id: state.id.clone(),
        name: state.name.clone(),
        kind,
        count,
        time,
    }
}

/// Runs the collector until `sink` returns false: one snapshot at once, then
/// one per `tick`, and one more whenever `wake` receives (after an action).
pub fn spawn(
    paths: Paths,
    tick: Duration,
    wake: Receiver<()>,
    sink: impl Fn(Snapshot) -> bool + Send + 'static,
) -> std::thread::JoinHandle<()> {
    std::thread::Builder::new()
        .name("hako-collector".into())
        .spawn(move || {
            let mut collector = Collector::new(paths);
            let mut next = Instant::now();
            loop {
                if !sink(collector.collect()) {
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
