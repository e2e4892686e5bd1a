//! Resource limits of a container and their docker-style spelling.
//!
//! Sizes follow `docker run --memory`: a number with an optional unit
//! `b`, `k`, `m`, `g`, `t` (any case, optionally followed by `b`/`ib`),
//! in powers of 1024. CPUs follow `--cpus`: a decimal number of CPUs that
//! becomes a CFS quota over a 100 ms period.

use serde::{Deserialize, Serialize};
use thiserror::Error;

/// The CFS period docker uses for `--cpus` (100 ms).
pub const CPU_PERIOD_US: u64 = 100_000;

#[derive(Debug, Error, PartialEq, Eq)]
pub enum LimitError {
    #[error("invalid size {0:?}: use a number with an optional unit b, k, m, g or t (for example 10m or 1g)")]
    BadSize(String),
    #[error("invalid --cpus {0:?}: use a positive decimal number of CPUs (for example 0.5 or 2)")]
    BadCpus(String),
    #[error("invalid --pids-limit {0:?}: use a positive whole number, or -1 for no limit")]
    BadPids(String),
    #[error("--memory {0} is too small: the kernel needs at least 6 MiB (6m) to run a container")]
    MemoryTooSmall(u64),
    #[error("--memory-swap must be at least --memory (or -1 for unlimited swap)")]
    SwapBelowMemory,
    #[error("--memory-swap needs --memory as well")]
    SwapWithoutMemory,
}

/// Swap allowance, as docker's `--memory-swap` (memory plus swap).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum MemorySwap {
    /// `--memory-swap -1`: swap is not limited.
    Unlimited,
    /// Memory plus swap, in bytes.
    Total(u64),
}

/// A CFS quota in microseconds per period.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct CpuQuota {
    pub quota_us: u64,
    pub period_us: u64,
}

impl CpuQuota {
    /// The quota as a number of CPUs (0.3 for 30 ms per 100 ms).
    pub fn cpus(&self) -> f64 {
        self.quota_us as f64 / self.period_us as f64
    }
}

/// The limits of one container. `None` means "no limit".
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Limits {
    /// Memory limit in bytes.
    pub memory: Option<u64>,
    /// Memory plus swap. When `memory` is set and this is not, swap is limited
    /// to the same amount as memory (docker's default: memory-swap = 2 x memory).
    pub memory_swap: Option<MemorySwap>,
    pub cpu: Option<CpuQuota>,
    pub pids: Option<u64>,
}

/// The smallest memory limit docker accepts; below it a shell cannot start.
pub const MIN_MEMORY: u64 = 6 * 1024 * 1024;

impl Limits {
    /// Builds limits from the command line's strings, checking every one and
    /// how they fit together.
    pub fn parse(
        memory: Option<&str>,
        memory_swap: Option<&str>,
        cpus: Option<&str>,
        pids: Option<&str>,
    ) -> Result<Limits, LimitError> {
        let memory = memory.map(parse_size).transpose()?;
        if let Some(m) = memory {
            if m < MIN_MEMORY {
                return Err(LimitError::MemoryTooSmall(m));
            }
        }
        let memory_swap = memory_swap.map(parse_memory_swap).transpose()?;
        match (memory, memory_swap) {
            (None, Some(_)) => return Err(LimitError::SwapWithoutMemory),
            (Some(m), Some(MemorySwap::Total(t))) if t < m => {
                return Err(LimitError::SwapBelowMemory)
            }
            _ => {}
        }
        Ok(Limits {
            memory,
            memory_swap,
            cpu: cpus.map(parse_cpus).transpose()?,
            pids: pids.map(parse_pids).transpose()?.flatten(),
        })
    }

    /// Memory plus swap in bytes as the kernel wants it, or `None` for no limit.
    /// Docker's rule: unset means twice the memory limit.
    pub fn memory_and_swap(&self) -> Option<u64> {
        match (self.memory, self.memory_swap) {
            (Some(m), None) => Some(m.saturating_mul(2)),
            (Some(_), Some(MemorySwap::Total(t))) => Some(t),
            _ => None,
        }
    }
}

/// Parses a docker-style size: `10m`, `512M`, `1g`, `4096`, `1.5g`, `10mb`, `10MiB`.
pub fn parse_size(text: &str) -> Result<u64, LimitError> {
    let bad = || LimitError::BadSize(text.to_string());
    let lower = text.trim().to_ascii_lowercase();
    let number_end = lower
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(lower.len());
    let (number, unit) = lower.split_at(number_end);
    let unit = unit
        .strip_suffix("ib")
        .or_else(|| unit.strip_suffix('b').filter(|u| !u.is_empty()))
        .unwrap_or(unit);
    let multiplier: u64 = match unit {
        "" | "b" => 1,
        "k" => 1 << 10,
        "m" => 1 << 20,
        "g" => 1 << 30,
        "t" => 1 << 40,
        _ => return Err(bad()),
    };
    if number.is_empty() || number.matches('.').count() > 1 {
        return Err(bad());
    }
    let value: f64 = number.parse().map_err(|_| bad())?;
    let bytes = value * multiplier as f64;
    if !bytes.is_finite() || bytes < 1.0 || bytes > u64::MAX as f64 {
        return Err(bad());
    }
    Ok(bytes as u64)
}

