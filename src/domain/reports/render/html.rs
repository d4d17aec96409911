//! The statistics as one HTML page for the annual meeting: projected (1280×720) or printed
//! (a section per page). Self-contained: inline style and inline SVG charts, no script, no
//! external resource, so it can be mailed, archived and opened offline.

use askama::Template;
use time::OffsetDateTime;
use time::macros::format_description;

use super::charts::{Charts, charts};
use super::{RenderError, duration_value, number};
use crate::domain::registry::calendar;
use crate::domain::reports::statistics::{
    AnnualStatistics, Audience, DurationStats, GroupRow, MonthRow,
};

const HIDDEN: &str = "—";

/// One table row, its cells already worded.
struct Cells {
    group: String,
    missions: String,
    beneficiaries: String,
    note: &'static str,
}

fn cell(value: Option<u32>) -> String {
    value.map_or_else(|| HIDDEN.to_owned(), |v| v.to_string())
}

fn group_cells(rows: &[GroupRow]) -> Vec<Cells> {
    rows.iter()
        .map(|r| Cells {
            group: r.group.clone(),
            missions: cell(r.missions),
            beneficiaries: cell(r.beneficiaries),
            note: match (r.suppressed, r.merged) {
                (true, _) => "suppressed",
                (_, true) => "merged into other",
                _ => "",
            },
        })
        .collect()
}

const MONTHS: [&str; 12] = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
];

fn month_cells(rows: &[MonthRow]) -> Vec<Cells> {
    rows.iter()
        .map(|m| Cells {
            group: MONTHS
                .get(usize::from(m.month).saturating_sub(1))
                .map_or_else(|| m.month.to_string(), |n| (*n).to_owned()),
            missions: cell(m.missions),
            beneficiaries: cell(m.beneficiaries),
            note: if m.suppressed { "suppressed" } else { "" },
        })
        .collect()
}

/// A duration row: count, median, 90th percentile, worded like the CSV.
struct Duration {
    what: &'static str,
    count: u32,
    median: String,
    p90: String,
}

fn duration(what: &'static str, d: &DurationStats) -> Duration {
    let worded = |v| {
        let s = duration_value(d, v);
        if s.is_empty() { HIDDEN.to_owned() } else { s }
    };
    Duration {
        what,
        count: d.count,
        median: worded(d.median_hours),
        p90: worded(d.p90_hours),
    }
}

fn optional(value: Option<u32>) -> String {
    value.map_or_else(|| HIDDEN.to_owned(), |v| v.to_string())
}

#[derive(Template)]
#[template(path = "reports/annual.html")]
struct Page<'a> {
    title: String,
    hub_name: &'a str,
    generated_at: String,
    audience: &'static str,
    s: &'a AnnualStatistics,
    months: Vec<Cells>,
    dimensions: Vec<(&'static str, String, Vec<Cells>)>,
    durations: Vec<Duration>,
    on_time_percent: String,
    satisfaction_average: String,
    rotation_chart: Option<String>,
    rotation_summary: Vec<(&'static str, String)>,
    charts: Charts,
}

/// The page of `stats`, for the CSIRT hub `hub_name`, stamped `generated_at` (shown in the
/// hub's time zone).
pub fn html(
    stats: &AnnualStatistics,
    hub_name: &str,
    generated_at: OffsetDateTime,
) -> Result<String, RenderError> {
    let mut charts = charts(stats)?;
    let stamp = calendar::local(generated_at).format(format_description!(
        "[year]-[month]-[day] [hour]:[minute] UTC[offset_hour sign:mandatory]:[offset_minute]"
    ))?;
    let summary = &stats.rotation.summary;
    let page = Page {
        title: format!("CSIRT annual statistics {}", stats.year),
        hub_name,
        generated_at: stamp,
        audience: match stats.audience {
            Audience::Csirt => "the CSIRT",
            Audience::Providers => "the referenced providers",
        },
        s: stats,
        months: month_cells(&stats.by_month),
        dimensions: vec![
            (
                "Incident category",
                std::mem::take(&mut charts.by_category),
                group_cells(&stats.by_category),
            ),
            (
                "Kind of beneficiary",
                std::mem::take(&mut charts.by_beneficiary_kind),
                group_cells(&stats.by_beneficiary_kind),
            ),
            (
                "Sector",
                std::mem::take(&mut charts.by_sector),
                group_cells(&stats.by_sector),
            ),
            (
                "Size of beneficiary",
                std::mem::take(&mut charts.by_size),
                group_cells(&stats.by_size),
            ),
        ],
        durations: vec![
            duration("From first contact to handoff", &stats.time_to_handoff),
            duration("From first contact to closure", &stats.time_to_closure),
        ],
        on_time_percent: stats
            .rex
            .on_time_percent
            .map_or_else(|| HIDDEN.to_owned(), number),
        satisfaction_average: match stats.satisfaction.average {
            Some(a) => number(a),
            None if stats.satisfaction.answered > 0 => "suppressed".to_owned(),
            None => HIDDEN.to_owned(),
        },
        rotation_chart: charts.rotation.take(),
        rotation_summary: vec![
            ("Referenced providers", summary.providers.to_string()),
            ("Fewest proposals", optional(summary.proposals_min)),
            ("Most proposals", optional(summary.proposals_max)),
            ("Fewest choices", optional(summary.choices_min)),
            ("Most choices", optional(summary.choices_max)),
        ],
        charts,
    };
    Ok(page.render()?)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::reports::statistics::compute;
    use crate::domain::reports::statistics::tests::{busy_year, rotation};
    use time::macros::datetime;

    const AT: OffsetDateTime = datetime!(2027-01-20 06:00 UTC);

    #[test]
    fn the_page_is_self_contained_and_escaped() {
        let mut missions = busy_year();
        for m in missions.iter_mut().take(6) {
            m.sector = "<script>alert(1)</script>&\"".into();
        }
        let s = compute(2026, &missions, &rotation(), 3, Audience::Csirt);
        let page = html(&s, "CSIRT <Réunion>", AT).unwrap();
        assert!(page.contains("<title>CSIRT annual statistics 2026</title>"));
        assert!(page.contains("CSIRT &#60;Réunion&#62;") || page.contains("CSIRT &lt;Réunion&gt;"));
        for forbidden in ["<script", "<link", "src=", "href=", "@import", "url("] {
            assert!(!page.contains(forbidden), "{forbidden}");
        }
        assert!(page.contains("@media print") && page.contains("<svg"));
        assert!(page.contains("fewer than 3 distinct beneficiaries"));
        assert!(page.contains("2027-01-20 10:00 UTC+04:00"), "hub time");
    }

    #[test]
    fn the_tables_show_the_json_numbers() {
        let s = compute(2026, &busy_year(), &rotation(), 3, Audience::Csirt);
        let page = html(&s, "CSIRT", AT).unwrap();
        let santé = s.by_sector.iter().find(|r| r.group == "Santé").unwrap();
        assert_eq!(santé.missions, Some(4));
        assert!(page.contains("<tr><td>Santé</td><td class=\"n\">4</td><td class=\"n\">4</td>"));
        assert!(page.contains("<tr><td>March</td><td class=\"n\">12</td>"));
        assert!(page.contains("Cyber Lagon SAS"));
    }

    #[test]
    fn an_empty_year_renders() {
        let s = compute(2026, &[], &[], 3, Audience::Providers);
        let page = html(&s, "CSIRT", AT).unwrap();
        assert_eq!(page.matches("<svg").count(), 5);
        assert!(page.contains("Nothing: every group"));
    }
}
