//! The `Controller` trait: what one controller's files do in a container's cgroup.
//! Each version lists its controllers once (`v1::CONTROLLERS`, `v2::CONTROLLERS`), and
//! creating, updating and reading a cgroup go through that list.

use super::files::LimitWriter;
use super::{CgroupError, CgroupStats};
use crate::runtime::limits::Limits;
use std::path::Path;

/// One controller of one cgroup version. Every step but `name` does nothing by default,
/// as most controllers take part in only some of them.
pub(super) trait Controller: Sync {
    /// As the kernel spells it in mountinfo and `cgroup.controllers` (the same on v1
    /// and v2).
    fn name(&self) -> &'static str;

    /// Whether `limits` sets a limit of this controller: then a cgroup without it is an
    /// error, and an update writes its files.
    fn limited_by(&self, _limits: &Limits) -> bool {
        false
    }

    /// Readies a cgroup directory just made, before anything joins it or is made below.
    fn prepare(&self, _dir: &Path) -> Result<(), CgroupError> {
        Ok(())
    }

    /// Writes the limits of `limits` into the container's cgroup `dir`, `None` meaning
    /// "no limit".
    fn apply(
        &self,
        _dir: &Path,
        _limits: &Limits,
        _files: &mut LimitWriter,
    ) -> Result<(), CgroupError> {
        Ok(())
    }

    /// Reads this controller's limits and counters of the container's cgroup `dir`.
    fn stats(&self, _dir: &Path, _stats: &mut CgroupStats) -> Result<(), CgroupError> {
        Ok(())
    }
}

/// The names of the controllers `limits` cannot do without.
pub(super) fn needed_by(controllers: &[&dyn Controller], limits: &Limits) -> Vec<&'static str> {
    controllers
        .iter()
        .filter(|c| c.limited_by(limits))
        .map(|c| c.name())
        .collect()
}
