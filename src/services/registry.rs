//! The provider registry's use-cases: applications, files and evidence, the referencing
//! lifecycle and its deadlines, convention versions and signatures, satisfaction surveys, the
//! public directory and badges. Every change is written with a history line and an audit
//! entry in one transaction; who may do what is decided here.

use std::collections::BTreeMap;

use time::{Duration, OffsetDateTime};

use crate::crypto::openpgp::{
    AuditKey, OpenPgpError, PublicKey, verify_cleartext, verify_detached,
};
use crate::crypto::sha256_hex;
use crate::crypto::tokens::{SurveyClaims, TokenError, issue_survey_token, verify_survey_token};
use crate::domain::access::RegistryRecord;
use crate::domain::audit::record::{Acting, AuditRecord, HUB_ACTOR, OPERATOR_ACTOR, text_digest};
use crate::domain::principal::{
    Organisation, OrganisationId, OrganisationKind, OrganisationStatus, PrincipalKind,
};
use crate::domain::registry::directory::{self, DirectoryEntry};
use crate::domain::registry::file::{Conditions, FieldError, ProviderFile};
use crate::domain::registry::lifecycle::{
    DereferencingCause, Event, NoticeKind, Overdue, Party, Referencing, TransitionError,
    UNFAVOURABLE_SURVEYS,
};
use crate::domain::registry::survey::{AnswerError, Answers, SurveyPolicy, score};
use crate::store::registry::{
    Badge, Convention, Creation, HistoryEntry, ProviderRecord, ProviderWrite, StoredEvidence,
    Survey,
};
use crate::store::{Store, StoreError};

/// How long a survey link stays valid.
pub const SURVEY_VALIDITY: Duration = Duration::days(30);
/// Largest evidence file accepted (the request body limit applies first over HTTP).
pub const MAX_EVIDENCE_BYTES: usize = 8 * 1024 * 1024;

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
}

impl Reason {
    fn text(&self) -> &str {
        match self {
            Reason::Generated(t) | Reason::Supplied(t) => t,
        }
    }

    fn audited(&self) -> String {
        match self {
            Reason::Generated(t) => t.clone(),
            Reason::Supplied(t) => text_digest(t),
        }
    }
}

/// Who is asking: a principal over mTLS, or `relais` run on the hub's host, or the hub's
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

/// A provider's view of its own standing.
#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
pub struct Standing {
    pub status: OrganisationStatus,
    #[serde(with = "time::serde::rfc3339::option")]
    pub term_ends: Option<OffsetDateTime>,
    pub renewals: u8,
    pub convention_version: Option<u32>,
    pub due: Vec<Overdue>,
    pub surveys: SurveySummary,
}

#[derive(Debug, Clone, Default, PartialEq, serde::Serialize, utoipa::ToSchema)]
pub struct SurveySummary {
    pub issued: u32,
    pub answered: u32,
    pub unfavourable: u32,
    /// Average of the answered surveys' scores.
    pub average: Option<f64>,
}

/// What the analysts' dashboard lists.
#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
pub struct DashboardItem {
    pub organisation: String,
    pub name: String,
    pub status: OrganisationStatus,
    pub due: Vec<Overdue>,
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
    fn require_csirt(who: Who<'_>) -> Result<(), RegistryError> {
        if who.is_csirt() {
            Ok(())
        } else {
            Err(RegistryError::NotAnalyst)
        }
    }

    async fn record(&self, org: &OrganisationId) -> Result<ProviderRecord, RegistryError> {
        self.store
            .provider(org)
            .await?
            .ok_or(RegistryError::NotFound)
    }

    /// The provider's record, if `who` may see it: the CSIRT, or the provider itself.
    pub async fn get(
        &self,
        who: Who<'_>,
        org: &OrganisationId,
    ) -> Result<ProviderRecord, RegistryError> {
        if !(who.is_csirt() || who.is_provider(org)) {
            return Err(RegistryError::NotFound);
        }
        self.record(org).await
    }

    pub async fn list(&self, who: Who<'_>) -> Result<Vec<ProviderRecord>, RegistryError> {
        Self::require_csirt(who)?;
        Ok(self.store.providers().await?)
    }

