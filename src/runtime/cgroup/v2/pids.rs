//! v2 pids controller.

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

pub(super) fn stats(dir: &Path, stats: &mut CgroupStats) -> Result<(), CgroupError> {
    stats.pids_current = files::counter(&dir.join("pids.current"))?;
    stats.pids_limit = files::limit(&dir.join("pids.max"))?;
    stats.pids_limit_hits = files::keyed_counter(&dir.join("pids.events"), "max")?;
    Ok(())
}
