//! Where a case stands, and which step may follow which: qualified, shortlisted, handed to
//! the provider the beneficiary chose, taken in hand, closed. A decline or a conflict of
//! interest sends the case back to the beneficiary's choice (Convention art. 5.2, 6.2).

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};
use time::{Date, Duration, OffsetDateTime};

use crate::domain::principal::{UnknownVariant, text_enum};

/// REX reports are due this long after the end of the service (Convention art. 4, 12).
pub const REX_DELAY: Duration = Duration::days(30);

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CaseStatus {
    /// Qualified at first contact; no provider proposed yet.
    Open,
    /// A shortlist waits for the beneficiary's choice.
    Shortlisted,
    /// Handed to the chosen provider, whose answer is awaited.
    HandedOff,
    /// The provider accepted and works for the beneficiary.
    InProgress,
    Closed,
}
text_enum!(CaseStatus, "case status", {
    Open => "open",
    Shortlisted => "shortlisted",
    HandedOff => "handed_off",
    InProgress => "in_progress",
    Closed => "closed",
});

/// A step the case's state does not allow, in words for the analyst.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct NotNow(pub String);

pub fn may_shortlist(status: CaseStatus) -> Result<(), NotNow> {
    match status {
        CaseStatus::Open | CaseStatus::Shortlisted => Ok(()),
        CaseStatus::HandedOff => Err(NotNow(
            "the chosen provider has not answered yet: a new shortlist waits for its answer".into(),
        )),
        CaseStatus::InProgress => Err(NotNow("a provider has taken the case in hand".into())),
        CaseStatus::Closed => Err(NotNow("the case is closed".into())),
    }
}

pub fn may_choose(status: CaseStatus) -> Result<(), NotNow> {
    match status {
        CaseStatus::Shortlisted => Ok(()),
        CaseStatus::Open => Err(NotNow(
            "no shortlist yet: the beneficiary chooses from a recorded shortlist".into(),
        )),
        CaseStatus::HandedOff | CaseStatus::InProgress => {
            Err(NotNow("the beneficiary has chosen already".into()))
        }
        CaseStatus::Closed => Err(NotNow("the case is closed".into())),
    }
}

pub fn may_write_journal(status: CaseStatus) -> Result<(), NotNow> {
    match status {
        CaseStatus::Closed => Err(NotNow("the case is closed; its journal with it".into())),
        _ => Ok(()),
    }
}

/// How the case ended.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Closure {
    #[serde(with = "crate::domain::registry::file::iso_date")]
    pub end_date: Date,
    /// Principal id of who closed it.
    pub closed_by: String,
    #[serde(with = "time::serde::rfc3339")]
    pub closed_at: OffsetDateTime,
    /// The service delivered, in a few words (optional).
    #[serde(default)]
    pub summary: String,
    /// The provider that delivered the service, if one did.
    pub provider: Option<String>,
    /// end + 30 days, when a provider delivered a service.
    #[serde(with = "crate::domain::registry::file::iso_date::option", default)]
    pub rex_due: Option<Date>,
}

/// The REX due date of a service that ended on `end`.
pub fn rex_due(end: Date) -> Date {
    end.saturating_add(REX_DELAY)
}

/// Closing needs an end date that is neither before the case was opened nor in the future.
pub fn check_end_date(
    end: Date,
    opened: OffsetDateTime,
    now: OffsetDateTime,
) -> Result<(), NotNow> {
    let opened = crate::domain::registry::calendar::local(opened).date();
    let today = crate::domain::registry::calendar::local(now).date();
    if end < opened {
        return Err(NotNow(format!(
            "the end date {end} is before the case was opened ({opened})"
        )));
    }
    if end > today {
        return Err(NotNow(format!("the end date {end} is in the future")));
    }
    Ok(())
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DisputeParty {
    Beneficiary,
    Provider,
    Csirt,
}
text_enum!(DisputeParty, "dispute party", {
    Beneficiary => "beneficiary",
    Provider => "provider",
    Csirt => "csirt",
});

/// A disagreement between the beneficiary and the provider, which the CSIRT mediates (art. 3).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Dispute {
    pub number: u32,
    pub raised_by: DisputeParty,
    pub summary: String,
    pub recorded_by: String,
    #[serde(with = "time::serde::rfc3339")]
    pub recorded_at: OffsetDateTime,
    pub outcome: Option<DisputeOutcome>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DisputeOutcome {
    pub text: String,
    pub recorded_by: String,
    #[serde(with = "time::serde::rfc3339")]
    pub recorded_at: OffsetDateTime,
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::{date, datetime};

    #[test]
    fn rex_is_due_thirty_days_after_the_end() {
        assert_eq!(rex_due(date!(2026 - 12 - 03)), date!(2027 - 01 - 02));
    }

    #[test]
    fn steps_follow_the_status() {
        assert!(may_shortlist(CaseStatus::Open).is_ok());
        assert!(may_shortlist(CaseStatus::Shortlisted).is_ok());
        assert!(may_shortlist(CaseStatus::HandedOff).is_err());
        assert!(may_choose(CaseStatus::Open).is_err());
        assert!(may_choose(CaseStatus::Shortlisted).is_ok());
        assert!(may_choose(CaseStatus::InProgress).is_err());
        assert!(may_write_journal(CaseStatus::Closed).is_err());
    }

    #[test]
    fn end_dates_are_within_the_case() {
        let opened = datetime!(2026-11-01 10:00 UTC);
        let now = datetime!(2026-12-03 10:00 UTC);
        assert!(check_end_date(date!(2026 - 12 - 03), opened, now).is_ok());
        assert!(check_end_date(date!(2026 - 12 - 04), opened, now).is_err());
        assert!(check_end_date(date!(2026 - 10 - 31), opened, now).is_err());
    }
}