    /// Stores an evidence file; its SHA-256 names it in a file.
    pub async fn upload_evidence(
        &self,
        who: Who<'_>,
        org: Option<&OrganisationId>,
        name: &str,
        content: Vec<u8>,
        now: OffsetDateTime,
    ) -> Result<String, RegistryError> {
        let allowed = who.is_csirt() || org.is_some_and(|o| who.is_provider(o));
        if !allowed {
            return Err(RegistryError::NotAnalyst);
        }
        if content.is_empty() || content.len() > MAX_EVIDENCE_BYTES {
            return Err(RegistryError::BadRequest(format!(
                "evidence must hold 1 to {MAX_EVIDENCE_BYTES} bytes"
            )));
        }
        if name.is_empty() || name.len() > 200 || name.chars().any(char::is_control) {
            return Err(RegistryError::BadRequest(
                "the evidence name must be 1 to 200 characters without control characters".into(),
            ));
        }
        // Evidence is stored under an existing entry only: a missing one is the caller's
        // mistake (404), not a broken reference in the store.
        if let Some(org) = org {
            self.record(org).await?;
        }
        let sha256 = sha256_hex(&content);
        let audit = who.acting(now).record("registry.evidence").objects(
            std::iter::once(format!("sha256:{sha256}")).chain(org.map(|o| o.as_str().to_owned())),
        );
        self.store
            .insert_evidence(
                &StoredEvidence {
                    sha256: sha256.clone(),
                    organisation: org.cloned(),
                    name: name.to_owned(),
                    content,
                    created_at: now,
                },
                &audit,
            )
            .await?;
        Ok(sha256)
    }

    /// Records an application: a new provider organisation in `applied`, with its file.
    pub async fn apply(
        &self,
        who: Who<'_>,
        file: ProviderFile,
        now: OffsetDateTime,
    ) -> Result<ProviderRecord, RegistryError> {
        Self::require_csirt(who)?;
        let conditions = check_file(self.store, &file, None).await?;
        if let Some(other) = self
            .store
            .providers()
            .await?
            .into_iter()
            .find(|p| p.file.siren == file.siren)
        {
            return Err(RegistryError::Conflict(format!(
                "SIREN {} is already in the registry ({})",
                file.siren, other.organisation.name
            )));
        }
        // A provider organisation `relais pki` created ahead of its application (status
        // `applied`, no entry yet) takes its file; any other name already in use is refused.
        let (organisation, create) = match self.store.organisation_by_name(&file.legal_name).await?
        {
            Some(org)
                if org.kind == OrganisationKind::Provider
                    && org.status == OrganisationStatus::Applied
                    && self.store.provider(&org.id).await?.is_none() =>
            {
                (org, Creation::Entry)
            }
            Some(_) => {
                return Err(RegistryError::Conflict(format!(
                    "an organisation named {:?} exists",
                    file.legal_name
                )));
            }
            None => (
                Organisation {
                    id: OrganisationId::generate(),
                    name: file.legal_name.clone(),
                    kind: OrganisationKind::Provider,
                    status: OrganisationStatus::Applied,
                    created_at: now,
                },
                Creation::OrganisationAndEntry,
            ),
        };
        let referencing = Referencing::applied(now);
        let history = HistoryEntry {
            at: now,
            actor: who.name(),
            action: "registry.apply".into(),
            from_status: None,
            to_status: OrganisationStatus::Applied,
            reason: format!(
                "application received; incident response offered: {}, listed in the public \
                 catalogue: {}",
                conditions.incident_response_offered, conditions.listed_in_public_catalogue
            ),
            file_sha256: file_hash(&file),
        };
        let audit = self.audit_of(who, &organisation.id, &history, &history.reason);
        self.store
            .write_provider(
                &ProviderWrite {
                    organisation: &organisation,
                    create,
                    file: &file,
                    referencing: &referencing,
                    conditions,
                    convention_signature: None,
                    expected: None,
                    history: &history,
                },
                &audit,
            )
            .await
            .map_err(conflict_or_store)?;
        self.record(&organisation.id).await
    }

