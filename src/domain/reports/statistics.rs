//! The CSIRT's annual statistics on first-level incident-response missions (Convention art. 3),
//! presented once a year to every referenced provider.
//!
//! The numbers are about beneficiaries, so the one rule that matters is that **no cell
//! identifies a beneficiary**: a group counted for fewer than `min_group` distinct
//! beneficiaries is merged into "other", an "other" still too small is suppressed, and a lone
//! suppressed cell takes a second one with it so that it cannot be worked out from the total.
//! The year's totals are always shown: they are what the CSIRT reports anyway.

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use utoipa::ToSchema;

use crate::domain::cases::qualification::{BeneficiaryKind, IncidentCategory, SizeClass};
use crate::domain::registry::calendar;

/// The group small groups are merged into, and the name of the enums' own `Other` variants.
pub const OTHER: &str = "other";
/// How many ATT&CK techniques the statistics list at most.
pub const TOP_TECHNIQUES: usize = 10;

/// Where a case stands with its return of experience (REX) at the time of the statistics.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum RexTimeliness {
    /// No REX is owed (yet): the case has not reached the point where one is due.
    NotDue,
    /// Due, its deadline not passed, not submitted yet.
    Pending,
    /// Submitted by its deadline.
    OnTime,
    /// Submitted after its deadline.
    Late,
    /// Deadline passed, nothing submitted.
    Missing,
}

/// One mission: a victim case whose first contact falls in the year of the statistics.
#[derive(Debug, Clone, PartialEq)]
pub struct Mission {
    /// An opaque key of the beneficiary: the same key is the same beneficiary. Only counted,
    /// never output.
    pub beneficiary: String,
    pub kind: BeneficiaryKind,
    /// The sector as recorded. Grouped trimmed and lowercased; a group is shown with the first
    /// spelling seen, and only if it is large enough.
    pub sector: String,
    pub size: SizeClass,
    pub category: IncidentCategory,
    /// First contact with the CSIRT (any offset; months are counted in the hub's time zone).
    pub first_contact: OffsetDateTime,
    /// When the case was handed to (accepted by) its provider.
    pub handed_off: Option<OffsetDateTime>,
    pub closed: Option<OffsetDateTime>,
    /// The handling provider's organisation id.
    pub provider: Option<String>,
    pub rex: RexTimeliness,
    /// The average score of the beneficiary's answered satisfaction survey, if it answered.
    pub satisfaction: Option<f64>,
    /// ATT&CK technique ids from the case's REX (`T1486`, `T1566.001`).
    pub techniques: Vec<String>,
}

/// One referenced provider's share of the year's shortlists.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct Rotation {
    /// The provider's organisation id.
    pub provider: String,
    pub name: String,
    /// Shortlists it was proposed on.
    pub proposals: u32,
    /// Times a beneficiary chose it.
    pub choices: u32,
}

/// Who the statistics are for: the CSIRT sees each provider's rotation, the providers only its
/// spread.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Audience {
    Csirt,
    Providers,
}

/// One group of a dimension. Counts are `None` when they are not shown: `merged` (counted in
/// "other") or `suppressed`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct GroupRow {
    pub group: String,
    pub missions: Option<u32>,
    pub beneficiaries: Option<u32>,
    /// Fewer than `min_group` beneficiaries: counted in the "other" row.
    pub merged: bool,
    /// Not shown, so that no beneficiary can be singled out.
    pub suppressed: bool,
}

/// Missions by month of first contact, in the hub's time zone.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct MonthRow {
    /// 1 (January) to 12.
    pub month: u8,
    pub missions: Option<u32>,
    pub beneficiaries: Option<u32>,
    pub suppressed: bool,
}

/// Durations from first contact, in hours; percentiles by nearest rank.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct DurationStats {
    /// Missions that reached the step.
    pub count: u32,
    /// `None` when no mission or fewer than `min_group` beneficiaries reached the step.
    pub median_hours: Option<f64>,
    pub p90_hours: Option<f64>,
}

/// Returns of experience owed by the providers.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct RexStats {
    /// Owed: pending, on time, late or missing.
    pub due: u32,
    pub pending: u32,
    pub on_time: u32,
    pub late: u32,
    pub missing: u32,
    /// On time among those whose deadline has passed (on time, late, missing).
    pub on_time_percent: Option<f64>,
}

#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct SatisfactionStats {
    /// Missions with an answered survey.
    pub answered: u32,
    /// `None` when fewer than `min_group` beneficiaries answered.
    pub average: Option<f64>,
}

/// An ATT&CK technique seen in the missions of at least `min_group` beneficiaries.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct TechniqueRow {
    pub technique: String,
    pub missions: u32,
    pub beneficiaries: u32,
}

/// The spread of the rotation between referenced providers.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct RotationSummary {
    pub providers: u32,
    pub proposals_min: Option<u32>,
    pub proposals_max: Option<u32>,
    pub choices_min: Option<u32>,
    pub choices_max: Option<u32>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct RotationStats {
    /// Each provider's share, for the CSIRT only: empty for [`Audience::Providers`].
    pub providers: Vec<Rotation>,
    pub summary: RotationSummary,
}

/// The year's statistics, safe to show to `audience`.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct AnnualStatistics {
    pub year: i32,
    pub audience: Audience,
    /// The fewest distinct beneficiaries a shown cell counts.
    pub min_group: u32,
    pub missions: u32,
    pub beneficiaries: u32,
    pub handed_off: u32,
    pub closed: u32,
    /// Twelve rows, January to December.
    pub by_month: Vec<MonthRow>,
    /// Every category, in the enum's order.
    pub by_category: Vec<GroupRow>,
    pub by_beneficiary_kind: Vec<GroupRow>,
    /// The sectors large enough to be shown, most missions first, then "other".
    pub by_sector: Vec<GroupRow>,
    pub by_size: Vec<GroupRow>,
    pub time_to_handoff: DurationStats,
    pub time_to_closure: DurationStats,
    pub rex: RexStats,
    pub satisfaction: SatisfactionStats,
    pub techniques: Vec<TechniqueRow>,
    pub rotation: RotationStats,
    /// What was merged or suppressed, in words, naming no hidden group.
    pub suppressed: Vec<String>,
}

