//! SOC contracts, alerts and the records under a contract. Every write appends its audit
//! entry in the same transaction; an alert's change is refused if the alert changed since it
//! was read (`version`), so that the breach job and a SOC's acknowledgement never overwrite
//! each other.

use async_trait::async_trait;
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use super::StoreResult;
use super::reports::Notice;
use crate::domain::audit::record::AuditRecord;
use crate::domain::principal::OrganisationId;
use crate::domain::sla::contract::{Alert, Contract};

/// The `Conflict` of an alert changed since it was read.
pub const ALERT_CHANGED: &str = "alert changed meanwhile";
/// The `Conflict` of an external id the SOC already used.
pub const EXTERNAL_ID_TAKEN: &str = "external id";

/// An alert with its row's bookkeeping.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredAlert {
    pub alert: Alert,
    pub version: i64,
    /// When its running clock reaches the target (the breach job's column).
    pub due_at: Option<OffsetDateTime>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RecordKind {
    Review,
    Committee,
    Purchase,
    Usage,
}

impl RecordKind {
    pub fn as_str(self) -> &'static str {
        match self {
            RecordKind::Review => "review",
            RecordKind::Committee => "committee",
            RecordKind::Purchase => "purchase",
            RecordKind::Usage => "usage",
        }
    }
}

/// One record under a contract, its document as the service wrote it.
#[derive(Debug, Clone, PartialEq)]
pub struct ContractRecord {
    pub contract: String,
    pub kind: RecordKind,
    /// 1, 2, … per contract and kind, in the order recorded.
    pub seq: i64,
    pub created_at: OffsetDateTime,
    pub document: serde_json::Value,
}

#[async_trait]
pub trait SlaStore: Send + Sync {
    async fn insert_contract(&self, contract: &Contract, audit: &AuditRecord) -> StoreResult<()>;
    async fn contract(&self, id: &str) -> StoreResult<Option<Contract>>;
    /// Every contract, or one SOC provider's.
    async fn contracts(&self, provider: Option<&OrganisationId>) -> StoreResult<Vec<Contract>>;
    /// Stores a new alert; if its SOC already used the external id, writes nothing and returns
    /// the alert stored under it.
    async fn insert_alert(
        &self,
        alert: &StoredAlert,
        audit: &AuditRecord,
    ) -> StoreResult<Option<StoredAlert>>;
    async fn alert(&self, id: &str) -> StoreResult<Option<StoredAlert>>;
    /// A contract's alerts detected in [from, to), oldest first, at most `limit`.
    async fn alerts(
        &self,
        contract: &str,
        from: OffsetDateTime,
        to: OffsetDateTime,
        limit: i64,
    ) -> StoreResult<Vec<StoredAlert>>;
    /// Replaces an alert read at `read_version` (the new row's version is the next); with
    /// `breach`, records the notice of its breach in the same transaction. `Conflict
    /// (ALERT_CHANGED)` if the alert changed meanwhile.
    async fn update_alert(
        &self,
        alert: &StoredAlert,
        read_version: i64,
        breach: Option<&Notice>,
        audit: &AuditRecord,
    ) -> StoreResult<()>;
    /// Alerts whose clock ran past its due time without a breach recorded yet.
    async fn alerts_past_due(
        &self,
        now: OffsetDateTime,
        limit: i64,
    ) -> StoreResult<Vec<StoredAlert>>;
    /// Appends a record; returns its `seq`.
    async fn insert_record(
        &self,
        contract: &str,
        kind: RecordKind,
        document: &serde_json::Value,
        at: OffsetDateTime,
        audit: &AuditRecord,
    ) -> StoreResult<i64>;
    /// Appends a credit purchase or usage if `check`, given the contract's purchases and
    /// usages as they are inside the write transaction, allows it: two usages that each fit
    /// cannot both be stored when together they do not. `Ok(Err(why))` when refused.
    async fn insert_credit_record(
        &self,
        contract: &str,
        kind: RecordKind,
        document: &serde_json::Value,
        at: OffsetDateTime,
        audit: &AuditRecord,
        check: &(
             dyn for<'r> Fn(&'r [ContractRecord], &'r [ContractRecord]) -> Result<(), String>
                 + Send
                 + Sync
         ),
    ) -> StoreResult<Result<i64, String>>;
    async fn records(&self, contract: &str, kind: RecordKind) -> StoreResult<Vec<ContractRecord>>;
    /// Replaces a record's document (a committee's minutes).
    async fn update_record(&self, record: &ContractRecord, audit: &AuditRecord) -> StoreResult<()>;
}

