//! Limit trips as alerts: gathered per container and kind, newest first,
//! and the latest trip of each container for marking its row.

use super::super::collector::{Trip, TripKind};
use std::collections::HashMap;

/// How long a row stays marked after a limit trips, in seconds.
pub const TRIP_MARK_SECONDS: u64 = 10;
/// Alerts kept in the alerts area.
pub const MAX_ALERTS: usize = 100;

/// Limit trips of one kind in one container, gathered into one line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Alert {
    pub id: String,
    pub name: String,
    pub kind: TripKind,
    pub first: u64,
    pub last: u64,
    /// Kills, hits, refused forks or throttled periods, summed.
    pub count: u64,
}

#[derive(Debug, Clone, Default)]
pub struct Alerts {
    /// Newest first.
    pub list: Vec<Alert>,
    /// The latest trip of each container, for marking its row.
    last_trip: HashMap<String, (TripKind, u64)>,
}

impl Alerts {
    /// The alerts' reducer: the trips of one snapshot.
    pub fn on_trips(&mut self, trips: Vec<Trip>) {
        for trip in trips {
            self.last_trip
                .insert(trip.id.clone(), (trip.kind, trip.time));
            match self
                .list
                .iter_mut()
                .find(|a| a.id == trip.id && a.kind == trip.kind)
            {
                Some(alert) => {
                    alert.last = trip.time;
                    alert.count += trip.count;
                }
                None => self.list.push(Alert {
                    id: trip.id,
                    name: trip.name,
                    kind: trip.kind,
                    first: trip.time,
                    last: trip.time,
                    count: trip.count,
                }),
            }
        }
        // Newest first; the most serious first within one second.
        self.list
            .sort_by(|a, b| b.last.cmp(&a.last).then(a.kind.cmp(&b.kind)));
        self.list.truncate(MAX_ALERTS);
    }

    /// The latest trip of a container, if it is recent enough (at `now`)
    /// to mark its row.
    pub fn recent_trip(&self, id: &str, now: u64) -> Option<TripKind> {
        self.last_trip
            .get(id)
            .filter(|(_, t)| now.saturating_sub(*t) < TRIP_MARK_SECONDS)
            .map(|(k, _)| *k)
    }
}
