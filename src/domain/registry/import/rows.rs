//! From the grid to applications: each row read cell by cell as its column expects, the
//! convention's checks put back on the cells the fields came from, every problem kept.

use std::collections::{BTreeSet, HashMap};

use time::Date;

use super::columns::{Column, Columns, field_column};
use super::grid::{Grid, GridRow, Value, cell_name, number_text, parse_iso_date};
use super::xlsx::serial_date;
use super::{
    CellError, Evidence, ImportError, ImportedApplication, MAX_EVIDENCE_BYTES, MAX_KEY_BYTES,
};
use crate::crypto::openpgp::PublicKey;
use crate::domain::registry::file::{
    ClientReference, Contact, ProviderFile, Qualification, QualificationKind, Service,
    ServiceOffer, valid_siren,
};

/// A problem found while reading, before it becomes a `CellError`.
struct Problem {
    row: u32,
    /// None: the row as a whole.
    col: Option<u32>,
    message: String,
}

impl Problem {
    fn into_cell_error(self) -> CellError {
        CellError {
            cell: match self.col {
                Some(col) => cell_name(self.row, col),
                None => format!("row {}", u64::from(self.row) + 1),
            },
            message: self.message,
        }
    }
}

pub(super) fn applications(
    grid: &Grid,
    evidence: &dyn Fn(&str) -> Option<Vec<u8>>,
) -> Result<Vec<ImportedApplication>, ImportError> {
    let columns = Columns::from_header(grid.rows.get(&0))?;
    let mut problems = Vec::new();
    let mut sirens = Vec::new();
    let mut out = Vec::new();
    for (&row, cells) in grid.rows.range(1..) {
        let mut reader = RowReader {
            row,
            cells,
            columns: &columns,
            lookup: evidence,
            problems: Vec::new(),
        };
        if let Some(application) = reader.application() {
            if valid_siren(&application.file.siren) {
                sirens.push((row, application.file.siren.clone()));
            }
            if reader.problems.is_empty() {
                out.push(application);
            }
        }
        problems.append(&mut reader.problems);
    }
    problems.extend(duplicate_sirens(&sirens, columns.at(Column::Siren)));
    if !problems.is_empty() {
        // By row, then the row as a whole before its cells; a cell's problems in order found.
        problems.sort_by_key(|p| (p.row, p.col));
        return Err(ImportError::Rows(
            problems.into_iter().map(Problem::into_cell_error).collect(),
        ));
    }
    Ok(out)
}

/// One application per provider: a second row for a SIREN is a copy or a mistake.
fn duplicate_sirens(sirens: &[(u32, String)], col: u32) -> Vec<Problem> {
    let mut first = HashMap::new();
    let mut problems = Vec::new();
    for (row, siren) in sirens {
        match first.get(siren.as_str()) {
            Some(&first_row) => problems.push(Problem {
                row: *row,
                col: Some(col),
                message: format!(
                    "the same SIREN as row {}: one application per provider",
                    u64::from(first_row) + 1
                ),
            }),
            None => {
                first.insert(siren.as_str(), *row);
            }
        }
    }
    problems
}

struct RowReader<'a> {
    row: u32,
    cells: &'a GridRow,
    columns: &'a Columns,
    lookup: &'a dyn Fn(&str) -> Option<Vec<u8>>,
    problems: Vec<Problem>,
}

impl<'a> RowReader<'a> {
    /// The application of the row, meaningful only if no problem was found; None if the row
    /// holds values only outside the columns (reported): it is not an application.
    fn application(&mut self) -> Option<ImportedApplication> {
        if let Some(col) = self.cells.stray {
            self.fail_at(Some(col), "a value in a column without a header".to_owned());
        }
        let mut in_columns = false;
        for &col in self.cells.cells.keys() {
            if self.columns.position.contains(&col) {
                in_columns = true;
            } else {
                self.fail_at(Some(col), "a value in a column without a header".to_owned());
            }
        }
        if !in_columns {
            return None;
        }
        let mut qualifications = Qualifications::default();
        qualifications.read(self);
        let file = ProviderFile {
            legal_name: self.text(Column::LegalName),
            siren: self.identifier(Column::Siren, 9),
            siret: Some(self.identifier(Column::Siret, 14)).filter(|s| !s.is_empty()),
            contacts: vec![Contact {
                name: self.text(Column::ContactName),
                role: self.text(Column::ContactRole),
                email: self.text(Column::ContactEmail),
                phone: self.phone(Column::ContactPhone),
            }],
            website: self.text(Column::Website),
            catalogue_url: self.text(Column::CatalogueUrl),
            catalogue_lists_incident_response: self.yes_no(Column::CatalogueListsIncidentResponse),
            services: self.services(),
            fields_of_competence: self.list(Column::FieldsOfCompetence),
            qualifications: qualifications.list,
            staff_training: self.text(Column::StaffTraining),
            staff_experience: self.text(Column::StaffExperience),
            client_references: self.client_references(),
            openpgp_key: self.openpgp_key(),
        };
        self.check(&file, &qualifications.columns);
        Some(ImportedApplication {
            row: self.row as usize + 1,
            file,
            evidence: qualifications.evidence,
        })
    }

