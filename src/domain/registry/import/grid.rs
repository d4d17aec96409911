//! The sheet as read from either format: a sparse grid of the cells that are not blank, and
//! what a cell may hold.

use std::collections::BTreeMap;

use time::{Date, Month};

use super::{ImportError, MAX_APPLICATIONS, MAX_COLUMNS};

/// A cell that is not blank.
#[derive(Debug, Clone, PartialEq)]
pub(super) enum Value {
    /// Trimmed, never empty, line breaks as `\n`.
    Text(String),
    Number(f64),
    Bool(bool),
    Date(Date),
    /// Nothing can be read from it (an Excel error, a duration, bytes that are not UTF-8): why.
    Unreadable(String),
}

#[derive(Debug, Default)]
pub(super) struct GridRow {
    /// By 0-based column, below `MAX_COLUMNS`.
    pub(super) cells: BTreeMap<u32, Value>,
    /// The first non-blank cell at or past `MAX_COLUMNS`.
    pub(super) stray: Option<u32>,
}

/// The non-blank cells, by 0-based row: blank rows are simply absent.
#[derive(Debug, Default)]
pub(super) struct Grid {
    pub(super) rows: BTreeMap<u32, GridRow>,
}

impl Grid {
    pub(super) fn put(&mut self, row: u32, col: u32, value: Value) -> Result<(), ImportError> {
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

pub(super) fn text_value(s: &str) -> Option<Value> {
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

/// `C5`: column letters as a spreadsheet shows them, row from 1.
pub(super) fn cell_name(row: u32, col: u32) -> String {
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

/// Whole numbers without `.0`: an identifier or a count typed as a number.
pub(super) fn number_text(n: f64) -> String {
    if n.fract() == 0.0 && n.abs() < 1e15 {
        format!("{n:.0}")
    } else {
        n.to_string()
    }
}

/// Exactly `YYYY-MM-DD`: `01/02/2027` is the 1st of February or the 2nd of January depending on
/// who typed it.
pub(super) fn parse_iso_date(s: &str) -> Option<Date> {
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::registry::import::CellError;

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
}