    fn audit_of(
        &self,
        who: Who<'_>,
        org: &OrganisationId,
        h: &HistoryEntry,
        reason: &str,
    ) -> AuditRecord {
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

    /// Writes `record` changed to `file`/`referencing`, explained by `action` and `reason`.
    #[allow(clippy::too_many_arguments)]
    async fn write(
        &self,
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
            reason: reason.text().to_owned(),
            file_sha256: file_hash(file),
        };
        let audit = self.audit_of(who, &record.organisation.id, &history, &reason.audited());
        self.store
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

    /// Replaces a provider's file (the provider itself or the CSIRT).
    pub async fn update_file(
        &self,
        who: Who<'_>,
        org: &OrganisationId,
        file: ProviderFile,
        now: OffsetDateTime,
    ) -> Result<ProviderRecord, RegistryError> {
        let record = self.get(who, org).await?;
        // What the CSIRT vouches for (identity, qualifications, the key that signs the
        // convention) changes only through the CSIRT; the provider keeps the rest current.
        if !who.is_csirt() {
            let old = &record.file;
            let vouched = file.legal_name == old.legal_name
                && file.siren == old.siren
                && file.siret == old.siret
                && file.qualifications == old.qualifications
                && file.openpgp_key == old.openpgp_key;
            if !vouched {
                return Err(RegistryError::BadRequest(
                    "legal name, SIREN/SIRET, qualifications and OpenPGP key change through the \
                     CSIRT"
                        .into(),
                ));
            }
        }
        check_file(self.store, &file, Some(org)).await?;
        if let Some(other) = self
            .store
            .providers()
            .await?
            .into_iter()
            .find(|p| p.file.siren == file.siren && &p.organisation.id != org)
        {
            return Err(RegistryError::Conflict(format!(
                "SIREN {} is already in the registry ({})",
                file.siren, other.organisation.name
            )));
        }
        let referencing = record.referencing.apply(&Event::FileUpdated, now)?;
        self.write(
            who,
            &record,
            &file,
            &referencing,
            None,
            Event::FileUpdated.action(),
            Reason::Generated("file updated".into()),
            now,
        )
        .await?;
        self.record(org).await
    }

    /// A lifecycle event asked by someone (not a signature: see [`Registry::reference`] and
    /// [`Registry::sign_convention`]).
    pub async fn transition(
        &self,
        who: Who<'_>,
        org: &OrganisationId,
        event: Event,
        reason: &str,
        now: OffsetDateTime,
    ) -> Result<ProviderRecord, RegistryError> {
        let record = self.settled(who, org, now).await?;
        let allowed = match &event {
            // A provider may end its own convention; everything else is the CSIRT's.
            Event::GiveNotice(NoticeKind::Termination {
                by: Party::Provider,
            }) => who.is_provider(org) || who.is_csirt(),
            Event::Reference { .. } | Event::SignVersion { .. } | Event::NewVersion { .. } => {
                return Err(RegistryError::BadRequest(
                    "referencing and convention signatures go through their own endpoints".into(),
                ));
            }
            _ => who.is_csirt(),
        };
        if !allowed {
            return Err(RegistryError::NotAnalyst);
        }
        if matches!(
            event,
            Event::CancelNotice | Event::Suspend | Event::GiveNotice(_)
        ) && reason.trim().is_empty()
        {
            return Err(RegistryError::BadRequest("a reason is required".into()));
        }
        let referencing = record.referencing.apply(&event, now)?;
        self.write(
            who,
            &record,
            &record.file,
            &referencing,
            None,
            event.action(),
            Reason::Supplied(reason.to_owned()),
            now,
        )
        .await?;
        self.record(org).await
    }

    async fn latest_convention(&self) -> Result<Convention, RegistryError> {
        self.store
            .conventions()
            .await?
            .pop()
            .ok_or(RegistryError::NoConvention)
    }

    fn check_signature(
        file: &ProviderFile,
        text: &str,
        signature: &str,
        now: OffsetDateTime,
    ) -> Result<(), RegistryError> {
        let key =
            PublicKey::from_bytes(file.openpgp_key.as_bytes()).map_err(RegistryError::BadKey)?;
        verify_detached(&key, text.as_bytes(), signature.as_bytes(), now)
            .map_err(RegistryError::BadSignature)?;
        Ok(())
    }

    /// References a provider under review: its signature over the latest convention text,
    /// by the key in its file, is verified and kept.
    pub async fn reference(
        &self,
        who: Who<'_>,
        org: &OrganisationId,
        signature: &str,
        now: OffsetDateTime,
    ) -> Result<ProviderRecord, RegistryError> {
        Self::require_csirt(who)?;
        let record = self.record(org).await?;
        let conditions = record.file.conditions();
        if !conditions.met() {
            return Err(RegistryError::Conditions(conditions));
        }
        let convention = self.latest_convention().await?;
        Self::check_signature(&record.file, &convention.text, signature, now)?;
        let event = Event::Reference {
            version: convention.version,
        };
        let referencing = record.referencing.apply(&event, now)?;
        self.write(
            who,
            &record,
            &record.file,
            &referencing,
            Some(signature),
            event.action(),
            Reason::Generated(format!(
                "convention version {} signed by key {}",
                convention.version,
                PublicKey::from_bytes(record.file.openpgp_key.as_bytes())
                    .map(|k| k.fingerprint())
                    .unwrap_or_default()
            )),
            now,
        )
        .await?;
        self.record(org).await
    }

    /// The provider's signature of the convention version awaiting it.
    pub async fn sign_convention(
        &self,
        who: Who<'_>,
        org: &OrganisationId,
        version: u32,
        signature: &str,
        now: OffsetDateTime,
    ) -> Result<ProviderRecord, RegistryError> {
        let record = self.settled(who, org, now).await?;
        let convention = self
            .store
            .conventions()
            .await?
            .into_iter()
            .find(|c| c.version == version)
            .ok_or(RegistryError::NoSuchVersion(version))?;
        Self::check_signature(&record.file, &convention.text, signature, now)?;
        let event = Event::SignVersion { version };
        let referencing = record.referencing.apply(&event, now)?;
        self.write(
            who,
            &record,
            &record.file,
            &referencing,
            Some(signature),
            event.action(),
            Reason::Generated(format!("convention version {version} signed")),
            now,
        )
        .await?;
        self.record(org).await
    }

    /// Publishes a new convention text: the next version. Every provider in force must sign
    /// it within 15 days of now (the deadline job records it on each provider).
    pub async fn publish_convention(
        &self,
        who: Who<'_>,
        text: &str,
        now: OffsetDateTime,
    ) -> Result<Convention, RegistryError> {
        Self::require_csirt(who)?;
        if text.trim().is_empty() || text.len() > 1_000_000 {
            return Err(RegistryError::BadRequest(
                "the convention text must hold 1 byte to 1 MB".into(),
            ));
        }
        let version = self
            .store
            .conventions()
            .await?
            .last()
            .map_or(1, |c| c.version + 1);
        let convention = Convention {
            version,
            text: text.to_owned(),
            published_at: now,
        };
        let audit = who
            .acting(now)
            .record("registry.convention_publish")
            .objects([
                format!("convention:{version}"),
                format!("sha256:{}", sha256_hex(text.as_bytes())),
            ]);
        self.store
            .insert_convention(&convention, &audit)
            .await
            .map_err(|e| match e {
                StoreError::Conflict(_) => {
                    RegistryError::Conflict("another version was published meanwhile".into())
                }
                other => other.into(),
            })?;
        // Each provider's signature deadline is recorded by the deadline job (from the
        // publication time, so a late round loses no day), as its own audited change.
        Ok(convention)
    }

    pub async fn conventions(&self) -> Result<Vec<Convention>, RegistryError> {
        Ok(self.store.conventions().await?)
    }

    /// Applies every deadline passed by `now`, asks providers in force for the latest
    /// convention version if they have not signed it, and opens the de-referencing procedure
    /// where surveys call for it. Each change is written against the state it was computed
    /// from (a change made meanwhile by someone else wins, and this round stops there for that
    /// provider); one provider's failure does not stop the others. Returns how many changes
    /// were written.
    pub async fn run_deadlines(&self, now: OffsetDateTime) -> Result<usize, RegistryError> {
        let latest = self.store.conventions().await?.pop();
        let mut written = 0;
        for record in self.store.providers().await? {
            let org = record.organisation.id.clone();
            match self.settle_one(&org, latest.as_ref(), now).await {
                Ok(n) => written += n,
                Err(e) => {
                    tracing::warn!(organisation = %org.as_str(), error = %e, "registry deadlines of a provider failed");
                }
            }
        }
        Ok(written)
    }

    /// The deadline round of one provider.
    async fn settle_one(
        &self,
        org: &OrganisationId,
        latest: Option<&Convention>,
        now: OffsetDateTime,
    ) -> Result<usize, RegistryError> {
        let mut written = 0;
        if let Some(latest) = latest {
            let record = self.record(org).await?;
            let behind = record
                .referencing
                .convention
                .is_some_and(|c| c.version < latest.version);
            let asked = record
                .referencing
                .pending_version
                .is_some_and(|p| p.version == latest.version);
            let event = Event::NewVersion {
                version: latest.version,
            };
            if behind
                && !asked
                && let Ok(next) = record.referencing.apply(&event, latest.published_at)
            {
                self.write(
                    Who::Hub,
                    &record,
                    &record.file,
                    &next,
                    None,
                    event.action(),
                    Reason::Generated(format!(
                        "convention version {} published; to be signed within 15 days",
                        latest.version
                    )),
                    now.max(latest.published_at),
                )
                .await?;
                written += 1;
            }
        }
        loop {
            let record = self.record(org).await?;
            let mut next = record.referencing.clone();
            let Some(change) = next.due_next(now) else {
                break;
            };
            let (action, reason, at) = match &change {
                Some(c) => (c.action, c.reason.clone(), c.at),
                None => (
                    "registry.renewed",
                    format!("tacit renewal {} while {}", next.renewals, next.status),
                    now,
                ),
            };
            self.write(
                Who::Hub,
                &record,
                &record.file,
                &next,
                None,
                action,
                Reason::Generated(reason),
                at,
            )
            .await?;
            written += 1;
        }
        if self.consider_dereferencing(org, now).await? {
            written += 1;
        }
        Ok(written)
    }

    /// Brings a provider's entry up to date with the deadlines passed by `now` before an
    /// event is applied on top of it (a signature after its deadline, a cancellation after
    /// the notice took effect, a badge for an expired provider).
    async fn settled(
        &self,
        who: Who<'_>,
        org: &OrganisationId,
        now: OffsetDateTime,
    ) -> Result<ProviderRecord, RegistryError> {
        self.get(who, org).await?;
        let latest = self.store.conventions().await?.pop();
        self.settle_one(org, latest.as_ref(), now).await?;
        self.record(org).await
    }

    /// What is due or overdue, provider by provider (analysts' dashboard).
    pub async fn dashboard(
        &self,
        who: Who<'_>,
        now: OffsetDateTime,
    ) -> Result<Vec<DashboardItem>, RegistryError> {
        Self::require_csirt(who)?;
        let mut out = Vec::new();
        for r in self.store.providers().await? {
            let mut due = r.referencing.overdue(now);
            if r.referencing.status == OrganisationStatus::UnderReview
                || r.referencing.status == OrganisationStatus::Applied
            {
                due.clear();
            }
            out.push(DashboardItem {
                organisation: r.organisation.id.as_str().to_owned(),
                name: r.organisation.name.clone(),
                status: r.referencing.status,
                due,
            });
        }
        Ok(out)
    }

    pub async fn history(
        &self,
        who: Who<'_>,
        org: &OrganisationId,
    ) -> Result<Vec<HistoryEntry>, RegistryError> {
        self.get(who, org).await?;
        Ok(self.store.provider_history(org).await?)
    }

    /// A provider's standing: status, deadlines, its surveys in aggregate.
    pub async fn standing(
        &self,
        who: Who<'_>,
        org: &OrganisationId,
        now: OffsetDateTime,
    ) -> Result<Standing, RegistryError> {
        let record = self.get(who, org).await?;
        let surveys = self.store.surveys_of(org).await?;
        Ok(Standing {
            status: record.referencing.status,
            term_ends: record.referencing.term_ends,
            renewals: record.referencing.renewals,
            convention_version: record.referencing.convention.map(|c| c.version),
            due: record.referencing.overdue(now),
            surveys: summarise(&surveys),
        })
    }

    /// Providers a victim may be handed to: referenced ones only.
    pub async fn shortlist(&self, who: Who<'_>) -> Result<Vec<ProviderRecord>, RegistryError> {
        Self::require_csirt(who)?;
        Ok(self
            .store
            .providers()
            .await?
            .into_iter()
            .filter(|r| r.referencing.is_referenced())
            .collect())
    }

    /// The public directory.
    pub async fn directory(
        &self,
        now: OffsetDateTime,
    ) -> Result<Vec<DirectoryEntry>, RegistryError> {
        Ok(self
            .store
            .providers()
            .await?
            .iter()
            .filter_map(|r| {
                directory::entry(&r.organisation.name, &r.file, &r.referencing, now.date())
            })
            .collect())
    }

    /// Issues a survey link for the beneficiary of a case, about the case's provider.
    pub async fn issue_survey(
        &self,
        who: Who<'_>,
        case_id: &str,
        now: OffsetDateTime,
    ) -> Result<(String, OffsetDateTime), RegistryError> {
        Self::require_csirt(who)?;
        let case = self
            .store
            .case(case_id)
            .await?
            .ok_or_else(|| RegistryError::BadRequest(format!("no case {case_id:?}")))?;
        self.record(&case.provider).await?;
        // One voice per beneficiary: a new link only while no answer came for the case.
        if self
            .store
            .surveys_of(&case.provider)
            .await?
            .iter()
            .any(|s| s.case_id == case.id && s.answered_at.is_some())
        {
            return Err(RegistryError::Conflict(
                "the beneficiary of this case has answered its survey".into(),
            ));
        }
        let id = uuid::Uuid::new_v4().to_string();
        let expires = now + SURVEY_VALIDITY;
        let token = issue_survey_token(
            self.survey_key,
            &SurveyClaims {
                jti: id.clone(),
                provider: case.provider.as_str().to_owned(),
                case: case.id.clone(),
                iat: now.unix_timestamp(),
                exp: expires.unix_timestamp(),
            },
        )?;
        let audit = who.acting(now).record("registry.survey_issue").objects([
            id.clone(),
            case.id.clone(),
            case.provider.as_str().to_owned(),
        ]);
        self.store
            .insert_survey(
                &Survey {
                    id,
                    organisation: case.provider.clone(),
                    case_id: case.id,
                    issued_at: now,
                    expires_at: expires,
                    answered_at: None,
                    answers: None,
                    average: None,
                    unfavourable: None,
                },
                &audit,
            )
            .await?;
        Ok((token, expires))
    }

    /// The survey a link opens, if it can still be answered.
    pub async fn open_survey(
        &self,
        token: &str,
        now: OffsetDateTime,
    ) -> Result<Survey, RegistryError> {
        let claims = verify_survey_token(self.survey_key, token, now)?;
        let survey = self
            .store
            .survey(&claims.jti)
            .await?
            .filter(|s| s.organisation.as_str() == claims.provider && s.case_id == claims.case)
            .ok_or(RegistryError::NotFound)?;
        if survey.answered_at.is_some() {
            return Err(RegistryError::AlreadyAnswered);
        }
        Ok(survey)
    }

    /// Records a beneficiary's answers (once); three unfavourable surveys open the
    /// de-referencing procedure. Returns whether this one was unfavourable.
    pub async fn answer_survey(
        &self,
        token: &str,
        ratings: BTreeMap<String, u8>,
        comment: String,
        now: OffsetDateTime,
    ) -> Result<bool, RegistryError> {
        let survey = self.open_survey(token, now).await?;
        let answers = Answers { ratings, comment };
        let scored = score(self.survey_policy, &answers)?;
        let json = serde_json::json!({
            "ratings": answers.ratings,
            "comment": answers.comment,
        })
        .to_string();
        let audit = Acting::unregistered("beneficiary", "", now)
            .record("registry.survey_answer")
            .objects([survey.id.clone(), survey.organisation.as_str().to_owned()])
            .reason(format!(
                "average {:.2}{}",
                scored.average,
                if scored.unfavourable {
                    ", unfavourable"
                } else {
                    ""
                }
            ));
        if !self
            .store
            .answer_survey(
                &survey.id,
                now,
                &json,
                scored.average,
                scored.unfavourable,
                &audit,
            )
            .await?
        {
            return Err(RegistryError::AlreadyAnswered);
        }
        // The answer is stored: whatever happens next, the beneficiary is told so. A failure
        // to open the procedure now is retried by the deadline job, which counts the same way.
        if scored.unfavourable
            && let Err(e) = self.consider_dereferencing(&survey.organisation, now).await
        {
            tracing::warn!(error = %e, "de-referencing procedure not opened yet; the deadline job retries");
        }
        Ok(scored.unfavourable)
    }

    /// Opens the de-referencing procedure if enough distinct beneficiaries answered
    /// unfavourably since the referencing (or the last cancelled procedure). Idempotent:
    /// the answer path and the deadline job both call it. True if it opened one.
    async fn consider_dereferencing(
        &self,
        org: &OrganisationId,
        now: OffsetDateTime,
    ) -> Result<bool, RegistryError> {
        let record = self.record(org).await?;
        let from = record.referencing.surveys_count_from;
        let cases: std::collections::BTreeSet<String> = self
            .store
            .surveys_of(org)
            .await?
            .into_iter()
            .filter(|s| s.unfavourable == Some(true) && s.answered_at.is_some_and(|a| a >= from))
            .map(|s| s.case_id)
            .collect();
        let unfavourable = u32::try_from(cases.len()).unwrap_or(u32::MAX);
        if unfavourable < UNFAVOURABLE_SURVEYS {
            return Ok(false);
        }
        let event = Event::GiveNotice(NoticeKind::Dereferencing {
            cause: DereferencingCause::UnfavourableSurveys,
        });
        // Already under notice, suspended or gone: nothing more to open now.
        let Ok(next) = record.referencing.apply(&event, now) else {
            return Ok(false);
        };
        self.write(
            Who::Hub,
            &record,
            &record.file,
            &next,
            None,
            event.action(),
            Reason::Generated(format!(
                "{unfavourable} unfavourable satisfaction surveys: de-referencing procedure opened"
            )),
            now,
        )
        .await?;
        Ok(true)
    }

    /// A badge: a statement of referencing clear-signed by the hub, for the provider to show.
    pub async fn issue_badge(
        &self,
        who: Who<'_>,
        org: &OrganisationId,
        verify_url: &str,
        now: OffsetDateTime,
    ) -> Result<Badge, RegistryError> {
        let record = self.settled(who, org, now).await?;
        if !record.referencing.is_referenced() {
            return Err(RegistryError::Conflict(
                "only a referenced provider gets a badge".into(),
            ));
        }
        let id = format!("badge--{}", uuid::Uuid::new_v4());
        let text = badge_text(&id, &record, self.csirt, verify_url, now);
        let signed = self
            .signing_key
            .sign_cleartext(&text, now)
            .map_err(RegistryError::Signing)?;
        let badge = Badge {
            id: id.clone(),
            organisation: org.clone(),
            issued_at: now,
            text: signed,
        };
        let audit = who
            .acting(now)
            .record("registry.badge")
            .objects([id, org.as_str().to_owned()]);
        self.store.insert_badge(&badge, &audit).await?;
        Ok(badge)
    }

    /// Checks a badge: the hub's signature, a badge it issued, and a provider still
    /// referenced today.
    pub async fn verify_badge(
        &self,
        signed: &str,
        now: OffsetDateTime,
    ) -> Result<BadgeCheck, RegistryError> {
        let key = self.signing_key.public_key();
        let (text, _) =
            verify_cleartext(&key, signed.as_bytes(), now).map_err(RegistryError::BadSignature)?;
        let mut ids = text.lines().filter_map(|l| l.strip_prefix("Badge: "));
        let (Some(id), None) = (ids.next(), ids.next()) else {
            return Err(RegistryError::BadRequest("not a relais badge".into()));
        };
        let badge = self
            .store
            .badge(id.trim())
            .await?
            .ok_or(RegistryError::NotFound)?;
        // The statement must be the one issued under that id, word for word: a signed text
        // cannot borrow another provider's badge id.
        let (issued, _) = verify_cleartext(&key, badge.text.as_bytes(), badge.issued_at)
            .map_err(RegistryError::BadSignature)?;
        if issued != text {
            return Err(RegistryError::BadRequest("not a relais badge".into()));
        }
        self.badge_status(&badge.id).await
    }

    /// The standing of a badge by its id.
    pub async fn badge_status(&self, id: &str) -> Result<BadgeCheck, RegistryError> {
        let badge = self.store.badge(id).await?.ok_or(RegistryError::NotFound)?;
        let record = self.record(&badge.organisation).await?;
        Ok(BadgeCheck {
            badge: badge.id,
            provider: record.organisation.name,
            status: record.referencing.status,
            valid: record.referencing.is_referenced(),
        })
    }
}

/// The outcome of a badge check.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct BadgeCheck {
    pub badge: String,
    pub provider: String,
    /// For the CSIRT's own use: the public pages say valid or not, never why.
    #[serde(skip)]
    pub status: OrganisationStatus,
    /// The provider is referenced today.
    pub valid: bool,
}