    /// The convention's checks, each problem put back on the column its field came from.
    /// A single value that could not be read was left empty, and the convention would only
    /// repeat that it is missing: the reading problem says more. An item of a list that could
    /// not be read was left out, so the convention's problems with the others still count.
    fn check(&mut self, file: &ProviderFile, qualification_columns: &[Column]) {
        for p in file.problems() {
            match field_column(&p.field, qualification_columns) {
                Some(c) if !c.is_list() && self.has_problem(c) => {}
                Some(c) => self.fail(c, p.message),
                None => self.fail_at(None, format!("{}: {}", p.field, p.message)),
            }
        }
    }

    fn cell(&self, c: Column) -> Option<&'a Value> {
        self.cells.cells.get(&self.columns.at(c))
    }

    fn fail(&mut self, c: Column, message: impl Into<String>) {
        self.fail_at(Some(self.columns.at(c)), message.into());
    }

    fn fail_at(&mut self, col: Option<u32>, message: String) {
        self.problems.push(Problem {
            row: self.row,
            col,
            message,
        });
    }

    fn has_problem(&self, c: Column) -> bool {
        let col = Some(self.columns.at(c));
        self.problems.iter().any(|p| p.col == col)
    }

    /// The cell as text; empty if blank.
    fn text(&mut self, c: Column) -> String {
        match self.cell(c) {
            None => String::new(),
            Some(Value::Text(s)) => s.clone(),
            Some(Value::Number(n)) => number_text(*n),
            Some(Value::Bool(b)) => b.to_string(),
            Some(Value::Date(d)) => d.to_string(),
            Some(Value::Unreadable(why)) => {
                self.fail(c, why.clone());
                String::new()
            }
        }
    }

    /// A SIREN or SIRET. Typed as a number, it lost its leading zeros: they are put back.
    /// Typed as text, the spaces of "572 104 891" are dropped.
    fn identifier(&mut self, c: Column, digits: usize) -> String {
        match self.cell(c) {
            Some(Value::Number(n)) if n.fract() == 0.0 && *n >= 0.0 && *n < 1e15 => {
                format!("{:0digits$}", *n as u64)
            }
            _ => self
                .text(c)
                .chars()
                .filter(|ch| !ch.is_whitespace())
                .collect(),
        }
    }

    fn phone(&mut self, c: Column) -> String {
        if let Some(Value::Number(_)) = self.cell(c) {
            self.fail(
                c,
                "typed as a number, the phone number lost its leading 0 or +: type it as text",
            );
            return String::new();
        }
        self.text(c)
    }

    fn yes_no(&mut self, c: Column) -> bool {
        let parsed = match self.cell(c) {
            None => {
                self.fail(c, "required: yes or no");
                return false;
            }
            Some(Value::Bool(b)) => Some(*b),
            Some(Value::Text(s)) => parse_yes_no(s),
            Some(_) => None,
        };
        parsed.unwrap_or_else(|| {
            self.fail(c, "expected yes or no (oui/non, true/false)");
            false
        })
    }

    /// A date; None if blank or unreadable (then with a problem).
    fn date(&mut self, c: Column) -> Option<Date> {
        let date = match self.cell(c)? {
            Value::Date(d) => Some(*d),
            Value::Text(s) => parse_iso_date(s),
            Value::Number(n) => serial_date(*n),
            Value::Bool(_) | Value::Unreadable(_) => None,
        };
        if date.is_none() {
            self.fail(c, "not a date: expected YYYY-MM-DD");
        }
        date
    }

    /// A `;`-separated list, items trimmed, empty items dropped.
    fn list(&mut self, c: Column) -> Vec<String> {
        split_list(&self.text(c))
    }

    fn services(&mut self) -> Vec<ServiceOffer> {
        let jho = self.service_set(Column::ServicesJho);
        let jhno = self.service_set(Column::ServicesJhno);
        Service::ALL
            .into_iter()
            .filter(|s| jho.contains(s) || jhno.contains(s))
            .map(|service| ServiceOffer {
                service,
                jho: jho.contains(&service),
                jhno: jhno.contains(&service),
            })
            .collect()
    }

    fn service_set(&mut self, c: Column) -> BTreeSet<Service> {
        let mut set = BTreeSet::new();
        for name in self.list(c) {
            match Service::parse(&name.to_lowercase()) {
                Some(s) => {
                    set.insert(s);
                }
                None => {
                    let known: Vec<_> = Service::ALL.iter().map(|s| s.as_str()).collect();
                    self.fail(
                        c,
                        format!("unknown service {name:?}: one of {}", known.join(", ")),
                    );
                }
            }
        }
        set
    }

    fn client_references(&mut self) -> Vec<ClientReference> {
        let c = Column::ClientReferences;
        let mut out = Vec::new();
        for item in self.list(c) {
            let parts: Vec<&str> = item.split('|').map(str::trim).collect();
            let [client, description, confidential] = parts.as_slice() else {
                self.fail(
                    c,
                    format!("{item:?}: expected client|description|confidential (yes or no)"),
                );
                continue;
            };
            let Some(confidential) = parse_yes_no(confidential) else {
                self.fail(c, format!("{item:?}: confidential must be yes or no"));
                continue;
            };
            if client.is_empty() {
                self.fail(c, format!("{item:?}: the client's name is required"));
                continue;
            }
            out.push(ClientReference {
                client: (*client).to_owned(),
                description: (*description).to_owned(),
                confidential,
            });
        }
        out
    }

    /// A file the row names, looked up through the caller.
    fn named_file(&mut self, c: Column, name: &str, max: usize) -> Option<Vec<u8>> {
        if let Err(why) = plain_file_name(name) {
            self.fail(c, format!("{name:?}: {why}"));
            return None;
        }
        let Some(bytes) = (self.lookup)(name) else {
            self.fail(c, format!("file {name:?} not found"));
            return None;
        };
        if bytes.len() > max {
            self.fail(c, format!("file {name:?} is larger than {max} bytes"));
            return None;
        }
        Some(bytes)
    }

    fn openpgp_key(&mut self) -> String {
        let c = Column::OpenpgpKeyFile;
        let name = self.text(c);
        if name.is_empty() {
            self.fail(
                c,
                "required: the file of the provider's armored OpenPGP public key",
            );
            return String::new();
        }
        let Some(bytes) = self.named_file(c, &name, MAX_KEY_BYTES) else {
            return String::new();
        };
        match armored_public_key(&bytes) {
            Ok(key) => key,
            Err(why) => {
                self.fail(c, format!("{name:?}: {why}"));
                String::new()
            }
        }
    }
}

