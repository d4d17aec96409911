//! Victim cases beyond what submissions need: the case file (qualification, status, closure,
//! disputes), shortlists and the rotation's memory, choice links, handoffs, conflicts of
//! interest and the journal, in SQL both backends accept. Every write takes its audit records
//! and appends them in the same transaction, under the writer lock; a case write names the
//! revision it read, and is refused (`Conflict`) if another writer changed the case meanwhile.

use time::OffsetDateTime;

use crate::domain::audit::record::AuditRecord;
use crate::domain::cases::CaseFile;
use crate::domain::cases::handoff::Handoff;
use crate::domain::cases::journal::Entry;
use crate::domain::cases::shortlist::Shortlist;
use crate::domain::principal::OrganisationId;

use super::StoreResult;

/// The `Conflict` of a case write whose case changed since it was read.
pub const CASE_CHANGED: &str = "the case changed meanwhile";

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredShortlist {
    /// The shortlist's number, across all cases: the rotation counts in it.
    pub id: i64,
    pub case_id: String,
    pub created_by: String,
    pub created_at: OffsetDateTime,
    pub document: Shortlist,
    pub superseded_at: Option<OffsetDateTime>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChoiceLink {
    /// The token's id.
    pub id: String,
    pub case_id: String,
    pub shortlist_id: i64,
    pub issued_at: OffsetDateTime,
    pub expires_at: OffsetDateTime,
    pub used_at: Option<OffsetDateTime>,
}

/// A provider's declared conflict of interest with a beneficiary.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeclaredConflict {
    pub organisation: OrganisationId,
    pub beneficiary_key: String,
    pub case_id: String,
    pub declared_at: OffsetDateTime,
}

#[derive(Debug, Clone, Copy)]
pub struct NewShortlist<'a> {
    pub document: &'a Shortlist,
    /// Principal id.
    pub created_by: &'a str,
    pub at: OffsetDateTime,
}

/// One change of a case, written in one transaction.
#[derive(Debug, Clone, Copy)]
pub struct CaseWrite<'a> {
    /// The case as it is after the change; its revision must be `expected_revision + 1`.
    pub file: &'a CaseFile,
    pub expected_revision: i64,
    /// A new shortlist, which supersedes the case's earlier ones.
    pub shortlist: Option<NewShortlist<'a>>,
    /// A new handoff (the beneficiary's choice).
    pub handoff: Option<&'a Handoff>,
    /// A handoff's answer: written only if it is still pending, else `Conflict`.
    pub answer: Option<&'a Handoff>,
    /// The choice link the beneficiary used: written only if it was unused, else `Conflict`.
    pub link_used: Option<(&'a str, OffsetDateTime)>,
    pub conflict: Option<&'a DeclaredConflict>,
}

impl<'a> CaseWrite<'a> {
    pub fn of(file: &'a CaseFile, expected_revision: i64) -> Self {
        Self {
            file,
            expected_revision,
            shortlist: None,
            handoff: None,
            answer: None,
            link_used: None,
            conflict: None,
        }
    }
}

