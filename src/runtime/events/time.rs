//! Unix time in milliseconds, written and read as UTC dates, and `--since` values.
//!
//! Dates are computed by counting days from 1970-01-01 (a year or month at a time),
//! which is plenty fast for timestamps and simple to check.

use super::EventsError;
use std::time::{SystemTime, UNIX_EPOCH};

const MS_PER_DAY: u64 = 86_400_000;
/// Dates past this year are refused, which keeps every sum below far from overflow.
const LAST_YEAR: u64 = 9999;

/// Now, in unix milliseconds.
pub fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0)
}

fn is_leap(year: u64) -> bool {
    (year.is_multiple_of(4) && !year.is_multiple_of(100)) || year.is_multiple_of(400)
}

fn days_in_year(year: u64) -> u64 {
    if is_leap(year) {
        366
    } else {
        365
    }
}

fn days_in_month(year: u64, month: u64) -> u64 {
    match month {
        4 | 6 | 9 | 11 => 30,
        2 if is_leap(year) => 29,
        2 => 28,
        _ => 31,
    }
}

/// The (year, month, day) of day number `days` since 1970-01-01.
fn date_of_day(mut days: u64) -> (u64, u64, u64) {
    let mut year = 1970;
    while days >= days_in_year(year) {
        days -= days_in_year(year);
        year += 1;
    }
    let mut month = 1;
    while days >= days_in_month(year, month) {
        days -= days_in_month(year, month);
        month += 1;
    }
    (year, month, days + 1)
}

/// The day number since 1970-01-01 of a date, or `None` if there is no such date.
fn day_of_date(year: u64, month: u64, day: u64) -> Option<u64> {
    if !(1970..=LAST_YEAR).contains(&year)
        || !(1..=12).contains(&month)
        || day == 0
        || day > days_in_month(year, month)
    {
        return None;
    }
    let years: u64 = (1970..year).map(days_in_year).sum();
    let months: u64 = (1..month).map(|m| days_in_month(year, m)).sum();
    Some(years + months + day - 1)
}

/// `2026-11-29T13:40:01.123Z`.
pub fn format_utc(ms: u64) -> String {
    let (year, month, day) = date_of_day(ms / MS_PER_DAY);
    let in_day = ms % MS_PER_DAY;
    let seconds = in_day / 1000;
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}.{:03}Z",
        seconds / 3600,
        seconds / 60 % 60,
        seconds % 60,
        in_day % 1000
    )
}

/// A number of exactly `len` ASCII digits.
fn digits(text: &str, len: usize) -> Option<u64> {
    if text.len() == len && text.bytes().all(|b| b.is_ascii_digit()) {
        text.parse().ok()
    } else {
        None
    }
}

/// Milliseconds from the digits after a decimal point (`5` is 500, `123456` is 123).
fn fraction_ms(text: &str) -> Option<u64> {
    if text.is_empty() || !text.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let mut padded: String = text.chars().take(3).collect();
    while padded.len() < 3 {
        padded.push('0');
    }
    padded.parse().ok()
}

/// A zone offset `+02:00`, `-0530` or `+02`, in minutes east of UTC.
fn offset_minutes(text: &str) -> Option<i64> {
    let (sign, rest) = match text.as_bytes().first()? {
        b'+' => (1, &text[1..]),
        b'-' => (-1, &text[1..]),
        _ => return None,
    };
    let (hours, minutes) = match rest.len() {
        2 => (digits(rest, 2)?, 0),
        4 => (digits(&rest[..2], 2)?, digits(&rest[2..], 2)?),
        5 if rest.as_bytes()[2] == b':' => (digits(&rest[..2], 2)?, digits(&rest[3..], 2)?),
        _ => return None,
    };
    if hours > 23 || minutes > 59 {
        return None;
    }
    Some(sign * (hours * 60 + minutes) as i64)
}

/// Unix milliseconds of an RFC 3339-like time: `2026-11-29T13:40:00Z`, with optional
/// seconds and fraction, `T`, `t` or a space between date and time, `Z` or an offset
/// such as `+02:00` (none means UTC), or a date alone (its midnight UTC).
pub fn parse_utc(text: &str) -> Option<u64> {
    let text = text.trim();
    let split = text.find(['T', 't', ' ']).unwrap_or(text.len());
    let (date, rest) = text.split_at(split);
    let mut fields = date.split('-');
    let year = digits(fields.next()?, 4)?;
    let month = digits(fields.next()?, 2)?;
    let day = digits(fields.next()?, 2)?;
    if fields.next().is_some() {
        return None;
    }
    let midnight = day_of_date(year, month, day)? * MS_PER_DAY;
    if rest.is_empty() {
        return Some(midnight);
    }
    let rest = &rest[1..];
    let (clock, offset) = if let Some(clock) = rest.strip_suffix(['Z', 'z']) {
        (clock, 0)
    } else if let Some(at) = rest.find(['+', '-']) {
        (&rest[..at], offset_minutes(&rest[at..])?)
    } else {
        (rest, 0)
    };
    let mut fields = clock.split(':');
    let hour = digits(fields.next()?, 2)?;
    let minute = digits(fields.next()?, 2)?;
    let (second, millis) = match fields.next() {
        None => (0, 0),
        Some(field) => match field.split_once('.') {
            Some((whole, fraction)) => (digits(whole, 2)?, fraction_ms(fraction)?),
            None => (digits(field, 2)?, 0),
        },
    };
    // 60 is a leap second, as RFC 3339 allows.
    if fields.next().is_some() || hour > 23 || minute > 59 || second > 60 {
        return None;
    }
    let local = midnight + ((hour * 60 + minute) * 60 + second) * 1000 + millis;
    let utc = local as i64 - offset * 60_000;
    u64::try_from(utc).ok()
}

