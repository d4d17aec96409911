//! A compliance report as CSV (one row per level, then one per breach) and as one
//! self-contained HTML page with its chart, drawn by the same SVG bar chart as the annual
//! statistics. Pure functions of a `ComplianceReport`.

use askama::Template;

use super::report::ComplianceReport;
use crate::domain::reports::render::RenderError;
use crate::domain::reports::render::charts::{Bar, BarValue, bar_chart};

const HEADER: [&str; 16] = [
    "row",
    "level",
    "name",
    "delay_minutes",
    "count",
    "met",
    "breached",
    "open",
    "median_minutes",
    "p90_minutes",
    "alert",
    "external_id",
    "detected_at",
    "due_at",
    "acknowledged_at",
    "late_minutes",
];

fn rfc3339(t: time::OffsetDateTime) -> String {
    t.format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_else(|_| t.to_string())
}

fn opt(v: Option<i64>) -> String {
    v.map_or_else(String::new, |v| v.to_string())
}

/// A value a SOC chose (its own alert ids) as a spreadsheet will not run it: a cell that
/// starts like a formula gets a leading apostrophe (OWASP, CSV injection).
fn cell(text: &str) -> String {
    if text.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        format!("'{text}")
    } else {
        text.to_owned()
    }
}

/// One table: `row` is `level` for the compliance of a level (columns `level` to
/// `p90_minutes`), `no_service_level` for the alerts before production (`count`), and `breach`
/// for one breach (`level`, `name` and the columns from `alert` on).
pub fn csv(report: &ComplianceReport) -> Result<String, RenderError> {
    let mut w = ::csv::Writer::from_writer(Vec::new());
    let err = |e: ::csv::Error| RenderError::Csv(e.to_string());
    w.write_record(HEADER).map_err(err)?;
    let blank = || String::new();
    for l in &report.levels {
        let mut row = vec![
            "level".to_owned(),
            l.level.number().to_string(),
            l.name.to_owned(),
            l.delay_minutes.to_string(),
            l.count.to_string(),
            l.met.to_string(),
            l.breached.to_string(),
            l.open.to_string(),
            opt(l.median_minutes),
            opt(l.p90_minutes),
        ];
        row.resize_with(HEADER.len(), blank);
        w.write_record(&row).map_err(err)?;
    }
    let mut row = vec![
        "no_service_level".to_owned(),
        blank(),
        blank(),
        blank(),
        report.without_service_level.to_string(),
    ];
    row.resize_with(HEADER.len(), blank);
    w.write_record(&row).map_err(err)?;
    for b in &report.breaches {
        let mut row = vec![
            "breach".to_owned(),
            b.level.number().to_string(),
            b.level.name().to_owned(),
        ];
        row.resize_with(10, blank);
        row.extend([
            b.alert.clone(),
            cell(&b.external_id),
            rfc3339(b.detected_at),
            rfc3339(b.due_at),
            b.acknowledged_at.map_or_else(blank, rfc3339),
            b.late_minutes.to_string(),
        ]);
        w.write_record(&row).map_err(err)?;
    }
    let bytes = w
        .into_inner()
        .map_err(|e| RenderError::Csv(e.to_string()))?;
    String::from_utf8(bytes).map_err(|e| RenderError::Csv(e.to_string()))
}

struct Row {
    level: String,
    delay: String,
    count: u64,
    met: u64,
    breached: u64,
    open: u64,
    median: String,
    p90: String,
}

struct BreachRow {
    alert: String,
    external_id: String,
    level: String,
    detected: String,
    due: String,
    acknowledged: String,
    late: i64,
}

#[derive(Template)]
#[template(path = "reports/sla.html")]
struct Page<'a> {
    title: String,
    computed: String,
    r: &'a ComplianceReport,
    chart: String,
    rows: Vec<Row>,
    breaches: Vec<BreachRow>,
}

fn minutes(m: i64) -> String {
    if m >= 60 {
        format!("{} h {:02}", m / 60, m % 60)
    } else {
        format!("{m} min")
    }
}

/// The page; `local` writes an instant on the contract calendar's wall clock.
pub fn html(
    report: &ComplianceReport,
    local: impl Fn(time::OffsetDateTime) -> String,
) -> Result<String, RenderError> {
    let bars: Vec<Bar> = report
        .levels
        .iter()
        .map(|l| Bar {
            label: format!("{} {}", l.level.number(), l.name),
            values: vec![
                BarValue::Count(u32::try_from(l.met).unwrap_or(u32::MAX)),
                BarValue::Count(u32::try_from(l.breached).unwrap_or(u32::MAX)),
            ],
        })
        .collect();
    let chart = bar_chart(
        "Alerts taken into account in time, by level",
        "alerts",
        &["met", "breached"],
        &bars,
    )?;
    let page = Page {
        title: format!(
            "SOC service levels: {} ({} to {})",
            report.client, report.from, report.to
        ),
        computed: local(report.computed_at),
        r: report,
        chart,
        rows: report
            .levels
            .iter()
            .map(|l| Row {
                level: format!("{} ({})", l.level.number(), l.name),
                delay: minutes(l.delay_minutes),
                count: l.count,
                met: l.met,
                breached: l.breached,
                open: l.open,
                median: l.median_minutes.map_or_else(String::new, minutes),
                p90: l.p90_minutes.map_or_else(String::new, minutes),
            })
            .collect(),
        breaches: report
            .breaches
            .iter()
            .map(|b| BreachRow {
                alert: b.alert.clone(),
                external_id: b.external_id.clone(),
                level: format!("{} ({})", b.level.number(), b.level.name()),
                detected: local(b.detected_at),
                due: local(b.due_at),
                acknowledged: b
                    .acknowledged_at
                    .map_or_else(|| "not yet".to_owned(), &local),
                late: b.late_minutes,
            })
            .collect(),
    };
    Ok(page.render()?)
}
