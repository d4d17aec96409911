//! The reports' deadlines on the hub's clock: the job's round that records reminders, overdue
//! states and breach candidates (once each, whichever instance gets there first), what a
//! provider is told, and the analysts' one list of what is overdue.

use std::collections::{HashMap, HashSet};

use serde::Serialize;
use time::{Date, OffsetDateTime};
use tracing::Instrument as _;

use super::{ReportError, Reports};
use crate::domain::access::RegistryRecord;
use crate::domain::audit::record::AuditRecord;
use crate::domain::cases::CaseFile;
use crate::domain::cases::lifecycle::CaseStatus;
use crate::domain::principal::{OrganisationId, OrganisationStatus, PrincipalKind};
use crate::domain::registry::lifecycle::Overdue;
use crate::domain::reports::deadlines::{
    BREACH_AFTER_DAYS, NoticeKind, Owed, days_late, describe, hub_day, notices_due, summary_due,
};
use crate::domain::reports::summary::SummaryStatus;
use crate::services::registry::Csirt;
use crate::store::registry::ProviderRecord;
use crate::store::reports::Notice;
use crate::store::{Store, StoreError};

/// A notice as its reader gets it.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct NotificationView {
    #[schema(value_type = String)]
    pub kind: NoticeKind,
    /// The case id (REX) or the year (annual summary).
    pub subject: String,
    #[serde(with = "crate::domain::registry::file::iso_date")]
    #[schema(value_type = String, format = Date)]
    pub due: Date,
    #[serde(with = "time::serde::rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    pub at: OffsetDateTime,
    pub message: String,
    /// The provider concerned (for the analysts).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub organisation: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum OverdueKind {
    Rex,
    AnnualSummary,
    /// A deadline of the provider registry (evaluation, file update, signature, notice).
    Registry,
}

/// One line of the analysts' overdue list.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct OverdueItem {
    pub kind: OverdueKind,
    pub organisation: String,
    pub name: String,
    /// The case id, the year, or the registry deadline's kind.
    pub subject: String,
    #[serde(with = "crate::domain::registry::file::iso_date::option")]
    #[schema(value_type = Option<String>, format = Date)]
    pub due: Option<Date>,
    pub days_late: i64,
    /// A REX not returned within its 30 days: a breach of the commitments for an analyst to
    /// confirm (`POST /api/v1/registry/providers/{id}/transitions` with `breach`).
    pub breach_candidate: bool,
    /// The registry's own description of the deadline.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Object>)]
    pub registry: Option<Overdue>,
}

/// What one round did.
#[derive(Debug, Default)]
pub struct NoticeRound {
    pub recorded: usize,
}

/// The REX still owed: closed cases whose service was delivered, with no REX yet.
async fn owed_rex(store: &dyn Store) -> Result<Vec<(CaseFile, OrganisationId, Date)>, StoreError> {
    let returned: HashSet<String> = store
        .first_rex_versions()
        .await?
        .into_iter()
        .map(|r| r.case_id)
        .collect();
    Ok(store
        .case_files()
        .await?
        .into_iter()
        .filter(|f| f.status == CaseStatus::Closed && !returned.contains(&f.case.id))
        .filter_map(|f| {
            let closure = f.closure.as_ref()?;
            let provider = OrganisationId::from_stored(closure.provider.clone()?);
            let due = closure.rex_due?;
            Some((f, provider, due))
        })
        .collect())
}

/// Whether a provider owes the annual summary of `year`: referenced, or suspended (still bound
/// by the convention), and in the registry by the end of that year.
fn owes_summary(p: &ProviderRecord, year: i32) -> bool {
    (p.referencing.is_referenced() || p.referencing.status == OrganisationStatus::Suspended)
        && hub_day(p.organisation.created_at).year() <= year
}

/// How many REX each provider owes past their due date at `now`.
pub async fn overdue_rex_counts(
    store: &dyn Store,
    now: OffsetDateTime,
) -> Result<HashMap<OrganisationId, u32>, StoreError> {
    let today = hub_day(now);
    let mut out: HashMap<OrganisationId, u32> = HashMap::new();
    for (_, provider, due) in owed_rex(store).await? {
        if today > due {
            *out.entry(provider).or_default() += 1;
        }
    }
    Ok(out)
}

