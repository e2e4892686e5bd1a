//! Limit trips as alerts, with their history.
//!
//! Every trip joins a burst: trips of one kind in one container less than
//! `BURST_GAP_SECONDS` apart are one line with a count. The history holds
//! every burst since the dashboard started, and those the containers' event
//! files recorded before it (loaded once, at start). The main screen shows
//! a few lines, chosen so that a new trip stays there long enough to be read
//! (`main_lines`); the alerts view scrolls through all of them, filtered by
//! container and kind.

use super::super::collector::{Trip, TripKind};
use super::super::keys::{Action, Move};
use std::collections::HashMap;

/// How long a row stays marked after a limit trips, in seconds.
pub const TRIP_MARK_SECONDS: u64 = 10;
/// Trips of one kind in one container closer than this are one burst.
pub const BURST_GAP_SECONDS: u64 = 60;
/// How long a new or active burst keeps its place on the main screen.
pub const HOLD_SECONDS: u64 = 30;
/// Bursts kept in the history; the oldest go first.
pub const MAX_BURSTS: usize = 5000;

/// Limit trips of one kind in one container, gathered into one line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Alert {
    pub id: String,
    pub name: String,
    pub kind: TripKind,
    /// Unix seconds of the burst's first and latest trip.
    pub first: u64,
    pub last: u64,
    /// Kills, hits, refused forks or throttled periods, summed.
    pub count: u64,
    /// Order of arrival since the dashboard started; 0 for bursts recorded
    /// before it (never "new").
    pub seq: u64,
}

type Key = (String, TripKind);

#[derive(Debug, Clone, Default)]
pub struct Alerts {
    /// Every burst, oldest first.
    bursts: Vec<Alert>,
    /// The latest burst of each container and kind, as an index in `bursts`.
    latest: HashMap<Key, usize>,
    /// The latest trip of each container, for marking its row.
    last_trip: HashMap<String, (TripKind, u64)>,
    /// The newest burst's `seq`, and the newest the alerts view has shown.
    seq: u64,
    seen_seq: u64,
}

impl Alerts {
    /// The alerts' reducer: the trips of one snapshot.
    pub fn on_trips(&mut self, trips: Vec<Trip>) {
        for trip in trips {
            self.last_trip
                .insert(trip.id.clone(), (trip.kind, trip.time));
            self.seq += 1;
            let burst = Alert {
                id: trip.id,
                name: trip.name,
                kind: trip.kind,
                first: trip.time,
                last: trip.time,
                count: trip.count,
                seq: self.seq,
            };
            self.add(burst);
        }
        self.trim();
    }

    /// Trips recorded before the dashboard started, oldest first, as `seq`
    /// 0: history, not news. Bursts seen live since go after them (and join
    /// the last recorded burst of their kind when close enough).
    pub fn load_recorded(&mut self, mut recorded: Vec<Trip>) {
        recorded.sort_by_key(|t| t.time);
        let live = std::mem::take(&mut self.bursts);
        self.latest.clear();
        for trip in recorded {
            self.add(Alert {
                id: trip.id,
                name: trip.name,
                kind: trip.kind,
                first: trip.time,
                last: trip.time,
                count: trip.count,
                seq: 0,
            });
        }
        for burst in live {
            self.add(burst);
        }
        self.trim();
    }

    /// Adds a burst, or joins it to the latest one of its container and
    /// kind when it follows that one closely.
    fn add(&mut self, burst: Alert) {
        let key = (burst.id.clone(), burst.kind);
        if let Some(&i) = self.latest.get(&key) {
            let open = &mut self.bursts[i];
            if burst.first.saturating_sub(open.last) < BURST_GAP_SECONDS && burst.last >= open.last
            {
                open.last = burst.last;
                open.count += burst.count;
                open.name = burst.name;
                // A burst that goes on is not a new line, but one recorded
                // before the start that trips again now is news.
                if open.seq == 0 {
                    open.seq = burst.seq;
                }
                return;
            }
        }
        self.latest.insert(key, self.bursts.len());
        self.bursts.push(burst);
    }

    /// Keeps at most `MAX_BURSTS`, dropping the oldest in one go now and
    /// then rather than one at each trip.
    fn trim(&mut self) {
        if self.bursts.len() <= MAX_BURSTS + MAX_BURSTS / 10 {
            return;
        }
        let drop = self.bursts.len() - MAX_BURSTS;
        self.bursts.drain(..drop);
        self.latest = self
            .bursts
            .iter()
            .enumerate()
            .map(|(i, b)| ((b.id.clone(), b.kind), i))
            .collect();
    }

    /// Every burst, oldest first.
    pub fn all(&self) -> &[Alert] {
        &self.bursts
    }

