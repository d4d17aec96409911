//! What the public directory says about a referenced provider (Convention art. 3): its name,
//! referencing level, certifications, fields of competence and JHO/JHNO services. Nothing
//! else of the file is published: no contact, no client reference, no identifier.

use serde::Serialize;
use time::Date;

use super::file::{ProviderFile, QualificationKind, Service};
use super::lifecycle::Referencing;

/// The referencing level shown in the directory.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Level {
    /// Referenced by the CSIRT.
    Referenced,
    /// Referenced, with the ExpertCyber label or the ACYMA referencing in force.
    Labelled,
    /// Referenced, with the ANSSI PRIS qualification in force.
    Qualified,
}

impl Level {
    pub fn label(self) -> &'static str {
        match self {
            Level::Referenced => "Référencé",
            Level::Labelled => "Référencé, labellisé",
            Level::Qualified => "Référencé, qualifié PRIS",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Certification {
    pub name: String,
    #[serde(with = "super::file::iso_date")]
    pub expires: Date,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct PublishedService {
    pub service: Service,
    pub jho: bool,
    pub jhno: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DirectoryEntry {
    pub name: String,
    pub level: Level,
    pub certifications: Vec<Certification>,
    pub fields_of_competence: Vec<String>,
    pub services: Vec<PublishedService>,
}

/// The entry of a provider, if it is listed today: referenced (notice included: it is
/// referenced until the notice takes effect), and only the qualifications still in force.
pub fn entry(
    name: &str,
    file: &ProviderFile,
    referencing: &Referencing,
    today: Date,
) -> Option<DirectoryEntry> {
    if !referencing.is_referenced() {
        return None;
    }
    let valid: Vec<_> = file
        .qualifications
        .iter()
        .filter(|q| q.expires >= today)
        .collect();
    let level = if valid.iter().any(|q| q.kind == QualificationKind::Pris) {
        Level::Qualified
    } else if valid.iter().any(|q| {
        matches!(
            q.kind,
            QualificationKind::ExpertCyber | QualificationKind::Acyma
        )
    }) {
        Level::Labelled
    } else {
        Level::Referenced
    };
    let mut services: Vec<PublishedService> = file
        .services
        .iter()
        .filter(|s| s.jho || s.jhno)
        .map(|s| PublishedService {
            service: s.service,
            jho: s.jho,
            jhno: s.jhno,
        })
        .collect();
    services.sort_by_key(|s| s.service);
    Some(DirectoryEntry {
        name: name.to_owned(),
        level,
        certifications: valid
            .iter()
            .map(|q| Certification {
                name: q.kind.label().to_owned(),
                expires: q.expires,
            })
            .collect(),
        fields_of_competence: file.fields_of_competence.clone(),
        services,
    })
}
