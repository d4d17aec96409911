//! The service-level timer, with the usual service-desk semantics: start, pause, resume,
//! stop. Due = start + the target counted on a clock (business hours, or around the clock),
//! pauses excluded; breached = stopped after due, or still running past it. A timer is its
//! list of events; every reading is computed from them at an instant the caller's `Clock`
//! gives, so that nothing here reads the time.

use serde::{Deserialize, Serialize};
use time::{Duration, OffsetDateTime};

use super::calendar::{Calendar, CalendarError};

/// How elapsed time counts toward a target.
#[derive(Debug, Clone, Copy)]
pub enum Counting<'a> {
    Business(&'a Calendar),
    Continuous,
}

impl Counting<'_> {
    pub fn add(
        &self,
        from: OffsetDateTime,
        amount: Duration,
    ) -> Result<OffsetDateTime, CalendarError> {
        match self {
            Counting::Business(c) => c.add_business(from, amount),
            Counting::Continuous => from
                .checked_add(amount.max(Duration::ZERO))
                .ok_or_else(|| CalendarError::OutOfRange(format!("{from} + {amount}"))),
        }
    }

    pub fn between(&self, a: OffsetDateTime, b: OffsetDateTime) -> Duration {
        match self {
            Counting::Business(c) => c.business_between(a, b),
            Counting::Continuous => (b - a).max(Duration::ZERO),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EventKind {
    Pause,
    Resume,
    Stop,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct TimerEvent {
    pub kind: EventKind,
    #[serde(with = "time::serde::rfc3339")]
    pub at: OffsetDateTime,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TimerState {
    Running,
    Paused,
    Met,
    Breached,
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum TimerError {
    #[error("the timer is {0}, it cannot be {1}")]
    Wrong(&'static str, &'static str),
    #[error("{0} is before the timer's last event ({1})")]
    Backwards(OffsetDateTime, OffsetDateTime),
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Timer {
    #[serde(with = "time::serde::rfc3339")]
    pub started: OffsetDateTime,
    /// Counted time allowed.
    pub target_minutes: i64,
    pub events: Vec<TimerEvent>,
}

/// A timer as it stands at an instant.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Reading {
    pub state: TimerState,
    /// When the counted time reaches the target; `None` while paused (or stopped) before it.
    pub due: Option<OffsetDateTime>,
    /// Counted time so far: to the stop, or to the instant read (a running clock stops
    /// counting at its due time).
    pub counted: Duration,
    /// Counted time left before the target, never negative.
    pub remaining: Duration,
}

impl Timer {
    pub fn start(at: OffsetDateTime, target: Duration) -> Self {
        Self {
            started: at,
            target_minutes: target.whole_minutes().max(1),
            events: Vec::new(),
        }
    }

    pub fn target(&self) -> Duration {
        Duration::minutes(self.target_minutes)
    }

    fn phase(&self) -> &'static str {
        match self.events.last().map(|e| e.kind) {
            None | Some(EventKind::Resume) => "running",
            Some(EventKind::Pause) => "paused",
            Some(EventKind::Stop) => "stopped",
        }
    }

    fn last_at(&self) -> OffsetDateTime {
        self.events.last().map_or(self.started, |e| e.at)
    }

    fn push(
        &mut self,
        kind: EventKind,
        at: OffsetDateTime,
        allowed: &[&str],
        verb: &'static str,
    ) -> Result<(), TimerError> {
        let phase = self.phase();
        if !allowed.contains(&phase) {
            return Err(TimerError::Wrong(phase, verb));
        }
        if at < self.last_at() {
            return Err(TimerError::Backwards(at, self.last_at()));
        }
        self.events.push(TimerEvent { kind, at });
        Ok(())
    }

    pub fn pause(&mut self, at: OffsetDateTime) -> Result<(), TimerError> {
        self.push(EventKind::Pause, at, &["running"], "paused")
    }

    pub fn resume(&mut self, at: OffsetDateTime) -> Result<(), TimerError> {
        self.push(EventKind::Resume, at, &["paused"], "resumed")
    }

    /// Stops the timer (the alert was taken into account), running or paused.
    pub fn stop(&mut self, at: OffsetDateTime) -> Result<(), TimerError> {
        self.push(EventKind::Stop, at, &["running", "paused"], "stopped")
    }

    pub fn stopped_at(&self) -> Option<OffsetDateTime> {
        self.events
            .last()
            .filter(|e| e.kind == EventKind::Stop)
            .map(|e| e.at)
    }

    /// The running spans: from the start or a resume to the next pause or stop (`None`: still
    /// running).
    fn spans(&self) -> Vec<(OffsetDateTime, Option<OffsetDateTime>)> {
        let mut spans = Vec::new();
        let mut open = Some(self.started);
        for e in &self.events {
            match (e.kind, open) {
                (EventKind::Pause | EventKind::Stop, Some(s)) => {
                    spans.push((s, Some(e.at)));
                    open = None;
                }
                (EventKind::Resume, None) => open = Some(e.at),
                _ => {}
            }
        }
        if let Some(s) = open {
            spans.push((s, None));
        }
        spans
    }

    /// The timer at `now` (an instant before the last event reads as at the last event).
    pub fn read(
        &self,
        counting: Counting<'_>,
        now: OffsetDateTime,
    ) -> Result<Reading, CalendarError> {
        let now = now.max(self.last_at());
        let target = self.target();
        let mut counted = Duration::ZERO;
        let mut due = None;
        for (start, end) in self.spans() {
            let here = match end {
                Some(end) => counting.between(start, end),
                None => {
                    // The open span holds the due instant if no closed one did. Past it, a
                    // running clock counts no further: what matters then is that it is
                    // breached and since when, and counting an alert nobody acknowledges for
                    // months would cost more at every look.
                    let d = match due {
                        Some(d) => d,
                        None => counting.add(start, target - counted)?,
                    };
                    due = Some(d);
                    counting.between(start, now.min(d).max(start))
                }
            };
            // A closed span holds the due instant only if the target was reached in it.
            if due.is_none() && counted + here >= target {
                due = Some(counting.add(start, target - counted)?);
            }
            counted += here;
        }
        let past_due = |t: OffsetDateTime| due.is_some_and(|d| t > d);
        let state = match self.phase() {
            "stopped" if past_due(self.last_at()) => TimerState::Breached,
            "stopped" => TimerState::Met,
            "paused" if past_due(self.last_at()) => TimerState::Breached,
            "paused" => TimerState::Paused,
            _ if past_due(now) => TimerState::Breached,
            _ => TimerState::Running,
        };
        Ok(Reading {
            state,
            due,
            counted,
            remaining: (target - counted).max(Duration::ZERO),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::sla::calendar::Calendar;
    use proptest::prelude::*;
    use time::macros::datetime;

    fn reunion() -> Calendar {
        Calendar::parse(
            "reunion",
            include_str!("../../../policies/calendars/reunion.toml"),
        )
        .unwrap()
    }

    #[test]
    fn a_timer_runs_pauses_resumes_and_stops() {
        let c = reunion();
        let b = Counting::Business(&c);
        // Tuesday 26 May 2026, 09:00 local = 05:00 UTC; 3 h → 12:00 local.
        let mut t = Timer::start(datetime!(2026-05-26 05:00 UTC), Duration::hours(3));
        let r = t.read(b, datetime!(2026-05-26 06:00 UTC)).unwrap();
        assert_eq!(r.state, TimerState::Running);
        assert_eq!(r.due, Some(datetime!(2026-05-26 08:00 UTC)));
        assert_eq!(r.remaining, Duration::hours(2));
        // Paused at 10:00 local for two hours (lunch inside): resumed at 14:00 local with
        // 2 h left → 16:00.
        t.pause(datetime!(2026-05-26 06:00 UTC)).unwrap();
        let r = t.read(b, datetime!(2026-05-26 09:00 UTC)).unwrap();
        assert_eq!((r.state, r.due), (TimerState::Paused, None));
        assert_eq!(r.remaining, Duration::hours(2));
        assert_eq!(
            t.pause(datetime!(2026-05-26 07:00 UTC)),
            Err(TimerError::Wrong("paused", "paused"))
        );
        t.resume(datetime!(2026-05-26 10:00 UTC)).unwrap();
        let r = t.read(b, datetime!(2026-05-26 10:00 UTC)).unwrap();
        assert_eq!(r.due, Some(datetime!(2026-05-26 12:00 UTC)));
        // Stopped exactly at due: met.
        let mut met = t.clone();
        met.stop(datetime!(2026-05-26 12:00 UTC)).unwrap();
        assert_eq!(
            met.read(b, datetime!(2026-06-01 00:00 UTC)).unwrap().state,
            TimerState::Met
        );
        // A minute later: breached, and it stays so.
        let mut late = t.clone();
        late.stop(datetime!(2026-05-26 12:01 UTC)).unwrap();
        let r = late.read(b, datetime!(2026-06-01 00:00 UTC)).unwrap();
        assert_eq!(r.state, TimerState::Breached);
        assert_eq!(r.remaining, Duration::ZERO);
        assert_eq!(
            late.resume(datetime!(2026-05-27 00:00 UTC)),
            Err(TimerError::Wrong("stopped", "resumed"))
        );
        // Nobody looks: still running past due is breached.
        assert_eq!(
            t.read(b, datetime!(2026-05-26 12:00 UTC)).unwrap().state,
            TimerState::Running
        );
        assert_eq!(
            t.read(b, datetime!(2026-05-26 12:00:01 UTC)).unwrap().state,
            TimerState::Breached
        );
        // Events go forward only.
        let mut t2 = Timer::start(datetime!(2026-05-26 05:00 UTC), Duration::hours(3));
        assert!(matches!(
            t2.pause(datetime!(2026-05-26 04:00 UTC)),
            Err(TimerError::Backwards(..))
        ));
    }

    #[test]
    fn a_pause_after_the_due_time_does_not_clear_the_breach() {
        let c = reunion();
        let b = Counting::Business(&c);
        let mut t = Timer::start(datetime!(2026-05-26 05:00 UTC), Duration::hours(1));
        t.pause(datetime!(2026-05-26 07:00 UTC)).unwrap();
        let r = t.read(b, datetime!(2026-05-26 07:00 UTC)).unwrap();
        assert_eq!(r.state, TimerState::Breached);
        assert_eq!(r.due, Some(datetime!(2026-05-26 06:00 UTC)));
    }

    #[test]
    fn around_the_clock_counts_nights_and_weekends() {
        // Saturday 23 May 2026, 02:00 local = Friday 22:00 UTC; 1 h 30 → 03:30 local.
        let mut t = Timer::start(datetime!(2026-05-22 22:00 UTC), Duration::minutes(90));
        let r = t
            .read(Counting::Continuous, datetime!(2026-05-22 22:30 UTC))
            .unwrap();
        assert_eq!(r.due, Some(datetime!(2026-05-22 23:30 UTC)));
        t.stop(datetime!(2026-05-22 23:00 UTC)).unwrap();
        assert_eq!(
            t.read(Counting::Continuous, datetime!(2026-05-30 00:00 UTC))
                .unwrap()
                .state,
            TimerState::Met
        );
        // The same alert on business hours: Tuesday 09:30 local (Monday is Whit Monday).
        let c = reunion();
        let t = Timer::start(datetime!(2026-05-22 22:00 UTC), Duration::minutes(90));
        let r = t
            .read(Counting::Business(&c), datetime!(2026-05-22 22:30 UTC))
            .unwrap();
        assert_eq!(r.due, Some(datetime!(2026-05-26 05:30 UTC)));
    }

    /// An instant between 2026 and 2028, to the minute.
    fn instant() -> impl Strategy<Value = OffsetDateTime> {
        (0i64..(2 * 365 * 24 * 60))
            .prop_map(|m| datetime!(2026-01-01 00:00 UTC) + Duration::minutes(m))
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(200))]

        #[test]
        fn due_is_never_before_start(start in instant(), minutes in 1i64..(3 * 8 * 60), around in any::<bool>()) {
            let c = reunion();
            let counting = if around { Counting::Continuous } else { Counting::Business(&c) };
            let t = Timer::start(start, Duration::minutes(minutes));
            let r = t.read(counting, start).unwrap();
            let due = r.due.unwrap();
            prop_assert!(due >= start);
            prop_assert_eq!(counting.between(start, due), Duration::minutes(minutes));
        }

        #[test]
        fn pausing_never_shortens_the_remaining_time(
            start in instant(),
            minutes in 1i64..(3 * 8 * 60),
            pause_after in 0i64..(5 * 24 * 60),
            pause_for in 0i64..(5 * 24 * 60),
            look_after in 0i64..(15 * 24 * 60),
        ) {
            let c = reunion();
            let b = Counting::Business(&c);
            let plain = Timer::start(start, Duration::minutes(minutes));
            let mut paused = plain.clone();
            let p = start + Duration::minutes(pause_after);
            let r = p + Duration::minutes(pause_for);
            paused.pause(p).unwrap();
            paused.resume(r).unwrap();
            let now = (start + Duration::minutes(look_after)).max(r);
            let a = plain.read(b, now).unwrap();
            let z = paused.read(b, now).unwrap();
            prop_assert!(z.remaining >= a.remaining);
            prop_assert!(z.due.unwrap() >= a.due.unwrap());
            // A breach with the pause implies one without it.
            if z.state == TimerState::Breached {
                prop_assert_eq!(a.state, TimerState::Breached);
            }
        }
    }
}
