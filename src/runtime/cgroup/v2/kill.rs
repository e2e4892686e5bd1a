//! Killing a v2 cgroup with `cgroup.kill` (Linux 5.14, cgroup-v2.rst "cgroup.kill"):
//! one write sends SIGKILL to every process in the cgroup and below, including those
//! forked meanwhile, so nothing is read, looked up or retried. The end is read from
//! `cgroup.events`, whose `populated` turns 0 once no process is left, and whose change
//! the kernel signals as a file modification, so the wait sleeps in poll(2) on inotify.

use super::super::files;
use super::super::CgroupError;
use nix::poll::{poll, PollFd, PollFlags, PollTimeout};
use nix::sys::inotify::{AddWatchFlags, InitFlags, Inotify};
use std::fs::OpenOptions;
use std::io::{self, Write};
use std::os::fd::AsFd;
use std::path::Path;
use std::time::{Duration, Instant};

/// What `write_kill` did.
#[derive(Debug, PartialEq, Eq)]
pub(super) enum Killed {
    /// The kernel took the write: the processes are on their way out.
    Written,
    /// No `cgroup.kill` (a kernel before 5.14, or the cgroup is gone already).
    NoKillFile,
}

/// Writes `1` into `dir/cgroup.kill`.
pub(super) fn write_kill(dir: &Path) -> Result<Killed, CgroupError> {
    let path = dir.join("cgroup.kill");
    // Without `create`: a missing file must stay missing, for the fallback to see.
    let written = OpenOptions::new()
        .write(true)
        .open(&path)
        .and_then(|mut file| file.write_all(b"1"));
    match written {
        Ok(()) => Ok(Killed::Written),
        // ENODEV: the cgroup is being removed at this moment (by another hako).
        Err(error)
            if error.kind() == io::ErrorKind::NotFound
                || error.raw_os_error() == Some(libc::ENODEV) =>
        {
            Ok(Killed::NoKillFile)
        }
        Err(error) => Err(CgroupError::Write {
            path,
            value: "1".to_string(),
            error,
            hint: "",
        }),
    }
}

/// Waits until `dir/cgroup.events` says `populated 0` (or is gone with its cgroup), for
/// at most `within`. Returns whether it got there: processes that outlive the wait make
/// the rmdir that follows fail, with an error naming the cgroup. `Err` only when
/// inotify cannot be had, for the caller to wait another way.
pub(super) fn wait_until_empty(dir: &Path, within: Duration) -> io::Result<bool> {
    let events = dir.join("cgroup.events");
    let deadline = Instant::now() + within;
    let inotify = Inotify::init(InitFlags::IN_CLOEXEC | InitFlags::IN_NONBLOCK)?;
    // Watching first, then reading: a change between the two is not missed.
    match inotify.add_watch(&events, AddWatchFlags::IN_MODIFY) {
        Ok(_) => {}
        Err(nix::errno::Errno::ENOENT) => return Ok(true),
        Err(error) => return Err(error.into()),
    }
    loop {
        if !is_populated(&events) {
            return Ok(true);
        }
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return Ok(false);
        }
        // Rounded up: a timeout rounded down to 0 would spin through the last millisecond.
        let timeout =
            PollTimeout::try_from(left.as_millis().saturating_add(1)).unwrap_or(PollTimeout::MAX);
        let mut fds = [PollFd::new(inotify.as_fd(), PollFlags::POLLIN)];
        match poll(&mut fds, timeout) {
            Ok(_) | Err(nix::errno::Errno::EINTR) => {}
            Err(error) => return Err(error.into()),
        }
        // Emptied so the next poll sleeps until the next change.
        while inotify.read_events().is_ok_and(|events| !events.is_empty()) {}
    }
}

/// Whether `cgroup.events` says processes are left. A file that cannot be read (the
/// cgroup is gone) or holds no `populated` line (a plain file standing in for it in
/// tests) has none.
fn is_populated(events: &Path) -> bool {
    files::keyed_counter(events, "populated").is_ok_and(|populated| populated == Some(1))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::fs;

    #[test]
    fn the_kill_is_one_write_and_a_missing_file_is_said() {
        let dir = tempfile::tempdir().unwrap();
        assert_eq!(write_kill(dir.path()).unwrap(), Killed::NoKillFile);
        assert!(!dir.path().join("cgroup.kill").exists());
        fs::write(dir.path().join("cgroup.kill"), "").unwrap();
        assert_eq!(write_kill(dir.path()).unwrap(), Killed::Written);
        assert_eq!(
            fs::read_to_string(dir.path().join("cgroup.kill")).unwrap(),
            "1"
        );
    }

    #[test]
    fn the_wait_ends_when_populated_turns_0() {
        let dir = tempfile::tempdir().unwrap();
        let events = dir.path().join("cgroup.events");
        fs::write(&events, "populated 1\nfrozen 0\n").unwrap();
        assert!(!wait_until_empty(dir.path(), Duration::ZERO).unwrap());
        // Whether the change comes before or during the wait, the wait sees it.
        let writer = {
            let events = events.clone();
            std::thread::spawn(move || fs::write(events, "populated 0\nfrozen 0\n").unwrap())
        };
        assert!(wait_until_empty(dir.path(), Duration::from_secs(10)).unwrap());
        writer.join().unwrap();
        // Gone with its cgroup: nothing is left to wait for.
        fs::remove_file(&events).unwrap();
        assert!(wait_until_empty(dir.path(), Duration::ZERO).unwrap());
    }
}
