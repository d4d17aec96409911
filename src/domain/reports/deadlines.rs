//! When a report is due and what the hub records as the day comes (Convention art. 4): a REX
//! 30 days after the end of the mission, the annual summary by a date of the next year;
//! reminders seven days and one day before, the overdue state after; a REX not returned
//! within its 30 days is also a breach candidate for the analysts to confirm (it de-references
//! nothing on its own: art. 16 asks for a decision and a notice).
//!
//! Days are the hub's calendar days (Indian/Reunion): a REX due on the 2nd is on time all of
//! the 2nd, island time.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};
use time::{Date, Month, OffsetDateTime};

use crate::domain::principal::{UnknownVariant, text_enum};
use crate::domain::registry::calendar::local;

/// A REX more than this many days past its due date is a breach candidate: the convention's
/// 30 days are the commitment, so the first late day is already a breach of it.
pub const BREACH_AFTER_DAYS: i64 = 0;

/// What the reports' job records, once per report and kind.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum NoticeKind {
    RexReminderD7,
    RexReminderD1,
    RexOverdue,
    /// For the analysts only: the provider learns of a breach when one is recorded.
    RexBreachCandidate,
    SummaryReminderD7,
    SummaryReminderD1,
    SummaryOverdue,
    /// A SOC alert not taken into account within its service level (subject: the alert id).
    SlaBreach,
}

text_enum!(NoticeKind, "notice kind", {
    RexReminderD7 => "rex_reminder_d7",
    RexReminderD1 => "rex_reminder_d1",
    RexOverdue => "rex_overdue",
    RexBreachCandidate => "rex_breach_candidate",
    SummaryReminderD7 => "summary_reminder_d7",
    SummaryReminderD1 => "summary_reminder_d1",
    SummaryOverdue => "summary_overdue",
    SlaBreach => "sla_breach",
});

impl NoticeKind {
    /// Whether the provider concerned is told (every notice reaches the analysts).
    pub fn for_provider(self) -> bool {
        self != NoticeKind::RexBreachCandidate
    }
}

/// Which report a deadline is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Owed {
    Rex,
    AnnualSummary,
}

/// The day in the hub's calendar that `at` falls on.
pub fn hub_day(at: OffsetDateTime) -> Date {
    local(at).date()
}

/// The notices a report due on `due`, not yet submitted, calls for on `today`: the reminder of
/// the window `today` is in (seven days before up to two days before; the day before and the
/// day itself), or once it is late, the overdue state and, for a REX more than
/// [`BREACH_AFTER_DAYS`] days late, the breach candidate. A reminder whose window passed is
/// not sent late.
pub fn notices_due(owed: Owed, due: Date, today: Date) -> Vec<NoticeKind> {
    let (d7, d1, overdue) = match owed {
        Owed::Rex => (
            NoticeKind::RexReminderD7,
            NoticeKind::RexReminderD1,
            NoticeKind::RexOverdue,
        ),
        Owed::AnnualSummary => (
            NoticeKind::SummaryReminderD7,
            NoticeKind::SummaryReminderD1,
            NoticeKind::SummaryOverdue,
        ),
    };
    let days_left = (due - today).whole_days();
    match days_left {
        2..=7 => vec![d7],
        0..=1 => vec![d1],
        d if d < 0 => {
            let mut out = vec![overdue];
            if owed == Owed::Rex && -d > BREACH_AFTER_DAYS {
                out.push(NoticeKind::RexBreachCandidate);
            }
            out
        }
        _ => Vec::new(),
    }
}

/// Whether a report submitted at `submitted` met its deadline `due`.
pub fn on_time(due: Date, submitted: OffsetDateTime) -> bool {
    hub_day(submitted) <= due
}

/// How many days late a report submitted (or still missing) on `day` is; 0 when on time.
pub fn days_late(due: Date, day: Date) -> i64 {
    (day - due).whole_days().max(0)
}

