//! A contract's compliance over a period: per level, how many alerts, how many taken into
//! account in time, how many breached, and the take-in times (counted time from detection to
//! acknowledgement, pauses excluded, on the level's clock); and the list of breaches.

use serde::Serialize;
use time::{Date, OffsetDateTime};

use super::calendar::{Calendar, CalendarError};
use super::contract::{Alert, Contract};
use super::levels::Level;
use super::timer::TimerState;

use crate::domain::registry::file::iso_date;

#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct LevelCompliance {
    #[schema(value_type = u8)]
    pub level: Level,
    pub name: &'static str,
    /// The level's delay on this contract, in minutes.
    pub delay_minutes: i64,
    /// Alerts of the period that carry a service level.
    pub count: u64,
    pub met: u64,
    pub breached: u64,
    /// Still open and within their time (running or paused).
    pub open: u64,
    /// Median take-in time of the acknowledged alerts, in counted minutes (nearest rank).
    /// Alerts still open past their due time are in `breached`, not here.
    pub median_minutes: Option<i64>,
    /// 90th percentile, nearest rank.
    pub p90_minutes: Option<i64>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct Breach {
    pub alert: String,
    pub external_id: String,
    #[schema(value_type = u8)]
    pub level: Level,
    #[serde(with = "time::serde::rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    pub detected_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    pub due_at: OffsetDateTime,
    /// When it was finally taken into account, if it was.
    #[serde(with = "time::serde::rfc3339::option")]
    #[schema(value_type = Option<String>, format = DateTime)]
    pub acknowledged_at: Option<OffsetDateTime>,
    /// How late, in minutes of the wall clock from the due time to the acknowledgement (or
    /// to the report's instant), rounded up: a breach is at least a minute late.
    pub late_minutes: i64,
}

#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct ComplianceReport {
    pub contract: String,
    pub client: String,
    pub calendar: String,
    pub time_zone: String,
    /// [from, to), local dates of the calendar.
    #[serde(with = "iso_date")]
    #[schema(value_type = String, format = Date)]
    pub from: Date,
    #[serde(with = "iso_date")]
    #[schema(value_type = String, format = Date)]
    pub to: Date,
    #[serde(with = "time::serde::rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    pub computed_at: OffsetDateTime,
    pub levels: Vec<LevelCompliance>,
    /// Alerts of the period detected before the production date: counted, no service level.
    pub without_service_level: u64,
    pub breaches: Vec<Breach>,
}

/// The nearest-rank percentile of sorted values: the smallest value with at least `p` % of the
/// values at or below it.
pub fn nearest_rank(sorted: &[i64], p: u32) -> Option<i64> {
    if sorted.is_empty() {
        return None;
    }
    let n = sorted.len();
    let rank = (n * p as usize).div_ceil(100).clamp(1, n);
    sorted.get(rank - 1).copied()
}

/// The report of `alerts` (those detected within the period), read at `now`.
pub fn compliance(
    contract: &Contract,
    calendar: &Calendar,
    alerts: &[Alert],
    (from, to): (Date, Date),
    now: OffsetDateTime,
) -> Result<ComplianceReport, CalendarError> {
    let mut levels = Vec::new();
    let mut breaches = Vec::new();
    let mut without = 0;
    for level in Level::ALL.iter().rev().copied() {
        let mut row = LevelCompliance {
            level,
            name: level.name(),
            delay_minutes: contract.delays.of(level).whole_minutes(),
            count: 0,
            met: 0,
            breached: 0,
            open: 0,
            median_minutes: None,
            p90_minutes: None,
        };
        let mut times = Vec::new();
        for a in alerts.iter().filter(|a| a.level == level) {
            let Some(reading) = a.reading(contract, calendar, now)? else {
                without += 1;
                continue;
            };
            row.count += 1;
            match reading.state {
                TimerState::Met => row.met += 1,
                TimerState::Breached => row.breached += 1,
                TimerState::Running | TimerState::Paused => row.open += 1,
            }
            if a.acknowledged_at.is_some() {
                times.push(reading.counted.whole_minutes());
            }
            if reading.state == TimerState::Breached
                && let Some(due) = reading.due
            {
                let end = a.acknowledged_at.unwrap_or(now);
                let late = (end - due).whole_seconds().max(1);
                breaches.push(Breach {
                    alert: a.id.clone(),
                    external_id: a.external_id.clone(),
                    level,
                    detected_at: a.detected_at,
                    due_at: due,
                    acknowledged_at: a.acknowledged_at,
                    late_minutes: (late + 59) / 60,
                });
            }
        }
        times.sort_unstable();
        row.median_minutes = nearest_rank(&times, 50);
        row.p90_minutes = nearest_rank(&times, 90);
        levels.push(row);
    }
    breaches.sort_by(|a, b| {
        a.detected_at
            .cmp(&b.detected_at)
            .then(a.alert.cmp(&b.alert))
    });
    Ok(ComplianceReport {
        contract: contract.id.clone(),
        client: contract.client.clone(),
        calendar: contract.calendar.clone(),
        time_zone: calendar.zone().to_owned(),
        from,
        to,
        computed_at: now,
        levels,
        without_service_level: without,
        breaches,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nearest_rank_percentiles() {
        assert_eq!(nearest_rank(&[], 50), None);
        assert_eq!(nearest_rank(&[7], 90), Some(7));
        let v: Vec<i64> = (1..=10).collect();
        assert_eq!(nearest_rank(&v, 50), Some(5));
        assert_eq!(nearest_rank(&v, 90), Some(9));
        assert_eq!(nearest_rank(&v, 100), Some(10));
        assert_eq!(nearest_rank(&[1, 2, 3], 50), Some(2));
        assert_eq!(nearest_rank(&[1, 2, 3, 4], 50), Some(2));
        assert_eq!(nearest_rank(&[1, 2, 3, 4], 90), Some(4));
    }
}
