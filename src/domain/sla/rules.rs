//! The contract rules of the SOC special conditions (CP SOC), as pure functions: the review of
//! monitored assets and its prorated regularisation, the operational committees' minutes, the
//! prepaid incident-response credits, and the term and tacit renewal of a recurring CSIRT
//! contract.
//!
//! Nothing here reads the clock or a calendar of holidays: dates, and what a working day is,
//! are the caller's, so that every rule can be checked on any day.
//!
//! Month arithmetic clamps to the end of the month (Jan 31 + 1 month = Feb 28, or 29), and
//! the n-th anniversary or term is always computed from the start date rather than from the
//! previous one, so that a start on the 31st keeps coming back to the 31st whenever the month
//! has one.

use std::fmt;

use serde::{Deserialize, Serialize};
use time::{Date, Month};

use crate::domain::registry::file::iso_date;

/// Why a rule could not be applied.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RuleError {
    #[error("review on {reviewed_on} is before the subscription started on {subscription_start}")]
    ReviewBeforeSubscription {
        reviewed_on: Date,
        subscription_start: Date,
    },
    #[error("no working day within {days} days after {after}")]
    NoWorkingDay { after: Date, days: i64 },
    #[error("usage on {used_on} exceeds the credits valid that day by {short_by}")]
    Overdrawn { used_on: Date, short_by: u64 },
    #[error("a contract term must last at least one month")]
    ZeroTerm,
    #[error("{at} is before the contract started on {start}")]
    BeforeStart { at: Date, start: Date },
    #[error("date arithmetic leaves the supported calendar")]
    DateOutOfRange,
    #[error("credit totals exceed the representable amount")]
    AmountOverflow,
}

// ---------------------------------------------------------------------------------------------
// Calendar arithmetic

/// `date` moved by `months` (negative: back), the day clamped to the target month's length.
fn shift_months(date: Date, months: i64) -> Result<Date, RuleError> {
    let index = i64::from(date.year()) * 12 + i64::from(u8::from(date.month())) - 1 + months;
    let year = i32::try_from(index.div_euclid(12)).map_err(|_| RuleError::DateOutOfRange)?;
    let month = u8::try_from(index.rem_euclid(12) + 1)
        .ok()
        .and_then(|m| Month::try_from(m).ok())
        .ok_or(RuleError::DateOutOfRange)?;
    let day = date.day().min(month.length(year));
    Date::from_calendar_date(year, month, day).map_err(|_| RuleError::DateOutOfRange)
}

/// The `k`-th boundary of periods of `months` months from `start` (`k` = 0 is `start`).
fn boundary(start: Date, months: u32, k: u32) -> Result<Date, RuleError> {
    let total = k.checked_mul(months).ok_or(RuleError::DateOutOfRange)?;
    shift_months(start, i64::from(total))
}

/// The index `k` of the period of `months` months from `start` holding `at` (`at >= start`):
/// `boundary(k) <= at < boundary(k + 1)`.
fn period_index(start: Date, months: u32, at: Date) -> Result<u32, RuleError> {
    let elapsed = (i64::from(at.year()) - i64::from(start.year())) * 12
        + i64::from(u8::from(at.month()))
        - i64::from(u8::from(start.month()));
    // Counting whole months overshoots by one period when `at` is early in its month; the
    // loops settle it on the boundaries themselves, clamped days included.
    let mut k =
        u32::try_from(elapsed.max(0) / i64::from(months)).map_err(|_| RuleError::DateOutOfRange)?;
    while k > 0 && boundary(start, months, k)? > at {
        k -= 1;
    }
    while boundary(start, months, k + 1)? <= at {
        k += 1;
    }
    Ok(k)
}

// ---------------------------------------------------------------------------------------------
// 1. Asset review

/// Percentage of increase over the baseline from which a regularisation is due: reaching it
/// exactly is enough.
pub const REGULARISATION_THRESHOLD_PERCENT: u64 = 5;

/// The outcome of a periodic review of the monitored assets.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AssetReview {
    pub baseline: u64,
    pub monitored: u64,
    /// Change over the baseline in thousandths, rounded toward zero; saturated at the bounds
    /// of `i64`, which is also what an increase from a baseline of 0 reads as.
    pub increase_permille: i64,
    pub regularisation: Option<Regularisation>,
}

/// The extra assets to invoice for what is left of the current subscription year.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Regularisation {
    pub extra_assets: u64,
    #[serde(with = "iso_date")]
    pub year_start: Date,
    /// Exclusive: the start of the next subscription year.
    #[serde(with = "iso_date")]
    pub year_end: Date,
    /// From the review day, included, to `year_end`, excluded: a review on the last day of a
    /// year still bills that day.
    pub days_left: i64,
    pub days_in_year: i64,
    /// `days_left / days_in_year`, for the prorated amount.
    pub fraction_left: f64,
}

/// Compares the monitored assets with the baseline (the previous review's count, or the
/// subscribed assets at the first review: the caller's choice) and, on an increase of 5 % or
/// more, prorates the regularisation over the rest of the subscription year.
///
/// Subscription years run from one anniversary of `subscription_start` to the next; with a
/// Feb 29 start, the anniversary falls on Feb 28 in the years without a Feb 29.
pub fn review_assets(
    baseline: u64,
    monitored: u64,
    reviewed_on: Date,
    subscription_start: Date,
) -> Result<AssetReview, RuleError> {
    if reviewed_on < subscription_start {
        return Err(RuleError::ReviewBeforeSubscription {
            reviewed_on,
            subscription_start,
        });
    }
    // Integers only, so that exactly 5 % is never lost to rounding; u128 cannot overflow here.
    let required = monitored > baseline
        && u128::from(monitored) * 100
            >= u128::from(baseline) * u128::from(100 + REGULARISATION_THRESHOLD_PERCENT);
    let regularisation = if required {
        let year = period_index(subscription_start, 12, reviewed_on)?;
        let year_start = boundary(subscription_start, 12, year)?;
        let year_end = boundary(subscription_start, 12, year + 1)?;
        let days_left = (year_end - reviewed_on).whole_days();
        let days_in_year = (year_end - year_start).whole_days();
        Some(Regularisation {
            extra_assets: monitored - baseline,
            year_start,
            year_end,
            days_left,
            days_in_year,
            // Both counts are at most 366: exact as f64.
            fraction_left: days_left as f64 / days_in_year as f64,
        })
    } else {
        None
    };
    Ok(AssetReview {
        baseline,
        monitored,
        increase_permille: increase_permille(baseline, monitored),
        regularisation,
    })
}

fn increase_permille(baseline: u64, monitored: u64) -> i64 {
    let change = i128::from(monitored) - i128::from(baseline);
    if baseline == 0 {
        return if change > 0 { i64::MAX } else { 0 };
    }
    // Integer division in Rust truncates toward zero, as the field promises.
    let permille = change * 1000 / i128::from(baseline);
    i64::try_from(permille).unwrap_or(if permille > 0 { i64::MAX } else { i64::MIN })
}