/// The statistics of `year` for `audience`. Missions whose first contact is not in `year` (in
/// the hub's time zone) are left out, so that the months add up to the total; a note counts
/// them. A `min_group` of 0 or 1 hides nothing.
pub fn compute(
    year: i32,
    missions: &[Mission],
    rotation: &[Rotation],
    min_group: u32,
    audience: Audience,
) -> AnnualStatistics {
    let min = usize::try_from(min_group).unwrap_or(usize::MAX);
    let mut notes = Vec::new();
    let in_year: Vec<&Mission> = missions
        .iter()
        .filter(|m| calendar::calendar_year(m.first_contact) == year)
        .collect();
    if in_year.len() < missions.len() {
        notes.push(format!(
            "{} missions whose first contact is not in {year} (hub time zone) left out",
            missions.len() - in_year.len()
        ));
    }
    let beneficiaries: BTreeSet<&str> = in_year.iter().map(|m| m.beneficiary.as_str()).collect();
    AnnualStatistics {
        year,
        audience,
        min_group,
        missions: count(in_year.len()),
        beneficiaries: count(beneficiaries.len()),
        handed_off: count(in_year.iter().filter(|m| m.handed_off.is_some()).count()),
        closed: count(in_year.iter().filter(|m| m.closed.is_some()).count()),
        by_month: by_month(&in_year, min, &mut notes),
        by_category: enum_dimension(
            &EnumDimension {
                what: "category",
                variants: IncidentCategory::ALL,
                name: IncidentCategory::as_str,
                other: Some(IncidentCategory::Other),
                of: |m| m.category,
            },
            &in_year,
            min,
            &mut notes,
        ),
        by_beneficiary_kind: enum_dimension(
            &EnumDimension {
                what: "beneficiary kind",
                variants: BeneficiaryKind::ALL,
                name: BeneficiaryKind::as_str,
                other: Some(BeneficiaryKind::Other),
                of: |m| m.kind,
            },
            &in_year,
            min,
            &mut notes,
        ),
        by_sector: by_sector(&in_year, min, &mut notes),
        by_size: enum_dimension(
            &EnumDimension {
                what: "size",
                variants: SizeClass::ALL,
                name: SizeClass::as_str,
                other: None,
                of: |m| m.size,
            },
            &in_year,
            min,
            &mut notes,
        ),
        time_to_handoff: durations(
            "time to handoff",
            &in_year,
            |m| m.handed_off,
            min,
            &mut notes,
        ),
        time_to_closure: durations("time to closure", &in_year, |m| m.closed, min, &mut notes),
        rex: rex(&in_year),
        satisfaction: satisfaction(&in_year, min, &mut notes),
        techniques: techniques(&in_year, min, &mut notes),
        rotation: rotation_stats(rotation, audience),
        suppressed: notes,
    }
}

fn count(n: usize) -> u32 {
    u32::try_from(n).unwrap_or(u32::MAX)
}

/// A group's missions and the distinct beneficiaries they are for, before any rule applies.
#[derive(Default)]
struct Tally<'a> {
    missions: u32,
    beneficiaries: BTreeSet<&'a str>,
}

impl<'a> Tally<'a> {
    fn add(&mut self, m: &'a Mission) {
        self.missions = self.missions.saturating_add(1);
        self.beneficiaries.insert(&m.beneficiary);
    }

    fn absorb(&mut self, other: &Tally<'a>) {
        self.missions = self.missions.saturating_add(other.missions);
        self.beneficiaries
            .extend(other.beneficiaries.iter().copied());
    }

    fn size(&self) -> usize {
        self.beneficiaries.len()
    }

    fn is_small(&self, min: usize) -> bool {
        (1..min).contains(&self.size())
    }

    fn row(&self, group: impl Into<String>) -> GroupRow {
        GroupRow {
            group: group.into(),
            missions: Some(self.missions),
            beneficiaries: Some(count(self.size())),
            merged: false,
            suppressed: false,
        }
    }
}

fn merged_row(group: &str) -> GroupRow {
    GroupRow {
        group: group.to_owned(),
        missions: None,
        beneficiaries: None,
        merged: true,
        suppressed: false,
    }
}

fn suppress(row: &mut GroupRow) {
    row.missions = None;
    row.beneficiaries = None;
    row.suppressed = true;
}

fn plural(n: usize, one: &str) -> String {
    if n == 1 {
        format!("1 {one}")
    } else {
        format!("{n} {one}s")
    }
}

/// A dimension whose groups are the variants of an enum.
struct EnumDimension<T: 'static> {
    what: &'static str,
    variants: &'static [T],
    name: fn(T) -> &'static str,
    /// The enum's own "other", which merged groups join; without one, an "other" row is added.
    other: Option<T>,
    of: fn(&Mission) -> T,
}

