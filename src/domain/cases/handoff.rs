//! The handoff of a case to the provider the beneficiary chose, and the provider's answer
//! (Convention art. 3, 5.2, 6.2): what the package holds, the answer's forms, and when a
//! missing answer is flagged.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use time::OffsetDateTime;

use super::qualification::Qualification;
use crate::domain::principal::{OrganisationId, UnknownVariant, text_enum};
use crate::domain::stix::stored::utc_timestamp;
use crate::domain::triage::{Case, VictimIdentifiers};

/// How the beneficiary's choice reached the CSIRT.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ChoiceChannel {
    Phone,
    Email,
    InPerson,
    /// The beneficiary chose on the hub's page, through its single-use link.
    Link,
}
text_enum!(ChoiceChannel, "choice channel", {
    Phone => "phone",
    Email => "email",
    InPerson => "in_person",
    Link => "link",
});

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum HandoffStatus {
    Pending,
    Accepted,
    Declined,
    Conflict,
    /// Taken back by the analysts from a provider that did not answer in time.
    Withdrawn,
}
text_enum!(HandoffStatus, "handoff status", {
    Pending => "pending",
    Accepted => "accepted",
    Declined => "declined",
    Conflict => "conflict",
    Withdrawn => "withdrawn",
});

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DeclineReason {
    /// Art. 5.2: said at once, so that the beneficiary can pick another.
    Unavailable,
    OutOfScope,
}
text_enum!(DeclineReason, "decline reason", {
    Unavailable => "unavailable",
    OutOfScope => "out_of_scope",
});

/// The provider's answer to a handoff.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "answer", deny_unknown_fields)]
pub enum Answer {
    /// A struct variant, so that unknown fields are refused as for the others.
    Accept {},
    Decline {
        reason: DeclineReason,
        #[serde(default)]
        note: String,
    },
    /// A conflict of interest with the beneficiary (art. 6.2).
    Conflict {
        #[serde(default)]
        note: String,
    },
}

impl Answer {
    pub fn status(&self) -> HandoffStatus {
        match self {
            Answer::Accept {} => HandoffStatus::Accepted,
            Answer::Decline { .. } => HandoffStatus::Declined,
            Answer::Conflict { .. } => HandoffStatus::Conflict,
        }
    }

    pub fn note(&self) -> &str {
        match self {
            Answer::Accept {} => "",
            Answer::Decline { note, .. } | Answer::Conflict { note } => note,
        }
    }

    pub fn reason(&self) -> Option<DeclineReason> {
        match self {
            Answer::Decline { reason, .. } => Some(*reason),
            _ => None,
        }
    }
}

/// A handoff as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Handoff {
    pub id: String,
    pub case_id: String,
    pub provider: OrganisationId,
    /// The shortlist the choice was made from.
    pub shortlist: i64,
    pub channel: ChoiceChannel,
    /// Principal id of the analyst who recorded the choice, or `beneficiary`.
    pub chosen_by: String,
    pub created_at: OffsetDateTime,
    pub answer_due: OffsetDateTime,
    /// The armored OpenPGP message.
    pub package: String,
    pub package_sha256: String,
    pub status: HandoffStatus,
    pub answered_at: Option<OffsetDateTime>,
    pub answered_by: Option<String>,
    pub reason: Option<DeclineReason>,
    pub note: String,
    /// When the hub flagged a missing answer for the analysts.
    pub flagged_at: Option<OffsetDateTime>,
}

impl Handoff {
    /// Pending past its deadline: the analysts must act (call the provider, reshortlist).
    pub fn overdue(&self, now: OffsetDateTime) -> bool {
        self.status == HandoffStatus::Pending && now >= self.answer_due
    }

    /// The provider still holds the case through this handoff: it may fetch the package.
    pub fn is_live(&self) -> bool {
        matches!(
            self.status,
            HandoffStatus::Pending | HandoffStatus::Accepted
        )
    }
}

/// Everything handed to the chosen provider, before encryption: the case facts, the victim's
/// identifiers, the observables as a STIX 2.1 bundle and the analyst's notes.
pub struct PackageInput<'a> {
    pub handoff_id: &'a str,
    pub bundle_id: &'a str,
    pub case: &'a Case,
    pub qualification: &'a Qualification,
    pub identifiers: &'a VictimIdentifiers,
    pub csirt: &'a str,
    pub provider_name: &'a str,
    pub issued_at: OffsetDateTime,
    pub answer_due: OffsetDateTime,
}

/// The package's JSON document (`relais-handoff`, version 1).
pub fn package_document(p: &PackageInput<'_>) -> Value {
    let q = p.qualification;
    json!({
        "type": "relais-handoff",
        "version": 1,
        "handoff": p.handoff_id,
        "issued_at": utc_timestamp(p.issued_at, 0),
        "answer_due": utc_timestamp(p.answer_due, 0),
        "from": p.csirt,
        "to": p.provider_name,
        "case": {
            "id": p.case.id,
            "reference": p.case.reference,
            "consent": p.case.consent.as_str(),
        },
        "beneficiary": q.beneficiary,
        "incident": q.incident,
        "services": q.services,
        "outside_business_hours": q.outside_business_hours,
        "facts": q.facts,
        "notes": q.notes,
        "victim_identifiers": p.identifiers,
        "observables": {
            "type": "bundle",
            "id": p.bundle_id,
            "objects": q.observables,
        },
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    #[test]
    fn answers_read_as_the_api_sends_them() {
        let a: Answer = serde_json::from_str(r#"{"answer":"accept"}"#).unwrap();
        assert_eq!(a.status(), HandoffStatus::Accepted);
        let d: Answer =
            serde_json::from_str(r#"{"answer":"decline","reason":"unavailable","note":"x"}"#)
                .unwrap();
        assert_eq!(d.reason(), Some(DeclineReason::Unavailable));
        assert!(serde_json::from_str::<Answer>(r#"{"answer":"decline"}"#).is_err());
        assert!(serde_json::from_str::<Answer>(r#"{"answer":"accept","x":1}"#).is_err());
        let c: Answer = serde_json::from_str(r#"{"answer":"conflict"}"#).unwrap();
        assert_eq!(c.status(), HandoffStatus::Conflict);
    }

    #[test]
    fn a_pending_handoff_is_overdue_from_its_deadline() {
        let h = Handoff {
            id: "h".into(),
            case_id: "c".into(),
            provider: OrganisationId::from_stored("p".into()),
            shortlist: 1,
            channel: ChoiceChannel::Phone,
            chosen_by: "a".into(),
            created_at: datetime!(2026-12-03 08:00 UTC),
            answer_due: datetime!(2026-12-03 12:00 UTC),
            package: String::new(),
            package_sha256: String::new(),
            status: HandoffStatus::Pending,
            answered_at: None,
            answered_by: None,
            reason: None,
            note: String::new(),
            flagged_at: None,
        };
        assert!(!h.overdue(datetime!(2026-12-03 11:59:59 UTC)));
        assert!(h.overdue(datetime!(2026-12-03 12:00 UTC)));
        let accepted = Handoff {
            status: HandoffStatus::Accepted,
            ..h
        };
        assert!(!accepted.overdue(datetime!(2026-12-04 12:00 UTC)));
    }
}
