//! Business hours (JHO, jours et heures ouvrés) as the shortlist needs them: is an instant
//! inside them? The hub answers with its SLA default calendar (`domain::sla::calendar`,
//! holidays included); the plain weekly schedule here is the calendar without holidays.

use time::{OffsetDateTime, Time, Weekday};

use crate::domain::registry::calendar::local;

/// Answers whether an instant falls within business hours.
pub trait BusinessCalendar: Send + Sync + std::fmt::Debug {
    fn is_business_time(&self, at: OffsetDateTime) -> bool;
}

/// Opening intervals, the same every week, in the hub's time zone (`Indian/Reunion`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WeeklySchedule {
    /// Monday first; each interval is [start, end).
    days: [Vec<(Time, Time)>; 7],
}

impl WeeklySchedule {
    /// The reference deployment's default (DOMAIN.md): Monday to Friday, 08:00–12:00 and
    /// 13:00–17:00.
    pub fn reference() -> Self {
        let day = vec![
            (Time::from_hms(8, 0, 0), Time::from_hms(12, 0, 0)),
            (Time::from_hms(13, 0, 0), Time::from_hms(17, 0, 0)),
        ]
        .into_iter()
        .filter_map(|(a, b)| Some((a.ok()?, b.ok()?)))
        .collect::<Vec<_>>();
        Self {
            days: [
                day.clone(),
                day.clone(),
                day.clone(),
                day.clone(),
                day,
                Vec::new(),
                Vec::new(),
            ],
        }
    }
}

impl BusinessCalendar for WeeklySchedule {
    fn is_business_time(&self, at: OffsetDateTime) -> bool {
        let here = local(at);
        let day = match here.weekday() {
            Weekday::Monday => 0,
            Weekday::Tuesday => 1,
            Weekday::Wednesday => 2,
            Weekday::Thursday => 3,
            Weekday::Friday => 4,
            Weekday::Saturday => 5,
            Weekday::Sunday => 6,
        };
        let t = here.time();
        self.days[day]
            .iter()
            .any(|(start, end)| *start <= t && t < *end)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    #[test]
    fn the_reference_week_on_the_island() {
        let s = WeeklySchedule::reference();
        // Thursday 3 December 2026, 09:00 in Réunion = 05:00 UTC.
        assert!(s.is_business_time(datetime!(2026-12-03 05:00 UTC)));
        // 12:30 there: lunch.
        assert!(!s.is_business_time(datetime!(2026-12-03 08:30 UTC)));
        // 16:59 there, 17:00 there.
        assert!(s.is_business_time(datetime!(2026-12-03 12:59 UTC)));
        assert!(!s.is_business_time(datetime!(2026-12-03 13:00 UTC)));
        // 07:59 there.
        assert!(!s.is_business_time(datetime!(2026-12-03 03:59 UTC)));
        // Saturday 5 December, 10:00 there.
        assert!(!s.is_business_time(datetime!(2026-12-05 06:00 UTC)));
        // Friday 22:00 UTC is already Saturday 02:00 there.
        assert!(!s.is_business_time(datetime!(2026-12-04 22:00 UTC)));
    }
}