// ---------------------------------------------------------------------------------------------
// 2. Operational committees

/// Working days after the committee within which its minutes are due.
pub const MINUTES_WORKING_DAYS: u32 = 10;

/// How long a run of non-working days may last before the calendar is deemed broken (a
/// closure that never answers yes would otherwise loop to the end of time).
const MAX_DAYS_WITHOUT_WORKING_DAY: i64 = 366;

/// The day the minutes of a committee held on `held_on` are due: the 10th working day
/// strictly after it. Minutes received on that day are on time.
pub fn minutes_due(
    held_on: Date,
    is_working_day: impl Fn(Date) -> bool,
) -> Result<Date, RuleError> {
    let mut day = held_on;
    let mut counted = 0;
    let mut since_last_working_day = 0;
    while counted < MINUTES_WORKING_DAYS {
        day = day.next_day().ok_or(RuleError::DateOutOfRange)?;
        if is_working_day(day) {
            counted += 1;
            since_last_working_day = 0;
        } else {
            since_last_working_day += 1;
            if since_last_working_day >= MAX_DAYS_WITHOUT_WORKING_DAY {
                return Err(RuleError::NoWorkingDay {
                    after: held_on,
                    days: MAX_DAYS_WITHOUT_WORKING_DAY,
                });
            }
        }
    }
    Ok(day)
}

/// The minutes of an operational committee, as the SOC provider sends them.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Minutes {
    #[serde(default)]
    pub participants: Vec<String>,
    /// The indicators agreed at build, with their values for the period.
    #[serde(default)]
    pub indicators: Vec<String>,
    /// The true positives of the period. `Some` of an empty list states that there were none;
    /// `None` (absent) means the section was left out, which is a gap.
    #[serde(default)]
    pub incidents: Option<Vec<String>>,
    #[serde(default)]
    pub decisions: Vec<String>,
    #[serde(default)]
    pub action_plan: Vec<String>,
}

/// A section the minutes must have and do not.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MinutesGap {
    Participants,
    Indicators,
    Incidents,
    Decisions,
    ActionPlan,
}

impl fmt::Display for MinutesGap {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            MinutesGap::Participants => "no participants listed",
            MinutesGap::Indicators => "no indicators reported",
            MinutesGap::Incidents => "the incidents of the period are missing",
            MinutesGap::Decisions => "no decisions recorded",
            MinutesGap::ActionPlan => "no action plan",
        })
    }
}

/// What the minutes lack, in the order of [`MinutesGap`]. An entry of only whitespace is no
/// entry: a form sent back with empty lines is not filled in.
pub fn check_minutes(m: &Minutes) -> Vec<MinutesGap> {
    let filled = |entries: &[String]| entries.iter().any(|e| !e.trim().is_empty());
    let mut gaps = Vec::new();
    if !filled(&m.participants) {
        gaps.push(MinutesGap::Participants);
    }
    if !filled(&m.indicators) {
        gaps.push(MinutesGap::Indicators);
    }
    // A list of blank lines says as much as an empty one: "none this period".
    if m.incidents.is_none() {
        gaps.push(MinutesGap::Incidents);
    }
    if !filled(&m.decisions) {
        gaps.push(MinutesGap::Decisions);
    }
    if !filled(&m.action_plan) {
        gaps.push(MinutesGap::ActionPlan);
    }
    gaps
}

/// Where a committee's minutes stand.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CommitteeStatus {
    /// Not received, and not due yet.
    Pending,
    /// Not received, and the due day has passed.
    Overdue,
    /// Received on or before the due day, with nothing missing.
    Complete,
    /// Received after the due day, with nothing missing.
    Late,
    /// Received with gaps, on time or not.
    Incomplete,
}

/// The status of a committee's minutes on `today`, from their due day (see [`minutes_due`]),
/// the day they were received and what [`check_minutes`] found missing in them.
///
/// `_held_on` is not needed to decide (the due day carries it) and is kept so that callers
/// pass the committee as a whole.
pub fn committee_status(
    _held_on: Date,
    due: Date,
    minutes_received_on: Option<Date>,
    gaps: &[MinutesGap],
    today: Date,
) -> CommitteeStatus {
    match minutes_received_on {
        None if today > due => CommitteeStatus::Overdue,
        None => CommitteeStatus::Pending,
        // Incomplete wins over Late: incomplete minutes still have to be sent again, which is
        // what the provider must be told; their lateness shows in the dates.
        Some(_) if !gaps.is_empty() => CommitteeStatus::Incomplete,
        Some(received) if received > due => CommitteeStatus::Late,
        Some(_) => CommitteeStatus::Complete,
    }
}

// ---------------------------------------------------------------------------------------------
// 3. Prepaid incident-response credits

/// Credits are valid until used, and for at most this many months after their purchase.
pub const CREDIT_VALIDITY_MONTHS: i64 = 36;

/// A purchase of prepaid incident-response credits.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Purchase {
    #[serde(with = "iso_date")]
    pub bought_on: Date,
    pub amount: u64,
}

/// Credits drawn for an intervention.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Usage {
    #[serde(with = "iso_date")]
    pub used_on: Date,
    pub amount: u64,
}

/// The day a purchase's credits expire: 3 years after `bought_on`, a Feb 29 purchase expiring
/// on Feb 28 (never more than 3 years). The credits are valid through the day before: on
/// `expires_on` itself they can no longer be used.
pub fn expires_on(bought_on: Date) -> Result<Date, RuleError> {
    shift_months(bought_on, CREDIT_VALIDITY_MONTHS)
}

/// One purchase as it stands at a balance's date.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Lot {
    #[serde(with = "iso_date")]
    pub bought_on: Date,
    /// The credits are valid through the day before.
    #[serde(with = "iso_date")]
    pub expires_on: Date,
    pub amount: u64,
    pub used: u64,
    /// What was left unused at expiry, if the lot has expired by the balance's date.
    pub expired: u64,
    /// What can still be used on the balance's date.
    pub remaining: u64,
}

/// The credits at a date: for each lot, and in total (`available + used + expired` is what
/// was bought by then).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CreditBalance {
    #[serde(with = "iso_date")]
    pub at: Date,
    pub available: u64,
    pub expired: u64,
    pub used: u64,
    pub lots: Vec<Lot>,
}

