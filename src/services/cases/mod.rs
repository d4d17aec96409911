//! Victim cases from first contact to closure (Convention art. 3, 4, 5.2, 6.2, 6.3, 9, 10).
//! An analyst qualifies the case; the hub draws a fair shortlist; the beneficiary chooses
//! (through the analyst or its own single-use link); the chosen provider receives the
//! encrypted package and answers; provider and CSIRT keep the journal; either closes the case,
//! which issues the satisfaction survey and sets the REX due date. Consent to sharing, which
//! the anonymiser and the triage depend on, can change at any time (art. 4).
//!
//! Whatever leaves here about a case is built from a `Disclosed` value: to anyone who may not
//! see the case, it does not exist.

mod choice;
mod closure;
mod handoffs;
mod journal;
mod shortlist;

pub use choice::{ChoiceLinkIssued, ChoiceOption, ChoicePage, ChoiceRequest};
pub use closure::{CloseRequest, ClosureView, DisputeRequest, OutcomeRequest};
pub use handoffs::HandoffView;
pub use journal::JournalExport;
pub use shortlist::ShortlistView;

use serde::Serialize;
use time::{Duration, OffsetDateTime};

use crate::crypto::openpgp::{AuditKey, PublicKey};
use crate::domain::access::{Analyst, RegistryRecord};
use crate::domain::audit::reads::{Material, on_record};
use crate::domain::audit::record::AuditRecord;
use crate::domain::cases::CaseFile;
use crate::domain::cases::access::{Disclosed, disclose_case};
use crate::domain::cases::hours::BusinessCalendar;
use crate::domain::cases::lifecycle::{CaseStatus, Closure, Dispute, NotNow};
use crate::domain::cases::qualification::{
    Beneficiary, Incident, Qualification, QualificationError, QualificationRequest, qualify,
};
use crate::domain::collections::SUBMISSIONS;
use crate::domain::principal::PrincipalKind;
use crate::domain::registry::file::Service;
use crate::domain::triage::{Case, Consent, VictimIdentifiers, sees_victim_identifiers};
use crate::services::registry::Registry;
use crate::store::cases::CASE_CHANGED;
use crate::store::{Store, StoreError};

/// Bounds on what an analyst records, so a case stays small enough to load on every submission.
pub const MAX_IDENTIFIERS: usize = 200;
pub const MAX_IDENTIFIER_LEN: usize = 253;
pub const MAX_TEXT_LEN: usize = 200;
// `NewCase`'s schema states these bounds in literals.
const _: () = assert!(MAX_TEXT_LEN == 200);

#[derive(Debug, thiserror::Error)]
pub enum CaseError {
    /// Missing, or a case the caller may not see: the answer is the same.
    #[error("no such case")]
    NotFound,
    #[error("{0}")]
    Invalid(String),
    #[error("a case with reference {0:?} exists already")]
    Duplicate(String),
    /// The case's state does not allow this step now.
    #[error("{0}")]
    NotNow(String),
    /// A beneficiary's link that is expired, used or not the hub's.
    #[error("the link is not valid")]
    BadLink,
    #[error("the link has expired")]
    ExpiredLink,
    #[error("the link was used already")]
    UsedLink,
    /// A newer shortlist, or a choice made another way, replaced what the link offered.
    #[error("the link was replaced")]
    StaleLink,
    #[error("cannot build the handoff package: {0}")]
    Package(String),
    #[error(transparent)]
    Store(StoreError),
}

impl From<StoreError> for CaseError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::Conflict(CASE_CHANGED) => {
                CaseError::NotNow("the case changed meanwhile: read it again".into())
            }
            e => CaseError::Store(e),
        }
    }
}

impl From<QualificationError> for CaseError {
    fn from(e: QualificationError) -> Self {
        CaseError::Invalid(e.to_string())
    }
}

impl From<NotNow> for CaseError {
    fn from(e: NotNow) -> Self {
        CaseError::NotNow(e.0)
    }
}

/// What the hub's configuration sets for cases (`[cases]`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CaseSettings {
    pub shortlist_size: usize,
    /// How long the chosen provider has to answer a handoff.
    pub answer_within: Duration,
    /// How long a beneficiary's choice link stays valid.
    pub choice_link_validity: Duration,
}