/// Every variant gets a row. Once any variant is merged, every variant under `min` is shown
/// merged, empty ones included: were empty ones shown as 0, the merged ones would be known to
/// be non-empty, and across dimensions (kind, size, category of a year's few cases) that can
/// single a beneficiary out.
fn enum_dimension<'a, T: Copy + PartialEq>(
    d: &EnumDimension<T>,
    missions: &[&'a Mission],
    min: usize,
    notes: &mut Vec<String>,
) -> Vec<GroupRow> {
    let mut tallies: Vec<Tally<'a>> = d.variants.iter().map(|_| Tally::default()).collect();
    for m in missions {
        let value = (d.of)(m);
        if let Some(i) = d.variants.iter().position(|v| *v == value)
            && let Some(t) = tallies.get_mut(i)
        {
            t.add(m);
        }
    }
    let is_other = |v: &T| d.other.as_ref() == Some(v);
    let merged = d
        .variants
        .iter()
        .zip(&tallies)
        .filter(|(v, t)| !is_other(v) && t.is_small(min))
        .count();
    let mut other = Tally::default();
    for (v, t) in d.variants.iter().zip(&tallies) {
        if is_other(v) || (merged > 0 && t.size() < min) {
            other.absorb(t);
        }
    }
    let mut rows = Vec::with_capacity(d.variants.len() + 1);
    let mut other_at = None;
    for (v, t) in d.variants.iter().zip(&tallies) {
        if is_other(v) {
            other_at = Some(rows.len());
            rows.push(other.row(OTHER));
        } else if merged > 0 && t.size() < min {
            rows.push(merged_row((d.name)(*v)));
        } else {
            rows.push(t.row((d.name)(*v)));
        }
    }
    if other_at.is_none() && merged > 0 {
        other_at = Some(rows.len());
        rows.push(other.row(OTHER));
    }
    if merged > 0 {
        notes.push(format!(
            "{} with fewer than {min} beneficiaries merged into \"{OTHER}\" (empty {} groups \
             are shown merged too, so that they cannot be told apart)",
            plural(merged, &format!("{} group", d.what)),
            d.what
        ));
    }
    if let Some(at) = other_at
        && other.is_small(min)
    {
        protect_other(&mut rows, at, d.what, min, notes);
    }
    rows
}

/// "other" is too small to show: it is suppressed, and since the total minus the other rows
/// would give it back, the smallest other non-empty row is suppressed with it.
fn protect_other(
    rows: &mut [GroupRow],
    at: usize,
    what: &str,
    min: usize,
    notes: &mut Vec<String>,
) {
    if let Some(row) = rows.get_mut(at) {
        suppress(row);
    }
    notes.push(format!(
        "\"{OTHER}\" {what} group suppressed: fewer than {min} beneficiaries"
    ));
    let partner = rows
        .iter()
        .enumerate()
        .filter(|(_, r)| !r.suppressed && !r.merged && r.missions.unwrap_or(0) > 0)
        .min_by_key(|(i, r)| (r.beneficiaries, r.missions, *i))
        .map(|(i, _)| i);
    if let Some(row) = partner.and_then(|i| rows.get_mut(i)) {
        suppress(row);
        notes.push(format!(
            "1 more {what} group suppressed, so that the suppressed one cannot be worked out \
             from the total"
        ));
    }
}

/// A sector group: its key is the trimmed, lowercased text; it shows the first spelling seen.
struct Sector<'a> {
    label: String,
    tally: Tally<'a>,
}

/// Sectors are free text: a merged sector leaves no row at all, and where the brief's
/// complementary suppression would show a suppressed sector's name, the sector is merged into
/// "other" instead, which makes "other" large enough to show.
fn by_sector<'a>(missions: &[&'a Mission], min: usize, notes: &mut Vec<String>) -> Vec<GroupRow> {
    let mut sectors: BTreeMap<String, Sector<'a>> = BTreeMap::new();
    let mut other = Tally::default();
    for m in missions {
        let key = m.sector.trim().to_lowercase();
        if key.is_empty() || key == OTHER {
            other.add(m);
            continue;
        }
        sectors
            .entry(key)
            .or_insert_with(|| Sector {
                label: m.sector.trim().to_owned(),
                tally: Tally::default(),
            })
            .tally
            .add(m);
    }
    let (small, mut shown): (Vec<Sector<'a>>, Vec<Sector<'a>>) =
        sectors.into_values().partition(|s| s.tally.is_small(min));
    for s in &small {
        other.absorb(&s.tally);
    }
    if !small.is_empty() {
        notes.push(format!(
            "{} with fewer than {min} beneficiaries merged into \"{OTHER}\"",
            plural(small.len(), "sector group")
        ));
    }
    if other.is_small(min) {
        let partner = shown
            .iter()
            .enumerate()
            .min_by_key(|(i, s)| (s.tally.size(), s.tally.missions, *i))
            .map(|(i, _)| i);
        if let Some(i) = partner {
            let s = shown.remove(i);
            other.absorb(&s.tally);
            notes.push(format!(
                "1 more sector group merged into \"{OTHER}\", so that \"{OTHER}\" counts at \
                 least {min} beneficiaries"
            ));
        }
    }
    shown.sort_by(|a, b| {
        b.tally
            .missions
            .cmp(&a.tally.missions)
            .then_with(|| a.label.cmp(&b.label))
    });
    let mut rows: Vec<GroupRow> = shown.iter().map(|s| s.tally.row(&s.label)).collect();
    if other.size() > 0 {
        let mut row = other.row(OTHER);
        if other.is_small(min) {
            // Only "other" is left: it is the whole year, whose totals are shown anyway.
            suppress(&mut row);
            notes.push(format!(
                "\"{OTHER}\" sector group suppressed: fewer than {min} beneficiaries"
            ));
        }
        rows.push(row);
    }
    rows
}

