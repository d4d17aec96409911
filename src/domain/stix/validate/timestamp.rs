//! STIX timestamps (§ 3.2): which strings are one (`YYYY-MM-DDTHH:MM:SS[.fraction]Z`, UTC
//! only, leap seconds read as the last instant of the minute) and what instant each names. The
//! text is kept as written, because relais stores and signs the bytes it received.

use std::fmt;

use time::{Date, Month, OffsetDateTime, PrimitiveDateTime, Time};

/// Why a timestamp is not one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum TimestampError {
    #[error("must be YYYY-MM-DDTHH:MM:SS[.fraction]Z (RFC 3339, UTC)")]
    Format,
    #[error("is not a valid date and time")]
    Range,
}

/// A STIX timestamp: the text as written, and its value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Timestamp {
    text: String,
    time: OffsetDateTime,
}

impl Timestamp {
    /// Parses `YYYY-MM-DDTHH:MM:SS[.fraction]Z`. A leap second (`23:59:60`) is read as
    /// `23:59:59.999999999`; fraction digits beyond the ninth are kept in the text only.
    pub fn parse(s: &str) -> Result<Self, TimestampError> {
        let b = s.as_bytes();
        if b.len() < 20 || b.last() != Some(&b'Z') {
            return Err(TimestampError::Format);
        }
        let num = |range: std::ops::Range<usize>| -> Result<u32, TimestampError> {
            let digits = b.get(range).ok_or(TimestampError::Format)?;
            digits.iter().try_fold(0u32, |acc, d| {
                if d.is_ascii_digit() {
                    Ok(acc * 10 + u32::from(d - b'0'))
                } else {
                    Err(TimestampError::Format)
                }
            })
        };
        let separators = [(4, b'-'), (7, b'-'), (10, b'T'), (13, b':'), (16, b':')];
        if separators.iter().any(|(i, c)| b[*i] != *c) {
            return Err(TimestampError::Format);
        }
        let (year, month, day) = (num(0..4)?, num(5..7)?, num(8..10)?);
        let (hour, minute, mut second) = (num(11..13)?, num(14..16)?, num(17..19)?);
        let mut nanos = 0u32;
        match &b[19..b.len() - 1] {
            [] => {}
            [b'.', fraction @ ..] if !fraction.is_empty() => {
                if !fraction.iter().all(u8::is_ascii_digit) {
                    return Err(TimestampError::Format);
                }
                for i in 0..9 {
                    nanos = nanos * 10 + fraction.get(i).map_or(0, |d| u32::from(d - b'0'));
                }
            }
            _ => return Err(TimestampError::Format),
        }
        if second == 60 {
            if hour != 23 || minute != 59 {
                return Err(TimestampError::Range);
            }
            second = 59;
            nanos = 999_999_999;
        }
        let month = u8::try_from(month)
            .ok()
            .and_then(|m| Month::try_from(m).ok())
            .ok_or(TimestampError::Range)?;
        let year = i32::try_from(year).map_err(|_| TimestampError::Range)?;
        let small = |v: u32| u8::try_from(v).map_err(|_| TimestampError::Range);
        let date = Date::from_calendar_date(year, month, small(day)?)
            .map_err(|_| TimestampError::Range)?;
        let time = Time::from_hms_nano(small(hour)?, small(minute)?, small(second)?, nanos)
            .map_err(|_| TimestampError::Range)?;
        Ok(Self {
            text: s.to_owned(),
            time: PrimitiveDateTime::new(date, time).assume_utc(),
        })
    }

    /// The timestamp exactly as written.
    pub fn as_str(&self) -> &str {
        &self.text
    }

    pub fn time(&self) -> OffsetDateTime {
        self.time
    }

    /// How many digits follow the decimal point (0 when there is none).
    pub fn fraction_digits(&self) -> usize {
        // The text is ASCII and 20 bytes at least: "…:SS" ends at 19, "Z" is last.
        self.text.len().saturating_sub(21)
    }
}

impl fmt::Display for Timestamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    #[test]
    fn timestamps() {
        for good in [
            "2016-04-06T20:03:48Z",
            "2016-04-06T20:03:48.1Z",
            "2016-04-06T20:03:48.123456789123Z",
            "2016-12-31T23:59:60Z",
            "2000-02-29T00:00:00Z",
        ] {
            assert!(Timestamp::parse(good).is_ok(), "{good}");
        }
        for (bad, error) in [
            ("2016-04-06T20:03:48", TimestampError::Format),
            ("2016-04-06T20:03:48+00:00", TimestampError::Format),
            ("2016-04-06t20:03:48z", TimestampError::Format),
            ("2016-04-06T20:03:48.Z", TimestampError::Format),
            ("2016-4-06T20:03:48Z", TimestampError::Format),
            ("2016-04-06T20:03:48.1a2Z", TimestampError::Format),
            ("+016-04-06T20:03:48Z", TimestampError::Format),
            ("2016-02-30T20:03:48Z", TimestampError::Range),
            ("1900-02-29T20:03:48Z", TimestampError::Range),
            ("2016-13-06T20:03:48Z", TimestampError::Range),
            ("2016-04-06T24:00:00Z", TimestampError::Range),
            ("2016-04-06T20:60:48Z", TimestampError::Range),
            ("2016-04-06T20:03:60Z", TimestampError::Range),
        ] {
            assert_eq!(Timestamp::parse(bad), Err(error), "{bad}");
        }
        let t = Timestamp::parse("2016-04-06T20:03:48.123456789123Z").unwrap();
        assert_eq!(t.fraction_digits(), 12);
        assert_eq!(t.time().nanosecond(), 123_456_789);
        assert_eq!(t.as_str(), "2016-04-06T20:03:48.123456789123Z");
        let leap = Timestamp::parse("2016-12-31T23:59:60Z").unwrap();
        assert_eq!(leap.time().second(), 59);
    }
}
