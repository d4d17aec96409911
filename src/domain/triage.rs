//! Provider submissions and their triage by CSIRT analysts (Convention art. 3 and 4): victim
//! cases with the beneficiary's consent, the queue of pending submissions, and the rules an
//! analyst's decision must respect.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};
use serde_json::Value;
use time::OffsetDateTime;

use crate::domain::access::RegistryRecord;
use crate::domain::markings::{Pap, Tlp};
use crate::domain::principal::{
    OrganisationId, PrincipalId, PrincipalKind, UnknownVariant, text_enum,
};

/// The beneficiary's answer to sharing what its case produced (Convention art. 4).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Consent {
    /// Not asked or not answered yet: nothing is shared.
    Pending,
    Given,
    Refused,
    /// Given, then taken back: what was shared leaves the community views.
    Withdrawn,
}
text_enum!(Consent, "consent", {
    Pending => "pending",
    Given => "given",
    Refused => "refused",
    Withdrawn => "withdrawn",
});

impl Consent {
    /// The consent gate: only a beneficiary's "yes" lets its case's material out.
    pub fn allows_sharing(self) -> bool {
        self == Consent::Given
    }
}

/// Whether material published from a case whose beneficiary answered `consent` is kept out of
/// the community views (Convention art. 4).
pub fn case_material_confined(consent: Consent) -> bool {
    !consent.allows_sharing()
}

/// Consent lineage: a new version of confined material stays confined, even when it names no
/// case (an analyst re-marking an object whose beneficiary withdrew consent must not publish
/// it again); a provider's submission is confined from the start.
pub fn new_version_confined(submission: bool, previous_confined: Option<bool>) -> bool {
    submission || previous_confined.unwrap_or(false)
}

/// Who may see a victim case, name it in a submission or see it named on one: the CSIRT's
/// analysts, and the provider organisation the case was handed to. Anyone else is told there
/// is no such case.
pub fn may_see_case(caller: &RegistryRecord, case: &Case) -> bool {
    match caller.principal.kind {
        PrincipalKind::Analyst => true,
        PrincipalKind::Provider => case.provider.as_ref() == Some(&caller.organisation.id),
        PrincipalKind::Peer => false,
    }
}

/// What identifies a victim is the CSIRT's working material for the anonymiser: the provider
/// the case was handed to sees the case, not the identifiers.
pub fn sees_victim_identifiers(caller: &RegistryRecord) -> bool {
    caller.principal.kind == PrincipalKind::Analyst
}

/// What identifies a beneficiary, recorded by the CSIRT on its case, so that the anonymiser
/// can find it in what providers submit.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct VictimIdentifiers {
    #[serde(default)]
    pub domains: Vec<String>,
    #[serde(default)]
    pub emails: Vec<String>,
    #[serde(default)]
    pub hostnames: Vec<String>,
    #[serde(default)]
    pub organisations: Vec<String>,
}

impl From<&VictimIdentifiers> for crate::domain::anonymise::VictimContext {
    /// What the anonymiser looks for in a case's material: the identifiers the CSIRT recorded.
    fn from(ids: &VictimIdentifiers) -> Self {
        Self {
            domains: ids.domains.clone(),
            emails: ids.emails.clone(),
            hostnames: ids.hostnames.clone(),
            organisations: ids.organisations.clone(),
        }
    }
}

/// A victim case, as far as submissions need it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Case {
    pub id: String,
    /// The CSIRT's own reference, e.g. `CSIRT-RE-2026-0042`.
    pub reference: String,
    pub beneficiary: String,
    /// The provider organisation the case is handed to: set by the beneficiary's choice,
    /// cleared when that provider declines. `None` before any choice.
    pub provider: Option<OrganisationId>,
    pub consent: Consent,
    pub identifiers: VictimIdentifiers,
    pub created_by: PrincipalId,
    pub created_at: OffsetDateTime,
    pub consent_by: Option<PrincipalId>,
    pub consent_at: Option<OffsetDateTime>,
}

/// Where a submission stands in the triage queue.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SubmissionStatus {
    Pending,
    Published,
    Merged,
    Rejected,
}
text_enum!(SubmissionStatus, "submission status", {
    Pending => "pending",
    Published => "published",
    Merged => "merged",
    Rejected => "rejected",
});

/// One change the anonymiser made, as reported to the submitter: never the value itself.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReportedChange {
    pub object: String,
    /// A JSON pointer into the object.
    pub field: String,
    pub rule: String,
    pub action: String,
}

/// One submitted object version in the triage queue.
#[derive(Debug, Clone, PartialEq)]
pub struct Submission {
    pub id: String,
    pub object_seq: i64,
    pub stix_id: String,
    pub object_type: String,
    pub tlp: Tlp,
    pub pap: Option<Pap>,
    pub provider: OrganisationId,
    pub submitted_by: PrincipalId,
    pub case_id: Option<String>,
    pub submitted_at: OffsetDateTime,
    pub dedup_key: String,
    pub report: Vec<ReportedChange>,
    pub status: SubmissionStatus,
    pub decided_by: Option<PrincipalId>,
    pub decided_at: Option<OffsetDateTime>,
    pub reason: Option<String>,
    pub result_id: Option<String>,
}

/// Why an analyst's decision cannot be applied.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TriageError {
    #[error("the submission is already {0}")]
    AlreadyDecided(SubmissionStatus),
    #[error("the beneficiary of its case has not consented to sharing (consent: {0})")]
    NoConsent(Consent),
    #[error("TLP:{requested} is looser than the producer's TLP:{original}")]
    LooserTlp { requested: Tlp, original: Tlp },
    #[error("PAP:{requested} is looser than the producer's PAP:{original}")]
    LooserPap { requested: Pap, original: Pap },
    #[error("a rejection needs a reason")]
    NoReason,
}

