//! The template's columns, and where each one is in a given sheet (the order is free).

use super::ImportError;
use super::grid::{GridRow, Value, cell_name};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Column {
    LegalName,
    Siren,
    Siret,
    Website,
    CatalogueUrl,
    CatalogueListsIncidentResponse,
    ContactName,
    ContactRole,
    ContactEmail,
    ContactPhone,
    ServicesJho,
    ServicesJhno,
    FieldsOfCompetence,
    PrisExpires,
    PrisEvidence,
    PassiExpires,
    PassiEvidence,
    ExpertCyberExpires,
    ExpertCyberEvidence,
    AcymaExpires,
    AcymaEvidence,
    OtherQualifications,
    StaffTraining,
    StaffExperience,
    ClientReferences,
    OpenpgpKeyFile,
}

impl Column {
    /// In the template's order.
    pub(super) const ALL: [Column; 26] = [
        Column::LegalName,
        Column::Siren,
        Column::Siret,
        Column::Website,
        Column::CatalogueUrl,
        Column::CatalogueListsIncidentResponse,
        Column::ContactName,
        Column::ContactRole,
        Column::ContactEmail,
        Column::ContactPhone,
        Column::ServicesJho,
        Column::ServicesJhno,
        Column::FieldsOfCompetence,
        Column::PrisExpires,
        Column::PrisEvidence,
        Column::PassiExpires,
        Column::PassiEvidence,
        Column::ExpertCyberExpires,
        Column::ExpertCyberEvidence,
        Column::AcymaExpires,
        Column::AcymaEvidence,
        Column::OtherQualifications,
        Column::StaffTraining,
        Column::StaffExperience,
        Column::ClientReferences,
        Column::OpenpgpKeyFile,
    ];

    pub(super) fn name(self) -> &'static str {
        match self {
            Column::LegalName => "legal_name",
            Column::Siren => "siren",
            Column::Siret => "siret",
            Column::Website => "website",
            Column::CatalogueUrl => "catalogue_url",
            Column::CatalogueListsIncidentResponse => "catalogue_lists_incident_response",
            Column::ContactName => "contact_name",
            Column::ContactRole => "contact_role",
            Column::ContactEmail => "contact_email",
            Column::ContactPhone => "contact_phone",
            Column::ServicesJho => "services_jho",
            Column::ServicesJhno => "services_jhno",
            Column::FieldsOfCompetence => "fields_of_competence",
            Column::PrisExpires => "pris_expires",
            Column::PrisEvidence => "pris_evidence",
            Column::PassiExpires => "passi_expires",
            Column::PassiEvidence => "passi_evidence",
            Column::ExpertCyberExpires => "expertcyber_expires",
            Column::ExpertCyberEvidence => "expertcyber_evidence",
            Column::AcymaExpires => "acyma_expires",
            Column::AcymaEvidence => "acyma_evidence",
            Column::OtherQualifications => "other_qualifications",
            Column::StaffTraining => "staff_training",
            Column::StaffExperience => "staff_experience",
            Column::ClientReferences => "client_references",
            Column::OpenpgpKeyFile => "openpgp_key_file",
        }
    }

    pub(super) fn parse(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|c| c.name() == name)
    }

    /// Holds a `;`-separated list.
    pub(super) fn is_list(self) -> bool {
        matches!(
            self,
            Column::ServicesJho
                | Column::ServicesJhno
                | Column::FieldsOfCompetence
                | Column::OtherQualifications
                | Column::ClientReferences
        )
    }
}

/// Where each column is in this spreadsheet: the order is free.
pub(super) struct Columns {
    pub(super) position: [u32; Column::ALL.len()],
}

impl Columns {
    pub(super) fn at(&self, c: Column) -> u32 {
        self.position[c as usize]
    }

    pub(super) fn from_header(header: Option<&GridRow>) -> Result<Self, ImportError> {
        let Some(header) = header else {
            return Err(ImportError::BadHeader(
                "row 1 is empty: it must hold the column names".to_owned(),
            ));
        };
        let mut found: [Option<u32>; Column::ALL.len()] = [None; Column::ALL.len()];
        let mut problems = Vec::new();
        if let Some(col) = header.stray {
            problems.push(format!("{}: unknown column", cell_name(0, col)));
        }
        for (&col, value) in &header.cells {
            let Value::Text(name) = value else {
                problems.push(format!("{}: not a column name", cell_name(0, col)));
                continue;
            };
            match Column::parse(name) {
                None => problems.push(format!("unknown column {name:?} ({})", cell_name(0, col))),
                Some(c) if found[c as usize].is_some() => {
                    problems.push(format!("column {name:?} twice ({})", cell_name(0, col)));
                }
                Some(c) => found[c as usize] = Some(col),
            }
        }
        for c in Column::ALL {
            if found[c as usize].is_none() {
                problems.push(format!("missing column {:?}", c.name()));
            }
        }
        if !problems.is_empty() {
            return Err(ImportError::BadHeader(problems.join("; ")));
        }
        Ok(Self {
            position: found.map(|p| p.unwrap_or_default()),
        })
    }
}

/// The column a field of `ProviderFile::problems()` was read from.
pub(super) fn field_column(field: &str, qualification_columns: &[Column]) -> Option<Column> {
    let base = field.split(['[', '.']).next().unwrap_or(field);
    match base {
        "contacts" if field.ends_with(".email") => Some(Column::ContactEmail),
        "contacts" => Some(Column::ContactName),
        "services" => Some(Column::ServicesJho),
        "openpgp_key" => Some(Column::OpenpgpKeyFile),
        "qualifications" => Some(
            list_index(field)
                .and_then(|i| qualification_columns.get(i).copied())
                .unwrap_or(Column::OtherQualifications),
        ),
        other => Column::parse(other),
    }
}

/// `i` in `qualifications[i].name`.
fn list_index(field: &str) -> Option<usize> {
    let (_, rest) = field.split_once('[')?;
    let (index, _) = rest.split_once(']')?;
    index.parse().ok()
}
