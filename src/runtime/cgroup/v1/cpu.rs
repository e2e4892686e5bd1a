//! v1 cpu and cpuacct controllers: the CFS quota, throttling and usage.

use super::super::controller::Controller;
use super::super::files::{self, LimitWriter};
use super::super::{CgroupError, CgroupStats};
use crate::runtime::limits::{CpuQuota, Limits};
use std::path::Path;

const PERIOD: &str = "cpu.cfs_period_us";
const QUOTA: &str = "cpu.cfs_quota_us";

/// The CFS quota and the throttling counters.
pub(super) struct Cpu;

impl Controller for Cpu {
    fn name(&self) -> &'static str {
        "cpu"
    }

    fn limited_by(&self, limits: &Limits) -> bool {
        limits.cpu.is_some()
    }

    /// Writes the period, then the quota (-1 for no quota, leaving the period alone).
    fn apply(
        &self,
        dir: &Path,
        limits: &Limits,
        files: &mut LimitWriter,
    ) -> Result<(), CgroupError> {
        match limits.cpu {
            Some(cpu) => {
                files.write(&dir.join(PERIOD), &cpu.period_us.to_string())?;
                files.write(&dir.join(QUOTA), &cpu.quota_us.to_string())
            }
            None => files.write(&dir.join(QUOTA), "-1"),
        }
    }

    fn stats(&self, dir: &Path, stats: &mut CgroupStats) -> Result<(), CgroupError> {
        [stats.nr_periods, stats.nr_throttled, stats.throttled_ns] = files::keyed_counters(
            &dir.join("cpu.stat"),
            ["nr_periods", "nr_throttled", "throttled_time"],
        )?;
        let quota = files::limit(&dir.join(QUOTA))?;
        let period = files::counter(&dir.join(PERIOD))?;
        stats.cpu_quota = quota.zip(period).map(|(quota_us, period_us)| CpuQuota {
            quota_us,
            period_us,
        });
        Ok(())
    }
}

/// CPU time used, in a hierarchy of its own on some hosts (most co-mount `cpu,cpuacct`).
pub(super) struct CpuAcct;

impl Controller for CpuAcct {
    fn name(&self) -> &'static str {
        "cpuacct"
    }

    fn stats(&self, dir: &Path, stats: &mut CgroupStats) -> Result<(), CgroupError> {
        stats.cpu_usage_ns = files::counter(&dir.join("cpuacct.usage"))?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::fs;

    #[test]
    fn quota_is_written_after_its_period() {
        let dir = tempfile::tempdir().unwrap();
        fs::write(dir.path().join(PERIOD), "100000\n").unwrap();
        fs::write(dir.path().join(QUOTA), "-1\n").unwrap();
        let limits = Limits {
            cpu: Some(CpuQuota {
                quota_us: 30_000,
                period_us: 50_000,
            }),
            ..Limits::default()
        };
        let mut files = LimitWriter::remembering();
        Cpu.apply(dir.path(), &limits, &mut files).unwrap();
        assert_eq!(files.written_files(), [PERIOD, QUOTA]);
        assert_eq!(
            fs::read_to_string(dir.path().join(PERIOD)).unwrap(),
            "50000"
        );
        assert_eq!(fs::read_to_string(dir.path().join(QUOTA)).unwrap(), "30000");
    }

    #[test]
    fn no_quota_is_minus_one() {
        let dir = tempfile::tempdir().unwrap();
        Cpu.apply(dir.path(), &Limits::default(), &mut LimitWriter::fresh())
            .unwrap();
        assert_eq!(fs::read_to_string(dir.path().join(QUOTA)).unwrap(), "-1");
        let mut stats = CgroupStats::default();
        fs::write(dir.path().join(PERIOD), "100000\n").unwrap();
        Cpu.stats(dir.path(), &mut stats).unwrap();
        assert_eq!(stats.cpu_quota, None);
        // No cpu.stat in this dir: the counters are not reported.
        assert_eq!(stats.nr_throttled, None);
    }
}