/// The qualifications of a row, the column each came from (to put the convention's problems
/// back on it), and their evidence files.
#[derive(Default)]
struct Qualifications {
    list: Vec<Qualification>,
    columns: Vec<Column>,
    evidence: Vec<Evidence>,
}

impl Qualifications {
    fn read(&mut self, r: &mut RowReader<'_>) {
        let named = [
            (
                QualificationKind::Pris,
                Column::PrisExpires,
                Column::PrisEvidence,
            ),
            (
                QualificationKind::Passi,
                Column::PassiExpires,
                Column::PassiEvidence,
            ),
            (
                QualificationKind::ExpertCyber,
                Column::ExpertCyberExpires,
                Column::ExpertCyberEvidence,
            ),
            (
                QualificationKind::Acyma,
                Column::AcymaExpires,
                Column::AcymaEvidence,
            ),
        ];
        for (kind, expires, evidence) in named {
            self.named(r, kind, expires, evidence);
        }
        self.others(r);
    }

    /// Both cells blank: not held. One without the other: a problem on the blank one.
    fn named(
        &mut self,
        r: &mut RowReader<'_>,
        kind: QualificationKind,
        expires_col: Column,
        evidence_col: Column,
    ) {
        let dated = r.cell(expires_col).is_some();
        let name = r.text(evidence_col);
        if !dated && name.is_empty() {
            return;
        }
        let expires = r.date(expires_col);
        if !dated {
            r.fail(
                expires_col,
                format!("required: {} has an evidence file", kind.label()),
            );
        }
        if name.is_empty() {
            r.fail(
                evidence_col,
                format!(
                    "required: {} is declared (it has an expiry date) and needs its evidence file",
                    kind.label()
                ),
            );
            return;
        }
        let evidence = self.evidence(r, evidence_col, &name);
        if let (Some(expires), Some(sha256)) = (expires, evidence) {
            self.push(kind, evidence_col, &name, sha256, expires);
        }
    }

