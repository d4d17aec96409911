//! The annual statistics as the meeting sees them: a CSV table for spreadsheets, SVG charts
//! and one self-contained HTML page. Pure functions of an [`AnnualStatistics`], which already
//! hides every small group: nothing here decides what may be shown.
//!
//! [`AnnualStatistics`]: super::statistics::AnnualStatistics

pub mod charts;
pub mod csv;
pub mod html;

pub use charts::{Charts, charts};
pub use csv::csv;
pub use html::html;

/// A rendering that could not be produced.
#[derive(Debug, thiserror::Error)]
pub enum RenderError {
    #[error("drawing a chart: {0}")]
    Chart(String),
    #[error("rendering the page: {0}")]
    Template(#[from] askama::Error),
    #[error("writing CSV: {0}")]
    Csv(String),
    #[error("formatting a date: {0}")]
    Date(#[from] time::error::Format),
}

use super::statistics::DurationStats;

/// A decimal as the JSON has it (`12.5`; a whole number without its `.0`).
fn number(value: f64) -> String {
    format!("{value}")
}

/// A median or percentile: its value, `suppressed` when missions reached the step but too few
/// beneficiaries did, nothing when none did.
fn duration_value(d: &DurationStats, value: Option<f64>) -> String {
    match value {
        Some(v) => number(v),
        None if d.count > 0 => "suppressed".to_owned(),
        None => String::new(),
    }
}
