//! Use-cases: each one reads or writes through the `Store`, calls the domain for decisions,
//! and knows nothing of HTTP.

pub mod audit_export;
pub mod audit_log;
pub mod audit_verify;
pub mod bootstrap;
pub mod cases;
pub mod checkpoints;
pub mod export;
pub mod federation;
pub mod identity;
pub mod ingest;
pub mod iocs;
pub mod jobs;
pub mod pki;
pub mod registry;
pub mod registry_demo;
pub mod reports;
pub mod revocation;
pub mod secrets;
pub mod share;
pub mod sla;
pub mod taxii;
pub mod tls_refusals;
pub mod triage;

use std::sync::Arc;

use arc_swap::ArcSwap;

use crate::crypto::cursor::CursorKey;
use crate::crypto::openpgp::{AuditKey, PublicKey};
use crate::domain::anonymise::{AnonymisationPolicy, PseudonymKey};
use crate::domain::cases::hours::BusinessCalendar;
use crate::domain::exports::ExportPolicy;
use crate::domain::federation::FederationPolicy;
use crate::domain::markings::policy::MarkingPolicy;
use crate::domain::registry::survey::SurveyPolicy;
use crate::store::{SharedStore, StoreError};

/// A failure below the use-cases, as the edge sees it: the database unreachable (an outage) or
/// something wrong inside the hub. Its text is for the log, never for a client.
#[derive(Debug, thiserror::Error)]
#[error(transparent)]
pub struct Failure(#[from] StoreError);

impl Failure {
    /// The database could not be reached: worth retrying, unlike a fault of the hub's own.
    pub fn is_outage(&self) -> bool {
        matches!(self.0, StoreError::Database(_))
    }
}

/// Everything the use-cases need from the running hub, and the only way to them: the edge
/// (HTTP handlers, the console) gets services from here, never the store.
#[derive(Debug)]
pub struct Services {
    store: SharedStore,
    pub policy: Arc<MarkingPolicy>,
    /// Swapped whole on reload (SIGHUP, `relais federation reload`): a request reads one
    /// version of it from start to end.
    pub federation: Arc<ArcSwap<FederationPolicy>>,
    pub anonymisation: Arc<AnonymisationPolicy>,
    /// How broad a network an indicator may name (`policies/exports.toml`).
    pub exports: Arc<ExportPolicy>,
    pub pseudonyms: Arc<PseudonymKey>,
    pub cursors: CursorKey,
    /// The audit log's signer: its key's public half is served, and the job runs beside.
    pub checkpoints: Arc<checkpoints::Checkpointer>,
    /// Signs registry badges.
    pub registry_key: Arc<AuditKey>,
    /// HMAC key of survey tokens.
    pub survey_key: Arc<[u8]>,
    pub survey_policy: Arc<SurveyPolicy>,
    /// The CSIRT that runs the hub (`hub.organisation`).
    pub organisation: Arc<str>,
    pub case_settings: Arc<cases::CaseSettings>,
    /// Business hours, for the shortlist (JHNO) and, later, the SLA.
    pub calendar: Arc<dyn BusinessCalendar>,
    /// The CSIRT's own OpenPGP key: every handoff package is encrypted to it too.
    pub csirt_key: Arc<PublicKey>,
    pub report_settings: Arc<reports::ReportSettings>,
    pub sla_policy: Arc<crate::domain::sla::policy::SlaPolicy>,
    pub calendars: Arc<sla::Calendars>,
}

/// What a `Services` is made of.
#[derive(Debug)]
pub struct ServicesParts {
    pub store: SharedStore,
    pub policy: Arc<MarkingPolicy>,
    pub federation: Arc<ArcSwap<FederationPolicy>>,
    pub anonymisation: Arc<AnonymisationPolicy>,
    pub exports: Arc<ExportPolicy>,
    pub pseudonyms: Arc<PseudonymKey>,
    pub cursors: CursorKey,
    pub checkpoints: Arc<checkpoints::Checkpointer>,
    pub registry_key: Arc<AuditKey>,
    pub survey_key: Arc<[u8]>,
    pub survey_policy: Arc<SurveyPolicy>,
    pub organisation: Arc<str>,
    pub case_settings: Arc<cases::CaseSettings>,
    pub calendar: Arc<dyn BusinessCalendar>,
    pub csirt_key: Arc<PublicKey>,
    pub report_settings: Arc<reports::ReportSettings>,
    pub sla_policy: Arc<crate::domain::sla::policy::SlaPolicy>,
    pub calendars: Arc<sla::Calendars>,
}

impl Services {
    /// Cosignatures partners sent back of this hub's checkpoints, newest first.
    pub async fn cosignatures(
        &self,
        limit: u32,
    ) -> Result<Vec<crate::store::federation::ReceivedCosignature>, crate::store::StoreError> {
        federation::witness::cosignatures(self.store.as_ref(), limit).await
    }

    /// Keeps a partner hub's cosignature of one of this hub's checkpoints (see
    /// `federation::witness::receive`); only a peer's own entry names the key it signs with.
    pub async fn receive_cosignature(
        &self,
        caller: &crate::domain::access::RegistryRecord,
        body: &str,
        line: &str,
        now: time::OffsetDateTime,
    ) -> Result<bool, federation::witness::ReceiveError> {
        let policy = self.federation.load();
        let entry = (caller.principal.kind == crate::domain::principal::PrincipalKind::Peer)
            .then(|| policy.entry_of(&caller.principal.id))
            .flatten();
        federation::witness::receive(self.store.as_ref(), caller, entry, body, line, now).await
    }

    pub fn new(parts: ServicesParts) -> Self {
        Self {
            store: parts.store,
            policy: parts.policy,
            federation: parts.federation,
            anonymisation: parts.anonymisation,
            exports: parts.exports,
            pseudonyms: parts.pseudonyms,
            cursors: parts.cursors,
            checkpoints: parts.checkpoints,
            registry_key: parts.registry_key,
            survey_key: parts.survey_key,
            survey_policy: parts.survey_policy,
            organisation: parts.organisation,
            case_settings: parts.case_settings,
            calendar: parts.calendar,
            csirt_key: parts.csirt_key,
            report_settings: parts.report_settings,
            sla_policy: parts.sla_policy,
            calendars: parts.calendars,
        }
    }

    /// The read side of the sharing services.
    pub fn sharing(&self) -> share::Sharing<'_> {
        share::Sharing {
            store: self.store.as_ref(),
            policy: &self.policy,
            federation: self.federation.load_full(),
            cursors: &self.cursors,
            exports: &self.exports,
            recorded: true,
        }
    }

    /// The write side.
    pub fn ingest(&self) -> ingest::Ingest<'_> {
        ingest::Ingest {
            store: self.store.as_ref(),
            policy: &self.policy,
            federation: self.federation.load_full(),
            anonymisation: &self.anonymisation,
            pseudonyms: &self.pseudonyms,
            exports: &self.exports,
        }
    }

    pub fn triage(&self) -> triage::Triage<'_> {
        triage::Triage {
            store: self.store.as_ref(),
            sharing: self.sharing(),
        }
    }

    pub fn cases(&self) -> cases::Cases<'_> {
        cases::Cases {
            store: self.store.as_ref(),
            settings: &self.case_settings,
            calendar: self.calendar.as_ref(),
            hub_key: &self.registry_key,
            csirt_key: &self.csirt_key,
            link_key: &self.survey_key,
            csirt: &self.organisation,
            registry: self.registry(),
        }
    }

    /// SOC service levels: contracts, alerts, their reports and rules.
    pub fn sla(&self) -> sla::Sla<'_> {
        sla::Sla {
            store: self.store.as_ref(),
            policy: &self.sla_policy,
            calendars: &self.calendars,
        }
    }

    /// Reports the providers owe, and the CSIRT's statistics.
    pub fn reports(&self) -> reports::Reports<'_> {
        reports::Reports {
            store: self.store.as_ref(),
            settings: &self.report_settings,
            anonymisation: &self.anonymisation,
            pseudonyms: &self.pseudonyms,
            ingest: self.ingest(),
        }
    }

    /// The provider registry.
    pub fn registry(&self) -> registry::Registry<'_> {
        registry::Registry {
            store: self.store.as_ref(),
            signing_key: &self.registry_key,
            survey_key: &self.survey_key,
            survey_policy: &self.survey_policy,
            csirt: &self.organisation,
        }
    }

    pub fn audit_log(&self) -> audit_log::AuditLog<'_> {
        audit_log::AuditLog {
            store: self.store.as_ref(),
        }
    }

    /// The store, for the use-cases under `services`: never for the edge.
    fn store(&self) -> &SharedStore {
        &self.store
    }

    /// Cheap round trip to the database, for readiness checks.
    pub async fn ping(&self) -> Result<(), StoreError> {
        self.store.ping().await
    }
}
