//! SOC contracts and their alerts, as stored: what an analyst sets when the contract is
//! signed, what the SOC provider reports, and the checks on both. Reading an alert's clock is
//! `Alert::reading`, on the contract's calendar.

use serde::{Deserialize, Serialize};
use time::{Date, Duration, OffsetDateTime};

use super::calendar::{Calendar, CalendarError};
use super::levels::{Coverage, Delays, Level, counting};
use super::policy::valid_calendar_name;
use super::timer::{Reading, Timer, TimerError};
use crate::domain::principal::OrganisationId;

use crate::domain::registry::file::iso_date;

/// Longest free text (client name, reasons, titles), in bytes.
pub const MAX_TEXT: usize = 2000;
/// Longest external id a SOC may use for its alerts.
pub const MAX_EXTERNAL_ID: usize = 200;
/// How far ahead of the hub's clock a detection time may be (clocks of SOC tools drift).
pub const DETECTION_SKEW: Duration = Duration::minutes(5);
/// Most actions (acknowledgement, pauses, resumes) one alert keeps: its journal is read with
/// every look at its clock.
pub const MAX_ACTIONS: usize = 100;

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum ContractError {
    #[error("{0}")]
    Invalid(String),
    #[error(transparent)]
    Timer(#[from] TimerError),
    #[error(transparent)]
    Calendar(#[from] CalendarError),
}

fn text(field: &str, value: &str, max: usize) -> Result<String, ContractError> {
    let v = value.trim();
    if v.is_empty() || v.len() > max || v.chars().any(char::is_control) {
        return Err(ContractError::Invalid(format!(
            "{field} must be 1 to {max} bytes of text without control characters"
        )));
    }
    Ok(v.to_owned())
}

/// Per-level delays a contract may set (minutes, or `1h30`): those left out are the policy's.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DelayOverrides {
    pub critical: Option<String>,
    pub high: Option<String>,
    pub medium: Option<String>,
    pub low: Option<String>,
}

/// What an analyst sends to record a SOC contract.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewContract {
    /// The SOC provider (its organisation id in the registry).
    pub provider: String,
    /// The beneficiary the SOC watches.
    pub client: String,
    /// A calendar of `policies/calendars/` [default: `default_calendar` of `sla.toml`].
    pub calendar: Option<String>,
    /// `business-hours` or `24x7`.
    #[schema(value_type = String, example = "business-hours")]
    pub coverage: Coverage,
    /// The production date agreed after the build phase: service levels apply from that
    /// day (local time of the calendar).
    #[serde(with = "iso_date")]
    #[schema(value_type = String, format = Date)]
    pub production_date: Date,
    #[serde(with = "iso_date")]
    #[schema(value_type = String, format = Date)]
    pub subscription_start: Date,
    /// Length of the subscription (and of each tacit renewal), in months.
    pub subscription_months: u32,
    pub subscribed_assets: u64,
    #[serde(default)]
    pub delays: DelayOverrides,
}

/// A SOC contract as stored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Contract {
    pub id: String,
    pub provider: OrganisationId,
    pub client: String,
    pub calendar: String,
    pub coverage: Coverage,
    #[serde(with = "iso_date")]
    pub production_date: Date,
    #[serde(with = "iso_date")]
    pub subscription_start: Date,
    pub subscription_months: u32,
    pub subscribed_assets: u64,
    pub delays: Delays,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
    pub created_by: String,
}

/// Most assets a contract may count: far above any SOC, and exact in every JSON reader.
pub const MAX_ASSETS: u64 = 1_000_000_000;

/// Longest subscription a contract may state: fifteen years is a typo of a month count.
const MAX_MONTHS: u32 = 180;

