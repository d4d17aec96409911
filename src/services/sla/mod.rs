//! SOC service levels (CP SOC art. 4, 5 and Annex A): the contracts the CSIRT records between
//! a SOC provider and a beneficiary, the alerts the SOC reports and their take-in clocks, the
//! breach job, the compliance reports and the contract rules. A contract, and everything
//! under it, exists for the CSIRT's analysts and the contract's SOC provider only; to anyone
//! else it answers exactly as an id that never existed.

mod alerts;
pub mod records;
mod report;

pub use alerts::AlertView;
pub use records::{CommitteeView, CreditsView, ReviewView, TermView};
pub use report::{Rendered, ReportFormat};

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;

use serde::Serialize;
use time::{Date, OffsetDateTime};

use crate::domain::access::{Analyst, RegistryRecord};
use crate::domain::audit::record::AuditRecord;
use crate::domain::principal::{OrganisationId, OrganisationKind};
use crate::domain::sla::access::{Disclosed, disclose_contract};
use crate::domain::sla::calendar::{Calendar, CalendarError};
use crate::domain::sla::contract::{ContractError, NewContract};
use crate::domain::sla::levels::Level;
use crate::domain::sla::policy::{SlaPolicy, valid_calendar_name};
use crate::domain::sla::rules::RuleError;
use crate::store::sla::{ALERT_CHANGED, EXTERNAL_ID_TAKEN};
use crate::store::{Store, StoreError};

use crate::domain::registry::file::iso_date;

/// Longest period an alert list or a report covers: a few years is what a review looks at,
/// and it bounds the work of one request.
pub const MAX_PERIOD_DAYS: i64 = 5 * 366;
/// Most alerts one list or report reads: more is a period to split.
pub const MAX_ALERTS: usize = 50_000;

#[derive(Debug, thiserror::Error)]
pub enum SlaError {
    /// Missing, or something the caller may not see: the answer is the same.
    #[error("not found")]
    NotFound,
    #[error("only the CSIRT's analysts may do this")]
    NotAnalyst,
    #[error("only the contract's SOC provider may do this")]
    NotTheSoc,
    #[error("{0}")]
    Invalid(String),
    /// The state does not allow this now (a stale read, an id used for another alert).
    #[error("{0}")]
    NotNow(String),
    /// Rendering the hub's own values failed (a bug: nothing a caller sent causes it).
    #[error("rendering: {0}")]
    Render(String),
    #[error(transparent)]
    Store(StoreError),
}

impl From<StoreError> for SlaError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::Conflict(ALERT_CHANGED) => {
                SlaError::NotNow("the alert changed meanwhile: read it again".to_owned())
            }
            StoreError::Conflict(EXTERNAL_ID_TAKEN) => {
                SlaError::NotNow("this external id is used by another alert of this SOC".to_owned())
            }
            e => SlaError::Store(e),
        }
    }
}

impl From<ContractError> for SlaError {
    fn from(e: ContractError) -> Self {
        match e {
            ContractError::Timer(t) => SlaError::NotNow(t.to_string()),
            other => SlaError::Invalid(other.to_string()),
        }
    }
}

impl From<CalendarError> for SlaError {
    fn from(e: CalendarError) -> Self {
        SlaError::Invalid(e.to_string())
    }
}

impl From<RuleError> for SlaError {
    fn from(e: RuleError) -> Self {
        SlaError::Invalid(e.to_string())
    }
}

/// The business calendars of `policies/calendars/`, by file stem.
#[derive(Debug, Clone, Default)]
pub struct Calendars(BTreeMap<String, Arc<Calendar>>);