/// Months under `min` are suppressed; once one is, empty months are too, for the same reason
/// as merged enum rows (a suppressed month would otherwise be known to hold a case).
fn by_month(missions: &[&Mission], min: usize, notes: &mut Vec<String>) -> Vec<MonthRow> {
    let mut tallies: Vec<Tally> = (0..12).map(|_| Tally::default()).collect();
    for m in missions {
        let month = usize::from(u8::from(calendar::local(m.first_contact).month()));
        if let Some(t) = month.checked_sub(1).and_then(|i| tallies.get_mut(i)) {
            t.add(m);
        }
    }
    let small = tallies.iter().filter(|t| t.is_small(min)).count();
    let mut hidden: Vec<bool> = tallies
        .iter()
        .map(|t| small > 0 && t.size() < min)
        .collect();
    if small > 0 {
        notes.push(format!(
            "{} with fewer than {min} beneficiaries suppressed (empty months are suppressed \
             too, so that they cannot be told apart)",
            plural(small, "month")
        ));
    }
    if small == 1 {
        let partner = tallies
            .iter()
            .enumerate()
            .filter(|(i, t)| !hidden.get(*i).copied().unwrap_or(true) && t.missions > 0)
            .min_by_key(|(i, t)| (t.size(), t.missions, *i))
            .map(|(i, _)| i);
        if let Some(h) = partner.and_then(|i| hidden.get_mut(i)) {
            *h = true;
            notes.push(
                "1 more month suppressed, so that the suppressed one cannot be worked out \
                 from the total"
                    .to_owned(),
            );
        }
    }
    tallies
        .iter()
        .zip(hidden)
        .zip(1u8..)
        .map(|((t, hidden), month)| MonthRow {
            month,
            missions: (!hidden).then_some(t.missions),
            beneficiaries: (!hidden).then(|| count(t.size())),
            suppressed: hidden,
        })
        .collect()
}

/// The value at nearest rank `p` percent of `sorted` (non-empty, ascending).
fn nearest_rank(sorted: &[f64], p: usize) -> Option<f64> {
    let rank = (p * sorted.len()).div_ceil(100).max(1);
    sorted.get(rank - 1).copied()
}

fn round_to(value: f64, decimals: i32) -> f64 {
    let scale = 10f64.powi(decimals);
    (value * scale).round() / scale
}

fn durations(
    what: &str,
    missions: &[&Mission],
    step: fn(&Mission) -> Option<OffsetDateTime>,
    min: usize,
    notes: &mut Vec<String>,
) -> DurationStats {
    let mut contributors = BTreeSet::new();
    let mut hours: Vec<f64> = Vec::new();
    for m in missions {
        if let Some(at) = step(m) {
            contributors.insert(m.beneficiary.as_str());
            // A step recorded before the first contact is a recording error, read as no delay.
            let seconds = (at - m.first_contact).whole_seconds().max(0);
            hours.push(seconds as f64 / 3600.0);
        }
    }
    hours.sort_by(f64::total_cmp);
    let shown = !hours.is_empty() && contributors.len() >= min;
    if !hours.is_empty() && !shown {
        notes.push(format!(
            "{what}: median and 90th percentile not shown, fewer than {min} beneficiaries"
        ));
    }
    let at = |p| {
        shown
            .then(|| nearest_rank(&hours, p))
            .flatten()
            .map(|h| round_to(h, 1))
    };
    DurationStats {
        count: count(hours.len()),
        median_hours: at(50),
        p90_hours: at(90),
    }
}

fn rex(missions: &[&Mission]) -> RexStats {
    let of = |r: RexTimeliness| count(missions.iter().filter(|m| m.rex == r).count());
    let (pending, on_time, late, missing) = (
        of(RexTimeliness::Pending),
        of(RexTimeliness::OnTime),
        of(RexTimeliness::Late),
        of(RexTimeliness::Missing),
    );
    let decided = u64::from(on_time) + u64::from(late) + u64::from(missing);
    RexStats {
        due: count(
            missions
                .iter()
                .filter(|m| m.rex != RexTimeliness::NotDue)
                .count(),
        ),
        pending,
        on_time,
        late,
        missing,
        on_time_percent: (decided > 0)
            .then(|| round_to(f64::from(on_time) * 100.0 / decided as f64, 1)),
    }
}

fn satisfaction(missions: &[&Mission], min: usize, notes: &mut Vec<String>) -> SatisfactionStats {
    let answers: Vec<(&str, f64)> = missions
        .iter()
        .filter_map(|m| {
            m.satisfaction
                .filter(|s| s.is_finite())
                .map(|s| (m.beneficiary.as_str(), s))
        })
        .collect();
    let respondents: BTreeSet<&str> = answers.iter().map(|(b, _)| *b).collect();
    let shown = !answers.is_empty() && respondents.len() >= min;
    if !answers.is_empty() && !shown {
        notes.push(format!(
            "satisfaction: average not shown, fewer than {min} beneficiaries answered"
        ));
    }
    SatisfactionStats {
        answered: count(answers.len()),
        average: shown.then(|| {
            let sum: f64 = answers.iter().map(|(_, s)| s).sum();
            round_to(sum / answers.len() as f64, 2)
        }),
    }
}

/// `T` and four digits, optionally `.` and three: an ATT&CK technique or sub-technique id.
/// Anything else a REX holds is left out rather than printed.
fn technique_id(raw: &str) -> Option<String> {
    let id = raw.trim().to_uppercase();
    let bytes = id.as_bytes();
    let digits = |r: std::ops::Range<usize>| {
        bytes
            .get(r)
            .is_some_and(|d| d.iter().all(u8::is_ascii_digit))
    };
    let ok = bytes.first() == Some(&b'T')
        && digits(1..5)
        && match bytes.len() {
            5 => true,
            9 => bytes.get(5) == Some(&b'.') && digits(6..9),
            _ => false,
        };
    ok.then_some(id)
}