impl NewContract {
    /// The contract, checked, with the policy's delays where it sets none.
    pub fn into_contract(
        self,
        id: String,
        provider: OrganisationId,
        default_calendar: &str,
        defaults: Delays,
        created_by: String,
        at: OffsetDateTime,
    ) -> Result<Contract, ContractError> {
        let invalid = |m: &str| Err(ContractError::Invalid(m.to_owned()));
        let calendar = self.calendar.unwrap_or_else(|| default_calendar.to_owned());
        if !valid_calendar_name(&calendar) {
            return invalid("calendar must be the name of a file of policies/calendars/");
        }
        if self.subscription_months == 0 || self.subscription_months > MAX_MONTHS {
            return invalid("subscription_months must be 1 to 180");
        }
        if self.subscribed_assets > MAX_ASSETS {
            return invalid("subscribed_assets must be at most 1000000000");
        }
        if self.production_date < self.subscription_start {
            return invalid("production_date is before subscription_start");
        }
        let set = |o: &Option<String>, d: u32, level: &str| -> Result<u32, ContractError> {
            match o {
                None => Ok(d),
                Some(t) => super::levels::parse_delay(t)
                    .map_err(|e| ContractError::Invalid(format!("delays.{level}: {e}"))),
            }
        };
        let delays = Delays {
            critical: set(&self.delays.critical, defaults.critical, "critical")?,
            high: set(&self.delays.high, defaults.high, "high")?,
            medium: set(&self.delays.medium, defaults.medium, "medium")?,
            low: set(&self.delays.low, defaults.low, "low")?,
        };
        delays.check().map_err(ContractError::Invalid)?;
        Ok(Contract {
            id,
            provider,
            client: text("client", &self.client, MAX_TEXT)?,
            calendar,
            coverage: self.coverage,
            production_date: self.production_date,
            subscription_start: self.subscription_start,
            subscription_months: self.subscription_months,
            subscribed_assets: self.subscribed_assets,
            delays,
            created_at: at,
            created_by,
        })
    }
}

/// What the SOC provider posts for an alert.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewAlert {
    pub contract: String,
    /// The SOC's own id of the alert: posting it again returns the alert already recorded.
    pub external_id: String,
    /// 1 (low) to 4 (critical).
    #[schema(value_type = u8, minimum = 1, maximum = 4)]
    pub level: Level,
    /// When the SOC detected it (RFC 3339); the take-in delay runs from here.
    #[serde(with = "time::serde::rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    pub detected_at: OffsetDateTime,
    pub title: Option<String>,
}

/// One action on an alert's clock, kept as its journal.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct AlertAction {
    #[schema(value_type = String, example = "pause")]
    pub action: AlertVerb,
    #[serde(with = "time::serde::rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    pub at: OffsetDateTime,
    pub by: String,
    pub reason: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AlertVerb {
    Ack,
    Pause,
    Resume,
}

impl AlertVerb {
    pub fn as_str(self) -> &'static str {
        match self {
            AlertVerb::Ack => "ack",
            AlertVerb::Pause => "pause",
            AlertVerb::Resume => "resume",
        }
    }
}

/// An alert as stored. `timer` is `None` for an alert detected before the contract's
/// production date: it carries no service level.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Alert {
    pub id: String,
    pub contract: String,
    pub provider: OrganisationId,
    pub external_id: String,
    pub level: Level,
    #[serde(with = "time::serde::rfc3339")]
    pub detected_at: OffsetDateTime,
    pub title: Option<String>,
    #[serde(with = "time::serde::rfc3339")]
    pub received_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339::option")]
    pub acknowledged_at: Option<OffsetDateTime>,
    pub timer: Option<Timer>,
    pub journal: Vec<AlertAction>,
    #[serde(with = "time::serde::rfc3339::option")]
    pub breach_recorded_at: Option<OffsetDateTime>,
}

impl NewAlert {
    /// Whether a post with the same external id is the same alert (a retry) rather than a
    /// different one reusing the id.
    pub fn same_as(&self, a: &Alert) -> bool {
        self.contract == a.contract
            && self.level == a.level
            && self.detected_at == a.detected_at
            && self.title.as_deref().map(str::trim) == a.title.as_deref()
    }