impl Default for CaseSettings {
    fn default() -> Self {
        Self {
            shortlist_size: 3,
            answer_within: Duration::hours(4),
            choice_link_validity: Duration::hours(72),
        }
    }
}

/// What an analyst sends to open a case at first contact.
#[derive(Debug, Clone, serde::Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewCase {
    /// The CSIRT's own reference, e.g. `CSIRT-RE-2026-0042`: unique, 1 to 200 bytes once
    /// trimmed, no control characters.
    #[schema(min_length = 1, max_length = 200, pattern = r"\S")]
    pub reference: String,
    pub beneficiary: Beneficiary,
    pub incident: Incident,
    /// The facts collected at triage (1 to 20000 bytes).
    pub facts: String,
    /// STIX 2.1 cyber-observable objects seen at triage.
    #[serde(default)]
    #[schema(value_type = Vec<Object>)]
    pub observables: Vec<serde_json::Value>,
    /// The needed services, among the registry's six.
    pub services: Vec<Service>,
    /// Notes for the provider the case will be handed to.
    #[serde(default)]
    pub notes: String,
    #[serde(default)]
    pub identifiers: VictimIdentifiers,
    #[serde(default = "pending")]
    pub consent: Consent,
}

fn pending() -> Consent {
    Consent::Pending
}

pub struct Cases<'a> {
    pub store: &'a dyn Store,
    pub settings: &'a CaseSettings,
    pub calendar: &'a dyn BusinessCalendar,
    /// Signs handoff packages and journal exports (the hub's registry key).
    pub hub_key: &'a AuditKey,
    /// The CSIRT's own key: every package is encrypted to it too.
    pub csirt_key: &'a PublicKey,
    /// HMAC key of beneficiary links (shared with surveys; audiences differ).
    pub link_key: &'a [u8],
    /// `hub.organisation`.
    pub csirt: &'a str,
    pub registry: Registry<'a>,
}

/// A case as one caller may have it: identifiers, disputes and what needs attention only for
/// the analysts.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct CaseView {
    pub id: String,
    pub reference: String,
    /// The beneficiary's name.
    pub beneficiary: String,
    pub status: CaseStatus,
    /// The provider the case is handed to now (organisation id), if any.
    pub provider: Option<String>,
    pub consent: Consent,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub qualification: Option<Qualification>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub identifiers: Option<VictimIdentifiers>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub closure: Option<Closure>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub disputes: Vec<Dispute>,
    /// For analysts: what waits on them (an unanswered handoff, say).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub attention: Vec<String>,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339::option")]
    pub consent_at: Option<OffsetDateTime>,
}

impl CaseView {
    fn of(file: Disclosed<CaseFile>, caller: &RegistryRecord, attention: Vec<String>) -> Self {
        let analyst = caller.principal.kind == PrincipalKind::Analyst;
        let CaseFile {
            case,
            status,
            qualification,
            closure,
            disputes,
            ..
        } = file.into_inner();
        Self {
            identifiers: sees_victim_identifiers(caller).then_some(case.identifiers),
            id: case.id,
            reference: case.reference,
            beneficiary: case.beneficiary,
            status,
            provider: case.provider.map(|p| p.to_string()),
            consent: case.consent,
            qualification,
            closure,
            disputes: if analyst { disputes } else { Vec::new() },
            attention: if analyst { attention } else { Vec::new() },
            created_at: case.created_at,
            consent_at: case.consent_at,
        }
    }
}

fn bounded_text(what: &str, value: &str) -> Result<String, CaseError> {
    let value = value.trim();
    if value.is_empty() || value.len() > MAX_TEXT_LEN || value.chars().any(char::is_control) {
        return Err(CaseError::Invalid(format!(
            "{what} must be 1 to {MAX_TEXT_LEN} bytes without control characters"
        )));
    }
    Ok(value.to_owned())
}