impl Calendars {
    /// Reads every `NAME.toml` of `dir`; a file with a mistake fails the whole load with its
    /// one-line reason (the hub does not start on half its calendars).
    pub fn load(dir: &Path) -> Result<Self, String> {
        let mut out = BTreeMap::new();
        let entries = std::fs::read_dir(dir)
            .map_err(|e| format!("calendars: cannot read {}: {e}", dir.display()))?;
        for entry in entries {
            let path = entry
                .map_err(|e| format!("calendars: {}: {e}", dir.display()))?
                .path();
            if path.extension().and_then(|e| e.to_str()) != Some("toml") {
                continue;
            }
            let Some(name) = path.file_stem().and_then(|s| s.to_str()) else {
                continue;
            };
            if !valid_calendar_name(name) {
                return Err(format!(
                    "calendars: {} is not a calendar name (letters, digits, - and _)",
                    path.display()
                ));
            }
            let text = std::fs::read_to_string(&path)
                .map_err(|e| format!("calendars: {}: {e}", path.display()))?;
            let calendar = Calendar::parse(name, &text).map_err(|e| e.to_string())?;
            out.insert(name.to_owned(), Arc::new(calendar));
        }
        Ok(Self(out))
    }

    pub fn from_calendars(calendars: impl IntoIterator<Item = Calendar>) -> Self {
        Self(
            calendars
                .into_iter()
                .map(|c| (c.name().to_owned(), Arc::new(c)))
                .collect(),
        )
    }

    pub fn get(&self, name: &str) -> Option<&Arc<Calendar>> {
        self.0.get(name)
    }

    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.0.keys().map(String::as_str)
    }
}

/// A level's delay as the API shows it.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct DelayView {
    #[schema(value_type = u8)]
    pub level: Level,
    pub name: &'static str,
    pub minutes: i64,
    /// `business-hours` or `24x7`: the clock it is counted on under this contract.
    pub counted_on: &'static str,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ContractView {
    pub id: String,
    /// The SOC provider's organisation id.
    pub provider: String,
    pub client: String,
    pub calendar: String,
    pub time_zone: String,
    #[schema(value_type = String, example = "business-hours")]
    pub coverage: &'static str,
    #[serde(with = "iso_date")]
    #[schema(value_type = String, format = Date)]
    pub production_date: Date,
    #[serde(with = "iso_date")]
    #[schema(value_type = String, format = Date)]
    pub subscription_start: Date,
    pub subscription_months: u32,
    pub subscribed_assets: u64,
    pub delays: Vec<DelayView>,
    #[serde(with = "time::serde::rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    pub created_at: OffsetDateTime,
}

fn contract_view(d: &Disclosed, calendar: &Calendar) -> ContractView {
    let c = d.contract();
    ContractView {
        id: c.id.clone(),
        provider: c.provider.as_str().to_owned(),
        client: c.client.clone(),
        calendar: c.calendar.clone(),
        time_zone: calendar.zone().to_owned(),
        coverage: c.coverage.as_str(),
        production_date: c.production_date,
        subscription_start: c.subscription_start,
        subscription_months: c.subscription_months,
        subscribed_assets: c.subscribed_assets,
        delays: Level::ALL
            .iter()
            .rev()
            .map(|&level| DelayView {
                level,
                name: level.name(),
                minutes: c.delays.of(level).whole_minutes(),
                counted_on: match crate::domain::sla::levels::counting(level, c.coverage, calendar)
                {
                    crate::domain::sla::timer::Counting::Continuous => "24x7",
                    crate::domain::sla::timer::Counting::Business(_) => "business-hours",
                },
            })
            .collect(),
        created_at: c.created_at,
    }
}

/// The SOC service-level use-cases.
pub struct Sla<'a> {
    pub store: &'a dyn Store,
    pub policy: &'a SlaPolicy,
    pub calendars: &'a Calendars,
}