impl Reports<'_> {
    /// One round of the reports' job: every notice due at `now` and not recorded yet.
    pub async fn tick(&self, now: OffsetDateTime) -> Result<NoticeRound, ReportError> {
        let span = tracing::info_span!("report_deadlines_round", now = %now);
        async {
            let today = hub_day(now);
            let mut round = NoticeRound::default();
            for (file, provider, due) in owed_rex(self.store).await? {
                for kind in notices_due(Owed::Rex, due, today) {
                    round.recorded += self
                        .notice(&provider, kind, &file.case.id, due, now)
                        .await?;
                }
            }
            let year = today.year() - 1;
            let (month, day) = self.settings.summary_due;
            let due = summary_due(year, month, day);
            for p in self.store.providers().await? {
                if !owes_summary(&p, year) {
                    continue;
                }
                let org = &p.organisation.id;
                let submitted = self
                    .store
                    .summary(org, year)
                    .await?
                    .is_some_and(|s| s.status == SummaryStatus::Submitted);
                if submitted {
                    continue;
                }
                for kind in notices_due(Owed::AnnualSummary, due, today) {
                    round.recorded += self.notice(org, kind, &year.to_string(), due, now).await?;
                }
            }
            Ok(round)
        }
        .instrument(span)
        .await
    }

    pub(super) async fn notice(
        &self,
        org: &OrganisationId,
        kind: NoticeKind,
        subject: &str,
        due: Date,
        now: OffsetDateTime,
    ) -> Result<usize, ReportError> {
        let notice = Notice {
            organisation: org.clone(),
            kind,
            subject: subject.to_owned(),
            due,
            created_at: now,
        };
        let audit = AuditRecord::hub("report.notice", now)
            .objects([org.as_str(), subject])
            .reason(format!("{kind}, due {due}"));
        Ok(usize::from(
            self.store.insert_notice(&notice, &audit).await?,
        ))
    }

    /// A provider's notices (reminders, overdue states), or for an analyst everyone's,
    /// breach candidates included.
    pub async fn notifications(
        &self,
        caller: &RegistryRecord,
    ) -> Result<Vec<NotificationView>, ReportError> {
        let analyst = caller.principal.kind == PrincipalKind::Analyst;
        let notices = match caller.principal.kind {
            PrincipalKind::Analyst => self.store.notices(None).await?,
            PrincipalKind::Provider => self.store.notices(Some(&caller.organisation.id)).await?,
            PrincipalKind::Peer => Vec::new(),
        };
        Ok(notices
            .into_iter()
            .filter(|n| analyst || n.kind.for_provider())
            .map(|n| NotificationView {
                message: describe(n.kind, &n.subject, n.due),
                kind: n.kind,
                subject: n.subject,
                due: n.due,
                at: n.created_at,
                organisation: analyst.then(|| n.organisation.as_str().to_owned()),
            })
            .collect())
    }

    /// Everything overdue, in one list: REX, annual summaries, and the registry's deadlines.
    pub async fn overdue(
        &self,
        by: impl Into<Csirt<'_>>,
        registry: crate::services::registry::Registry<'_>,
        now: OffsetDateTime,
    ) -> Result<Vec<OverdueItem>, ReportError> {
        let by = by.into();
        let today = hub_day(now);
        let providers = self.store.providers().await?;
        let name = |org: &OrganisationId| {
            providers
                .iter()
                .find(|p| &p.organisation.id == org)
                .map(|p| p.organisation.name.clone())
                .unwrap_or_default()
        };
        let mut out = Vec::new();
        for (file, provider, due) in owed_rex(self.store).await? {
            let late = days_late(due, today);
            if late > 0 {
                out.push(OverdueItem {
                    kind: OverdueKind::Rex,
                    name: name(&provider),
                    organisation: provider.as_str().to_owned(),
                    subject: file.case.id.clone(),
                    due: Some(due),
                    days_late: late,
                    breach_candidate: late > BREACH_AFTER_DAYS,
                    registry: None,
                });
            }
        }
        let year = today.year() - 1;
        let (month, day) = self.settings.summary_due;
        let due = summary_due(year, month, day);
        if today > due {
            for p in providers.iter().filter(|p| owes_summary(p, year)) {
                let submitted = self
                    .store
                    .summary(&p.organisation.id, year)
                    .await?
                    .is_some_and(|s| s.status == SummaryStatus::Submitted);
                if !submitted {
                    out.push(OverdueItem {
                        kind: OverdueKind::AnnualSummary,
                        organisation: p.organisation.id.as_str().to_owned(),
                        name: p.organisation.name.clone(),
                        subject: year.to_string(),
                        due: Some(due),
                        days_late: days_late(due, today),
                        breach_candidate: false,
                        registry: None,
                    });
                }
            }
        }
        for item in registry.dashboard(by, now).await? {
            for overdue in item.due {
                let (subject, due) = registry_deadline(&overdue);
                out.push(OverdueItem {
                    kind: OverdueKind::Registry,
                    organisation: item.organisation.clone(),
                    name: item.name.clone(),
                    subject,
                    due,
                    days_late: due.map_or(0, |d| days_late(d, today)),
                    breach_candidate: false,
                    registry: Some(overdue),
                });
            }
        }
        out.sort_by(|a, b| {
            a.due
                .cmp(&b.due)
                .then_with(|| a.organisation.cmp(&b.organisation))
        });
        Ok(out)
    }
}

/// A registry deadline's name and day.
fn registry_deadline(overdue: &Overdue) -> (String, Option<Date>) {
    match overdue {
        Overdue::Evaluation { due } => ("evaluation".into(), Some(hub_day(*due))),
        Overdue::FileUpdate { year } => (format!("file_update {year}"), None),
        Overdue::Signature { version, deadline } => (
            format!("signature of version {version}"),
            Some(hub_day(*deadline)),
        ),
        Overdue::Notice { effective_at } => ("notice".into(), Some(hub_day(*effective_at))),
    }
}
