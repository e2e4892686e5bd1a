//! Following the timelines as they grow (`hako events -f`, and the dashboard).
//!
//! Each timeline is kept open once found, so the lines appended just before its
//! container was removed (`exit`, `rm`) are still read from the open file after the
//! directory is gone. inotify on the containers directory and on each container's
//! directory wakes the follower as soon as a container or a line appears, so even a
//! container that lives a few milliseconds (`hako run --rm … true`) is seen most of
//! the time; without inotify the follower looks every `wait` timeout.

use super::{parse_lines, sort_by_time, Event, EVENTS_FILE};
use crate::runtime::paths::Paths;
use nix::poll::{poll, PollFd, PollFlags};
use nix::sys::inotify::{AddWatchFlags, InitFlags, Inotify};
use std::collections::{HashMap, HashSet};
use std::fs::{self, File};
use std::io::Read;
use std::os::fd::AsFd;
use std::path::PathBuf;
use std::time::Duration;

/// A bound on the inotify reads of one wake-up.
const MAX_DRAINS: usize = 64;

/// One open timeline and the start of a line not yet complete.
struct OpenLog {
    path: PathBuf,
    file: File,
    partial: Vec<u8>,
}

/// Reads what is appended to the containers' timelines.
pub struct Follower {
    containers: PathBuf,
    /// Only this container's timeline (its id), or every container's.
    only: Option<String>,
    /// Open timelines, by container id.
    logs: HashMap<String, OpenLog>,
    inotify: Option<Inotify>,
    /// The directories inotify watches.
    watched: HashSet<PathBuf>,
}

impl Follower {
    /// Follows every container under `paths`, or only the one with id `only`.
    pub fn new(paths: &Paths, only: Option<&str>) -> Follower {
        Follower {
            containers: paths.containers(),
            only: only.map(String::from),
            logs: HashMap::new(),
            inotify: Inotify::init(InitFlags::IN_CLOEXEC | InitFlags::IN_NONBLOCK).ok(),
            watched: HashSet::new(),
        }
    }

    /// The events recorded since the last call (on the first call, every event already
    /// recorded), by time.
    pub fn next_events(&mut self) -> Vec<Event> {
        self.find_timelines();
        let mut events = vec![];
        let mut finished = vec![];
        for (id, log) in &mut self.logs {
            // Gone before this read means no more lines can come: after this read,
            // the file is done with.
            let gone = !log.path.exists();
            let mut bytes = vec![];
            let _ = log.file.read_to_end(&mut bytes);
            log.partial.extend_from_slice(&bytes);
            if let Some(end) = log.partial.iter().rposition(|&b| b == b'\n') {
                let complete: Vec<u8> = log.partial.drain(..=end).collect();
                events.extend(parse_lines(&complete));
            }
            if gone {
                finished.push(id.clone());
            }
        }
        for id in finished {
            self.logs.remove(&id);
        }
        sort_by_time(&mut events);
        events
    }

    /// Sleeps until a timeline may have grown, or for `timeout`.
    pub fn wait(&mut self, timeout: Duration) {
        let Some(inotify) = &self.inotify else {
            std::thread::sleep(timeout);
            return;
        };
        let millis = u16::try_from(timeout.as_millis()).unwrap_or(u16::MAX);
        let mut fds = [PollFd::new(inotify.as_fd(), PollFlags::POLLIN)];
        if poll(&mut fds, millis).is_err() {
            std::thread::sleep(timeout);
        }
        for _ in 0..MAX_DRAINS {
            if !inotify.read_events().is_ok_and(|events| !events.is_empty()) {
                break;
            }
        }
    }

    /// Opens the timelines not open yet, and watches the directories not watched yet.
    fn find_timelines(&mut self) {
        self.watched.retain(|dir| dir.exists());
        if self.only.is_none() {
            self.watch(
                self.containers.clone(),
                AddWatchFlags::IN_CREATE | AddWatchFlags::IN_MOVED_TO,
            );
        }
        let Ok(entries) = fs::read_dir(&self.containers) else {
            return;
        };
        for entry in entries.flatten() {
            let id = entry.file_name().to_string_lossy().into_owned();
            if self.only.as_ref().is_some_and(|only| *only != id)
                || !entry.file_type().is_ok_and(|t| t.is_dir())
            {
                continue;
            }
            let dir = entry.path();
            self.watch(
                dir.clone(),
                AddWatchFlags::IN_CREATE | AddWatchFlags::IN_MODIFY,
            );
            if self.logs.contains_key(&id) {
                continue;
            }
            let path = dir.join(EVENTS_FILE);
            if let Ok(file) = File::open(&path) {
                let log = OpenLog {
                    path,
                    file,
                    partial: vec![],
                };
                self.logs.insert(id, log);
            }
        }
    }

