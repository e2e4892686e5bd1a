//! v1 memory controller: `memory.limit_in_bytes` and, where the kernel accounts swap,
//! `memory.memsw.limit_in_bytes` (memory plus swap).

use super::super::controller::Controller;
use super::super::files::{self, LimitWriter};
use super::super::{CgroupError, CgroupStats, LEAF};
use crate::runtime::limits::Limits;
use std::path::Path;

const LIMIT: &str = "memory.limit_in_bytes";
const MEMSW_LIMIT: &str = "memory.memsw.limit_in_bytes";

pub(super) struct Memory;

impl Controller for Memory {
    fn name(&self) -> &'static str {
        "memory"
    }

    fn limited_by(&self, limits: &Limits) -> bool {
        limits.memory.is_some()
    }

    fn apply(
        &self,
        dir: &Path,
        limits: &Limits,
        files: &mut LimitWriter,
    ) -> Result<(), CgroupError> {
        write_limits(dir, limits, files)
    }

    fn stats(&self, dir: &Path, stats: &mut CgroupStats) -> Result<(), CgroupError> {
        read_stats(dir, &dir.join(LEAF), stats)
    }
}

/// Writes the memory limit and memory+swap by docker's rule; `None` means no limit
/// (written as -1).
fn write_limits(dir: &Path, limits: &Limits, files: &mut LimitWriter) -> Result<(), CgroupError> {
    let memory = dir.join(LIMIT);
    let memsw = dir.join(MEMSW_LIMIT);
    let new_memory = limits.memory;
    // The memsw file exists only where the kernel accounts swap (swapaccount=1).
    if !memsw.exists() {
        return files.write(&memory, &bytes_or_unlimited(new_memory));
    }
    let new_memsw = limits.memory.and(limits.memory_and_swap());
    // The kernel refuses any state where memsw is below memory, so a memory limit
    // above the current memsw needs memsw raised first; otherwise memory goes first.
    let current_memsw = files::limit(&memsw)?;
    let memsw_first = match (new_memory, current_memsw) {
        (_, None) => false,
        (None, Some(_)) => true,
        (Some(new), Some(current)) => new > current,
    };
    let writes = [
        (&memory, bytes_or_unlimited(new_memory)),
        (&memsw, bytes_or_unlimited(new_memsw)),
    ];
    let order = if memsw_first { [1, 0] } else { [0, 1] };
    for index in order {
        let (path, value) = &writes[index];
        files.write(path, value)?;
    }
    Ok(())
}

fn bytes_or_unlimited(limit: Option<u64>) -> String {
    limit.map_or_else(|| "-1".to_string(), |bytes| bytes.to_string())
}

/// The counters of the cgroup `dir` that holds the limit, whose processes are in `leaf`.
/// Usage and peak are of the whole subtree, and failcnt counts hits of this cgroup's
/// own limit, so those come from `dir`. The kernel counts an OOM kill only in the
/// victim's own memory cgroup on v1 (memcg_memory_event stops at the first level unless
/// on cgroup2; seen on 6.18: `oom_kill 1` in the leaf, 0 in `dir`), so that one comes
/// from the leaf. Kills in cgroups the container made below its leaf are not counted.
fn read_stats(dir: &Path, leaf: &Path, stats: &mut CgroupStats) -> Result<(), CgroupError> {
    stats.memory_usage = files::counter(&dir.join("memory.usage_in_bytes"))?;
    stats.memory_limit = files::limit(&dir.join(LIMIT))?;
    stats.memory_peak = files::counter(&dir.join("memory.max_usage_in_bytes"))?;
    // failcnt stays 0 when memsw equals memory: then the memsw limit is hit instead.
    stats.memory_limit_hits = files::counter(&dir.join("memory.failcnt"))?;
    stats.oom_kills = files::keyed_counter(&leaf.join("memory.oom_control"), "oom_kill")?;
    Ok(())
}

