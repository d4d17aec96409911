//! The registry's SQL, written once for both backends.
//!
//! Both SQLite and PostgreSQL accept `$N` placeholders, `ON CONFLICT` and `RETURNING`, so the
//! statements below are identical on the two. The macro stamps them into a `Store`
//! implementation for a backend's pool type; the contract tests run every method on both.

use crate::domain::principal::UnknownVariant;

use super::StoreError;

impl From<UnknownVariant> for StoreError {
    fn from(e: UnknownVariant) -> Self {
        StoreError::Corrupt(e.to_string())
    }
}

/// Maps a failed write to `Conflict` when a uniqueness rule refused it, and to `NotFound` when
/// a reference named a missing row.
pub(super) fn write_error(e: sqlx::Error, what: &'static str) -> StoreError {
    if let sqlx::Error::Database(db) = &e {
        if db.is_unique_violation() {
            return StoreError::Conflict(what);
        }
        if db.is_foreign_key_violation() {
            return StoreError::NotFound("referenced row");
        }
    }
    StoreError::Database(e)
}

// Column lists as macros because sqlx only takes SQL known at compile time: `concat!` can
// splice these, `format!` could not.
macro_rules! org_columns {
    () => {
        "id, name, kind, status, created_at"
    };
}
macro_rules! principal_columns {
    () => {
        "id, organisation_id, kind, name, status, created_at"
    };
}
macro_rules! binding_columns {
    () => {
        "fingerprint, principal_id, serial, subject, issuer, not_before, not_after, \
         issued_by_hub, revoked_at, revocation_reason, created_at"
    };
}
macro_rules! object_columns {
    () => {
        "o.seq, o.collection_id, o.id, o.type, o.spec_version, o.version, o.date_added, o.tlp, \
         o.tlp_defaulted, o.pap, o.granular, o.producer, o.submitted_by, o.shared_with, \
         o.recipients, o.raw, o.confined, o.refs, o.origin_peer"
    };
}
pub(super) use {binding_columns, object_columns, org_columns, principal_columns};

pub(super) use super::codec::{from_micros, micros};

/// JSON text of the list columns that mirror the share and recipient tables.
pub(super) fn to_json<T: serde::Serialize + ?Sized>(value: &T) -> Result<String, StoreError> {
    serde_json::to_string(value).map_err(|e| StoreError::Corrupt(e.to_string()))
}