/// Lots bought on or before `until`, oldest first, with the usages on or before `until`
/// drawn from them.
fn allocate(purchases: &[Purchase], usages: &[Usage], until: Date) -> Result<Vec<Lot>, RuleError> {
    let mut bought: Vec<&Purchase> = purchases.iter().filter(|p| p.bought_on <= until).collect();
    bought.sort_by_key(|p| p.bought_on);
    let mut lots = bought
        .into_iter()
        .map(|p| {
            Ok(Lot {
                bought_on: p.bought_on,
                expires_on: expires_on(p.bought_on)?,
                amount: p.amount,
                used: 0,
                expired: 0,
                remaining: p.amount,
            })
        })
        .collect::<Result<Vec<_>, RuleError>>()?;
    let mut drawn: Vec<&Usage> = usages.iter().filter(|u| u.used_on <= until).collect();
    drawn.sort_by_key(|u| u.used_on);
    for usage in drawn {
        let mut needed = usage.amount;
        // Oldest first: every lot lasts as long, so the oldest valid lot is also the first to
        // expire, and drawing from it first loses the least.
        for lot in lots
            .iter_mut()
            .filter(|l| l.bought_on <= usage.used_on && usage.used_on < l.expires_on)
        {
            if needed == 0 {
                break;
            }
            let take = needed.min(lot.remaining);
            lot.remaining -= take;
            lot.used += take;
            needed -= take;
        }
        if needed > 0 {
            return Err(RuleError::Overdrawn {
                used_on: usage.used_on,
                short_by: needed,
            });
        }
    }
    for lot in &mut lots {
        if lot.expires_on <= until {
            lot.expired = lot.remaining;
            lot.remaining = 0;
        }
    }
    Ok(lots)
}

/// The credits on `at`, from the purchases and usages on or before it, given in any order.
/// Usages draw from the oldest purchase still valid on their day first, across several
/// purchases if need be; one that exceeds what is valid on its day is an error, as it would
/// have been refused.
pub fn credits_at(
    purchases: &[Purchase],
    usages: &[Usage],
    at: Date,
) -> Result<CreditBalance, RuleError> {
    let lots = allocate(purchases, usages, at)?;
    let total = |field: fn(&Lot) -> u64| {
        lots.iter()
            .try_fold(0_u64, |sum, lot| sum.checked_add(field(lot)))
            .ok_or(RuleError::AmountOverflow)
    };
    Ok(CreditBalance {
        at,
        available: total(|l| l.remaining)?,
        expired: total(|l| l.expired)?,
        used: total(|l| l.used)?,
        lots,
    })
}

/// Whether `amount` credits may be used on `used_on`. The new usage may fall between recorded
/// ones, so the whole ledger is drawn again with it in date order (after the recorded usages
/// of the same day): a usage that would leave a later recorded one short is refused too, and
/// the error names the usage left short.
pub fn can_use(
    purchases: &[Purchase],
    usages: &[Usage],
    used_on: Date,
    amount: u64,
) -> Result<(), RuleError> {
    let mut all = usages.to_vec();
    // Last before the stable sort: it stays after the recorded usages of its day.
    all.push(Usage { used_on, amount });
    allocate(purchases, &all, Date::MAX).map(|_| ())
}

// ---------------------------------------------------------------------------------------------
// 4. Contract term and tacit renewal

/// How long before the term the notice of non-renewal must be sent, by registered letter.
pub const NOTICE_MONTHS: i64 = 3;

/// The period of a recurring contract that holds a date.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Term {
    #[serde(with = "iso_date")]
    pub period_start: Date,
    /// Exclusive: the term of the period.
    #[serde(with = "iso_date")]
    pub period_end: Date,
    /// How many tacit renewals led to this period (0: the initial one).
    pub renewals: u32,
    /// The last day a notice may be sent to end the contract at `period_end`. With terms of
    /// less than 3 months it falls before `period_start`.
    #[serde(with = "iso_date")]
    pub last_day_for_notice: Date,
    /// The term at which the contract ends given the notice, if any: the first term for which
    /// the notice was sent in time. For a notice sent during the period, that is `period_end`
    /// if it was sent on or before `last_day_for_notice`, else, in general, the next term
    /// (further still with terms under 3 months). On or before `at` when the notice ended an
    /// earlier period: the contract is then over, and the fields above describe the period it
    /// would have been in.
    #[serde(with = "iso_date::option")]
    pub ends_on: Option<Date>,
}

fn notice_deadline(term: Date) -> Result<Date, RuleError> {
    shift_months(term, -NOTICE_MONTHS)
}