#[async_trait::async_trait]
pub trait CaseStore: Send + Sync {
    /// `Conflict` if the reference is taken.
    async fn insert_case_file(&self, file: &CaseFile, audit: &AuditRecord) -> StoreResult<()>;
    async fn case_file(&self, id: &str) -> StoreResult<Option<CaseFile>>;
    /// Every case, oldest first.
    async fn case_files(&self) -> StoreResult<Vec<CaseFile>>;
    /// Returns the new shortlist's number, if the write made one.
    async fn write_case(
        &self,
        write: &CaseWrite<'_>,
        audits: &[AuditRecord],
    ) -> StoreResult<Option<i64>>;
    /// A case's shortlists, oldest first.
    async fn shortlists(&self, case_id: &str) -> StoreResult<Vec<StoredShortlist>>;
    /// For each provider ever proposed, the number of the last shortlist that proposed it and
    /// how many did.
    async fn last_proposals(&self) -> StoreResult<Vec<(OrganisationId, i64, u64)>>;
    /// The providers that declared a conflict with this beneficiary.
    async fn conflicts_with(&self, beneficiary_key: &str) -> StoreResult<Vec<OrganisationId>>;
    async fn insert_choice_link(&self, link: &ChoiceLink, audit: &AuditRecord) -> StoreResult<()>;
    async fn choice_link(&self, id: &str) -> StoreResult<Option<ChoiceLink>>;
    async fn handoff(&self, id: &str) -> StoreResult<Option<Handoff>>;
    async fn handoffs_of_case(&self, case_id: &str) -> StoreResult<Vec<Handoff>>;
    /// Every handoff, newest first.
    async fn all_handoffs(&self) -> StoreResult<Vec<Handoff>>;
    /// A provider's handoffs, newest first.
    async fn handoffs_of_provider(&self, provider: &OrganisationId) -> StoreResult<Vec<Handoff>>;
    /// Pending handoffs past their deadline that were not flagged yet.
    async fn overdue_handoffs(&self, now: OffsetDateTime) -> StoreResult<Vec<Handoff>>;
    /// Flags a handoff once: false if it was flagged or answered meanwhile.
    async fn flag_handoff(
        &self,
        id: &str,
        at: OffsetDateTime,
        audit: &AuditRecord,
    ) -> StoreResult<bool>;
    /// Appends an entry; `Conflict` if its number is taken, its previous hash is not the
    /// journal's head (another entry came meanwhile), or the case is no longer at
    /// `case_revision` (closed or handed back meanwhile: the checks made on it no longer hold).
    async fn append_journal(
        &self,
        entry: &Entry,
        case_revision: i64,
        audit: &AuditRecord,
    ) -> StoreResult<()>;
    /// A case's journal, in order.
    async fn journal(&self, case_id: &str) -> StoreResult<Vec<Entry>>;
}

macro_rules! case_file_columns {
    () => {
        "id, reference, beneficiary, provider_id, consent, identifiers, created_by, created_at, \
         consent_by, consent_at, status, qualification, closure, disputes, revision"
    };
}
macro_rules! handoff_columns {
    () => {
        "id, case_id, provider_id, shortlist_id, channel, chosen_by, created_at, answer_due, \
         package, package_sha256, status, answered_at, answered_by, reason, note, flagged_at"
    };
}
pub(super) use {case_file_columns, handoff_columns};

