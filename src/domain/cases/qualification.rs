//! What the CSIRT records at first contact (Convention art. 3): who the beneficiary is, what
//! happened, the facts collected at triage and the services it needs. Checked here, once,
//! whatever door it came in by (API, command line).

use serde::{Deserialize, Serialize};
use serde_json::Value;
use time::OffsetDateTime;

use crate::domain::principal::{UnknownVariant, text_enum};
use crate::domain::registry::file::Service;
use crate::domain::stix::id::StixId;

use std::fmt;
use std::str::FromStr;

/// Longest name, sector or commune.
pub const MAX_SHORT_TEXT: usize = 200;
/// Longest free text (the facts collected at triage, a journal entry, a note).
pub const MAX_LONG_TEXT: usize = 20_000;
/// Most observables a case carries to its provider.
pub const MAX_OBSERVABLES: usize = 500;
/// Longest observable, serialised.
pub const MAX_OBSERVABLE_BYTES: usize = 16 * 1024;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum BeneficiaryKind {
    Company,
    LocalAuthority,
    Association,
    Other,
}
text_enum!(BeneficiaryKind, "beneficiary kind", {
    Company => "company",
    LocalAuthority => "local_authority",
    Association => "association",
    Other => "other",
});

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SizeClass {
    Micro,
    Sme,
    MidSize,
    Large,
}
text_enum!(SizeClass, "size class", {
    Micro => "micro",
    Sme => "sme",
    MidSize => "mid_size",
    Large => "large",
});

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum IncidentCategory {
    Ransomware,
    Intrusion,
    Phishing,
    AccountTakeover,
    Fraud,
    DataLeak,
    Ddos,
    Defacement,
    Other,
}
text_enum!(IncidentCategory, "incident category", {
    Ransomware => "ransomware",
    Intrusion => "intrusion",
    Phishing => "phishing",
    AccountTakeover => "account_takeover",
    Fraud => "fraud",
    DataLeak => "data_leak",
    Ddos => "ddos",
    Defacement => "defacement",
    Other => "other",
});

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Beneficiary {
    pub name: String,
    pub kind: BeneficiaryKind,
    pub sector: String,
    pub size: SizeClass,
    pub commune: String,
}

impl Beneficiary {
    /// Who this beneficiary is for conflicts of interest: its name, case-folded, with
    /// whitespace collapsed, so that "Mairie de  Saint-Denis" and "mairie de saint-denis"
    /// are one beneficiary to a provider that declared a conflict with it.
    pub fn key(&self) -> String {
        beneficiary_key(&self.name)
    }
}

pub fn beneficiary_key(name: &str) -> String {
    name.split_whitespace()
        .map(str::to_lowercase)
        .collect::<Vec<_>>()
        .join(" ")
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Incident {
    pub category: IncidentCategory,
    /// 1 (low) to 4 (critical), the SOC scale.
    pub severity: u8,
    #[serde(with = "time::serde::rfc3339")]
    pub started_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339")]
    pub detected_at: OffsetDateTime,
    /// First contact with the CSIRT: when a provider is needed.
    #[serde(with = "time::serde::rfc3339")]
    pub reported_at: OffsetDateTime,
}

/// Everything the analyst qualified, as stored and as handed to the chosen provider.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Qualification {
    pub beneficiary: Beneficiary,
    pub incident: Incident,
    /// The facts collected at triage, in the analyst's words.
    pub facts: String,
    /// STIX 2.1 cyber-observable objects (SCOs) seen at triage.
    #[serde(default)]
    pub observables: Vec<Value>,
    pub services: Vec<Service>,
    /// The analyst's notes for the provider the case is handed to.
    #[serde(default)]
    pub notes: String,
    /// Computed from the hub's calendar at `incident.reported_at`, never sent by the client.
    pub outside_business_hours: bool,
}

/// What the analyst sends: the qualification without what the hub computes.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct QualificationRequest {
    pub beneficiary: Beneficiary,
    pub incident: Incident,
    pub facts: String,
    #[serde(default)]
    pub observables: Vec<Value>,
    pub services: Vec<Service>,
    #[serde(default)]
    pub notes: String,
}

