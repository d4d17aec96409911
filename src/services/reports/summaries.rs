//! A provider's annual summary: drafted by the hub from the provider's cases of the year,
//! completed and submitted by the provider, anonymised with the identifiers of those cases;
//! read by the CSIRT, whose yearly evaluation of the provider is based on it.

use serde::Serialize;
use time::{Date, OffsetDateTime};

use super::rex::anonymise_fields;
use super::{ReportError, Reports};
use crate::crypto::sha256_hex;
use crate::domain::access::{Provider, RegistryRecord};
use crate::domain::anonymise::VictimContext;
use crate::domain::audit::record::AuditRecord;
use crate::domain::principal::{OrganisationId, PrincipalKind};
use crate::domain::reports::deadlines::{hub_day, summary_due};
use crate::domain::reports::rex::strip_document;
use crate::domain::reports::statistics::{AnnualStatistics, Audience, compute};
use crate::domain::reports::summary::{
    ProviderPart, SummaryStatus, check, check_submittable, check_year,
};
use crate::domain::triage::ReportedChange;
use crate::store::reports::StoredSummary;

/// A summary as the provider and the CSIRT read it.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct SummaryView {
    pub organisation: String,
    pub year: i32,
    #[schema(value_type = String, example = "draft")]
    pub status: SummaryStatus,
    #[serde(with = "crate::domain::registry::file::iso_date")]
    #[schema(value_type = String, format = Date)]
    pub due: Date,
    /// The figures of the provider's cases of the year: computed now for a draft, as they
    /// were when it was submitted otherwise.
    #[schema(value_type = Object)]
    pub figures: serde_json::Value,
    pub part: ProviderPart,
    #[schema(value_type = Vec<Object>)]
    pub changes: Vec<ReportedChange>,
    #[serde(with = "time::serde::rfc3339::option")]
    #[schema(value_type = Option<String>, format = DateTime)]
    pub updated_at: Option<OffsetDateTime>,
    #[serde(with = "time::serde::rfc3339::option")]
    #[schema(value_type = Option<String>, format = DateTime)]
    pub submitted_at: Option<OffsetDateTime>,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub sha256: String,
}