/// Lower-cased, trimmed, deduplicated lists within the bounds.
fn normalise(identifiers: VictimIdentifiers) -> Result<VictimIdentifiers, CaseError> {
    let list = |what: &str, values: Vec<String>, lower: bool| -> Result<Vec<String>, CaseError> {
        if values.len() > MAX_IDENTIFIERS {
            return Err(CaseError::Invalid(format!(
                "identifiers.{what}: at most {MAX_IDENTIFIERS} values"
            )));
        }
        let mut out: Vec<String> = Vec::with_capacity(values.len());
        for v in values {
            let v = v.trim();
            let v = if lower {
                v.to_lowercase()
            } else {
                v.to_owned()
            };
            if v.is_empty() || v.len() > MAX_IDENTIFIER_LEN || v.chars().any(char::is_control) {
                return Err(CaseError::Invalid(format!(
                    "identifiers.{what}: each value must be 1 to {MAX_IDENTIFIER_LEN} bytes \
                     without control characters"
                )));
            }
            if !out.contains(&v) {
                out.push(v);
            }
        }
        Ok(out)
    };
    Ok(VictimIdentifiers {
        domains: list("domains", identifiers.domains, true)?,
        emails: list("emails", identifiers.emails, true)?,
        hostnames: list("hostnames", identifiers.hostnames, true)?,
        organisations: list("organisations", identifiers.organisations, false)?,
    })
}

