//! Timestamps: milliseconds since the Unix epoch, exchanged as ISO-8601 / RFC 3339 strings.

use serde::de::{self, Visitor};
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::fmt;
use std::time::{SystemTime, UNIX_EPOCH};

const MS_PER_DAY: i64 = 86_400_000;

/// A UTC instant with millisecond precision.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Ts(pub i64);

impl Ts {
    /// The current time.
    pub fn now() -> Ts {
        let ms = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_millis() as i64)
            .unwrap_or(0);
        Ts(ms)
    }

    /// This instant shifted by `days` (may be negative).
    pub fn plus_days(self, days: i64) -> Ts {
        Ts(self.0 + days * MS_PER_DAY)
    }

    /// This instant shifted by `hours` (may be negative).
    pub fn plus_hours(self, hours: i64) -> Ts {
        Ts(self.0 + hours * 3_600_000)
    }

    /// `YYYY-MM-DD` of this instant (UTC).
    pub fn date(self) -> String {
        let (y, m, d) = civil_from_days(self.0.div_euclid(MS_PER_DAY));
        format!("{y:04}-{m:02}-{d:02}")
    }

    /// `YYYY-MM-DDTHH:MM:SS.mmmZ`, the shape JavaScript's `toISOString` produces.
    pub fn to_rfc3339(self) -> String {
        let day = self.0.div_euclid(MS_PER_DAY);
        let rem = self.0.rem_euclid(MS_PER_DAY);
        let (h, mi, s, ms) = (
            rem / 3_600_000,
            rem / 60_000 % 60,
            rem / 1000 % 60,
            rem % 1000,
        );
        let (y, m, d) = civil_from_days(day);
        format!("{y:04}-{m:02}-{d:02}T{h:02}:{mi:02}:{s:02}.{ms:03}Z")
    }

    /// Parses `YYYY-MM-DD` or `YYYY-MM-DDTHH:MM[:SS[.fff]][Z|±HH:MM]` (no offset means UTC).
    pub fn parse(s: &str) -> Option<Ts> {
        let b = s.trim().as_bytes();
        let num = |r: std::ops::Range<usize>| -> Option<i64> {
            let part = b.get(r)?;
            if part.is_empty() || !part.iter().all(u8::is_ascii_digit) {
                return None;
            }
            std::str::from_utf8(part).ok()?.parse().ok()
        };
        if b.len() < 10 || b[4] != b'-' || b[7] != b'-' {
            return None;
        }
        let (y, mo, d) = (num(0..4)?, num(5..7)?, num(8..10)?);
        if !(1970..=9999).contains(&y)
            || !(1..=12).contains(&mo)
            || d < 1
            || d > days_in_month(y, mo)
        {
            return None;
        }
        let mut ms = days_from_civil(y, mo, d) * MS_PER_DAY;
        if b.len() == 10 {
            return Some(Ts(ms));
        }
        if !matches!(b[10], b'T' | b't' | b' ') || b.len() < 16 || b[13] != b':' {
            return None;
        }
        let (h, mi) = (num(11..13)?, num(14..16)?);
        if h > 23 || mi > 59 {
            return None;
        }
        ms += h * 3_600_000 + mi * 60_000;
        let mut i = 16;
        if b.get(i) == Some(&b':') {
            let sec = num(i + 1..i + 3)?;
            if sec > 60 {
                return None;
            }
            ms += sec * 1000;
            i += 3;
            if b.get(i) == Some(&b'.') {
                let start = i + 1;
                let mut end = start;
                while end < b.len() && b[end].is_ascii_digit() {
                    end += 1;
                }
                if end == start {
                    return None;
                }
                let frac = &b[start..end.min(start + 3)];
                let mut v = 0i64;
                for (k, c) in frac.iter().enumerate() {
                    v += i64::from(c - b'0') * [100, 10, 1][k];
                }
                ms += v;
                i = end;
            }
        }
        match b.get(i) {
            None => {}
            Some(b'Z' | b'z') if i + 1 == b.len() => {}
            Some(sign @ (b'+' | b'-')) if b.len() == i + 6 && b[i + 3] == b':' => {
                let (oh, om) = (num(i + 1..i + 3)?, num(i + 4..i + 6)?);
                if oh > 23 || om > 59 {
                    return None;
                }
                let off = oh * 3_600_000 + om * 60_000;
                ms += if *sign == b'+' { -off } else { off };
            }
            _ => return None,
        }
        Some(Ts(ms))
    }
}

impl fmt::Display for Ts {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_rfc3339())
    }
}

impl Serialize for Ts {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.to_rfc3339())
    }
}

impl<'de> Deserialize<'de> for Ts {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Ts, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = Ts;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("an ISO-8601 timestamp such as 2025-01-31T12:00:00Z")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Ts, E> {
                Ts::parse(v).ok_or_else(|| E::invalid_value(de::Unexpected::Str(v), &self))
            }
        }
        d.deserialize_str(V)
    }
}

fn days_in_month(y: i64, m: i64) -> i64 {
    match m {
        2 if (y % 4 == 0 && y % 100 != 0) || y % 400 == 0 => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

// Howard Hinnant's civil calendar algorithms (proleptic Gregorian).
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = if m > 2 { m - 3 } else { m + 9 };
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

fn civil_from_days(z: i64) -> (i64, i64, i64) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    (
        if m <= 2 {
            yoe + era * 400 + 1
        } else {
            yoe + era * 400
        },
        m,
        d,
    )
}

#[cfg(test)]
mod tests {
    use super::Ts;

    #[test]
    fn round_trips_and_parses_offsets() {
        let t = Ts::parse("2025-11-26T05:03:07.123Z").unwrap();
        assert_eq!(t.to_rfc3339(), "2025-11-26T05:03:07.123Z");
        assert_eq!(Ts::parse("2025-11-26T07:03:07.123+02:00"), Some(t));
        assert_eq!(Ts::parse("1970-01-01"), Some(Ts(0)));
        assert_eq!(
            Ts::parse("2024-02-29T00:00:00Z").unwrap().date(),
            "2024-02-29"
        );
        for bad in [
            "",
            "2025-13-01",
            "2023-02-29",
            "2025-01-01T25:00Z",
            "nope",
            "2025-01-01Tx",
        ] {
            assert_eq!(Ts::parse(bad), None, "{bad}");
        }
    }
}
