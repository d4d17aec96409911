//! A contract's compliance report over a period, as JSON, CSV or an HTML page with its chart.

use time::{Date, OffsetDateTime};

use super::{Sla, SlaError};
use crate::domain::access::RegistryRecord;
use crate::domain::sla::report::{ComplianceReport, compliance};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReportFormat {
    Json,
    Csv,
    Html,
}

/// A rendered report: its media type and body (JSON is the caller's to serialise).
pub enum Rendered {
    Json(Box<ComplianceReport>),
    Text(&'static str, String),
}

impl Sla<'_> {
    /// Compliance of the alerts detected in [from, to) (local dates of the contract's
    /// calendar), read at `now`.
    pub async fn report(
        &self,
        caller: &RegistryRecord,
        id: &str,
        (from, to): (Date, Date),
        format: ReportFormat,
        now: OffsetDateTime,
    ) -> Result<Rendered, SlaError> {
        if to <= from || (to - from).whole_days() > super::MAX_PERIOD_DAYS {
            return Err(SlaError::Invalid(format!(
                "the period must end after it starts and last at most {} days",
                super::MAX_PERIOD_DAYS
            )));
        }
        let d = self.disclosed(caller, id).await?;
        let contract = d.contract();
        let calendar = self.calendar(&contract.calendar)?;
        let alerts: Vec<_> = super::period_alerts(self.store, &contract.id, calendar, (from, to))
            .await?
            .into_iter()
            .map(|s| s.alert)
            .collect();
        let report = compliance(contract, calendar, &alerts, (from, to), now)?;
        let render =
            |e: crate::domain::reports::render::RenderError| SlaError::Render(e.to_string());
        Ok(match format {
            ReportFormat::Json => Rendered::Json(Box::new(report)),
            ReportFormat::Csv => Rendered::Text(
                "text/csv; charset=utf-8",
                crate::domain::sla::render::csv(&report).map_err(render)?,
            ),
            ReportFormat::Html => Rendered::Text(
                "text/html; charset=utf-8",
                crate::domain::sla::render::html(&report, |t| {
                    format!("{} ({})", calendar.local_text(t), calendar.zone())
                })
                .map_err(render)?,
            ),
        })
    }
}
