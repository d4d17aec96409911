//! Business calendars: a time zone, a weekly schedule of opening intervals, and public holidays
//! (fixed dates, Easter-based ones computed, one-off dates). They are configuration
//! (`policies/calendars/NAME.toml`), parsed here into a `Calendar` that answers, for instants
//! stored in UTC, what counts as business time in its own local time.
//!
//! Local time comes from `jiff` and its bundled copy of the IANA database, so that a host's
//! missing or stale tzdata cannot move a deadline. A schedule interval is turned into UTC day by
//! day: across a DST change an interval lasts what the clocks on the wall say it lasts (an hour
//! that does not exist is not business time; an hour that happens twice is counted twice).

use std::collections::BTreeMap;
use std::fmt;

use jiff::tz::TimeZone;
use serde::Deserialize;
use time::{Date, Duration, Month, OffsetDateTime, Weekday};

/// How far ahead the calendar looks for business time before it gives up: a schedule whose
/// holidays swallow ten years is a mistake, not a deadline.
const HORIZON_DAYS: i64 = 3660;

const MINUTES_PER_DAY: u16 = 24 * 60;

/// `policies/calendars/reunion.toml` as shipped.
pub const SHIPPED_REUNION: &str = include_str!("../../../policies/calendars/reunion.toml");

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum CalendarError {
    #[error("calendar {0}: {1}")]
    Invalid(String, String),
    #[error("calendar {0} has no business time within ten years of {1}")]
    NoBusinessTime(String, OffsetDateTime),
    #[error("{0} does not exist in {1} (the clocks skip it)")]
    NoSuchLocalTime(String, String),
    #[error("{0} is out of the calendar's range")]
    OutOfRange(String),
}

/// One opening interval of a day, in minutes since local midnight: [start, end).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Opening {
    start: u16,
    end: u16,
}

#[derive(Debug, Clone, PartialEq, Eq)]
struct Named<T> {
    when: T,
    name: String,
}

/// A business calendar, checked: intervals in order and apart, a week with some business time,
/// a time zone the bundled database knows.
#[derive(Clone)]
pub struct Calendar {
    name: String,
    zone: String,
    tz: TimeZone,
    /// Monday first.
    week: [Vec<Opening>; 7],
    fixed: Vec<Named<(Month, u8)>>,
    /// Days after Easter Sunday (1 = Easter Monday, 39 = Ascension, 50 = Whit Monday).
    easter: Vec<Named<i16>>,
    one_off: Vec<Named<Date>>,
}

/// The calendar with its holidays is what the cases' business hours (JHO) are too.
impl crate::domain::cases::hours::BusinessCalendar for Calendar {
    fn is_business_time(&self, at: OffsetDateTime) -> bool {
        Calendar::is_business_time(self, at)
    }
}

impl fmt::Debug for Calendar {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Calendar")
            .field("name", &self.name)
            .field("zone", &self.zone)
            .finish_non_exhaustive()
    }
}

