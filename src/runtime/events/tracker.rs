//! Turns successive readings of a cgroup's counters into limit-trip events.
//!
//! A trip is a counter that rose between two readings, or (for memory on v1, where
//! `memory.failcnt` stays 0 when the memsw limit equals the memory limit) the peak
//! reaching the limit. The counters start from zero: the watcher runs on a cgroup
//! made for the container, so a trip in its first milliseconds, before the first
//! reading, still counts.
//!
//! Memory, CPU and pids trips repeat as long as the container sits at its limit, so
//! each kind is recorded at most once per `MIN_GAP_MS`, with the counts of the trips
//! in between added up; the first trip after a quiet spell is recorded at once. OOM
//! kills are always recorded at once.

use super::EventKind;
use crate::runtime::cgroup::CgroupStats;

/// At most one event of each repeating kind per this many ms.
pub(super) const MIN_GAP_MS: u64 = 5_000;

/// When a repeating kind was last recorded.
#[derive(Debug, Default)]
struct Gap {
    last_ms: Option<u64>,
}

impl Gap {
    /// Whether an event may be recorded at `now_ms` (always on the last reading).
    fn open(&self, now_ms: u64, last: bool) -> bool {
        last || self
            .last_ms
            .is_none_or(|then| now_ms.saturating_sub(then) >= MIN_GAP_MS)
    }
}

/// A counter's previous value; a missing counter leaves it as it was.
#[derive(Debug, Default)]
struct Counter {
    previous: u64,
}

impl Counter {
    /// How much the counter rose since the last reading.
    fn rise(&mut self, now: Option<u64>) -> u64 {
        let Some(now) = now else { return 0 };
        let rise = now.saturating_sub(self.previous);
        self.previous = now;
        rise
    }
}

/// Fires once when a value reaches a limit, and again only after the limit changed
/// to one the value had not reached.
#[derive(Debug, Default)]
struct Reached {
    /// The limit seen last; `None` before the first reading.
    limit: Option<Option<u64>>,
    armed: bool,
}

impl Reached {
    fn check(&mut self, value: Option<u64>, limit: Option<u64>) -> bool {
        let reached = matches!((value, limit), (Some(v), Some(l)) if l > 0 && v >= l);
        match self.limit {
            // A fresh cgroup: anything reached already happened in it.
            None => self.armed = true,
            // A new limit the value already passed (lowered below the peak): the peak
            // can no longer tell a new trip, which the hit counter still does.
            Some(previous) if previous != limit => self.armed = !reached,
            Some(_) => {}
        }
        self.limit = Some(limit);
        if self.armed && reached {
            self.armed = false;
            return true;
        }
        false
    }
}

#[derive(Debug, Default)]
pub(super) struct LimitTracker {
    oom_kills: Counter,
    memory_hits: Counter,
    memory_peak: Reached,
    memory_gap: Gap,
    /// Hits (and peak trips) not recorded yet.
    memory_pending: Option<u64>,
    nr_throttled: Counter,
    throttled_ns: Counter,
    nr_periods: Counter,
    cpu_gap: Gap,
    /// Throttled periods, time and all periods since the first unrecorded throttling.
    cpu_pending: Option<(u64, u64, u64)>,
    pids_hits: Counter,
    pids_current: Reached,
    pids_gap: Gap,
    pids_pending: Option<u64>,
}

