//! How values are written in columns both backends share: the encoding the SQL filters
//! (`visibility`) and the row code (`portable`) must agree on, kept apart from both.

use super::StoreError;

/// A time as stored: microseconds since the Unix epoch, an integer on both backends so that
/// it compares and indexes alike (SQLite would compare timestamp text).
pub(super) fn micros(at: time::OffsetDateTime) -> i64 {
    i64::try_from(at.unix_timestamp_nanos() / 1000).unwrap_or(i64::MAX)
}

pub(super) fn from_micros(us: i64) -> Result<time::OffsetDateTime, StoreError> {
    time::OffsetDateTime::from_unix_timestamp_nanos(i128::from(us) * 1000)
        .map_err(|e| StoreError::Corrupt(format!("stored time {us}: {e}")))
}
