//! Persistence behind one interface, with one implementation per backend.
//!
//! SQLite (embedded, the default) and PostgreSQL (several hub instances) run the same contract
//! test suite. The SQL of the registry is portable between the two, so it is written once in
//! `portable.rs` and instantiated for each backend; what differs (connecting, pragmas,
//! migrations) lives in `sqlite.rs` and `postgres.rs`.

pub mod audit;
pub mod cases;
mod codec;
pub mod federation;
mod portable;
pub mod postgres;
pub mod registry;
pub mod reports;
pub mod sla;
pub mod sqlite;
pub mod submissions;
mod visibility;

use std::path::Path;
use std::sync::Arc;

use async_trait::async_trait;
use time::OffsetDateTime;

use crate::domain::access::RegistryRecord;
use crate::domain::audit::record::AuditRecord;
use crate::domain::markings::release::VisibilityFilter;
use crate::domain::markings::sealed::Sealed;
use crate::domain::principal::{
    CertificateBinding, Organisation, OrganisationId, OrganisationStatus, Principal, PrincipalId,
    PrincipalStatus, SpkiFingerprint,
};
use crate::domain::stix::pending::{PendingWrites, StoredPending};
use crate::domain::stix::stored::{
    Inserted, NewObject, ObjectQuery, ReferencedObject, StoredObject,
};
use crate::domain::triage::{Case, Consent, Submission};
pub use audit::{AuditStore, StoredCheckpoint, StoredEntry};
pub use cases::CaseStore;
pub use federation::FederationStore;
pub use registry::RegistryStore;
pub use reports::ReportStore;
pub use sla::SlaStore;
pub use submissions::{Closing, NewSubmission, SubmissionFilter};

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// A uniqueness rule refused the write (same name, same key, same serial).
    #[error("already exists: {0}")]
    Conflict(&'static str),
    #[error("not found: {0}")]
    NotFound(&'static str),
    /// A stored value the domain does not recognise: the database was edited by hand or by a
    /// newer version.
    #[error("stored data is not valid: {0}")]
    Corrupt(String),
    #[error("database URL not supported: {0}")]
    UnsupportedUrl(String),
    #[error("database migration failed: {0}")]
    Migration(#[from] sqlx::migrate::MigrateError),
    #[error("database error: {0}")]
    Database(#[source] sqlx::Error),
}

impl From<sqlx::Error> for StoreError {
    fn from(e: sqlx::Error) -> Self {
        StoreError::Database(e)
    }
}

pub type StoreResult<T> = Result<T, StoreError>;

/// Which backend a store runs on, for logs and the health endpoint.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

impl Backend {
    pub fn as_str(self) -> &'static str {
        match self {
            Backend::Sqlite => "sqlite",
            Backend::Postgres => "postgres",
        }
    }
}

/// A CRL as signed by the hub's CA.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredCrl {
    pub number: i64,
    pub der: Vec<u8>,
    pub this_update: OffsetDateTime,
}

/// Victim cases and the triage queue. Every write takes the audit record of the action and
/// appends its entry in the same transaction (`audit`).
#[async_trait]
pub trait SubmissionStore: Send + Sync {
    async fn case(&self, id: &str) -> StoreResult<Option<Case>>;
    async fn cases(&self) -> StoreResult<Vec<Case>>;
    /// Records the beneficiary's answer and, in the same transaction, confines or frees the
    /// case's material outside `submissions_collection`; returns how many object versions
    /// changed. `NotFound` if there is no such case.
    async fn set_consent(
        &self,
        id: &str,
        consent: Consent,
        by: &PrincipalId,
        at: OffsetDateTime,
        submissions_collection: &str,
        audit: &AuditRecord,
    ) -> StoreResult<u64>;
    /// Stores submitted objects and their queue entries in one transaction, with the audit
    /// entries of the envelope; a version already stored makes no new entry.
    async fn insert_submissions(
        &self,
        items: &[(NewObject, NewSubmission)],
        audits: &[AuditRecord],
        pending: &PendingWrites,
    ) -> StoreResult<Vec<Inserted>>;
    async fn submission(&self, id: &str) -> StoreResult<Option<Submission>>;
    /// Whether any of these stored objects is a submission already decided on.
    async fn decided_among(&self, seqs: &[i64]) -> StoreResult<bool>;
    /// The submission as received (TLP:RED), if the anonymiser changed it.
    async fn submission_original(
        &self,
        id: &str,
    ) -> StoreResult<Option<crate::domain::markings::sealed::Sealed>>;
    async fn submissions(&self, filter: &SubmissionFilter) -> StoreResult<Vec<Submission>>;
    /// Stores the published object and closes the submission in one transaction; `Conflict`
    /// (and nothing stored) if it was decided meanwhile.
    async fn publish_submission(
        &self,
        id: &str,
        object: &NewObject,
        by: &PrincipalId,
        at: OffsetDateTime,
        audit: &AuditRecord,
    ) -> StoreResult<Inserted>;
    /// Closes a pending submission as merged or rejected; `Conflict` if it was decided.
    async fn close_submission(
        &self,
        id: &str,
        closing: &Closing<'_>,
        audit: &AuditRecord,
    ) -> StoreResult<()>;
}

/// Every method that changes state takes the audit record of the action and appends its entry
/// (`store::audit`) in the same transaction, under the writer lock: the change and its entry
/// are committed together or not at all.
#[async_trait]
pub trait Store:
    SubmissionStore
    + CaseStore
    + ReportStore
    + FederationStore
    + SlaStore
    + AuditStore
    + RegistryStore
    + Send
    + Sync
    + std::fmt::Debug
{
    fn backend(&self) -> Backend;

    /// Cheap round trip, for readiness checks.
    async fn ping(&self) -> StoreResult<()>;

    async fn insert_organisation(&self, org: &Organisation, audit: &AuditRecord)
    -> StoreResult<()>;
    async fn organisation(&self, id: &OrganisationId) -> StoreResult<Option<Organisation>>;
    async fn organisation_by_name(&self, name: &str) -> StoreResult<Option<Organisation>>;
    async fn organisations(&self) -> StoreResult<Vec<Organisation>>;
    async fn set_organisation_status(
        &self,
        id: &OrganisationId,
        status: OrganisationStatus,
        at: OffsetDateTime,
        audit: &AuditRecord,
    ) -> StoreResult<()>;

    async fn insert_principal(&self, principal: &Principal, audit: &AuditRecord)
    -> StoreResult<()>;
    async fn principal(&self, id: &PrincipalId) -> StoreResult<Option<Principal>>;
    async fn principal_by_name(
        &self,
        organisation: &OrganisationId,
        name: &str,
    ) -> StoreResult<Option<Principal>>;
    async fn principals(&self) -> StoreResult<Vec<Principal>>;
    async fn set_principal_status(
        &self,
        id: &PrincipalId,
        status: PrincipalStatus,
        at: OffsetDateTime,
        audit: &AuditRecord,
    ) -> StoreResult<()>;

    /// Binds a certificate's public key to a principal. A key is bound at most once.
    async fn insert_binding(
        &self,
        binding: &CertificateBinding,
        audit: &AuditRecord,
    ) -> StoreResult<()>;
    async fn bindings(&self) -> StoreResult<Vec<CertificateBinding>>;
    async fn binding(
        &self,
        fingerprint: &SpkiFingerprint,
    ) -> StoreResult<Option<CertificateBinding>>;
    /// Everything the access decision needs for one public key, in one query: this runs on
    /// every request.
    async fn registry_record(
        &self,
        fingerprint: &SpkiFingerprint,
    ) -> StoreResult<Option<RegistryRecord>>;
    /// Marks a binding revoked. Returns false (and records nothing) if it was revoked already.
    async fn revoke_binding(
        &self,
        fingerprint: &SpkiFingerprint,
        at: OffsetDateTime,
        reason: &str,
        audit: &AuditRecord,
    ) -> StoreResult<bool>;

    /// Stores a CRL under its number; `Conflict` if another writer took the number first.
    async fn insert_crl(&self, crl: &StoredCrl, audit: &AuditRecord) -> StoreResult<()>;
    async fn latest_crl(&self) -> StoreResult<Option<StoredCrl>>;
    async fn latest_crl_number(&self) -> StoreResult<Option<i64>>;

    /// Stores an object version, with its shares and recipients, in one transaction. The same
    /// (collection, id, version) stored twice is stored once.
    async fn insert_object(&self, object: &NewObject, audit: &AuditRecord)
    -> StoreResult<Inserted>;
    /// Stores several object versions in one transaction (an envelope), with its audit
    /// entries and what it sets aside or resolves of the objects waiting for markings: all or
    /// none.
    async fn insert_objects(
        &self,
        objects: &[NewObject],
        audits: &[AuditRecord],
        pending: &PendingWrites,
    ) -> StoreResult<Vec<Inserted>>;
    /// Up to `limit` objects still waiting for a marking definition, by envelope.
    async fn open_pending(&self, limit: u32) -> StoreResult<Vec<StoredPending>>;
    /// Every object an envelope set aside, whatever became of it, in envelope order.
    async fn pending_of_status(&self, status_id: &str) -> StoreResult<Vec<StoredPending>>;
    /// One page of a collection, in arrival order, restricted to the query's visibility.
    async fn objects(&self, query: &ObjectQuery) -> StoreResult<Vec<StoredObject>>;
    /// Every version of the given objects, in the given collections, that passes `visibility`,
    /// without its text: to resolve the references of what a reader is about to receive.
    async fn referenced_objects(
        &self,
        collections: &[&str],
        ids: &[String],
        visibility: &VisibilityFilter,
    ) -> StoreResult<Vec<ReferencedObject>>;
    /// The stored text of the given object versions (by `seq`), sealed.
    async fn object_texts(&self, seqs: &[i64]) -> StoreResult<Vec<(i64, Sealed)>>;
    /// Records what up to `limit` objects stored before migration 0010 reference (a derived
    /// column: not an audited change); returns how many it filled, 0 when none is left.
    async fn fill_references(&self, limit: u32) -> StoreResult<u64>;
    /// How many objects the query matches, all pages together.
    async fn count_objects(&self, query: &ObjectQuery) -> StoreResult<u64>;
    /// Every stored version of the given objects in a collection, whoever may read them: for
    /// the ingest rules only, never for a response.
    async fn versions_of_many(
        &self,
        collection: &str,
        ids: &[String],
    ) -> StoreResult<Vec<StoredObject>>;
    /// Deletes the given stored versions (by `seq`); returns how many went.
    async fn delete_objects(&self, seqs: &[i64], audit: &AuditRecord) -> StoreResult<u64>;
    /// Every stored version of a marking definition, in any collection, newest first: to
    /// resolve markings at ingest (after the reader's own visibility check), never for a
    /// response.
    async fn marking_definitions(&self, id: &str) -> StoreResult<Vec<StoredObject>>;

    /// Records a TAXII status resource (its JSON body) for the principal that posted. Not an
    /// audited change of its own: it is the receipt of the envelope, whose entry was appended
    /// with the objects.
    async fn insert_status(
        &self,
        id: &str,
        principal: &PrincipalId,
        at: OffsetDateTime,
        body: &str,
    ) -> StoreResult<()>;
    /// A status resource, if it exists and belongs to `principal`.
    async fn status(&self, id: &str, principal: &PrincipalId) -> StoreResult<Option<String>>;

    async fn hub_secret(&self, name: &str) -> StoreResult<Option<Vec<u8>>>;
    /// Stores a secret once; `Conflict` if another instance stored it first.
    async fn insert_hub_secret(
        &self,
        name: &str,
        value: &[u8],
        at: OffsetDateTime,
        audit: &AuditRecord,
    ) -> StoreResult<()>;

    /// Closes the pool, waiting for connections to be returned.
    async fn close(&self);
}

pub type SharedStore = Arc<dyn Store>;

/// Opens the store named by `url` and applies its migrations. A relative SQLite path is taken
/// from `data_dir`.
pub async fn open(url: &str, data_dir: &Path, max_connections: u32) -> StoreResult<SharedStore> {
    if url.starts_with("sqlite:") {
        Ok(Arc::new(
            sqlite::SqliteStore::open(url, data_dir, max_connections).await?,
        ))
    } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
        Ok(Arc::new(
            postgres::PgStore::open(url, max_connections).await?,
        ))
    } else {
        Err(StoreError::UnsupportedUrl(redact_url(url)))
    }
}

/// The URL without its password, for messages and logs.
pub fn redact_url(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme_end), Some(at)) if at > scheme_end => {
            let userinfo = &url[scheme_end + 3..at];
            match userinfo.split_once(':') {
                Some((user, _)) => format!("{}{user}:***{}", &url[..scheme_end + 3], &url[at..]),
                None => url.to_owned(),
            }
        }
        _ => url.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::redact_url;

    #[test]
    fn passwords_never_reach_messages() {
        assert_eq!(
            redact_url("postgres://relais:s3cret@db:5432/relais"),
            "postgres://relais:***@db:5432/relais"
        );
        assert_eq!(
            redact_url("postgres://postgres@127.0.0.1/test"),
            "postgres://postgres@127.0.0.1/test"
        );
        assert_eq!(redact_url("sqlite://relais.db"), "sqlite://relais.db");
    }
}