fn badge_text(
    id: &str,
    record: &ProviderRecord,
    csirt: &str,
    verify_url: &str,
    now: OffsetDateTime,
) -> String {
    let since = record
        .referencing
        .convention
        .map(|c| format!("version {}, signed {}", c.version, c.signed_at.date()))
        .unwrap_or_default();
    format!(
        "relais referencing badge\n\
         Provider: {}\n\
         Referenced by: {csirt}\n\
         Convention: {since}\n\
         Issued: {}\n\
         Badge: {id}\n\
         Verify: {verify_url}\n",
        record.organisation.name,
        now.date(),
    )
}

fn summarise(surveys: &[Survey]) -> SurveySummary {
    let answered: Vec<&Survey> = surveys.iter().filter(|s| s.answered_at.is_some()).collect();
    let scores: Vec<f64> = answered.iter().filter_map(|s| s.average).collect();
    SurveySummary {
        issued: u32::try_from(surveys.len()).unwrap_or(u32::MAX),
        answered: u32::try_from(answered.len()).unwrap_or(u32::MAX),
        unfavourable: u32::try_from(
            answered
                .iter()
                .filter(|s| s.unfavourable == Some(true))
                .count(),
        )
        .unwrap_or(u32::MAX),
        average: (!scores.is_empty()).then(|| scores.iter().sum::<f64>() / scores.len() as f64),
    }
}