/// A duration such as `10m`, `30s`, `2h`, `1d`, `500ms`, `1.5h` or `1h30m`, in ms.
fn parse_duration_ms(text: &str) -> Option<u64> {
    let mut rest = text.trim();
    if rest.is_empty() {
        return None;
    }
    let mut total = 0.0;
    while !rest.is_empty() {
        let number_len = rest
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .unwrap_or(rest.len());
        let unit_len = rest[number_len..]
            .find(|c: char| !c.is_ascii_alphabetic())
            .unwrap_or(rest.len() - number_len);
        let number = &rest[..number_len];
        let unit = &rest[number_len..number_len + unit_len];
        if number.is_empty() || number.starts_with('.') || number.ends_with('.') {
            return None;
        }
        let value: f64 = number.parse().ok()?;
        let unit_ms = match unit {
            "ms" => 1.0,
            "s" => 1_000.0,
            "m" => 60_000.0,
            "h" => 3_600_000.0,
            "d" => MS_PER_DAY as f64,
            _ => return None,
        };
        total += value * unit_ms;
        rest = &rest[number_len + unit_len..];
    }
    Some(total.round() as u64)
}

/// Unix seconds with an optional fraction (`1795959600`, `1795959600.5`), in ms.
fn parse_unix_seconds(text: &str) -> Option<u64> {
    let (whole, fraction) = match text.split_once('.') {
        Some((whole, fraction)) => (whole, fraction_ms(fraction)?),
        None => (text, 0),
    };
    if whole.is_empty() || !whole.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    whole
        .parse::<u64>()
        .ok()?
        .checked_mul(1000)?
        .checked_add(fraction)
}

/// The start of a `--since` window, in unix ms: unix seconds, a UTC time as
/// `parse_utc` reads it, or a duration before `now_ms` (`10m` is ten minutes ago).
pub fn parse_since(text: &str, now_ms: u64) -> Result<u64, EventsError> {
    let text = text.trim();
    parse_unix_seconds(text)
        .or_else(|| parse_duration_ms(text).map(|ago| now_ms.saturating_sub(ago)))
        .or_else(|| parse_utc(text))
        .ok_or_else(|| EventsError::BadTime(text.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_are_formatted_in_utc_to_the_millisecond() {
        let cases = [
            (0, "1970-01-01T00:00:00.000Z"),
            (951_782_400_000, "2000-02-29T00:00:00.000Z"),
            (951_868_799_999, "2000-02-29T23:59:59.999Z"),
            (1_709_251_199_000, "2024-02-29T23:59:59.000Z"),
            (1_795_959_601_123, "2026-11-29T13:40:01.123Z"),
            (4_107_542_400_000, "2100-03-01T00:00:00.000Z"),
            (253_402_300_799_000, "9999-12-31T23:59:59.000Z"),
        ];
        for (ms, text) in cases {
            assert_eq!(format_utc(ms), text);
            assert_eq!(parse_utc(text), Some(ms), "{text}");
        }
    }

    #[test]
    fn every_day_of_a_few_centuries_goes_there_and_back() {
        for day in (0..60_000).step_by(7) {
            let (year, month, date) = date_of_day(day);
            assert_eq!(day_of_date(year, month, date), Some(day));
        }
    }

    #[test]
    fn rfc3339_like_times_are_read() {
        let base = 1_795_959_600_000; // 2026-11-29T13:40:00Z
        let cases = [
            ("2026-11-29T13:40:00Z", base),
            ("2026-11-29T13:40Z", base),
            ("2026-11-29 13:40:00", base),
            ("2026-11-29t13:40:00z", base),
            ("2026-11-29T13:40:00.5Z", base + 500),
            ("2026-11-29T13:40:00.123456Z", base + 123),
            ("2026-11-29T15:40:00+02:00", base),
            ("2026-11-29T08:10:00-0530", base),
            ("2026-11-29T14:40:00+01", base),
            ("2026-11-29", base - (13 * 60 + 40) * 60_000),
        ];
        for (text, ms) in cases {
            assert_eq!(parse_utc(text), Some(ms), "{text}");
        }
        for bad in [
            "",
            "2026-13-01",
            "2026-02-29",
            "2026-11-31T00:00:00Z",
            "1969-12-31T23:59:59Z",
            "2026-11-29T24:00:00Z",
            "2026-11-29T13:60:00Z",
            "2026-11-29T13:40:00+25:00",
            "2026-11-29T13:40:00.Z",
            "26-11-29",
            "2026-11-29T13",
            "yesterday",
        ] {
            assert_eq!(parse_utc(bad), None, "{bad}");
        }
    }

    #[test]
    fn since_takes_unix_seconds_a_time_or_a_duration_ago() {
        let now = 1_795_959_600_000;
        let cases = [
            ("1795959000", 1_795_959_000_000),
            ("1795959000.25", 1_795_959_000_250),
            ("0", 0),
            ("30s", now - 30_000),
            ("10m", now - 600_000),
            ("2h", now - 7_200_000),
            ("1d", now - 86_400_000),
            ("1h30m", now - 5_400_000),
            ("1.5h", now - 5_400_000),
            ("250ms", now - 250),
            ("2026-11-29T13:30:00Z", now - 600_000),
            ("100000d", 0),
        ];
        for (text, ms) in cases {
            assert_eq!(parse_since(text, now).unwrap(), ms, "{text}");
        }
        for bad in [
            "",
            "ten minutes",
            "10x",
            "m",
            "1..5h",
            ".5h",
            "-10m",
            "10m ago",
        ] {
            let error = parse_since(bad, now).unwrap_err().to_string();
            assert!(error.contains("invalid time"), "{bad}: {error}");
        }
    }
}