macro_rules! portable_store {
    ($store:ident, $row:ident) => {
        /// The portable registry SQL, instantiated for this backend.
        mod registry_sql {
        use super::{$store, $row};
        use $crate::domain::access::RegistryRecord;
        use $crate::domain::principal::{
            CertificateBinding, Organisation, OrganisationId, OrganisationStatus, Principal,
            PrincipalId, PrincipalStatus, SpkiFingerprint,
        };
        use $crate::store::portable::{
            binding_columns, from_micros, micros, object_columns, org_columns, principal_columns,
            to_json, write_error,
        };
        use $crate::store::{Backend, Store, StoreError, StoreResult, StoredCrl};
        use $crate::domain::audit::record::AuditRecord;
        use super::audit_sql::append;
        use $crate::domain::markings::UnknownLevel;
        use $crate::domain::markings::release::ObjectAccess;
        use $crate::domain::stix::stored::{
            Inserted, NewObject, ObjectQuery, ReferencedObject, StoredObject,
        };
        use $crate::store::visibility::{push_object_filters, push_visibility};
        use $crate::domain::stix::pending::{
            PendingState, PendingWrites, Resolution, StoredPending,
        };
        use $crate::domain::markings::release::VisibilityFilter;
        use $crate::domain::markings::sealed::Sealed;
        use sqlx::Row as _;
        use time::OffsetDateTime;

        fn organisation_from_row(row: &$row, offset: usize) -> StoreResult<Organisation> {
            Ok(Organisation {
                id: OrganisationId::from_stored(row.try_get(offset)?),
                name: row.try_get(offset + 1)?,
                kind: row.try_get::<String, _>(offset + 2)?.parse()?,
                status: row.try_get::<String, _>(offset + 3)?.parse()?,
                created_at: row.try_get(offset + 4)?,
            })
        }

        fn principal_from_row(row: &$row, offset: usize) -> StoreResult<Principal> {
            Ok(Principal {
                id: PrincipalId::from_stored(row.try_get(offset)?),
                organisation_id: OrganisationId::from_stored(row.try_get(offset + 1)?),
                kind: row.try_get::<String, _>(offset + 2)?.parse()?,
                name: row.try_get(offset + 3)?,
                status: row.try_get::<String, _>(offset + 4)?.parse()?,
                created_at: row.try_get(offset + 5)?,
            })
        }

        fn binding_from_row(row: &$row, offset: usize) -> StoreResult<CertificateBinding> {
            let fingerprint: String = row.try_get(offset)?;
            Ok(CertificateBinding {
                fingerprint: fingerprint
                    .parse()
                    .map_err(|_| StoreError::Corrupt(format!("fingerprint {fingerprint:?}")))?,
                principal_id: PrincipalId::from_stored(row.try_get(offset + 1)?),
                serial: row.try_get(offset + 2)?,
                subject: row.try_get(offset + 3)?,
                issuer: row.try_get(offset + 4)?,
                not_before: row.try_get(offset + 5)?,
                not_after: row.try_get(offset + 6)?,
                issued_by_hub: row.try_get(offset + 7)?,
                revoked_at: row.try_get(offset + 8)?,
                revocation_reason: row.try_get(offset + 9)?,
                created_at: row.try_get(offset + 10)?,
            })
        }

        fn crl_from_row(row: &$row) -> StoreResult<StoredCrl> {
            Ok(StoredCrl {
                number: row.try_get(0)?,
                der: row.try_get(1)?,
                this_update: row.try_get(2)?,
            })
        }

        /// What a stored text references, for rows stored before that was recorded.
        fn references_of(raw: &str) -> Vec<String> {
            serde_json::from_str(raw)
                .map(|v| $crate::domain::stix::references::referenced_ids(&v))
                .unwrap_or_default()
        }

        fn json_list(text: String) -> StoreResult<Vec<String>> {
            serde_json::from_str(&text).map_err(|e| StoreError::Corrupt(e.to_string()))
        }

        /// The access columns of a `stix_objects` row.
        fn access_from_row(row: &$row) -> StoreResult<ObjectAccess> {
            let tlp: String = row.try_get("tlp")?;
            let pap: Option<String> = row.try_get("pap")?;
            let granular: String = row.try_get("granular")?;
            let collection: String = row.try_get("collection_id")?;
            Ok(ObjectAccess {
                tlp: tlp.parse().map_err(|e: UnknownLevel| StoreError::Corrupt(e.to_string()))?,
                pap: pap
                    .map(|p| p.parse())
                    .transpose()
                    .map_err(|e: UnknownLevel| StoreError::Corrupt(e.to_string()))?,
                producer: OrganisationId::from_stored(row.try_get("producer")?),
                shared_with: json_list(row.try_get("shared_with")?)?
                    .into_iter()
                    .map(OrganisationId::from_stored)
                    .collect(),
                recipients: json_list(row.try_get("recipients")?)?
                    .into_iter()
                    .map(PrincipalId::from_stored)
                    .collect(),
                granular: serde_json::from_str(&granular)
                    .map_err(|e| StoreError::Corrupt(e.to_string()))?,
                confined: row.try_get("confined")?,
                submission: collection == $crate::domain::collections::SUBMISSIONS.id,
                origin_peer: row
                    .try_get::<Option<String>, _>("origin_peer")?
                    .map(PrincipalId::from_stored),
            })
        }

        fn stored_object_from_row(row: &$row) -> StoreResult<StoredObject> {
            let raw: String = row.try_get("raw")?;
            Ok(StoredObject {
                seq: row.try_get("seq")?,
                id: row.try_get("id")?,
                object_type: row.try_get("type")?,
                spec_version: row.try_get("spec_version")?,
                version: row.try_get("version")?,
                date_added: from_micros(row.try_get("date_added")?)?,
                access: access_from_row(row)?,
                tlp_defaulted: row.try_get("tlp_defaulted")?,
                collection: row.try_get("collection_id")?,
                submitted_by: PrincipalId::from_stored(row.try_get("submitted_by")?),
                // A row stored before its references were recorded (migration 0010) has them
                // read from its text until the start-up fill records them.
                refs: match row.try_get::<Option<String>, _>("refs")? {
                    Some(text) => json_list(text)?,
                    None => references_of(&raw),
                },
                raw: Sealed::new(raw),
            })
        }

        /// The share and recipient rows of a newly stored object.
        async fn insert_links(
            tx: &mut sqlx::Transaction<'static, <$row as sqlx::Row>::Database>,
            seq: i64,
            access: &ObjectAccess,
        ) -> StoreResult<()> {
            for org in &access.shared_with {
                sqlx::query(
                    "INSERT INTO stix_object_shares (object_seq, organisation_id) \
                     VALUES ($1, $2) ON CONFLICT DO NOTHING",
                )
                .bind(seq)
                .bind(org.as_str())
                .execute(&mut **tx)
                .await?;
            }
            for principal in &access.recipients {
                sqlx::query(
                    "INSERT INTO stix_object_recipients (object_seq, principal_id) \
                     VALUES ($1, $2) ON CONFLICT DO NOTHING",
                )
                .bind(seq)
                .bind(principal.as_str())
                .execute(&mut **tx)
                .await?;
            }
            Ok(())
        }

        /// Writes the pending-object part of an envelope's transaction: resolutions first,
        /// each of a row still pending (`Conflict` otherwise: another instance resolved it),
        /// then the objects newly set aside.
        pub(super) async fn write_pending(
            tx: &mut sqlx::Transaction<'static, <$row as sqlx::Row>::Database>,
            pending: &PendingWrites,
        ) -> StoreResult<()> {
            for (key, resolution) in &pending.resolved {
                let (state, message) = match resolution {
                    Resolution::Stored => (PendingState::Stored, None),
                    Resolution::Failed(m) => (PendingState::Failed, Some(m.as_str())),
                };
                let done = sqlx::query(
                    "UPDATE pending_objects SET state = $1, message = COALESCE($2, message), \
                     raw = NULL WHERE id = $3 AND state = 'pending'",
                )
                .bind(state.as_str())
                .bind(message)
                .bind(*key)
                .execute(&mut **tx)
                .await?;
                if done.rows_affected() != 1 {
                    return Err(StoreError::Conflict("pending object"));
                }
            }
            for p in &pending.new {
                sqlx::query(
                    "INSERT INTO pending_objects (status_id, position, object_id, version, \
                     collection_id, principal_id, fingerprint, case_id, raw, waiting_for, \
                     message, state, received_at, expires_at) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, 'pending', $12, $13)",
                )
                .bind(&p.status_id)
                .bind(i64::from(p.position))
                .bind(p.object_id.as_deref())
                .bind(p.version.as_deref())
                .bind(&p.collection)
                .bind(p.principal.as_str())
                .bind(&p.fingerprint)
                .bind(p.case_id.as_deref())
                .bind(&p.raw)
                .bind(to_json(&p.waiting_for)?)
                .bind(&p.message)
                .bind(micros(p.received_at))
                .bind(micros(p.expires_at))
                .execute(&mut **tx)
                .await
                .map_err(|e| write_error(e, "pending object"))?;
            }
            Ok(())
        }

        fn pending_from_row(row: &$row) -> StoreResult<StoredPending> {
            let position: i64 = row.try_get("position")?;
            Ok(StoredPending {
                key: row.try_get("id")?,
                state: row
                    .try_get::<String, _>("state")?
                    .parse()
                    .map_err(StoreError::Corrupt)?,
                status_id: row.try_get("status_id")?,
                position: u32::try_from(position)
                    .map_err(|e| StoreError::Corrupt(e.to_string()))?,
                object_id: row.try_get("object_id")?,
                version: row.try_get("version")?,
                collection: row.try_get("collection_id")?,
                principal: PrincipalId::from_stored(row.try_get("principal_id")?),
                fingerprint: row.try_get("fingerprint")?,
                case_id: row.try_get("case_id")?,
                raw: row.try_get("raw")?,
                waiting_for: json_list(row.try_get("waiting_for")?)?,
                message: row.try_get("message")?,
                expires_at: from_micros(row.try_get("expires_at")?)?,
            })
        }

        /// Stores object versions, with their shares and recipients, inside a write
        /// transaction the caller holds (see `insert_objects`).
        pub(super) async fn insert_rows(
            tx: &mut sqlx::Transaction<'static, <$row as sqlx::Row>::Database>,
            objects: &[NewObject],
        ) -> StoreResult<Vec<Inserted>> {
        let last: Option<i64> = sqlx::query_scalar("SELECT MAX(date_added) FROM stix_objects")
            .fetch_one(&mut **tx)
            .await?;
        let shift = match (last, objects.first()) {
            (Some(last), Some(first)) => (last + 1 - micros(first.date_added)).max(0),
            _ => 0,
        };
        let mut outcomes = Vec::with_capacity(objects.len());
        // Multi-row statements: one round trip to the database per chunk, not per row.
        // 20 parameters a row stays far below either backend's parameter limit.
        const ROWS_PER_STATEMENT: usize = 100;
        for chunk in objects.chunks(ROWS_PER_STATEMENT) {
            let mut rows = Vec::with_capacity(chunk.len());
            for object in chunk {
                let a = &object.access;
                rows.push((
                    object,
                    to_json(&a.granular)?,
                    to_json(&a.shared_with)?,
                    to_json(&a.recipients)?,
                    to_json(&object.refs)?,
                ));
            }
            let mut qb = sqlx::QueryBuilder::new(
                "INSERT INTO stix_objects (collection_id, id, type, spec_version, version, \
                 date_added, tlp, tlp_defaulted, pap, granular_max, granular, producer, \
                 submitted_by, shared_with, recipients, raw, confined, case_id, refs, \
                 origin_peer) ",
            );
            qb.push_values(&rows, |mut b, (object, granular, shared, recipients, refs)| {
                let a = &object.access;
                b.push_bind(&object.collection)
                    .push_bind(&object.id)
                    .push_bind(&object.object_type)
                    .push_bind(&object.spec_version)
                    .push_bind(&object.version)
                    .push_bind(micros(object.date_added) + shift)
                    .push_bind(a.tlp.as_str())
                    .push_bind(object.tlp_defaulted)
                    .push_bind(a.pap.map(|p| p.as_str()))
                    .push_bind(a.granular_max().map(|t| t.as_str()))
                    .push_bind(granular)
                    .push_bind(a.producer.as_str())
                    .push_bind(object.submitted_by.as_str())
                    .push_bind(shared)
                    .push_bind(recipients)
                    .push_bind(&object.raw)
                    .push_bind(a.confined)
                    .push_bind(object.case_id.as_deref())
                    .push_bind(refs)
                    .push_bind(a.origin_peer.as_ref().map(|p| p.as_str()));
            });
            qb.push(" ON CONFLICT (collection_id, id, version) DO NOTHING RETURNING seq, id, version");
            let returned = qb
                .build()
                .fetch_all(&mut **tx)
                .await
                .map_err(|e| write_error(e, "object"))?;
            let mut new: std::collections::HashMap<(String, String), i64> =
                std::collections::HashMap::with_capacity(returned.len());
            for row in &returned {
                new.insert((row.try_get("id")?, row.try_get("version")?), row.try_get("seq")?);
            }
            for object in chunk {
                // `remove`: a second copy of the same version in one envelope is a duplicate.
                match new.remove(&(object.id.clone(), object.version.clone())) {
                    Some(seq) => {
                        insert_links(tx, seq, &object.access).await?;
                        outcomes.push(Inserted::New(seq));
                    }
                    None => {
                        let existing: i64 = sqlx::query_scalar(
                            "SELECT seq FROM stix_objects \
                             WHERE collection_id = $1 AND id = $2 AND version = $3",
                        )
                        .bind(&object.collection)
                        .bind(&object.id)
                        .bind(&object.version)
                        .fetch_one(&mut **tx)
                        .await?;
                        outcomes.push(Inserted::Duplicate(existing));
                    }
                }
            }
        }
            Ok(outcomes)
        }

        fn one_row_changed(rows: u64, what: &'static str) -> StoreResult<()> {
            if rows == 0 {
                Err(StoreError::NotFound(what))
            } else {
                Ok(())
            }
        }

        #[async_trait::async_trait]
        impl Store for $store {
            fn backend(&self) -> Backend {
                Self::BACKEND
            }

            async fn ping(&self) -> StoreResult<()> {
                sqlx::query("SELECT 1").execute(&self.pool).await?;
                Ok(())
            }

            async fn insert_organisation(
                &self,
                org: &Organisation,
                audit: &AuditRecord,
            ) -> StoreResult<()> {
                let mut tx = self.begin_write().await?;
                sqlx::query(
                    "INSERT INTO organisations (id, name, kind, status, created_at, updated_at) \
                     VALUES ($1, $2, $3, $4, $5, $5)",
                )
                .bind(org.id.as_str())
                .bind(&org.name)
                .bind(org.kind.as_str())
                .bind(org.status.as_str())
                .bind(org.created_at)
                .execute(&mut *tx)
                .await
                .map_err(|e| write_error(e, "organisation"))?;
                append(&mut tx, audit).await?;
                tx.commit().await?;
                Ok(())
            }

            async fn organisation(
                &self,
                id: &OrganisationId,
            ) -> StoreResult<Option<Organisation>> {
                const SQL: &str = concat!("SELECT ", org_columns!(), " FROM organisations WHERE id = $1");
                let row = sqlx::query(SQL).bind(id.as_str()).fetch_optional(&self.pool).await?;
                row.map(|r| organisation_from_row(&r, 0)).transpose()
            }

            async fn organisation_by_name(&self, name: &str) -> StoreResult<Option<Organisation>> {
                const SQL: &str = concat!("SELECT ", org_columns!(), " FROM organisations WHERE name = $1");
                let row = sqlx::query(SQL).bind(name).fetch_optional(&self.pool).await?;
                row.map(|r| organisation_from_row(&r, 0)).transpose()
            }

            async fn organisations(&self) -> StoreResult<Vec<Organisation>> {
                const SQL: &str = concat!("SELECT ", org_columns!(), " FROM organisations ORDER BY name");
                let rows = sqlx::query(SQL).fetch_all(&self.pool).await?;
                rows.iter().map(|r| organisation_from_row(r, 0)).collect()
            }

            async fn set_organisation_status(
                &self,
                id: &OrganisationId,
                status: OrganisationStatus,
                at: OffsetDateTime,
                audit: &AuditRecord,
            ) -> StoreResult<()> {
                let mut tx = self.begin_write().await?;
                let done = sqlx::query(
                    "UPDATE organisations SET status = $2, updated_at = $3 WHERE id = $1",
                )
                .bind(id.as_str())
                .bind(status.as_str())
                .bind(at)
                .execute(&mut *tx)
                .await?;
                one_row_changed(done.rows_affected(), "organisation")?;
                append(&mut tx, audit).await?;
                tx.commit().await?;
                Ok(())
            }

            async fn insert_principal(&self, p: &Principal, audit: &AuditRecord) -> StoreResult<()> {
                let mut tx = self.begin_write().await?;
                sqlx::query(
                    "INSERT INTO principals \
                     (id, organisation_id, kind, name, status, created_at, updated_at) \
                     VALUES ($1, $2, $3, $4, $5, $6, $6)",
                )
                .bind(p.id.as_str())
                .bind(p.organisation_id.as_str())
                .bind(p.kind.as_str())
                .bind(&p.name)
                .bind(p.status.as_str())
                .bind(p.created_at)
                .execute(&mut *tx)
                .await
                .map_err(|e| write_error(e, "principal"))?;
                append(&mut tx, audit).await?;
                tx.commit().await?;
                Ok(())
            }

            async fn principal(&self, id: &PrincipalId) -> StoreResult<Option<Principal>> {
                const SQL: &str = concat!("SELECT ", principal_columns!(), " FROM principals WHERE id = $1");
                let row = sqlx::query(SQL).bind(id.as_str()).fetch_optional(&self.pool).await?;
                row.map(|r| principal_from_row(&r, 0)).transpose()
            }

            async fn principal_by_name(
                &self,
                organisation: &OrganisationId,
                name: &str,
            ) -> StoreResult<Option<Principal>> {
                const SQL: &str = concat!("SELECT ", principal_columns!(), " FROM principals \
                     WHERE organisation_id = $1 AND name = $2");
                let row = sqlx::query(SQL)
                    .bind(organisation.as_str())
                    .bind(name)
                    .fetch_optional(&self.pool)
                    .await?;
                row.map(|r| principal_from_row(&r, 0)).transpose()
            }

            async fn principals(&self) -> StoreResult<Vec<Principal>> {
                const SQL: &str = concat!("SELECT ", principal_columns!(), " FROM principals ORDER BY organisation_id, name");
                let rows = sqlx::query(SQL).fetch_all(&self.pool).await?;
                rows.iter().map(|r| principal_from_row(r, 0)).collect()
            }

            async fn set_principal_status(
                &self,
                id: &PrincipalId,
                status: PrincipalStatus,
                at: OffsetDateTime,
                audit: &AuditRecord,
            ) -> StoreResult<()> {
                let mut tx = self.begin_write().await?;
                let done = sqlx::query(
                    "UPDATE principals SET status = $2, updated_at = $3 WHERE id = $1",
                )
                .bind(id.as_str())
                .bind(status.as_str())
                .bind(at)
                .execute(&mut *tx)
                .await?;
                one_row_changed(done.rows_affected(), "principal")?;
                append(&mut tx, audit).await?;
                tx.commit().await?;
                Ok(())
            }

            async fn insert_binding(
                &self,
                b: &CertificateBinding,
                audit: &AuditRecord,
            ) -> StoreResult<()> {
                let mut tx = self.begin_write().await?;
                sqlx::query(
                    "INSERT INTO certificates (fingerprint, principal_id, serial, subject, \
                     issuer, not_before, not_after, issued_by_hub, revoked_at, \
                     revocation_reason, created_at) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
                )
                .bind(b.fingerprint.to_hex())
                .bind(b.principal_id.as_str())
                .bind(&b.serial)
                .bind(&b.subject)
                .bind(&b.issuer)
                .bind(b.not_before)
                .bind(b.not_after)
                .bind(b.issued_by_hub)
                .bind(b.revoked_at)
                .bind(&b.revocation_reason)
                .bind(b.created_at)
                .execute(&mut *tx)
                .await
                .map_err(|e| write_error(e, "certificate binding"))?;
                append(&mut tx, audit).await?;
                tx.commit().await?;
                Ok(())
            }

            async fn bindings(&self) -> StoreResult<Vec<CertificateBinding>> {
                const SQL: &str = concat!("SELECT ", binding_columns!(), " FROM certificates ORDER BY created_at, serial");
                let rows = sqlx::query(SQL).fetch_all(&self.pool).await?;
                rows.iter().map(|r| binding_from_row(r, 0)).collect()
            }

            async fn binding(
                &self,
                fingerprint: &SpkiFingerprint,
            ) -> StoreResult<Option<CertificateBinding>> {
                const SQL: &str = concat!("SELECT ", binding_columns!(), " FROM certificates WHERE fingerprint = $1");
                let row = sqlx::query(SQL)
                    .bind(fingerprint.to_hex())
                    .fetch_optional(&self.pool)
                    .await?;
                row.map(|r| binding_from_row(&r, 0)).transpose()
            }

            async fn registry_record(
                &self,
                fingerprint: &SpkiFingerprint,
            ) -> StoreResult<Option<RegistryRecord>> {
                const SQL: &str = "SELECT c.fingerprint, c.principal_id, c.serial, c.subject, \
                     c.issuer, c.not_before, c.not_after, c.issued_by_hub, c.revoked_at, \
                     c.revocation_reason, c.created_at, \
                     p.id, p.organisation_id, p.kind, p.name, p.status, p.created_at, \
                     o.id, o.name, o.kind, o.status, o.created_at \
                     FROM certificates c \
                     JOIN principals p ON p.id = c.principal_id \
                     JOIN organisations o ON o.id = p.organisation_id \
                     WHERE c.fingerprint = $1";
                let row = sqlx::query(SQL)
                    .bind(fingerprint.to_hex())
                    .fetch_optional(&self.pool)
                    .await?;
                row.map(|r| {
                    Ok(RegistryRecord {
                        binding: binding_from_row(&r, 0)?,
                        principal: principal_from_row(&r, 11)?,
                        organisation: organisation_from_row(&r, 17)?,
                    })
                })
                .transpose()
            }

            async fn revoke_binding(
                &self,
                fingerprint: &SpkiFingerprint,
                at: OffsetDateTime,
                reason: &str,
                audit: &AuditRecord,
            ) -> StoreResult<bool> {
                let mut tx = self.begin_write().await?;
                let done = sqlx::query(
                    "UPDATE certificates SET revoked_at = $2, revocation_reason = $3 \
                     WHERE fingerprint = $1 AND revoked_at IS NULL",
                )
                .bind(fingerprint.to_hex())
                .bind(at)
                .bind(reason)
                .execute(&mut *tx)
                .await?;
                if done.rows_affected() == 1 {
                    append(&mut tx, audit).await?;
                    tx.commit().await?;
                    return Ok(true);
                }
                // Nothing changed, nothing to record.
                drop(tx);
                match self.binding(fingerprint).await? {
                    Some(_) => Ok(false),
                    None => Err(StoreError::NotFound("certificate binding")),
                }
            }

            async fn insert_crl(&self, crl: &StoredCrl, audit: &AuditRecord) -> StoreResult<()> {
                let mut tx = self.begin_write().await?;
                sqlx::query("INSERT INTO crls (number, der, this_update) VALUES ($1, $2, $3)")
                    .bind(crl.number)
                    .bind(&crl.der)
                    .bind(crl.this_update)
                    .execute(&mut *tx)
                    .await
                    .map_err(|e| write_error(e, "CRL number"))?;
                append(&mut tx, audit).await?;
                tx.commit().await?;
                Ok(())
            }

            async fn latest_crl(&self) -> StoreResult<Option<StoredCrl>> {
                let row = sqlx::query(
                    "SELECT number, der, this_update FROM crls ORDER BY number DESC LIMIT 1",
                )
                .fetch_optional(&self.pool)
                .await?;
                row.map(|r| crl_from_row(&r)).transpose()
            }

            async fn latest_crl_number(&self) -> StoreResult<Option<i64>> {
                let n: Option<i64> = sqlx::query_scalar("SELECT MAX(number) FROM crls")
                    .fetch_one(&self.pool)
                    .await?;
                Ok(n)
            }

            async fn insert_object(
                &self,
                object: &NewObject,
                audit: &AuditRecord,
            ) -> StoreResult<Inserted> {
                self.insert_objects(
                    std::slice::from_ref(object),
                    std::slice::from_ref(audit),
                    &PendingWrites::default(),
                )
                .await?
                    .pop()
                    .ok_or(StoreError::NotFound("inserted object"))
            }

            async fn insert_objects(
                &self,
                objects: &[NewObject],
                audits: &[AuditRecord],
                pending: &PendingWrites,
            ) -> StoreResult<Vec<Inserted>> {
                // One writer at a time: rows get their seq and date_added in commit order, so a
                // reader paging by seq never misses a row committed late, and date_added grows
                // with seq (which turns added_after into a position).
                let mut tx = self.begin_write().await?;
                write_pending(&mut tx, pending).await?;
                let outcomes = insert_rows(&mut tx, objects).await?;
                for audit in audits {
                    append(&mut tx, audit).await?;
                }
                tx.commit().await?;
                self.objects_written(objects.len());
                Ok(outcomes)
            }

            async fn objects(&self, query: &ObjectQuery) -> StoreResult<Vec<StoredObject>> {
                let mut qb = sqlx::QueryBuilder::new(
                    concat!("SELECT ", object_columns!(), " FROM stix_objects o"),
                );
                push_object_filters(&mut qb, query, true);
                qb.push(" ORDER BY o.seq LIMIT ");
                qb.push_bind(i64::from(query.limit));
                let rows = qb.build().fetch_all(&self.pool).await?;
                rows.iter().map(stored_object_from_row).collect()
            }

            async fn versions_of_many(
                &self,
                collection: &str,
                ids: &[String],
            ) -> StoreResult<Vec<StoredObject>> {
                // Bounded IN lists: SQLite allows 32,766 parameters, PostgreSQL 65,535.
                const CHUNK: usize = 500;
                let mut out = Vec::new();
                for chunk in ids.chunks(CHUNK) {
                    let mut qb = sqlx::QueryBuilder::new(concat!(
                        "SELECT ",
                        object_columns!(),
                        " FROM stix_objects o WHERE o.collection_id = "
                    ));
                    qb.push_bind(collection.to_owned());
                    qb.push(" AND o.id IN (");
                    let mut list = qb.separated(", ");
                    for id in chunk {
                        list.push_bind(id.clone());
                    }
                    qb.push(") ORDER BY o.id, o.version, o.seq");
                    let rows = qb.build().fetch_all(&self.pool).await?;
                    for row in &rows {
                        out.push(stored_object_from_row(row)?);
                    }
                }
                Ok(out)
            }

            async fn delete_objects(&self, seqs: &[i64], audit: &AuditRecord) -> StoreResult<u64> {
                let mut tx = self.begin_write().await?;
                let mut deleted = 0;
                for seq in seqs {
                    // Shares and recipients go with the row (ON DELETE CASCADE).
                    // A submission the CSIRT has decided on is part of the record: its object
                    // stays (the guard holds even if the decision lands meanwhile).
                    deleted += sqlx::query(
                        "DELETE FROM stix_objects WHERE seq = $1 AND NOT EXISTS \
                         (SELECT 1 FROM submissions s \
                          WHERE s.object_seq = stix_objects.seq AND s.status <> 'pending')",
                    )
                        .bind(seq)
                        .execute(&mut *tx)
                        .await?
                        .rows_affected();
                }
                append(&mut tx, audit).await?;
                tx.commit().await?;
                Ok(deleted)
            }

            async fn marking_definitions(&self, id: &str) -> StoreResult<Vec<StoredObject>> {
                // Naming every collection lets the (collection_id, id, version) key serve
                // the lookup; there is no index on id alone.
                let mut qb = sqlx::QueryBuilder::new(concat!(
                    "SELECT ",
                    object_columns!(),
                    " FROM stix_objects o WHERE o.collection_id IN ("
                ));
                let mut list = qb.separated(", ");
                for collection in &crate::domain::collections::COLLECTIONS {
                    list.push_bind(collection.id);
                }
                qb.push(") AND o.id = ");
                qb.push_bind(id.to_owned());
                qb.push(" AND o.type = 'marking-definition' ORDER BY o.seq DESC");
                let rows = qb.build().fetch_all(&self.pool).await?;
                rows.iter().map(stored_object_from_row).collect()
            }

            async fn referenced_objects(
                &self,
                collections: &[&str],
                ids: &[String],
                visibility: &VisibilityFilter,
            ) -> StoreResult<Vec<ReferencedObject>> {
                // Far below either backend's parameter limit (SQLite 32,766, PostgreSQL 65,535).
                const CHUNK: usize = 500;
                let mut out = Vec::new();
                if collections.is_empty() {
                    return Ok(out);
                }
                for chunk in ids.chunks(CHUNK) {
                    // Collections and ids both named: the (collection_id, id, version) key
                    // serves the lookup. The text is read only for rows stored before their
                    // references were recorded, the markings only for rows with granular ones.
                    let mut qb = sqlx::QueryBuilder::new(
                        "SELECT o.seq, o.id, o.collection_id, o.refs, \
                         o.granular_max IS NOT NULL AS granular, \
                         CASE WHEN o.refs IS NULL THEN o.raw END AS legacy_raw \
                         FROM stix_objects o WHERE o.collection_id IN (",
                    );
                    let mut list = qb.separated(", ");
                    for collection in collections {
                        list.push_bind((*collection).to_owned());
                    }
                    qb.push(") AND o.id IN (");
                    let mut list = qb.separated(", ");
                    for id in chunk {
                        list.push_bind(id.clone());
                    }
                    qb.push(") AND ");
                    push_visibility(&mut qb, visibility, "o");
                    // No order: the rule's answer does not depend on it.
                    let rows = qb.build().fetch_all(&self.pool).await?;
                    let mut marked = Vec::new();
                    for row in &rows {
                        let refs = match row.try_get::<Option<String>, _>("refs")? {
                            Some(text) => json_list(text)?,
                            None => {
                                let raw: Option<String> = row.try_get("legacy_raw")?;
                                raw.as_deref().map(references_of).unwrap_or_default()
                            }
                        };
                        let seq: i64 = row.try_get("seq")?;
                        if row.try_get::<bool, _>("granular")? {
                            marked.push(seq);
                        }
                        let collection: String = row.try_get("collection_id")?;
                        out.push(ReferencedObject {
                            seq,
                            id: row.try_get("id")?,
                            refs,
                            access: None,
                            submission: collection == $crate::domain::collections::SUBMISSIONS.id,
                            raw: None,
                        });
                    }
                    if !marked.is_empty() {
                        let mut qb = sqlx::QueryBuilder::new(
                            "SELECT o.seq, o.collection_id, o.tlp, o.pap, o.granular, \
                             o.producer, o.shared_with, o.recipients, o.confined, o.origin_peer \
                             FROM stix_objects o WHERE o.seq IN (",
                        );
                        let mut list = qb.separated(", ");
                        for seq in &marked {
                            list.push_bind(*seq);
                        }
                        qb.push(")");
                        let mut access = std::collections::HashMap::new();
                        for row in qb.build().fetch_all(&self.pool).await? {
                            access.insert(row.try_get::<i64, _>("seq")?, access_from_row(&row)?);
                        }
                        // A row deleted in between is no candidate: its markings are not
                        // known, so nothing may be released on its strength.
                        out.retain(|o| !marked.contains(&o.seq) || access.contains_key(&o.seq));
                        for o in out.iter_mut() {
                            if let Some(a) = access.remove(&o.seq) {
                                o.access = Some(a);
                            }
                        }
                    }
                }
                Ok(out)
            }

            async fn object_texts(&self, seqs: &[i64]) -> StoreResult<Vec<(i64, Sealed)>> {
                const CHUNK: usize = 500;
                let mut out = Vec::with_capacity(seqs.len());
                for chunk in seqs.chunks(CHUNK) {
                    let mut qb = sqlx::QueryBuilder::new(
                        "SELECT seq, raw FROM stix_objects WHERE seq IN (",
                    );
                    let mut list = qb.separated(", ");
                    for seq in chunk {
                        list.push_bind(*seq);
                    }
                    qb.push(")");
                    for row in qb.build().fetch_all(&self.pool).await? {
                        out.push((row.try_get("seq")?, Sealed::new(row.try_get("raw")?)));
                    }
                }
                Ok(out)
            }

            async fn fill_references(&self, limit: u32) -> StoreResult<u64> {
                let mut tx = self.begin_write().await?;
                let rows = sqlx::query(
                    "SELECT seq, raw FROM stix_objects WHERE refs IS NULL ORDER BY seq LIMIT $1",
                )
                .bind(i64::from(limit))
                .fetch_all(&mut *tx)
                .await?;
                for row in &rows {
                    let seq: i64 = row.try_get("seq")?;
                    let raw: String = row.try_get("raw")?;
                    sqlx::query("UPDATE stix_objects SET refs = $1 WHERE seq = $2")
                        .bind(to_json(&references_of(&raw))?)
                        .bind(seq)
                        .execute(&mut *tx)
                        .await?;
                }
                tx.commit().await?;
                Ok(rows.len() as u64)
            }

            async fn count_objects(&self, query: &ObjectQuery) -> StoreResult<u64> {
                let mut qb = sqlx::QueryBuilder::new("SELECT COUNT(*) FROM stix_objects o");
                push_object_filters(&mut qb, query, false);
                let n: i64 = qb.build_query_scalar().fetch_one(&self.pool).await?;
                Ok(u64::try_from(n).unwrap_or(0))
            }

            async fn open_pending(&self, limit: u32) -> StoreResult<Vec<StoredPending>> {
                let rows = sqlx::query(
                    "SELECT * FROM pending_objects WHERE state = 'pending' \
                     ORDER BY status_id, position LIMIT $1",
                )
                .bind(i64::from(limit))
                .fetch_all(&self.pool)
                .await?;
                rows.iter().map(pending_from_row).collect()
            }

            async fn pending_of_status(&self, status_id: &str) -> StoreResult<Vec<StoredPending>> {
                let rows = sqlx::query(
                    "SELECT * FROM pending_objects WHERE status_id = $1 ORDER BY position",
                )
                .bind(status_id)
                .fetch_all(&self.pool)
                .await?;
                rows.iter().map(pending_from_row).collect()
            }

            async fn insert_status(
                &self,
                id: &str,
                principal: &PrincipalId,
                at: OffsetDateTime,
                body: &str,
            ) -> StoreResult<()> {
                sqlx::query(
                    "INSERT INTO taxii_status (id, principal_id, created_at, body) \
                     VALUES ($1, $2, $3, $4)",
                )
                .bind(id)
                .bind(principal.as_str())
                .bind(at)
                .bind(body)
                .execute(&self.pool)
                .await
                .map_err(|e| write_error(e, "status"))?;
                Ok(())
            }

            async fn status(
                &self,
                id: &str,
                principal: &PrincipalId,
            ) -> StoreResult<Option<String>> {
                Ok(sqlx::query_scalar(
                    "SELECT body FROM taxii_status WHERE id = $1 AND principal_id = $2",
                )
                .bind(id)
                .bind(principal.as_str())
                .fetch_optional(&self.pool)
                .await?)
            }

            async fn hub_secret(&self, name: &str) -> StoreResult<Option<Vec<u8>>> {
                Ok(sqlx::query_scalar("SELECT value FROM hub_secrets WHERE name = $1")
                    .bind(name)
                    .fetch_optional(&self.pool)
                    .await?)
            }

            async fn insert_hub_secret(
                &self,
                name: &str,
                value: &[u8],
                at: OffsetDateTime,
                audit: &AuditRecord,
            ) -> StoreResult<()> {
                let mut tx = self.begin_write().await?;
                sqlx::query("INSERT INTO hub_secrets (name, value, created_at) VALUES ($1, $2, $3)")
                    .bind(name)
                    .bind(value)
                    .bind(at)
                    .execute(&mut *tx)
                    .await
                    .map_err(|e| write_error(e, "hub secret"))?;
                append(&mut tx, audit).await?;
                tx.commit().await?;
                Ok(())
            }

            async fn close(&self) {
                self.pool.close().await;
            }
        }
        }
    };
}

pub(super) use portable_store;