impl Cases<'_> {
    /// Opens a case at first contact: no provider yet.
    pub async fn open(
        &self,
        caller: &Analyst,
        request: NewCase,
        now: OffsetDateTime,
    ) -> Result<CaseView, CaseError> {
        let reference = bounded_text("reference", &request.reference)?;
        let outside = !self.calendar.is_business_time(request.incident.reported_at);
        let qualification = qualify(
            QualificationRequest {
                beneficiary: request.beneficiary,
                incident: request.incident,
                facts: request.facts,
                observables: request.observables,
                services: request.services,
                notes: request.notes,
            },
            outside,
        )?;
        let case = Case {
            id: format!("case--{}", uuid::Uuid::new_v4()),
            reference: reference.clone(),
            beneficiary: qualification.beneficiary.name.clone(),
            provider: None,
            consent: request.consent,
            identifiers: normalise(request.identifiers)?,
            created_by: caller.principal.id.clone(),
            created_at: now,
            consent_by: (request.consent != Consent::Pending).then(|| caller.principal.id.clone()),
            consent_at: (request.consent != Consent::Pending).then_some(now),
        };
        let file = CaseFile {
            case,
            status: CaseStatus::Open,
            qualification: Some(qualification),
            closure: None,
            disputes: Vec::new(),
            revision: 0,
        };
        // The reference and beneficiary name a victim: the log holds the case id only.
        let audit = AuditRecord::by(caller, "case.create", now)
            .objects([file.case.id.as_str()])
            .reason(format!("consent {}", file.case.consent.as_str()));
        match self.store.insert_case_file(&file, &audit).await {
            Ok(()) => {}
            Err(StoreError::Conflict(_)) => return Err(CaseError::Duplicate(reference)),
            Err(e) => return Err(e.into()),
        }
        let disclosed = disclose_case(caller, file).ok_or(CaseError::NotFound)?;
        Ok(CaseView::of(disclosed, caller, Vec::new()))
    }

    /// The case if the caller may see it, else `NotFound`, whether it exists or not.
    async fn disclosed(
        &self,
        caller: &RegistryRecord,
        id: &str,
    ) -> Result<Disclosed<CaseFile>, CaseError> {
        let file = self.store.case_file(id).await?.ok_or(CaseError::NotFound)?;
        disclose_case(caller, file).ok_or(CaseError::NotFound)
    }

    /// A case for the analysts, or for the provider it is handed to; anyone else is told
    /// there is no such case.
    /// Case material is read on the record: the read is logged before it is returned.
    pub async fn get(
        &self,
        caller: &RegistryRecord,
        id: &str,
        now: OffsetDateTime,
    ) -> Result<CaseView, CaseError> {
        let file = self.disclosed(caller, id).await?;
        self.record_reads(caller, std::slice::from_ref(&file.item().case), now)
            .await?;
        let attention = self.attention(file.item(), now).await?;
        Ok(CaseView::of(file, caller, attention))
    }

    /// What waits on the analysts for this case.
    async fn attention(
        &self,
        file: &CaseFile,
        now: OffsetDateTime,
    ) -> Result<Vec<String>, CaseError> {
        if file.status != CaseStatus::HandedOff {
            return Ok(Vec::new());
        }
        Ok(self
            .store
            .handoffs_of_case(&file.case.id)
            .await?
            .into_iter()
            .filter(|h| h.overdue(now))
            .map(|h| {
                format!(
                    "handoff {} unanswered since {}",
                    h.id,
                    crate::domain::stix::stored::utc_timestamp(h.answer_due, 0)
                )
            })
            .collect())
    }

    async fn record_reads(
        &self,
        caller: &RegistryRecord,
        cases: &[Case],
        now: OffsetDateTime,
    ) -> Result<(), CaseError> {
        if cases.is_empty() || !on_record(Material::Case) {
            return Ok(());
        }
        self.store
            .append_audit(
                &AuditRecord::by(caller, "case.read", now)
                    .objects(cases.iter().map(|c| c.id.as_str())),
            )
            .await?;
        Ok(())
    }

    /// Every case for analysts; the cases handed to it for a provider.
    pub async fn list(
        &self,
        caller: &RegistryRecord,
        now: OffsetDateTime,
    ) -> Result<Vec<CaseView>, CaseError> {
        let files: Vec<Disclosed<CaseFile>> = self
            .store
            .case_files()
            .await?
            .into_iter()
            .filter_map(|f| disclose_case(caller, f))
            .collect();
        let cases: Vec<Case> = files.iter().map(|f| f.item().case.clone()).collect();
        self.record_reads(caller, &cases, now).await?;
        let analyst = caller.principal.kind == PrincipalKind::Analyst;
        let mut out = Vec::with_capacity(files.len());
        for f in files {
            let attention = if analyst {
                self.attention(f.item(), now).await?
            } else {
                Vec::new()
            };
            out.push(CaseView::of(f, caller, attention));
        }
        Ok(out)
    }

    /// Records the beneficiary's answer; material already published leaves or returns to the
    /// community views in the same transaction. Returns how many object versions moved.
    pub async fn set_consent(
        &self,
        caller: &Analyst,
        id: &str,
        consent: Consent,
        now: OffsetDateTime,
    ) -> Result<u64, CaseError> {
        match self
            .store
            .set_consent(
                id,
                consent,
                &caller.principal.id,
                now,
                SUBMISSIONS.id,
                &AuditRecord::by(caller, "case.consent", now)
                    .objects([id])
                    .reason(format!("consent {}", consent.as_str())),
            )
            .await
        {
            Ok(moved) => Ok(moved),
            Err(StoreError::NotFound(_)) => Err(CaseError::NotFound),
            Err(e) => Err(e.into()),
        }
    }

    /// Writes `file` (changed from revision `expected`) with what comes with the change.
    async fn write(
        &self,
        write: &crate::store::cases::CaseWrite<'_>,
        audits: &[AuditRecord],
    ) -> Result<Option<i64>, CaseError> {
        Ok(self.store.write_case(write, audits).await?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn identifiers_are_normalised_and_bounded() {
        let ids = normalise(VictimIdentifiers {
            domains: vec![" Victim.RE ".into(), "victim.re".into()],
            emails: vec![],
            hostnames: vec!["SRV-01".into()],
            organisations: vec!["Mairie de Saint-Denis".into()],
        })
        .unwrap();
        assert_eq!(ids.domains, ["victim.re"]);
        assert_eq!(ids.hostnames, ["srv-01"]);
        assert_eq!(ids.organisations, ["Mairie de Saint-Denis"]);
        assert!(
            normalise(VictimIdentifiers {
                domains: vec!["a\nb".into()],
                ..Default::default()
            })
            .is_err()
        );
        assert!(
            normalise(VictimIdentifiers {
                emails: vec!["x@y.re".into(); MAX_IDENTIFIERS + 1],
                ..Default::default()
            })
            .is_err()
        );
    }
}