/// The observable types of STIX 2.1 (§6): what a case may carry as an observable.
const SCO_TYPES: &[&str] = &[
    "artifact",
    "autonomous-system",
    "directory",
    "domain-name",
    "email-addr",
    "email-message",
    "file",
    "ipv4-addr",
    "ipv6-addr",
    "mac-addr",
    "mutex",
    "network-traffic",
    "process",
    "software",
    "url",
    "user-account",
    "windows-registry-key",
    "x509-certificate",
];

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{field}: {message}")]
pub struct QualificationError {
    pub field: String,
    pub message: String,
}

fn bad(field: impl Into<String>, message: impl Into<String>) -> QualificationError {
    QualificationError {
        field: field.into(),
        message: message.into(),
    }
}

/// A one-line text: trimmed, 1 to `MAX_SHORT_TEXT` bytes, no control characters.
pub fn short_text(field: &str, value: &str) -> Result<String, QualificationError> {
    let value = value.trim();
    if value.is_empty() || value.len() > MAX_SHORT_TEXT || value.chars().any(char::is_control) {
        return Err(bad(
            field,
            format!("1 to {MAX_SHORT_TEXT} bytes without control characters"),
        ));
    }
    Ok(value.to_owned())
}

/// A free text: trimmed, 1 to `MAX_LONG_TEXT` bytes; line breaks and tabs allowed, other
/// control characters (terminal escapes, NUL) refused.
pub fn long_text(field: &str, value: &str) -> Result<String, QualificationError> {
    let value = value.trim();
    if value.is_empty()
        || value.len() > MAX_LONG_TEXT
        || value
            .chars()
            .any(|c| c.is_control() && !matches!(c, '\n' | '\t' | '\r'))
    {
        return Err(bad(
            field,
            format!(
                "1 to {MAX_LONG_TEXT} bytes; line breaks and tabs are the only control \
                 characters allowed"
            ),
        ));
    }
    Ok(value.replace("\r\n", "\n"))
}

fn check_observable(i: usize, o: &Value) -> Result<(), QualificationError> {
    let field = format!("observables[{i}]");
    let object = o
        .as_object()
        .ok_or_else(|| bad(&field, "a STIX cyber-observable object"))?;
    let kind = object.get("type").and_then(Value::as_str).unwrap_or("");
    if !SCO_TYPES.contains(&kind) {
        return Err(bad(
            format!("{field}.type"),
            format!("{kind:?} is not a STIX 2.1 cyber-observable type"),
        ));
    }
    let id = object.get("id").and_then(Value::as_str).unwrap_or("");
    match StixId::parse(id) {
        Ok(parsed) if parsed.object_type() == kind => {}
        _ => {
            return Err(bad(
                format!("{field}.id"),
                format!("an identifier {kind}--<UUID>"),
            ));
        }
    }
    if object.get("spec_version").and_then(Value::as_str) != Some("2.1") {
        return Err(bad(format!("{field}.spec_version"), "must be \"2.1\""));
    }
    if o.to_string().len() > MAX_OBSERVABLE_BYTES {
        return Err(bad(
            field,
            format!("at most {MAX_OBSERVABLE_BYTES} bytes once serialised"),
        ));
    }
    Ok(())
}

