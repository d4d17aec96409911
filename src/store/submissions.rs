//! Victim cases and the triage queue of provider submissions, in SQL both backends accept.

/// Filters of the triage queue; `None` filters nothing.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SubmissionFilter {
    pub status: Option<crate::domain::triage::SubmissionStatus>,
    pub provider: Option<crate::domain::principal::OrganisationId>,
    pub object_type: Option<String>,
    /// Submissions of this STIX object.
    pub stix_id: Option<String>,
    pub tlp: Option<crate::domain::markings::Tlp>,
    /// Only submissions tied to a case in this consent state.
    pub consent: Option<crate::domain::triage::Consent>,
    pub submitted_before: Option<time::OffsetDateTime>,
    pub submitted_after: Option<time::OffsetDateTime>,
    pub limit: u32,
}

/// A submission as the ingest path records it, next to its (confined) object.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewSubmission {
    pub id: String,
    pub stix_id: String,
    pub object_type: String,
    pub tlp: crate::domain::markings::Tlp,
    pub pap: Option<crate::domain::markings::Pap>,
    pub provider: crate::domain::principal::OrganisationId,
    pub submitted_by: crate::domain::principal::PrincipalId,
    pub case_id: Option<String>,
    pub submitted_at: time::OffsetDateTime,
    pub dedup_key: String,
    pub report: Vec<crate::domain::triage::ReportedChange>,
    /// The object as received, when the anonymiser changed it (TLP:RED, CSIRT only).
    pub original: Option<String>,
}

/// How a submission is closed without publication.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Closing<'a> {
    pub status: crate::domain::triage::SubmissionStatus,
    pub by: &'a crate::domain::principal::PrincipalId,
    pub at: time::OffsetDateTime,
    /// Why (a rejection), shown to the provider.
    pub reason: Option<&'a str>,
    /// The community object it was merged into.
    pub result_id: Option<&'a str>,
}

/// The `Conflict` of a publication whose case's consent was withdrawn meanwhile.
pub const CONSENT_CHANGED: &str = "the case's consent is no longer given";

macro_rules! case_columns {
    () => {
        "id, reference, beneficiary, provider_id, consent, identifiers, created_by, created_at, \
         consent_by, consent_at"
    };
}
macro_rules! submission_columns {
    () => {
        "s.id, s.object_seq, s.stix_id, s.object_type, s.tlp, s.pap, s.provider_id, \
         s.submitted_by, s.case_id, s.submitted_at, s.dedup_key, s.report, s.status, \
         s.decided_by, s.decided_at, s.reason, s.result_id"
    };
}
pub(super) use {case_columns, submission_columns};

