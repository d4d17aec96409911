//! Bar charts of the statistics as SVG, drawn on the server with plotters so that the page
//! needs no script. Bars run horizontally: category and sector names stay readable however
//! many there are. Labels are `<text>` elements that plotters' SVG backend escapes, so a
//! sector named `<script>` is text, not markup; the viewer's font draws them.

use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use super::RenderError;
use crate::domain::reports::statistics::{AnnualStatistics, GroupRow};

const WIDTH: u32 = 960;
const ROW_HEIGHT: u32 = 34;
/// Caption, x axis and margins.
const FRAME_HEIGHT: u32 = 110;
const LABEL_AREA: u32 = 240;
/// Longest label drawn, in characters: longer ones are cut with an ellipsis.
const MAX_LABEL: usize = 30;
const FONT: &str = "sans-serif";
const COLOURS: [RGBColor; 2] = [RGBColor(0x1f, 0x5f, 0xa8), RGBColor(0xe0, 0x7b, 0x1a)];
const MONTHS: [&str; 12] = [
    "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
];

/// What one bar of a series shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BarValue {
    Count(u32),
    /// Not drawn; the text (e.g. "suppressed") is written in its place.
    Hidden(&'static str),
}

/// One row of a chart: its label and one value per series.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Bar {
    pub label: String,
    pub values: Vec<BarValue>,
}

/// The charts of the page, each a complete `<svg>` element.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Charts {
    pub by_month: String,
    pub by_category: String,
    pub by_beneficiary_kind: String,
    pub by_sector: String,
    pub by_size: String,
    /// Proposals and choices per provider: only when the statistics name providers (CSIRT).
    pub rotation: Option<String>,
}

fn chart_error(e: impl std::fmt::Display) -> RenderError {
    RenderError::Chart(e.to_string())
}

fn short(label: &str) -> String {
    if label.chars().count() > MAX_LABEL {
        let cut: String = label.chars().take(MAX_LABEL - 1).collect();
        format!("{cut}…")
    } else {
        label.to_owned()
    }
}

fn value_of(missions: Option<u32>, merged: bool) -> BarValue {
    match (missions, merged) {
        (Some(n), _) => BarValue::Count(n),
        (None, true) => BarValue::Hidden("merged into other"),
        (None, false) => BarValue::Hidden("suppressed"),
    }
}

fn group_bars(rows: &[GroupRow]) -> Vec<Bar> {
    rows.iter()
        .map(|r| Bar {
            label: r.group.clone(),
            values: vec![value_of(r.missions, r.merged)],
        })
        .collect()
}

/// A horizontal bar chart with one bar per row and series. With no rows, or only zeros, the
/// axes are drawn all the same, so an empty year still shows its charts.
pub fn bar_chart(
    title: &str,
    axis: &str,
    series: &[&str],
    bars: &[Bar],
) -> Result<String, RenderError> {
    let rows = u32::try_from(bars.len()).unwrap_or(u32::MAX).max(1);
    let height = FRAME_HEIGHT.saturating_add(ROW_HEIGHT.saturating_mul(rows));
    let max = bars
        .iter()
        .flat_map(|b| &b.values)
        .filter_map(|v| match v {
            BarValue::Count(n) => Some(*n),
            BarValue::Hidden(_) => None,
        })
        .max()
        .unwrap_or(0);
    // Room after the longest bar for its number.
    let x_end = max
        .saturating_add(max / 8)
        .max(max.saturating_add(1))
        .max(4);
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, (WIDTH, height)).into_drawing_area();
        root.fill(&WHITE).map_err(chart_error)?;
        let mut chart = ChartBuilder::on(&root)
            .caption(title, (FONT, 28))
            .margin(12)
            .x_label_area_size(40)
            .y_label_area_size(LABEL_AREA)
            .build_cartesian_2d(0u32..x_end, 0f64..f64::from(rows))
            .map_err(chart_error)?;
        chart
            .configure_mesh()
            .disable_y_mesh()
            .y_labels(0)
            .x_desc(axis)
            .label_style((FONT, 17))
            .draw()
            .map_err(chart_error)?;
        let lanes = series.len().max(1);
        let lane = 0.8 / lanes as f64;
        for (s, name) in series.iter().enumerate() {
            let colour = COLOURS.get(s % COLOURS.len()).copied().unwrap_or(BLUE);
            let top = |i: usize| rows as f64 - i as f64 - 0.1 - lane * s as f64;
            let drawn =
                chart
                    .draw_series(bars.iter().enumerate().filter_map(
                        |(i, b)| match b.values.get(s) {
                            Some(BarValue::Count(n)) if *n > 0 => Some(Rectangle::new(
                                [(0, top(i)), (*n, top(i) - lane)],
                                colour.filled(),
                            )),
                            _ => None,
                        },
                    ))
                    .map_err(chart_error)?;
            if series.len() > 1 {
                drawn.label(*name).legend(move |(x, y)| {
                    Rectangle::new([(x, y - 5), (x + 12, y + 5)], colour.filled())
                });
            }
            for (i, b) in bars.iter().enumerate() {
                let middle = top(i) - lane / 2.0;
                let (at, text, colour) = match b.values.get(s) {
                    Some(BarValue::Count(n)) => (*n, n.to_string(), BLACK),
                    Some(BarValue::Hidden(why)) => {
                        (0, (*why).to_owned(), RGBColor(0x66, 0x66, 0x66))
                    }
                    None => continue,
                };
                let (x, y) = chart.backend_coord(&(at, middle));
                let style = TextStyle::from((FONT, 17).into_font())
                    .color(&colour)
                    .pos(Pos::new(HPos::Left, VPos::Center));
                root.draw(&Text::new(text, (x + 4, y), style))
                    .map_err(chart_error)?;
            }
        }
        let label_style = TextStyle::from((FONT, 18).into_font())
            .color(&BLACK)
            .pos(Pos::new(HPos::Right, VPos::Center));
        for (i, b) in bars.iter().enumerate() {
            let (x, y) = chart.backend_coord(&(0, rows as f64 - i as f64 - 0.5));
            root.draw(&Text::new(short(&b.label), (x - 8, y), label_style.clone()))
                .map_err(chart_error)?;
        }
        if series.len() > 1 {
            chart
                .configure_series_labels()
                .position(SeriesLabelPosition::LowerRight)
                .background_style(WHITE.mix(0.9))
                .border_style(BLACK)
                .label_font((FONT, 17))
                .draw()
                .map_err(chart_error)?;
        }
        root.present().map_err(chart_error)?;
    }
    Ok(svg)
}