fn techniques(missions: &[&Mission], min: usize, notes: &mut Vec<String>) -> Vec<TechniqueRow> {
    let mut seen: BTreeMap<String, Tally> = BTreeMap::new();
    for m in missions {
        let ids: BTreeSet<String> = m
            .techniques
            .iter()
            .filter_map(|t| technique_id(t))
            .collect();
        for id in ids {
            seen.entry(id).or_default().add(m);
        }
    }
    let enough = min.max(1);
    let rare = seen.values().filter(|t| t.size() < enough).count();
    if rare > 0 {
        notes.push(format!(
            "{} seen in the missions of fewer than {min} beneficiaries not listed",
            plural(rare, "technique")
        ));
    }
    let mut rows: Vec<TechniqueRow> = seen
        .into_iter()
        .filter(|(_, t)| t.size() >= enough)
        .map(|(technique, t)| TechniqueRow {
            technique,
            missions: t.missions,
            beneficiaries: count(t.size()),
        })
        .collect();
    rows.sort_by(|a, b| {
        b.missions
            .cmp(&a.missions)
            .then_with(|| a.technique.cmp(&b.technique))
    });
    rows.truncate(TOP_TECHNIQUES);
    rows
}

fn rotation_stats(rotation: &[Rotation], audience: Audience) -> RotationStats {
    let proposals = rotation.iter().map(|r| r.proposals);
    let choices = rotation.iter().map(|r| r.choices);
    let summary = RotationSummary {
        providers: count(rotation.len()),
        proposals_min: proposals.clone().min(),
        proposals_max: proposals.max(),
        choices_min: choices.clone().min(),
        choices_max: choices.max(),
    };
    let providers = match audience {
        Audience::Csirt => {
            let mut rows = rotation.to_vec();
            rows.sort_by(|a, b| {
                a.name
                    .cmp(&b.name)
                    .then_with(|| a.provider.cmp(&b.provider))
            });
            rows
        }
        Audience::Providers => Vec::new(),
    };
    RotationStats { providers, summary }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::domain::reports::render;
    use proptest::prelude::*;
    use time::macros::datetime;

    /// A mission of `beneficiary` in `sector`, first contact on 2026-06-15, handed off after
    /// `hours` hours.
    pub(crate) fn mission(beneficiary: &str, sector: &str) -> Mission {
        Mission {
            beneficiary: beneficiary.into(),
            kind: BeneficiaryKind::Company,
            sector: sector.into(),
            size: SizeClass::Sme,
            category: IncidentCategory::Ransomware,
            first_contact: datetime!(2026-06-15 08:00 UTC),
            handed_off: None,
            closed: None,
            provider: Some("prov-1".into()),
            rex: RexTimeliness::NotDue,
            satisfaction: None,
            techniques: Vec::new(),
        }
    }

    pub(crate) fn rotation() -> Vec<Rotation> {
        vec![
            Rotation {
                provider: "org-cyberlagon".into(),
                name: "Cyber Lagon SAS".into(),
                proposals: 7,
                choices: 3,
            },
            Rotation {
                provider: "org-piton".into(),
                name: "Piton Sécurité".into(),
                proposals: 6,
                choices: 1,
            },
        ]
    }

    /// Twelve beneficiaries in three sectors of four, spread over the year.
    pub(crate) fn busy_year() -> Vec<Mission> {
        (0..12)
            .map(|i| {
                let mut m = mission(&format!("b{i}"), ["Santé", "commerce", "BTP"][i % 3]);
                m.first_contact = datetime!(2026-03-10 08:00 UTC);
                m
            })
            .collect()
    }

    fn everything(s: &AnnualStatistics) -> String {
        let json = serde_json::to_string(s).unwrap();
        let html = render::html(s, "CSIRT Réunion", datetime!(2027-01-20 06:00 UTC)).unwrap();
        format!("{json}\n{}\n{html}", render::csv(s))
    }

    fn visible_sum(rows: &[GroupRow]) -> u32 {
        rows.iter().filter_map(|r| r.missions).sum()
    }

    #[test]
    fn a_single_case_names_no_sector_anywhere() {
        let mut m = mission("mairie-sainte-rose", "Pêcherie artisanale");
        m.handed_off = Some(datetime!(2026-06-15 10:00 UTC));
        m.satisfaction = Some(3.5);
        m.techniques = vec!["T1486".into()];
        let s = compute(2026, &[m], &rotation(), 3, Audience::Providers);
        assert_eq!((s.missions, s.beneficiaries, s.handed_off), (1, 1, 1));
        let all = everything(&s).to_lowercase();
        assert!(
            !all.contains("pêcherie") && !all.contains("artisanale"),
            "{all}"
        );
        assert!(!all.contains("mairie-sainte-rose"));
        assert!(!all.contains("t1486"), "a technique of one beneficiary");
        let other = s.by_sector.last().unwrap();
        assert_eq!((other.group.as_str(), other.missions), (OTHER, None));
        assert!(other.suppressed);
        assert_eq!(s.by_sector.len(), 1);
        assert!(
            s.by_category.iter().all(|r| r.missions.is_none()),
            "{:?}",
            s.by_category
        );
        assert!(
            s.by_month
                .iter()
                .all(|r| r.suppressed && r.missions.is_none())
        );
        assert_eq!(s.time_to_handoff.median_hours, None);
        assert_eq!(s.satisfaction.average, None);
    }

    #[test]
    fn a_lone_suppressed_cell_takes_the_next_smallest_with_it() {
        let mut missions = Vec::new();
        for i in 0..5 {
            missions.push(mission(&format!("r{i}"), "santé"));
        }
        for i in 0..4 {
            let mut m = mission(&format!("p{i}"), "santé");
            m.category = IncidentCategory::Phishing;
            missions.push(m);
        }
        let mut m = mission("o", "santé");
        m.category = IncidentCategory::Other;
        missions.push(m);
        let s = compute(2026, &missions, &[], 3, Audience::Csirt);
        let row = |g: &str| s.by_category.iter().find(|r| r.group == g).unwrap();
        assert!(row(OTHER).suppressed && row(OTHER).missions.is_none());
        assert!(row("phishing").suppressed, "{:?}", s.by_category);
        assert_eq!(row("ransomware").missions, Some(5));
        assert_eq!(
            row("ddos").missions,
            Some(0),
            "nothing merged: zeros are shown"
        );
        assert_eq!(s.by_category.len(), IncidentCategory::ALL.len());
        assert!(s.suppressed.iter().any(|n| n.contains("1 more category")));
        // The differencing attack now gives phishing + other together, never other alone.
        assert_eq!(s.missions - visible_sum(&s.by_category), 5);
    }

    #[test]
    fn a_small_sector_is_merged_and_its_partner_too_without_its_name() {
        let mut missions = Vec::new();
        for i in 0..4 {
            missions.push(mission(&format!("a{i}"), "Agriculture"));
        }
        for i in 0..3 {
            missions.push(mission(&format!("b{i}"), "Tourisme"));
        }
        missions.push(mission("c", "Distillerie"));
        let s = compute(2026, &missions, &[], 3, Audience::Csirt);
        let groups: Vec<_> = s.by_sector.iter().map(|r| r.group.as_str()).collect();
        assert_eq!(groups, ["Agriculture", OTHER]);
        assert_eq!(s.by_sector[1].missions, Some(4));
        let all = everything(&s).to_lowercase();
        assert!(!all.contains("tourisme") && !all.contains("distillerie"));
        assert_eq!(visible_sum(&s.by_sector), s.missions);
    }

    #[test]
    fn merged_enum_rows_cannot_be_told_from_empty_ones() {
        let mut missions = busy_year();
        missions[0].kind = BeneficiaryKind::Association;
        let s = compute(2026, &missions, &[], 3, Audience::Csirt);
        let kinds = &s.by_beneficiary_kind;
        let row = |g: &str| kinds.iter().find(|r| r.group == g).unwrap();
        assert_eq!(
            *row("association"),
            row("local_authority").clone_as("association")
        );
        assert!(row("association").merged && row("association").missions.is_none());
        // "other" (1 association) is too small, so company is suppressed with it.
        assert!(row(OTHER).suppressed && row("company").suppressed);
    }

    impl GroupRow {
        fn clone_as(&self, group: &str) -> GroupRow {
            GroupRow {
                group: group.into(),
                ..self.clone()
            }
        }
    }

    #[test]
    fn totals_are_the_sum_of_the_visible_rows_when_nothing_is_suppressed() {
        let s = compute(2026, &busy_year(), &[], 3, Audience::Csirt);
        assert!(s.suppressed.is_empty(), "{:?}", s.suppressed);
        for rows in [
            &s.by_category,
            &s.by_beneficiary_kind,
            &s.by_sector,
            &s.by_size,
        ] {
            assert_eq!(visible_sum(rows), s.missions, "{rows:?}");
        }
        let months: u32 = s.by_month.iter().filter_map(|m| m.missions).sum();
        assert_eq!(months, 12);
        assert_eq!(s.by_month[2].missions, Some(12));
        let santé = s.by_sector.iter().find(|r| r.group == "Santé").unwrap();
        assert_eq!((santé.missions, santé.beneficiaries), (Some(4), Some(4)));
    }

    #[test]
    fn percentiles_are_by_nearest_rank() {
        let missions: Vec<Mission> = (1..=10)
            .map(|h| {
                let mut m = mission(&format!("b{h}"), "santé");
                m.handed_off = Some(m.first_contact + time::Duration::hours(h));
                m.closed = (h <= 2).then(|| m.first_contact + time::Duration::minutes(90));
                m
            })
            .collect();
        let s = compute(2026, &missions, &[], 3, Audience::Csirt);
        let h = &s.time_to_handoff;
        assert_eq!(
            (h.count, h.median_hours, h.p90_hours),
            (10, Some(5.0), Some(9.0))
        );
        let c = &s.time_to_closure;
        assert_eq!(
            (c.count, c.median_hours, c.p90_hours),
            (2, None, None),
            "2 < 3"
        );
        assert_eq!(nearest_rank(&[1.0], 90), Some(1.0));
        assert_eq!(nearest_rank(&[1.0, 2.0, 3.0, 4.0], 50), Some(2.0));
        assert_eq!(nearest_rank(&[], 50), None);
    }

    #[test]
    fn an_empty_year_has_every_row_and_no_figure() {
        let s = compute(2026, &[], &[], 3, Audience::Csirt);
        assert_eq!((s.missions, s.beneficiaries), (0, 0));
        assert_eq!(s.by_month.len(), 12);
        assert!(
            s.by_month
                .iter()
                .all(|m| m.missions == Some(0) && !m.suppressed)
        );
        assert_eq!(s.by_category.len(), IncidentCategory::ALL.len());
        assert_eq!(s.by_size.len(), SizeClass::ALL.len());
        assert!(s.by_sector.is_empty() && s.techniques.is_empty());
        assert_eq!(s.time_to_handoff.median_hours, None);
        assert_eq!(s.rex.on_time_percent, None);
        assert_eq!(s.rotation.summary.proposals_min, None);
        assert!(s.suppressed.is_empty());
        everything(&s);
    }

    #[test]
    fn the_providers_see_no_provider_names() {
        let s = compute(2026, &busy_year(), &rotation(), 3, Audience::Providers);
        assert!(s.rotation.providers.is_empty());
        assert_eq!(s.rotation.summary.providers, 2);
        assert_eq!(s.rotation.summary.proposals_max, Some(7));
        assert_eq!(s.rotation.summary.choices_min, Some(1));
        let all = everything(&s).to_lowercase();
        for name in ["cyber lagon", "piton", "org-", "prov-1"] {
            assert!(!all.contains(name), "{name}");
        }
        let s = compute(2026, &busy_year(), &rotation(), 3, Audience::Csirt);
        assert_eq!(s.rotation.providers[0].name, "Cyber Lagon SAS");
        assert!(everything(&s).contains("Piton Sécurité"));
    }

    #[test]
    fn months_are_counted_in_the_hubs_time_zone() {
        let at = |t| {
            let mut m = mission("b", "santé");
            m.first_contact = t;
            m
        };
        let missions = [
            at(datetime!(2025-12-31 21:00 UTC)), // 1 January 2026 in Réunion
            at(datetime!(2026-01-31 20:30 UTC)), // 1 February
            at(datetime!(2026-12-31 20:00 UTC)), // 2027 there: left out
        ];
        let s = compute(2026, &missions, &[], 1, Audience::Csirt);
        assert_eq!(s.missions, 2);
        assert_eq!(s.by_month[0].missions, Some(1));
        assert_eq!(s.by_month[1].missions, Some(1));
        assert!(s.suppressed.iter().any(|n| n.contains("1 missions")));
    }

    #[test]
    fn techniques_need_enough_beneficiaries_and_a_valid_id() {
        let mut missions = busy_year();
        for (i, m) in missions.iter_mut().enumerate() {
            m.techniques = vec![" t1486 ".into(), "T1486".into(), "<b>".into()];
            if i < 2 {
                m.techniques.push("T1566.001".into());
            }
        }
        let s = compute(2026, &missions, &[], 3, Audience::Csirt);
        assert_eq!(
            s.techniques,
            [TechniqueRow {
                technique: "T1486".into(),
                missions: 12,
                beneficiaries: 12
            }]
        );
        assert_eq!(technique_id("T1566.001").as_deref(), Some("T1566.001"));
        assert_eq!(technique_id("T15660"), None);
        assert_eq!(technique_id("T1566.01"), None);
    }

    #[test]
    fn rex_and_satisfaction() {
        let mut missions = busy_year();
        let states = [
            RexTimeliness::OnTime,
            RexTimeliness::OnTime,
            RexTimeliness::OnTime,
            RexTimeliness::Late,
            RexTimeliness::Missing,
            RexTimeliness::Pending,
        ];
        for (m, r) in missions.iter_mut().zip(states) {
            m.rex = r;
            m.satisfaction = Some(3.0);
        }
        missions[0].satisfaction = Some(4.0);
        let s = compute(2026, &missions, &[], 3, Audience::Csirt);
        assert_eq!((s.rex.due, s.rex.on_time, s.rex.pending), (6, 3, 1));
        assert_eq!(s.rex.on_time_percent, Some(60.0));
        assert_eq!(s.satisfaction.answered, 6);
        assert_eq!(s.satisfaction.average, Some(3.17));
    }

    fn arbitrary_mission() -> impl Strategy<Value = Mission> {
        (
            0..8u8,
            0..6u8,
            0..4usize,
            0..9usize,
            0..12u8,
            prop::bool::ANY,
        )
            .prop_map(|(b, sector, size, category, month, handed)| {
                let mut m = mission(&format!("ben{b}"), &format!("sector{sector}"));
                m.size = SizeClass::ALL[size];
                m.category = IncidentCategory::ALL[category];
                m.kind = BeneficiaryKind::ALL[usize::from(b) % 4];
                m.first_contact = datetime!(2026-01-10 08:00 UTC)
                    .replace_month(time::Month::try_from(month + 1).unwrap())
                    .unwrap();
                m.handed_off = handed.then(|| m.first_contact + time::Duration::hours(3));
                m
            })
    }

    fn check_dimension(rows: &[GroupRow], total: u32, min: u32) {
        for r in rows {
            if let Some(b) = r.beneficiaries {
                assert!(b == 0 || b >= min, "a small group shown: {rows:?}");
            }
        }
        let suppressed = rows.iter().filter(|r| r.suppressed).count();
        // A lone suppressed cell is allowed only when it holds the whole year, whose totals
        // are public anyway.
        if suppressed == 1 {
            assert_eq!(visible_sum(rows), 0, "a lone suppressed cell: {rows:?}");
        }
        if suppressed == 0 {
            assert_eq!(visible_sum(rows), total, "{rows:?}");
        }
    }

    proptest! {
        #[test]
        fn no_cell_counts_fewer_than_min_group(
            missions in prop::collection::vec(arbitrary_mission(), 0..40),
            min in 2u32..5,
        ) {
            let s = compute(2026, &missions, &[], min, Audience::Providers);
            for rows in [&s.by_category, &s.by_beneficiary_kind, &s.by_sector, &s.by_size] {
                check_dimension(rows, s.missions, min);
            }
            let hidden = s.by_month.iter().filter(|m| m.suppressed).count();
            for m in &s.by_month {
                if let Some(b) = m.beneficiaries {
                    prop_assert!(b == 0 || b >= min);
                }
            }
            if hidden == 0 {
                prop_assert_eq!(s.by_month.iter().filter_map(|m| m.missions).sum::<u32>(), s.missions);
            }
            let text = everything(&s);
            for sector in 0..6 {
                let name = format!("sector{sector}");
                let distinct: BTreeSet<&str> = missions
                    .iter()
                    .filter(|m| m.sector == name)
                    .map(|m| m.beneficiary.as_str())
                    .collect();
                if distinct.len() < min as usize {
                    prop_assert!(!text.contains(&name), "{} leaked", name);
                }
            }
        }
    }
}

