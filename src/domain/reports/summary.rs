//! The annual summary a provider returns for each calendar year (Convention art. 4, 12): the
//! hub drafts the figures from the provider's cases of the year, the provider completes what
//! only it knows (what it saw of the threat, notable techniques, changes in its staff and
//! qualifications) and submits; the yearly evaluation of the provider is based on it.

use serde::{Deserialize, Serialize};
use time::Date;

use crate::domain::cases::qualification::long_text;
use crate::domain::ioc::Technique;
use crate::domain::principal::{UnknownVariant, text_enum};

use std::fmt;
use std::str::FromStr;

/// Most techniques a summary names.
pub const MAX_TTPS: usize = 100;
/// Oldest and newest years a summary may be about (a typo is not a year).
pub const FIRST_YEAR: i32 = 2000;

/// What the provider writes.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ProviderPart {
    /// What the provider observed of the threat this year (at most 20000 bytes).
    #[serde(default)]
    pub threat_observations: String,
    /// ATT&CK technique ids it found notable, at most 100.
    #[serde(default)]
    pub notable_ttps: Vec<String>,
    #[serde(default)]
    pub staffing_changes: String,
    #[serde(default)]
    pub qualification_changes: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum SummaryStatus {
    Draft,
    Submitted,
}

text_enum!(SummaryStatus, "summary status", {
    Draft => "draft",
    Submitted => "submitted",
});

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{field}: {message}")]
pub struct SummaryError {
    pub field: &'static str,
    pub message: String,
}

fn optional_text(field: &'static str, value: &str) -> Result<String, SummaryError> {
    if value.trim().is_empty() {
        return Ok(String::new());
    }
    long_text(field, value).map_err(|e| SummaryError {
        field,
        message: e.to_string(),
    })
}

/// The provider's part, checked: texts bounded, techniques in the ATT&CK id format.
pub fn check(part: ProviderPart) -> Result<ProviderPart, SummaryError> {
    if part.notable_ttps.len() > MAX_TTPS {
        return Err(SummaryError {
            field: "notable_ttps",
            message: format!("at most {MAX_TTPS} ids"),
        });
    }
    let mut ttps: Vec<String> = Vec::new();
    for t in &part.notable_ttps {
        let t = Technique::parse(t.trim()).map_err(|e| SummaryError {
            field: "notable_ttps",
            message: e.to_string(),
        })?;
        if !ttps.iter().any(|k| k == t.as_str()) {
            ttps.push(t.as_str().to_owned());
        }
    }
    Ok(ProviderPart {
        threat_observations: optional_text("threat_observations", &part.threat_observations)?,
        notable_ttps: ttps,
        staffing_changes: optional_text("staffing_changes", &part.staffing_changes)?,
        qualification_changes: optional_text("qualification_changes", &part.qualification_changes)?,
    })
}

/// What a submission needs: something written about the year's threat. The figures speak for
/// themselves, but a summary without the provider's own observations feeds nothing into the
/// CSIRT's report.
pub fn check_submittable(part: &ProviderPart) -> Result<(), SummaryError> {
    if part.threat_observations.trim().is_empty() {
        return Err(SummaryError {
            field: "threat_observations",
            message: "the provider's observations of the year are required to submit".into(),
        });
    }
    Ok(())
}

/// A year a summary may be about at `now`: a past year or the current one.
pub fn check_year(year: i32, current: i32) -> Result<(), SummaryError> {
    if !(FIRST_YEAR..=current).contains(&year) {
        return Err(SummaryError {
            field: "year",
            message: format!("a year from {FIRST_YEAR} to {current}"),
        });
    }
    Ok(())
}

/// The year whose summary the yearly evaluation at `today` is based on: the last one that
/// ended.
pub fn evaluated_year(today: Date) -> i32 {
    today.year() - 1
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::date;

    #[test]
    fn the_part_is_checked() {
        let part = check(ProviderPart {
            threat_observations: " ransomware waves ".into(),
            notable_ttps: vec!["T1486".into(), "T1486".into()],
            ..Default::default()
        })
        .unwrap();
        assert_eq!(part.threat_observations, "ransomware waves");
        assert_eq!(part.notable_ttps, ["T1486"]);
        assert!(
            check(ProviderPart {
                notable_ttps: vec!["T99".into()],
                ..Default::default()
            })
            .is_err()
        );
        assert!(check_submittable(&ProviderPart::default()).is_err());
    }

    #[test]
    fn years() {
        assert!(check_year(2026, 2026).is_ok());
        assert!(check_year(2027, 2026).is_err());
        assert!(check_year(1999, 2026).is_err());
        assert_eq!(evaluated_year(date!(2027 - 02 - 01)), 2026);
    }
}
