//! The facts the statistics and the annual summaries are computed from, read from the store:
//! one `Mission` per qualified case, the rotation's proposals and choices; and the CSIRT's
//! annual statistics in their three forms.

use std::collections::HashMap;

use time::OffsetDateTime;

use super::{ReportError, Reports};
use crate::domain::cases::handoff::HandoffStatus;
use crate::domain::principal::OrganisationId;
use crate::domain::reports::deadlines::hub_day;
use crate::domain::reports::statistics::{
    AnnualStatistics, Audience, Mission, RexTimeliness, Rotation, compute,
};
use crate::store::Store;
use crate::store::reports::StoredRex;

/// Most years back the statistics go (a typo is not a year).
pub const FIRST_YEAR: i32 = crate::domain::reports::summary::FIRST_YEAR;

/// Told how far a computation is: `done` of `total` cases read.
pub type Progress<'p> = &'p (dyn Fn(u64, u64) + Send + Sync);

/// No one is watching.
pub fn silent(_: u64, _: u64) {}

/// The missions whose first contact falls in `year` (the hub's calendar), or only those
/// handed to `provider` (an accepted handoff).
pub(super) async fn missions(
    store: &dyn Store,
    year: i32,
    provider: Option<&OrganisationId>,
    now: OffsetDateTime,
    progress: Progress<'_>,
) -> Result<Vec<Mission>, ReportError> {
    let today = hub_day(now);
    let mut accepted: HashMap<String, (OrganisationId, OffsetDateTime)> = HashMap::new();
    for h in store.all_handoffs().await? {
        if h.status == HandoffStatus::Accepted {
            accepted.insert(
                h.case_id.clone(),
                (h.provider.clone(), h.answered_at.unwrap_or(h.created_at)),
            );
        }
    }
    let mut first_rex: HashMap<String, StoredRex> = HashMap::new();
    for r in store.first_rex_versions().await? {
        first_rex.insert(r.case_id.clone(), r);
    }
    let mut satisfaction: HashMap<String, f64> = HashMap::new();
    for p in store.providers().await? {
        for s in store.surveys_of(&p.organisation.id).await? {
            if let Some(avg) = s.average {
                satisfaction.insert(s.case_id, avg);
            }
        }
    }
    let mut out = Vec::new();
    let files = store.case_files().await?;
    let total = u64::try_from(files.len()).unwrap_or(u64::MAX);
    for (done, file) in files.into_iter().enumerate() {
        progress(u64::try_from(done).unwrap_or(u64::MAX), total);
        let Some(q) = &file.qualification else {
            continue;
        };
        if hub_day(file.case.created_at).year() != year {
            continue;
        }
        let handed = accepted.get(&file.case.id);
        if provider.is_some_and(|p| handed.map(|(h, _)| h) != Some(p)) {
            continue;
        }
        let due = file.closure.as_ref().and_then(|c| c.rex_due);
        let rex = match (due, first_rex.get(&file.case.id)) {
            (None, _) => RexTimeliness::NotDue,
            (Some(_), Some(r)) if r.on_time => RexTimeliness::OnTime,
            (Some(_), Some(_)) => RexTimeliness::Late,
            (Some(d), None) if today > d => RexTimeliness::Missing,
            (Some(_), None) => RexTimeliness::Pending,
        };
        // The techniques of the latest version: an amendment corrects the first.
        let techniques = match first_rex.contains_key(&file.case.id) {
            true => store
                .rex_of_case(&file.case.id)
                .await?
                .pop()
                .map(|r| r.report.techniques)
                .unwrap_or_default(),
            false => Vec::new(),
        };
        out.push(Mission {
            beneficiary: file.beneficiary_key(),
            kind: q.beneficiary.kind,
            sector: q.beneficiary.sector.clone(),
            size: q.beneficiary.size,
            category: q.incident.category,
            first_contact: file.case.created_at,
            handed_off: handed.map(|(_, at)| *at),
            closed: file.closure.as_ref().map(|c| c.closed_at),
            provider: handed.map(|(p, _)| p.as_str().to_owned()),
            rex,
            satisfaction: satisfaction.get(&file.case.id).copied(),
            techniques,
        });
    }
    progress(total, total);
    Ok(out)
}

