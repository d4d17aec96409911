//! Reports the providers owe and the CSIRT's year (Convention art. 3, 4, 12): the REX of each
//! mission, its reminders and overdue state, the annual summaries, and the statistics of the
//! annual meeting. A REX or a summary exists, to anyone but the CSIRT and the provider who
//! owes it, exactly as much as a case that never existed.

mod deadlines;
mod rex;
mod statistics;
mod summaries;

pub use deadlines::{NotificationView, OverdueItem, OverdueKind, overdue_rex_counts};
pub use rex::{RexVersionView, RexView};
pub use statistics::{StatisticsFormat, annual, render};
pub use summaries::SummaryView;

use time::Month;

use crate::domain::access::RegistryRecord;
use crate::domain::anonymise::{AnonymisationPolicy, PseudonymKey, Refused};
use crate::domain::cases::CaseFile;
use crate::domain::cases::access::{Disclosed, disclose_case};
use crate::domain::principal::PrincipalKind;
use crate::domain::reports::rex::RexError;
use crate::domain::reports::summary::SummaryError;
use crate::services::ingest::{Ingest, IngestError};
use crate::services::registry::RegistryError;
use crate::store::reports::{REX_VERSION_TAKEN, SUMMARY_SUBMITTED};
use crate::store::{Store, StoreError};

#[derive(Debug, thiserror::Error)]
pub enum ReportError {
    /// Missing, or something the caller may not see: the answer is the same.
    #[error("not found")]
    NotFound,
    #[error("only the CSIRT's analysts may do this")]
    NotAnalyst,
    #[error("{0}")]
    Invalid(String),
    /// The anonymiser refuses the report (it names where and which rule, never the value).
    #[error("{0}")]
    Refused(String),
    #[error("the signature does not verify with the provider's registered key: {0}")]
    BadSignature(String),
    /// The state does not allow this now.
    #[error("{0}")]
    NotNow(String),
    /// Serialising or rendering the hub's own values failed (a bug: nothing a caller sent
    /// causes it).
    #[error("rendering: {0}")]
    Render(String),
    #[error(transparent)]
    Store(StoreError),
}

impl From<StoreError> for ReportError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::Conflict(REX_VERSION_TAKEN) => ReportError::NotNow(
                "another version of this REX came meanwhile: read it again".into(),
            ),
            StoreError::Conflict(SUMMARY_SUBMITTED) => {
                ReportError::NotNow(SUMMARY_SUBMITTED.into())
            }
            e => ReportError::Store(e),
        }
    }
}

impl From<RexError> for ReportError {
    fn from(e: RexError) -> Self {
        ReportError::Invalid(e.to_string())
    }
}

impl From<SummaryError> for ReportError {
    fn from(e: SummaryError) -> Self {
        ReportError::Invalid(e.to_string())
    }
}

impl From<Refused> for ReportError {
    fn from(e: Refused) -> Self {
        ReportError::Refused(e.to_string())
    }
}

impl From<RegistryError> for ReportError {
    fn from(e: RegistryError) -> Self {
        match e {
            RegistryError::Store(s) => ReportError::Store(s),
            RegistryError::NotAnalyst => ReportError::NotAnalyst,
            other => ReportError::NotNow(other.to_string()),
        }
    }
}

impl From<IngestError> for ReportError {
    fn from(e: IngestError) -> Self {
        match e {
            IngestError::Store(s) => ReportError::Store(s),
            other => ReportError::Invalid(format!("bundle: {other}")),
        }
    }
}

/// What the hub's configuration sets for reports (`[reports]`, `[statistics]`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReportSettings {
    /// The annual summary of year Y is due on this day of Y + 1.
    pub summary_due: (Month, u8),
    /// Smallest group of beneficiaries a statistic may show.
    pub min_group: u32,
}

impl Default for ReportSettings {
    fn default() -> Self {
        Self {
            summary_due: (Month::January, 31),
            min_group: 3,
        }
    }
}

pub struct Reports<'a> {
    pub store: &'a dyn Store,
    pub settings: &'a ReportSettings,
    pub anonymisation: &'a AnonymisationPolicy,
    pub pseudonyms: &'a PseudonymKey,
    /// The STIX part of a REX goes to the triage queue through the submissions' path.
    pub ingest: Ingest<'a>,
}

impl Reports<'_> {
    /// The case, if the caller may see it; `NotFound` otherwise, whether it exists or not.
    async fn case(
        &self,
        caller: &RegistryRecord,
        id: &str,
    ) -> Result<Disclosed<CaseFile>, ReportError> {
        let file = self
            .store
            .case_file(id)
            .await?
            .ok_or(ReportError::NotFound)?;
        disclose_case(caller, file).ok_or(ReportError::NotFound)
    }

    /// The case whose REX `caller` may read: an analyst, or the provider that handled it.
    async fn rex_case(&self, caller: &RegistryRecord, id: &str) -> Result<CaseFile, ReportError> {
        let file = self.case(caller, id).await?.into_inner();
        if caller.principal.kind == PrincipalKind::Provider && !handled_by(&file, caller) {
            return Err(ReportError::NotFound);
        }
        Ok(file)
    }
}

/// Whether `caller`'s organisation delivered the case's service (the closure names it).
fn handled_by(file: &CaseFile, caller: &RegistryRecord) -> bool {
    file.closure
        .as_ref()
        .and_then(|c| c.provider.as_deref())
        .is_some_and(|p| p == caller.organisation.id.as_str())
}
