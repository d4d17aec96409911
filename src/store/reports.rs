//! What the providers owe: REX versions (append only), the notices the reports' job records
//! (once per report and kind, whichever instance gets there first), annual summaries (a
//! draft the provider edits, frozen once submitted). Every write appends its audit record in
//! the same transaction.

use serde::{Deserialize, Serialize};
use time::{Date, OffsetDateTime};

use crate::domain::audit::record::AuditRecord;
use crate::domain::markings::{Pap, Tlp};
use crate::domain::principal::OrganisationId;
use crate::domain::reports::deadlines::NoticeKind;
use crate::domain::reports::rex::RexFields;
use crate::domain::reports::summary::{ProviderPart, SummaryStatus};
use crate::domain::triage::ReportedChange;

use super::StoreResult;

/// The `Conflict` of a REX version someone else stored first.
pub const REX_VERSION_TAKEN: &str = "this REX version exists already";
/// The `Conflict` of a write to a submitted summary.
pub const SUMMARY_SUBMITTED: &str = "the annual summary was submitted already";

/// The provider's signature over the exact body it posted, kept so that anyone holding the
/// provider's key can check it offline.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SignedBody {
    /// The request body, byte for byte (it names the victim: the CSIRT and the provider only).
    pub body: String,
    /// Armored detached signature.
    pub signature: String,
    pub fingerprint: String,
    #[serde(with = "time::serde::rfc3339")]
    pub signed_at: OffsetDateTime,
}

/// One version of a case's REX, anonymised.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StoredRex {
    pub case_id: String,
    /// 1 for the first, then one per amendment.
    pub version: u32,
    pub provider: OrganisationId,
    pub submitted_by: String,
    #[serde(with = "time::serde::rfc3339")]
    pub submitted_at: OffsetDateTime,
    #[serde(with = "crate::domain::registry::file::iso_date")]
    pub due: Date,
    /// Whether the first version came by the due date (every version carries the first's).
    pub on_time: bool,
    pub tlp: Tlp,
    pub pap: Pap,
    pub report: RexFields,
    /// What the anonymiser changed, never the values.
    pub changes: Vec<ReportedChange>,
    /// The STIX part's objects sent to the triage queue, and those it refused (with why).
    pub stix_submitted: Vec<String>,
    pub stix_refused: Vec<String>,
    pub signed: Option<SignedBody>,
    /// SHA-256 of the anonymised report, as stored.
    pub sha256: String,
}

/// A reminder, an overdue state or a breach candidate, recorded once.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Notice {
    /// The provider the report is owed by.
    pub organisation: OrganisationId,
    pub kind: NoticeKind,
    /// The case id (REX) or the year (annual summary).
    pub subject: String,
    pub due: Date,
    pub created_at: OffsetDateTime,
}

/// A provider's summary of one calendar year.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StoredSummary {
    pub organisation: OrganisationId,
    pub year: i32,
    pub status: SummaryStatus,
    /// Anonymised with the identifiers of the provider's cases of the year.
    pub part: ProviderPart,
    /// The figures as drafted when it was submitted (`domain::reports::statistics`).
    pub figures: Option<serde_json::Value>,
    pub changes: Vec<ReportedChange>,
    #[serde(with = "time::serde::rfc3339")]
    pub updated_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339::option")]
    pub submitted_at: Option<OffsetDateTime>,
    pub submitted_by: Option<String>,
    /// SHA-256 of the submitted document (part and figures); empty for a draft.
    pub sha256: String,
}