    fn watch(&mut self, dir: PathBuf, flags: AddWatchFlags) {
        let Some(inotify) = &self.inotify else {
            return;
        };
        if !self.watched.contains(&dir)
            && inotify
                .add_watch(&dir, flags | AddWatchFlags::IN_ONLYDIR)
                .is_ok()
        {
            self.watched.insert(dir);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::runtime::events::{record, EventKind};
    use std::time::Instant;

    fn event(id: &str, time_ms: u64, kind: EventKind) -> Event {
        Event {
            time_ms,
            id: id.into(),
            name: format!("name-{id}"),
            kind,
        }
    }

    #[test]
    fn a_follower_reads_history_then_each_new_line_once() {
        let root = tempfile::tempdir().unwrap();
        let paths = Paths::under(root.path());
        let mut follower = Follower::new(&paths, None);
        assert!(follower.next_events().is_empty());

        let a = paths.container("a");
        fs::create_dir_all(&a).unwrap();
        record(&a, &event("a", 1, EventKind::Start { pid: 1 })).unwrap();
        assert_eq!(follower.next_events().len(), 1);
        assert!(follower.next_events().is_empty());

        let b = paths.container("b");
        fs::create_dir_all(&b).unwrap();
        record(&b, &event("b", 3, EventKind::Start { pid: 2 })).unwrap();
        record(&a, &event("a", 2, EventKind::Rm)).unwrap();
        let times: Vec<u64> = follower.next_events().iter().map(|e| e.time_ms).collect();
        assert_eq!(times, [2, 3]);
    }

    #[test]
    fn the_last_lines_of_a_removed_container_are_still_read() {
        let root = tempfile::tempdir().unwrap();
        let paths = Paths::under(root.path());
        let dir = paths.container("a");
        fs::create_dir_all(&dir).unwrap();
        record(&dir, &event("a", 1, EventKind::Start { pid: 1 })).unwrap();
        let mut follower = Follower::new(&paths, Some("a"));
        assert_eq!(follower.next_events().len(), 1);
        record(&dir, &event("a", 2, EventKind::Rm)).unwrap();
        fs::remove_dir_all(&dir).unwrap();
        assert_eq!(follower.next_events(), [event("a", 2, EventKind::Rm)]);
        assert!(follower.logs.is_empty());
        assert!(follower.next_events().is_empty());
    }

    #[test]
    fn a_line_being_written_is_read_once_it_is_whole() {
        let root = tempfile::tempdir().unwrap();
        let paths = Paths::under(root.path());
        let dir = paths.container("a");
        fs::create_dir_all(&dir).unwrap();
        let line = serde_json::to_string(&event("a", 1, EventKind::Rm)).unwrap();
        let (head, tail) = line.split_at(10);
        fs::write(dir.join(EVENTS_FILE), head).unwrap();
        let mut follower = Follower::new(&paths, None);
        assert!(follower.next_events().is_empty());
        let mut file = fs::OpenOptions::new()
            .append(true)
            .open(dir.join(EVENTS_FILE))
            .unwrap();
        std::io::Write::write_all(&mut file, format!("{tail}\n").as_bytes()).unwrap();
        assert_eq!(follower.next_events().len(), 1);
    }

    #[test]
    fn waiting_ends_when_a_container_appears() {
        let root = tempfile::tempdir().unwrap();
        let paths = Paths::under(root.path());
        fs::create_dir_all(paths.containers()).unwrap();
        let mut follower = Follower::new(&paths, None);
        follower.next_events();
        let containers = paths.containers();
        let maker = std::thread::spawn(move || {
            std::thread::sleep(Duration::from_millis(50));
            fs::create_dir(containers.join("new")).unwrap();
        });
        let started = Instant::now();
        follower.wait(Duration::from_secs(5));
        assert!(started.elapsed() < Duration::from_secs(2));
        maker.join().unwrap();
    }
}
