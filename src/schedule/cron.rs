//! A 5-field cron expression (minute, hour, day of month, month, day of week; `@hourly`
//! and the other aliases too) in a time zone, parsed by `croner`, zones by `chrono-tz`.
//! Slots are computed in the zone, so `0 9 * * *` in `Europe/Berlin` stays at 09:00 local
//! time across daylight-saving changes.

use std::fmt;

use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use croner::parser::{CronParser, Seconds, Year};

/// A cron expression and its time zone.
#[derive(Clone)]
pub struct Cron {
    expression: String,
    zone: Tz,
    cron: croner::Cron,
}

impl Cron {
    /// Parses `expression` (exactly 5 fields, or an alias such as `@hourly`) in the IANA
    /// zone `zone` (`UTC`, `Europe/Berlin`). The error says which of the two is wrong.
    pub fn parse(expression: &str, zone: &str) -> Result<Cron, String> {
        let zone_parsed: Tz = zone.trim().parse().map_err(|_| {
            format!("timezone {zone:?} is not an IANA time zone (e.g. \"UTC\", \"Europe/Berlin\")")
        })?;
        let cron = CronParser::builder()
            .seconds(Seconds::Disallowed)
            .year(Year::Disallowed)
            .build()
            .parse(expression)
            .map_err(|e| {
                format!(
                    "cron {expression:?}: {e} (expected 5 fields: minute hour day-of-month month \
                     day-of-week, e.g. \"*/5 * * * *\")"
                )
            })?;
        let cron = Cron {
            expression: expression.trim().to_owned(),
            zone: zone_parsed,
            cron,
        };
        // A pattern that never matches (`0 0 30 2 *`) would leave its schedule asleep forever.
        if cron.next_after(Utc::now()).is_none() {
            return Err(format!("cron {expression:?} never comes due"));
        }
        Ok(cron)
    }

    /// The expression as written.
    pub fn expression(&self) -> &str {
        &self.expression
    }

    /// The time zone's name.
    pub fn zone(&self) -> &str {
        self.zone.name()
    }

    /// The first slot strictly after `t`, or `None` when there is none.
    pub fn next_after(&self, t: DateTime<Utc>) -> Option<DateTime<Utc>> {
        let local = t.with_timezone(&self.zone);
        self.cron
            .find_next_occurrence(&local, false)
            .ok()
            .map(|next| next.with_timezone(&Utc))
    }

    /// The latest slot at or before `t`, or `None` when there is none.
    pub fn latest_at_or_before(&self, t: DateTime<Utc>) -> Option<DateTime<Utc>> {
        let local = t.with_timezone(&self.zone);
        self.cron
            .find_previous_occurrence(&local, true)
            .ok()
            .map(|prev| prev.with_timezone(&Utc))
    }
}

impl PartialEq for Cron {
    fn eq(&self, other: &Cron) -> bool {
        self.expression == other.expression && self.zone == other.zone
    }
}

impl fmt::Debug for Cron {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Cron({:?} in {})", self.expression, self.zone.name())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn at(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
    }

    #[test]
    fn slots_follow_the_expression_in_its_zone() {
        let every5 = Cron::parse("*/5 * * * *", "UTC").unwrap();
        assert_eq!(
            every5.next_after(at("2026-01-01T10:02:30Z")),
            Some(at("2026-01-01T10:05:00Z"))
        );
        // Strictly after: a slot is never its own successor.
        assert_eq!(
            every5.next_after(at("2026-01-01T10:05:00Z")),
            Some(at("2026-01-01T10:10:00Z"))
        );
        assert_eq!(
            every5.latest_at_or_before(at("2026-01-01T10:05:00Z")),
            Some(at("2026-01-01T10:05:00Z"))
        );
        // 09:00 in Berlin is 08:00 UTC in winter and 07:00 UTC in summer.
        let nine = Cron::parse("0 9 * * *", "Europe/Berlin").unwrap();
        assert_eq!(
            nine.next_after(Utc.with_ymd_and_hms(2026, 1, 10, 12, 0, 0).unwrap()),
            Some(at("2026-01-11T08:00:00Z"))
        );
        assert_eq!(
            nine.next_after(Utc.with_ymd_and_hms(2026, 7, 10, 12, 0, 0).unwrap()),
            Some(at("2026-07-11T07:00:00Z"))
        );
        assert!(Cron::parse("@hourly", "UTC").is_ok());
    }

    #[test]
    fn bad_expressions_and_zones_are_named() {
        for (expr, zone, says) in [
            ("* * * *", "UTC", "cron \"* * * *\""),
            ("0 * * * * *", "UTC", "expected 5 fields"),
            ("61 * * * *", "UTC", "cron \"61 * * * *\""),
            ("* * * * *", "Mars/Olympus", "timezone \"Mars/Olympus\""),
        ] {
            let error = Cron::parse(expr, zone).unwrap_err();
            assert!(error.contains(says), "{expr} {zone}: {error}");
        }
    }
}