fn parse_memory_swap(text: &str) -> Result<MemorySwap, LimitError> {
    if text.trim() == "-1" {
        Ok(MemorySwap::Unlimited)
    } else {
        parse_size(text).map(MemorySwap::Total)
    }
}

/// Parses `--cpus`: `0.3` becomes 30000 us per 100000 us.
pub fn parse_cpus(text: &str) -> Result<CpuQuota, LimitError> {
    let bad = || LimitError::BadCpus(text.to_string());
    let cpus: f64 = text.trim().parse().map_err(|_| bad())?;
    if !cpus.is_finite() || cpus <= 0.0 || cpus > 4096.0 {
        return Err(bad());
    }
    let quota_us = (cpus * CPU_PERIOD_US as f64).round() as u64;
    // The kernel refuses quotas under 1 ms.
    if quota_us < 1000 {
        return Err(bad());
    }
    Ok(CpuQuota {
        quota_us,
        period_us: CPU_PERIOD_US,
    })
}

/// Parses `--pids-limit`: a positive number, or `-1`/`0` for "no limit" (docker's meaning).
pub fn parse_pids(text: &str) -> Result<Option<u64>, LimitError> {
    let bad = || LimitError::BadPids(text.to_string());
    let value: i64 = text.trim().parse().map_err(|_| bad())?;
    match value {
        -1 | 0 => Ok(None),
        n if n > 0 => Ok(Some(n as u64)),
        _ => Err(bad()),
    }
}

/// Formats bytes the way a person reads them: `10 MiB`, `7.8 MiB`, `512 B`.
pub fn format_bytes(bytes: u64) -> String {
    const UNITS: [&str; 5] = ["B", "KiB", "MiB", "GiB", "TiB"];
    let mut value = bytes as f64;
    let mut unit = 0;
    while value >= 1024.0 && unit < UNITS.len() - 1 {
        value /= 1024.0;
        unit += 1;
    }
    if unit == 0 || value.fract() == 0.0 {
        format!("{} {}", value as u64, UNITS[unit])
    } else {
        format!("{:.1} {}", value, UNITS[unit])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_follow_docker_units() {
        let cases = [
            ("4096", 4096),
            ("10m", 10 << 20),
            ("512M", 512 << 20),
            ("1g", 1 << 30),
            ("1G", 1 << 30),
            ("10mb", 10 << 20),
            ("10MiB", 10 << 20),
            ("64k", 64 << 10),
            ("1.5g", 3 << 29),
            ("100b", 100),
        ];
        for (text, bytes) in cases {
            assert_eq!(parse_size(text), Ok(bytes), "{text}");
        }
    }

    #[test]
    fn bad_sizes_are_refused() {
        for text in ["10zz", "", "m", "-5m", "1.2.3m", "0", "abc", "10 m m"] {
            assert!(parse_size(text).is_err(), "{text} should be refused");
        }
    }

    #[test]
    fn cpus_become_a_quota_per_100ms() {
        assert_eq!(
            parse_cpus("0.3"),
            Ok(CpuQuota {
                quota_us: 30_000,
                period_us: 100_000
            })
        );
        assert_eq!(parse_cpus("2").unwrap().quota_us, 200_000);
        for text in ["-1", "0", "abc", "NaN", "inf", "0.001"] {
            assert!(parse_cpus(text).is_err(), "{text} should be refused");
        }
    }

    #[test]
    fn pids_limit_minus_one_means_none() {
        assert_eq!(parse_pids("32"), Ok(Some(32)));
        assert_eq!(parse_pids("-1"), Ok(None));
        assert!(parse_pids("-7").is_err());
        assert!(parse_pids("x").is_err());
    }

    #[test]
    fn swap_defaults_to_twice_memory_and_is_checked() {
        let l = Limits::parse(Some("10m"), None, None, None).unwrap();
        assert_eq!(l.memory_and_swap(), Some(20 << 20));
        let l = Limits::parse(Some("10m"), Some("-1"), None, None).unwrap();
        assert_eq!(l.memory_and_swap(), None);
        assert_eq!(
            Limits::parse(Some("10m"), Some("5m"), None, None),
            Err(LimitError::SwapBelowMemory)
        );
        assert_eq!(
            Limits::parse(None, Some("5m"), None, None),
            Err(LimitError::SwapWithoutMemory)
        );
        assert_eq!(
            Limits::parse(Some("1m"), None, None, None),
            Err(LimitError::MemoryTooSmall(1 << 20))
        );
    }

    #[test]
    fn bytes_are_formatted_for_people() {
        assert_eq!(format_bytes(512), "512 B");
        assert_eq!(format_bytes(10 << 20), "10 MiB");
        assert_eq!(format_bytes(8178893), "7.8 MiB");
        assert_eq!(format_bytes(1 << 30), "1 GiB");
    }
}
