//! Small pure formatting functions for the dashboard: ages, percentages,
//! `used / limit`. Each is table-tested below.

use crate::runtime::limits::{format_bytes, Limits};

/// What the dashboard shows for a counter the kernel does not report.
pub const NOT_REPORTED: &str = "-";

/// A duration in seconds as a person says it: `42s`, `5m`, `3h`, `2d`.
pub fn age(seconds: u64) -> String {
    match seconds {
        s if s < 60 => format!("{s}s"),
        s if s < 3600 => format!("{}m", s / 60),
        s if s < 86_400 => format!("{}h", s / 3600),
        s => format!("{}d", s / 86_400),
    }
}

/// A percentage with one decimal under 10 and none above: `0.4%`, `37%`.
pub fn percent(value: f64) -> String {
    if !value.is_finite() {
        return NOT_REPORTED.into();
    }
    if value < 10.0 {
        format!("{value:.1}%")
    } else {
        format!("{value:.0}%")
    }
}

/// An optional percentage, `-` when not reported.
pub fn maybe_percent(value: Option<f64>) -> String {
    value.map_or_else(|| NOT_REPORTED.into(), percent)
}

/// `7.8 MiB / 10 MiB`, `7.8 MiB / -` without a limit, `-` without usage.
pub fn used_of_limit(used: Option<u64>, limit: Option<u64>) -> String {
    match (used, limit) {
        (None, _) => NOT_REPORTED.into(),
        (Some(u), Some(l)) => format!("{} / {}", format_bytes(u), format_bytes(l)),
        (Some(u), None) => format!("{} / no limit", format_bytes(u)),
    }
}

/// `3 / 20`, `3 / max` without a limit.
pub fn count_of_limit(current: Option<u64>, limit: Option<u64>) -> String {
    match (current, limit) {
        (None, _) => NOT_REPORTED.into(),
        (Some(c), Some(l)) => format!("{c} / {l}"),
        (Some(c), None) => format!("{c} / max"),
    }
}

/// An optional counter: the number, or `-` when not reported (never 0).
pub fn counter(value: Option<u64>) -> String {
    value.map_or_else(|| NOT_REPORTED.into(), |v| v.to_string())
}

/// A CPU quota in CPUs: `0.2 CPU`, `1.5 CPUs`.
pub fn cpus(value: f64) -> String {
    let text = format!("{value:.2}");
    let text = text.trim_end_matches('0').trim_end_matches('.');
    if value > 1.0 {
        format!("{text} CPUs")
    } else {
        format!("{text} CPU")
    }
}

/// A bar of `width` cells filled to `ratio` (0..=1), with eighths for the edge.
pub fn bar(ratio: f64, width: usize) -> String {
    const EIGHTHS: [char; 8] = [' ', '▏', '▎', '▍', '▌', '▋', '▊', '▉'];
    let ratio = if ratio.is_finite() {
        ratio.clamp(0.0, 1.0)
    } else {
        0.0
    };
    let eighths = (ratio * width as f64 * 8.0).round() as usize;
    let mut out = String::with_capacity(width * 3);
    for cell in 0..width {
        let filled = eighths.saturating_sub(cell * 8).min(8);
        out.push(if filled == 8 { '█' } else { EIGHTHS[filled] });
    }
    out
}

/// Splits a command line into words, with single and double quotes and
/// backslash escapes as a shell reads them (no expansions).
pub fn split_command(line: &str) -> Result<Vec<String>, String> {
    let mut words = vec![];
    let mut word = String::new();
    let mut in_word = false;
    let mut chars = line.chars();
    while let Some(c) = chars.next() {
        match c {
            '\'' => {
                in_word = true;
                loop {
                    match chars.next() {
                        Some('\'') => break,
                        Some(q) => word.push(q),
                        None => return Err("a single quote is not closed".into()),
                    }
                }
            }
            '"' => {
                in_word = true;
                loop {
                    match chars.next() {
                        Some('"') => break,
                        Some('\\') => match chars.next() {
                            Some(e @ ('"' | '\\' | '$' | '`')) => word.push(e),
                            Some(other) => {
                                word.push('\\');
                                word.push(other);
                            }
                            None => return Err("a double quote is not closed".into()),
                        },
                        Some(q) => word.push(q),
                        None => return Err("a double quote is not closed".into()),
                    }
                }
            }
            '\\' => {
                in_word = true;
                match chars.next() {
                    Some(e) => word.push(e),
                    None => return Err("the command ends with a lone backslash".into()),
                }
            }
            c if c.is_whitespace() => {
                if in_word {
                    words.push(std::mem::take(&mut word));
                    in_word = false;
                }
            }
            c => {
                in_word = true;
                word.push(c);
            }
        }
    }
    if in_word {
        words.push(word);
    }
    Ok(words)
}