impl Sla<'_> {
    fn calendar(&self, name: &str) -> Result<&Arc<Calendar>, SlaError> {
        // A contract names a calendar that was loaded when it was recorded; a calendar file
        // removed since is the operator's mistake, reported as such rather than as a 404.
        self.calendars.get(name).ok_or_else(|| {
            SlaError::Store(StoreError::Corrupt(format!(
                "calendar {name} of a contract is not in policies/calendars/"
            )))
        })
    }

    /// The contract, if the caller may see it; `NotFound` otherwise, whether it exists or not.
    async fn disclosed(&self, caller: &RegistryRecord, id: &str) -> Result<Disclosed, SlaError> {
        let contract = self.store.contract(id).await?.ok_or(SlaError::NotFound)?;
        disclose_contract(caller, contract).ok_or(SlaError::NotFound)
    }

    /// Records a contract between a SOC provider and a beneficiary.
    pub async fn create_contract(
        &self,
        analyst: &Analyst,
        request: NewContract,
        now: OffsetDateTime,
    ) -> Result<ContractView, SlaError> {
        let provider = OrganisationId::from_stored(request.provider.clone());
        let org = self.store.organisation(&provider).await?;
        if !org.is_some_and(|o| o.kind == OrganisationKind::Provider) {
            return Err(SlaError::Invalid(format!(
                "provider {:?} is not a provider organisation of the registry",
                request.provider
            )));
        }
        let id = uuid::Uuid::new_v4().to_string();
        let contract = request.into_contract(
            id,
            provider,
            &self.policy.default_calendar,
            self.policy.delays,
            analyst.principal.id.as_str().to_owned(),
            now,
        )?;
        let calendar = self.calendars.get(&contract.calendar).ok_or_else(|| {
            SlaError::Invalid(format!(
                "calendar {:?} is not one of policies/calendars/ ({})",
                contract.calendar,
                self.calendars.names().collect::<Vec<_>>().join(", ")
            ))
        })?;
        let audit = AuditRecord::by(analyst, "soc.contract.create", now)
            .objects([contract.id.clone(), contract.provider.as_str().to_owned()]);
        self.store.insert_contract(&contract, &audit).await?;
        let disclosed = disclose_contract(analyst, contract).ok_or(SlaError::NotFound)?;
        Ok(contract_view(&disclosed, calendar))
    }

    /// The contracts the caller may see: all for the analysts, its own for a SOC provider.
    pub async fn contracts(&self, caller: &RegistryRecord) -> Result<Vec<ContractView>, SlaError> {
        use crate::domain::principal::PrincipalKind;
        let contracts = match caller.principal.kind {
            PrincipalKind::Analyst => self.store.contracts(None).await?,
            PrincipalKind::Provider => self.store.contracts(Some(&caller.organisation.id)).await?,
            PrincipalKind::Peer => Vec::new(),
        };
        let mut out = Vec::new();
        for c in contracts {
            if let Some(d) = disclose_contract(caller, c) {
                let calendar = self.calendar(&d.contract().calendar)?;
                out.push(contract_view(&d, calendar));
            }
        }
        Ok(out)
    }

    pub async fn contract(
        &self,
        caller: &RegistryRecord,
        id: &str,
    ) -> Result<ContractView, SlaError> {
        let d = self.disclosed(caller, id).await?;
        let calendar = self.calendar(&d.contract().calendar)?;
        Ok(contract_view(&d, calendar))
    }
}

/// A contract's alerts detected within the local dates [from, to), refused beyond
/// `MAX_ALERTS`.
async fn period_alerts(
    store: &dyn Store,
    contract: &str,
    calendar: &Calendar,
    (from, to): (Date, Date),
) -> Result<Vec<crate::store::sla::StoredAlert>, SlaError> {
    let limit = i64::try_from(MAX_ALERTS)
        .unwrap_or(i64::MAX)
        .saturating_add(1);
    let alerts = store
        .alerts(
            contract,
            day_start(calendar, from)?,
            day_start(calendar, to)?,
            limit,
        )
        .await?;
    if alerts.len() > MAX_ALERTS {
        return Err(SlaError::Invalid(format!(
            "more than {MAX_ALERTS} alerts in the period: ask for a shorter one"
        )));
    }
    Ok(alerts)
}

/// A local date of the calendar as the UTC instant its day starts.
fn day_start(calendar: &Calendar, date: Date) -> Result<OffsetDateTime, SlaError> {
    calendar
        .parse_local(&format!("{date}T00:00"))
        .or_else(|_| calendar.parse_local(&format!("{date}T01:00")))
        .map_err(SlaError::from)
}