macro_rules! submission_sql {
    ($store:ident, $row:ident) => {
        /// Cases and submissions, instantiated for this backend.
        mod submission_sql {
            use super::registry_sql::{insert_rows, write_pending};
            use super::{$row, $store};
            use $crate::domain::principal::{OrganisationId, PrincipalId};
            use $crate::domain::stix::stored::{Inserted, NewObject};
            use $crate::domain::triage::{Case, Consent, Submission};
            use $crate::store::portable::{from_micros, micros, to_json};
            use $crate::store::submissions::{NewSubmission, SubmissionFilter};
            use $crate::store::{StoreError, StoreResult, SubmissionStore};
            use $crate::domain::audit::record::AuditRecord;
            use super::audit_sql::append;
            use sqlx::Row as _;
            use time::OffsetDateTime;

            use $crate::store::submissions::{case_columns, submission_columns};

            fn corrupt(e: impl std::fmt::Display) -> StoreError {
                StoreError::Corrupt(e.to_string())
            }

            fn optional_time(us: Option<i64>) -> StoreResult<Option<OffsetDateTime>> {
                us.map(from_micros).transpose()
            }

            pub(super) fn case_from_row(row: &$row) -> StoreResult<Case> {
                let consent: String = row.try_get("consent")?;
                let identifiers: String = row.try_get("identifiers")?;
                Ok(Case {
                    id: row.try_get("id")?,
                    reference: row.try_get("reference")?,
                    beneficiary: row.try_get("beneficiary")?,
                    provider: row
                        .try_get::<Option<String>, _>("provider_id")?
                        .map(OrganisationId::from_stored),
                    consent: consent.parse().map_err(corrupt)?,
                    identifiers: serde_json::from_str(&identifiers).map_err(corrupt)?,
                    created_by: PrincipalId::from_stored(row.try_get("created_by")?),
                    created_at: from_micros(row.try_get("created_at")?)?,
                    consent_by: row
                        .try_get::<Option<String>, _>("consent_by")?
                        .map(PrincipalId::from_stored),
                    consent_at: optional_time(row.try_get("consent_at")?)?,
                })
            }

            fn submission_from_row(row: &$row) -> StoreResult<Submission> {
                let tlp: String = row.try_get("tlp")?;
                let pap: Option<String> = row.try_get("pap")?;
                let status: String = row.try_get("status")?;
                let report: String = row.try_get("report")?;
                Ok(Submission {
                    id: row.try_get("id")?,
                    object_seq: row.try_get("object_seq")?,
                    stix_id: row.try_get("stix_id")?,
                    object_type: row.try_get("object_type")?,
                    tlp: tlp.parse().map_err(corrupt)?,
                    pap: pap.map(|p| p.parse()).transpose().map_err(corrupt)?,
                    provider: OrganisationId::from_stored(row.try_get("provider_id")?),
                    submitted_by: PrincipalId::from_stored(row.try_get("submitted_by")?),
                    case_id: row.try_get("case_id")?,
                    submitted_at: from_micros(row.try_get("submitted_at")?)?,
                    dedup_key: row.try_get("dedup_key")?,
                    report: serde_json::from_str(&report).map_err(corrupt)?,
                    status: status.parse().map_err(corrupt)?,
                    decided_by: row
                        .try_get::<Option<String>, _>("decided_by")?
                        .map(PrincipalId::from_stored),
                    decided_at: optional_time(row.try_get("decided_at")?)?,
                    reason: row.try_get("reason")?,
                    result_id: row.try_get("result_id")?,
                })
            }

            #[async_trait::async_trait]
            impl SubmissionStore for $store {
                async fn case(&self, id: &str) -> StoreResult<Option<Case>> {
                    const SQL: &str =
                        concat!("SELECT ", case_columns!(), " FROM cases WHERE id = $1");
                    let row = sqlx::query(SQL).bind(id).fetch_optional(&self.pool).await?;
                    row.as_ref().map(case_from_row).transpose()
                }

                async fn cases(&self) -> StoreResult<Vec<Case>> {
                    const SQL: &str =
                        concat!("SELECT ", case_columns!(), " FROM cases ORDER BY created_at, id");
                    let rows = sqlx::query(SQL).fetch_all(&self.pool).await?;
                    rows.iter().map(case_from_row).collect()
                }

                async fn set_consent(
                    &self,
                    id: &str,
                    consent: Consent,
                    by: &PrincipalId,
                    at: OffsetDateTime,
                    submissions_collection: &str,
                    audit: &AuditRecord,
                ) -> StoreResult<u64> {
                    let mut tx = self.begin_write().await?;
                    let changed = sqlx::query(
                        "UPDATE cases SET consent = $2, consent_by = $3, consent_at = $4 \
                         WHERE id = $1",
                    )
                    .bind(id)
                    .bind(consent.as_str())
                    .bind(by.as_str())
                    .bind(micros(at))
                    .execute(&mut *tx)
                    .await?
                    .rows_affected();
                    if changed == 0 {
                        return Err(StoreError::NotFound("case"));
                    }
                    // Published copies follow the consent at once; submissions themselves stay
                    // with the CSIRT and their provider whatever the answer.
                    // By lineage: later versions of a published object (an analyst's re-marking)
                    // carry no case but are the same material.
                    let moved = sqlx::query(
                        "UPDATE stix_objects SET confined = $2 \
                         WHERE collection_id <> $3 AND confined <> $2 \
                         AND id IN (SELECT c.id FROM stix_objects c WHERE c.case_id = $1)",
                    )
                    .bind(id)
                    .bind(crate::domain::triage::case_material_confined(consent))
                    .bind(submissions_collection)
                    .execute(&mut *tx)
                    .await?
                    .rows_affected();
                    append(&mut tx, audit).await?;
                    tx.commit().await?;
                    Ok(moved)
                }

                async fn insert_submissions(
                    &self,
                    items: &[(NewObject, NewSubmission)],
                    audits: &[AuditRecord],
                    pending: &$crate::domain::stix::pending::PendingWrites,
                ) -> StoreResult<Vec<Inserted>> {
                    let objects: Vec<NewObject> = items.iter().map(|(o, _)| o.clone()).collect();
                    let mut tx = self.begin_write().await?;
                    write_pending(&mut tx, pending).await?;
                    let outcomes = insert_rows(&mut tx, &objects).await?;
                    // The same version sent again is the same submission: only new rows get
                    // a queue entry. Multi-row statements, as for the objects themselves.
                    let fresh: Vec<(i64, &NewSubmission)> = items
                        .iter()
                        .zip(&outcomes)
                        .filter_map(|((_, s), outcome)| match outcome {
                            Inserted::New(seq) => Some((*seq, s)),
                            Inserted::Duplicate(_) => None,
                        })
                        .collect();
                    for chunk in fresh.chunks(100) {
                        let mut rows = Vec::with_capacity(chunk.len());
                        for (seq, s) in chunk {
                            rows.push((*seq, *s, to_json(&s.report)?));
                        }
                        let mut qb = sqlx::QueryBuilder::new(
                            "INSERT INTO submissions (id, object_seq, stix_id, object_type, tlp, \
                             pap, provider_id, submitted_by, case_id, submitted_at, dedup_key, \
                             report, original, status) ",
                        );
                        qb.push_values(&rows, |mut b, (seq, s, report)| {
                            b.push_bind(&s.id)
                                .push_bind(*seq)
                                .push_bind(&s.stix_id)
                                .push_bind(&s.object_type)
                                .push_bind(s.tlp.as_str())
                                .push_bind(s.pap.map(|p| p.as_str()))
                                .push_bind(s.provider.as_str())
                                .push_bind(s.submitted_by.as_str())
                                .push_bind(s.case_id.as_deref())
                                .push_bind(micros(s.submitted_at))
                                .push_bind(&s.dedup_key)
                                .push_bind(report)
                                .push_bind(s.original.as_deref())
                                .push_bind("pending");
                        });
                        qb.build()
                            .execute(&mut *tx)
                            .await
                            .map_err(|e| $crate::store::portable::write_error(e, "submission"))?;
                    }
                    for audit in audits {
                        append(&mut tx, audit).await?;
                    }
                    tx.commit().await?;
                    self.objects_written(objects.len());
                    Ok(outcomes)
                }

                async fn submission(&self, id: &str) -> StoreResult<Option<Submission>> {
                    const SQL: &str = concat!(
                        "SELECT ",
                        submission_columns!(),
                        " FROM submissions s WHERE s.id = $1"
                    );
                    let row = sqlx::query(SQL).bind(id).fetch_optional(&self.pool).await?;
                    row.as_ref().map(submission_from_row).transpose()
                }

                async fn decided_among(&self, seqs: &[i64]) -> StoreResult<bool> {
                    for seq in seqs {
                        let decided: Option<i64> = sqlx::query_scalar(
                            "SELECT object_seq FROM submissions \
                             WHERE object_seq = $1 AND status <> 'pending'",
                        )
                        .bind(*seq)
                        .fetch_optional(&self.pool)
                        .await?;
                        if decided.is_some() {
                            return Ok(true);
                        }
                    }
                    Ok(false)
                }

                async fn submission_original(
                    &self,
                    id: &str,
                ) -> StoreResult<Option<$crate::domain::markings::sealed::Sealed>> {
                    let original: Option<String> =
                        sqlx::query_scalar("SELECT original FROM submissions WHERE id = $1")
                            .bind(id)
                            .fetch_optional(&self.pool)
                            .await?
                            .flatten();
                    Ok(original.map($crate::domain::markings::sealed::Sealed::new))
                }

                async fn submissions(
                    &self,
                    filter: &SubmissionFilter,
                ) -> StoreResult<Vec<Submission>> {
                    let mut qb = sqlx::QueryBuilder::new(concat!(
                        "SELECT ",
                        submission_columns!(),
                        " FROM submissions s LEFT JOIN cases c ON c.id = s.case_id WHERE 1 = 1"
                    ));
                    if let Some(status) = filter.status {
                        qb.push(" AND s.status = ").push_bind(status.as_str());
                    }
                    if let Some(provider) = &filter.provider {
                        qb.push(" AND s.provider_id = ")
                            .push_bind(provider.as_str().to_owned());
                    }
                    if let Some(t) = &filter.object_type {
                        qb.push(" AND s.object_type = ").push_bind(t.clone());
                    }
                    if let Some(id) = &filter.stix_id {
                        qb.push(" AND s.stix_id = ").push_bind(id.clone());
                    }
                    if let Some(tlp) = filter.tlp {
                        qb.push(" AND s.tlp = ").push_bind(tlp.as_str());
                    }
                    if let Some(consent) = filter.consent {
                        qb.push(" AND c.consent = ").push_bind(consent.as_str());
                    }
                    if let Some(before) = filter.submitted_before {
                        qb.push(" AND s.submitted_at <= ").push_bind(micros(before));
                    }
                    if let Some(after) = filter.submitted_after {
                        qb.push(" AND s.submitted_at >= ").push_bind(micros(after));
                    }
                    qb.push(" ORDER BY s.submitted_at, s.id LIMIT ")
                        .push_bind(i64::from(filter.limit));
                    let rows = qb.build().fetch_all(&self.pool).await?;
                    rows.iter().map(submission_from_row).collect()
                }

                async fn publish_submission(
                    &self,
                    id: &str,
                    object: &NewObject,
                    by: &PrincipalId,
                    at: OffsetDateTime,
                    audit: &AuditRecord,
                ) -> StoreResult<Inserted> {
                    let mut tx = self.begin_write().await?;
                    let inserted = insert_rows(&mut tx, std::slice::from_ref(object))
                        .await?
                        .pop()
                        .ok_or(StoreError::NotFound("inserted object"))?;
                    let closed = sqlx::query(
                        "UPDATE submissions SET status = 'published', decided_by = $2, \
                         decided_at = $3, result_id = $4 WHERE id = $1 AND status = 'pending'",
                    )
                    .bind(id)
                    .bind(by.as_str())
                    .bind(micros(at))
                    .bind(&object.id)
                    .execute(&mut *tx)
                    .await?
                    .rows_affected();
                    if closed == 0 {
                        // Someone decided first: nothing of this publication is kept.
                        return Err(StoreError::Conflict("submission already decided"));
                    }
                    // The consent is read again under the writer lock: a withdrawal recorded
                    // since the service checked it must not let the material out.
                    if let Some(case) = &object.case_id {
                        let consent: Option<String> =
                            sqlx::query_scalar("SELECT consent FROM cases WHERE id = $1")
                                .bind(case)
                                .fetch_optional(&mut *tx)
                                .await?;
                        let gate = consent
                            .as_deref()
                            .and_then(|c| c.parse::<Consent>().ok())
                            .is_some_and(Consent::allows_sharing);
                        if !gate {
                            return Err(StoreError::Conflict(
                                $crate::store::submissions::CONSENT_CHANGED,
                            ));
                        }
                    }
                    append(&mut tx, audit).await?;
                    tx.commit().await?;
                    self.objects_written(1);
                    Ok(inserted)
                }

                async fn close_submission(
                    &self,
                    id: &str,
                    closing: &$crate::store::submissions::Closing<'_>,
                    audit: &AuditRecord,
                ) -> StoreResult<()> {
                    let mut tx = self.begin_write().await?;
                    let closed = sqlx::query(
                        "UPDATE submissions SET status = $2, decided_by = $3, decided_at = $4, \
                         reason = $5, result_id = $6 WHERE id = $1 AND status = 'pending'",
                    )
                    .bind(id)
                    .bind(closing.status.as_str())
                    .bind(closing.by.as_str())
                    .bind(micros(closing.at))
                    .bind(closing.reason)
                    .bind(closing.result_id)
                    .execute(&mut *tx)
                    .await?
                    .rows_affected();
                    if closed == 0 {
                        return Err(StoreError::Conflict("submission already decided"));
                    }
                    append(&mut tx, audit).await?;
                    tx.commit().await?;
                    Ok(())
                }
            }
        }
    };
}
pub(super) use submission_sql;
