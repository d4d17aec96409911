//! Alert levels, the delays to take an alert into account, and the clock each is counted on
//! (CP SOC Annex A): in business hours, except level 4 under a 24/7 subscription, counted
//! around the clock.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};
use time::Duration;

use super::calendar::Calendar;
use super::timer::Counting;

/// An alert's criticity, 1 (low) to 4 (critical).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "u8", into = "u8")]
pub enum Level {
    Low = 1,
    Medium = 2,
    High = 3,
    Critical = 4,
}

impl Level {
    pub const ALL: [Level; 4] = [Level::Low, Level::Medium, Level::High, Level::Critical];

    pub fn name(self) -> &'static str {
        match self {
            Level::Low => "low",
            Level::Medium => "medium",
            Level::High => "high",
            Level::Critical => "critical",
        }
    }

    pub fn number(self) -> u8 {
        self as u8
    }
}

impl TryFrom<u8> for Level {
    type Error = String;
    fn try_from(n: u8) -> Result<Self, String> {
        match n {
            1 => Ok(Level::Low),
            2 => Ok(Level::Medium),
            3 => Ok(Level::High),
            4 => Ok(Level::Critical),
            _ => Err(format!("level {n} is not 1 (low) to 4 (critical)")),
        }
    }
}

impl From<Level> for u8 {
    fn from(l: Level) -> u8 {
        l.number()
    }
}

impl fmt::Display for Level {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} ({})", self.number(), self.name())
    }
}

/// What the SOC subscription covers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Coverage {
    #[serde(rename = "business-hours")]
    BusinessHours,
    /// Adds level-4 handling outside business hours, with the same delay.
    #[serde(rename = "24x7")]
    AroundTheClock,
}

impl Coverage {
    pub fn as_str(self) -> &'static str {
        match self {
            Coverage::BusinessHours => "business-hours",
            Coverage::AroundTheClock => "24x7",
        }
    }
}

impl FromStr for Coverage {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "business-hours" => Ok(Coverage::BusinessHours),
            "24x7" => Ok(Coverage::AroundTheClock),
            _ => Err(format!("coverage {s:?} is not business-hours or 24x7")),
        }
    }
}

/// Longest delay a contract may set: a quarter of a year of business time is a typo.
pub const MAX_DELAY_MINUTES: u32 = 90 * 24 * 60;

/// The maximum take-in delay of each level, in minutes of counted time.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Delays {
    pub low: u32,
    pub medium: u32,
    pub high: u32,
    pub critical: u32,
}

impl Default for Delays {
    /// CP SOC Annex A: 8 h, 5 h, 3 h, 1 h 30.
    fn default() -> Self {
        Self {
            low: 8 * 60,
            medium: 5 * 60,
            high: 3 * 60,
            critical: 90,
        }
    }
}

impl Delays {
    pub fn of(&self, level: Level) -> Duration {
        let minutes = match level {
            Level::Low => self.low,
            Level::Medium => self.medium,
            Level::High => self.high,
            Level::Critical => self.critical,
        };
        Duration::minutes(i64::from(minutes))
    }

    /// Every delay above zero and at most `MAX_DELAY_MINUTES`.
    pub fn check(&self) -> Result<(), String> {
        for level in Level::ALL {
            let m = self.of(level).whole_minutes();
            if m <= 0 || m > i64::from(MAX_DELAY_MINUTES) {
                return Err(format!(
                    "the delay of level {level} must be 1 to {MAX_DELAY_MINUTES} minutes, not {m}"
                ));
            }
        }
        Ok(())
    }
}

/// Reads a delay as people write it: `1h30`, `1h30m`, `3h`, `90m`, `45` (digits only: no
/// sign, no repeated unit).
pub fn parse_delay(text: &str) -> Result<u32, String> {
    let bad = || format!("delay {text:?} is not like 1h30, 3h or 90m");
    let number = |d: &str| -> Result<u32, String> {
        if d.is_empty() || d.len() > 6 || !d.bytes().all(|b| b.is_ascii_digit()) {
            return Err(bad());
        }
        d.parse().map_err(|_| bad())
    };
    let t = text.trim();
    let minutes = if let Some((h, rest)) = t.split_once('h') {
        let m = match rest.strip_suffix('m').unwrap_or(rest) {
            "" => 0,
            m => number(m)?,
        };
        if m >= 60 {
            return Err(bad());
        }
        number(h)?.checked_mul(60).and_then(|h| h.checked_add(m))
    } else {
        Some(number(t.strip_suffix('m').unwrap_or(t))?)
    };
    minutes.filter(|m| *m > 0).ok_or_else(bad)
}

/// The clock a level's delay is counted on.
pub fn counting(level: Level, coverage: Coverage, calendar: &Calendar) -> Counting<'_> {
    match (level, coverage) {
        (Level::Critical, Coverage::AroundTheClock) => Counting::Continuous,
        _ => Counting::Business(calendar),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn delays_as_people_write_them() {
        assert_eq!(parse_delay("1h30"), Ok(90));
        assert_eq!(parse_delay("1h30m"), Ok(90));
        assert_eq!(parse_delay("3h"), Ok(180));
        assert_eq!(parse_delay("90m"), Ok(90));
        assert_eq!(parse_delay("45"), Ok(45));
        for bad in [
            "", "0", "1h60", "h", "-3h", "+3h", "1.5h", "3 hours", "90mmm", "1h30mm", "1hh",
        ] {
            assert!(parse_delay(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn the_annex_a_delays() {
        let d = Delays::default();
        assert_eq!(d.of(Level::Critical), Duration::minutes(90));
        assert_eq!(d.of(Level::High), Duration::hours(3));
        assert_eq!(d.of(Level::Medium), Duration::hours(5));
        assert_eq!(d.of(Level::Low), Duration::hours(8));
        assert!(d.check().is_ok());
        assert!(Delays { low: 0, ..d }.check().is_err());
    }

    #[test]
    fn levels_are_numbers_on_the_wire() {
        assert_eq!(serde_json::to_string(&Level::High).unwrap(), "3");
        assert_eq!(serde_json::from_str::<Level>("4").unwrap(), Level::Critical);
        assert!(serde_json::from_str::<Level>("5").is_err());
        assert_eq!(
            serde_json::to_string(&Coverage::AroundTheClock).unwrap(),
            "\"24x7\""
        );
    }
}
