//! Victim cases as far as provider submissions need them: the CSIRT records the beneficiary,
//! the provider it chose and what identifies it (for the anonymiser), and the beneficiary's
//! consent to sharing, which can change at any time (Convention art. 4).

use time::OffsetDateTime;

use serde::Serialize;

use crate::domain::access::{Analyst, RegistryRecord};
use crate::domain::audit::reads::{Material, on_record};
use crate::domain::audit::record::AuditRecord;
use crate::domain::collections::SUBMISSIONS;
use crate::domain::principal::{OrganisationId, OrganisationKind};
use crate::domain::triage::{
    Case, Consent, VictimIdentifiers, may_see_case, sees_victim_identifiers,
};
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
    #[error(transparent)]
    Store(StoreError),
}

impl From<StoreError> for CaseError {
    fn from(e: StoreError) -> Self {
        CaseError::Store(e)
    }
}

/// What an analyst sends to open a case.
#[derive(Debug, Clone, serde::Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewCase {
    /// The CSIRT's own reference, e.g. `CSIRT-RE-2026-0042`: unique, 1 to 200 bytes once
    /// trimmed, no control characters.
    #[schema(min_length = 1, max_length = 200, pattern = r"\S")]
    pub reference: String,
    /// 1 to 200 bytes once trimmed, no control characters.
    #[schema(min_length = 1, max_length = 200, pattern = r"\S")]
    pub beneficiary: String,
    /// The provider organisation chosen by the beneficiary: its id or its exact name.
    #[schema(min_length = 1)]
    pub provider: String,
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
}

/// A case as one caller may have it: the identifiers only for those who see them.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct CaseView {
    pub id: String,
    pub reference: String,
    pub beneficiary: String,
    pub provider: String,
    pub consent: Consent,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub identifiers: Option<VictimIdentifiers>,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339::option")]
    pub consent_at: Option<OffsetDateTime>,
}

impl CaseView {
    fn of(case: Case, caller: &RegistryRecord) -> Self {
        Self {
            identifiers: sees_victim_identifiers(caller).then_some(case.identifiers),
            id: case.id,
            reference: case.reference,
            beneficiary: case.beneficiary,
            provider: case.provider.to_string(),
            consent: case.consent,
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
    pub async fn open(
        &self,
        caller: &Analyst,
        request: NewCase,
        now: OffsetDateTime,
    ) -> Result<CaseView, CaseError> {
        let reference = bounded_text("reference", &request.reference)?;
        let beneficiary = bounded_text("beneficiary", &request.beneficiary)?;
        let provider = match self
            .store
            .organisation(&OrganisationId::from_stored(request.provider.clone()))
            .await?
        {
            Some(org) => Some(org),
            None => self.store.organisation_by_name(&request.provider).await?,
        }
        .filter(|o| o.kind == OrganisationKind::Provider)
        .ok_or_else(|| CaseError::Invalid(format!("no provider {:?}", request.provider)))?;
        // A victim is handed only to a provider referenced today (the registry's shortlist).
        let referenced = match self.store.provider(&provider.id).await? {
            Some(entry) => entry.referencing.is_referenced(),
            None => provider.status.grants_access(),
        };
        if !referenced {
            return Err(CaseError::Invalid(format!(
                "{} is not referenced ({})",
                provider.name, provider.status
            )));
        }
        let case = Case {
            id: format!("case--{}", uuid::Uuid::new_v4()),
            reference: reference.clone(),
            beneficiary,
            provider: provider.id,
            consent: request.consent,
            identifiers: normalise(request.identifiers)?,
            created_by: caller.principal.id.clone(),
            created_at: now,
            consent_by: (request.consent != Consent::Pending).then(|| caller.principal.id.clone()),
            consent_at: (request.consent != Consent::Pending).then_some(now),
        };
        // The reference and beneficiary name a victim: the log holds the case id only.
        let audit = AuditRecord::by(caller, "case.create", now)
            .objects([case.id.as_str(), case.provider.as_str()])
            .reason(format!("consent {}", case.consent.as_str()));
        match self.store.insert_case(&case, &audit).await {
            Ok(()) => Ok(CaseView::of(case, caller)),
            Err(StoreError::Conflict(_)) => Err(CaseError::Duplicate(reference)),
            Err(e) => Err(e.into()),
        }
    }

    /// A case for the analysts, or for the provider it was handed to; anyone else is told
    /// there is no such case.
    /// Case material is read on the record: the read is logged before it is returned.
    pub async fn get(
        &self,
        caller: &RegistryRecord,
        id: &str,
        now: OffsetDateTime,
    ) -> Result<CaseView, CaseError> {
        let case = self
            .store
            .case(id)
            .await?
            .filter(|c| may_see_case(caller, c))
            .ok_or(CaseError::NotFound)?;
        self.record_reads(caller, std::slice::from_ref(&case), now)
            .await?;
        Ok(CaseView::of(case, caller))
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

    /// Every case for analysts; a provider's own cases for a provider.
    pub async fn list(
        &self,
        caller: &RegistryRecord,
        now: OffsetDateTime,
    ) -> Result<Vec<CaseView>, CaseError> {
        let cases: Vec<Case> = self
            .store
            .cases()
            .await?
            .into_iter()
            .filter(|c| may_see_case(caller, c))
            .collect();
        self.record_reads(caller, &cases, now).await?;
        Ok(cases.into_iter().map(|c| CaseView::of(c, caller)).collect())
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
