//! A detached container's output log: what its monitor writes, and how the
//! CLI (`hako logs`) and the dashboard read it back.
//!
//! The monitor appends everything the container writes to `container.log` in
//! the container's directory. Before the file would grow past
//! `LOG_LIMIT_BYTES` it is renamed to `container.log.1` (replacing the one
//! before) and a new one is started, so at most two files exist and the
//! output reads, oldest first, `container.log.1` then `container.log`. A
//! container run in the foreground has no monitor and no log.

use super::control;
use crate::runtime::state::ContainerState;
use std::fs::{self, File, OpenOptions};
use std::io::{Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::time::Duration;

/// The log is rotated (one old file kept) when it reaches this size.
pub const LOG_LIMIT_BYTES: u64 = 8 << 20;

/// How often a follower looks for new output.
const FOLLOW_EVERY: Duration = Duration::from_millis(100);

/// The current log in the container directory `dir`.
fn current_path(dir: &Path) -> PathBuf {
    dir.join("container.log")
}

/// The log before the last rotation.
fn rotated_path(dir: &Path) -> PathBuf {
    dir.join("container.log.1")
}

/// The monitor's side: appends output, rotating before the limit.
pub struct LogWriter {
    path: PathBuf,
    file: Option<File>,
    size: u64,
}

impl LogWriter {
    /// Appends to the log of the container directory `dir`. A log that
    /// cannot be opened loses the output, never the container.
    pub fn open(dir: &Path) -> LogWriter {
        LogWriter::at(current_path(dir))
    }

    fn at(path: PathBuf) -> LogWriter {
        let file = OpenOptions::new()
            .create(true)
            .append(true)
            .open(&path)
            .ok();
        let size = file
            .as_ref()
            .and_then(|f| f.metadata().ok())
            .map_or(0, |m| m.len());
        LogWriter { path, file, size }
    }

    pub fn write(&mut self, data: &[u8]) {
        if self.size + data.len() as u64 > LOG_LIMIT_BYTES {
            if let Some(dir) = self.path.parent() {
                let _ = fs::rename(&self.path, rotated_path(dir));
            }
            *self = LogWriter::at(self.path.clone());
        }
        if let Some(file) = &mut self.file {
            if file.write_all(data).is_ok() {
                self.size += data.len() as u64;
            }
        }
    }
}

/// What the container in directory `dir` wrote, oldest first (empty when it
/// has no log), and a follower that goes on from its end.
pub fn read(dir: &Path) -> (Vec<u8>, LogFollower) {
    let mut output = fs::read(rotated_path(dir)).unwrap_or_default();
    let current = fs::read(current_path(dir)).unwrap_or_default();
    let follower = LogFollower {
        path: current_path(dir),
        offset: current.len() as u64,
    };
    output.extend(current);
    (output, follower)
}

/// The last `lines` lines of what the container wrote.
pub fn tail(dir: &Path, lines: usize) -> Vec<u8> {
    let (mut output, _) = read(dir);
    output.drain(..tail_start(&output, lines));
    output
}

/// Where the last `n` lines of `data` begin.
pub fn tail_start(data: &[u8], n: usize) -> usize {
    if n == 0 {
        return data.len();
    }
    // A final newline ends the last line; it does not start a new one.
    let body = data.strip_suffix(b"\n").unwrap_or(data);
    body.iter()
        .enumerate()
        .rev()
        .filter(|(_, b)| **b == b'\n')
        .nth(n - 1)
        .map_or(0, |(i, _)| i + 1)
}

/// Reads what is appended to a log from where `read` stopped.
#[derive(Debug)]
pub struct LogFollower {
    path: PathBuf,
    offset: u64,
}

impl LogFollower {
    /// What was appended since the last call; nothing when the log cannot be read.
    pub fn read_new(&mut self) -> Vec<u8> {
        let mut new = Vec::new();
        let Ok(mut file) = File::open(&self.path) else {
            return new;
        };
        let len = file.metadata().map_or(0, |m| m.len());
        if len < self.offset {
            // Rotated: the rest of the old file is in `container.log.1`, and the
            // new file is read from its start.
            self.offset = 0;
        }
        if file.seek(SeekFrom::Start(self.offset)).is_ok() && file.read_to_end(&mut new).is_ok() {
            self.offset += new.len() as u64;
        }
        new
    }

    /// Hands each piece of new output to `out` until `container` stops
    /// running (what it wrote last included).
    pub fn follow(mut self, container: &ContainerState, mut out: impl FnMut(&[u8])) {
        loop {
            let running = control::is_running(container);
            let new = self.read_new();
            if !new.is_empty() {
                out(&new);
            }
            if !running {
                return;
            }
            std::thread::sleep(FOLLOW_EVERY);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tail_counts_lines_from_the_end() {
        let data = b"a\nb\nc\n";
        assert_eq!(&data[tail_start(data, 2)..], b"b\nc\n");
        assert_eq!(&data[tail_start(data, 10)..], data);
        assert_eq!(&data[tail_start(data, 0)..], b"");
        let partial = b"a\nb";
        assert_eq!(&partial[tail_start(partial, 1)..], b"b");
    }

    #[test]
    fn the_log_rotates_at_its_limit_and_reads_back_whole() {
        let dir = tempfile::tempdir().unwrap();
        let mut log = LogWriter::open(dir.path());
        let chunk = vec![b'x'; 1 << 20];
        for _ in 0..8 {
            log.write(&chunk);
        }
        log.write(b"last\n");
        let current = fs::metadata(current_path(dir.path())).unwrap().len();
        assert!(current <= LOG_LIMIT_BYTES);
        assert!(fs::metadata(rotated_path(dir.path())).unwrap().len() > 0);
        let (output, _) = read(dir.path());
        assert_eq!(output.len(), 8 * (1 << 20) + 5);
        assert!(output.ends_with(b"xlast\n"));
    }

    #[test]
    fn the_tail_reaches_into_the_rotated_file() {
        let dir = tempfile::tempdir().unwrap();
        fs::write(rotated_path(dir.path()), "a\nb\n").unwrap();
        fs::write(current_path(dir.path()), "c\n").unwrap();
        assert_eq!(tail(dir.path(), 2), b"b\nc\n");
        assert_eq!(read(dir.path()).0, b"a\nb\nc\n");
    }

    #[test]
    fn a_follower_reads_each_append_once_and_across_a_rotation() {
        let dir = tempfile::tempdir().unwrap();
        let mut log = LogWriter::open(dir.path());
        log.write(b"before\n");
        let (output, mut follower) = read(dir.path());
        assert_eq!(output, b"before\n");
        assert!(follower.read_new().is_empty());
        log.write(b"one\n");
        assert_eq!(follower.read_new(), b"one\n");
        assert!(follower.read_new().is_empty());
        // A rotation starts an empty file; what is written into it is read.
        log.write(&vec![b'x'; LOG_LIMIT_BYTES as usize]);
        log.write(b"two\n");
        assert!(follower.read_new().ends_with(b"two\n"));
    }

    #[test]
    fn a_container_without_a_log_has_no_output() {
        let dir = tempfile::tempdir().unwrap();
        let (output, mut follower) = read(dir.path());
        assert!(output.is_empty());
        assert!(follower.read_new().is_empty());
        assert!(tail(dir.path(), 5).is_empty());
    }
}