    /// Lines that arrived since the alerts view last showed them.
    pub fn unseen(&self) -> usize {
        self.bursts.iter().filter(|b| b.seq > self.seen_seq).count()
    }

    /// The alerts view shows everything up to now.
    pub fn mark_seen(&mut self) {
        self.seen_seq = self.seq;
    }

    /// The latest trip of a container, if it is recent enough (at `now`)
    /// to mark its row.
    pub fn recent_trip(&self, id: &str, now: u64) -> Option<TripKind> {
        self.last_trip
            .get(id)
            .filter(|(_, t)| now.saturating_sub(*t) < TRIP_MARK_SECONDS)
            .map(|(k, _)| *k)
    }

    /// The `rows` lines of the main screen at `now`. Bursts that began in
    /// the last `HOLD_SECONDS` come first, the most serious first, so a new
    /// trip is not pushed out within seconds by ones that merely go on;
    /// then bursts active in that time, the most serious first; then the
    /// rest, the latest first.
    pub fn main_lines(&self, now: u64, rows: usize) -> Vec<&Alert> {
        let tier = |b: &Alert| {
            if now.saturating_sub(b.first) < HOLD_SECONDS {
                0
            } else if now.saturating_sub(b.last) < HOLD_SECONDS {
                1
            } else {
                2
            }
        };
        let mut recent: Vec<&Alert> = self.bursts.iter().filter(|b| tier(b) < 2).collect();
        recent.sort_by(|a, b| {
            tier(a)
                .cmp(&tier(b))
                .then(a.kind.cmp(&b.kind))
                .then(b.first.cmp(&a.first))
                .then(b.seq.cmp(&a.seq))
        });
        recent.truncate(rows);
        if recent.len() < rows {
            let mut rest: Vec<&Alert> = self.bursts.iter().filter(|b| tier(b) == 2).collect();
            rest.sort_by(|a, b| b.last.cmp(&a.last).then(a.kind.cmp(&b.kind)));
            recent.extend(rest.into_iter().take(rows - recent.len()));
        }
        recent
    }
}

/// The alerts view: the whole history, newest first, filtered.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AlertsView {
    /// Lines scrolled down from the newest.
    pub scroll: usize,
    /// Only this kind, or every kind.
    pub kind: Option<TripKind>,
    /// Only containers whose name contains this (or whose id starts so).
    pub container: String,
    pub editing: bool,
}

impl AlertsView {
    /// The history's lines under this view's filters, newest first.
    pub fn lines<'a>(&self, alerts: &'a Alerts) -> Vec<&'a Alert> {
        let needle = self.container.to_lowercase();
        let mut lines: Vec<&Alert> = alerts
            .all()
            .iter()
            .filter(|a| self.kind.is_none_or(|k| a.kind == k))
            .filter(|a| {
                needle.is_empty()
                    || a.name.to_lowercase().contains(&needle)
                    || a.id.starts_with(&needle)
            })
            .collect();
        lines.sort_by(|a, b| {
            b.last
                .cmp(&a.last)
                .then(a.kind.cmp(&b.kind))
                .then(b.seq.cmp(&a.seq))
        });
        lines
    }

    /// The view's reducer: scrolling and its two filters. `page` lines fit
    /// on screen; `total` lines are there under the current filters.
    pub fn apply(&mut self, action: &Action, page: usize, total: usize) {
        let last = total.saturating_sub(1);
        match action {
            Action::Select(movement) => {
                let page = page.max(1);
                self.scroll = match movement {
                    Move::Up => self.scroll.saturating_sub(1),
                    Move::Down => (self.scroll + 1).min(last),
                    Move::PageUp => self.scroll.saturating_sub(page),
                    Move::PageDown => (self.scroll + page).min(last),
                    Move::First => 0,
                    Move::Last => last,
                }
            }
            Action::AlertsKind => {
                self.kind = match self.kind {
                    None => Some(TripKind::OomKill),
                    Some(TripKind::OomKill) => Some(TripKind::MemoryLimit),
                    Some(TripKind::MemoryLimit) => Some(TripKind::PidsLimit),
                    Some(TripKind::PidsLimit) => Some(TripKind::CpuThrottled),
                    Some(TripKind::CpuThrottled) => None,
                };
                self.scroll = 0;
            }
            Action::StartFilter => self.editing = true,
            Action::FilterInput(c) => {
                self.container.push(*c);
                self.scroll = 0;
            }
            Action::FilterBackspace => {
                self.container.pop();
                self.scroll = 0;
            }
            Action::FilterAccept => self.editing = false,
            Action::FilterCancel => {
                self.editing = false;
                self.container.clear();
                self.scroll = 0;
            }
            _ => {}
        }
    }
}
