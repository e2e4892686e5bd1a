//! v2 cpu controller: `cpu.max` ("QUOTA PERIOD", or "max PERIOD" for no quota).

use super::super::controller::Controller;
use super::super::files::{self, LimitWriter};
use super::super::{CgroupError, CgroupStats};
use crate::runtime::limits::{CpuQuota, Limits, CPU_PERIOD_US};
use std::path::Path;

pub(super) struct Cpu;

impl Controller for Cpu {
    fn name(&self) -> &'static str {
        "cpu"
    }

    fn limited_by(&self, limits: &Limits) -> bool {
        limits.cpu.is_some()
    }

    fn apply(
        &self,
        dir: &Path,
        limits: &Limits,
        files: &mut LimitWriter,
    ) -> Result<(), CgroupError> {
        let value = match limits.cpu {
            Some(cpu) => format!("{} {}", cpu.quota_us, cpu.period_us),
            None => format!("max {CPU_PERIOD_US}"),
        };
        files.write(&dir.join("cpu.max"), &value)
    }

    /// Usage and throttling from `cpu.stat` (in microseconds there, nanoseconds here,
    /// as on v1), and the quota from `cpu.max`.
    fn stats(&self, dir: &Path, stats: &mut CgroupStats) -> Result<(), CgroupError> {
        let cpu_stat = dir.join("cpu.stat");
        let ns = |us: Option<u64>| us.map(|us| us.saturating_mul(1000));
        let [usage_usec, nr_periods, nr_throttled, throttled_usec] = files::keyed_counters(
            &cpu_stat,
            ["usage_usec", "nr_periods", "nr_throttled", "throttled_usec"],
        )?;
        stats.cpu_usage_ns = ns(usage_usec);
        stats.nr_periods = nr_periods;
        stats.nr_throttled = nr_throttled;
        stats.throttled_ns = ns(throttled_usec);
        let cpu_max = dir.join("cpu.max");
        if let Some(text) = files::read_if_present(&cpu_max)? {
            stats.cpu_quota = parse_cpu_max(&text).ok_or(CgroupError::Parse {
                path: cpu_max,
                text,
            })?;
        }
        Ok(())
    }
}

/// `Some(quota)` for well-formed text, `Some(None)` meaning no quota.
fn parse_cpu_max(text: &str) -> Option<Option<CpuQuota>> {
    let mut words = text.split_whitespace();
    let quota = words.next()?;
    let period_us = words
        .next()
        .map_or(Some(CPU_PERIOD_US), |p| p.parse().ok())?;
    if words.next().is_some() {
        return None;
    }
    match quota {
        "max" => Some(None),
        quota => Some(Some(CpuQuota {
            quota_us: quota.parse().ok()?,
            period_us,
        })),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cpu_max_reads_as_a_quota_or_none() {
        assert_eq!(
            parse_cpu_max("30000 100000\n"),
            Some(Some(CpuQuota {
                quota_us: 30_000,
                period_us: 100_000
            }))
        );
        assert_eq!(parse_cpu_max("max 100000\n"), Some(None));
        assert_eq!(parse_cpu_max("lots 100000\n"), None);
        assert_eq!(parse_cpu_max("1 2 3"), None);
        assert_eq!(parse_cpu_max(""), None);
    }
}