#[async_trait::async_trait]
pub trait ReportStore: Send + Sync {
    /// `Conflict(REX_VERSION_TAKEN)` if the version exists.
    async fn insert_rex(&self, rex: &StoredRex, audit: &AuditRecord) -> StoreResult<()>;
    /// A case's REX versions, oldest first.
    async fn rex_of_case(&self, case_id: &str) -> StoreResult<Vec<StoredRex>>;
    /// The first version of every case's REX.
    async fn first_rex_versions(&self) -> StoreResult<Vec<StoredRex>>;
    /// Records a notice with its audit record; false (and nothing written) if it was
    /// recorded before.
    async fn insert_notice(&self, notice: &Notice, audit: &AuditRecord) -> StoreResult<bool>;
    /// A provider's notices, or everyone's, oldest first.
    async fn notices(&self, organisation: Option<&OrganisationId>) -> StoreResult<Vec<Notice>>;
    async fn summary(
        &self,
        organisation: &OrganisationId,
        year: i32,
    ) -> StoreResult<Option<StoredSummary>>;
    /// Every stored summary, by year then provider.
    async fn summaries(&self) -> StoreResult<Vec<StoredSummary>>;
    /// Creates or replaces a draft; `Conflict(SUMMARY_SUBMITTED)` once it is submitted.
    async fn write_summary(&self, summary: &StoredSummary, audit: &AuditRecord) -> StoreResult<()>;
}

