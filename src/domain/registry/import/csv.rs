//! CSV files, as Excel saves them (UTF-8 with or without a BOM, `,` or `;`), with rows
//! numbered as a spreadsheet shows them.

use super::ImportError;
use super::grid::{Grid, Value, text_value};

pub(super) fn read_csv(bytes: &[u8]) -> Result<Grid, ImportError> {
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
    let mut reader = ::csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .delimiter(delimiter(bytes))
        .from_reader(bytes);
    let mut grid = Grid::default();
    let mut rows = CsvRows::new(bytes);
    let mut record = ::csv::ByteRecord::new();
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
pub(super) struct CsvRows<'a> {
    bytes: &'a [u8],
    /// Bytes before this have been counted.
    scanned: usize,
    breaks: usize,
    /// Line breaks inside the fields of the records so far.
    inside: usize,
}

impl<'a> CsvRows<'a> {
    pub(super) fn new(bytes: &'a [u8]) -> Self {
        Self {
            bytes,
            scanned: 0,
            breaks: 0,
            inside: 0,
        }
    }

    /// The 0-based row of `record`, the records coming in order.
    pub(super) fn next(&mut self, record: &::csv::ByteRecord) -> u32 {
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

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn csv_row_numbers() {
        let rows = |data: &[u8]| -> Vec<u32> {
            let mut reader = ::csv::ReaderBuilder::new()
                .has_headers(false)
                .flexible(true)
                .from_reader(data);
            let mut numbers = CsvRows::new(data);
            let mut record = ::csv::ByteRecord::new();
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
}