/// The qualification as the analyst sent it, checked and normalised; `outside_business_hours`
/// is what the hub's calendar says of `reported_at`.
pub fn qualify(
    q: QualificationRequest,
    outside_business_hours: bool,
) -> Result<Qualification, QualificationError> {
    let mut q = Qualification {
        beneficiary: q.beneficiary,
        incident: q.incident,
        facts: q.facts,
        observables: q.observables,
        services: q.services,
        notes: q.notes,
        outside_business_hours,
    };
    q.beneficiary.name = short_text("beneficiary.name", &q.beneficiary.name)?;
    q.beneficiary.sector = short_text("beneficiary.sector", &q.beneficiary.sector)?;
    q.beneficiary.commune = short_text("beneficiary.commune", &q.beneficiary.commune)?;
    if !(1..=4).contains(&q.incident.severity) {
        return Err(bad("incident.severity", "1 (low) to 4 (critical)"));
    }
    let i = &q.incident;
    if i.detected_at < i.started_at {
        return Err(bad("incident.detected_at", "before the incident started"));
    }
    if i.reported_at < i.detected_at {
        return Err(bad(
            "incident.reported_at",
            "before the incident was detected",
        ));
    }
    q.facts = long_text("facts", &q.facts)?;
    if q.observables.len() > MAX_OBSERVABLES {
        return Err(bad(
            "observables",
            format!("at most {MAX_OBSERVABLES} observables"),
        ));
    }
    for (i, o) in q.observables.iter().enumerate() {
        check_observable(i, o)?;
    }
    let mut seen = std::collections::HashSet::new();
    for o in &q.observables {
        let id = o.get("id").and_then(Value::as_str).unwrap_or("");
        if !seen.insert(id.to_owned()) {
            return Err(bad("observables", format!("{id} is given twice")));
        }
    }
    q.notes = if q.notes.trim().is_empty() {
        String::new()
    } else {
        long_text("notes", &q.notes)?
    };
    q.services.sort();
    q.services.dedup();
    if q.services.is_empty() {
        return Err(bad("services", "at least one of the registry's services"));
    }
    Ok(q)
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use serde_json::json;
    use time::macros::datetime;

    pub(crate) fn sample() -> QualificationRequest {
        QualificationRequest {
            beneficiary: Beneficiary {
                name: "Mairie de  Saint-Denis ".into(),
                kind: BeneficiaryKind::LocalAuthority,
                sector: "administration".into(),
                size: SizeClass::MidSize,
                commune: "Saint-Denis".into(),
            },
            incident: Incident {
                category: IncidentCategory::Ransomware,
                severity: 4,
                started_at: datetime!(2026-11-07 02:00 UTC),
                detected_at: datetime!(2026-11-07 04:00 UTC),
                reported_at: datetime!(2026-11-07 05:00 UTC),
            },
            facts: "Serveurs chiffrés.\r\nNote de rançon LockBit.".into(),
            observables: vec![json!({
                "type": "ipv4-addr", "spec_version": "2.1",
                "id": "ipv4-addr--ff26c055-6336-5bc5-b98d-13d6226742dd", "value": "198.51.100.7"
            })],
            services: vec![Service::Containment, Service::Analysis, Service::Analysis],
            notes: String::new(),
        }
    }

    #[test]
    fn a_qualification_is_normalised() {
        let q = qualify(sample(), true).unwrap();
        assert_eq!(q.beneficiary.name, "Mairie de  Saint-Denis");
        assert_eq!(q.beneficiary.key(), "mairie de saint-denis");
        assert_eq!(q.services, [Service::Analysis, Service::Containment]);
        assert_eq!(q.facts, "Serveurs chiffrés.\nNote de rançon LockBit.");
        assert!(q.outside_business_hours);
    }

    #[test]
    fn bad_fields_are_named() {
        let mut q = sample();
        q.incident.severity = 5;
        assert_eq!(qualify(q, false).unwrap_err().field, "incident.severity");
        let mut q = sample();
        q.incident.reported_at = datetime!(2026-11-07 03:00 UTC);
        assert_eq!(qualify(q, false).unwrap_err().field, "incident.reported_at");
        let mut q = sample();
        q.observables[0]["type"] = json!("indicator");
        assert_eq!(qualify(q, false).unwrap_err().field, "observables[0].type");
        let mut q = sample();
        q.observables[0]["id"] = json!("url--ff26c055-6336-5bc5-b98d-13d6226742dd");
        assert_eq!(qualify(q, false).unwrap_err().field, "observables[0].id");
        let mut q = sample();
        q.services.clear();
        assert_eq!(qualify(q, false).unwrap_err().field, "services");
        let mut q = sample();
        q.facts = "\u{1b}[2J".into();
        assert_eq!(qualify(q, false).unwrap_err().field, "facts");
        let mut q = sample();
        q.observables.push(q.observables[0].clone());
        assert_eq!(qualify(q, false).unwrap_err().field, "observables");
    }
}