/// `memory 10 MiB, 0.5 CPU, pids 64` (or `no limits`).
pub fn describe_limits(limits: &Limits) -> String {
    let mut parts = vec![];
    if let Some(m) = limits.memory {
        parts.push(format!("memory {}", format_bytes(m)));
    }
    if let Some(q) = limits.cpu {
        parts.push(cpus(q.cpus()));
    }
    if let Some(p) = limits.pids {
        parts.push(format!("pids {p}"));
    }
    if parts.is_empty() {
        "no limits".into()
    } else {
        parts.join(", ")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ages_read_as_people_say_them() {
        for (seconds, text) in [
            (0, "0s"),
            (59, "59s"),
            (60, "1m"),
            (3599, "59m"),
            (3600, "1h"),
            (86_399, "23h"),
            (86_400, "1d"),
        ] {
            assert_eq!(age(seconds), text, "{seconds}");
        }
    }

    #[test]
    fn percentages_keep_one_decimal_when_small() {
        for (value, text) in [
            (0.0, "0.0%"),
            (0.44, "0.4%"),
            (9.94, "9.9%"),
            (37.4, "37%"),
            (100.0, "100%"),
            (f64::NAN, "-"),
        ] {
            assert_eq!(percent(value), text, "{value}");
        }
        assert_eq!(maybe_percent(None), "-");
    }

    #[test]
    fn usage_against_limits_never_shows_a_missing_counter_as_zero() {
        assert_eq!(
            used_of_limit(Some(8178893), Some(10 << 20)),
            "7.8 MiB / 10 MiB"
        );
        assert_eq!(used_of_limit(Some(512), None), "512 B / no limit");
        assert_eq!(used_of_limit(None, Some(10 << 20)), "-");
        assert_eq!(count_of_limit(Some(3), Some(20)), "3 / 20");
        assert_eq!(count_of_limit(Some(3), None), "3 / max");
        assert_eq!(count_of_limit(None, Some(20)), "-");
        assert_eq!(counter(None), "-");
        assert_eq!(counter(Some(0)), "0");
    }

    #[test]
    fn cpu_quotas_read_in_cpus() {
        assert_eq!(cpus(0.2), "0.2 CPU");
        assert_eq!(cpus(1.0), "1 CPU");
        assert_eq!(cpus(1.5), "1.5 CPUs");
        assert_eq!(cpus(0.25), "0.25 CPU");
    }

    #[test]
    fn bars_fill_in_eighths() {
        assert_eq!(bar(0.0, 4), "    ");
        assert_eq!(bar(1.0, 4), "████");
        assert_eq!(bar(0.5, 4), "██  ");
        assert_eq!(bar(0.5625, 4), "██▎ ");
        assert_eq!(bar(7.0, 2), "██");
        assert_eq!(bar(f64::NAN, 2), "  ");
    }

    #[test]
    fn commands_split_like_a_shell_reads_them() {
        let cases: [(&str, &[&str]); 6] = [
            ("sh", &["sh"]),
            ("  tail  /dev/zero ", &["tail", "/dev/zero"]),
            (
                "sh -c 'echo hi; sleep 1'",
                &["sh", "-c", "echo hi; sleep 1"],
            ),
            (r#"echo "a \"b\" c""#, &["echo", "a \"b\" c"]),
            (r"echo a\ b", &["echo", "a b"]),
            ("echo ''", &["echo", ""]),
        ];
        for (line, words) in cases {
            assert_eq!(split_command(line).unwrap(), words, "{line}");
        }
        assert!(split_command("echo 'oops").is_err());
        assert!(split_command("echo \"oops").is_err());
    }
}