impl LimitTracker {
    /// The events a reading at `now_ms` gives. `last` is the final reading before the
    /// watcher stops: whatever is pending is recorded then, gap or not.
    pub(super) fn observe(
        &mut self,
        stats: &CgroupStats,
        now_ms: u64,
        last: bool,
    ) -> Vec<EventKind> {
        let mut events = vec![];

        let hits = self.memory_hits.rise(stats.memory_limit_hits);
        let peak_reached = self
            .memory_peak
            .check(stats.memory_peak, stats.memory_limit);
        if hits > 0 || peak_reached {
            *self.memory_pending.get_or_insert(0) += hits;
        }
        if self.memory_pending.is_some() && self.memory_gap.open(now_ms, last) {
            self.memory_gap.last_ms = Some(now_ms);
            events.push(EventKind::MemoryLimit {
                usage: stats.memory_usage,
                peak: stats.memory_peak,
                limit: stats.memory_limit,
                hits: self.memory_pending.take().unwrap_or(0),
            });
        }

        let killed = self.oom_kills.rise(stats.oom_kills);
        if killed > 0 {
            events.push(EventKind::OomKill {
                count: killed,
                process: None,
                memory_limit: stats.memory_limit,
            });
        }

        let throttled = self.nr_throttled.rise(stats.nr_throttled);
        let throttled_ns = self.throttled_ns.rise(stats.throttled_ns);
        let periods = self.nr_periods.rise(stats.nr_periods);
        if throttled > 0 || self.cpu_pending.is_some() {
            let pending = self.cpu_pending.get_or_insert((0, 0, 0));
            pending.0 += throttled;
            pending.1 += throttled_ns;
            pending.2 += periods;
        }
        if self.cpu_pending.is_some() && self.cpu_gap.open(now_ms, last) {
            self.cpu_gap.last_ms = Some(now_ms);
            let (throttled, throttled_ns, periods) = self.cpu_pending.take().unwrap_or_default();
            events.push(EventKind::CpuThrottled {
                periods: throttled,
                total_periods: stats.nr_periods.map(|_| periods),
                throttled_ns: stats.throttled_ns.map(|_| throttled_ns),
                quota: stats.cpu_quota,
            });
        }

        let refused = self.pids_hits.rise(stats.pids_limit_hits);
        // Without pids.events, reaching pids.max is the best sign of a refused fork.
        let reached = stats.pids_limit_hits.is_none()
            && self
                .pids_current
                .check(stats.pids_current, stats.pids_limit);
        if refused > 0 || reached {
            *self.pids_pending.get_or_insert(0) += refused;
        }
        if self.pids_pending.is_some() && self.pids_gap.open(now_ms, last) {
            self.pids_gap.last_ms = Some(now_ms);
            events.push(EventKind::PidsLimit {
                current: stats.pids_current,
                max: stats.pids_limit,
                refused: self.pids_pending.take().unwrap_or(0),
            });
        }

        events
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::runtime::limits::CpuQuota;

    const MIB: u64 = 1 << 20;

    fn words(events: &[EventKind]) -> Vec<&'static str> {
        events.iter().map(EventKind::word).collect()
    }

    fn memory(peak: u64, hits: u64, oom_kills: u64) -> CgroupStats {
        CgroupStats {
            memory_usage: Some(peak / 2),
            memory_limit: Some(16 * MIB),
            memory_peak: Some(peak),
            memory_limit_hits: Some(hits),
            oom_kills: Some(oom_kills),
            ..CgroupStats::default()
        }
    }

    #[test]
    fn an_oom_kill_is_recorded_at_once_after_the_limit_was_reached() {
        let mut tracker = LimitTracker::default();
        assert!(tracker.observe(&memory(MIB, 0, 0), 0, false).is_empty());
        // memsw equal to memory: failcnt stays 0, the peak tells.
        let events = tracker.observe(&memory(16 * MIB, 0, 1), 500, false);
        assert_eq!(words(&events), ["memory_limit", "oom_kill"]);
        assert_eq!(
            events[1],
            EventKind::OomKill {
                count: 1,
                process: None,
                memory_limit: Some(16 * MIB)
            }
        );
        // A second kill 1 s later: recorded; the peak does not trip again.
        let events = tracker.observe(&memory(16 * MIB, 0, 3), 1500, false);
        assert_eq!(
            events,
            [EventKind::OomKill {
                count: 2,
                process: None,
                memory_limit: Some(16 * MIB)
            }]
        );
    }

    #[test]
    fn counters_already_up_at_the_first_reading_count_from_zero() {
        let mut tracker = LimitTracker::default();
        let events = tracker.observe(&memory(16 * MIB, 4, 1), 0, false);
        assert_eq!(words(&events), ["memory_limit", "oom_kill"]);
        assert!(matches!(events[0], EventKind::MemoryLimit { hits: 4, .. }));
    }

    #[test]
    fn memory_hits_are_summed_over_five_seconds() {
        let mut tracker = LimitTracker::default();
        tracker.observe(&memory(MIB, 0, 0), 0, false);
        let first = tracker.observe(&memory(MIB, 3, 0), 1000, false);
        assert!(matches!(
            first[..],
            [EventKind::MemoryLimit { hits: 3, .. }]
        ));
        assert!(tracker.observe(&memory(MIB, 10, 0), 2000, false).is_empty());
        assert!(tracker.observe(&memory(MIB, 12, 0), 5000, false).is_empty());
        let summed = tracker.observe(&memory(MIB, 12, 0), 6000, false);
        assert!(matches!(
            summed[..],
            [EventKind::MemoryLimit { hits: 9, .. }]
        ));
        assert!(tracker
            .observe(&memory(MIB, 12, 0), 20000, false)
            .is_empty());
    }

