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
//!
//! One module per concern: [`grid`] holds the cells of either format, [`xlsx`] and [`csv`]
//! fill it, [`columns`] maps the header to the template's columns, and [`rows`] turns each row
//! into an application or into the problems of its cells.

mod columns;
mod csv;
mod grid;
mod rows;
#[cfg(test)]
mod tests;
mod xlsx;

use std::fmt;
use std::path::Path;

/// Largest evidence file accepted (what the registry stores): every file of every row is held
/// in memory until the whole sheet has been checked.
pub use crate::domain::registry::file::MAX_EVIDENCE_BYTES;
use crate::domain::registry::file::ProviderFile;

/// Largest spreadsheet accepted, in bytes (5 MiB): a thousand rows of text take far less.
pub const MAX_SPREADSHEET_BYTES: usize = 5 * 1024 * 1024;
/// Most applications (non-empty rows after the header) in one spreadsheet.
pub const MAX_APPLICATIONS: usize = 1_000;
/// Most bytes the parts of an XLSX may unpack to (100 MiB): deflate can inflate a 5 MiB
/// file a thousandfold, and calamine holds the shared strings in memory.
pub const MAX_UNPACKED_BYTES: u64 = 100 * 1024 * 1024;
/// Largest OpenPGP key file accepted: a certificate with a photo is well under this.
pub const MAX_KEY_BYTES: usize = 1024 * 1024;
/// Cells past this column are not kept, only reported: the layout has 26 columns.
pub(super) const MAX_COLUMNS: u32 = 64;

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
    pub(super) fn new(name: &str, bytes: Vec<u8>) -> Self {
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
        SheetFormat::Xlsx => xlsx::read_xlsx(bytes)?,
        SheetFormat::Csv => csv::read_csv(bytes)?,
    };
    rows::applications(&grid, evidence)
}