fn month_bars(stats: &AnnualStatistics) -> Vec<Bar> {
    stats
        .by_month
        .iter()
        .map(|m| Bar {
            label: MONTHS
                .get(usize::from(m.month).saturating_sub(1))
                .map_or_else(|| m.month.to_string(), |n| (*n).to_owned()),
            values: vec![value_of(m.missions, false)],
        })
        .collect()
}

fn rotation_chart(stats: &AnnualStatistics) -> Result<Option<String>, RenderError> {
    if stats.rotation.providers.is_empty() {
        return Ok(None);
    }
    let bars: Vec<Bar> = stats
        .rotation
        .providers
        .iter()
        .map(|p| Bar {
            label: p.name.clone(),
            values: vec![BarValue::Count(p.proposals), BarValue::Count(p.choices)],
        })
        .collect();
    bar_chart(
        "Shortlist proposals and choices per provider",
        "shortlists",
        &["proposals", "choices"],
        &bars,
    )
    .map(Some)
}

/// Every chart of the page.
pub fn charts(stats: &AnnualStatistics) -> Result<Charts, RenderError> {
    let one = |title: &str, bars: Vec<Bar>| bar_chart(title, "missions", &["missions"], &bars);
    Ok(Charts {
        by_month: one("Missions by month of first contact", month_bars(stats))?,
        by_category: one(
            "Missions by incident category",
            group_bars(&stats.by_category),
        )?,
        by_beneficiary_kind: one(
            "Missions by kind of beneficiary",
            group_bars(&stats.by_beneficiary_kind),
        )?,
        by_sector: one("Missions by sector", group_bars(&stats.by_sector))?,
        by_size: one(
            "Missions by size of beneficiary",
            group_bars(&stats.by_size),
        )?,
        rotation: rotation_chart(stats)?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::reports::statistics::tests::{busy_year, rotation};
    use crate::domain::reports::statistics::{Audience, compute};

    #[test]
    fn an_empty_year_draws_empty_axes() {
        let s = compute(2026, &[], &[], 3, Audience::Csirt);
        let c = charts(&s).unwrap();
        for svg in [
            &c.by_month,
            &c.by_category,
            &c.by_sector,
            &c.by_size,
            &c.by_beneficiary_kind,
        ] {
            assert!(
                svg.starts_with("<svg") && svg.trim_end().ends_with("</svg>"),
                "{svg}"
            );
            assert!(svg.contains("<text") && svg.contains("missions"), "{svg}");
            assert!(
                svg.contains("<line") || svg.contains("<polyline"),
                "axes: {svg}"
            );
        }
        assert!(c.by_month.contains(">\nJan\n<") || c.by_month.contains("Jan"));
        assert!(c.by_sector.contains("Missions by sector"));
        assert_eq!(c.rotation, None);
    }

    #[test]
    fn labels_are_escaped_and_hidden_bars_are_not_drawn() {
        let mut missions = busy_year();
        for m in missions.iter_mut().take(6) {
            m.sector = "<script>alert(1)</script>&\"".into();
        }
        missions[0].category = crate::domain::cases::qualification::IncidentCategory::Phishing;
        let s = compute(2026, &missions, &rotation(), 3, Audience::Csirt);
        let c = charts(&s).unwrap();
        assert!(c.by_category.contains("suppressed"));
        assert!(!c.by_sector.contains("<script"), "{}", c.by_sector);
        assert!(
            c.by_sector
                .contains("&lt;script&gt;alert(1)&lt;/script&gt;&amp;&quot;")
        );
        assert!(c.by_category.contains("merged into other"));
        let rotation = c.rotation.unwrap();
        assert!(rotation.contains("Cyber Lagon SAS") && rotation.contains("choices"));
        let bars = bar_chart(
            "t",
            "missions",
            &["missions"],
            &[Bar {
                label: "x".into(),
                values: vec![BarValue::Hidden("suppressed")],
            }],
        )
        .unwrap();
        assert!(bars.contains("suppressed"));
        assert!(
            !bars.contains("fill=\"#1F5FA8\""),
            "no bar for a hidden value: {bars}"
        );
    }
}