    #[test]
    fn lowering_the_limit_below_the_peak_is_not_a_trip_but_raising_it_re_arms() {
        let mut tracker = LimitTracker::default();
        tracker.observe(&memory(10 * MIB, 0, 0), 0, false);
        let mut lowered = memory(10 * MIB, 0, 0);
        lowered.memory_limit = Some(8 * MIB);
        assert!(tracker.observe(&lowered, 1000, false).is_empty());
        let mut raised = memory(10 * MIB, 0, 0);
        raised.memory_limit = Some(32 * MIB);
        assert!(tracker.observe(&raised, 2000, false).is_empty());
        raised.memory_peak = Some(32 * MIB);
        assert_eq!(
            words(&tracker.observe(&raised, 3000, false)),
            ["memory_limit"]
        );
    }

    fn cpu(throttled: u64, periods: u64) -> CgroupStats {
        CgroupStats {
            nr_periods: Some(periods),
            nr_throttled: Some(throttled),
            throttled_ns: Some(throttled * 80_000_000),
            cpu_quota: Some(CpuQuota {
                quota_us: 20_000,
                period_us: 100_000,
            }),
            ..CgroupStats::default()
        }
    }

    #[test]
    fn throttling_is_one_event_per_five_seconds_with_the_periods_added_up() {
        let mut tracker = LimitTracker::default();
        assert!(tracker.observe(&cpu(0, 0), 0, false).is_empty());
        assert_eq!(
            tracker.observe(&cpu(4, 5), 500, false),
            [EventKind::CpuThrottled {
                periods: 4,
                total_periods: Some(5),
                throttled_ns: Some(320_000_000),
                quota: cpu(0, 0).cpu_quota,
            }]
        );
        let mut time = 500;
        let mut recorded = vec![];
        for step in 1..=10 {
            time += 500;
            recorded.extend(tracker.observe(&cpu(4 + 5 * step, 5 + 5 * step), time, false));
        }
        // 5.5 s in, one event for the 10 throttled readings from 1 s to 5.5 s.
        assert_eq!(
            recorded,
            [EventKind::CpuThrottled {
                periods: 50,
                total_periods: Some(50),
                throttled_ns: Some(4_000_000_000),
                quota: cpu(0, 0).cpu_quota,
            }]
        );
    }

    #[test]
    fn the_last_reading_records_what_is_pending() {
        let mut tracker = LimitTracker::default();
        tracker.observe(&cpu(0, 0), 0, false);
        assert_eq!(tracker.observe(&cpu(1, 1), 100, false).len(), 1);
        assert!(tracker.observe(&cpu(2, 2), 200, false).is_empty());
        assert!(matches!(
            tracker.observe(&cpu(3, 3), 300, true)[..],
            [EventKind::CpuThrottled { periods: 2, .. }]
        ));
        assert!(tracker.observe(&cpu(3, 3), 400, true).is_empty());
    }

    #[test]
    fn refused_forks_come_from_pids_events_or_else_from_reaching_the_limit() {
        let pids = |current, hits| CgroupStats {
            pids_current: Some(current),
            pids_limit: Some(10),
            pids_limit_hits: hits,
            ..CgroupStats::default()
        };
        let mut tracker = LimitTracker::default();
        assert!(tracker.observe(&pids(10, Some(0)), 0, false).is_empty());
        assert_eq!(
            tracker.observe(&pids(10, Some(7)), 500, false),
            [EventKind::PidsLimit {
                current: Some(10),
                max: Some(10),
                refused: 7
            }]
        );
        let mut without_events = LimitTracker::default();
        assert!(without_events.observe(&pids(3, None), 0, false).is_empty());
        assert!(matches!(
            without_events.observe(&pids(10, None), 500, false)[..],
            [EventKind::PidsLimit { refused: 0, .. }]
        ));
        assert!(without_events
            .observe(&pids(10, None), 9000, false)
            .is_empty());
    }

    #[test]
    fn counters_the_kernel_does_not_report_give_nothing() {
        let mut tracker = LimitTracker::default();
        assert!(tracker
            .observe(&CgroupStats::default(), 0, false)
            .is_empty());
        assert!(tracker.observe(&CgroupStats::default(), 0, true).is_empty());
    }
}