macro_rules! sla_sql {
    ($store:ident, $row:ident) => {
        /// SOC contracts and alerts, instantiated for this backend.
        mod sla_sql {
            use super::audit_sql::append;
            use super::{$row, $store};
            use sqlx::Row as _;
            use time::OffsetDateTime;
            use $crate::domain::audit::record::AuditRecord;
            use $crate::domain::principal::OrganisationId;
            use $crate::domain::sla::contract::{Alert, Contract};
            use $crate::store::portable::{from_micros, micros, to_json, write_error};
            use $crate::store::reports::Notice;
            use $crate::store::sla::{
                ALERT_CHANGED, ContractRecord, EXTERNAL_ID_TAKEN, RecordKind, SlaStore,
                StoredAlert,
            };
            use $crate::store::{StoreError, StoreResult};

            fn corrupt(e: impl std::fmt::Display) -> StoreError {
                StoreError::Corrupt(e.to_string())
            }

            fn document<T: serde::de::DeserializeOwned>(row: &$row) -> StoreResult<T> {
                let text: String = row.try_get("document")?;
                serde_json::from_str(&text).map_err(corrupt)
            }

            fn alert_from_row(row: &$row) -> StoreResult<StoredAlert> {
                let due: Option<i64> = row.try_get("due_at")?;
                Ok(StoredAlert {
                    alert: document::<Alert>(row)?,
                    version: row.try_get("version")?,
                    due_at: due.map(from_micros).transpose()?,
                })
            }

            fn record_from_row(row: &$row, kind: RecordKind) -> StoreResult<ContractRecord> {
                Ok(ContractRecord {
                    contract: row.try_get("contract_id")?,
                    kind,
                    seq: row.try_get("seq")?,
                    created_at: from_micros(row.try_get("created_at")?)?,
                    document: document(row)?,
                })
            }

            #[async_trait::async_trait]
            impl SlaStore for $store {
                async fn insert_contract(
                    &self,
                    contract: &Contract,
                    audit: &AuditRecord,
                ) -> StoreResult<()> {
                    let mut tx = self.begin_write().await?;
                    sqlx::query(
                        "INSERT INTO soc_contracts (id, provider_id, created_at, document) \
                         VALUES ($1, $2, $3, $4)",
                    )
                    .bind(&contract.id)
                    .bind(contract.provider.as_str())
                    .bind(micros(contract.created_at))
                    .bind(to_json(contract)?)
                    .execute(&mut *tx)
                    .await
                    .map_err(|e| write_error(e, "contract"))?;
                    append(&mut tx, audit).await?;
                    tx.commit().await?;
                    Ok(())
                }

                async fn contract(&self, id: &str) -> StoreResult<Option<Contract>> {
                    let row = sqlx::query("SELECT document FROM soc_contracts WHERE id = $1")
                        .bind(id)
                        .fetch_optional(&self.pool)
                        .await?;
                    row.as_ref().map(document).transpose()
                }

                async fn contracts(
                    &self,
                    provider: Option<&OrganisationId>,
                ) -> StoreResult<Vec<Contract>> {
                    let rows = sqlx::query(
                        "SELECT document FROM soc_contracts \
                         WHERE ($1 IS NULL OR provider_id = $1) ORDER BY created_at, id",
                    )
                    .bind(provider.map(|p| p.as_str()))
                    .fetch_all(&self.pool)
                    .await?;
                    rows.iter().map(document).collect()
                }

                async fn insert_alert(
                    &self,
                    stored: &StoredAlert,
                    audit: &AuditRecord,
                ) -> StoreResult<Option<StoredAlert>> {
                    let a = &stored.alert;
                    let mut tx = self.begin_write().await?;
                    let existing = sqlx::query(
                        "SELECT document, version, due_at FROM soc_alerts \
                         WHERE provider_id = $1 AND external_id = $2"
                    )
                    .bind(a.provider.as_str())
                    .bind(&a.external_id)
                    .fetch_optional(&mut *tx)
                    .await?;
                    if let Some(row) = existing {
                        return alert_from_row(&row).map(Some);
                    }
                    sqlx::query(
                        "INSERT INTO soc_alerts (id, contract_id, provider_id, external_id, \
                         detected_at, due_at, breach_recorded_at, version, document) \
                         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
                    )
                    .bind(&a.id)
                    .bind(&a.contract)
                    .bind(a.provider.as_str())
                    .bind(&a.external_id)
                    .bind(micros(a.detected_at))
                    .bind(stored.due_at.map(micros))
                    .bind(a.breach_recorded_at.map(micros))
                    .bind(stored.version)
                    .bind(to_json(a)?)
                    .execute(&mut *tx)
                    .await
                    .map_err(|e| write_error(e, EXTERNAL_ID_TAKEN))?;
                    append(&mut tx, audit).await?;
                    tx.commit().await?;
                    Ok(None)
                }

                async fn alert(&self, id: &str) -> StoreResult<Option<StoredAlert>> {
                    let row = sqlx::query(
                        "SELECT document, version, due_at FROM soc_alerts WHERE id = $1"
                    )
                    .bind(id)
                    .fetch_optional(&self.pool)
                    .await?;
                    row.as_ref().map(alert_from_row).transpose()
                }

                async fn alerts(
                    &self,
                    contract: &str,
                    from: OffsetDateTime,
                    to: OffsetDateTime,
                    limit: i64,
                ) -> StoreResult<Vec<StoredAlert>> {
                    let rows = sqlx::query(
                        "SELECT document, version, due_at FROM soc_alerts WHERE contract_id = $1 \
                         AND detected_at >= $2 AND detected_at < $3 ORDER BY detected_at, id LIMIT $4"
                    )
                    .bind(contract)
                    .bind(micros(from))
                    .bind(micros(to))
                    .bind(limit)
                    .fetch_all(&self.pool)
                    .await?;
                    rows.iter().map(alert_from_row).collect()
                }

                async fn update_alert(
                    &self,
                    stored: &StoredAlert,
                    read_version: i64,
                    breach: Option<&Notice>,
                    audit: &AuditRecord,
                ) -> StoreResult<()> {
                    let a = &stored.alert;
                    let mut tx = self.begin_write().await?;
                    let done = sqlx::query(
                        "UPDATE soc_alerts SET due_at = $1, breach_recorded_at = $2, \
                         version = $3, document = $4 WHERE id = $5 AND version = $6",
                    )
                    .bind(stored.due_at.map(micros))
                    .bind(a.breach_recorded_at.map(micros))
                    .bind(read_version + 1)
                    .bind(to_json(a)?)
                    .bind(&a.id)
                    .bind(read_version)
                    .execute(&mut *tx)
                    .await?;
                    if done.rows_affected() == 0 {
                        return Err(StoreError::Conflict(ALERT_CHANGED));
                    }
                    if let Some(n) = breach {
                        sqlx::query(
                            "INSERT INTO report_notices (organisation_id, kind, subject, due, \
                             created_at) VALUES ($1, $2, $3, $4, $5) \
                             ON CONFLICT (organisation_id, kind, subject) DO NOTHING",
                        )
                        .bind(n.organisation.as_str())
                        .bind(n.kind.as_str())
                        .bind(&n.subject)
                        .bind(n.due.to_string())
                        .bind(micros(n.created_at))
                        .execute(&mut *tx)
                        .await
                        .map_err(|e| write_error(e, "notice"))?;
                    }
                    append(&mut tx, audit).await?;
                    tx.commit().await?;
                    Ok(())
                }

                async fn alerts_past_due(
                    &self,
                    now: OffsetDateTime,
                    limit: i64,
                ) -> StoreResult<Vec<StoredAlert>> {
                    let rows = sqlx::query(
                        "SELECT document, version, due_at FROM soc_alerts \
                         WHERE breach_recorded_at IS NULL AND due_at < $1 \
                         ORDER BY due_at LIMIT $2"
                    )
                    .bind(micros(now))
                    .bind(limit)
                    .fetch_all(&self.pool)
                    .await?;
                    rows.iter().map(alert_from_row).collect()
                }

                async fn insert_record(
                    &self,
                    contract: &str,
                    kind: RecordKind,
                    doc: &serde_json::Value,
                    at: OffsetDateTime,
                    audit: &AuditRecord,
                ) -> StoreResult<i64> {
                    let mut tx = self.begin_write().await?;
                    let seq: i64 = sqlx::query_scalar(
                        "SELECT COALESCE(MAX(seq), 0) + 1 FROM soc_records \
                         WHERE contract_id = $1 AND kind = $2",
                    )
                    .bind(contract)
                    .bind(kind.as_str())
                    .fetch_one(&mut *tx)
                    .await?;
                    sqlx::query(
                        "INSERT INTO soc_records (contract_id, kind, seq, created_at, document) \
                         VALUES ($1, $2, $3, $4, $5)",
                    )
                    .bind(contract)
                    .bind(kind.as_str())
                    .bind(seq)
                    .bind(micros(at))
                    .bind(to_json(doc)?)
                    .execute(&mut *tx)
                    .await
                    .map_err(|e| write_error(e, "record"))?;
                    append(&mut tx, audit).await?;
                    tx.commit().await?;
                    Ok(seq)
                }

                async fn insert_credit_record(
                    &self,
                    contract: &str,
                    kind: RecordKind,
                    doc: &serde_json::Value,
                    at: OffsetDateTime,
                    audit: &AuditRecord,
                    check: &(dyn for<'r> Fn(
                        &'r [ContractRecord],
                        &'r [ContractRecord],
                    ) -> Result<(), String>
                          + Send
                          + Sync),
                ) -> StoreResult<Result<i64, String>> {
                    let mut tx = self.begin_write().await?;
                    let mut read = async |k: RecordKind| -> StoreResult<Vec<ContractRecord>> {
                        let rows = sqlx::query(
                            "SELECT contract_id, seq, created_at, document FROM soc_records \
                             WHERE contract_id = $1 AND kind = $2 ORDER BY seq",
                        )
                        .bind(contract)
                        .bind(k.as_str())
                        .fetch_all(&mut *tx)
                        .await?;
                        rows.iter().map(|r| record_from_row(r, k)).collect()
                    };
                    let purchases = read(RecordKind::Purchase).await?;
                    let usages = read(RecordKind::Usage).await?;
                    let (purchases, usages) = (purchases.as_slice(), usages.as_slice());
                    if let Err(why) = check(purchases, usages) {
                        return Ok(Err(why));
                    }
                    let seq = i64::try_from(match kind {
                        RecordKind::Purchase => purchases.len(),
                        _ => usages.len(),
                    })
                    .unwrap_or(i64::MAX)
                    .saturating_add(1);
                    sqlx::query(
                        "INSERT INTO soc_records (contract_id, kind, seq, created_at, document) \
                         VALUES ($1, $2, $3, $4, $5)",
                    )
                    .bind(contract)
                    .bind(kind.as_str())
                    .bind(seq)
                    .bind(micros(at))
                    .bind(to_json(doc)?)
                    .execute(&mut *tx)
                    .await
                    .map_err(|e| write_error(e, "record"))?;
                    append(&mut tx, audit).await?;
                    tx.commit().await?;
                    Ok(Ok(seq))
                }

                async fn records(
                    &self,
                    contract: &str,
                    kind: RecordKind,
                ) -> StoreResult<Vec<ContractRecord>> {
                    let rows = sqlx::query(
                        "SELECT contract_id, seq, created_at, document FROM soc_records \
                         WHERE contract_id = $1 AND kind = $2 ORDER BY seq",
                    )
                    .bind(contract)
                    .bind(kind.as_str())
                    .fetch_all(&self.pool)
                    .await?;
                    rows.iter().map(|r| record_from_row(r, kind)).collect()
                }

                async fn update_record(
                    &self,
                    record: &ContractRecord,
                    audit: &AuditRecord,
                ) -> StoreResult<()> {
                    let mut tx = self.begin_write().await?;
                    let done = sqlx::query(
                        "UPDATE soc_records SET document = $1 \
                         WHERE contract_id = $2 AND kind = $3 AND seq = $4",
                    )
                    .bind(to_json(&record.document)?)
                    .bind(&record.contract)
                    .bind(record.kind.as_str())
                    .bind(record.seq)
                    .execute(&mut *tx)
                    .await?;
                    if done.rows_affected() == 0 {
                        return Err(StoreError::NotFound("record"));
                    }
                    append(&mut tx, audit).await?;
                    tx.commit().await?;
                    Ok(())
                }
            }
        }
    };
}
pub(super) use sla_sql;
