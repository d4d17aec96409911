//! `policies/sla.toml`: the default take-in delays of a contract, the calendar a contract
//! uses unless it names one, how often the breach job looks.

use serde::Deserialize;

use super::levels::{Delays, parse_delay};

pub const SHIPPED: &str = include_str!("../../../policies/sla.toml");

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SlaPolicy {
    pub delays: Delays,
    pub default_calendar: String,
    pub breach_check_secs: u64,
    pub max_detection_lag: time::Duration,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct File {
    delays: DelaysFile,
    default_calendar: String,
    #[serde(default = "default_check")]
    breach_check_secs: u64,
    #[serde(default = "default_lag")]
    max_detection_lag_hours: u32,
}

fn default_lag() -> u32 {
    24
}

fn default_check() -> u64 {
    30
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct DelaysFile {
    critical: String,
    high: String,
    medium: String,
    low: String,
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("sla policy: {0}")]
pub struct SlaPolicyError(pub String);

impl SlaPolicy {
    pub fn parse(text: &str) -> Result<Self, SlaPolicyError> {
        let file: File =
            toml::from_str(text).map_err(|e| SlaPolicyError(e.message().to_owned()))?;
        let d = |level: &str, text: &str| {
            parse_delay(text).map_err(|e| SlaPolicyError(format!("delays.{level}: {e}")))
        };
        let delays = Delays {
            critical: d("critical", &file.delays.critical)?,
            high: d("high", &file.delays.high)?,
            medium: d("medium", &file.delays.medium)?,
            low: d("low", &file.delays.low)?,
        };
        delays.check().map_err(SlaPolicyError)?;
        if !(1..=3600).contains(&file.breach_check_secs) {
            return Err(SlaPolicyError(
                "breach_check_secs must be 1 to 3600".to_owned(),
            ));
        }
        if !valid_calendar_name(&file.default_calendar) {
            return Err(SlaPolicyError(format!(
                "default_calendar {:?} is not a calendar file name",
                file.default_calendar
            )));
        }
        if !(1..=24 * 31).contains(&file.max_detection_lag_hours) {
            return Err(SlaPolicyError(
                "max_detection_lag_hours must be 1 to 744".to_owned(),
            ));
        }
        Ok(Self {
            delays,
            default_calendar: file.default_calendar,
            breach_check_secs: file.breach_check_secs,
            max_detection_lag: time::Duration::hours(i64::from(file.max_detection_lag_hours)),
        })
    }
}

/// A calendar is named by its file's stem: letters, digits, `-` and `_`, so that a name never
/// reaches outside `policies/calendars/`.
pub fn valid_calendar_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 64
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_shipped_policy_is_annex_a() {
        let p = SlaPolicy::parse(SHIPPED).unwrap();
        assert_eq!(p.delays, Delays::default());
        assert_eq!(p.default_calendar, "reunion");
    }

    #[test]
    fn mistakes_are_refused_with_a_reason() {
        let bad = SHIPPED.replace("\"1h30\"", "\"soon\"");
        assert!(
            SlaPolicy::parse(&bad)
                .unwrap_err()
                .to_string()
                .contains("delays.critical")
        );
        let bad = SHIPPED.replace("\"reunion\"", "\"../etc\"");
        assert!(SlaPolicy::parse(&bad).is_err());
        assert!(!valid_calendar_name("a/b"));
        assert!(valid_calendar_name("europe-paris_2"));
    }
}
