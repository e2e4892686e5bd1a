//! `hako events`: the timeline of lifecycle events and limit trips.

use super::{fail, EXIT_HAKO_ERROR};
use crate::runtime::events::{self, parse_since, Event, Follower};
use crate::runtime::paths::Paths;
use crate::runtime::state;
use clap::Args;
use std::io::{self, Write};
use std::time::Duration;

/// How often `-f` looks for new events when nothing woke it sooner.
const FOLLOW_POLL: Duration = Duration::from_millis(200);

#[derive(Debug, Args)]
pub struct EventsArgs {
    /// Keep printing events as they are recorded, until interrupted. Removing a
    /// container removes its events, so only a follower sees `rm`.
    #[arg(short, long)]
    follow: bool,
    /// Only events from TIME on: unix seconds, a UTC time (2026-11-29T13:40:00Z) or a
    /// duration ago (10m, 30s, 2h).
    #[arg(long, value_name = "TIME")]
    since: Option<String>,
    /// Output format: text or json (one object per line).
    #[arg(long, default_value = "text")]
    format: String,
    /// A container id, id prefix or name (default: every container).
    container: Option<String>,
}

pub fn events(paths: &Paths, args: EventsArgs) -> i32 {
    let json = match args.format.as_str() {
        "json" => true,
        "text" => false,
        other => {
            return fail(
                EXIT_HAKO_ERROR,
                format!("unknown --format {other:?}: use text or json"),
            )
        }
    };
    let since = match args
        .since
        .as_deref()
        .map(|t| parse_since(t, events::now_ms()))
    {
        None => 0,
        Some(Ok(since)) => since,
        Some(Err(e)) => return fail(EXIT_HAKO_ERROR, e),
    };
    let only = match args
        .container
        .as_deref()
        .map(|key| state::resolve(paths, key))
    {
        None => None,
        Some(Ok(container)) => Some(container.id),
        Some(Err(e)) => return fail(1, e),
    };
    let print = |events: Vec<Event>| -> io::Result<()> {
        let mut out = io::stdout().lock();
        for event in events.iter().filter(|e| e.time_ms >= since) {
            if json {
                let line = serde_json::to_string(event).expect("an event serializes");
                writeln!(out, "{line}")?;
            } else {
                writeln!(out, "{}", event.human_line())?;
            }
        }
        out.flush()
    };

    if !args.follow {
        let recorded = match &only {
            Some(id) => events::read(&paths.container(id)).map(|mut all| {
                events::sort_by_time(&mut all);
                all
            }),
            None => events::read_all(paths),
        };
        return match recorded {
            // A closed pipe (`| head`) is the reader's choice, not a failure.
            Ok(recorded) => {
                let _ = print(recorded);
                0
            }
            Err(e) => fail(EXIT_HAKO_ERROR, e),
        };
    }
    // Until SIGINT or SIGTERM, whose default action ends hako; or until the reader
    // of the output goes away.
    let mut follower = Follower::new(paths, only.as_deref());
    loop {
        if print(follower.next_events()).is_err() {
            return 0;
        }
        follower.wait(FOLLOW_POLL);
    }
}