/// Every form a reader gets, checked together.
#[cfg(test)]
mod forms {
    use super::*;
    use crate::domain::reports::render;
    use time::macros::datetime;

    fn mission(beneficiary: &str, sector: &str, category: IncidentCategory) -> Mission {
        Mission {
            beneficiary: beneficiary.into(),
            kind: BeneficiaryKind::Company,
            sector: sector.into(),
            size: SizeClass::Sme,
            category,
            first_contact: datetime!(2026-03-10 06:00 UTC),
            handed_off: Some(datetime!(2026-03-10 10:00 UTC)),
            closed: Some(datetime!(2026-03-20 10:00 UTC)),
            provider: Some("org--a".into()),
            rex: RexTimeliness::OnTime,
            satisfaction: Some(3.5),
            techniques: vec!["T1486".into()],
        }
    }

    fn rotation() -> Vec<Rotation> {
        vec![Rotation {
            provider: "org--a".into(),
            name: "Provider A".into(),
            proposals: 4,
            choices: 4,
        }]
    }

    /// Everything a reader can get of `stats`: the JSON, the CSV and the page.
    fn every_form(stats: &AnnualStatistics) -> String {
        let json = serde_json::to_string(stats).unwrap();
        let csv = render::csv(stats);
        let html = render::html(stats, "CSIRT", datetime!(2027-01-05 08:00 UTC)).unwrap();
        format!("{json}\n{csv}\n{html}")
    }

