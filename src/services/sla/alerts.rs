//! Alerts and their clocks: posted by the contract's SOC provider (a retry with the same
//! external id finds the first post), acknowledged, paused and resumed with reasons, and the
//! breach job that records a breach when it happens rather than when someone looks.

use serde::Serialize;
use time::OffsetDateTime;

use super::{Sla, SlaError};
use crate::domain::access::{Provider, RegistryRecord};
use crate::domain::audit::record::{AuditRecord, text_digest};
use crate::domain::principal::PrincipalKind;
use crate::domain::reports::deadlines::NoticeKind;
use crate::domain::sla::access::{Disclosed, is_soc_of};
use crate::domain::sla::calendar::Calendar;
use crate::domain::sla::contract::{Alert, AlertAction, AlertVerb, NewAlert};
use crate::domain::sla::levels::Level;
use crate::domain::sla::timer::{Reading, TimerState};
use crate::store::StoreError;
use crate::store::reports::Notice;
use crate::store::sla::{ALERT_CHANGED, StoredAlert};

/// How many past-due alerts one round of the breach job handles (the next round takes the
/// rest a few seconds later).
const BREACH_BATCH: i64 = 500;

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct AlertView {
    pub id: String,
    pub contract: String,
    pub external_id: String,
    #[schema(value_type = u8)]
    pub level: Level,
    pub level_name: &'static str,
    pub title: Option<String>,
    #[serde(with = "time::serde::rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    pub detected_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    pub received_at: OffsetDateTime,
    /// `running`, `paused`, `met`, `breached`, or `no_service_level` (detected before the
    /// contract's production date).
    pub state: &'static str,
    /// When the take-in delay runs out (absent while paused, or without a service level).
    #[serde(with = "time::serde::rfc3339::option")]
    #[schema(value_type = Option<String>, format = DateTime)]
    pub due_at: Option<OffsetDateTime>,
    /// `due_at` on the calendar's wall clock, `YYYY-MM-DD HH:MM`.
    pub due_local: Option<String>,
    pub time_zone: String,
    /// Counted time left (business minutes, or minutes for a level-4 alert under 24/7).
    pub remaining_minutes: Option<i64>,
    /// Counted time so far (to the acknowledgement once there is one).
    pub counted_minutes: Option<i64>,
    #[serde(with = "time::serde::rfc3339::option")]
    #[schema(value_type = Option<String>, format = DateTime)]
    pub acknowledged_at: Option<OffsetDateTime>,
    /// When the hub recorded the breach (notification and audit entry).
    #[serde(with = "time::serde::rfc3339::option")]
    #[schema(value_type = Option<String>, format = DateTime)]
    pub breach_recorded_at: Option<OffsetDateTime>,
    pub journal: Vec<AlertAction>,
}

fn state_name(reading: Option<&Reading>) -> &'static str {
    match reading.map(|r| r.state) {
        None => "no_service_level",
        Some(TimerState::Running) => "running",
        Some(TimerState::Paused) => "paused",
        Some(TimerState::Met) => "met",
        Some(TimerState::Breached) => "breached",
    }
}

fn view(alert: &Alert, reading: Option<&Reading>, calendar: &Calendar) -> AlertView {
    AlertView {
        id: alert.id.clone(),
        contract: alert.contract.clone(),
        external_id: alert.external_id.clone(),
        level: alert.level,
        level_name: alert.level.name(),
        title: alert.title.clone(),
        detected_at: alert.detected_at,
        received_at: alert.received_at,
        state: state_name(reading),
        due_at: reading.and_then(|r| r.due),
        due_local: reading.and_then(|r| r.due).map(|d| calendar.local_text(d)),
        time_zone: calendar.zone().to_owned(),
        remaining_minutes: reading.map(|r| r.remaining.whole_minutes()),
        counted_minutes: reading.map(|r| r.counted.whole_minutes()),
        acknowledged_at: alert.acknowledged_at,
        breach_recorded_at: alert.breach_recorded_at,
        journal: alert.journal.clone(),
    }
}

/// The due instant the breach job watches: set while the clock runs, and kept on a breach
/// (the job skips it once the breach is recorded); none while paused in time, or met.
fn watched_due(reading: Option<&Reading>) -> Option<OffsetDateTime> {
    reading
        .filter(|r| matches!(r.state, TimerState::Running | TimerState::Breached))
        .and_then(|r| r.due)
}