macro_rules! report_sql {
    ($store:ident, $row:ident) => {
        /// Reports the providers owe, instantiated for this backend.
        mod report_sql {
            use super::audit_sql::append;
            use super::{$row, $store};
            use sqlx::Row as _;
            use $crate::domain::audit::record::AuditRecord;
            use $crate::domain::principal::OrganisationId;
            use $crate::store::portable::{from_micros, micros, to_json, write_error};
            use $crate::store::reports::{
                Notice, REX_VERSION_TAKEN, ReportStore, SUMMARY_SUBMITTED, StoredRex, StoredSummary,
            };
            use $crate::store::{StoreError, StoreResult};

            fn corrupt(e: impl std::fmt::Display) -> StoreError {
                StoreError::Corrupt(e.to_string())
            }

            fn document<T: serde::de::DeserializeOwned>(row: &$row) -> StoreResult<T> {
                let text: String = row.try_get("document")?;
                serde_json::from_str(&text).map_err(corrupt)
            }

            fn notice_from_row(row: &$row) -> StoreResult<Notice> {
                let due: String = row.try_get("due")?;
                Ok(Notice {
                    organisation: OrganisationId::from_stored(row.try_get("organisation_id")?),
                    kind: row.try_get::<String, _>("kind")?.parse()?,
                    subject: row.try_get("subject")?,
                    due: time::Date::parse(
                        &due,
                        time::macros::format_description!("[year]-[month]-[day]"),
                    )
                    .map_err(corrupt)?,
                    created_at: from_micros(row.try_get("created_at")?)?,
                })
            }

            #[async_trait::async_trait]
            impl ReportStore for $store {
                async fn insert_rex(
                    &self,
                    rex: &StoredRex,
                    audit: &AuditRecord,
                ) -> StoreResult<()> {
                    let mut tx = self.begin_write().await?;
                    sqlx::query(
                        "INSERT INTO case_rex (case_id, version, provider_id, submitted_at, \
                         document) VALUES ($1, $2, $3, $4, $5)",
                    )
                    .bind(&rex.case_id)
                    .bind(i64::from(rex.version))
                    .bind(rex.provider.as_str())
                    .bind(micros(rex.submitted_at))
                    .bind(to_json(rex)?)
                    .execute(&mut *tx)
                    .await
                    .map_err(|e| write_error(e, REX_VERSION_TAKEN))?;
                    append(&mut tx, audit).await?;
                    tx.commit().await?;
                    Ok(())
                }

                async fn rex_of_case(&self, case_id: &str) -> StoreResult<Vec<StoredRex>> {
                    let rows = sqlx::query(
                        "SELECT document FROM case_rex WHERE case_id = $1 ORDER BY version",
                    )
                    .bind(case_id)
                    .fetch_all(&self.pool)
                    .await?;
                    rows.iter().map(document).collect()
                }

                async fn first_rex_versions(&self) -> StoreResult<Vec<StoredRex>> {
                    let rows = sqlx::query(
                        "SELECT document FROM case_rex WHERE version = 1 \
                         ORDER BY submitted_at, case_id",
                    )
                    .fetch_all(&self.pool)
                    .await?;
                    rows.iter().map(document).collect()
                }

                async fn insert_notice(
                    &self,
                    notice: &Notice,
                    audit: &AuditRecord,
                ) -> StoreResult<bool> {
                    let mut tx = self.begin_write().await?;
                    let done = sqlx::query(
                        "INSERT INTO report_notices (organisation_id, kind, subject, due, \
                         created_at) VALUES ($1, $2, $3, $4, $5) \
                         ON CONFLICT (organisation_id, kind, subject) DO NOTHING",
                    )
                    .bind(notice.organisation.as_str())
                    .bind(notice.kind.as_str())
                    .bind(&notice.subject)
                    .bind(notice.due.to_string())
                    .bind(micros(notice.created_at))
                    .execute(&mut *tx)
                    .await
                    .map_err(|e| write_error(e, "notice"))?;
                    if done.rows_affected() == 0 {
                        return Ok(false);
                    }
                    append(&mut tx, audit).await?;
                    tx.commit().await?;
                    Ok(true)
                }

                async fn notices(
                    &self,
                    organisation: Option<&OrganisationId>,
                ) -> StoreResult<Vec<Notice>> {
                    let rows = sqlx::query(
                        "SELECT organisation_id, kind, subject, due, created_at \
                         FROM report_notices WHERE ($1 IS NULL OR organisation_id = $1) \
                         ORDER BY created_at, organisation_id, kind, subject",
                    )
                    .bind(organisation.map(|o| o.as_str()))
                    .fetch_all(&self.pool)
                    .await?;
                    rows.iter().map(notice_from_row).collect()
                }

                async fn summary(
                    &self,
                    organisation: &OrganisationId,
                    year: i32,
                ) -> StoreResult<Option<StoredSummary>> {
                    let row = sqlx::query(
                        "SELECT document FROM annual_summaries \
                         WHERE organisation_id = $1 AND year = $2",
                    )
                    .bind(organisation.as_str())
                    .bind(i64::from(year))
                    .fetch_optional(&self.pool)
                    .await?;
                    row.as_ref().map(document).transpose()
                }

                async fn summaries(&self) -> StoreResult<Vec<StoredSummary>> {
                    let rows = sqlx::query(
                        "SELECT document FROM annual_summaries ORDER BY year, organisation_id",
                    )
                    .fetch_all(&self.pool)
                    .await?;
                    rows.iter().map(document).collect()
                }

                async fn write_summary(
                    &self,
                    summary: &StoredSummary,
                    audit: &AuditRecord,
                ) -> StoreResult<()> {
                    let mut tx = self.begin_write().await?;
                    let done = sqlx::query(
                        "INSERT INTO annual_summaries (organisation_id, year, status, \
                         updated_at, document) VALUES ($1, $2, $3, $4, $5) \
                         ON CONFLICT (organisation_id, year) DO UPDATE SET \
                         status = excluded.status, updated_at = excluded.updated_at, \
                         document = excluded.document \
                         WHERE annual_summaries.status = 'draft'",
                    )
                    .bind(summary.organisation.as_str())
                    .bind(i64::from(summary.year))
                    .bind(summary.status.as_str())
                    .bind(micros(summary.updated_at))
                    .bind(to_json(summary)?)
                    .execute(&mut *tx)
                    .await
                    .map_err(|e| write_error(e, "annual summary"))?;
                    if done.rows_affected() == 0 {
                        return Err(StoreError::Conflict(SUMMARY_SUBMITTED));
                    }
                    append(&mut tx, audit).await?;
                    tx.commit().await?;
                    Ok(())
                }
            }
        }
    };
}
pub(super) use report_sql;