    /// The alert as received `now`. A detection older than `max_lag` is refused: the SOC,
    /// whose delays are measured, does not get to start its own clock in the past (or before
    /// the production date, where no service level applies).
    pub fn into_alert(
        self,
        id: String,
        contract: &Contract,
        calendar: &Calendar,
        max_lag: Duration,
        now: OffsetDateTime,
    ) -> Result<Alert, ContractError> {
        let external_id = text("external_id", &self.external_id, MAX_EXTERNAL_ID)?;
        let title = self
            .title
            .as_deref()
            .map(|t| text("title", t, MAX_TEXT))
            .transpose()?;
        if self.detected_at > now + DETECTION_SKEW {
            return Err(ContractError::Invalid(
                "detected_at is in the future".to_owned(),
            ));
        }
        if self.detected_at < now - max_lag {
            return Err(ContractError::Invalid(format!(
                "detected_at is more than {} h before the alert reached the hub: alerts are \
                 reported as they are detected (sla.toml max_detection_lag_hours)",
                max_lag.whole_hours()
            )));
        }
        let in_production = calendar
            .local_date(self.detected_at)
            .is_some_and(|d| d >= contract.production_date);
        // A detection stamped a little ahead of the hub's clock starts the clock now, so that
        // it can be acknowledged at once.
        let timer = in_production
            .then(|| Timer::start(self.detected_at.min(now), contract.delays.of(self.level)));
        Ok(Alert {
            id,
            contract: contract.id.clone(),
            provider: contract.provider.clone(),
            external_id,
            level: self.level,
            detected_at: self.detected_at,
            title,
            received_at: now,
            acknowledged_at: None,
            timer,
            journal: Vec::new(),
            breach_recorded_at: None,
        })
    }
}

impl Alert {
    /// Applies an action: ack stops the clock, pause and resume need a reason.
    pub fn act(
        &mut self,
        verb: AlertVerb,
        by: String,
        reason: Option<String>,
        at: OffsetDateTime,
    ) -> Result<(), ContractError> {
        let reason = reason
            .as_deref()
            .map(|r| text("reason", r, MAX_TEXT))
            .transpose()?;
        if matches!(verb, AlertVerb::Pause | AlertVerb::Resume) && reason.is_none() {
            return Err(ContractError::Invalid(format!(
                "a {} needs a reason",
                verb.as_str()
            )));
        }
        if self.acknowledged_at.is_some() {
            return Err(ContractError::Invalid(
                "the alert was already taken into account".to_owned(),
            ));
        }
        if self.journal.len() >= MAX_ACTIONS {
            return Err(ContractError::Invalid(format!(
                "an alert keeps at most {MAX_ACTIONS} actions"
            )));
        }
        match (&mut self.timer, verb) {
            (Some(t), AlertVerb::Ack) => t.stop(at)?,
            (Some(t), AlertVerb::Pause) => t.pause(at)?,
            (Some(t), AlertVerb::Resume) => t.resume(at)?,
            (None, AlertVerb::Ack) => {}
            (None, _) => {
                return Err(ContractError::Invalid(
                    "the alert carries no service level (detected before the production date): \
                     there is no clock to pause"
                        .to_owned(),
                ));
            }
        }
        if verb == AlertVerb::Ack {
            self.acknowledged_at = Some(at);
        }
        self.journal.push(AlertAction {
            action: verb,
            at,
            by,
            reason,
        });
        Ok(())
    }

    /// The clock at `now`, on the contract's calendar and coverage; `None` without a service
    /// level.
    pub fn reading(
        &self,
        contract: &Contract,
        calendar: &Calendar,
        now: OffsetDateTime,
    ) -> Result<Option<Reading>, CalendarError> {
        self.timer
            .as_ref()
            .map(|t| t.read(counting(self.level, contract.coverage, calendar), now))
            .transpose()
    }
}