/// The markings a publication gets: the producer's unless the analyst asks for stricter ones.
pub fn check_publish(
    submission: &Submission,
    consent: Option<Consent>,
    tlp: Option<Tlp>,
    pap: Option<Pap>,
) -> Result<(Tlp, Option<Pap>), TriageError> {
    check_pending(submission)?;
    if let Some(consent) = consent
        && !consent.allows_sharing()
    {
        return Err(TriageError::NoConsent(consent));
    }
    let tlp = match tlp {
        Some(requested) if requested < submission.tlp => {
            return Err(TriageError::LooserTlp {
                requested,
                original: submission.tlp,
            });
        }
        Some(requested) => requested,
        None => submission.tlp,
    };
    let pap = match (pap, submission.pap) {
        (Some(requested), Some(original)) if requested < original => {
            return Err(TriageError::LooserPap {
                requested,
                original,
            });
        }
        (Some(requested), _) => Some(requested),
        (None, original) => original,
    };
    Ok((tlp, pap))
}

/// A submission can be decided once.
pub fn check_pending(submission: &Submission) -> Result<(), TriageError> {
    match submission.status {
        SubmissionStatus::Pending => Ok(()),
        other => Err(TriageError::AlreadyDecided(other)),
    }
}

/// A rejection's reason, which the provider will read: trimmed, non-empty.
pub fn rejection_reason(reason: &str) -> Result<String, TriageError> {
    let reason = reason.trim();
    if reason.is_empty() {
        return Err(TriageError::NoReason);
    }
    Ok(reason.to_owned())
}

/// What makes two submissions the same item of the queue: for an indicator its pattern (with
/// runs of whitespace folded), so that the same value sent by several providers shows once
/// with several sightings; for anything else its type and name, or its id.
pub fn dedup_key(object: &Value) -> String {
    let text = |key: &str| object.get(key).and_then(Value::as_str);
    let kind = text("type").unwrap_or("");
    match (kind, text("pattern"), text("name")) {
        ("indicator", Some(pattern), _) => format!(
            "indicator:{}",
            pattern.split_whitespace().collect::<Vec<_>>().join(" ")
        ),
        (_, _, Some(name)) => format!("{kind}:name:{}", name.trim().to_lowercase()),
        _ => format!("{kind}:id:{}", text("id").unwrap_or("")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn pending(tlp: Tlp, pap: Option<Pap>) -> Submission {
        Submission {
            id: "s".into(),
            object_seq: 1,
            stix_id: "indicator--x".into(),
            object_type: "indicator".into(),
            tlp,
            pap,
            provider: OrganisationId::from_stored("org".into()),
            submitted_by: PrincipalId::from_stored("p".into()),
            case_id: None,
            submitted_at: OffsetDateTime::UNIX_EPOCH,
            dedup_key: "k".into(),
            report: vec![],
            status: SubmissionStatus::Pending,
            decided_by: None,
            decided_at: None,
            reason: None,
            result_id: None,
        }
    }

    #[test]
    fn publication_never_loosens_markings() {
        let s = pending(Tlp::Amber, Some(Pap::Green));
        assert_eq!(
            check_publish(&s, None, None, None),
            Ok((Tlp::Amber, Some(Pap::Green)))
        );
        assert_eq!(
            check_publish(&s, None, Some(Tlp::Red), Some(Pap::Amber)),
            Ok((Tlp::Red, Some(Pap::Amber)))
        );
        assert_eq!(
            check_publish(&s, None, Some(Tlp::Green), None),
            Err(TriageError::LooserTlp {
                requested: Tlp::Green,
                original: Tlp::Amber
            })
        );
        assert_eq!(
            check_publish(&s, None, None, Some(Pap::Clear)),
            Err(TriageError::LooserPap {
                requested: Pap::Clear,
                original: Pap::Green
            })
        );
    }

    #[test]
    fn publication_needs_consent_and_a_pending_item() {
        let s = pending(Tlp::Green, None);
        for consent in [Consent::Pending, Consent::Refused, Consent::Withdrawn] {
            assert_eq!(
                check_publish(&s, Some(consent), None, None),
                Err(TriageError::NoConsent(consent))
            );
        }
        assert!(check_publish(&s, Some(Consent::Given), None, None).is_ok());
        let mut done = s.clone();
        done.status = SubmissionStatus::Rejected;
        assert_eq!(
            check_publish(&done, None, None, None),
            Err(TriageError::AlreadyDecided(SubmissionStatus::Rejected))
        );
    }

    #[test]
    fn rejection_needs_a_reason() {
        assert_eq!(rejection_reason("  "), Err(TriageError::NoReason));
        assert_eq!(rejection_reason(" dup ").as_deref(), Ok("dup"));
    }

    #[test]
    fn same_pattern_same_item() {
        let a = json!({"type": "indicator", "id": "indicator--1", "pattern": "[ipv4-addr:value  = '203.0.113.9']"});
        let b = json!({"type": "indicator", "id": "indicator--2", "pattern": "[ipv4-addr:value = '203.0.113.9']"});
        let c = json!({"type": "indicator", "id": "indicator--3", "pattern": "[ipv4-addr:value = '203.0.113.10']"});
        assert_eq!(dedup_key(&a), dedup_key(&b));
        assert_ne!(dedup_key(&a), dedup_key(&c));
        let m = json!({"type": "malware", "id": "malware--1", "name": "Emotet "});
        assert_eq!(dedup_key(&m), "malware:name:emotet");
    }
}
