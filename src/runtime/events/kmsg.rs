//! The name of the process the OOM killer killed, from the kernel log (`/dev/kmsg`).
//!
//! Each read of /dev/kmsg returns one record, `PRIO,SEQ,USEC,FLAGS;message` followed
//! by indented `KEY=value` lines (Documentation/ABI/testing/dev-kmsg). For an OOM kill
//! the kernel logs `oom-kill:constraint=…,oom_memcg=/hako/ID,task_memcg=/hako/ID,
//! task=tail,pid=4242,uid=0` (since Linux 4.19) and then `Memory cgroup out of memory:
//! Killed process 4242 (tail) total-vm:…`. The first names the cgroup, so each watcher
//! picks out its own container's kills; the second is used only on kernels that do not
//! log the first.

use std::fs::{File, OpenOptions};
use std::io::{ErrorKind, Read, Seek, SeekFrom};
use std::os::unix::fs::OpenOptionsExt;
use std::path::Path;

const KMSG: &str = "/dev/kmsg";
/// A bound on the records read at once, in case the log is written as fast as it is read.
const MAX_RECORDS: usize = 100_000;

/// What one kernel log record says about an OOM kill.
#[derive(Debug, PartialEq, Eq)]
enum Record {
    /// `oom-kill:` for a process of the watched cgroup.
    KilledHere(String),
    /// `oom-kill:` for a process of another cgroup.
    KilledElsewhere,
    /// `Killed process N (name)`, which does not name the cgroup.
    Killed(String),
    Other,
}

/// A reader of the kernel log records written after it was opened.
pub(super) struct KernelLog {
    file: File,
    /// The last component of the cgroup's path (the container id), which ends the
    /// `*_memcg=` values whatever the hierarchy's mount point and the parent.
    cgroup_leaf: String,
}

impl KernelLog {
    /// Opens the log at its end, for the cgroup whose directory is `cgroup_dir`.
    /// `None` when the log cannot be read (not root, `dmesg_restrict`, no /dev/kmsg):
    /// kills are then recorded without a name.
    pub(super) fn open(cgroup_dir: &Path) -> Option<KernelLog> {
        let mut file = OpenOptions::new()
            .read(true)
            .custom_flags(libc::O_NONBLOCK)
            .open(KMSG)
            .ok()?;
        file.seek(SeekFrom::End(0)).ok()?;
        Some(KernelLog {
            file,
            cgroup_leaf: cgroup_dir.file_name()?.to_string_lossy().into_owned(),
        })
    }

    /// The newest process killed in the cgroup among the records logged since the last
    /// call, if the log names one.
    pub(super) fn newest_killed(&mut self) -> Option<String> {
        let mut here = None;
        let mut unattributed = None;
        let mut saw_oom_kill_lines = false;
        let mut buffer = vec![0u8; 8192];
        for _ in 0..MAX_RECORDS {
            let n = match self.file.read(&mut buffer) {
                Ok(0) => break,
                Ok(n) => n,
                // EPIPE: older records were overwritten before being read; the next
                // read returns the oldest one still there.
                Err(e) if e.raw_os_error() == Some(libc::EPIPE) => continue,
                Err(e) if e.kind() == ErrorKind::Interrupted => continue,
                Err(_) => break,
            };
            let record = String::from_utf8_lossy(&buffer[..n]);
            match parse_record(&record, &self.cgroup_leaf) {
                Record::KilledHere(name) => {
                    saw_oom_kill_lines = true;
                    here = Some(name);
                }
                Record::KilledElsewhere => saw_oom_kill_lines = true,
                Record::Killed(name) => unattributed = Some(name),
                Record::Other => {}
            }
        }
        if saw_oom_kill_lines {
            here
        } else {
            unattributed
        }
    }
}

