//! The provider registry's use-cases: applications, files and evidence, the referencing
//! lifecycle and its deadlines, convention versions and signatures, satisfaction surveys, the
//! public directory and badges. Every change is written with a history line and an audit
//! entry in one transaction; who may do what is decided here.

use time::OffsetDateTime;

use crate::crypto::openpgp::{AuditKey, OpenPgpError};
use crate::crypto::sha256_hex;
use crate::crypto::tokens::TokenError;
use crate::domain::access::{Analyst, RegistryRecord};
use crate::domain::audit::record::{Acting, AuditRecord, HUB_ACTOR, OPERATOR_ACTOR, text_digest};
use crate::domain::principal::{OrganisationId, PrincipalKind};
use crate::domain::registry::file::{Conditions, FieldError, ProviderFile};
use crate::domain::registry::lifecycle::{Referencing, TransitionError};
use crate::domain::registry::survey::{AnswerError, SurveyPolicy};
use crate::store::registry::{Creation, ProviderWrite};
use crate::store::{Store, StoreError};

// One module per concern, each adding its use-cases to `Registry`; the write path every one
// of them shares (`write`, with its history line and audit entry) is below.
mod badges;
mod conventions;
mod deadlines;
mod files;
mod referenced;
mod standing;
mod surveys;
mod transitions;

pub use badges::BadgeCheck;
pub use deadlines::{Deadlines, Round};
pub use files::adopt;
pub use standing::{DashboardItem, Standing};
pub use surveys::SURVEY_VALIDITY;
pub use transitions::Asked;

pub use crate::domain::registry::file::MAX_EVIDENCE_BYTES;
pub use crate::domain::registry::survey::SurveySummary;
/// What the use-cases return: the callers' vocabulary, so that `http/` and `cli/` need not
/// reach into the store for it.
pub use crate::store::registry::{Badge, Convention, HistoryEntry, ProviderRecord};

#[derive(Debug, thiserror::Error)]
pub enum RegistryError {
    #[error("only the CSIRT's analysts may do this")]
    NotAnalyst,
    /// No such provider, or one the caller may not see.
    #[error("no such provider")]
    NotFound,
    #[error("invalid provider file: {}", describe(.0))]
    Invalid(Vec<FieldError>),
    #[error(
        "the convention's conditions are not met (incident response offered: {}, listed in the \
         public catalogue: {})",
        .0.incident_response_offered,
        .0.listed_in_public_catalogue
    )]
    Conditions(Conditions),
    #[error("no evidence file with SHA-256 {0} was uploaded")]
    MissingEvidence(String),
    #[error("{0}")]
    Transition(#[from] TransitionError),
    #[error("the signature does not verify with the provider's registered key: {0}")]
    BadSignature(OpenPgpError),
    #[error("the provider's OpenPGP key is unusable: {0}")]
    BadKey(OpenPgpError),
    #[error("no convention version has been published")]
    NoConvention,
    #[error("no convention version {0}")]
    NoSuchVersion(u32),
    #[error("{0}")]
    Conflict(String),
    #[error("{0}")]
    BadRequest(String),
    #[error("survey link: {0}")]
    Token(#[from] TokenError),
    #[error("this survey was already answered")]
    AlreadyAnswered,
    #[error("{0}")]
    Answer(#[from] AnswerError),
    #[error("signing: {0}")]
    Signing(OpenPgpError),
    #[error(transparent)]
    Store(#[from] StoreError),
}

fn describe(errors: &[FieldError]) -> String {
    errors
        .iter()
        .map(|e| format!("{}: {}", e.field, e.message))
        .collect::<Vec<_>>()
        .join("; ")
}

/// Why a change was made: text the hub wrote itself goes into the audit log as is; text a
/// person typed (an analyst's suspension reason, a provider's termination) may name someone,
/// so the log keeps its SHA-256 and the provider's history keeps the text.
#[derive(Debug, Clone)]
enum Reason {
    Generated(String),
    Supplied(String),
    /// The hub's words (logged as they are) and a person's (logged as a digest).
    Both {
        generated: String,
        supplied: String,
    },
}

impl Reason {
    fn text(&self) -> String {
        match self {
            Reason::Generated(t) | Reason::Supplied(t) => t.clone(),
            Reason::Both {
                generated,
                supplied,
            } if supplied.trim().is_empty() => generated.clone(),
            Reason::Both {
                generated,
                supplied,
            } => format!("{generated}; {supplied}"),
        }
    }

    fn audited(&self) -> String {
        match self {
            Reason::Generated(t) => t.clone(),
            Reason::Supplied(t) => text_digest(t),
            Reason::Both {
                generated,
                supplied,
            } if supplied.trim().is_empty() => generated.clone(),
            Reason::Both {
                generated,
                supplied,
            } => {
                format!("{generated}; {}", text_digest(supplied))
            }
        }
    }
}

/// The CSIRT acting: one of its analysts over mTLS, the operator running `relais` on the hub's
/// host, or the hub itself (its deadline job, its first start). A use-case that only the CSIRT
/// may run takes one of these, so the check is in the type: a provider's or a peer's record
/// cannot be passed in, and an analyst comes from [`Analyst::new`] or its extractor.
#[derive(Debug, Clone, Copy)]
pub enum Csirt<'a> {
    Analyst(&'a Analyst),
    Operator,
    Hub,
}

impl<'a> From<&'a Analyst> for Csirt<'a> {
    fn from(analyst: &'a Analyst) -> Self {
        Csirt::Analyst(analyst)
    }
}

impl<'a> From<Csirt<'a>> for Who<'a> {
    fn from(csirt: Csirt<'a>) -> Self {
        match csirt {
            Csirt::Analyst(analyst) => Who::Principal(analyst.record()),
            Csirt::Operator => Who::Operator,
            Csirt::Hub => Who::Hub,
        }
    }
}

/// Who is asking for what either the CSIRT or the provider concerned may do: a principal over
/// mTLS (of any kind: the use-case decides), `relais` run on the hub's host, or the hub's
/// deadline job.
#[derive(Debug, Clone, Copy)]
pub enum Who<'a> {
    Principal(&'a RegistryRecord),
    Operator,
    Hub,
}

impl Who<'_> {
    fn acting(self, at: OffsetDateTime) -> Acting {
        match self {
            Who::Principal(caller) => Acting::by(caller, at),
            Who::Operator => Acting::operator(at),
            Who::Hub => Acting::hub(at),
        }
    }

    fn name(self) -> String {
        match self {
            Who::Principal(caller) => caller.principal.id.as_str().to_owned(),
            Who::Operator => OPERATOR_ACTOR.to_owned(),
            Who::Hub => HUB_ACTOR.to_owned(),
        }
    }

    /// The CSIRT: an analyst, the operator or the hub.
    fn is_csirt(self) -> bool {
        match self {
            Who::Principal(caller) => caller.principal.kind == PrincipalKind::Analyst,
            Who::Operator | Who::Hub => true,
        }
    }

    /// The provider organisation itself.
    fn is_provider(self, org: &OrganisationId) -> bool {
        matches!(self, Who::Principal(c)
            if c.principal.kind == PrincipalKind::Provider && &c.organisation.id == org)
    }
}