impl Sla<'_> {
    fn read(
        &self,
        contract: &Disclosed,
        alert: &Alert,
        now: OffsetDateTime,
    ) -> Result<(Option<Reading>, &Calendar), SlaError> {
        let calendar = self.calendar(&contract.contract().calendar)?;
        Ok((alert.reading(contract.contract(), calendar, now)?, calendar))
    }

    /// The alert and its contract, if the caller may see them.
    async fn disclosed_alert(
        &self,
        caller: &RegistryRecord,
        id: &str,
    ) -> Result<(StoredAlert, Disclosed), SlaError> {
        let stored = self.store.alert(id).await?.ok_or(SlaError::NotFound)?;
        let contract = self.disclosed(caller, &stored.alert.contract).await?;
        Ok((stored, contract))
    }

    /// Records an alert the SOC detected; returns it and whether it is new (a post with an
    /// external id already used for this same alert returns the first one).
    pub async fn post_alert(
        &self,
        caller: &Provider,
        request: NewAlert,
        now: OffsetDateTime,
    ) -> Result<(AlertView, bool), SlaError> {
        let contract = self.disclosed(caller, &request.contract).await?;
        if !is_soc_of(caller, &contract) {
            return Err(SlaError::NotFound);
        }
        let calendar = self.calendar(&contract.contract().calendar)?;
        let alert = request.clone().into_alert(
            uuid::Uuid::new_v4().to_string(),
            contract.contract(),
            calendar,
            self.policy.max_detection_lag,
            now,
        )?;
        let reading = alert.reading(contract.contract(), calendar, now)?;
        let stored = StoredAlert {
            due_at: watched_due(reading.as_ref()),
            alert,
            version: 1,
        };
        let audit = AuditRecord::by(caller, "soc.alert.create", now)
            .objects([stored.alert.id.clone(), stored.alert.contract.clone()]);
        match self.store.insert_alert(&stored, &audit).await? {
            None => Ok((view(&stored.alert, reading.as_ref(), calendar), true)),
            Some(existing) if request.same_as(&existing.alert) => {
                let (reading, calendar) = self.read(&contract, &existing.alert, now)?;
                Ok((view(&existing.alert, reading.as_ref(), calendar), false))
            }
            Some(_) => Err(SlaError::NotNow(
                "this external id is used by another alert of this SOC".to_owned(),
            )),
        }
    }

    pub async fn alert(
        &self,
        caller: &RegistryRecord,
        id: &str,
        now: OffsetDateTime,
    ) -> Result<AlertView, SlaError> {
        let (stored, contract) = self.disclosed_alert(caller, id).await?;
        let (reading, calendar) = self.read(&contract, &stored.alert, now)?;
        Ok(view(&stored.alert, reading.as_ref(), calendar))
    }

    /// A contract's alerts detected in [from, to) (local dates of its calendar).
    pub async fn alerts(
        &self,
        caller: &RegistryRecord,
        contract: &str,
        from: time::Date,
        to: time::Date,
        now: OffsetDateTime,
    ) -> Result<Vec<AlertView>, SlaError> {
        if to <= from || (to - from).whole_days() > super::MAX_PERIOD_DAYS {
            return Err(SlaError::Invalid(format!(
                "the period must end after it starts and last at most {} days",
                super::MAX_PERIOD_DAYS
            )));
        }
        let contract = self.disclosed(caller, contract).await?;
        let calendar = self.calendar(&contract.contract().calendar)?;
        let alerts =
            super::period_alerts(self.store, &contract.contract().id, calendar, (from, to)).await?;
        alerts
            .iter()
            .map(|s| {
                let reading = s.alert.reading(contract.contract(), calendar, now)?;
                Ok(view(&s.alert, reading.as_ref(), calendar))
            })
            .collect()
    }

    /// Acknowledges (takes into account), pauses or resumes an alert's clock. Only the
    /// contract's SOC provider acts; an acknowledgement after the due time records the breach
    /// at once if the job has not yet.
    pub async fn act(
        &self,
        caller: &RegistryRecord,
        id: &str,
        verb: AlertVerb,
        reason: Option<String>,
        now: OffsetDateTime,
    ) -> Result<AlertView, SlaError> {
        // A change that raced another (the breach job, a second click) is tried again on a
        // fresh read: the loser's action still applies, on the winner's state.
        for _ in 0..3 {
            let (mut stored, contract) = self.disclosed_alert(caller, id).await?;
            if !is_soc_of(caller, &contract) {
                return Err(match caller.principal.kind {
                    PrincipalKind::Analyst => SlaError::NotTheSoc,
                    _ => SlaError::NotFound,
                });
            }
            let read_version = stored.version;
            stored.alert.act(
                verb,
                caller.principal.id.as_str().to_owned(),
                reason.clone(),
                now,
            )?;
            let (reading, calendar) = self.read(&contract, &stored.alert, now)?;
            let breach = self.breach_to_record(&mut stored.alert, reading.as_ref(), calendar, now);
            stored.due_at = watched_due(reading.as_ref());
            // The SOC's words may name the beneficiary: the log pins them by their hash, the
            // alert's journal keeps them.
            let audit = AuditRecord::by(caller, &format!("soc.alert.{}", verb.as_str()), now)
                .objects([stored.alert.id.clone()])
                .reason(reason.as_deref().map(text_digest).unwrap_or_default());
            match self
                .store
                .update_alert(&stored, read_version, breach.as_ref(), &audit)
                .await
            {
                Ok(()) => return Ok(view(&stored.alert, reading.as_ref(), calendar)),
                Err(StoreError::Conflict(ALERT_CHANGED)) => continue,
                Err(e) => return Err(e.into()),
            }
        }
        Err(SlaError::NotNow(
            "the alert keeps changing: try again".to_owned(),
        ))
    }

    /// If the reading is a breach not yet recorded: marks it recorded now and returns the
    /// notice to the SOC provider.
    fn breach_to_record(
        &self,
        alert: &mut Alert,
        reading: Option<&Reading>,
        calendar: &Calendar,
        now: OffsetDateTime,
    ) -> Option<Notice> {
        let reading = reading.filter(|r| r.state == TimerState::Breached)?;
        if alert.breach_recorded_at.is_some() {
            return None;
        }
        alert.breach_recorded_at = Some(now);
        let due = reading.due.unwrap_or(now);
        Some(Notice {
            organisation: alert.provider.clone(),
            kind: NoticeKind::SlaBreach,
            subject: alert.id.clone(),
            due: calendar.local_date(due).unwrap_or(due.date()),
            created_at: now,
        })
    }

    /// One round of the breach job: every alert whose clock ran past its due time gets its
    /// breach recorded (a notice to the SOC provider, seen by the analysts, and an audit
    /// entry). Several instances may run it: the version check lets one record each breach.
    pub async fn record_breaches(&self, now: OffsetDateTime) -> Result<u64, SlaError> {
        let mut recorded = 0;
        for stored in self.store.alerts_past_due(now, BREACH_BATCH).await? {
            let id = stored.alert.id.clone();
            // One alert that cannot be read (its contract's calendar removed from
            // policies/calendars/, say) must not stop the breaches of every other.
            match self.record_breach(stored, now).await {
                Ok(true) => recorded += 1,
                Ok(false) => {}
                Err(e) => {
                    tracing::error!(alert = %id, error = %e, "SLA breach not recorded");
                }
            }
        }
        Ok(recorded)
    }

    async fn record_breach(
        &self,
        mut stored: StoredAlert,
        now: OffsetDateTime,
    ) -> Result<bool, SlaError> {
        let Some(contract) = self.store.contract(&stored.alert.contract).await? else {
            return Ok(false);
        };
        let calendar = self.calendar(&contract.calendar)?;
        let reading = stored.alert.reading(&contract, calendar, now)?;
        let read_version = stored.version;
        let breach = self.breach_to_record(&mut stored.alert, reading.as_ref(), calendar, now);
        stored.due_at = watched_due(reading.as_ref());
        let audit = match &breach {
            Some(_) => AuditRecord::hub("soc.alert.breach", now)
                .objects([stored.alert.id.clone(), stored.alert.contract.clone()])
                .reason(format!(
                    "level {} not taken into account by {}",
                    stored.alert.level.number(),
                    reading
                        .and_then(|r| r.due)
                        .map_or_else(String::new, |d| calendar.local_text(d))
                )),
            // Not a breach after all (the row's due time was stale): the row is
            // corrected, which the log records as the job's repair.
            None => AuditRecord::hub("soc.alert.due", now).objects([stored.alert.id.clone()]),
        };
        match self
            .store
            .update_alert(&stored, read_version, breach.as_ref(), &audit)
            .await
        {
            Ok(()) => Ok(breach.is_some()),
            // Acknowledged or recorded by someone else meanwhile: the next round sees it.
            Err(StoreError::Conflict(ALERT_CHANGED)) => Ok(false),
            Err(e) => Err(e.into()),
        }
    }
}
