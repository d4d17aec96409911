//! The hub's calendar: rules that count calendar years (a provider updates its file at least
//! once per calendar year, art. 4) count them on the island, not in UTC. New Year in Réunion
//! is 20:00 UTC on 31 December, so a file updated that evening belongs to the new year there.
//!
//! Times stay `time::OffsetDateTime` throughout the crate; `jiff`, with its bundled copy of the
//! IANA database, only answers the zone's offset at an instant (an instant converts to it
//! losslessly as Unix seconds), and `time` applies that offset.

use std::sync::LazyLock;

use jiff::tz::{Offset, TimeZone};
use time::{OffsetDateTime, UtcOffset};

/// The time zone of the reference deployment (CSIRT La Réunion).
pub const HUB_TIME_ZONE: &str = "Indian/Reunion";

/// Réunion's offset: UTC+4 since 1911, without daylight saving. What the zone answers when the
/// database cannot (an instant outside its range, or a zone missing from it, which a test rules
/// out for the bundled database).
const STANDARD_OFFSET_HOURS: i8 = 4;

static ZONE: LazyLock<TimeZone> = LazyLock::new(|| {
    TimeZone::get(HUB_TIME_ZONE)
        .unwrap_or_else(|_| TimeZone::fixed(Offset::constant(STANDARD_OFFSET_HOURS)))
});

/// The hub zone's offset from UTC at `at`.
fn offset_at(at: OffsetDateTime) -> UtcOffset {
    let seconds = jiff::Timestamp::from_second(at.unix_timestamp())
        .map_or(i32::from(STANDARD_OFFSET_HOURS) * 3600, |instant| {
            ZONE.to_offset(instant).seconds()
        });
    UtcOffset::from_whole_seconds(seconds).unwrap_or(UtcOffset::UTC)
}

/// `at` as the hub's wall clock shows it (the same instant).
pub fn local(at: OffsetDateTime) -> OffsetDateTime {
    // Out of `time`'s range only within hours of year ±9999: the instant as given then.
    at.checked_to_offset(offset_at(at)).unwrap_or(at)
}

/// The calendar year `at` falls in, in the hub's time zone.
pub fn calendar_year(at: OffsetDateTime) -> i32 {
    local(at).year()
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::{datetime, offset};

    #[test]
    fn the_bundled_database_knows_the_zone() {
        let zone = TimeZone::get(HUB_TIME_ZONE).unwrap();
        let instant =
            jiff::Timestamp::from_second(datetime!(2026-07-01 0:00 UTC).unix_timestamp()).unwrap();
        assert_eq!(zone.to_offset(instant).seconds(), 4 * 3600);
    }

    #[test]
    fn new_year_comes_four_hours_before_utc() {
        // 21:00 UTC on 31 December 2026 is 01:00 on 1 January 2027 in Réunion.
        let evening = datetime!(2026-12-31 21:00 UTC);
        assert_eq!(evening.year(), 2026);
        assert_eq!(calendar_year(evening), 2027);
        assert_eq!(local(evening), datetime!(2027-01-01 01:00 +4));
        assert_eq!(local(evening).offset(), offset!(+4));
        assert_eq!(local(evening), evening, "the same instant");
        // Up to 20:00 UTC it is still the old year there.
        assert_eq!(calendar_year(datetime!(2026-12-31 19:59:59 UTC)), 2026);
        assert_eq!(calendar_year(datetime!(2026-12-31 20:00 UTC)), 2027);
    }

    #[test]
    fn any_offset_given_is_the_same_instant() {
        assert_eq!(calendar_year(datetime!(2027-01-01 00:30 +5)), 2026);
        assert_eq!(calendar_year(datetime!(2026-12-31 18:30 -3)), 2027);
    }

    #[test]
    fn the_ends_of_times_range_do_not_fail() {
        assert_eq!(
            calendar_year(datetime!(9999-12-31 23:00 UTC)),
            9999,
            "no year 10000: the instant is kept as given"
        );
        assert_eq!(calendar_year(datetime!(-9999-01-01 0:00 UTC)), -9999);
    }
}