#[derive(Debug, Clone, Copy)]
pub struct Registry<'a> {
    pub store: &'a dyn Store,
    /// Signs badges (the hub's registry key).
    pub signing_key: &'a AuditKey,
    /// HMAC key of survey tokens.
    pub survey_key: &'a [u8],
    pub survey_policy: &'a SurveyPolicy,
    /// The CSIRT that references providers (`hub.organisation`).
    pub csirt: &'a str,
}

/// A uniqueness refusal of the store is the caller's conflict (name taken, changed meanwhile);
/// anything else stays a store failure.
fn conflict_or_store(e: StoreError) -> RegistryError {
    match e {
        StoreError::Conflict(what) => RegistryError::Conflict(what.to_owned()),
        other => other.into(),
    }
}

fn file_hash(file: &ProviderFile) -> String {
    sha256_hex(serde_json::to_string(file).unwrap_or_default().as_bytes())
}

impl Registry<'_> {
    async fn record(&self, org: &OrganisationId) -> Result<ProviderRecord, RegistryError> {
        record(self.store, org).await
    }

    /// A conflict of interest the provider declared on a case (Convention art. 6.2), in its
    /// file's history: who, when, which case.
    pub async fn note_conflict(
        &self,
        provider: &crate::domain::access::Provider,
        case_id: &str,
        at: OffsetDateTime,
    ) -> Result<(), RegistryError> {
        let record = self.record(&provider.organisation.id).await?;
        write(
            self.store,
            Who::Principal(provider),
            &record,
            &record.file,
            &record.referencing,
            None,
            "registry.conflict_declared",
            Reason::Generated(format!("conflict of interest declared on case {case_id}")),
            at,
        )
        .await
    }

    /// The deadline job's rounds, on this registry's store.
    pub fn deadlines(&self) -> Deadlines<'_> {
        Deadlines::new(self.store)
    }
}

async fn record(store: &dyn Store, org: &OrganisationId) -> Result<ProviderRecord, RegistryError> {
    store.provider(org).await?.ok_or(RegistryError::NotFound)
}

fn audit_of(who: Who<'_>, org: &OrganisationId, h: &HistoryEntry, reason: &str) -> AuditRecord {
    who.acting(h.at)
        .record(&h.action)
        .objects([org.as_str().to_owned(), format!("sha256:{}", h.file_sha256)])
        .reason(format!(
            "{} -> {}: {}",
            h.from_status.map_or("new", |s| s.as_str()),
            h.to_status.as_str(),
            reason
        ))
}

/// Writes `record` changed to `file`/`referencing`, explained by `action` and `reason`, with
/// its history line and audit entry, against the state it was computed from (a change made
/// meanwhile is a conflict).
#[allow(clippy::too_many_arguments)]
async fn write(
    store: &dyn Store,
    who: Who<'_>,
    record: &ProviderRecord,
    file: &ProviderFile,
    referencing: &Referencing,
    signature: Option<&str>,
    action: &str,
    reason: Reason,
    at: OffsetDateTime,
) -> Result<(), RegistryError> {
    let history = HistoryEntry {
        at,
        actor: who.name(),
        action: action.to_owned(),
        from_status: Some(record.referencing.status),
        to_status: referencing.status,
        reason: reason.text(),
        file_sha256: file_hash(file),
    };
    let audit = audit_of(who, &record.organisation.id, &history, &reason.audited());
    store
        .write_provider(
            &ProviderWrite {
                organisation: &record.organisation,
                create: Creation::Nothing,
                file,
                referencing,
                conditions: file.conditions(),
                convention_signature: signature.or(record.convention_signature.as_deref()),
                expected: Some(&record.referencing),
                history: &history,
            },
            &audit,
        )
        .await
        .map_err(conflict_or_store)
}
