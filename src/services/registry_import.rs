//! Provider applications read from the spreadsheet the CSIRT sends to candidates
//! (`templates/provider-application.xlsx` or `.csv`; layout in `templates/README.md`).
//!
//! Pure over bytes: the caller reads the spreadsheet, and hands in a closure that looks up the
//! evidence files and OpenPGP keys a row names (the CLI reads them from `--evidence-dir`), so
//! where files live is not decided here.
//!
//! All or nothing: every row is checked, every problem is reported with the cell it is in, and
//! no application comes back unless all are valid. An operator fixes the sheet and imports it
//! again, rather than working out which half went in.
//!
//! The sheet is held as a sparse grid of non-blank cells, bounded in rows and columns while it
//! is read: a workbook can declare a used range of a million rows by sixteen thousand columns,
//! and materialising it densely is how a 5 MiB file takes the hub down.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::fmt;
use std::io::Cursor;
use std::path::Path;

use calamine::{DataRef, ExcelDateTime, ExcelDateTimeType, Reader, SheetType, Xlsx};
use time::{Date, Month};

use crate::crypto::openpgp::PublicKey;
use crate::domain::registry::file::{
    ClientReference, Contact, ProviderFile, Qualification, QualificationKind, Service,
    ServiceOffer, valid_siren,
};

/// Largest spreadsheet accepted, in bytes (5 MiB): a thousand rows of text take far less.
pub const MAX_SPREADSHEET_BYTES: usize = 5 * 1024 * 1024;
/// Most applications (non-empty rows after the header) in one spreadsheet.
pub const MAX_APPLICATIONS: usize = 1_000;
/// Most bytes the parts of an XLSX may unpack to (100 MiB): deflate can inflate a 5 MiB
/// file a thousandfold, and calamine holds the shared strings in memory.
pub const MAX_UNPACKED_BYTES: u64 = 100 * 1024 * 1024;
/// Largest evidence file accepted (8 MiB, what the registry stores): every file of every row is held in memory until
/// the whole sheet has been checked.
pub const MAX_EVIDENCE_BYTES: usize = crate::services::registry::MAX_EVIDENCE_BYTES;
/// Largest OpenPGP key file accepted: a certificate with a photo is well under this.
pub const MAX_KEY_BYTES: usize = 1024 * 1024;
/// Cells past this column are not kept, only reported: the layout has 26 columns.
const MAX_COLUMNS: u32 = 64;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SheetFormat {
    Xlsx,
    Csv,
}

impl SheetFormat {
    /// By extension, `.xlsx` or `.csv`, in any case.
    pub fn from_path(p: &Path) -> Option<Self> {
        let ext = p.extension()?.to_str()?;
        if ext.eq_ignore_ascii_case("xlsx") {
            Some(Self::Xlsx)
        } else if ext.eq_ignore_ascii_case("csv") {
            Some(Self::Csv)
        } else {
            None
        }
    }
}

/// A file a row names as the proof of a qualification.
#[derive(Clone, PartialEq, Eq)]
pub struct Evidence {
    pub name: String,
    /// Lower-case hex SHA-256 of `bytes`.
    pub sha256: String,
    pub bytes: Vec<u8>,
}

impl Evidence {
    fn new(name: &str, bytes: Vec<u8>) -> Self {
        Self {
            name: name.to_owned(),
            sha256: crate::crypto::sha256_hex(&bytes),
            bytes,
        }
    }
}

