//! v1 pids controller: the same files as on v2.

use super::super::files::{self, LimitWriter};
use super::super::{CgroupError, CgroupStats};
use crate::runtime::limits::Limits;
use std::path::Path;

/// Writes `pids.max` (`max` for no limit).
pub(super) fn apply(
    dir: &Path,
    limits: &Limits,
    files: &mut LimitWriter,
) -> Result<(), CgroupError> {
    let value = limits
        .pids
        .map_or_else(|| "max".to_string(), |n| n.to_string());
    files.write(&dir.join("pids.max"), &value)
}

/// The counters of the cgroup `dir` that holds the limit, whose processes are in `leaf`.
/// v1 counts a refused fork in the cgroup of the process that forked, not in the one
/// whose limit refused it (seen on 6.18: `max 6` in the leaf, `max 0` in `dir`).
pub(super) fn stats(dir: &Path, leaf: &Path, stats: &mut CgroupStats) -> Result<(), CgroupError> {
    stats.pids_current = files::counter(&dir.join("pids.current"))?;
    stats.pids_limit = files::limit(&dir.join("pids.max"))?;
    stats.pids_limit_hits = files::keyed_counter(&leaf.join("pids.events"), "max")?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::fs;

    #[test]
    fn limit_and_counters() {
        let dir = tempfile::tempdir().unwrap();
        let limits = Limits {
            pids: Some(32),
            ..Limits::default()
        };
        apply(dir.path(), &limits, &mut LimitWriter::fresh()).unwrap();
        assert_eq!(
            fs::read_to_string(dir.path().join("pids.max")).unwrap(),
            "32"
        );
        fs::write(dir.path().join("pids.current"), "5\n").unwrap();
        fs::write(dir.path().join("pids.events"), "max 2\n").unwrap();
        let mut stats = CgroupStats::default();
        super::stats(dir.path(), dir.path(), &mut stats).unwrap();
        assert_eq!(
            (stats.pids_current, stats.pids_limit, stats.pids_limit_hits),
            (Some(5), Some(32), Some(2))
        );
    }
}
