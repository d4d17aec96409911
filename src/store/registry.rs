//! The provider registry's rows, in SQL both backends accept. Every write takes its audit
//! record and appends it in the same transaction, under the writer lock.

use time::OffsetDateTime;

use crate::domain::audit::record::AuditRecord;
use crate::domain::principal::{Organisation, OrganisationId, OrganisationStatus};
use crate::domain::registry::file::{Conditions, ProviderFile};
use crate::domain::registry::lifecycle::Referencing;

use super::StoreResult;

/// A provider's registry entry with its organisation.
#[derive(Debug, Clone, PartialEq)]
pub struct ProviderRecord {
    pub organisation: Organisation,
    pub file: ProviderFile,
    pub referencing: Referencing,
    pub conditions: Conditions,
    /// The armored signature of the convention version in force.
    pub convention_signature: Option<String>,
    pub updated_at: OffsetDateTime,
}

/// One line of a provider's history.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, utoipa::ToSchema)]
pub struct HistoryEntry {
    #[serde(with = "time::serde::rfc3339")]
    pub at: OffsetDateTime,
    /// Principal id, or `hub` / `operator`.
    pub actor: String,
    pub action: String,
    pub from_status: Option<OrganisationStatus>,
    pub to_status: OrganisationStatus,
    pub reason: String,
    /// SHA-256 of the file (its JSON) after the change.
    pub file_sha256: String,
}

/// A change to write: the new state of the entry and the history line that explains it.
#[derive(Debug, Clone)]
pub struct ProviderWrite<'a> {
    pub organisation: &'a Organisation,
    pub create: Creation,
    pub file: &'a ProviderFile,
    pub referencing: &'a Referencing,
    pub conditions: Conditions,
    pub convention_signature: Option<&'a str>,
    /// The lifecycle as read before deciding the change: if another writer changed it
    /// meanwhile, the write is refused (`Conflict`) rather than lost.
    pub expected: Option<&'a Referencing>,
    pub history: &'a HistoryEntry,
}

