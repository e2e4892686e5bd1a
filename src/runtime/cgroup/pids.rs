//! The pids controller, whose files are the same on v1 and v2 (`pids.max`,
//! `pids.current`, `pids.events`).

use super::controller::Controller;
use super::files::{self, LimitWriter};
use super::{CgroupError, CgroupStats, LEAF};
use crate::runtime::limits::Limits;
use std::path::Path;

pub(super) struct Pids {
    /// Whether refused forks are counted in the `LEAF` rather than where the limit is.
    /// v1 counts a refused fork in the cgroup of the process that forked, not in the one
    /// whose limit refused it (seen on 6.18: `max 6` in the leaf, `max 0` in `dir`); v2
    /// counts it where the limit is, and its leaf has no pids files at all.
    pub(super) events_in_leaf: bool,
}

impl Controller for Pids {
    fn name(&self) -> &'static str {
        "pids"
    }

    fn limited_by(&self, limits: &Limits) -> bool {
        limits.pids.is_some()
    }

    /// Writes `pids.max` (`max` for no limit).
    fn apply(
        &self,
        dir: &Path,
        limits: &Limits,
        files: &mut LimitWriter,
    ) -> Result<(), CgroupError> {
        files.write(&dir.join("pids.max"), &files::limit_text(limits.pids))
    }

    fn stats(&self, dir: &Path, stats: &mut CgroupStats) -> Result<(), CgroupError> {
        stats.pids_current = files::counter(&dir.join("pids.current"))?;
        stats.pids_limit = files::limit(&dir.join("pids.max"))?;
        let events_dir = if self.events_in_leaf {
            dir.join(LEAF)
        } else {
            dir.to_path_buf()
        };
        stats.pids_limit_hits = files::keyed_counter(&events_dir.join("pids.events"), "max")?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::fs;

    #[test]
    fn limit_and_counters_where_each_version_counts_them() {
        let dir = tempfile::tempdir().unwrap();
        let leaf = dir.path().join(LEAF);
        fs::create_dir(&leaf).unwrap();
        let limits = Limits {
            pids: Some(32),
            ..Limits::default()
        };
        let v1 = Pids {
            events_in_leaf: true,
        };
        v1.apply(dir.path(), &limits, &mut LimitWriter::fresh())
            .unwrap();
        assert_eq!(
            fs::read_to_string(dir.path().join("pids.max")).unwrap(),
            "32"
        );
        fs::write(dir.path().join("pids.current"), "5\n").unwrap();
        fs::write(dir.path().join("pids.events"), "max 0\n").unwrap();
        fs::write(leaf.join("pids.events"), "max 2\n").unwrap();
        let mut stats = CgroupStats::default();
        v1.stats(dir.path(), &mut stats).unwrap();
        assert_eq!(
            (stats.pids_current, stats.pids_limit, stats.pids_limit_hits),
            (Some(5), Some(32), Some(2))
        );
        let v2 = Pids {
            events_in_leaf: false,
        };
        v2.stats(dir.path(), &mut stats).unwrap();
        assert_eq!(stats.pids_limit_hits, Some(0));
    }
}