    #[test]
    fn a_sector_of_one_beneficiary_appears_in_no_form() {
        let mut missions: Vec<Mission> = (0..4)
            .map(|i| mission(&format!("b{i}"), "Commerce", IncidentCategory::Phishing))
            .collect();
        missions.push(mission(
            "alone",
            "Pêche hauturière",
            IncidentCategory::Phishing,
        ));
        let stats = compute(2026, &missions, &rotation(), 3, Audience::Csirt);
        assert_eq!(stats.missions, 5);
        let all = every_form(&stats);
        assert!(!all.contains("Pêche") && !all.contains("hauturi"), "{all}");
    }

    #[test]
    fn a_lone_suppressed_cell_takes_a_second_with_it() {
        // Ransomware 4 beneficiaries, phishing 1: phishing alone in "other" would be 1, and
        // ransomware shown would give it away from the total.
        let mut missions: Vec<Mission> = (0..4)
            .map(|i| mission(&format!("r{i}"), "Commerce", IncidentCategory::Ransomware))
            .collect();
        missions.push(mission("p", "Commerce", IncidentCategory::Phishing));
        let stats = compute(2026, &missions, &[], 3, Audience::Csirt);
        let shown: u32 = stats.by_category.iter().filter_map(|r| r.missions).sum();
        assert!(
            shown == 0 || shown == stats.missions,
            "what is shown must not let the total give away a hidden cell: {:?}",
            stats.by_category
        );
        assert!(!stats.suppressed.is_empty());
    }