/// What a write creates besides updating.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Creation {
    /// The entry exists: update it (and the organisation's status).
    Nothing,
    /// The organisation exists (created by `relais pki`): add its registry entry.
    Entry,
    /// An application: the organisation and its entry.
    OrganisationAndEntry,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Convention {
    pub version: u32,
    pub text: String,
    pub published_at: OffsetDateTime,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredEvidence {
    pub sha256: String,
    pub organisation: Option<OrganisationId>,
    pub name: String,
    pub content: Vec<u8>,
    pub created_at: OffsetDateTime,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Survey {
    pub id: String,
    pub organisation: OrganisationId,
    pub case_id: String,
    pub issued_at: OffsetDateTime,
    pub expires_at: OffsetDateTime,
    pub answered_at: Option<OffsetDateTime>,
    /// The answers as JSON.
    pub answers: Option<String>,
    pub average: Option<f64>,
    pub unfavourable: Option<bool>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Badge {
    pub id: String,
    pub organisation: OrganisationId,
    pub issued_at: OffsetDateTime,
    /// The clear-signed statement.
    pub text: String,
}

#[async_trait::async_trait]
pub trait RegistryStore: Send + Sync {
    async fn providers(&self) -> StoreResult<Vec<ProviderRecord>>;
    async fn provider(&self, id: &OrganisationId) -> StoreResult<Option<ProviderRecord>>;
    /// Writes the entry, the organisation's status and the history line; `Conflict` if the
    /// lifecycle is no longer `expected` (or, for a new entry, the name is taken).
    async fn write_provider(
        &self,
        write: &ProviderWrite<'_>,
        audit: &AuditRecord,
    ) -> StoreResult<()>;
    async fn provider_history(&self, id: &OrganisationId) -> StoreResult<Vec<HistoryEntry>>;
    /// Stores evidence once; false if the same content is already stored.
    async fn insert_evidence(&self, e: &StoredEvidence, audit: &AuditRecord) -> StoreResult<bool>;
    async fn evidence(&self, sha256: &str) -> StoreResult<Option<StoredEvidence>>;
    /// `Conflict` if the version exists.
    async fn insert_convention(&self, c: &Convention, audit: &AuditRecord) -> StoreResult<()>;
    /// Every version, oldest first.
    async fn conventions(&self) -> StoreResult<Vec<Convention>>;
    async fn insert_survey(&self, s: &Survey, audit: &AuditRecord) -> StoreResult<()>;
    async fn survey(&self, id: &str) -> StoreResult<Option<Survey>>;
    /// Records the answers once: false (nothing written) if the survey was answered already.
    async fn answer_survey(
        &self,
        id: &str,
        at: OffsetDateTime,
        answers: &str,
        average: f64,
        unfavourable: bool,
        audit: &AuditRecord,
    ) -> StoreResult<bool>;
    async fn surveys_of(&self, id: &OrganisationId) -> StoreResult<Vec<Survey>>;
    async fn insert_badge(&self, b: &Badge, audit: &AuditRecord) -> StoreResult<()>;
    async fn badge(&self, id: &str) -> StoreResult<Option<Badge>>;
}

macro_rules! registry_sql {
    ($store:ident, $row:ident) => {
        /// The provider registry's SQL, instantiated for this backend.
        mod provider_registry_sql {
            use super::audit_sql::append;
            use super::{$row, $store};
            use $crate::domain::audit::record::AuditRecord;
            use $crate::domain::principal::{Organisation, OrganisationId};
            use $crate::store::portable::{from_micros, micros, to_json, write_error};
            use $crate::store::registry::{
                Badge, Convention, Creation, HistoryEntry, ProviderRecord, ProviderWrite,
                RegistryStore, StoredEvidence, Survey,
            };
            use $crate::store::{StoreError, StoreResult};
            use sqlx::Row as _;

            fn corrupt(e: impl std::fmt::Display) -> StoreError {
                StoreError::Corrupt(e.to_string())
            }

            const PROVIDER_SQL: &str = "SELECT o.id, o.name, o.kind, o.status, o.created_at, \
                 p.file, p.referencing, p.conditions, p.convention_signature, p.updated_at \
                 FROM provider_files p JOIN organisations o ON o.id = p.organisation_id";

            fn provider_from_row(row: &$row) -> StoreResult<ProviderRecord> {
                let file: String = row.try_get("file")?;
                let referencing: String = row.try_get("referencing")?;
                let conditions: String = row.try_get("conditions")?;
                Ok(ProviderRecord {
                    organisation: Organisation {
                        id: OrganisationId::from_stored(row.try_get("id")?),
                        name: row.try_get("name")?,
                        kind: row.try_get::<String, _>("kind")?.parse()?,
                        status: row.try_get::<String, _>("status")?.parse()?,
                        created_at: row.try_get("created_at")?,
                    },
                    file: serde_json::from_str(&file).map_err(corrupt)?,
                    referencing: serde_json::from_str(&referencing).map_err(corrupt)?,
                    conditions: serde_json::from_str(&conditions).map_err(corrupt)?,
                    convention_signature: row.try_get("convention_signature")?,
                    updated_at: from_micros(row.try_get("updated_at")?)?,
                })
            }

            fn survey_from_row(row: &$row) -> StoreResult<Survey> {
                Ok(Survey {
                    id: row.try_get("id")?,
                    organisation: OrganisationId::from_stored(row.try_get("organisation_id")?),
                    case_id: row.try_get("case_id")?,
                    issued_at: from_micros(row.try_get("issued_at")?)?,
                    expires_at: from_micros(row.try_get("expires_at")?)?,
                    answered_at: row
                        .try_get::<Option<i64>, _>("answered_at")?
                        .map(from_micros)
                        .transpose()?,
                    answers: row.try_get("answers")?,
                    average: row.try_get("average")?,
                    unfavourable: row.try_get("unfavourable")?,
                })
            }

            const SURVEY_SQL: &str = "SELECT id, organisation_id, case_id, issued_at, \
                 expires_at, answered_at, answers, average, unfavourable FROM surveys";

            #[async_trait::async_trait]
            impl RegistryStore for $store {
                async fn providers(&self) -> StoreResult<Vec<ProviderRecord>> {
                    let sql = format!("{PROVIDER_SQL} ORDER BY o.name");
                    let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
                        .fetch_all(&self.pool)
                        .await?;
                    rows.iter().map(provider_from_row).collect()
                }

                async fn provider(
                    &self,
                    id: &OrganisationId,
                ) -> StoreResult<Option<ProviderRecord>> {
                    let sql = format!("{PROVIDER_SQL} WHERE o.id = $1");
                    let row = sqlx::query(sqlx::AssertSqlSafe(sql))
                        .bind(id.as_str())
                        .fetch_optional(&self.pool)
                        .await?;
                    row.as_ref().map(provider_from_row).transpose()
                }

                async fn write_provider(
                    &self,
                    w: &ProviderWrite<'_>,
                    audit: &AuditRecord,
                ) -> StoreResult<()> {
                    let org = w.organisation;
                    let file = to_json(w.file)?;
                    let referencing = to_json(w.referencing)?;
                    let conditions = to_json(&w.conditions)?;
                    let now = micros(w.history.at);
                    let mut tx = self.begin_write().await?;
                    if w.create == Creation::OrganisationAndEntry {
                        sqlx::query(
                            "INSERT INTO organisations (id, name, kind, status, created_at, \
                             updated_at) VALUES ($1, $2, $3, $4, $5, $5)",
                        )
                        .bind(org.id.as_str())
                        .bind(&org.name)
                        .bind(org.kind.as_str())
                        .bind(w.referencing.status.as_str())
                        .bind(org.created_at)
                        .execute(&mut *tx)
                        .await
                        .map_err(|e| write_error(e, "organisation"))?;
                    }
                    if w.create != Creation::Nothing {
                        sqlx::query(
                            "INSERT INTO provider_files (organisation_id, file, referencing, \
                             conditions, convention_signature, updated_at) \
                             VALUES ($1, $2, $3, $4, $5, $6)",
                        )
                        .bind(org.id.as_str())
                        .bind(&file)
                        .bind(&referencing)
                        .bind(&conditions)
                        .bind(w.convention_signature)
                        .bind(now)
                        .execute(&mut *tx)
                        .await
                        .map_err(|e| write_error(e, "provider file"))?;
                    }
                    if w.create != Creation::OrganisationAndEntry {
                        if w.create == Creation::Nothing {
                        let current: Option<String> = sqlx::query_scalar(
                            "SELECT referencing FROM provider_files WHERE organisation_id = $1",
                        )
                        .bind(org.id.as_str())
                        .fetch_optional(&mut *tx)
                        .await?;
                        let current = current.ok_or(StoreError::NotFound("provider file"))?;
                        if let Some(expected) = w.expected
                            && current != to_json(expected)?
                        {
                            return Err(StoreError::Conflict("the provider's entry changed meanwhile"));
                        }
                        sqlx::query(
                            "UPDATE provider_files SET file = $2, referencing = $3, \
                             conditions = $4, convention_signature = $5, updated_at = $6 \
                             WHERE organisation_id = $1",
                        )
                        .bind(org.id.as_str())
                        .bind(&file)
                        .bind(&referencing)
                        .bind(&conditions)
                        .bind(w.convention_signature)
                        .bind(now)
                        .execute(&mut *tx)
                        .await?;
                        }
                        // Access follows the lifecycle at once: the registry is read on every
                        // request.
                        sqlx::query(
                            "UPDATE organisations SET status = $2, updated_at = $3 WHERE id = $1",
                        )
                        .bind(org.id.as_str())
                        .bind(w.referencing.status.as_str())
                        .bind(w.history.at)
                        .execute(&mut *tx)
                        .await?;
                    }
                    let h = w.history;
                    sqlx::query(
                        "INSERT INTO provider_history (organisation_id, at, actor, action, \
                         from_status, to_status, reason, file_sha256) \
                         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
                    )
                    .bind(org.id.as_str())
                    .bind(micros(h.at))
                    .bind(&h.actor)
                    .bind(&h.action)
                    .bind(h.from_status.map(|s| s.as_str()))
                    .bind(h.to_status.as_str())
                    .bind(&h.reason)
                    .bind(&h.file_sha256)
                    .execute(&mut *tx)
                    .await?;
                    append(&mut tx, audit).await?;
                    tx.commit().await?;
                    Ok(())
                }

                async fn provider_history(
                    &self,
                    id: &OrganisationId,
                ) -> StoreResult<Vec<HistoryEntry>> {
                    let rows = sqlx::query(
                        "SELECT at, actor, action, from_status, to_status, reason, file_sha256 \
                         FROM provider_history WHERE organisation_id = $1 ORDER BY id",
                    )
                    .bind(id.as_str())
                    .fetch_all(&self.pool)
                    .await?;
                    rows.iter()
                        .map(|row| {
                            Ok(HistoryEntry {
                                at: from_micros(row.try_get("at")?)?,
                                actor: row.try_get("actor")?,
                                action: row.try_get("action")?,
                                from_status: row
                                    .try_get::<Option<String>, _>("from_status")?
                                    .map(|s| s.parse())
                                    .transpose()?,
                                to_status: row.try_get::<String, _>("to_status")?.parse()?,
                                reason: row.try_get("reason")?,
                                file_sha256: row.try_get("file_sha256")?,
                            })
                        })
                        .collect()
                }

                async fn insert_evidence(
                    &self,
                    e: &StoredEvidence,
                    audit: &AuditRecord,
                ) -> StoreResult<bool> {
                    let mut tx = self.begin_write().await?;
                    let done = sqlx::query(
                        "INSERT INTO provider_evidence (sha256, organisation_id, name, content, \
                         created_at) VALUES ($1, $2, $3, $4, $5) ON CONFLICT (sha256) DO NOTHING",
                    )
                    .bind(&e.sha256)
                    .bind(e.organisation.as_ref().map(|o| o.as_str()))
                    .bind(&e.name)
                    .bind(&e.content)
                    .bind(micros(e.created_at))
                    .execute(&mut *tx)
                    .await?;
                    if done.rows_affected() == 0 {
                        return Ok(false);
                    }
                    append(&mut tx, audit).await?;
                    tx.commit().await?;
                    Ok(true)
                }

                async fn evidence(&self, sha256: &str) -> StoreResult<Option<StoredEvidence>> {
                    let row = sqlx::query(
                        "SELECT sha256, organisation_id, name, content, created_at \
                         FROM provider_evidence WHERE sha256 = $1",
                    )
                    .bind(sha256)
                    .fetch_optional(&self.pool)
                    .await?;
                    row.map(|row| {
                        Ok(StoredEvidence {
                            sha256: row.try_get("sha256")?,
                            organisation: row
                                .try_get::<Option<String>, _>("organisation_id")?
                                .map(OrganisationId::from_stored),
                            name: row.try_get("name")?,
                            content: row.try_get("content")?,
                            created_at: from_micros(row.try_get("created_at")?)?,
                        })
                    })
                    .transpose()
                }

                async fn insert_convention(
                    &self,
                    c: &Convention,
                    audit: &AuditRecord,
                ) -> StoreResult<()> {
                    let mut tx = self.begin_write().await?;
                    sqlx::query(
                        "INSERT INTO conventions (version, text, published_at) \
                         VALUES ($1, $2, $3)",
                    )
                    .bind(i64::from(c.version))
                    .bind(&c.text)
                    .bind(micros(c.published_at))
                    .execute(&mut *tx)
                    .await
                    .map_err(|e| write_error(e, "convention version"))?;
                    append(&mut tx, audit).await?;
                    tx.commit().await?;
                    Ok(())
                }

                async fn conventions(&self) -> StoreResult<Vec<Convention>> {
                    let rows = sqlx::query(
                        "SELECT version, text, published_at FROM conventions ORDER BY version",
                    )
                    .fetch_all(&self.pool)
                    .await?;
                    rows.iter()
                        .map(|row| {
                            Ok(Convention {
                                version: u32::try_from(row.try_get::<i64, _>("version")?)
                                    .map_err(corrupt)?,
                                text: row.try_get("text")?,
                                published_at: from_micros(row.try_get("published_at")?)?,
                            })
                        })
                        .collect()
                }

                async fn insert_survey(&self, s: &Survey, audit: &AuditRecord) -> StoreResult<()> {
                    let mut tx = self.begin_write().await?;
                    sqlx::query(
                        "INSERT INTO surveys (id, organisation_id, case_id, issued_at, \
                         expires_at) VALUES ($1, $2, $3, $4, $5)",
                    )
                    .bind(&s.id)
                    .bind(s.organisation.as_str())
                    .bind(&s.case_id)
                    .bind(micros(s.issued_at))
                    .bind(micros(s.expires_at))
                    .execute(&mut *tx)
                    .await
                    .map_err(|e| write_error(e, "survey"))?;
                    append(&mut tx, audit).await?;
                    tx.commit().await?;
                    Ok(())
                }

                async fn survey(&self, id: &str) -> StoreResult<Option<Survey>> {
                    let sql = format!("{SURVEY_SQL} WHERE id = $1");
                    let row = sqlx::query(sqlx::AssertSqlSafe(sql))
                        .bind(id)
                        .fetch_optional(&self.pool)
                        .await?;
                    row.as_ref().map(survey_from_row).transpose()
                }

                async fn answer_survey(
                    &self,
                    id: &str,
                    at: time::OffsetDateTime,
                    answers: &str,
                    average: f64,
                    unfavourable: bool,
                    audit: &AuditRecord,
                ) -> StoreResult<bool> {
                    let mut tx = self.begin_write().await?;
                    // Single use holds under races: only the first answer finds it open.
                    let done = sqlx::query(
                        "UPDATE surveys SET answered_at = $2, answers = $3, average = $4, \
                         unfavourable = $5 WHERE id = $1 AND answered_at IS NULL",
                    )
                    .bind(id)
                    .bind(micros(at))
                    .bind(answers)
                    .bind(average)
                    .bind(unfavourable)
                    .execute(&mut *tx)
                    .await?;
                    if done.rows_affected() == 0 {
                        return Ok(false);
                    }
                    append(&mut tx, audit).await?;
                    tx.commit().await?;
                    Ok(true)
                }

                async fn surveys_of(&self, id: &OrganisationId) -> StoreResult<Vec<Survey>> {
                    let sql = format!("{SURVEY_SQL} WHERE organisation_id = $1 ORDER BY issued_at");
                    let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
                        .bind(id.as_str())
                        .fetch_all(&self.pool)
                        .await?;
                    rows.iter().map(survey_from_row).collect()
                }

                async fn insert_badge(&self, b: &Badge, audit: &AuditRecord) -> StoreResult<()> {
                    let mut tx = self.begin_write().await?;
                    sqlx::query(
                        "INSERT INTO badges (id, organisation_id, issued_at, text) \
                         VALUES ($1, $2, $3, $4)",
                    )
                    .bind(&b.id)
                    .bind(b.organisation.as_str())
                    .bind(micros(b.issued_at))
                    .bind(&b.text)
                    .execute(&mut *tx)
                    .await
                    .map_err(|e| write_error(e, "badge"))?;
                    append(&mut tx, audit).await?;
                    tx.commit().await?;
                    Ok(())
                }

                async fn badge(&self, id: &str) -> StoreResult<Option<Badge>> {
                    let row = sqlx::query(
                        "SELECT id, organisation_id, issued_at, text FROM badges WHERE id = $1",
                    )
                    .bind(id)
                    .fetch_optional(&self.pool)
                    .await?;
                    row.map(|row| {
                        Ok(Badge {
                            id: row.try_get("id")?,
                            organisation: OrganisationId::from_stored(
                                row.try_get("organisation_id")?,
                            ),
                            issued_at: from_micros(row.try_get("issued_at")?)?,
                            text: row.try_get("text")?,
                        })
                    })
                    .transpose()
                }
            }
        }
    };
}
pub(super) use registry_sql;