    /// `name|YYYY-MM-DD|evidence-file`, `;`-separated.
    fn others(&mut self, r: &mut RowReader<'_>) {
        let c = Column::OtherQualifications;
        for item in r.list(c) {
            let parts: Vec<&str> = item.split('|').map(str::trim).collect();
            let [name, date, file] = parts.as_slice() else {
                r.fail(
                    c,
                    format!("{item:?}: expected name|YYYY-MM-DD|evidence-file"),
                );
                continue;
            };
            if name.is_empty() {
                r.fail(c, format!("{item:?}: the qualification's name is required"));
            }
            let expires = parse_iso_date(date);
            if expires.is_none() {
                r.fail(c, format!("{item:?}: {date:?} is not a date (YYYY-MM-DD)"));
            }
            let evidence = if file.is_empty() {
                r.fail(c, format!("{item:?}: the evidence file is required"));
                None
            } else {
                self.evidence(r, c, file)
            };
            if let (Some(expires), Some(sha256), false) = (expires, evidence, name.is_empty()) {
                let kind = QualificationKind::Other((*name).to_owned());
                self.push(kind, c, file, sha256, expires);
            }
        }
    }

    /// The evidence's hash, the file kept once however many qualifications it proves.
    fn evidence(&mut self, r: &mut RowReader<'_>, c: Column, name: &str) -> Option<String> {
        if let Some(e) = self.evidence.iter().find(|e| e.name == name) {
            return Some(e.sha256.clone());
        }
        let bytes = r.named_file(c, name, MAX_EVIDENCE_BYTES)?;
        let e = Evidence::new(name, bytes);
        let sha256 = e.sha256.clone();
        self.evidence.push(e);
        Some(sha256)
    }

    fn push(
        &mut self,
        kind: QualificationKind,
        c: Column,
        evidence_name: &str,
        sha256: String,
        expires: Date,
    ) {
        self.list.push(Qualification {
            kind,
            evidence_sha256: sha256,
            evidence_name: evidence_name.to_owned(),
            expires,
        });
        self.columns.push(c);
    }
}

fn split_list(s: &str) -> Vec<String> {
    s.split(';')
        .map(str::trim)
        .filter(|item| !item.is_empty())
        .map(str::to_owned)
        .collect()
}

fn parse_yes_no(s: &str) -> Option<bool> {
    match s.trim().to_lowercase().as_str() {
        "yes" | "oui" | "true" => Some(true),
        "no" | "non" | "false" => Some(false),
        _ => None,
    }
}

/// The caller resolves names against a directory: a name must not be able to leave it.
fn plain_file_name(name: &str) -> Result<(), &'static str> {
    let bad = name.len() > 255
        || name.starts_with('.')
        || name.contains(['/', '\\', ':'])
        || name.chars().any(char::is_control);
    if bad {
        Err("a plain file name is expected (no directory, not starting with a dot)")
    } else {
        Ok(())
    }
}

/// The key file as stored in the provider's file: armored text of one public certificate.
fn armored_public_key(bytes: &[u8]) -> Result<String, &'static str> {
    let text = std::str::from_utf8(bytes)
        .map_err(|_| "not an armored OpenPGP public key (not text)")?
        .trim();
    if text.contains("-----BEGIN PGP PRIVATE KEY BLOCK-----") {
        // Said plainly: the provider must be told its secret key has been sent around.
        return Err("this is a PRIVATE key: the provider must send its public key only");
    }
    if !text.starts_with("-----BEGIN PGP PUBLIC KEY BLOCK-----") {
        return Err("not an armored OpenPGP public key (-----BEGIN PGP PUBLIC KEY BLOCK-----)");
    }
    PublicKey::from_bytes(text.as_bytes()).map_err(|_| "not a readable OpenPGP public key")?;
    Ok(format!("{text}\n"))
}