    #[test]
    fn groups_big_enough_are_shown_and_add_up() {
        let missions: Vec<Mission> = (0..6)
            .map(|i| {
                let category = if i < 3 {
                    IncidentCategory::Ransomware
                } else {
                    IncidentCategory::Phishing
                };
                mission(&format!("b{i}"), "Commerce", category)
            })
            .collect();
        let stats = compute(2026, &missions, &rotation(), 3, Audience::Csirt);
        let shown: u32 = stats.by_category.iter().filter_map(|r| r.missions).sum();
        assert_eq!(shown, 6);
        let march = stats.by_month.iter().find(|m| m.month == 3).unwrap();
        assert_eq!(march.missions, Some(6));
        assert_eq!(stats.time_to_handoff.median_hours, Some(4.0));
        assert_eq!(stats.rex.on_time, 6);
        assert_eq!(stats.satisfaction.average, Some(3.5));
        assert_eq!(
            stats.techniques.first().map(|t| t.technique.as_str()),
            Some("T1486")
        );
    }

    #[test]
    fn the_same_beneficiary_counts_once() {
        let missions: Vec<Mission> = (0..5)
            .map(|_| mission("same", "Commerce", IncidentCategory::Ransomware))
            .collect();
        let stats = compute(2026, &missions, &[], 3, Audience::Csirt);
        assert_eq!(stats.beneficiaries, 1);
        assert!(
            stats
                .by_category
                .iter()
                .all(|r| r.missions.is_none() || r.missions == Some(0)),
            "five missions of one beneficiary still name it: {:?}",
            stats.by_category
        );
        assert_eq!(stats.time_to_handoff.median_hours, None);
        assert_eq!(stats.satisfaction.average, None);
        assert!(stats.techniques.is_empty());
    }

    #[test]
    fn providers_get_no_provider_named() {
        let missions: Vec<Mission> = (0..3)
            .map(|i| mission(&format!("b{i}"), "Commerce", IncidentCategory::Ransomware))
            .collect();
        let stats = compute(2026, &missions, &rotation(), 3, Audience::Providers);
        let all = every_form(&stats);
        assert!(
            !all.contains("Provider A") && !all.contains("org--a"),
            "{all}"
        );
        assert_eq!(stats.rotation.summary.providers, 1);
    }

    #[test]
    fn an_empty_year_still_draws_its_charts() {
        let stats = compute(2026, &[], &[], 3, Audience::Csirt);
        assert_eq!(stats.missions, 0);
        let charts = render::charts(&stats).unwrap();
        for svg in [
            &charts.by_month,
            &charts.by_category,
            &charts.by_beneficiary_kind,
            &charts.by_sector,
            &charts.by_size,
        ] {
            assert!(svg.starts_with("<svg") && svg.contains("<line"), "{svg}");
        }
        render::html(&stats, "CSIRT", datetime!(2027-01-05 08:00 UTC)).unwrap();
    }

    #[test]
    fn names_are_escaped_in_every_form() {
        let evil = "<script>alert(1)</script>&\"";
        let missions: Vec<Mission> = (0..3)
            .map(|i| mission(&format!("b{i}"), evil, IncidentCategory::Ransomware))
            .collect();
        let mut rotation = rotation();
        rotation[0].name = evil.into();
        let stats = compute(2026, &missions, &rotation, 3, Audience::Csirt);
        let html = render::html(&stats, evil, datetime!(2027-01-05 08:00 UTC)).unwrap();
        assert!(!html.contains("<script"), "{html}");
    }
}