impl Reports<'_> {
    fn summary_due(&self, year: i32) -> Date {
        let (month, day) = self.settings.summary_due;
        summary_due(year, month, day)
    }

    /// The provider's figures of `year`: its own cases, nothing merged (it handled every one).
    async fn figures(
        &self,
        org: &OrganisationId,
        year: i32,
        now: OffsetDateTime,
    ) -> Result<AnnualStatistics, ReportError> {
        let missions = super::statistics::missions(
            self.store,
            year,
            Some(org),
            now,
            &super::statistics::silent,
        )
        .await?;
        Ok(compute(year, &missions, &[], 1, Audience::Csirt))
    }

    async fn view(
        &self,
        org: &OrganisationId,
        year: i32,
        stored: Option<StoredSummary>,
        now: OffsetDateTime,
    ) -> Result<SummaryView, ReportError> {
        let due = self.summary_due(year);
        let figures = match stored.as_ref().and_then(|s| s.figures.clone()) {
            Some(frozen) => frozen,
            None => serde_json::to_value(self.figures(org, year, now).await?)
                .map_err(|e| ReportError::Render(e.to_string()))?,
        };
        Ok(match stored {
            None => SummaryView {
                organisation: org.as_str().to_owned(),
                year,
                status: SummaryStatus::Draft,
                due,
                figures,
                part: ProviderPart::default(),
                changes: Vec::new(),
                updated_at: None,
                submitted_at: None,
                sha256: String::new(),
            },
            Some(s) => SummaryView {
                organisation: org.as_str().to_owned(),
                year,
                status: s.status,
                due,
                figures,
                part: s.part,
                changes: s.changes,
                updated_at: Some(s.updated_at),
                submitted_at: s.submitted_at,
                sha256: s.sha256,
            },
        })
    }

    /// The caller's own summary of `year`, drafted if it has not started it.
    pub async fn own_summary(
        &self,
        caller: &Provider,
        year: i32,
        now: OffsetDateTime,
    ) -> Result<SummaryView, ReportError> {
        check_year(year, hub_day(now).year())?;
        let org = &caller.organisation.id;
        let stored = self.store.summary(org, year).await?;
        self.view(org, year, stored, now).await
    }

    /// A provider's summary, for the analysts. A provider that does not exist answers as one
    /// that has written nothing: the analysts see every provider anyway.
    pub async fn provider_summary(
        &self,
        caller: &RegistryRecord,
        org: &OrganisationId,
        year: i32,
        now: OffsetDateTime,
    ) -> Result<SummaryView, ReportError> {
        if caller.principal.kind != PrincipalKind::Analyst {
            return Err(ReportError::NotAnalyst);
        }
        check_year(year, hub_day(now).year())?;
        if self.store.provider(org).await?.is_none() {
            return Err(ReportError::NotFound);
        }
        let stored = self.store.summary(org, year).await?;
        self.view(org, year, stored, now).await
    }

    /// Saves the provider's part of its draft, anonymised with the identifiers of its cases of
    /// the year; `submit` also freezes it with the year's figures.
    pub async fn save_summary(
        &self,
        caller: &Provider,
        year: i32,
        part: ProviderPart,
        submit: bool,
        now: OffsetDateTime,
    ) -> Result<SummaryView, ReportError> {
        check_year(year, hub_day(now).year())?;
        let part = check(part)?;
        if submit {
            check_submittable(&part)?;
        }
        let org = caller.organisation.id.clone();
        if self
            .store
            .summary(&org, year)
            .await?
            .is_some_and(|s| s.status == SummaryStatus::Submitted)
        {
            return Err(ReportError::NotNow(
                "the annual summary was submitted already".into(),
            ));
        }
        let victim = self.victim_of_year(&org, year).await?;
        let subject = format!("annual-summary--{}-{year}", org.as_str());
        let (doc, changes) = anonymise_fields(self, caller, &subject, &part, &victim)?;
        let part: ProviderPart = strip_document(doc)?;
        let (figures, sha256, status) = if submit {
            let figures = serde_json::to_value(self.figures(&org, year, now).await?)
                .map_err(|e| ReportError::Render(e.to_string()))?;
            let digest = sha256_hex(
                serde_json::to_string(&serde_json::json!({"part": part, "figures": figures}))
                    .map_err(|e| ReportError::Render(e.to_string()))?
                    .as_bytes(),
            );
            (Some(figures), digest, SummaryStatus::Submitted)
        } else {
            (None, String::new(), SummaryStatus::Draft)
        };
        let stored = StoredSummary {
            organisation: org.clone(),
            year,
            status,
            part,
            figures,
            changes,
            updated_at: now,
            submitted_at: submit.then_some(now),
            submitted_by: submit.then(|| caller.principal.id.to_string()),
            sha256,
        };
        let action = if submit {
            "summary.submit"
        } else {
            "summary.save"
        };
        let mut objects = vec![format!("annual-summary:{}/{year}", org.as_str())];
        if submit {
            objects.push(format!("sha256:{}", stored.sha256));
        }
        let audit = AuditRecord::by(caller, action, now)
            .objects(objects)
            .reason(format!(
                "{} change(s) by the anonymiser",
                stored.changes.len()
            ));
        self.store.write_summary(&stored, &audit).await?;
        self.view(&org, year, Some(stored), now).await
    }

    /// The identifiers of every beneficiary the provider handled in `year`.
    async fn victim_of_year(
        &self,
        org: &OrganisationId,
        year: i32,
    ) -> Result<VictimContext, ReportError> {
        let mut victim = VictimContext::none();
        let mine: std::collections::HashSet<String> = self
            .store
            .handoffs_of_provider(org)
            .await?
            .into_iter()
            .filter(|h| h.status == crate::domain::cases::handoff::HandoffStatus::Accepted)
            .map(|h| h.case_id)
            .collect();
        for file in self.store.case_files().await? {
            if !mine.contains(&file.case.id) || hub_day(file.case.created_at).year() != year {
                continue;
            }
            let ids = file.case.identifiers;
            victim.domains.extend(ids.domains);
            victim.emails.extend(ids.emails);
            victim.hostnames.extend(ids.hostnames);
            victim.organisations.extend(ids.organisations);
            victim.organisations.push(file.case.beneficiary);
        }
        Ok(victim)
    }
}
