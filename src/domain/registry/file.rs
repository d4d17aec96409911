//! A provider's file in the registry (Convention art. 2, 4): who it is, what it offers, what
//! backs its claims. Pure data and the checks the convention imposes on it.

use serde::{Deserialize, Serialize};
use time::Date;

/// Largest evidence file the registry accepts (8 MiB): from the API (whose body limit applies
/// first), the command line and a spreadsheet import alike.
pub const MAX_EVIDENCE_BYTES: usize = 8 * 1024 * 1024;

/// The incident-response services of the convention, each offered in business hours (JHO),
/// outside them (JHNO), or both.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Service {
    Qualification,
    Collection,
    Analysis,
    Containment,
    Remediation,
    PostIncident,
}

impl Service {
    pub const ALL: [Service; 6] = [
        Service::Qualification,
        Service::Collection,
        Service::Analysis,
        Service::Containment,
        Service::Remediation,
        Service::PostIncident,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Service::Qualification => "qualification",
            Service::Collection => "collection",
            Service::Analysis => "analysis",
            Service::Containment => "containment",
            Service::Remediation => "remediation",
            Service::PostIncident => "post_incident",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|v| v.as_str() == s)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct ServiceOffer {
    pub service: Service,
    /// Offered in business hours (jours et heures ouvrés).
    pub jho: bool,
    /// Offered outside business hours (jours et heures non ouvrés).
    pub jhno: bool,
}

/// Qualifications and certifications the convention names; none is mandatory.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "kind", content = "name")]
pub enum QualificationKind {
    /// ANSSI PRIS (prestataires de réponse aux incidents de sécurité).
    Pris,
    /// ANSSI PASSI (audit).
    Passi,
    /// The ExpertCyber label.
    ExpertCyber,
    /// Referenced by ACYMA / cybermalveillance.gouv.fr.
    Acyma,
    Other(String),
}

impl QualificationKind {
    pub fn label(&self) -> &str {
        match self {
            QualificationKind::Pris => "PRIS",
            QualificationKind::Passi => "PASSI",
            QualificationKind::ExpertCyber => "ExpertCyber",
            QualificationKind::Acyma => "ACYMA",
            QualificationKind::Other(name) => name,
        }
    }
}

time::serde::format_description!(pub(crate) iso_date, Date, "[year]-[month]-[day]");

/// A qualification and the file that proves it (stored by the hub under its SHA-256).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Qualification {
    #[serde(flatten)]
    pub kind: QualificationKind,
    /// Lower-case hex SHA-256 of the evidence file.
    pub evidence_sha256: String,
    pub evidence_name: String,
    #[serde(with = "iso_date")]
    pub expires: Date,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Contact {
    pub name: String,
    #[serde(default)]
    pub role: String,
    pub email: String,
    #[serde(default)]
    pub phone: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClientReference {
    pub client: String,
    #[serde(default)]
    pub description: String,
    /// Shown to the CSIRT only, never published.
    pub confidential: bool,
}

/// Everything the provider declares. Published fields: see `domain::registry::directory`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProviderFile {
    pub legal_name: String,
    /// 9 digits (Luhn).
    pub siren: String,
    /// 14 digits (Luhn), starting with the SIREN.
    #[serde(default)]
    pub siret: Option<String>,
    pub contacts: Vec<Contact>,
    pub website: String,
    /// The public catalogue page that lists the incident-response services.
    pub catalogue_url: String,
    /// The provider's statement that that page lists its incident-response services.
    pub catalogue_lists_incident_response: bool,
    pub services: Vec<ServiceOffer>,
    #[serde(default)]
    pub fields_of_competence: Vec<String>,
    #[serde(default)]
    pub qualifications: Vec<Qualification>,
    #[serde(default)]
    pub staff_training: String,
    #[serde(default)]
    pub staff_experience: String,
    #[serde(default)]
    pub client_references: Vec<ClientReference>,
    /// The armored OpenPGP public key that signs the convention.
    pub openpgp_key: String,
}

/// The two cumulative conditions of art. 2, as checked when a file is recorded.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Conditions {
    pub incident_response_offered: bool,
    pub listed_in_public_catalogue: bool,
}

impl Conditions {
    pub fn met(self) -> bool {
        self.incident_response_offered && self.listed_in_public_catalogue
    }
}

/// What is wrong with a file, field by field.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FieldError {
    pub field: String,
    pub message: String,
}

/// Longest free text accepted in a file field.
pub const MAX_TEXT: usize = 10_000;
/// Most items in any list of a file.
pub const MAX_ITEMS: usize = 100;

fn luhn(digits: &str) -> bool {
    let mut sum = 0;
    for (i, c) in digits.bytes().rev().enumerate() {
        let mut d = u32::from(c - b'0');
        if i % 2 == 1 {
            d *= 2;
            if d > 9 {
                d -= 9;
            }
        }
        sum += d;
    }
    sum % 10 == 0
}

fn all_digits(s: &str, n: usize) -> bool {
    s.len() == n && s.bytes().all(|b| b.is_ascii_digit())
}

/// Whether `siren` is a well-formed SIREN (9 digits passing the Luhn check).
pub fn valid_siren(siren: &str) -> bool {
    all_digits(siren, 9) && luhn(siren)
}

/// Whether `siret` is a well-formed SIRET of `siren` (14 digits, Luhn; La Poste's
/// establishments, SIREN 356000000, use the digit-sum rule instead).
pub fn valid_siret(siret: &str, siren: &str) -> bool {
    if !all_digits(siret, 14) || !siret.starts_with(siren) {
        return false;
    }
    if siren == "356000000" {
        return siret.bytes().map(|b| u32::from(b - b'0')).sum::<u32>() % 5 == 0;
    }
    luhn(siret)
}