/// The period holding `at` of a contract started on `start` for `months` months and renewed
/// tacitly for the same length, and when a notice sent on `notice_sent_on` ends it.
pub fn contract_term(
    start: Date,
    months: u32,
    at: Date,
    notice_sent_on: Option<Date>,
) -> Result<Term, RuleError> {
    if months == 0 {
        return Err(RuleError::ZeroTerm);
    }
    if at < start {
        return Err(RuleError::BeforeStart { at, start });
    }
    let renewals = period_index(start, months, at)?;
    let period_end = boundary(start, months, renewals + 1)?;
    let ends_on = match notice_sent_on {
        None => None,
        Some(sent) => {
            // No term at or before the period holding the notice can be the one: each term's
            // deadline is before the term itself.
            let mut term = if sent < start {
                1
            } else {
                period_index(start, months, sent)? + 1
            };
            // Deadlines never decrease with the term, and each term is at least a month
            // later: a few rounds at most.
            while notice_deadline(boundary(start, months, term)?)? < sent {
                term += 1;
            }
            Some(boundary(start, months, term)?)
        }
    };
    Ok(Term {
        period_start: boundary(start, months, renewals)?,
        period_end,
        renewals,
        last_day_for_notice: notice_deadline(period_end)?,
        ends_on,
    })
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    use proptest::prelude::*;
    use time::Weekday;
    use time::macros::date;

    use super::*;

    // --- calendar arithmetic

    #[test]
    fn months_clamp_to_the_end_of_the_month() {
        assert_eq!(
            shift_months(date!(2025 - 01 - 31), 1),
            Ok(date!(2025 - 02 - 28))
        );
        assert_eq!(
            shift_months(date!(2024 - 01 - 31), 1),
            Ok(date!(2024 - 02 - 29))
        );
        assert_eq!(
            shift_months(date!(2025 - 08 - 31), 1),
            Ok(date!(2025 - 09 - 30))
        );
        assert_eq!(
            shift_months(date!(2025 - 12 - 15), 1),
            Ok(date!(2026 - 01 - 15))
        );
        assert_eq!(
            shift_months(date!(2026 - 01 - 15), -1),
            Ok(date!(2025 - 12 - 15))
        );
        assert_eq!(
            shift_months(date!(2025 - 05 - 31), -3),
            Ok(date!(2025 - 02 - 28))
        );
        assert_eq!(
            shift_months(date!(2024 - 02 - 29), 12),
            Ok(date!(2025 - 02 - 28))
        );
        assert_eq!(
            shift_months(date!(2024 - 02 - 29), 48),
            Ok(date!(2028 - 02 - 29))
        );
        assert_eq!(shift_months(Date::MAX, 1), Err(RuleError::DateOutOfRange));
        assert_eq!(shift_months(Date::MIN, -1), Err(RuleError::DateOutOfRange));
    }

    // --- 1. asset review

    const SUB: Date = date!(2025 - 03 - 15);

    fn required(baseline: u64, monitored: u64) -> bool {
        review_assets(baseline, monitored, date!(2025 - 06 - 01), SUB)
            .unwrap()
            .regularisation
            .is_some()
    }

    #[test]
    fn exactly_five_percent_forces_a_regularisation() {
        assert!(required(100, 105));
        assert!(!required(100, 104));
        assert!(required(20, 21));
        assert!(!required(20, 20));
        assert!(!required(1000, 1049));
        assert!(required(1000, 1050));
        // 5 % of 19 is 0.95: 20 is only 5.26 % more, and is enough; 19 is not.
        assert!(required(19, 20));
        assert!(!required(19, 19));
        // 5 % of 10 is 0.5: one more asset is already 10 %.
        assert!(required(10, 11));
        assert!(!required(100, 90));
        assert!(required(u64::MAX / 2, u64::MAX));
    }

    #[test]
    fn a_zero_baseline_requires_a_regularisation_for_any_asset() {
        assert!(required(0, 1));
        assert!(!required(0, 0));
        let review = review_assets(0, 3, date!(2025 - 06 - 01), SUB).unwrap();
        assert_eq!(review.increase_permille, i64::MAX);
        assert_eq!(review.regularisation.unwrap().extra_assets, 3);
        let review = review_assets(0, 0, date!(2025 - 06 - 01), SUB).unwrap();
        assert_eq!(review.increase_permille, 0);
    }

    #[test]
    fn the_increase_is_in_permille_rounded_toward_zero() {
        let permille = |b, m| {
            review_assets(b, m, date!(2025 - 06 - 01), SUB)
                .unwrap()
                .increase_permille
        };
        assert_eq!(permille(100, 105), 50);
        assert_eq!(permille(100, 104), 40);
        assert_eq!(permille(3, 4), 333);
        assert_eq!(permille(3, 2), -333);
        assert_eq!(permille(100, 95), -50);
        assert_eq!(permille(100, 0), -1000);
        assert_eq!(permille(7, 7), 0);
        assert_eq!(permille(1, u64::MAX), i64::MAX);
    }

    #[test]
    fn the_regularisation_covers_the_rest_of_the_subscription_year() {
        let review = review_assets(100, 110, date!(2025 - 09 - 15), SUB).unwrap();
        assert_eq!(
            review.regularisation,
            Some(Regularisation {
                extra_assets: 10,
                year_start: date!(2025 - 03 - 15),
                year_end: date!(2026 - 03 - 15),
                days_left: 181,
                days_in_year: 365,
                fraction_left: 181.0 / 365.0,
            })
        );
        // Later years are found from the anniversaries.
        let r = review_assets(100, 110, date!(2027 - 01 - 01), SUB)
            .unwrap()
            .regularisation
            .unwrap();
        assert_eq!(
            (r.year_start, r.year_end),
            (date!(2026 - 03 - 15), date!(2027 - 03 - 15))
        );
    }

    #[test]
    fn proration_over_a_leap_year() {
        // The year 2023-06-01 .. 2024-06-01 holds Feb 29, 2024.
        let r = review_assets(100, 105, date!(2024 - 01 - 01), date!(2023 - 06 - 01))
            .unwrap()
            .regularisation
            .unwrap();
        assert_eq!(r.days_in_year, 366);
        assert_eq!(r.days_left, 31 + 29 + 31 + 30 + 31);
        assert_eq!(r.fraction_left, 152.0 / 366.0);
    }

    #[test]
    fn proration_on_the_first_and_last_days_of_a_subscription_year() {
        let r = |on| {
            review_assets(100, 105, on, SUB)
                .unwrap()
                .regularisation
                .unwrap()
        };
        let last = r(date!(2026 - 03 - 14));
        assert_eq!(last.days_left, 1);
        assert_eq!(last.year_end, date!(2026 - 03 - 15));
        assert_eq!(last.fraction_left, 1.0 / 365.0);
        let first = r(date!(2026 - 03 - 15));
        assert_eq!(first.year_start, date!(2026 - 03 - 15));
        assert_eq!(first.days_left, 365);
        assert_eq!(first.fraction_left, 1.0);
        let on_start = r(SUB);
        assert_eq!((on_start.year_start, on_start.days_left), (SUB, 365));
    }

    #[test]
    fn a_february_29_subscription_has_its_anniversary_on_february_28() {
        let start = date!(2024 - 02 - 29);
        let r = |on| {
            review_assets(100, 105, on, start)
                .unwrap()
                .regularisation
                .unwrap()
        };
        let y1 = r(date!(2025 - 02 - 28));
        assert_eq!(
            (y1.year_start, y1.year_end, y1.days_left, y1.days_in_year),
            (date!(2025 - 02 - 28), date!(2026 - 02 - 28), 365, 365)
        );
        assert_eq!(r(date!(2025 - 02 - 27)).days_left, 1);
        // 2027-02-28 .. 2028-02-29: the anniversary is back on Feb 29 in a leap year.
        let y3 = r(date!(2028 - 02 - 28));
        assert_eq!(
            (y3.year_start, y3.year_end, y3.days_left, y3.days_in_year),
            (date!(2027 - 02 - 28), date!(2028 - 02 - 29), 1, 366)
        );
        let y4 = r(date!(2028 - 02 - 29));
        assert_eq!(
            (y4.year_start, y4.year_end),
            (date!(2028 - 02 - 29), date!(2029 - 02 - 28))
        );
    }

    #[test]
    fn a_review_before_the_subscription_is_refused() {
        assert_eq!(
            review_assets(100, 100, date!(2025 - 03 - 14), SUB),
            Err(RuleError::ReviewBeforeSubscription {
                reviewed_on: date!(2025 - 03 - 14),
                subscription_start: SUB,
            })
        );
    }

    #[test]
    fn the_review_serializes_with_iso_dates() {
        let review = review_assets(100, 105, date!(2026 - 03 - 14), SUB).unwrap();
        let json = serde_json::to_value(&review).unwrap();
        assert_eq!(json["regularisation"]["year_start"], "2025-03-15");
        assert_eq!(json["regularisation"]["year_end"], "2026-03-15");
        assert_eq!(json["increase_permille"], 50);
    }

    // --- 2. committees

    fn weekdays_except(holidays: &[Date]) -> impl Fn(Date) -> bool + use<> {
        let holidays: BTreeSet<Date> = holidays.iter().copied().collect();
        move |d: Date| {
            !matches!(d.weekday(), Weekday::Saturday | Weekday::Sunday) && !holidays.contains(&d)
        }
    }

    const WHIT_MONDAY_2026: Date = date!(2026 - 05 - 25);

    #[test]
    fn minutes_are_due_on_the_tenth_working_day_after_the_committee() {
        let held = date!(2026 - 05 - 22);
        assert_eq!(held.weekday(), Weekday::Friday);
        // Tue 26 May is the first working day; Mon 8 June the tenth.
        let due = minutes_due(held, weekdays_except(&[WHIT_MONDAY_2026])).unwrap();
        assert_eq!(due, date!(2026 - 06 - 08));
        assert_eq!(due.weekday(), Weekday::Monday);
        // Without the holiday, the Friday two weeks later.
        assert_eq!(
            minutes_due(held, weekdays_except(&[])),
            Ok(date!(2026 - 06 - 05))
        );
    }

    #[test]
    fn the_committee_day_itself_does_not_count() {
        // Held on a Monday: Tuesday is day 1, the Monday two weeks on is day 10.
        assert_eq!(
            minutes_due(date!(2026 - 06 - 01), weekdays_except(&[])),
            Ok(date!(2026 - 06 - 15))
        );
        // Held on a Sunday: the same Monday to Friday fortnight as from the Friday before.
        assert_eq!(
            minutes_due(date!(2026 - 05 - 31), weekdays_except(&[])),
            Ok(date!(2026 - 06 - 12))
        );
        // Every day a working day: plain calendar days.
        assert_eq!(
            minutes_due(date!(2026 - 12 - 25), |_| true),
            Ok(date!(2027 - 01 - 04))
        );
    }

    #[test]
    fn a_calendar_without_working_days_is_an_error() {
        let held = date!(2026 - 05 - 22);
        assert_eq!(
            minutes_due(held, |_| false),
            Err(RuleError::NoWorkingDay {
                after: held,
                days: 366
            })
        );
        // A working day on the 366th day after the committee is still found.
        let last_chance = date!(2027 - 05 - 23);
        assert_eq!((last_chance - held).whole_days(), 366);
        let due = minutes_due(held, |d| d >= last_chance).unwrap();
        assert_eq!(due, date!(2027 - 06 - 01));
        assert!(minutes_due(held, |d| d > last_chance).is_err());
        assert_eq!(
            minutes_due(Date::MAX, |_| true),
            Err(RuleError::DateOutOfRange)
        );
    }

    fn complete_minutes() -> Minutes {
        Minutes {
            participants: vec!["RSSI".into(), "SOC manager".into()],
            indicators: vec!["MTTD 12 min".into()],
            incidents: Some(vec!["INC-2026-014 phishing".into()]),
            decisions: vec!["raise EDR coverage".into()],
            action_plan: vec!["deploy agents on the DMZ by June".into()],
        }
    }

    #[test]
    fn complete_minutes_have_no_gaps() {
        assert_eq!(check_minutes(&complete_minutes()), vec![]);
        let none_this_period = Minutes {
            incidents: Some(vec![]),
            ..complete_minutes()
        };
        assert_eq!(check_minutes(&none_this_period), vec![]);
    }

    #[test]
    fn every_missing_section_is_a_gap_in_order() {
        assert_eq!(
            check_minutes(&Minutes::default()),
            vec![
                MinutesGap::Participants,
                MinutesGap::Indicators,
                MinutesGap::Incidents,
                MinutesGap::Decisions,
                MinutesGap::ActionPlan,
            ]
        );
        let no_incidents = Minutes {
            incidents: None,
            ..complete_minutes()
        };
        assert_eq!(check_minutes(&no_incidents), vec![MinutesGap::Incidents]);
    }

    #[test]
    fn blank_entries_do_not_count() {
        let blank = Minutes {
            participants: vec!["   ".into(), String::new()],
            indicators: vec!["\t\n".into()],
            incidents: Some(vec![" ".into()]),
            decisions: vec![" ".into()],
            action_plan: vec![" ".into(), "follow up".into()],
        };
        assert_eq!(
            check_minutes(&blank),
            vec![
                MinutesGap::Participants,
                MinutesGap::Indicators,
                MinutesGap::Decisions
            ]
        );
    }

    #[test]
    fn gaps_read_as_sentences_and_serialize_in_snake_case() {
        assert_eq!(
            MinutesGap::Participants.to_string(),
            "no participants listed"
        );
        assert_eq!(MinutesGap::ActionPlan.to_string(), "no action plan");
        assert_eq!(
            serde_json::to_string(&MinutesGap::ActionPlan).unwrap(),
            "\"action_plan\""
        );
        assert_eq!(
            serde_json::from_str::<MinutesGap>("\"incidents\"").unwrap(),
            MinutesGap::Incidents
        );
    }

    #[test]
    fn minutes_deserialize_with_defaults_and_no_unknown_fields() {
        let m: Minutes = serde_json::from_str(r#"{"participants": ["RSSI"]}"#).unwrap();
        assert_eq!(m.participants, vec!["RSSI"]);
        assert_eq!(m.incidents, None);
        let m: Minutes = serde_json::from_str(r#"{"incidents": []}"#).unwrap();
        assert_eq!(m.incidents, Some(vec![]));
        assert!(serde_json::from_str::<Minutes>(r#"{"participant": ["RSSI"]}"#).is_err());
        let round = serde_json::to_string(&complete_minutes()).unwrap();
        assert_eq!(
            serde_json::from_str::<Minutes>(&round).unwrap(),
            complete_minutes()
        );
    }

    #[test]
    fn committee_status_at_the_due_day() {
        let held = date!(2026 - 05 - 22);
        let due = date!(2026 - 06 - 08);
        let gaps = [MinutesGap::Decisions];
        let status = |received, gaps: &[MinutesGap], today| {
            committee_status(held, due, received, gaps, today)
        };
        // Received on the 10th working day: on time.
        assert_eq!(
            status(Some(due), &[], date!(2026 - 06 - 20)),
            CommitteeStatus::Complete
        );
        assert_eq!(
            status(Some(held), &[], date!(2026 - 05 - 22)),
            CommitteeStatus::Complete
        );
        assert_eq!(
            status(Some(date!(2026 - 06 - 09)), &[], date!(2026 - 06 - 09)),
            CommitteeStatus::Late
        );
        assert_eq!(status(Some(due), &gaps, due), CommitteeStatus::Incomplete);
        // Incomplete wins over Late.
        assert_eq!(
            status(Some(date!(2026 - 06 - 09)), &gaps, date!(2026 - 06 - 09)),
            CommitteeStatus::Incomplete
        );
        assert_eq!(status(None, &[], held), CommitteeStatus::Pending);
        assert_eq!(status(None, &[], due), CommitteeStatus::Pending);
        assert_eq!(
            status(None, &[], date!(2026 - 06 - 09)),
            CommitteeStatus::Overdue
        );
        assert_eq!(
            serde_json::to_string(&CommitteeStatus::Overdue).unwrap(),
            "\"overdue\""
        );
    }

    // --- 3. credits

    fn buy(bought_on: Date, amount: u64) -> Purchase {
        Purchase { bought_on, amount }
    }

    fn spend(used_on: Date, amount: u64) -> Usage {
        Usage { used_on, amount }
    }

    #[test]
    fn credits_are_valid_through_the_day_before_their_expiry() {
        let purchases = [buy(date!(2024 - 03 - 01), 10)];
        assert_eq!(expires_on(date!(2024 - 03 - 01)), Ok(date!(2027 - 03 - 01)));
        assert_eq!(can_use(&purchases, &[], date!(2027 - 02 - 28), 10), Ok(()));
        assert_eq!(
            can_use(&purchases, &[], date!(2027 - 03 - 01), 1),
            Err(RuleError::Overdrawn {
                used_on: date!(2027 - 03 - 01),
                short_by: 1
            })
        );
        let before = credits_at(&purchases, &[], date!(2027 - 02 - 28)).unwrap();
        assert_eq!((before.available, before.expired), (10, 0));
        let after = credits_at(&purchases, &[], date!(2027 - 03 - 01)).unwrap();
        assert_eq!((after.available, after.expired), (0, 10));
        assert_eq!(after.lots[0].expires_on, date!(2027 - 03 - 01));
    }

    #[test]
    fn a_february_29_purchase_expires_on_february_28() {
        assert_eq!(expires_on(date!(2024 - 02 - 29)), Ok(date!(2027 - 02 - 28)));
        let purchases = [buy(date!(2024 - 02 - 29), 5)];
        assert_eq!(can_use(&purchases, &[], date!(2027 - 02 - 27), 5), Ok(()));
        assert!(can_use(&purchases, &[], date!(2027 - 02 - 28), 5).is_err());
    }

    #[test]
    fn credits_are_usable_from_the_day_of_purchase() {
        let purchases = [buy(date!(2025 - 01 - 10), 5)];
        assert_eq!(can_use(&purchases, &[], date!(2025 - 01 - 10), 5), Ok(()));
        assert_eq!(
            can_use(&purchases, &[], date!(2025 - 01 - 09), 1),
            Err(RuleError::Overdrawn {
                used_on: date!(2025 - 01 - 09),
                short_by: 1
            })
        );
    }

    const LOT_A: Date = date!(2021 - 01 - 10);
    const LOT_B: Date = date!(2022 - 06 - 01);

    #[test]
    fn a_usage_spans_the_oldest_lots_first() {
        let purchases = [buy(LOT_B, 10), buy(LOT_A, 10)];
        // A's last valid day: 6 from A, the other 2 from B.
        let usages = [
            spend(date!(2024 - 01 - 09), 8),
            spend(date!(2023 - 05 - 01), 4),
        ];
        let balance = credits_at(&purchases, &usages, date!(2024 - 02 - 01)).unwrap();
        assert_eq!(
            balance,
            CreditBalance {
                at: date!(2024 - 02 - 01),
                available: 8,
                expired: 0,
                used: 12,
                lots: vec![
                    Lot {
                        bought_on: LOT_A,
                        expires_on: date!(2024 - 01 - 10),
                        amount: 10,
                        used: 10,
                        expired: 0,
                        remaining: 0,
                    },
                    Lot {
                        bought_on: LOT_B,
                        expires_on: date!(2025 - 06 - 01),
                        amount: 10,
                        used: 2,
                        expired: 0,
                        remaining: 8,
                    },
                ],
            }
        );
    }

    #[test]
    fn a_lot_expiring_between_usages_is_skipped() {
        let purchases = [buy(LOT_A, 10), buy(LOT_B, 10)];
        // A expires on 2024-01-10 with 6 left; the second usage draws from B only.
        let usages = [
            spend(date!(2023 - 05 - 01), 4),
            spend(date!(2024 - 01 - 10), 5),
        ];
        let balance = credits_at(&purchases, &usages, date!(2024 - 02 - 01)).unwrap();
        assert_eq!(
            (balance.available, balance.expired, balance.used),
            (5, 6, 9)
        );
        assert_eq!(
            (
                balance.lots[0].used,
                balance.lots[0].expired,
                balance.lots[0].remaining
            ),
            (4, 6, 0)
        );
        assert_eq!(
            (
                balance.lots[1].used,
                balance.lots[1].expired,
                balance.lots[1].remaining
            ),
            (5, 0, 5)
        );
        // The day before A expires, its 6 credits are still there.
        let before = credits_at(&purchases, &usages, date!(2024 - 01 - 09)).unwrap();
        assert_eq!((before.available, before.expired, before.used), (16, 0, 4));
    }

    #[test]
    fn overdrawing_names_the_usage_and_the_shortfall() {
        let purchases = [buy(LOT_A, 5)];
        let usages = [spend(date!(2021 - 02 - 01), 7)];
        let overdrawn = Err(RuleError::Overdrawn {
            used_on: date!(2021 - 02 - 01),
            short_by: 2,
        });
        assert_eq!(
            credits_at(&purchases, &usages, date!(2021 - 03 - 01)),
            overdrawn
        );
        // Before the usage, the ledger is fine.
        assert_eq!(
            credits_at(&purchases, &usages, date!(2021 - 01 - 31))
                .unwrap()
                .available,
            5
        );
        // A purchase after the usage does not cover it.
        let later = [buy(LOT_A, 5), buy(date!(2021 - 02 - 02), 100)];
        assert_eq!(
            credits_at(&later, &usages, date!(2021 - 03 - 01)),
            overdrawn
        );
        assert_eq!(
            RuleError::Overdrawn {
                used_on: date!(2021 - 02 - 01),
                short_by: 2
            }
            .to_string(),
            "usage on 2021-02-01 exceeds the credits valid that day by 2"
        );
    }

    #[test]
    fn only_purchases_and_usages_up_to_the_date_count() {
        let purchases = [buy(LOT_A, 10), buy(LOT_B, 10)];
        let usages = [
            spend(date!(2021 - 03 - 01), 3),
            spend(date!(2022 - 07 - 01), 3),
        ];
        let balance = credits_at(&purchases, &usages, date!(2021 - 06 - 01)).unwrap();
        assert_eq!(
            (balance.available, balance.used, balance.lots.len()),
            (7, 3, 1)
        );
        let balance = credits_at(&purchases, &usages, LOT_B).unwrap();
        assert_eq!(
            (balance.available, balance.used, balance.lots.len()),
            (17, 3, 2)
        );
        assert_eq!(
            credits_at(&[], &[], LOT_A).unwrap(),
            CreditBalance {
                at: LOT_A,
                available: 0,
                expired: 0,
                used: 0,
                lots: vec![]
            }
        );
    }

    #[test]
    fn a_new_usage_between_recorded_ones_must_not_leave_them_short() {
        let purchases = [buy(date!(2024 - 01 - 01), 10)];
        let usages = [spend(date!(2024 - 06 - 01), 8)];
        assert_eq!(
            can_use(&purchases, &usages, date!(2024 - 03 - 01), 2),
            Ok(())
        );
        assert_eq!(
            can_use(&purchases, &usages, date!(2024 - 03 - 01), 3),
            Err(RuleError::Overdrawn {
                used_on: date!(2024 - 06 - 01),
                short_by: 1
            })
        );
        // On the same day as a recorded usage, the new one goes last.
        let same_day = [
            spend(date!(2024 - 06 - 01), 4),
            spend(date!(2024 - 06 - 01), 4),
        ];
        assert_eq!(
            can_use(&purchases, &same_day, date!(2024 - 06 - 01), 5),
            Err(RuleError::Overdrawn {
                used_on: date!(2024 - 06 - 01),
                short_by: 3
            })
        );
        assert_eq!(
            can_use(&purchases, &same_day, date!(2024 - 06 - 01), 2),
            Ok(())
        );
    }

    #[test]
    fn credit_totals_too_large_are_an_error() {
        let purchases = [buy(LOT_A, u64::MAX), buy(LOT_B, 1)];
        assert_eq!(
            credits_at(&purchases, &[], LOT_B),
            Err(RuleError::AmountOverflow)
        );
        assert_eq!(
            credits_at(&purchases, &[], LOT_A).unwrap().available,
            u64::MAX
        );
        assert_eq!(
            expires_on(date!(9998 - 01 - 01)),
            Err(RuleError::DateOutOfRange)
        );
    }

    #[test]
    fn purchases_and_usages_read_and_write_iso_dates() {
        let p: Purchase =
            serde_json::from_str(r#"{"bought_on": "2024-02-29", "amount": 5}"#).unwrap();
        assert_eq!(p, buy(date!(2024 - 02 - 29), 5));
        let u: Usage = serde_json::from_str(r#"{"used_on": "2024-03-01", "amount": 2}"#).unwrap();
        assert_eq!(
            serde_json::to_string(&u).unwrap(),
            r#"{"used_on":"2024-03-01","amount":2}"#
        );
        assert!(
            serde_json::from_str::<Usage>(r#"{"used_on": "2024-03-01T00:00:00Z", "amount": 2}"#)
                .is_err()
        );
        assert!(
            serde_json::from_str::<Usage>(r#"{"used_on": "2024-03-01", "amount": 2, "x": 1}"#)
                .is_err()
        );
        let balance = credits_at(&[p], &[u], date!(2027 - 03 - 01)).unwrap();
        let json = serde_json::to_value(&balance).unwrap();
        assert_eq!(json["lots"][0]["expires_on"], "2027-02-28");
        assert_eq!(json["expired"], 3);
    }

    // --- 4. contract term

    #[test]
    fn the_contract_renews_tacitly_for_the_same_length() {
        let start = date!(2024 - 01 - 01);
        let term = contract_term(start, 12, date!(2024 - 06 - 01), None).unwrap();
        assert_eq!(
            term,
            Term {
                period_start: start,
                period_end: date!(2025 - 01 - 01),
                renewals: 0,
                last_day_for_notice: date!(2024 - 10 - 01),
                ends_on: None,
            }
        );
        let on_start = contract_term(start, 12, start, None).unwrap();
        assert_eq!(on_start.renewals, 0);
        let term = contract_term(start, 12, date!(2025 - 01 - 01), None).unwrap();
        assert_eq!(
            (term.period_start, term.period_end, term.renewals),
            (date!(2025 - 01 - 01), date!(2026 - 01 - 01), 1)
        );
        let term = contract_term(start, 12, date!(2026 - 12 - 31), None).unwrap();
        assert_eq!(
            (term.period_start, term.period_end, term.renewals),
            (date!(2026 - 01 - 01), date!(2027 - 01 - 01), 2)
        );
    }

    #[test]
    fn a_notice_on_the_last_day_ends_the_current_period() {
        let start = date!(2024 - 01 - 01);
        let at = date!(2024 - 06 - 01);
        let on_time = contract_term(start, 12, at, Some(date!(2024 - 10 - 01))).unwrap();
        assert_eq!(on_time.ends_on, Some(date!(2025 - 01 - 01)));
        let a_day_late = contract_term(start, 12, at, Some(date!(2024 - 10 - 02))).unwrap();
        assert_eq!(a_day_late.ends_on, Some(date!(2026 - 01 - 01)));
        let early = contract_term(start, 12, at, Some(date!(2024 - 01 - 01))).unwrap();
        assert_eq!(early.ends_on, Some(date!(2025 - 01 - 01)));
        // In a renewed period, the same deadline a year on.
        let renewed = contract_term(
            start,
            12,
            date!(2025 - 03 - 01),
            Some(date!(2025 - 10 - 01)),
        )
        .unwrap();
        assert_eq!(renewed.ends_on, Some(date!(2026 - 01 - 01)));
        // A notice that ended an earlier period: the contract is over by `at`.
        let over = contract_term(
            start,
            12,
            date!(2025 - 06 - 01),
            Some(date!(2024 - 03 - 01)),
        )
        .unwrap();
        assert_eq!(over.ends_on, Some(date!(2025 - 01 - 01)));
        assert_eq!(over.renewals, 1);
        let json = serde_json::to_value(over).unwrap();
        assert_eq!(json["ends_on"], "2025-01-01");
        assert_eq!(json["last_day_for_notice"], "2025-10-01");
        let none = serde_json::to_value(contract_term(start, 12, at, None).unwrap()).unwrap();
        assert!(none["ends_on"].is_null());
    }

    #[test]
    fn terms_and_deadlines_clamp_to_the_end_of_the_month() {
        // Monthly from Jan 31: each term is computed from the start, back to the 31st.
        let start = date!(2025 - 01 - 31);
        let first = contract_term(start, 1, date!(2025 - 02 - 15), None).unwrap();
        assert_eq!(first.period_end, date!(2025 - 02 - 28));
        assert_eq!(first.last_day_for_notice, date!(2024 - 11 - 28));
        let second = contract_term(start, 1, date!(2025 - 03 - 05), None).unwrap();
        assert_eq!(
            (second.period_start, second.period_end, second.renewals),
            (date!(2025 - 02 - 28), date!(2025 - 03 - 31), 1)
        );
        let leap = contract_term(date!(2024 - 01 - 31), 1, date!(2024 - 02 - 29), None).unwrap();
        assert_eq!(
            (leap.period_start, leap.period_end, leap.renewals),
            (date!(2024 - 02 - 29), date!(2024 - 03 - 31), 1)
        );
        // Term on May 31: the deadline is the last day of February.
        let may = contract_term(date!(2024 - 05 - 31), 12, date!(2024 - 06 - 01), None).unwrap();
        assert_eq!(may.period_end, date!(2025 - 05 - 31));
        assert_eq!(may.last_day_for_notice, date!(2025 - 02 - 28));
        // Quarterly from Aug 31: Nov 30, Feb 28, May 31, Aug 31.
        let aug = date!(2025 - 08 - 31);
        let q = contract_term(aug, 3, date!(2025 - 11 - 30), None).unwrap();
        assert_eq!(
            (q.period_start, q.period_end, q.last_day_for_notice),
            (
                date!(2025 - 11 - 30),
                date!(2026 - 02 - 28),
                date!(2025 - 11 - 28)
            )
        );
        let q = contract_term(aug, 3, date!(2026 - 05 - 31), None).unwrap();
        assert_eq!(
            (q.period_start, q.period_end, q.renewals),
            (date!(2026 - 05 - 31), date!(2026 - 08 - 31), 3)
        );
        assert_eq!(q.last_day_for_notice, date!(2026 - 05 - 31));
    }

    #[test]
    fn a_notice_ends_the_first_term_it_is_in_time_for() {
        // Quarterly from Aug 31, notice on Nov 29: too late for Nov 30 (deadline Aug 30) and,
        // by a day, for Feb 28 (deadline Nov 28): the contract ends on May 31.
        let q = contract_term(
            date!(2025 - 08 - 31),
            3,
            date!(2025 - 10 - 01),
            Some(date!(2025 - 11 - 29)),
        )
        .unwrap();
        assert_eq!(q.ends_on, Some(date!(2026 - 05 - 31)));
        let q = contract_term(
            date!(2025 - 08 - 31),
            3,
            date!(2025 - 10 - 01),
            Some(date!(2025 - 11 - 28)),
        )
        .unwrap();
        assert_eq!(q.ends_on, Some(date!(2026 - 02 - 28)));
        // Monthly: a notice takes three months whatever the term.
        let m = contract_term(
            date!(2025 - 01 - 01),
            1,
            date!(2025 - 01 - 15),
            Some(date!(2025 - 01 - 15)),
        )
        .unwrap();
        assert_eq!(m.ends_on, Some(date!(2025 - 05 - 01)));
    }

    #[test]
    fn contract_term_errors() {
        let start = date!(2024 - 01 - 01);
        assert_eq!(
            contract_term(start, 0, start, None),
            Err(RuleError::ZeroTerm)
        );
        assert_eq!(
            contract_term(start, 12, date!(2023 - 12 - 31), None),
            Err(RuleError::BeforeStart {
                at: date!(2023 - 12 - 31),
                start
            })
        );
        assert_eq!(
            contract_term(start, 12, date!(9999 - 06 - 01), None),
            Err(RuleError::DateOutOfRange)
        );
    }

    // --- properties

    const BASE: Date = date!(2020 - 01 - 01);

    fn day(offset: i64) -> Date {
        BASE + time::Duration::days(offset)
    }

    proptest! {
        #[test]
        fn credits_are_conserved(
            purchases in prop::collection::vec((0..3000_i64, 0..1000_u64), 0..6),
            usages in prop::collection::vec((0..3000_i64, 0..400_u64), 0..8),
            at in 0..3500_i64,
        ) {
            let purchases: Vec<Purchase> =
                purchases.into_iter().map(|(d, a)| buy(day(d), a)).collect();
            let usages: Vec<Usage> = usages.into_iter().map(|(d, a)| spend(day(d), a)).collect();
            let at = day(at);
            match credits_at(&purchases, &usages, at) {
                Ok(balance) => {
                    let bought: u64 = purchases
                        .iter()
                        .filter(|p| p.bought_on <= at)
                        .map(|p| p.amount)
                        .sum();
                    let spent: u64 = usages
                        .iter()
                        .filter(|u| u.used_on <= at)
                        .map(|u| u.amount)
                        .sum();
                    prop_assert_eq!(balance.available + balance.used + balance.expired, bought);
                    prop_assert_eq!(balance.used, spent);
                    for lot in &balance.lots {
                        prop_assert_eq!(lot.used + lot.expired + lot.remaining, lot.amount);
                        prop_assert!(lot.expired == 0 || lot.expires_on <= at);
                        prop_assert!(lot.remaining == 0 || lot.expires_on > at);
                    }
                    // What holds at a date held on every earlier one.
                    let earlier = at.previous_day().unwrap();
                    prop_assert!(credits_at(&purchases, &usages, earlier).is_ok());
                }
                Err(RuleError::Overdrawn { used_on, short_by }) => {
                    prop_assert!(used_on <= at);
                    prop_assert!(short_by > 0);
                }
                Err(other) => prop_assert!(false, "unexpected {other}"),
            }
        }

        #[test]
        fn can_use_agrees_with_the_ledger(
            purchases in prop::collection::vec((0..3000_i64, 0..1000_u64), 0..6),
            usages in prop::collection::vec((0..3000_i64, 0..400_u64), 0..6),
            new in (0..3000_i64, 0..600_u64),
        ) {
            let purchases: Vec<Purchase> =
                purchases.into_iter().map(|(d, a)| buy(day(d), a)).collect();
            let mut usages: Vec<Usage> =
                usages.into_iter().map(|(d, a)| spend(day(d), a)).collect();
            let verdict = can_use(&purchases, &usages, day(new.0), new.1);
            usages.push(spend(day(new.0), new.1));
            let ledger = credits_at(&purchases, &usages, day(4000)).map(|_| ());
            prop_assert_eq!(verdict, ledger);
        }

        #[test]
        fn minutes_are_due_after_the_committee_on_a_working_day(
            held in 0..3000_i64,
            holidays in prop::collection::btree_set(0..3100_i64, 0..200),
        ) {
            let holidays: Vec<Date> = holidays.into_iter().map(day).collect();
            let working = weekdays_except(&holidays);
            let held = day(held);
            let due = minutes_due(held, &working).unwrap();
            prop_assert!(due > held);
            prop_assert!(working(due));
            let mut counted = 0;
            let mut d = held.next_day().unwrap();
            while d <= due {
                counted += u32::from(working(d));
                d = d.next_day().unwrap();
            }
            prop_assert_eq!(counted, MINUTES_WORKING_DAYS);
        }

        #[test]
        fn the_term_holds_the_date(
            start in 0..3000_i64,
            months in 1..40_u32,
            after in 0..4000_i64,
            notice in prop::option::of(0..7000_i64),
        ) {
            let start = day(start);
            let at = start + time::Duration::days(after);
            let term = contract_term(start, months, at, notice.map(day)).unwrap();
            prop_assert!(term.period_start <= at && at < term.period_end);
            prop_assert!(term.last_day_for_notice < term.period_end);
            if let (Some(sent), Some(ends)) = (notice.map(day), term.ends_on) {
                prop_assert!(sent <= notice_deadline(ends).unwrap());
                // ... and it is the first such term.
                let earlier = period_index(start, months, ends).unwrap() - 1;
                if earlier > 0 {
                    let term = boundary(start, months, earlier).unwrap();
                    prop_assert!(notice_deadline(term).unwrap() < sent);
                }
            }
        }

        #[test]
        fn regularisation_follows_the_threshold(
            baseline in 0..10_000_u64,
            monitored in 0..12_000_u64,
            start in 0..3000_i64,
            after in 0..3000_i64,
        ) {
            let start = day(start);
            let on = start + time::Duration::days(after);
            let review = review_assets(baseline, monitored, on, start).unwrap();
            let expected = monitored > baseline && monitored * 100 >= baseline * 105;
            prop_assert_eq!(review.regularisation.is_some(), expected);
            if let Some(r) = review.regularisation {
                prop_assert!(r.year_start <= on && on < r.year_end);
                prop_assert!((1..=r.days_in_year).contains(&r.days_left));
                prop_assert!(r.days_in_year == 365 || r.days_in_year == 366);
                prop_assert!(r.fraction_left > 0.0 && r.fraction_left <= 1.0);
            }
        }
    }
}