/// The OOM kills counted in `leaf`, the memory cgroup of the container's processes.
pub(super) fn oom_kills(leaf: &Path) -> Result<u64, CgroupError> {
    let path = leaf.join("memory.oom_control");
    files::keyed_counter(&path, "oom_kill")?.ok_or(CgroupError::NotReported {
        path,
        key: "oom_kill",
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::runtime::limits::MemorySwap;
    use std::fs;

    const MIB: u64 = 1 << 20;

    /// A memory cgroup dir whose files hold `memory` and `memsw` (kernel spelling).
    fn dir_with(memory: &str, memsw: &str) -> tempfile::TempDir {
        let dir = tempfile::tempdir().unwrap();
        fs::write(dir.path().join(LIMIT), memory).unwrap();
        fs::write(dir.path().join(MEMSW_LIMIT), memsw).unwrap();
        dir
    }

    fn read(dir: &Path, file: &str) -> String {
        fs::read_to_string(dir.join(file)).unwrap()
    }

    /// Applies `limits` through a writer that remembers, and returns the files in the
    /// order they were written (as the undo order, reversed).
    fn apply_and_order(dir: &Path, limits: &Limits) -> Vec<String> {
        let mut files = LimitWriter::remembering();
        Memory.apply(dir, limits, &mut files).unwrap();
        files.written_files()
    }

    fn memory(bytes: u64, swap: Option<MemorySwap>) -> Limits {
        Limits {
            memory: Some(bytes),
            memory_swap: swap,
            ..Limits::default()
        }
    }

    #[test]
    fn memsw_defaults_to_twice_memory_and_memory_goes_first_on_a_new_cgroup() {
        let dir = dir_with("9223372036854771712\n", "9223372036854771712\n");
        let order = apply_and_order(dir.path(), &memory(10 * MIB, None));
        assert_eq!(read(dir.path(), LIMIT), "10485760");
        assert_eq!(read(dir.path(), MEMSW_LIMIT), "20971520");
        assert_eq!(order, [LIMIT, MEMSW_LIMIT]);
    }

    #[test]
    fn raising_memory_above_the_current_memsw_writes_memsw_first() {
        let dir = dir_with("10485760\n", "20971520\n");
        let order = apply_and_order(
            dir.path(),
            &memory(30 * MIB, Some(MemorySwap::Total(40 * MIB))),
        );
        assert_eq!(order, [MEMSW_LIMIT, LIMIT]);
        assert_eq!(read(dir.path(), LIMIT), "31457280");
        assert_eq!(read(dir.path(), MEMSW_LIMIT), "41943040");
    }

    #[test]
    fn lowering_memory_writes_memory_first() {
        let dir = dir_with("31457280\n", "41943040\n");
        let order = apply_and_order(dir.path(), &memory(10 * MIB, None));
        assert_eq!(order, [LIMIT, MEMSW_LIMIT]);
    }

    #[test]
    fn unlimited_swap_and_no_limit_are_minus_one() {
        let dir = dir_with("10485760\n", "20971520\n");
        apply_and_order(dir.path(), &memory(10 * MIB, Some(MemorySwap::Unlimited)));
        assert_eq!(read(dir.path(), MEMSW_LIMIT), "-1");
        let order = apply_and_order(dir.path(), &Limits::default());
        assert_eq!(read(dir.path(), LIMIT), "-1");
        assert_eq!(read(dir.path(), MEMSW_LIMIT), "-1");
        assert_eq!(order, [LIMIT, MEMSW_LIMIT]);
        let dir = dir_with("10485760\n", "20971520\n");
        assert_eq!(
            apply_and_order(dir.path(), &Limits::default()),
            [MEMSW_LIMIT, LIMIT]
        );
    }

    #[test]
    fn without_swap_accounting_only_the_memory_limit_is_written() {
        let dir = tempfile::tempdir().unwrap();
        Memory
            .apply(
                dir.path(),
                &memory(10 * MIB, None),
                &mut LimitWriter::fresh(),
            )
            .unwrap();
        assert_eq!(read(dir.path(), LIMIT), "10485760");
        assert!(!dir.path().join(MEMSW_LIMIT).exists());
    }

    #[test]
    fn oom_kills_come_from_oom_control() {
        let dir = tempfile::tempdir().unwrap();
        assert!(oom_kills(dir.path()).is_err());
        fs::write(
            dir.path().join("memory.oom_control"),
            "oom_kill_disable 0\nunder_oom 0\noom_kill 2\n",
        )
        .unwrap();
        assert_eq!(oom_kills(dir.path()).unwrap(), 2);
    }
}