// The bytes would flood any log or test failure.
impl fmt::Debug for Evidence {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Evidence")
            .field("name", &self.name)
            .field("sha256", &self.sha256)
            .field("len", &self.bytes.len())
            .finish()
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImportedApplication {
    /// The spreadsheet row (1-based) the application was read from.
    pub row: usize,
    pub file: ProviderFile,
    /// The evidence files of `file.qualifications`, each once.
    pub evidence: Vec<Evidence>,
}

/// A problem in one cell, or in a row when no single cell is at fault.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{cell}: {message}")]
pub struct CellError {
    /// A1 notation (`C5`), or `row 5`.
    pub cell: String,
    pub message: String,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ImportError {
    #[error("not a spreadsheet: {0}")]
    NotASpreadsheet(String),
    #[error("the workbook has no worksheet")]
    NoSheet,
    #[error("bad header row: {0}")]
    BadHeader(String),
    #[error("{} problem(s): {}", .0.len(), join(.0))]
    Rows(Vec<CellError>),
    #[error("the spreadsheet is {size} bytes: at most {MAX_SPREADSHEET_BYTES} are accepted")]
    TooLarge { size: usize },
    #[error("the workbook unpacks to more than {MAX_UNPACKED_BYTES} bytes")]
    TooLargeUnpacked,
    #[error("more than {MAX_APPLICATIONS} applications: split the spreadsheet")]
    TooManyRows,
}

fn join(errors: &[CellError]) -> String {
    errors
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join("; ")
}

/// Reads every application of the spreadsheet, or reports every problem in it.
///
/// `evidence` returns the content of a file named in a row (a qualification's proof or the
/// OpenPGP key), or None if there is none by that name. It is only ever asked for plain file
/// names (no directory part, no leading dot), and may be asked for one name several times.
/// The applications are returned in row order; the files' `conditions()` (art. 2) are not
/// judged here: an application that does not meet them is still an application.
pub fn read_applications(
    bytes: &[u8],
    format: SheetFormat,
    evidence: &dyn Fn(&str) -> Option<Vec<u8>>,
) -> Result<Vec<ImportedApplication>, ImportError> {
    if bytes.len() > MAX_SPREADSHEET_BYTES {
        return Err(ImportError::TooLarge { size: bytes.len() });
    }
    let grid = match format {
        SheetFormat::Xlsx => read_xlsx(bytes)?,
        SheetFormat::Csv => read_csv(bytes)?,
    };
    applications(&grid, evidence)
}

// ---------------------------------------------------------------------------------------------
// The columns.

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Column {
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
    const ALL: [Column; 26] = [
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

    fn name(self) -> &'static str {
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

    fn parse(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|c| c.name() == name)
    }

    /// Holds a `;`-separated list.
    fn is_list(self) -> bool {
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
struct Columns {
    position: [u32; Column::ALL.len()],
}

impl Columns {
    fn at(&self, c: Column) -> u32 {
        self.position[c as usize]
    }

    fn from_header(header: Option<&GridRow>) -> Result<Self, ImportError> {
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

/// `C5`: column letters as a spreadsheet shows them, row from 1.
fn cell_name(row: u32, col: u32) -> String {
    let mut letters = Vec::new();
    let mut n = col + 1;
    while n > 0 {
        let rem = (n - 1) % 26;
        letters.push(char::from(b'A' + rem as u8));
        n = (n - 1) / 26;
    }
    let column: String = letters.into_iter().rev().collect();
    format!("{column}{}", u64::from(row) + 1)
}

// ---------------------------------------------------------------------------------------------
// The sheet, as read from either format.

/// A cell that is not blank.
#[derive(Debug, Clone, PartialEq)]
enum Value {
    /// Trimmed, never empty, line breaks as `\n`.
    Text(String),
    Number(f64),
    Bool(bool),
    Date(Date),
    /// Nothing can be read from it (an Excel error, a duration, bytes that are not UTF-8): why.
    Unreadable(String),
}

#[derive(Debug, Default)]
struct GridRow {
    /// By 0-based column, below `MAX_COLUMNS`.
    cells: BTreeMap<u32, Value>,
    /// The first non-blank cell at or past `MAX_COLUMNS`.
    stray: Option<u32>,
}

/// The non-blank cells, by 0-based row: blank rows are simply absent.
#[derive(Debug, Default)]
struct Grid {
    rows: BTreeMap<u32, GridRow>,
}

impl Grid {
    fn put(&mut self, row: u32, col: u32, value: Value) -> Result<(), ImportError> {
        // The header and MAX_APPLICATIONS rows; checked as rows arrive, so that memory stays
        // bounded whatever the file holds.
        if !self.rows.contains_key(&row) && self.rows.len() > MAX_APPLICATIONS {
            return Err(ImportError::TooManyRows);
        }
        let r = self.rows.entry(row).or_default();
        if col < MAX_COLUMNS {
            r.cells.insert(col, value);
        } else {
            r.stray.get_or_insert(col);
        }
        Ok(())
    }
}

fn text_value(s: &str) -> Option<Value> {
    let s = s.trim();
    if s.is_empty() {
        return None;
    }
    // CSV and Windows spreadsheets break lines with CR LF; the file's texts allow only LF.
    let s = if s.contains('\r') {
        s.replace("\r\n", "\n").replace('\r', "\n")
    } else {
        s.to_owned()
    };
    Some(Value::Text(s))
}

// ---------------------------------------------------------------------------------------------
// XLSX.

fn not_xlsx(e: impl fmt::Display) -> ImportError {
    ImportError::NotASpreadsheet(format!("not an XLSX workbook: {e}"))
}

fn read_xlsx(bytes: &[u8]) -> Result<Grid, ImportError> {
    check_unpacked_size(bytes, MAX_UNPACKED_BYTES)?;
    let mut book = Xlsx::new(Cursor::new(bytes)).map_err(not_xlsx)?;
    let sheet = book
        .sheets_metadata()
        .iter()
        .find(|s| s.typ == SheetType::WorkSheet)
        .map(|s| s.name.clone())
        .ok_or(ImportError::NoSheet)?;
    // Streamed cell by cell: `worksheet_range` would allocate the whole used range.
    let mut cells = book.worksheet_cells_reader(&sheet).map_err(not_xlsx)?;
    let mut grid = Grid::default();
    while let Some(cell) = cells.next_cell().map_err(not_xlsx)? {
        let (row, col) = cell.get_position();
        if let Some(value) = xlsx_value(cell.get_value()) {
            grid.put(row, col, value)?;
        }
    }
    Ok(grid)
}

/// The zip directory declares what each part unpacks to, and the zip reader stops at that
/// size: summing it bounds what calamine will inflate.
fn check_unpacked_size(bytes: &[u8], limit: u64) -> Result<(), ImportError> {
    let mut archive = zip::ZipArchive::new(Cursor::new(bytes)).map_err(not_xlsx)?;
    let mut total: u64 = 0;
    for i in 0..archive.len() {
        let part = archive.by_index_raw(i).map_err(not_xlsx)?;
        total = total.saturating_add(part.size());
    }
    if total > limit {
        return Err(ImportError::TooLargeUnpacked);
    }
    Ok(())
}

fn xlsx_value(v: &DataRef<'_>) -> Option<Value> {
    match v {
        DataRef::Empty => None,
        DataRef::String(s) => text_value(s),
        DataRef::SharedString(s) => text_value(s),
        DataRef::Int(i) => Some(Value::Number(*i as f64)),
        DataRef::Float(f) => Some(Value::Number(*f)),
        DataRef::Bool(b) => Some(Value::Bool(*b)),
        DataRef::DateTime(dt) if dt.is_datetime() => Some(excel_date(dt).map_or_else(
            || Value::Unreadable("a date outside the calendar".to_owned()),
            Value::Date,
        )),
        DataRef::DateTime(_) | DataRef::DurationIso(_) => Some(Value::Unreadable(
            "a duration, where a date or text is expected".to_owned(),
        )),
        DataRef::DateTimeIso(s) => Some(s.get(..10).and_then(parse_iso_date).map_or_else(
            || Value::Unreadable(format!("not a date: {s:?}")),
            Value::Date,
        )),
        DataRef::Error(e) => Some(Value::Unreadable(format!("the cell holds the error {e}"))),
    }
}

/// The day of an Excel date; the time of day, if any, is dropped.
fn excel_date(dt: &ExcelDateTime) -> Option<Date> {
    let (year, month, day, ..) = dt.to_ymd_hms_milli();
    let month = Month::try_from(month).ok()?;
    Date::from_calendar_date(i32::from(year), month, day).ok()
}

/// A date typed into a cell without a date format arrives as its serial number. Serials count
/// from 1900 unless the workbook says 1904, which calamine does not tell for plain numbers:
/// the 1904 system belongs to old Mac workbooks, not to this template.
fn serial_date(serial: f64) -> Option<Date> {
    // 1 is 1900-01-01; 2958465 is 9999-12-31, the last day Excel knows.
    if !(1.0..2_958_466.0).contains(&serial) {
        return None;
    }
    excel_date(&ExcelDateTime::new(
        serial,
        ExcelDateTimeType::DateTime,
        false,
    ))
}

// ---------------------------------------------------------------------------------------------
// CSV.

fn read_csv(bytes: &[u8]) -> Result<Grid, ImportError> {
    // Excel writes a BOM before "CSV UTF-8".
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    if bytes.starts_with(b"PK\x03\x04") {
        return Err(ImportError::NotASpreadsheet(
            "a zip archive (an XLSX workbook?), not CSV".to_owned(),
        ));
    }
    if bytes.contains(&0) {
        return Err(ImportError::NotASpreadsheet(
            "binary data, not CSV text".to_owned(),
        ));
    }
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .delimiter(delimiter(bytes))
        .from_reader(bytes);
    let mut grid = Grid::default();
    let mut rows = CsvRows::new(bytes);
    let mut record = csv::ByteRecord::new();
    while reader
        .read_byte_record(&mut record)
        .map_err(|e| ImportError::NotASpreadsheet(format!("not CSV: {e}")))?
    {
        let row = rows.next(&record);
        for (col, field) in record.iter().enumerate() {
            if let Some(value) = csv_value(field) {
                grid.put(row, u32::try_from(col).unwrap_or(u32::MAX), value)?;
            }
        }
    }
    Ok(grid)
}

/// Excel in a French locale saves CSV with `;`, the comma being the decimal separator. Column
/// names hold neither, so the header line tells which one the file uses.
fn delimiter(bytes: &[u8]) -> u8 {
    let header = bytes.split(|&b| b == b'\n').next().unwrap_or_default();
    let count = |d: u8| header.iter().filter(|&&b| b == d).count();
    if count(b';') > count(b',') {
        b';'
    } else {
        b','
    }
}

fn csv_value(field: &[u8]) -> Option<Value> {
    match std::str::from_utf8(field) {
        Ok(s) => text_value(s),
        Err(_) => Some(Value::Unreadable(
            "not UTF-8 text: save the file as \"CSV UTF-8\"".to_owned(),
        )),
    }
}

/// Row numbers as a spreadsheet shows the file. The CSV reader skips blank lines, which a
/// spreadsheet shows as rows, and a quoted field may span lines, which a spreadsheet shows as
/// one row; the reader's own line numbers follow neither. A record's row is the number of line
/// breaks before its first byte, less those inside the fields of earlier records. The reader
/// places a record at the start of the blank lines it skipped before it: those are counted too.
struct CsvRows<'a> {
    bytes: &'a [u8],
    /// Bytes before this have been counted.
    scanned: usize,
    breaks: usize,
    /// Line breaks inside the fields of the records so far.
    inside: usize,
}

impl<'a> CsvRows<'a> {
    fn new(bytes: &'a [u8]) -> Self {
        Self {
            bytes,
            scanned: 0,
            breaks: 0,
            inside: 0,
        }
    }

    /// The 0-based row of `record`, the records coming in order.
    fn next(&mut self, record: &csv::ByteRecord) -> u32 {
        let start = record
            .position()
            .and_then(|p| usize::try_from(p.byte()).ok())
            .unwrap_or(self.bytes.len())
            .max(self.scanned);
        self.breaks += count_breaks(self.bytes.get(self.scanned..start).unwrap_or_default());
        self.scanned = start;
        let blank = self
            .bytes
            .get(start..)
            .unwrap_or_default()
            .iter()
            .take_while(|&&b| b == b'\r' || b == b'\n')
            .filter(|&&b| b == b'\n')
            .count();
        let row = (self.breaks + blank).saturating_sub(self.inside);
        self.inside += record.iter().map(count_breaks).sum::<usize>();
        u32::try_from(row).unwrap_or(u32::MAX)
    }
}

fn count_breaks(bytes: &[u8]) -> usize {
    bytes.iter().filter(|&&b| b == b'\n').count()
}

// ---------------------------------------------------------------------------------------------
// From the grid to applications.

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

fn applications(
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

/// The column a field of `ProviderFile::problems()` was read from.
fn field_column(field: &str, qualification_columns: &[Column]) -> Option<Column> {
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

// ---------------------------------------------------------------------------------------------
// Cell contents.

/// Whole numbers without `.0`: an identifier or a count typed as a number.
fn number_text(n: f64) -> String {
    if n.fract() == 0.0 && n.abs() < 1e15 {
        format!("{n:.0}")
    } else {
        n.to_string()
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

/// Exactly `YYYY-MM-DD`: `01/02/2027` is the 1st of February or the 2nd of January depending on
/// who typed it.
fn parse_iso_date(s: &str) -> Option<Date> {
    let s = s.trim();
    let mut parts = s.split('-');
    let (y, m, d) = (parts.next()?, parts.next()?, parts.next()?);
    let digits = |p: &str, n: usize| p.len() == n && p.bytes().all(|b| b.is_ascii_digit());
    if parts.next().is_some() || !digits(y, 4) || !digits(m, 2) || !digits(d, 2) {
        return None;
    }
    let month = Month::try_from(m.parse::<u8>().ok()?).ok()?;
    Date::from_calendar_date(y.parse().ok()?, month, d.parse().ok()?).ok()
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

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use std::collections::HashMap;
    use std::sync::OnceLock;

    use rust_xlsxwriter::{DocProperties, ExcelDateTime as XlsxDate, Format, Workbook};
    use time::macros::{date, datetime};

    use super::*;
    use crate::crypto::openpgp::AuditKey;

    /// A cell as a test writes it.
    #[derive(Debug, Clone)]
    enum C {
        S(String),
        N(f64),
        D(u16, u8, u8),
        B(bool),
    }

    fn s(v: &str) -> C {
        C::S(v.to_owned())
    }

    fn public_key() -> &'static str {
        static KEY: OnceLock<String> = OnceLock::new();
        KEY.get_or_init(|| {
            AuditKey::generate("x <x@example.org>", datetime!(2026-01-01 0:00 UTC))
                .unwrap()
                .public_armored()
                .unwrap()
        })
    }

    /// The evidence directory of the tests.
    fn files(name: &str) -> Option<Vec<u8>> {
        match name {
            "provider.asc" | "other.asc" => Some(public_key().as_bytes().to_vec()),
            "secret.asc" => Some(
                b"-----BEGIN PGP PRIVATE KEY BLOCK-----\n\nxxx\n-----END PGP PRIVATE KEY BLOCK-----\n"
                    .to_vec(),
            ),
            "garbage.asc" => Some(b"hello".to_vec()),
            "missing.pdf" => None,
            n if n.ends_with(".pdf") => Some(format!("%PDF-1.7 {n}").into_bytes()),
            _ => None,
        }
    }

    fn sha256(bytes: &[u8]) -> String {
        hex::encode(ring::digest::digest(&ring::digest::SHA256, bytes).as_ref())
    }

    fn header() -> Vec<C> {
        Column::ALL.iter().map(|c| s(c.name())).collect()
    }

    /// The example application of the template: every column used.
    fn example() -> Vec<(&'static str, C)> {
        vec![
            ("legal_name", s("Exemple Réponse Incident SAS")),
            ("siren", s("572104891")),
            ("siret", s("57210489100013")),
            ("website", s("https://www.exemple-reponse.example")),
            (
                "catalogue_url",
                s("https://www.exemple-reponse.example/offres/reponse-incident"),
            ),
            ("catalogue_lists_incident_response", s("yes")),
            ("contact_name", s("Camille Martin")),
            ("contact_role", s("Responsable CERT")),
            ("contact_email", s("cert@exemple-reponse.example")),
            ("contact_phone", s("+33 1 23 45 67 89")),
            (
                "services_jho",
                s("qualification; collection; analysis; containment; remediation; post_incident"),
            ),
            ("services_jhno", s("qualification; collection; containment")),
            (
                "fields_of_competence",
                s("Windows; Active Directory; Linux; cloud; OT"),
            ),
            ("pris_expires", C::D(2027, 6, 30)),
            ("pris_evidence", s("pris.pdf")),
            ("passi_expires", s("")),
            ("passi_evidence", s("")),
            ("expertcyber_expires", s("")),
            ("expertcyber_evidence", s("")),
            ("acyma_expires", s("2027-12-31")),
            ("acyma_evidence", s("acyma.pdf")),
            (
                "other_qualifications",
                s("ISO/IEC 27001|2027-03-31|iso27001.pdf"),
            ),
            (
                "staff_training",
                s("12 analysts; GIAC GCFA, GCIH; internal training 5 days a year"),
            ),
            (
                "staff_experience",
                s("Average 8 years in incident response.\nOn call 24/7 since 2019."),
            ),
            (
                "client_references",
                s(
                    "Commune d'Exempleville|Ransomware, 2025: containment and rebuild|no; \
                     Clinique Fictive|Forensic analysis|yes",
                ),
            ),
            ("openpgp_key_file", s("provider.asc")),
        ]
    }

    /// The example row with some cells changed, in the template's column order.
    fn row(changes: &[(&str, C)]) -> Vec<C> {
        let mut cells: HashMap<&str, C> = example().into_iter().collect();
        for (name, value) in changes {
            assert!(cells.contains_key(name), "no column {name}");
            cells.insert(name, value.clone());
        }
        Column::ALL
            .iter()
            .map(|c| cells.remove(c.name()).unwrap())
            .collect()
    }

    fn date_format() -> Format {
        Format::new().set_num_format("yyyy-mm-dd")
    }

    /// An XLSX workbook of `rows` (an empty row stays blank), on its first sheet.
    fn xlsx(rows: &[Vec<C>]) -> Vec<u8> {
        let mut book = Workbook::new();
        let sheet = book.add_worksheet();
        for (r, cells) in rows.iter().enumerate() {
            for (c, cell) in cells.iter().enumerate() {
                let (r, c) = (r as u32, c as u16);
                match cell {
                    C::S(v) if v.is_empty() => {}
                    C::S(v) => drop(sheet.write_string(r, c, v).unwrap()),
                    C::N(n) => drop(sheet.write_number(r, c, *n).unwrap()),
                    C::B(b) => drop(sheet.write_boolean(r, c, *b).unwrap()),
                    C::D(y, m, d) => {
                        let date = XlsxDate::from_ymd(*y, *m, *d).unwrap();
                        sheet
                            .write_datetime_with_format(r, c, &date, &date_format())
                            .unwrap();
                    }
                }
            }
        }
        book.save_to_buffer().unwrap()
    }

    fn csv_text(cell: &C) -> String {
        match cell {
            C::S(v) => v.clone(),
            C::N(n) => number_text(*n),
            C::B(b) => if *b { "yes" } else { "no" }.to_owned(),
            C::D(y, m, d) => format!("{y:04}-{m:02}-{d:02}"),
        }
    }

    fn csv_with(rows: &[Vec<C>], delimiter: u8, terminator: csv::Terminator) -> Vec<u8> {
        let mut w = csv::WriterBuilder::new()
            .flexible(true)
            .delimiter(delimiter)
            .terminator(terminator)
            .from_writer(Vec::new());
        for cells in rows {
            w.write_record(cells.iter().map(csv_text)).unwrap();
        }
        w.into_inner().unwrap()
    }

    fn csv(rows: &[Vec<C>]) -> Vec<u8> {
        csv_with(rows, b',', csv::Terminator::Any(b'\n'))
    }

    fn read(bytes: &[u8], format: SheetFormat) -> Result<Vec<ImportedApplication>, ImportError> {
        read_applications(bytes, format, &files)
    }

    /// The problems of a sheet of `rows` after the header, as `cell: message`, the same
    /// whether it is read as XLSX or as CSV.
    fn problems(rows: &[Vec<C>]) -> Vec<String> {
        let mut all = vec![header()];
        all.extend_from_slice(rows);
        let from_xlsx = match read(&xlsx(&all), SheetFormat::Xlsx) {
            Err(ImportError::Rows(errors)) => errors,
            other => panic!("expected problems, got {other:?}"),
        };
        let from_csv = match read(&csv(&all), SheetFormat::Csv) {
            Err(ImportError::Rows(errors)) => errors,
            other => panic!("expected problems, got {other:?}"),
        };
        assert_eq!(from_xlsx, from_csv);
        from_xlsx.iter().map(ToString::to_string).collect()
    }

    fn two_rows_with_numbers_and_dates() -> Vec<Vec<C>> {
        vec![
            header(),
            row(&[
                ("siren", C::N(572_104_891.0)),
                ("siret", C::N(57_210_489_100_013.0)),
                ("pris_expires", C::D(2027, 6, 30)),
                ("acyma_expires", C::N(46568.0)),
            ]),
            vec![],
            row(&[
                ("legal_name", s("Autre Prestataire SARL")),
                // A SIREN starting with 0, typed as a number: Excel drops the 0.
                ("siren", C::N(12_345_674.0)),
                ("siret", s("")),
                ("catalogue_lists_incident_response", C::B(true)),
                ("contact_phone", s("")),
                ("services_jho", s("")),
                ("services_jhno", s("Analysis;post_incident;")),
                ("fields_of_competence", s("")),
                ("pris_expires", s("")),
                ("pris_evidence", s("")),
                ("acyma_expires", s("")),
                ("acyma_evidence", s("")),
                ("other_qualifications", s("")),
                ("staff_training", s("")),
                ("staff_experience", s("")),
                ("client_references", s("")),
                ("openpgp_key_file", s("other.asc")),
            ]),
        ]
    }

    #[test]
    fn reads_two_applications_from_xlsx() {
        let apps = read(&xlsx(&two_rows_with_numbers_and_dates()), SheetFormat::Xlsx).unwrap();
        assert_eq!(apps.len(), 2);

        let first = &apps[0];
        assert_eq!(first.row, 2);
        let f = &first.file;
        assert_eq!(f.legal_name, "Exemple Réponse Incident SAS");
        assert_eq!(f.siren, "572104891");
        assert_eq!(f.siret.as_deref(), Some("57210489100013"));
        assert!(f.catalogue_lists_incident_response);
        assert_eq!(
            f.contacts,
            vec![Contact {
                name: "Camille Martin".into(),
                role: "Responsable CERT".into(),
                email: "cert@exemple-reponse.example".into(),
                phone: "+33 1 23 45 67 89".into(),
            }]
        );
        let offer = |service, jho, jhno| ServiceOffer { service, jho, jhno };
        assert_eq!(
            f.services,
            vec![
                offer(Service::Qualification, true, true),
                offer(Service::Collection, true, true),
                offer(Service::Analysis, true, false),
                offer(Service::Containment, true, true),
                offer(Service::Remediation, true, false),
                offer(Service::PostIncident, true, false),
            ]
        );
        assert_eq!(
            f.fields_of_competence,
            ["Windows", "Active Directory", "Linux", "cloud", "OT"]
        );
        let pris = b"%PDF-1.7 pris.pdf";
        assert_eq!(
            f.qualifications,
            vec![
                Qualification {
                    kind: QualificationKind::Pris,
                    evidence_sha256: sha256(pris),
                    evidence_name: "pris.pdf".into(),
                    expires: date!(2027 - 06 - 30),
                },
                Qualification {
                    kind: QualificationKind::Acyma,
                    evidence_sha256: sha256(b"%PDF-1.7 acyma.pdf"),
                    evidence_name: "acyma.pdf".into(),
                    // Typed as a plain number: Excel's serial of the date.
                    expires: date!(2027 - 06 - 30),
                },
                Qualification {
                    kind: QualificationKind::Other("ISO/IEC 27001".into()),
                    evidence_sha256: sha256(b"%PDF-1.7 iso27001.pdf"),
                    evidence_name: "iso27001.pdf".into(),
                    expires: date!(2027 - 03 - 31),
                },
            ]
        );
        let names: Vec<_> = first.evidence.iter().map(|e| e.name.as_str()).collect();
        assert_eq!(names, ["pris.pdf", "acyma.pdf", "iso27001.pdf"]);
        assert_eq!(first.evidence[0].bytes, pris);
        assert_eq!(first.evidence[0].sha256, sha256(pris));
        assert_eq!(
            f.staff_experience,
            "Average 8 years in incident response.\nOn call 24/7 since 2019."
        );
        assert_eq!(
            f.client_references,
            vec![
                ClientReference {
                    client: "Commune d'Exempleville".into(),
                    description: "Ransomware, 2025: containment and rebuild".into(),
                    confidential: false,
                },
                ClientReference {
                    client: "Clinique Fictive".into(),
                    description: "Forensic analysis".into(),
                    confidential: true,
                },
            ]
        );
        assert_eq!(f.openpgp_key.trim(), public_key().trim());
        assert!(f.problems().is_empty());
        assert!(f.conditions().met());

        // The blank row 3 is skipped; rows keep their numbers.
        let second = &apps[1];
        assert_eq!(second.row, 4);
        assert_eq!(second.file.siren, "012345674");
        assert_eq!(second.file.siret, None);
        assert!(second.file.qualifications.is_empty());
        assert!(second.evidence.is_empty());
        assert_eq!(
            second.file.services,
            vec![
                offer(Service::Analysis, false, true),
                offer(Service::PostIncident, false, true),
            ]
        );
        assert_eq!(second.file.contacts[0].phone, "");
    }

    #[test]
    fn csv_reads_like_xlsx() {
        let rows = two_rows_with_numbers_and_dates();
        let from_xlsx = read(&xlsx(&rows), SheetFormat::Xlsx).unwrap();
        // In CSV everything is text: the SIREN as a spreadsheet would export it.
        let mut text_rows = rows.clone();
        text_rows[1][Column::AcymaExpires as usize] = s("2027-06-30");
        text_rows[3][Column::Siren as usize] = s("012345674");
        let from_csv = read(&csv(&text_rows), SheetFormat::Csv).unwrap();
        assert_eq!(from_csv, from_xlsx);

        // French Excel: `;`, CRLF, a BOM.
        let mut french = b"\xEF\xBB\xBF".to_vec();
        french.extend(csv_with(&text_rows, b';', csv::Terminator::CRLF));
        assert_eq!(read(&french, SheetFormat::Csv).unwrap(), from_xlsx);
    }

    #[test]
    fn column_order_is_free() {
        let rows = two_rows_with_numbers_and_dates();
        let reversed: Vec<Vec<C>> = rows
            .iter()
            .map(|r| r.iter().rev().cloned().collect())
            .collect();
        let apps = read(&xlsx(&reversed), SheetFormat::Xlsx).unwrap();
        assert_eq!(apps, read(&xlsx(&rows), SheetFormat::Xlsx).unwrap());
    }

    #[test]
    fn garbage_is_not_a_spreadsheet() {
        let garbage = b"\x00\x01\x02 this is not a workbook \xff\xfe";
        assert!(matches!(
            read(garbage, SheetFormat::Xlsx),
            Err(ImportError::NotASpreadsheet(_))
        ));
        assert!(matches!(
            read(garbage, SheetFormat::Csv),
            Err(ImportError::NotASpreadsheet(_))
        ));
        let workbook = xlsx(&[header()]);
        assert!(matches!(
            read(&workbook, SheetFormat::Csv),
            Err(ImportError::NotASpreadsheet(_))
        ));
    }

    #[test]
    fn header_must_name_every_column_once() {
        let without = |rows: &[Vec<C>], name: &str| -> Vec<Vec<C>> {
            let at = Column::parse(name).unwrap() as usize;
            rows.iter()
                .map(|r| {
                    let mut r = r.clone();
                    r.remove(at);
                    r
                })
                .collect()
        };
        let rows = vec![header(), row(&[])];
        for bytes in [
            xlsx(&without(&rows, "acyma_evidence")),
            csv(&without(&rows, "acyma_evidence")),
        ] {
            for format in [SheetFormat::Xlsx, SheetFormat::Csv] {
                match read(&bytes, format) {
                    Err(ImportError::BadHeader(m)) => assert!(m.contains("acyma_evidence"), "{m}"),
                    Err(ImportError::NotASpreadsheet(_)) => {}
                    other => panic!("{other:?}"),
                }
            }
        }

        let mut unknown = header();
        unknown.push(s("favourite_colour"));
        match read(&xlsx(&[unknown]), SheetFormat::Xlsx) {
            Err(ImportError::BadHeader(m)) => {
                assert!(m.contains("\"favourite_colour\" (AA1)"), "{m}");
            }
            other => panic!("{other:?}"),
        }

        let mut twice = header();
        twice[2] = s("siren");
        match read(&csv(&[twice]), SheetFormat::Csv) {
            Err(ImportError::BadHeader(m)) => {
                assert!(m.contains("column \"siren\" twice (C1)"), "{m}");
                assert!(m.contains("missing column \"siret\""), "{m}");
            }
            other => panic!("{other:?}"),
        }

        match read(&xlsx(&[vec![], row(&[])]), SheetFormat::Xlsx) {
            Err(ImportError::BadHeader(m)) => assert!(m.contains("row 1 is empty"), "{m}"),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn a_workbook_without_rows_has_no_application() {
        assert_eq!(read(&xlsx(&[header()]), SheetFormat::Xlsx).unwrap(), []);
        assert_eq!(read(&csv(&[header()]), SheetFormat::Csv).unwrap(), []);
    }

    #[test]
    fn bad_siren_names_its_cell() {
        assert_eq!(
            problems(&[row(&[("siren", s("572104892")), ("siret", s(""))])]),
            ["B2: must be 9 digits with a valid check digit"]
        );
        // The SIRET is checked against the SIREN.
        assert_eq!(
            problems(&[row(&[("siret", s("73282932000074"))])]),
            ["C2: must be 14 digits starting with the SIREN, with a valid check digit"]
        );
        // Spaces, as the SIREN is often written, are fine.
        let rows = [header(), row(&[("siren", s("572 104 891"))])];
        assert_eq!(
            read(&csv(&rows), SheetFormat::Csv).unwrap()[0].file.siren,
            "572104891"
        );
    }

    #[test]
    fn a_qualification_needs_both_its_date_and_its_evidence() {
        assert_eq!(
            problems(&[row(&[("pris_evidence", s(""))])]),
            ["O2: required: PRIS is declared (it has an expiry date) and needs its evidence file"]
        );
        assert_eq!(
            problems(&[row(&[("passi_evidence", s("passi.pdf"))])]),
            ["P2: required: PASSI has an evidence file"]
        );
        assert_eq!(
            problems(&[row(&[(
                "other_qualifications",
                s("ISO 27001|2027-03-31|; |2027-01-01|x.pdf; Qualiopi")
            )])]),
            [
                "V2: \"ISO 27001|2027-03-31|\": the evidence file is required",
                "V2: \"|2027-01-01|x.pdf\": the qualification's name is required",
                "V2: \"Qualiopi\": expected name|YYYY-MM-DD|evidence-file",
            ]
        );
    }

    #[test]
    fn evidence_must_be_found() {
        assert_eq!(
            problems(&[row(&[("pris_evidence", s("missing.pdf"))])]),
            ["O2: file \"missing.pdf\" not found"]
        );
        assert_eq!(
            problems(&[row(&[(
                "other_qualifications",
                s("ISO 27001|2027-03-31|missing.pdf")
            )])]),
            ["V2: file \"missing.pdf\" not found"]
        );
        // A name is looked up in one directory and must stay in it.
        assert_eq!(
            problems(&[row(&[("pris_evidence", s("../pris.pdf"))])]),
            [
                "O2: \"../pris.pdf\": a plain file name is expected (no directory, not starting \
                 with a dot)"
            ]
        );
    }

    #[test]
    fn unknown_service_is_named() {
        assert_eq!(
            problems(&[row(&[("services_jhno", s("containment; forensics"))])]),
            [
                "L2: unknown service \"forensics\": one of qualification, collection, analysis, \
                 containment, remediation, post_incident"
            ]
        );
    }

    #[test]
    fn dates_are_iso() {
        for bad in ["2027-13-01", "31/12/2027", "2027-02-30", "next year"] {
            assert_eq!(
                problems(&[row(&[("pris_expires", s(bad))])]),
                ["N2: not a date: expected YYYY-MM-DD"],
                "{bad}"
            );
        }
        assert_eq!(
            problems(&[row(&[(
                "other_qualifications",
                s("ISO 27001|2027-02-30|iso27001.pdf")
            )])]),
            [
                "V2: \"ISO 27001|2027-02-30|iso27001.pdf\": \"2027-02-30\" is not a date (YYYY-MM-DD)"
            ]
        );
    }

    #[test]
    fn every_problem_of_every_row_is_reported() {
        let errors = problems(&[
            row(&[("siren", s("123")), ("siret", s(""))]),
            row(&[
                ("siren", s("732829320")),
                ("siret", s("")),
                ("services_jho", s("triage")),
                ("contact_email", s("not an address")),
            ]),
            vec![],
            row(&[
                ("siren", s("012345674")),
                ("siret", s("")),
                ("acyma_expires", s("soon")),
                ("website", s("http://plain.example")),
                ("catalogue_lists_incident_response", s("maybe")),
            ]),
            row(&[("siren", s("012345674")), ("siret", s(""))]),
        ]);
        assert_eq!(
            errors,
            [
                "B2: must be 9 digits with a valid check digit",
                "I3: not an e-mail address",
                "K3: unknown service \"triage\": one of qualification, collection, analysis, \
                 containment, remediation, post_incident",
                "D5: must be an https:// URL",
                "F5: expected yes or no (oui/non, true/false)",
                "T5: not a date: expected YYYY-MM-DD",
                "B6: the same SIREN as row 5: one application per provider",
            ]
        );
    }

    #[test]
    fn the_openpgp_key_is_an_armored_public_key() {
        assert_eq!(
            problems(&[row(&[("openpgp_key_file", s(""))])]),
            ["Z2: required: the file of the provider's armored OpenPGP public key"]
        );
        assert_eq!(
            problems(&[row(&[("openpgp_key_file", s("secret.asc"))])]),
            [
                "Z2: \"secret.asc\": this is a PRIVATE key: the provider must send its public key only"
            ]
        );
        assert_eq!(
            problems(&[row(&[("openpgp_key_file", s("garbage.asc"))])]),
            ["Z2: \"garbage.asc\": not an armored OpenPGP public key \
                 (-----BEGIN PGP PUBLIC KEY BLOCK-----)"]
        );
        assert_eq!(
            problems(&[row(&[("openpgp_key_file", s("nowhere.asc"))])]),
            ["Z2: file \"nowhere.asc\" not found"]
        );
    }

    #[test]
    fn cells_are_read_as_their_column_expects() {
        let rows = vec![
            header(),
            row(&[("catalogue_lists_incident_response", s("Non"))]),
        ];
        let apps = read(&xlsx(&rows), SheetFormat::Xlsx).unwrap();
        assert!(!apps[0].file.catalogue_lists_incident_response);

        let rows = vec![header(), row(&[("contact_phone", C::N(123_456_789.0))])];
        assert_eq!(
            read(&xlsx(&rows), SheetFormat::Xlsx),
            Err(ImportError::Rows(vec![CellError {
                cell: "J2".into(),
                message: "typed as a number, the phone number lost its leading 0 or +: type it \
                          as text"
                    .into()
            }]))
        );
        assert_eq!(
            problems(&[row(&[(
                "client_references",
                s("Client|Work|perhaps; |Nameless|no; Only a name")
            )])]),
            [
                "Y2: \"Client|Work|perhaps\": confidential must be yes or no",
                "Y2: \"|Nameless|no\": the client's name is required",
                "Y2: \"Only a name\": expected client|description|confidential (yes or no)",
            ]
        );
    }

    #[test]
    fn values_outside_the_columns_are_reported() {
        let mut long = row(&[]);
        long.push(s("stray"));
        assert_eq!(
            problems(&[long]),
            ["AA2: a value in a column without a header"]
        );

        let mut far = row(&[]);
        far.resize(100, s(""));
        far.push(s("far away"));
        let rows = vec![header(), far];
        match read(&xlsx(&rows), SheetFormat::Xlsx) {
            Err(ImportError::Rows(e)) => assert_eq!(
                e,
                [CellError {
                    cell: "CW2".into(),
                    message: "a value in a column without a header".into()
                }]
            ),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn a_huge_used_range_is_not_materialised() {
        // A1 to XFD1048576 is 17 billion cells if read as a dense range.
        let mut book = Workbook::new();
        let sheet = book.add_worksheet();
        for (c, name) in Column::ALL.iter().enumerate() {
            sheet.write_string(0, c as u16, name.name()).unwrap();
        }
        sheet.write_string(1_048_575, 16_383, "far").unwrap();
        let bytes = book.save_to_buffer().unwrap();
        match read(&bytes, SheetFormat::Xlsx) {
            Err(ImportError::Rows(e)) => assert_eq!(
                e,
                [CellError {
                    cell: "XFD1048576".into(),
                    message: "a value in a column without a header".into()
                }]
            ),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn csv_rows_are_numbered_as_a_spreadsheet_shows_them() {
        // A quoted cell over two lines, then a blank line: the bad SIREN is on row 4.
        let good = row(&[("staff_experience", s("line one\r\nline two"))]);
        let bad = row(&[("siren", s("572104892")), ("siret", s(""))]);
        let mut bytes = csv(&[header(), good]);
        bytes.extend_from_slice(b"\n");
        bytes.extend(csv(&[bad]));
        match read(&bytes, SheetFormat::Csv) {
            Err(ImportError::Rows(e)) => assert_eq!(e[0].cell, "B4", "{e:?}"),
            other => panic!("{other:?}"),
        }
        let good = row(&[("staff_experience", s("line one\r\nline two"))]);
        let apps = read(&csv(&[header(), good]), SheetFormat::Csv).unwrap();
        assert_eq!(apps[0].file.staff_experience, "line one\nline two");
    }

    #[test]
    fn csv_row_numbers() {
        let rows = |data: &[u8]| -> Vec<u32> {
            let mut reader = csv::ReaderBuilder::new()
                .has_headers(false)
                .flexible(true)
                .from_reader(data);
            let mut numbers = CsvRows::new(data);
            let mut record = csv::ByteRecord::new();
            let mut out = Vec::new();
            while reader.read_byte_record(&mut record).unwrap() {
                out.push(numbers.next(&record) + 1);
            }
            out
        };
        assert_eq!(rows(b"h\na\nb"), [1, 2, 3]);
        assert_eq!(rows(b"h\na\n\nb\n"), [1, 2, 4]);
        assert_eq!(rows(b"\n\nh\na\n\n\nb\n\n"), [3, 4, 7]);
        assert_eq!(rows(b"h\r\na\r\n\r\nb\r\n"), [1, 2, 4]);
        assert_eq!(rows(b"h\n\"x\ny\"\nb\n"), [1, 2, 3]);
        assert_eq!(
            rows(b"h\r\n\"x\r\n\r\ny\"\r\n\r\nb,\"\n\"\r\nc"),
            [1, 2, 4, 5]
        );
        assert_eq!(rows(b"h\n,,\nb"), [1, 2, 3]);
    }

    #[test]
    fn not_utf8_csv_is_reported_on_its_cell() {
        let mut bytes = csv(&[header()]);
        let mut line = csv(&[row(&[("legal_name", s("Soci\u{e9}t\u{e9}"))])]);
        // "Société" in Windows-1252, as Excel saves plain "CSV".
        let at = line.windows(2).position(|w| w == "é".as_bytes()).unwrap();
        line.splice(at..at + 2, [0xE9]);
        bytes.extend(line);
        match read(&bytes, SheetFormat::Csv) {
            Err(ImportError::Rows(e)) => assert_eq!(
                e[0].to_string(),
                "A2: not UTF-8 text: save the file as \"CSV UTF-8\""
            ),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn limits() {
        let big = vec![b'a'; MAX_SPREADSHEET_BYTES + 1];
        assert_eq!(
            read(&big, SheetFormat::Csv),
            Err(ImportError::TooLarge {
                size: MAX_SPREADSHEET_BYTES + 1
            })
        );

        let mut rows = "legal_name\n".to_owned();
        rows.push_str(&"x\n".repeat(MAX_APPLICATIONS + 1));
        assert_eq!(
            read(rows.as_bytes(), SheetFormat::Csv),
            Err(ImportError::TooManyRows)
        );

        let workbook = xlsx(&[header(), row(&[])]);
        assert_eq!(check_unpacked_size(&workbook, MAX_UNPACKED_BYTES), Ok(()));
        assert_eq!(
            check_unpacked_size(&workbook, 1000),
            Err(ImportError::TooLargeUnpacked)
        );
    }

    #[test]
    fn format_from_extension() {
        assert_eq!(
            SheetFormat::from_path(Path::new("a/b.XLSX")),
            Some(SheetFormat::Xlsx)
        );
        assert_eq!(
            SheetFormat::from_path(Path::new("b.csv")),
            Some(SheetFormat::Csv)
        );
        assert_eq!(SheetFormat::from_path(Path::new("b.xls")), None);
        assert_eq!(SheetFormat::from_path(Path::new("csv")), None);
    }

    #[test]
    fn cell_names() {
        assert_eq!(cell_name(0, 0), "A1");
        assert_eq!(cell_name(4, 25), "Z5");
        assert_eq!(cell_name(0, 26), "AA1");
        assert_eq!(cell_name(0, 701), "ZZ1");
        assert_eq!(cell_name(0, 702), "AAA1");
        let e = CellError {
            cell: "C5".into(),
            message: "siren must be 9 digits".into(),
        };
        assert_eq!(e.to_string(), "C5: siren must be 9 digits");
    }

    // The templates shipped in `templates/`.

    const TEMPLATE_XLSX: &[u8] = include_bytes!("../../templates/provider-application.xlsx");
    const TEMPLATE_CSV: &[u8] = include_bytes!("../../templates/provider-application.csv");

    /// What each column holds, for the template's second sheet (kept in step with
    /// `templates/README.md`).
    const GUIDE: [(&str, &str); 26] = [
        ("legal_name", "Legal name of the company (required)"),
        (
            "siren",
            "SIREN: 9 digits (required). Type it as text so a leading 0 is kept",
        ),
        (
            "siret",
            "SIRET of the establishment: 14 digits starting with the SIREN (optional)",
        ),
        (
            "website",
            "https:// address of the company's website (required)",
        ),
        (
            "catalogue_url",
            "https:// address of the public catalogue page listing the incident-response services (required)",
        ),
        (
            "catalogue_lists_incident_response",
            "yes or no: that page lists your incident-response services",
        ),
        ("contact_name", "Contact for the CSIRT (required)"),
        ("contact_role", "Their role (optional)"),
        ("contact_email", "Their e-mail address (required)"),
        ("contact_phone", "Their phone number, as text (optional)"),
        (
            "services_jho",
            "Services offered in business hours, separated by ';': qualification; collection; analysis; containment; remediation; post_incident",
        ),
        (
            "services_jhno",
            "Services offered outside business hours, same names",
        ),
        (
            "fields_of_competence",
            "Fields of competence, separated by ';'",
        ),
        (
            "pris_expires",
            "PRIS qualification: expiry date YYYY-MM-DD (empty if not held)",
        ),
        (
            "pris_evidence",
            "PRIS qualification: file name of the proof, sent with this sheet",
        ),
        (
            "passi_expires",
            "PASSI qualification: expiry date YYYY-MM-DD (empty if not held)",
        ),
        (
            "passi_evidence",
            "PASSI qualification: file name of the proof",
        ),
        (
            "expertcyber_expires",
            "ExpertCyber label: expiry date YYYY-MM-DD (empty if not held)",
        ),
        (
            "expertcyber_evidence",
            "ExpertCyber label: file name of the proof",
        ),
        (
            "acyma_expires",
            "ACYMA (cybermalveillance.gouv.fr) referencing: expiry date YYYY-MM-DD (empty if not held)",
        ),
        (
            "acyma_evidence",
            "ACYMA referencing: file name of the proof",
        ),
        (
            "other_qualifications",
            "Other qualifications, separated by ';', each name|YYYY-MM-DD|proof file name",
        ),
        (
            "staff_training",
            "Training and certifications of the staff (free text)",
        ),
        ("staff_experience", "Experience of the staff (free text)"),
        (
            "client_references",
            "Client references, separated by ';', each client|description|confidential (yes or no)",
        ),
        (
            "openpgp_key_file",
            "File name of your armored OpenPGP public key (.asc), sent with this sheet (required)",
        ),
    ];

    fn template_rows() -> Vec<Vec<C>> {
        vec![header(), row(&[])]
    }

    /// The template workbook: the applications sheet first (the one read), then the guide.
    fn template_xlsx() -> Vec<u8> {
        let mut book = Workbook::new();
        // Fixed, so that regenerating the template changes nothing when nothing changed.
        let created = XlsxDate::from_ymd(2026, 1, 1).unwrap();
        book.set_properties(
            &DocProperties::new()
                .set_title("relais: incident-response provider application")
                .set_creation_datetime(&created),
        );
        let bold = Format::new().set_bold();
        let text = Format::new().set_num_format("@");
        let sheet = book.add_worksheet();
        sheet.set_name("Application").unwrap();
        for (c, column) in Column::ALL.iter().enumerate() {
            let c = c as u16;
            sheet
                .write_string_with_format(0, c, column.name(), &bold)
                .unwrap();
            sheet.set_column_width(c, 24).unwrap();
            match column {
                // Typed as numbers, these lose their leading zeros.
                Column::Siren | Column::Siret | Column::ContactPhone => {
                    sheet.set_column_format(c, &text).unwrap();
                }
                Column::PrisExpires
                | Column::PassiExpires
                | Column::ExpertCyberExpires
                | Column::AcymaExpires => {
                    sheet.set_column_format(c, &date_format()).unwrap();
                }
                _ => {}
            }
        }
        sheet.set_freeze_panes(1, 0).unwrap();
        // Unformatted cells take their column's format, so the example row's SIREN is text
        // and the provider's typing over it stays text.
        for (c, cell) in row(&[]).into_iter().enumerate() {
            let c = c as u16;
            match cell {
                C::S(v) if v.is_empty() => {}
                C::S(v) => drop(sheet.write_string(1, c, v).unwrap()),
                C::D(y, m, d) => {
                    let date = XlsxDate::from_ymd(y, m, d).unwrap();
                    sheet
                        .write_datetime_with_format(1, c, &date, &date_format())
                        .unwrap();
                }
                other => panic!("the template writes no {other:?}"),
            }
        }
        let guide = book.add_worksheet();
        guide.set_name("Guide").unwrap();
        guide
            .write_string_with_format(0, 0, "column", &bold)
            .unwrap();
        guide
            .write_string_with_format(0, 1, "what to write", &bold)
            .unwrap();
        guide.set_column_width(0, 36).unwrap();
        guide.set_column_width(1, 120).unwrap();
        for (r, (column, what)) in GUIDE.iter().enumerate() {
            let r = r as u32 + 1;
            guide.write_string(r, 0, *column).unwrap();
            guide.write_string(r, 1, *what).unwrap();
        }
        book.save_to_buffer().unwrap()
    }

    /// Writes `templates/`: `cargo test --lib registry_import -- --ignored write_templates`.
    #[test]
    #[ignore = "writes the templates into the source tree"]
    fn write_templates() {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("templates");
        std::fs::write(dir.join("provider-application.xlsx"), template_xlsx()).unwrap();
        std::fs::write(dir.join("provider-application.csv"), csv(&template_rows())).unwrap();
    }

    #[test]
    fn guide_covers_every_column() {
        let names: Vec<_> = GUIDE.iter().map(|(n, _)| *n).collect();
        let columns: Vec<_> = Column::ALL.iter().map(|c| c.name()).collect();
        assert_eq!(names, columns);
    }

    #[test]
    fn shipped_templates_read() {
        let from_xlsx = read(TEMPLATE_XLSX, SheetFormat::Xlsx).unwrap();
        let from_csv = read(TEMPLATE_CSV, SheetFormat::Csv).unwrap();
        assert_eq!(from_xlsx.len(), 1);
        assert_eq!(from_xlsx, from_csv);
        let app = &from_xlsx[0];
        assert_eq!(app.row, 2);
        assert_eq!(app.file.siren, "572104891");
        assert_eq!(app.file.siret.as_deref(), Some("57210489100013"));
        assert_eq!(app.file.qualifications[0].kind, QualificationKind::Pris);
        assert_eq!(app.file.qualifications[0].expires, date!(2027 - 06 - 30));
        assert!(app.file.problems().is_empty());
        assert!(app.file.conditions().met());
        // The shipped files are the ones the generator writes (the workbook's dates are fixed,
        // so the bytes are too, until rust_xlsxwriter changes its output).
        let regenerate = "templates/ differ from the generator: \
                          cargo test --lib registry_import -- --ignored write_templates";
        assert!(TEMPLATE_CSV == csv(&template_rows()), "{regenerate}");
        assert!(TEMPLATE_XLSX == template_xlsx(), "{regenerate}");
    }
}
