//! What is due: a provider's standing, and the analysts' dashboard.

use time::OffsetDateTime;

use super::surveys::summary;
use super::{Csirt, Registry, RegistryError, Who};
use crate::domain::principal::{OrganisationId, OrganisationStatus};
use crate::domain::registry::lifecycle::Overdue;
use crate::domain::registry::survey::SurveySummary;
use crate::services::reports::overdue_rex_counts;

/// A provider's view of its own standing.
#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
pub struct Standing {
    pub status: OrganisationStatus,
    #[serde(with = "time::serde::rfc3339::option")]
    pub term_ends: Option<OffsetDateTime>,
    pub renewals: u8,
    pub convention_version: Option<u32>,
    pub due: Vec<Overdue>,
    /// REX past their due date (Convention art. 4).
    pub overdue_rex: u32,
    pub surveys: SurveySummary,
}

/// What the analysts' dashboard lists.
#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
pub struct DashboardItem {
    pub organisation: String,
    pub name: String,
    pub status: OrganisationStatus,
    pub due: Vec<Overdue>,
    /// REX past their due date.
    pub overdue_rex: u32,
}

impl Registry<'_> {
    /// What is due or overdue, provider by provider (analysts' dashboard). The CSIRT only:
    /// the caller's type is the check.
    pub async fn dashboard(
        &self,
        _by: impl Into<Csirt<'_>>,
        now: OffsetDateTime,
    ) -> Result<Vec<DashboardItem>, RegistryError> {
        let rex = overdue_rex_counts(self.store, now).await?;
        let mut out = Vec::new();
        for r in self.store.providers().await? {
            let mut due = r.referencing.overdue(now);
            if r.referencing.status == OrganisationStatus::UnderReview
                || r.referencing.status == OrganisationStatus::Applied
            {
                due.clear();
            }
            out.push(DashboardItem {
                organisation: r.organisation.id.as_str().to_owned(),
                name: r.organisation.name.clone(),
                status: r.referencing.status,
                due,
                overdue_rex: rex.get(&r.organisation.id).copied().unwrap_or(0),
            });
        }
        Ok(out)
    }

    /// A provider's standing: status, deadlines, its surveys in aggregate.
    pub async fn standing(
        &self,
        who: Who<'_>,
        org: &OrganisationId,
        now: OffsetDateTime,
    ) -> Result<Standing, RegistryError> {
        let record = self.get(who, org).await?;
        let surveys = self.store.surveys_of(org).await?;
        Ok(Standing {
            status: record.referencing.status,
            term_ends: record.referencing.term_ends,
            renewals: record.referencing.renewals,
            convention_version: record.referencing.convention.map(|c| c.version),
            due: record.referencing.overdue(now),
            overdue_rex: overdue_rex_counts(self.store, now)
                .await?
                .get(org)
                .copied()
                .unwrap_or(0),
            surveys: summary(&surveys),
        })
    }
}