fn https_url(s: &str) -> bool {
    s.strip_prefix("https://")
        .is_some_and(|rest| !rest.is_empty() && !rest.contains(char::is_whitespace))
}

impl ProviderFile {
    /// The conditions of art. 2 as this file states them.
    pub fn conditions(&self) -> Conditions {
        Conditions {
            incident_response_offered: self.services.iter().any(|s| s.jho || s.jhno),
            listed_in_public_catalogue: self.catalogue_lists_incident_response
                && https_url(&self.catalogue_url),
        }
    }

    /// Every problem of the file, field by field (empty: valid). Evidence is checked by
    /// hash only here; that the hub holds the file is the store's business.
    pub fn problems(&self) -> Vec<FieldError> {
        let mut out = Vec::new();
        let mut bad = |field: &str, message: &str| {
            out.push(FieldError {
                field: field.to_owned(),
                message: message.to_owned(),
            });
        };
        let text = |s: &str| {
            s.len() <= MAX_TEXT && !s.chars().any(|c| c.is_control() && c != '\n' && c != '\t')
        };
        // One line: the name is printed in signed badges and directory entries, where a line
        // break could forge a field.
        let line = |s: &str, max: usize| s.len() <= max && !s.chars().any(char::is_control);
        if self.legal_name.trim().is_empty() || !line(&self.legal_name, 200) {
            bad(
                "legal_name",
                "required, at most 200 characters, no control characters",
            );
        }
        if !valid_siren(&self.siren) {
            bad("siren", "must be 9 digits with a valid check digit");
        }
        if let Some(siret) = &self.siret
            && !valid_siret(siret, &self.siren)
        {
            bad(
                "siret",
                "must be 14 digits starting with the SIREN, with a valid check digit",
            );
        }
        if self.contacts.is_empty() || self.contacts.len() > MAX_ITEMS {
            bad("contacts", "at least one contact, at most 100");
        }
        for (i, c) in self.contacts.iter().enumerate() {
            if c.name.trim().is_empty() || !line(&c.name, 200) {
                bad(
                    &format!("contacts[{i}].name"),
                    "required, one line of at most 200 characters",
                );
            }
            if !line(&c.role, 200) || !line(&c.phone, 50) {
                bad(
                    &format!("contacts[{i}]"),
                    "role (200) and phone (50): one line each",
                );
            }
            if !c.email.contains('@')
                || c.email.contains(char::is_whitespace)
                || c.email.len() > 254
            {
                bad(&format!("contacts[{i}].email"), "not an e-mail address");
            }
        }
        if !https_url(&self.website) {
            bad("website", "must be an https:// URL");
        }
        if !https_url(&self.catalogue_url) {
            bad("catalogue_url", "must be an https:// URL");
        }
        let mut seen = std::collections::BTreeSet::new();
        for (i, s) in self.services.iter().enumerate() {
            if !seen.insert(s.service) {
                bad(&format!("services[{i}]"), "service listed twice");
            }
        }
        for (name, list) in [("fields_of_competence", &self.fields_of_competence)] {
            if list.len() > MAX_ITEMS
                || list
                    .iter()
                    .any(|f| f.trim().is_empty() || f.len() > 200 || !text(f))
            {
                bad(name, "at most 100 items of at most 200 characters");
            }
        }
        if self.qualifications.len() > MAX_ITEMS {
            bad("qualifications", "at most 100");
        }
        for (i, q) in self.qualifications.iter().enumerate() {
            if !all_hex(&q.evidence_sha256) {
                bad(
                    &format!("qualifications[{i}].evidence_sha256"),
                    "evidence is required: the SHA-256 (64 hex digits) of an uploaded file",
                );
            }
            if !line(&q.evidence_name, 200) {
                bad(
                    &format!("qualifications[{i}].evidence_name"),
                    "one line of at most 200 characters",
                );
            }
            if let QualificationKind::Other(name) = &q.kind
                && (name.trim().is_empty() || !line(name, 200))
            {
                bad(
                    &format!("qualifications[{i}].name"),
                    "required for another qualification",
                );
            }
        }
        for (field, value) in [
            ("staff_training", &self.staff_training),
            ("staff_experience", &self.staff_experience),
        ] {
            if !text(value) {
                bad(field, "at most 10,000 characters, no control characters");
            }
        }
        if self.client_references.len() > MAX_ITEMS {
            bad("client_references", "at most 100");
        }
        for (i, r) in self.client_references.iter().enumerate() {
            if r.client.trim().is_empty() || !line(&r.client, 200) || !text(&r.description) {
                bad(
                    &format!("client_references[{i}]"),
                    "client: one line of at most 200 characters; description: at most 10,000",
                );
            }
        }
        if !self
            .openpgp_key
            .contains("-----BEGIN PGP PUBLIC KEY BLOCK-----")
        {
            bad("openpgp_key", "an armored OpenPGP public key is required");
        }
        out
    }
}

fn all_hex(s: &str) -> bool {
    s.len() == 64 && s.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn siren_and_siret_check_digits() {
        // SIREN of the Banque de France, SIRET of its head office.
        assert!(valid_siren("572104891"));
        assert!(!valid_siren("572104892"));
        assert!(!valid_siren("57210489"));
        assert!(valid_siret("57210489100013", "572104891"));
        assert!(!valid_siret("57210489100014", "572104891"));
        assert!(!valid_siret("73282932000074", "572104891"));
    }
}