/// `policies/calendars/NAME.toml`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct CalendarFile {
    time_zone: String,
    #[serde(default)]
    week: Option<WeekFile>,
    #[serde(default)]
    holidays: HolidaysFile,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct WeekFile {
    #[serde(default)]
    monday: Vec<String>,
    #[serde(default)]
    tuesday: Vec<String>,
    #[serde(default)]
    wednesday: Vec<String>,
    #[serde(default)]
    thursday: Vec<String>,
    #[serde(default)]
    friday: Vec<String>,
    #[serde(default)]
    saturday: Vec<String>,
    #[serde(default)]
    sunday: Vec<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct HolidaysFile {
    /// `{ date = "MM-DD", name = "…" }`, every year.
    #[serde(default)]
    fixed: Vec<DatedFile>,
    #[serde(default)]
    good_friday: bool,
    #[serde(default)]
    easter_monday: bool,
    #[serde(default)]
    ascension: bool,
    /// Whit Monday is often a worked "solidarity day" (journée de solidarité): a switch.
    #[serde(default)]
    whit_monday: bool,
    /// `{ date = "YYYY-MM-DD", name = "…" }`, once.
    #[serde(default)]
    one_off: Vec<DatedFile>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct DatedFile {
    date: String,
    name: String,
}

fn parse_hhmm(s: &str) -> Option<u16> {
    let (h, m) = s.trim().split_once(':')?;
    let digits = |x: &str| x.len() == 2 && x.bytes().all(|b| b.is_ascii_digit());
    if !digits(h) || !digits(m) {
        return None;
    }
    let h: u16 = h.parse().ok()?;
    let m: u16 = m.parse().ok()?;
    let total = h.checked_mul(60)?.checked_add(m)?;
    (m < 60 && total <= MINUTES_PER_DAY).then_some(total)
}

fn parse_day(name: &str, day: &str, intervals: &[String]) -> Result<Vec<Opening>, CalendarError> {
    let bad = |why: String| CalendarError::Invalid(name.to_owned(), format!("{day}: {why}"));
    let mut out: Vec<Opening> = Vec::with_capacity(intervals.len());
    for text in intervals {
        let (a, b) = text
            .split_once('-')
            .ok_or_else(|| bad(format!("{text:?} is not HH:MM-HH:MM")))?;
        let (Some(start), Some(end)) = (parse_hhmm(a), parse_hhmm(b)) else {
            return Err(bad(format!("{text:?} is not HH:MM-HH:MM (00:00 to 24:00)")));
        };
        if end <= start {
            return Err(bad(format!("{text:?} ends before it starts")));
        }
        if out.last().is_some_and(|prev| prev.end > start) {
            return Err(bad(format!(
                "{text:?} overlaps or precedes the interval before it (list them in order)"
            )));
        }
        out.push(Opening { start, end });
    }
    Ok(out)
}

fn reference_day() -> Vec<Opening> {
    vec![
        Opening {
            start: 8 * 60,
            end: 12 * 60,
        },
        Opening {
            start: 13 * 60,
            end: 17 * 60,
        },
    ]
}

/// Easter Sunday of a Gregorian year (the anonymous Gregorian algorithm, Meeus/Jones/Butcher).
pub fn easter_sunday(year: i32) -> Option<Date> {
    let a = year % 19;
    let b = year / 100;
    let c = year % 100;
    let d = b / 4;
    let e = b % 4;
    let f = (b + 8) / 25;
    let g = (b - f + 1) / 3;
    let h = (19 * a + b - d - g + 15) % 30;
    let i = c / 4;
    let k = c % 4;
    let l = (32 + 2 * e + 2 * i - h - k) % 7;
    let m = (a + 11 * h + 22 * l) / 451;
    let month = (h + l - 7 * m + 114) / 31;
    let day = (h + l - 7 * m + 114) % 31 + 1;
    let month = Month::try_from(u8::try_from(month).ok()?).ok()?;
    Date::from_calendar_date(year, month, u8::try_from(day).ok()?).ok()
}

fn weekday_index(d: Weekday) -> usize {
    d.number_days_from_monday() as usize
}

fn to_jiff(at: OffsetDateTime) -> Option<jiff::Timestamp> {
    jiff::Timestamp::from_second(at.unix_timestamp()).ok()
}

fn from_jiff(ts: jiff::Timestamp) -> Option<OffsetDateTime> {
    OffsetDateTime::from_unix_timestamp(ts.as_second()).ok()
}

impl Calendar {
    /// Parses and checks a calendar file; `name` is the file's stem, used in messages and by
    /// the contracts that name the calendar.
    pub fn parse(name: &str, text: &str) -> Result<Self, CalendarError> {
        let invalid = |why: String| CalendarError::Invalid(name.to_owned(), why);
        let file: CalendarFile =
            toml::from_str(text).map_err(|e| invalid(e.message().to_owned()))?;
        let tz = TimeZone::get(&file.time_zone)
            .map_err(|_| invalid(format!("unknown time zone {:?}", file.time_zone)))?;
        let week = match &file.week {
            None => {
                let d = reference_day();
                [
                    d.clone(),
                    d.clone(),
                    d.clone(),
                    d.clone(),
                    d,
                    Vec::new(),
                    Vec::new(),
                ]
            }
            Some(w) => [
                parse_day(name, "monday", &w.monday)?,
                parse_day(name, "tuesday", &w.tuesday)?,
                parse_day(name, "wednesday", &w.wednesday)?,
                parse_day(name, "thursday", &w.thursday)?,
                parse_day(name, "friday", &w.friday)?,
                parse_day(name, "saturday", &w.saturday)?,
                parse_day(name, "sunday", &w.sunday)?,
            ],
        };
        if week.iter().all(Vec::is_empty) {
            return Err(invalid("the week has no business hours".to_owned()));
        }
        let mut fixed = Vec::new();
        for h in &file.holidays.fixed {
            let when = h
                .date
                .split_once('-')
                .and_then(|(m, d)| {
                    let m = Month::try_from(m.parse::<u8>().ok()?).ok()?;
                    let d = d.parse::<u8>().ok()?;
                    // Valid in a leap year at least (29 February is allowed, and then is a
                    // holiday only in leap years).
                    Date::from_calendar_date(2024, m, d).ok()?;
                    Some((m, d))
                })
                .ok_or_else(|| invalid(format!("fixed holiday {:?}: date is not MM-DD", h.date)))?;
            fixed.push(Named {
                when,
                name: h.name.clone(),
            });
        }
        let mut easter = Vec::new();
        let switches = [
            (file.holidays.good_friday, -2, "Good Friday"),
            (file.holidays.easter_monday, 1, "Easter Monday"),
            (file.holidays.ascension, 39, "Ascension"),
            (file.holidays.whit_monday, 50, "Whit Monday"),
        ];
        for (on, offset, label) in switches {
            if on {
                easter.push(Named {
                    when: offset,
                    name: label.to_owned(),
                });
            }
        }
        let format = time::macros::format_description!("[year]-[month]-[day]");
        let mut one_off = Vec::new();
        for h in &file.holidays.one_off {
            let when = Date::parse(&h.date, &format).map_err(|_| {
                invalid(format!(
                    "one-off holiday {:?}: date is not YYYY-MM-DD",
                    h.date
                ))
            })?;
            one_off.push(Named {
                when,
                name: h.name.clone(),
            });
        }
        Ok(Self {
            name: name.to_owned(),
            zone: file.time_zone,
            tz,
            week,
            fixed,
            easter,
            one_off,
        })
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    /// The IANA name of the calendar's time zone.
    pub fn zone(&self) -> &str {
        &self.zone
    }

    /// The holidays of a year, in date order, with their names.
    pub fn holidays(&self, year: i32) -> Vec<(Date, String)> {
        let mut out = BTreeMap::new();
        for h in &self.fixed {
            if let Ok(d) = Date::from_calendar_date(year, h.when.0, h.when.1) {
                out.entry(d).or_insert_with(|| h.name.clone());
            }
        }
        if let Some(sunday) = easter_sunday(year) {
            for h in &self.easter {
                if let Some(d) = sunday.checked_add(Duration::days(i64::from(h.when))) {
                    out.entry(d).or_insert_with(|| h.name.clone());
                }
            }
        }
        for h in &self.one_off {
            if h.when.year() == year {
                out.entry(h.when).or_insert_with(|| h.name.clone());
            }
        }
        out.into_iter().collect()
    }

    /// The name of the holiday on `date`, if it is one.
    pub fn holiday(&self, date: Date) -> Option<String> {
        if let Some(h) = self
            .fixed
            .iter()
            .find(|h| h.when == (date.month(), date.day()))
        {
            return Some(h.name.clone());
        }
        if let Some(sunday) = easter_sunday(date.year()) {
            let offset = (date - sunday).whole_days();
            if let Some(h) = self.easter.iter().find(|h| i64::from(h.when) == offset) {
                return Some(h.name.clone());
            }
        }
        self.one_off
            .iter()
            .find(|h| h.when == date)
            .map(|h| h.name.clone())
    }

    fn openings(&self, date: Date) -> &[Opening] {
        if self.holiday(date).is_some() {
            return &[];
        }
        &self.week[weekday_index(date.weekday())]
    }

    /// A working day has business hours and is not a holiday.
    pub fn is_working_day(&self, date: Date) -> bool {
        !self.openings(date).is_empty()
    }

    /// Whether `at` falls in an opening interval of a working day, local time.
    pub fn is_business_time(&self, at: OffsetDateTime) -> bool {
        let (Some(ts), Some(date)) = (to_jiff(at), self.local_date(at)) else {
            return false;
        };
        let civil = self.tz.to_datetime(ts);
        let minute = i32::from(civil.hour()) * 60 + i32::from(civil.minute());
        self.openings(date)
            .iter()
            .any(|o| i32::from(o.start) <= minute && minute < i32::from(o.end))
    }

    /// The local date of an instant.
    pub fn local_date(&self, at: OffsetDateTime) -> Option<Date> {
        let civil = self.tz.to_datetime(to_jiff(at)?);
        let month = Month::try_from(u8::try_from(civil.month()).ok()?).ok()?;
        Date::from_calendar_date(
            i32::from(civil.year()),
            month,
            u8::try_from(civil.day()).ok()?,
        )
        .ok()
    }

    /// An instant as the calendar's wall clock shows it: `YYYY-MM-DD HH:MM`.
    pub fn local_text(&self, at: OffsetDateTime) -> String {
        match to_jiff(at) {
            Some(ts) => self
                .tz
                .to_datetime(ts)
                .strftime("%Y-%m-%d %H:%M")
                .to_string(),
            None => at.to_string(),
        }
    }

    /// The UTC instant of a local date and minute of the day (0..=1440; 1440 is the next
    /// midnight). A time the clocks skip moves forward by the gap, as wall clocks do; a time
    /// that happens twice is its first occurrence.
    fn instant(&self, date: Date, minute: u16) -> Option<OffsetDateTime> {
        let (date, minute) = if minute >= MINUTES_PER_DAY {
            (date.next_day()?, minute - MINUTES_PER_DAY)
        } else {
            (date, minute)
        };
        let civil = jiff::civil::DateTime::new(
            i16::try_from(date.year()).ok()?,
            i8::try_from(u8::from(date.month())).ok()?,
            i8::try_from(date.day()).ok()?,
            i8::try_from(minute / 60).ok()?,
            i8::try_from(minute % 60).ok()?,
            0,
            0,
        )
        .ok()?;
        let ts = self.tz.to_ambiguous_timestamp(civil).compatible().ok()?;
        from_jiff(ts)
    }

    /// Reads a local wall-clock time (`YYYY-MM-DDTHH:MM`, or with a space). A time the clocks
    /// skip (02:30 on a spring-forward night) is refused rather than guessed; a time that
    /// happens twice is its first occurrence.
    pub fn parse_local(&self, text: &str) -> Result<OffsetDateTime, CalendarError> {
        let civil: jiff::civil::DateTime =
            text.trim().replacen(' ', "T", 1).parse().map_err(|_| {
                CalendarError::OutOfRange(format!("{text:?} is not YYYY-MM-DDTHH:MM"))
            })?;
        let ambiguous = self.tz.to_ambiguous_timestamp(civil);
        if matches!(ambiguous.offset(), jiff::tz::AmbiguousOffset::Gap { .. }) {
            return Err(CalendarError::NoSuchLocalTime(
                text.trim().to_owned(),
                self.zone.clone(),
            ));
        }
        let ts = ambiguous
            .earlier()
            .map_err(|e| CalendarError::OutOfRange(e.to_string()))?;
        from_jiff(ts).ok_or_else(|| CalendarError::OutOfRange(text.to_owned()))
    }

    /// The business intervals of one local day, in UTC, in order.
    fn day_intervals(&self, date: Date) -> impl Iterator<Item = (OffsetDateTime, OffsetDateTime)> {
        self.openings(date)
            .iter()
            .filter_map(move |o| Some((self.instant(date, o.start)?, self.instant(date, o.end)?)))
            .filter(|(a, b)| a < b)
    }

    /// Business intervals from `from` on (the first one clipped to start at `from`), until
    /// the horizon.
    fn intervals_from(
        &self,
        from: OffsetDateTime,
    ) -> impl Iterator<Item = (OffsetDateTime, OffsetDateTime)> {
        // The day before too: nothing here crosses midnight locally, but the UTC day of
        // `from` and its local day differ by the zone's offset.
        let first = self
            .local_date(from)
            .and_then(Date::previous_day)
            .unwrap_or(Date::MIN);
        (0..=HORIZON_DAYS)
            .map_while(move |i| first.checked_add(Duration::days(i)))
            .flat_map(move |d| self.day_intervals(d).collect::<Vec<_>>())
            .filter(move |(_, end)| *end > from)
            .map(move |(start, end)| (start.max(from), end))
    }

    /// The instant at which `amount` of business time has passed since `from`. When it runs
    /// out exactly at the end of an interval, that end (17:00 on Friday, not 08:00 on Monday).
    pub fn add_business(
        &self,
        from: OffsetDateTime,
        amount: Duration,
    ) -> Result<OffsetDateTime, CalendarError> {
        if amount <= Duration::ZERO {
            return Ok(from);
        }
        let mut left = amount;
        for (start, end) in self.intervals_from(from) {
            let length = end - start;
            if length >= left {
                return Ok(start + left);
            }
            left -= length;
        }
        Err(CalendarError::NoBusinessTime(self.name.clone(), from))
    }

    /// Business time within [a, b).
    pub fn business_between(&self, a: OffsetDateTime, b: OffsetDateTime) -> Duration {
        if b <= a {
            return Duration::ZERO;
        }
        self.intervals_from(a)
            .take_while(|(start, _)| *start < b)
            .map(|(start, end)| end.min(b) - start)
            .sum()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::{date, datetime};

    pub(crate) const REUNION: &str = SHIPPED_REUNION;

    pub(crate) fn reunion() -> Calendar {
        Calendar::parse("reunion", REUNION).unwrap()
    }

    /// Paris with a round-the-clock Sunday, to see the DST changes inside business time.
    pub(crate) fn paris() -> Calendar {
        Calendar::parse(
            "paris",
            r#"
time_zone = "Europe/Paris"
[week]
monday = ["09:00-12:30", "14:00-18:00"]
tuesday = ["09:00-12:30", "14:00-18:00"]
wednesday = ["09:00-12:30", "14:00-18:00"]
thursday = ["09:00-12:30", "14:00-18:00"]
friday = ["09:00-12:30", "14:00-18:00"]
sunday = ["00:00-24:00"]
[holidays]
fixed = [{ date = "01-01", name = "Jour de l'an" }, { date = "05-01", name = "Fête du Travail" }]
easter_monday = true
"#,
        )
        .unwrap()
    }

    #[test]
    fn easter_on_known_years() {
        assert_eq!(easter_sunday(2024), Some(date!(2024 - 03 - 31)));
        assert_eq!(easter_sunday(2025), Some(date!(2025 - 04 - 20)));
        assert_eq!(easter_sunday(2026), Some(date!(2026 - 04 - 05)));
        assert_eq!(easter_sunday(2027), Some(date!(2027 - 03 - 28)));
        assert_eq!(easter_sunday(2028), Some(date!(2028 - 04 - 16)));
        assert_eq!(easter_sunday(2038), Some(date!(2038 - 04 - 25)));
        assert_eq!(easter_sunday(2285), Some(date!(2285 - 03 - 22)));
    }

    #[test]
    fn the_reunion_holidays_of_2026_and_2027() {
        let c = reunion();
        let dates = |y| {
            c.holidays(y)
                .into_iter()
                .map(|(d, _)| d)
                .collect::<Vec<_>>()
        };
        assert_eq!(
            dates(2026),
            vec![
                date!(2026 - 01 - 01),
                date!(2026 - 04 - 06), // Easter Monday
                date!(2026 - 05 - 01),
                date!(2026 - 05 - 08),
                date!(2026 - 05 - 14), // Ascension
                date!(2026 - 05 - 25), // Whit Monday
                date!(2026 - 07 - 14),
                date!(2026 - 08 - 15),
                date!(2026 - 11 - 01),
                date!(2026 - 11 - 11),
                date!(2026 - 12 - 20), // abolition of slavery, La Réunion
                date!(2026 - 12 - 25),
            ]
        );
        assert_eq!(
            dates(2027),
            vec![
                date!(2027 - 01 - 01),
                date!(2027 - 03 - 29),
                date!(2027 - 05 - 01),
                date!(2027 - 05 - 06),
                date!(2027 - 05 - 08),
                date!(2027 - 05 - 17),
                date!(2027 - 07 - 14),
                date!(2027 - 08 - 15),
                date!(2027 - 11 - 01),
                date!(2027 - 11 - 11),
                date!(2027 - 12 - 20),
                date!(2027 - 12 - 25),
            ]
        );
        // Every one of them is a day off, whatever its weekday; the days around are not.
        for year in [2026, 2027] {
            for (d, name) in c.holidays(year) {
                assert!(!c.is_working_day(d), "{d} {name}");
                assert_eq!(c.holiday(d), Some(name));
            }
        }
        assert!(c.is_working_day(date!(2026 - 05 - 26)));
        assert!(c.is_working_day(date!(2026 - 12 - 21)));
    }

    #[test]
    fn business_time_is_the_schedule_on_working_days() {
        let c = reunion();
        // Thursday 3 December 2026, 09:00 local; 12:30 is lunch; 17:00 closed.
        assert!(c.is_business_time(datetime!(2026-12-03 05:00 UTC)));
        assert!(!c.is_business_time(datetime!(2026-12-03 08:30 UTC)));
        assert!(c.is_business_time(datetime!(2026-12-03 12:59 UTC)));
        assert!(!c.is_business_time(datetime!(2026-12-03 13:00 UTC)));
        // Friday 25 December, 10:00 local: Christmas.
        assert!(!c.is_business_time(datetime!(2026-12-25 06:00 UTC)));
        assert!(c.is_business_time(datetime!(2026-12-24 06:00 UTC)));
    }

    #[test]
    fn whit_monday_is_a_switch() {
        let worked = REUNION.replace("whit_monday = true", "whit_monday = false");
        assert_ne!(worked, REUNION);
        let c = Calendar::parse("reunion", &worked).unwrap();
        assert!(c.is_working_day(date!(2026 - 05 - 25)));
        assert!(!c.is_working_day(date!(2026 - 05 - 14)));
    }

    #[test]
    fn business_time_skips_nights_lunch_weekends_and_holidays() {
        let c = reunion();
        // Friday 22 May 2026, 16:00 in Réunion (UTC+4) = 12:00 UTC; Monday 25 is Whit Monday.
        let start = datetime!(2026-05-22 12:00 UTC);
        // 1 h: 17:00 Friday, the end of the interval rather than Tuesday 08:00.
        assert_eq!(
            c.add_business(start, Duration::hours(1)).unwrap(),
            datetime!(2026-05-22 13:00 UTC)
        );
        // 3 h: one on Friday, two on Tuesday from 08:00: 10:00 local.
        assert_eq!(
            c.add_business(start, Duration::hours(3)).unwrap(),
            datetime!(2026-05-26 06:00 UTC)
        );
        // 5 h: 1 h on Friday and Tuesday's whole morning, ending at 12:00 local; a minute
        // more is 13:01, after lunch.
        assert_eq!(
            c.add_business(start, Duration::hours(5)).unwrap(),
            datetime!(2026-05-26 08:00 UTC)
        );
        assert_eq!(
            c.add_business(start, Duration::minutes(5 * 60 + 1))
                .unwrap(),
            datetime!(2026-05-26 09:01 UTC)
        );
        assert_eq!(
            c.business_between(start, datetime!(2026-05-26 09:01 UTC)),
            Duration::minutes(301)
        );
        // A start at night: the clock starts at 08:00.
        assert_eq!(
            c.add_business(datetime!(2026-05-26 22:00 UTC), Duration::minutes(90))
                .unwrap(),
            datetime!(2026-05-27 05:30 UTC)
        );
        // Nothing counts over a weekend.
        assert_eq!(
            c.business_between(
                datetime!(2026-05-22 13:00 UTC),
                datetime!(2026-05-26 04:00 UTC)
            ),
            Duration::ZERO
        );
    }

    #[test]
    fn a_spring_forward_sunday_has_23_hours_and_no_0230() {
        let c = paris();
        // 29 March 2026: 02:00 CET becomes 03:00 CEST.
        let midnight = c.parse_local("2026-03-29T00:00").unwrap();
        assert_eq!(midnight, datetime!(2026-03-28 23:00 UTC));
        assert_eq!(
            c.business_between(midnight, c.parse_local("2026-03-30T00:00").unwrap()),
            Duration::hours(23)
        );
        // Three hours from midnight, wall clock: 04:00, not 03:00.
        let due = c.add_business(midnight, Duration::hours(3)).unwrap();
        assert_eq!(c.local_text(due), "2026-03-29 04:00");
        assert_eq!(
            c.parse_local("2026-03-29T02:30"),
            Err(CalendarError::NoSuchLocalTime(
                "2026-03-29T02:30".to_owned(),
                "Europe/Paris".to_owned()
            ))
        );
        // 25 October 2026: 03:00 CEST becomes 02:00 CET; the day has 25 hours and 02:30 is
        // its first occurrence.
        let sunday = c.parse_local("2026-10-25T00:00").unwrap();
        assert_eq!(
            c.business_between(sunday, c.parse_local("2026-10-26T00:00").unwrap()),
            Duration::hours(25)
        );
        assert_eq!(
            c.parse_local("2026-10-25 02:30").unwrap(),
            datetime!(2026-10-25 00:30 UTC)
        );
        // Weekdays are in CEST after the change, CET before.
        assert_eq!(
            c.add_business(datetime!(2026-03-27 07:00 UTC), Duration::hours(1))
                .unwrap(),
            datetime!(2026-03-27 09:00 UTC)
        );
        assert_eq!(
            c.add_business(datetime!(2026-03-30 06:00 UTC), Duration::hours(1))
                .unwrap(),
            datetime!(2026-03-30 08:00 UTC)
        );
    }

    /// The oracle: counting minute by minute with nothing but the wall clock of each UTC
    /// minute and the calendar's day rules.
    fn minute_by_minute(c: &Calendar, start: OffsetDateTime, minutes: i64) -> OffsetDateTime {
        let mut t = start;
        let mut left = minutes;
        while left > 0 {
            let civil = c.tz.to_datetime(to_jiff(t).unwrap());
            let date = c.local_date(t).unwrap();
            let minute =
                u16::try_from(civil.hour()).unwrap() * 60 + u16::try_from(civil.minute()).unwrap();
            if c.openings(date)
                .iter()
                .any(|o| o.start <= minute && minute < o.end)
            {
                left -= 1;
            }
            t += Duration::minutes(1);
        }
        t
    }

    #[test]
    fn around_every_holiday_of_2026_and_2027() {
        let c = reunion();
        for year in [2026, 2027] {
            for (holiday, name) in c.holidays(year) {
                // 16:00 on the eve of the holiday, local: 3 h then skips it (and any weekend).
                let eve = holiday.previous_day().unwrap();
                let start = c.parse_local(&format!("{eve}T16:00")).unwrap();
                let due = c.add_business(start, Duration::hours(3)).unwrap();
                assert_eq!(due, minute_by_minute(&c, start, 180), "{holiday} {name}");
                assert!(c.local_date(due).unwrap() > holiday, "{holiday} {name}");
            }
        }
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(300))]

        #[test]
        fn business_time_agrees_with_counting_minute_by_minute(
            offset in 0i64..(2 * 366 * 24 * 60),
            minutes in 1i64..(8 * 60),
            paris_calendar in proptest::prelude::any::<bool>(),
        ) {
            let c = if paris_calendar { paris() } else { reunion() };
            let start = datetime!(2026-01-01 00:00 UTC) + Duration::minutes(offset);
            let due = c.add_business(start, Duration::minutes(minutes)).unwrap();
            proptest::prop_assert_eq!(due, minute_by_minute(&c, start, minutes));
            proptest::prop_assert_eq!(c.business_between(start, due), Duration::minutes(minutes));
        }
    }

    #[test]
    fn files_with_mistakes_are_refused_with_a_reason() {
        let cases = [
            ("time_zone = \"Mars/Olympus\"", "unknown time zone"),
            (
                "time_zone = \"UTC\"\n[week]\nmonday = [\"09:00-08:00\"]",
                "ends before it starts",
            ),
            (
                "time_zone = \"UTC\"\n[week]\nmonday = [\"09:00-12:00\", \"11:00-13:00\"]",
                "overlaps",
            ),
            (
                "time_zone = \"UTC\"\n[week]\nmonday = [\"9-12\"]",
                "HH:MM-HH:MM",
            ),
            ("time_zone = \"UTC\"\n[week]", "no business hours"),
            (
                "time_zone = \"UTC\"\n[holidays]\nfixed = [{ date = \"02-30\", name = \"x\" }]",
                "MM-DD",
            ),
            (
                "time_zone = \"UTC\"\n[holidays]\none_off = [{ date = \"2026-13-01\", name = \"x\" }]",
                "YYYY-MM-DD",
            ),
            ("time_zone = \"UTC\"\nweekend = 1", "unknown field"),
        ];
        for (text, why) in cases {
            let e = Calendar::parse("t", text).unwrap_err().to_string();
            assert!(e.contains(why), "{text}: {e}");
            assert!(e.starts_with("calendar t: "), "{e}");
        }
    }

    #[test]
    fn a_calendar_without_any_business_day_in_reach_says_so() {
        let mut text = String::from(
            "time_zone = \"UTC\"\n[week]\nmonday = [\"09:00-10:00\"]\n[holidays]\none_off = [",
        );
        let mut d = date!(2026 - 01 - 05);
        for _ in 0..600 {
            text.push_str(&format!("{{ date = \"{d}\", name = \"x\" }},"));
            d += Duration::weeks(1);
        }
        text.push(']');
        let c = Calendar::parse("t", &text).unwrap();
        // Every Monday of the next ten years is off: the search gives up with a reason
        // rather than looping.
        assert!(matches!(
            c.add_business(datetime!(2026-01-01 00:00 UTC), Duration::hours(1)),
            Err(CalendarError::NoBusinessTime(..))
        ));
        assert_eq!(
            c.business_between(
                datetime!(2026-01-01 00:00 UTC),
                datetime!(2030-01-01 00:00 UTC)
            ),
            Duration::ZERO
        );
    }
}