/// The day the annual summary of `year` is due: `month`/`day` of the next year (the 31st of
/// January by default). A day the month does not have (the 30th of February) is its last.
pub fn summary_due(year: i32, month: Month, day: u8) -> Date {
    let next = year.saturating_add(1);
    let last = time::util::days_in_month(month, next);
    Date::from_calendar_date(next, month, day.clamp(1, last)).unwrap_or(Date::MIN)
}

/// A `MM-DD` setting (`[reports] annual_summary_due`).
pub fn parse_month_day(s: &str) -> Option<(Month, u8)> {
    let (m, d) = s.trim().split_once('-')?;
    let month = Month::try_from(m.parse::<u8>().ok()?).ok()?;
    let day: u8 = d.parse().ok()?;
    (1..=31).contains(&day).then_some((month, day))
}

/// A reminder's or an overdue notice's words, for the provider's notifications.
pub fn describe(kind: NoticeKind, subject: &str, due: Date) -> String {
    match kind {
        NoticeKind::RexReminderD7 | NoticeKind::RexReminderD1 => {
            format!("the REX of case {subject} is due on {due}")
        }
        NoticeKind::RexOverdue => format!("the REX of case {subject} was due on {due}"),
        NoticeKind::RexBreachCandidate => format!(
            "the REX of case {subject} was not returned by {due}: a breach of the commitments \
             (Convention art. 4) for an analyst to confirm"
        ),
        NoticeKind::SummaryReminderD7 | NoticeKind::SummaryReminderD1 => {
            format!("the annual summary {subject} is due on {due}")
        }
        NoticeKind::SummaryOverdue => format!("the annual summary {subject} was due on {due}"),
        NoticeKind::SlaBreach => format!(
            "SOC alert {subject} was not taken into account within its service level (due on \
             {due})"
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::{date, datetime};

    #[test]
    fn reminders_come_in_their_windows() {
        let due = date!(2027 - 01 - 02);
        let on = |d| notices_due(Owed::Rex, due, d);
        assert!(on(date!(2026 - 12 - 25)).is_empty());
        assert_eq!(on(date!(2026 - 12 - 26)), [NoticeKind::RexReminderD7]);
        assert_eq!(on(date!(2026 - 12 - 31)), [NoticeKind::RexReminderD7]);
        assert_eq!(on(date!(2027 - 01 - 01)), [NoticeKind::RexReminderD1]);
        assert_eq!(on(date!(2027 - 01 - 02)), [NoticeKind::RexReminderD1]);
        assert_eq!(
            on(date!(2027 - 01 - 03)),
            [NoticeKind::RexOverdue, NoticeKind::RexBreachCandidate]
        );
        // A summary is never a breach candidate by itself.
        assert_eq!(
            notices_due(Owed::AnnualSummary, due, date!(2027 - 06 - 01)),
            [NoticeKind::SummaryOverdue]
        );
    }

    #[test]
    fn on_time_is_counted_in_island_days() {
        let due = date!(2027 - 01 - 02);
        // 23:30 on the 2nd in La Réunion is 19:30 UTC: on time.
        assert!(on_time(due, datetime!(2027-01-02 19:30 UTC)));
        // 20:30 UTC on the 2nd is 00:30 on the 3rd there: late.
        assert!(!on_time(due, datetime!(2027-01-02 20:30 UTC)));
        assert_eq!(days_late(due, date!(2027 - 01 - 05)), 3);
        assert_eq!(days_late(due, date!(2026 - 12 - 05)), 0);
    }

    #[test]
    fn summary_due_dates() {
        assert_eq!(summary_due(2026, Month::January, 31), date!(2027 - 01 - 31));
        assert_eq!(
            summary_due(2026, Month::February, 30),
            date!(2027 - 02 - 28)
        );
        assert_eq!(parse_month_day("01-31"), Some((Month::January, 31)));
        assert_eq!(parse_month_day("13-01"), None);
        assert_eq!(parse_month_day("01-32"), None);
        assert_eq!(parse_month_day("jan"), None);
    }
}
