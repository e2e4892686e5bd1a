//! v2 memory controller: `memory.max`, and `memory.swap.max`, which holds swap alone
//! (v1's memsw held memory plus swap).

use super::super::controller::Controller;
use super::super::files::{self, LimitWriter};
use super::super::{CgroupError, CgroupStats};
use crate::runtime::limits::Limits;
use std::path::Path;

pub(super) struct Memory;

impl Controller for Memory {
    fn name(&self) -> &'static str {
        "memory"
    }

    fn limited_by(&self, limits: &Limits) -> bool {
        limits.memory.is_some()
    }

    /// Writes `memory.max`, then `memory.swap.max` where the kernel accounts swap;
    /// `None` means no limit (`max`).
    fn apply(
        &self,
        dir: &Path,
        limits: &Limits,
        files: &mut LimitWriter,
    ) -> Result<(), CgroupError> {
        files.write(&dir.join("memory.max"), &files::limit_text(limits.memory))?;
        let swap_max = dir.join("memory.swap.max");
        if swap_max.exists() {
            files.write(&swap_max, &swap_value(limits))?;
        }
        Ok(())
    }

    fn stats(&self, dir: &Path, stats: &mut CgroupStats) -> Result<(), CgroupError> {
        stats.memory_usage = files::counter(&dir.join("memory.current"))?;
        stats.memory_limit = files::limit(&dir.join("memory.max"))?;
        // memory.peak came with Linux 5.19.
        stats.memory_peak = files::counter(&dir.join("memory.peak"))?;
        let events = dir.join("memory.events");
        [stats.memory_limit_hits, stats.oom_kills] =
            files::keyed_counters(&events, ["max", "oom_kill"])?;
        Ok(())
    }
}

fn swap_value(limits: &Limits) -> String {
    let swap = match (limits.memory, limits.memory_and_swap()) {
        (Some(memory), Some(total)) => Some(total.saturating_sub(memory)),
        _ => None,
    };
    files::limit_text(swap)
}

pub(super) fn oom_kills(dir: &Path) -> Result<u64, CgroupError> {
    let path = dir.join("memory.events");
    files::keyed_counter(&path, "oom_kill")?.ok_or(CgroupError::NotReported {
        path,
        key: "oom_kill",
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::runtime::limits::MemorySwap;

    #[test]
    fn swap_is_memory_and_swap_minus_memory() {
        let limits = |memory, memory_swap| Limits {
            memory,
            memory_swap,
            ..Limits::default()
        };
        assert_eq!(swap_value(&limits(Some(100), None)), "100");
        assert_eq!(
            swap_value(&limits(Some(100), Some(MemorySwap::Total(100)))),
            "0"
        );
        assert_eq!(
            swap_value(&limits(Some(100), Some(MemorySwap::Total(250)))),
            "150"
        );
        assert_eq!(
            swap_value(&limits(Some(100), Some(MemorySwap::Unlimited))),
            "max"
        );
        assert_eq!(swap_value(&limits(None, None)), "max");
    }
}