/// Proposals (every shortlist drawn in `year`) and choices (every handoff made in it) per
/// referenced provider, those never proposed included.
async fn rotation(store: &dyn Store, year: i32) -> Result<Vec<Rotation>, ReportError> {
    let mut rows: Vec<Rotation> = store
        .providers()
        .await?
        .into_iter()
        .filter(|p| p.referencing.is_referenced())
        .map(|p| Rotation {
            provider: p.organisation.id.as_str().to_owned(),
            name: p.organisation.name.clone(),
            proposals: 0,
            choices: 0,
        })
        .collect();
    let row = |org: &OrganisationId, rows: &mut Vec<Rotation>| -> usize {
        match rows.iter().position(|r| r.provider == org.as_str()) {
            Some(i) => i,
            None => {
                rows.push(Rotation {
                    provider: org.as_str().to_owned(),
                    name: String::new(),
                    proposals: 0,
                    choices: 0,
                });
                rows.len() - 1
            }
        }
    };
    for file in store.case_files().await? {
        for list in store.shortlists(&file.case.id).await? {
            if hub_day(list.created_at).year() != year {
                continue;
            }
            for entry in &list.document.entries {
                let i = row(&entry.provider, &mut rows);
                rows[i].proposals += 1;
            }
        }
    }
    for h in store.all_handoffs().await? {
        if hub_day(h.created_at).year() == year {
            let i = row(&h.provider, &mut rows);
            rows[i].choices += 1;
        }
    }
    Ok(rows)
}

/// The CSIRT's statistics of `year` for `audience`, from the store alone (the command line
/// runs it on the hub's host with a progress bar).
pub async fn annual(
    store: &dyn Store,
    min_group: u32,
    year: i32,
    audience: Audience,
    now: OffsetDateTime,
    progress: Progress<'_>,
) -> Result<AnnualStatistics, ReportError> {
    let current = hub_day(now).year();
    if !(FIRST_YEAR..=current).contains(&year) {
        return Err(ReportError::Invalid(format!(
            "year: from {FIRST_YEAR} to {current}"
        )));
    }
    let missions = missions(store, year, None, now, progress).await?;
    let rotation = rotation(store, year).await?;
    Ok(compute(year, &missions, &rotation, min_group, audience))
}

impl Reports<'_> {
    /// The CSIRT's statistics of `year` for `audience` (the caller's kind was checked at the
    /// edge: providers get the aggregates-only form).
    pub async fn annual_statistics(
        &self,
        year: i32,
        audience: Audience,
        now: OffsetDateTime,
    ) -> Result<AnnualStatistics, ReportError> {
        annual(
            self.store,
            self.settings.min_group,
            year,
            audience,
            now,
            &silent,
        )
        .await
    }
}

/// The forms of the annual statistics.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum StatisticsFormat {
    Json,
    Csv,
    Html,
}

impl StatisticsFormat {
    pub fn media_type(self) -> &'static str {
        match self {
            StatisticsFormat::Json => "application/json",
            StatisticsFormat::Csv => "text/csv; charset=utf-8",
            StatisticsFormat::Html => "text/html; charset=utf-8",
        }
    }

    /// The form a file name asks for (`report.html`, `stats.csv`, `stats.json`).
    pub fn of_path(path: &std::path::Path) -> Option<Self> {
        match path.extension()?.to_str()?.to_ascii_lowercase().as_str() {
            "json" => Some(StatisticsFormat::Json),
            "csv" => Some(StatisticsFormat::Csv),
            "html" | "htm" => Some(StatisticsFormat::Html),
            _ => None,
        }
    }
}

/// `stats` in `format`: the JSON document, the CSV table, or the self-contained HTML page
/// (for the hub `hub_name`, stamped `generated_at`).
pub fn render(
    stats: &AnnualStatistics,
    format: StatisticsFormat,
    hub_name: &str,
    generated_at: OffsetDateTime,
) -> Result<String, ReportError> {
    use crate::domain::reports::render;
    match format {
        StatisticsFormat::Json => {
            serde_json::to_string_pretty(stats).map_err(|e| ReportError::Render(e.to_string()))
        }
        StatisticsFormat::Csv => Ok(render::csv(stats)),
        StatisticsFormat::Html => render::html(stats, hub_name, generated_at)
            .map_err(|e| ReportError::Render(e.to_string())),
    }
}