/// Takes an existing provider organisation (created with `relais pki`) into the registry as
/// referenced: its file, and its signature of the latest convention version. Needs no key, so
/// that first start can seed the demo providers.
pub async fn adopt(
    store: &dyn Store,
    who: Who<'_>,
    organisation: &Organisation,
    file: ProviderFile,
    signature: &str,
    now: OffsetDateTime,
) -> Result<ProviderRecord, RegistryError> {
    if !who.is_csirt() {
        return Err(RegistryError::NotAnalyst);
    }
    if organisation.kind != OrganisationKind::Provider {
        return Err(RegistryError::BadRequest(format!(
            "{:?} is not a provider",
            organisation.name
        )));
    }
    let conditions = check_file(store, &file, Some(&organisation.id)).await?;
    if !conditions.met() {
        return Err(RegistryError::Conditions(conditions));
    }
    let convention = store
        .conventions()
        .await?
        .pop()
        .ok_or(RegistryError::NoConvention)?;
    Registry::check_signature(&file, &convention.text, signature, now)?;
    let referencing = Referencing::applied(now)
        .apply(&Event::StartReview, now)?
        .apply(
            &Event::Reference {
                version: convention.version,
            },
            now,
        )?;
    let history = HistoryEntry {
        at: now,
        actor: who.name(),
        action: "registry.reference".into(),
        from_status: Some(organisation.status),
        to_status: referencing.status,
        reason: format!(
            "taken into the registry; convention version {} signed",
            convention.version
        ),
        file_sha256: file_hash(&file),
    };
    let audit = who
        .acting(now)
        .record("registry.reference")
        .objects([
            organisation.id.as_str().to_owned(),
            format!("sha256:{}", history.file_sha256),
        ])
        .reason(history.reason.clone());
    store
        .write_provider(
            &ProviderWrite {
                organisation,
                create: Creation::Entry,
                file: &file,
                referencing: &referencing,
                conditions,
                convention_signature: Some(signature),
                expected: None,
                history: &history,
            },
            &audit,
        )
        .await
        .map_err(conflict_or_store)?;
    store
        .provider(&organisation.id)
        .await?
        .ok_or(RegistryError::NotFound)
}

/// Checks a file: its fields, its key, and that the hub holds every piece of evidence, uploaded
/// for this provider (`owner`) or before it had an entry.
async fn check_file(
    store: &dyn Store,
    file: &ProviderFile,
    owner: Option<&OrganisationId>,
) -> Result<Conditions, RegistryError> {
    let problems = file.problems();
    if !problems.is_empty() {
        return Err(RegistryError::Invalid(problems));
    }
    PublicKey::from_bytes(file.openpgp_key.as_bytes()).map_err(RegistryError::BadKey)?;
    for q in &file.qualifications {
        let held = store.evidence(&q.evidence_sha256).await?;
        let theirs =
            held.is_some_and(|e| e.organisation.is_none() || e.organisation.as_ref() == owner);
        if !theirs {
            return Err(RegistryError::MissingEvidence(q.evidence_sha256.clone()));
        }
    }
    Ok(file.conditions())
}
