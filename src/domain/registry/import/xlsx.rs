//! XLSX workbooks, read cell by cell from the first worksheet.

use std::fmt;
use std::io::Cursor;

use calamine::{DataRef, ExcelDateTime, ExcelDateTimeType, Reader, SheetType, Xlsx};
use time::{Date, Month};

use super::grid::{Grid, Value, parse_iso_date, text_value};
use super::{ImportError, MAX_UNPACKED_BYTES};

fn not_xlsx(e: impl fmt::Display) -> ImportError {
    ImportError::NotASpreadsheet(format!("not an XLSX workbook: {e}"))
}

pub(super) fn read_xlsx(bytes: &[u8]) -> Result<Grid, ImportError> {
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
pub(super) fn check_unpacked_size(bytes: &[u8], limit: u64) -> Result<(), ImportError> {
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
pub(super) fn serial_date(serial: f64) -> Option<Date> {
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