/// What a record (`6,1234,5678,-;message\n KEY=value…`) says about an OOM kill.
fn parse_record(record: &str, cgroup_leaf: &str) -> Record {
    let Some((_, text)) = record.split_once(';') else {
        return Record::Other;
    };
    let message = text.lines().next().unwrap_or("");
    if let Some(fields) = message.trim_start().strip_prefix("oom-kill:") {
        let mut task = None;
        let mut ours = false;
        for field in fields.split(',') {
            match field.split_once('=') {
                Some(("oom_memcg" | "task_memcg", path)) => {
                    ours |= path.rsplit('/').next() == Some(cgroup_leaf)
                }
                Some(("task", name)) => task = Some(name.to_string()),
                _ => {}
            }
        }
        return match (ours, task) {
            (true, Some(name)) => Record::KilledHere(name),
            _ => Record::KilledElsewhere,
        };
    }
    let Some((_, after)) = message.split_once("Killed process ") else {
        return Record::Other;
    };
    let Some((_, name_on)) = after.split_once(" (") else {
        return Record::Other;
    };
    // A command name may hold ") ", so cut at the field that follows it.
    let name = match name_on.split_once(") total-vm:") {
        Some((name, _)) => name,
        None => name_on.rsplit_once(')').map_or(name_on, |(name, _)| name),
    };
    Record::Killed(name.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    const LEAF: &str = "0123abcd";

    #[test]
    fn oom_kill_lines_are_matched_to_their_cgroup() {
        let ours = "6,5831,1234567,-;oom-kill:constraint=CONSTRAINT_MEMCG,nodemask=(null),\
                    cpuset=/,mems_allowed=0,oom_memcg=/hako/0123abcd,task_memcg=/hako/0123abcd,\
                    task=tail,pid=4242,uid=0\n SUBSYSTEM=memory\n";
        assert_eq!(parse_record(ours, LEAF), Record::KilledHere("tail".into()));
        let nested = ours.replace("/hako/0123abcd", "/0123abcd");
        assert_eq!(
            parse_record(&nested, LEAF),
            Record::KilledHere("tail".into())
        );
        // The processes are in the leaf below the limits; the limit hit names the
        // container's own cgroup.
        let in_leaf = ours.replace(
            "task_memcg=/hako/0123abcd",
            "task_memcg=/hako/0123abcd/payload",
        );
        assert_eq!(
            parse_record(&in_leaf, LEAF),
            Record::KilledHere("tail".into())
        );
        let other = ours.replace("0123abcd", "99999999");
        assert_eq!(parse_record(&other, LEAF), Record::KilledElsewhere);
        let longer = ours.replace("0123abcd", "x0123abcd");
        assert_eq!(parse_record(&longer, LEAF), Record::KilledElsewhere);
    }

    #[test]
    fn killed_process_lines_give_the_name() {
        let line = "3,5832,1234570,-;Memory cgroup out of memory: Killed process 4242 (tail) \
                    total-vm:30000kB, anon-rss:16000kB, file-rss:0kB, shmem-rss:0kB, UID:0 \
                    pgtables:80kB oom_score_adj:0\n";
        assert_eq!(parse_record(line, LEAF), Record::Killed("tail".into()));
        let odd = "3,1,1,-;Killed process 7 (a) b) total-vm:1kB\n";
        assert_eq!(parse_record(odd, LEAF), Record::Killed("a) b".into()));
        assert_eq!(parse_record("6,1,1,-;eth0: link up\n", LEAF), Record::Other);
        assert_eq!(parse_record("garbage", LEAF), Record::Other);
    }

    #[test]
    fn a_process_name_with_escapes_reaches_event_lines_escaped() {
        // The kernel shows a comm's control characters as `\xNN` in
        // /dev/kmsg; should a raw one ever come through, the event line still
        // carries none to the terminal.
        for comm in ["\x1b]0;pwned\x07", "\x1b[2J"] {
            let record = format!(
                "6,1,1,-;oom-kill:constraint=CONSTRAINT_MEMCG,oom_memcg=/hako/{LEAF},\
                 task_memcg=/hako/{LEAF},task={comm},pid=1,uid=0\n"
            );
            let Record::KilledHere(name) = parse_record(&record, LEAF) else {
                panic!("not matched: {record:?}");
            };
            let event = super::super::Event::new(
                "id",
                "web",
                super::super::EventKind::OomKill {
                    count: 1,
                    process: Some(name),
                    memory_limit: None,
                },
            );
            for line in [event.human_line(), event.kind.detail()] {
                assert!(
                    !line.contains(['\x1b', '\x07']),
                    "raw control characters in {line:?}"
                );
                assert!(line.contains("\\x1b"), "{line:?}");
            }
        }
    }
}