macro_rules! case_sql {
    ($store:ident, $row:ident) => {
        /// Victim cases, instantiated for this backend.
        mod case_sql {
            use super::audit_sql::append;
            use super::{$row, $store};
            use $crate::domain::audit::record::AuditRecord;
            use $crate::domain::cases::CaseFile;
            use $crate::domain::cases::handoff::Handoff;
            use $crate::domain::cases::journal::Entry;
            use $crate::domain::principal::OrganisationId;
            use $crate::store::cases::{
                CASE_CHANGED, CaseStore, CaseWrite, ChoiceLink, StoredShortlist,
                case_file_columns, handoff_columns,
            };
            use $crate::store::portable::{from_micros, micros, to_json, write_error};
            use $crate::store::{StoreError, StoreResult};
            use sqlx::Row as _;
            use time::OffsetDateTime;

            fn corrupt(e: impl std::fmt::Display) -> StoreError {
                StoreError::Corrupt(e.to_string())
            }

            fn optional_time(us: Option<i64>) -> StoreResult<Option<OffsetDateTime>> {
                us.map(from_micros).transpose()
            }

            fn file_from_row(row: &$row) -> StoreResult<CaseFile> {
                let status: String = row.try_get("status")?;
                let qualification: Option<String> = row.try_get("qualification")?;
                let closure: Option<String> = row.try_get("closure")?;
                let disputes: String = row.try_get("disputes")?;
                Ok(CaseFile {
                    case: super::submission_sql::case_from_row(row)?,
                    status: status.parse().map_err(corrupt)?,
                    qualification: qualification
                        .map(|q| serde_json::from_str(&q))
                        .transpose()
                        .map_err(corrupt)?,
                    closure: closure
                        .map(|c| serde_json::from_str(&c))
                        .transpose()
                        .map_err(corrupt)?,
                    disputes: serde_json::from_str(&disputes).map_err(corrupt)?,
                    revision: row.try_get("revision")?,
                })
            }

            fn handoff_from_row(row: &$row) -> StoreResult<Handoff> {
                Ok(Handoff {
                    id: row.try_get("id")?,
                    case_id: row.try_get("case_id")?,
                    provider: OrganisationId::from_stored(row.try_get("provider_id")?),
                    shortlist: row.try_get("shortlist_id")?,
                    channel: row.try_get::<String, _>("channel")?.parse()?,
                    chosen_by: row.try_get("chosen_by")?,
                    created_at: from_micros(row.try_get("created_at")?)?,
                    answer_due: from_micros(row.try_get("answer_due")?)?,
                    package: row.try_get("package")?,
                    package_sha256: row.try_get("package_sha256")?,
                    status: row.try_get::<String, _>("status")?.parse()?,
                    answered_at: optional_time(row.try_get("answered_at")?)?,
                    answered_by: row.try_get("answered_by")?,
                    reason: row
                        .try_get::<Option<String>, _>("reason")?
                        .map(|r| r.parse())
                        .transpose()?,
                    note: row.try_get("note")?,
                    flagged_at: optional_time(row.try_get("flagged_at")?)?,
                })
            }

            fn shortlist_from_row(row: &$row) -> StoreResult<StoredShortlist> {
                let document: String = row.try_get("document")?;
                Ok(StoredShortlist {
                    id: row.try_get("id")?,
                    case_id: row.try_get("case_id")?,
                    created_by: row.try_get("created_by")?,
                    created_at: from_micros(row.try_get("created_at")?)?,
                    document: serde_json::from_str(&document).map_err(corrupt)?,
                    superseded_at: optional_time(row.try_get("superseded_at")?)?,
                })
            }

            fn entry_from_row(row: &$row) -> StoreResult<Entry> {
                let entry: String = row.try_get("entry")?;
                serde_json::from_str(&entry).map_err(corrupt)
            }

            fn qualification_json(file: &CaseFile) -> StoreResult<Option<String>> {
                file.qualification.as_ref().map(to_json).transpose()
            }

            #[async_trait::async_trait]
            impl CaseStore for $store {
                async fn insert_case_file(
                    &self,
                    file: &CaseFile,
                    audit: &AuditRecord,
                ) -> StoreResult<()> {
                    let case = &file.case;
                    let mut tx = self.begin_write().await?;
                    sqlx::query(
                        "INSERT INTO cases (id, reference, beneficiary, provider_id, consent, \
                         identifiers, created_by, created_at, consent_by, consent_at, status, \
                         qualification, closure, disputes, revision) \
                         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)",
                    )
                    .bind(&case.id)
                    .bind(&case.reference)
                    .bind(&case.beneficiary)
                    .bind(case.provider.as_ref().map(|p| p.as_str()))
                    .bind(case.consent.as_str())
                    .bind(to_json(&case.identifiers)?)
                    .bind(case.created_by.as_str())
                    .bind(micros(case.created_at))
                    .bind(case.consent_by.as_ref().map(|p| p.as_str()))
                    .bind(case.consent_at.map(micros))
                    .bind(file.status.as_str())
                    .bind(qualification_json(file)?)
                    .bind(file.closure.as_ref().map(to_json).transpose()?)
                    .bind(to_json(&file.disputes)?)
                    .bind(file.revision)
                    .execute(&mut *tx)
                    .await
                    .map_err(|e| write_error(e, "case"))?;
                    append(&mut tx, audit).await?;
                    tx.commit().await?;
                    Ok(())
                }

                async fn case_file(&self, id: &str) -> StoreResult<Option<CaseFile>> {
                    const SQL: &str =
                        concat!("SELECT ", case_file_columns!(), " FROM cases WHERE id = $1");
                    let row = sqlx::query(SQL).bind(id).fetch_optional(&self.pool).await?;
                    row.as_ref().map(file_from_row).transpose()
                }

                async fn case_files(&self) -> StoreResult<Vec<CaseFile>> {
                    const SQL: &str = concat!(
                        "SELECT ",
                        case_file_columns!(),
                        " FROM cases ORDER BY created_at, id"
                    );
                    let rows = sqlx::query(SQL).fetch_all(&self.pool).await?;
                    rows.iter().map(file_from_row).collect()
                }

                async fn write_case(
                    &self,
                    w: &CaseWrite<'_>,
                    audits: &[AuditRecord],
                ) -> StoreResult<Option<i64>> {
                    let file = w.file;
                    let case = &file.case;
                    let mut tx = self.begin_write().await?;
                    // Consent has its own write (`set_consent`), which does not bump the
                    // revision: it is left as stored.
                    let changed = sqlx::query(
                        "UPDATE cases SET provider_id = $3, status = $4, qualification = $5, \
                         closure = $6, disputes = $7, revision = $8 \
                         WHERE id = $1 AND revision = $2",
                    )
                    .bind(&case.id)
                    .bind(w.expected_revision)
                    .bind(case.provider.as_ref().map(|p| p.as_str()))
                    .bind(file.status.as_str())
                    .bind(qualification_json(file)?)
                    .bind(file.closure.as_ref().map(to_json).transpose()?)
                    .bind(to_json(&file.disputes)?)
                    .bind(w.expected_revision + 1)
                    .execute(&mut *tx)
                    .await?;
                    if changed.rows_affected() != 1 {
                        return Err(StoreError::Conflict(CASE_CHANGED));
                    }
                    let mut shortlist_id = None;
                    if let Some(new) = w.shortlist {
                        let list = new.document;
                        let at = micros(new.at);
                        let id: i64 = sqlx::query_scalar(
                            "INSERT INTO case_shortlists (case_id, created_by, created_at, \
                             document) VALUES ($1, $2, $3, $4) RETURNING id",
                        )
                        .bind(&case.id)
                        .bind(new.created_by)
                        .bind(at)
                        .bind(to_json(list)?)
                        .fetch_one(&mut *tx)
                        .await?;
                        sqlx::query(
                            "UPDATE case_shortlists SET superseded_at = $3 \
                             WHERE case_id = $1 AND id <> $2 AND superseded_at IS NULL",
                        )
                        .bind(&case.id)
                        .bind(id)
                        .bind(at)
                        .execute(&mut *tx)
                        .await?;
                        for e in &list.entries {
                            sqlx::query(
                                "INSERT INTO case_proposals (shortlist_id, provider_id, rank) \
                                 VALUES ($1, $2, $3)",
                            )
                            .bind(id)
                            .bind(e.provider.as_str())
                            .bind(i64::try_from(e.rank).unwrap_or(i64::MAX))
                            .execute(&mut *tx)
                            .await?;
                        }
                        shortlist_id = Some(id);
                    }
                    if let Some((link, at)) = w.link_used {
                        let used = sqlx::query(
                            "UPDATE choice_links SET used_at = $2 \
                             WHERE id = $1 AND used_at IS NULL",
                        )
                        .bind(link)
                        .bind(micros(at))
                        .execute(&mut *tx)
                        .await?;
                        if used.rows_affected() != 1 {
                            return Err(StoreError::Conflict("the choice link was used"));
                        }
                    }
                    if let Some(h) = w.handoff {
                        sqlx::query(concat!(
                            "INSERT INTO case_handoffs (",
                            handoff_columns!(),
                            ") VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, \
                             $13, $14, $15, $16)"
                        ))
                        .bind(&h.id)
                        .bind(&h.case_id)
                        .bind(h.provider.as_str())
                        .bind(h.shortlist)
                        .bind(h.channel.as_str())
                        .bind(&h.chosen_by)
                        .bind(micros(h.created_at))
                        .bind(micros(h.answer_due))
                        .bind(&h.package)
                        .bind(&h.package_sha256)
                        .bind(h.status.as_str())
                        .bind(h.answered_at.map(micros))
                        .bind(h.answered_by.as_deref())
                        .bind(h.reason.map(|r| r.as_str()))
                        .bind(&h.note)
                        .bind(h.flagged_at.map(micros))
                        .execute(&mut *tx)
                        .await
                        .map_err(|e| write_error(e, "handoff"))?;
                    }
                    if let Some(h) = w.answer {
                        let answered = sqlx::query(
                            "UPDATE case_handoffs SET status = $2, answered_at = $3, \
                             answered_by = $4, reason = $5, note = $6 \
                             WHERE id = $1 AND status = 'pending'",
                        )
                        .bind(&h.id)
                        .bind(h.status.as_str())
                        .bind(h.answered_at.map(micros))
                        .bind(h.answered_by.as_deref())
                        .bind(h.reason.map(|r| r.as_str()))
                        .bind(&h.note)
                        .execute(&mut *tx)
                        .await?;
                        if answered.rows_affected() != 1 {
                            return Err(StoreError::Conflict("the handoff was answered"));
                        }
                    }
                    if let Some(c) = w.conflict {
                        sqlx::query(
                            "INSERT INTO provider_conflicts (organisation_id, beneficiary_key, \
                             case_id, declared_at) VALUES ($1, $2, $3, $4) \
                             ON CONFLICT (organisation_id, beneficiary_key) DO NOTHING",
                        )
                        .bind(c.organisation.as_str())
                        .bind(&c.beneficiary_key)
                        .bind(&c.case_id)
                        .bind(micros(c.declared_at))
                        .execute(&mut *tx)
                        .await?;
                    }
                    for audit in audits {
                        append(&mut tx, audit).await?;
                    }
                    tx.commit().await?;
                    Ok(shortlist_id)
                }

                async fn shortlists(&self, case_id: &str) -> StoreResult<Vec<StoredShortlist>> {
                    let rows = sqlx::query(
                        "SELECT id, case_id, created_by, created_at, document, superseded_at \
                         FROM case_shortlists WHERE case_id = $1 ORDER BY id",
                    )
                    .bind(case_id)
                    .fetch_all(&self.pool)
                    .await?;
                    rows.iter().map(shortlist_from_row).collect()
                }

                async fn last_proposals(&self) -> StoreResult<Vec<(OrganisationId, i64, u64)>> {
                    let rows = sqlx::query(
                        "SELECT provider_id, MAX(shortlist_id) AS last, COUNT(*) AS proposals \
                         FROM case_proposals GROUP BY provider_id",
                    )
                    .fetch_all(&self.pool)
                    .await?;
                    rows.iter()
                        .map(|row| {
                            Ok((
                                OrganisationId::from_stored(row.try_get("provider_id")?),
                                row.try_get("last")?,
                                u64::try_from(row.try_get::<i64, _>("proposals")?)
                                    .map_err(corrupt)?,
                            ))
                        })
                        .collect()
                }

                async fn conflicts_with(
                    &self,
                    beneficiary_key: &str,
                ) -> StoreResult<Vec<OrganisationId>> {
                    let rows: Vec<String> = sqlx::query_scalar(
                        "SELECT organisation_id FROM provider_conflicts \
                         WHERE beneficiary_key = $1",
                    )
                    .bind(beneficiary_key)
                    .fetch_all(&self.pool)
                    .await?;
                    Ok(rows.into_iter().map(OrganisationId::from_stored).collect())
                }

                async fn insert_choice_link(
                    &self,
                    link: &ChoiceLink,
                    audit: &AuditRecord,
                ) -> StoreResult<()> {
                    let mut tx = self.begin_write().await?;
                    sqlx::query(
                        "INSERT INTO choice_links (id, case_id, shortlist_id, issued_at, \
                         expires_at) VALUES ($1, $2, $3, $4, $5)",
                    )
                    .bind(&link.id)
                    .bind(&link.case_id)
                    .bind(link.shortlist_id)
                    .bind(micros(link.issued_at))
                    .bind(micros(link.expires_at))
                    .execute(&mut *tx)
                    .await
                    .map_err(|e| write_error(e, "choice link"))?;
                    append(&mut tx, audit).await?;
                    tx.commit().await?;
                    Ok(())
                }

                async fn choice_link(&self, id: &str) -> StoreResult<Option<ChoiceLink>> {
                    let row = sqlx::query(
                        "SELECT id, case_id, shortlist_id, issued_at, expires_at, used_at \
                         FROM choice_links WHERE id = $1",
                    )
                    .bind(id)
                    .fetch_optional(&self.pool)
                    .await?;
                    row.map(|row| {
                        Ok(ChoiceLink {
                            id: row.try_get("id")?,
                            case_id: row.try_get("case_id")?,
                            shortlist_id: row.try_get("shortlist_id")?,
                            issued_at: from_micros(row.try_get("issued_at")?)?,
                            expires_at: from_micros(row.try_get("expires_at")?)?,
                            used_at: optional_time(row.try_get("used_at")?)?,
                        })
                    })
                    .transpose()
                }

                async fn handoff(&self, id: &str) -> StoreResult<Option<Handoff>> {
                    const SQL: &str = concat!(
                        "SELECT ",
                        handoff_columns!(),
                        " FROM case_handoffs WHERE id = $1"
                    );
                    let row = sqlx::query(SQL).bind(id).fetch_optional(&self.pool).await?;
                    row.as_ref().map(handoff_from_row).transpose()
                }

                async fn handoffs_of_case(&self, case_id: &str) -> StoreResult<Vec<Handoff>> {
                    const SQL: &str = concat!(
                        "SELECT ",
                        handoff_columns!(),
                        " FROM case_handoffs WHERE case_id = $1 ORDER BY created_at, id"
                    );
                    let rows = sqlx::query(SQL).bind(case_id).fetch_all(&self.pool).await?;
                    rows.iter().map(handoff_from_row).collect()
                }

                async fn all_handoffs(&self) -> StoreResult<Vec<Handoff>> {
                    const SQL: &str = concat!(
                        "SELECT ",
                        handoff_columns!(),
                        " FROM case_handoffs ORDER BY created_at DESC, id DESC"
                    );
                    let rows = sqlx::query(SQL).fetch_all(&self.pool).await?;
                    rows.iter().map(handoff_from_row).collect()
                }

                async fn handoffs_of_provider(
                    &self,
                    provider: &OrganisationId,
                ) -> StoreResult<Vec<Handoff>> {
                    const SQL: &str = concat!(
                        "SELECT ",
                        handoff_columns!(),
                        " FROM case_handoffs WHERE provider_id = $1 \
                         ORDER BY created_at DESC, id DESC"
                    );
                    let rows = sqlx::query(SQL)
                        .bind(provider.as_str())
                        .fetch_all(&self.pool)
                        .await?;
                    rows.iter().map(handoff_from_row).collect()
                }

                async fn overdue_handoffs(&self, now: OffsetDateTime) -> StoreResult<Vec<Handoff>> {
                    const SQL: &str = concat!(
                        "SELECT ",
                        handoff_columns!(),
                        " FROM case_handoffs WHERE status = 'pending' AND answer_due <= $1 \
                         AND flagged_at IS NULL ORDER BY answer_due, id"
                    );
                    let rows = sqlx::query(SQL)
                        .bind(micros(now))
                        .fetch_all(&self.pool)
                        .await?;
                    rows.iter().map(handoff_from_row).collect()
                }

                async fn flag_handoff(
                    &self,
                    id: &str,
                    at: OffsetDateTime,
                    audit: &AuditRecord,
                ) -> StoreResult<bool> {
                    let mut tx = self.begin_write().await?;
                    let done = sqlx::query(
                        "UPDATE case_handoffs SET flagged_at = $2 \
                         WHERE id = $1 AND status = 'pending' AND flagged_at IS NULL",
                    )
                    .bind(id)
                    .bind(micros(at))
                    .execute(&mut *tx)
                    .await?;
                    if done.rows_affected() == 0 {
                        return Ok(false);
                    }
                    append(&mut tx, audit).await?;
                    tx.commit().await?;
                    Ok(true)
                }

                async fn append_journal(
                    &self,
                    entry: &Entry,
                    case_revision: i64,
                    audit: &AuditRecord,
                ) -> StoreResult<()> {
                    let mut tx = self.begin_write().await?;
                    let revision: Option<i64> =
                        sqlx::query_scalar("SELECT revision FROM cases WHERE id = $1")
                            .bind(&entry.case_id)
                            .fetch_optional(&mut *tx)
                            .await?;
                    if revision != Some(case_revision) {
                        return Err(StoreError::Conflict(CASE_CHANGED));
                    }
                    let head: Option<String> = sqlx::query_scalar(
                        "SELECT hash FROM case_journal WHERE case_id = $1 \
                         ORDER BY number DESC LIMIT 1",
                    )
                    .bind(&entry.case_id)
                    .fetch_optional(&mut *tx)
                    .await?;
                    let expected = head.as_deref().unwrap_or(
                        $crate::domain::cases::journal::GENESIS,
                    );
                    if entry.previous != expected {
                        return Err(StoreError::Conflict("the journal grew meanwhile"));
                    }
                    sqlx::query(
                        "INSERT INTO case_journal (case_id, number, at, entry, hash) \
                         VALUES ($1, $2, $3, $4, $5)",
                    )
                    .bind(&entry.case_id)
                    .bind(i64::try_from(entry.number).unwrap_or(i64::MAX))
                    .bind(micros(entry.at))
                    .bind(to_json(entry)?)
                    .bind(&entry.hash)
                    .execute(&mut *tx)
                    .await
                    .map_err(|e| write_error(e, "journal entry"))?;
                    append(&mut tx, audit).await?;
                    tx.commit().await?;
                    Ok(())
                }

                async fn journal(&self, case_id: &str) -> StoreResult<Vec<Entry>> {
                    let rows = sqlx::query(
                        "SELECT entry FROM case_journal WHERE case_id = $1 ORDER BY number",
                    )
                    .bind(case_id)
                    .fetch_all(&self.pool)
                    .await?;
                    rows.iter().map(entry_from_row).collect()
                }
            }
        }
    };
}
pub(super) use case_sql;
