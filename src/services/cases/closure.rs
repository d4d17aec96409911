//! The end of a case (Convention art. 3, 4, 10): the provider at the end of its service, or an
//! analyst, closes it with the end date; that issues the beneficiary's satisfaction survey and
//! sets the REX due date. Disputes the CSIRT mediates are recorded with their outcome.

use serde::{Deserialize, Serialize};
use time::{Date, OffsetDateTime};

use super::{CaseError, Cases};
use crate::domain::access::{Analyst, RegistryRecord};
use crate::domain::audit::record::AuditRecord;
use crate::domain::cases::lifecycle::{
    CaseStatus, Closure, Dispute, DisputeOutcome, DisputeParty, check_end_date, rex_due,
};
use crate::domain::cases::qualification::long_text;
use crate::domain::principal::PrincipalKind;
use crate::services::registry::Csirt;
use crate::store::cases::CaseWrite;

/// Most disputes one case records.
pub const MAX_DISPUTES: usize = 20;

#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CloseRequest {
    /// The day the service ended (`YYYY-MM-DD`, the hub's calendar): not before the case was
    /// opened, not in the future.
    #[serde(with = "crate::domain::registry::file::iso_date")]
    #[schema(value_type = String, format = Date)]
    pub end_date: Date,
    /// The service delivered, in a few words.
    #[serde(default)]
    pub summary: String,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ClosureView {
    pub case_id: String,
    pub closure: Closure,
    /// The beneficiary's survey link token, for the analyst who closed the case (a provider
    /// never receives its own survey; the analysts issue a link with
    /// `POST /api/v1/cases/{id}/survey`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub survey_token: Option<String>,
    #[serde(with = "time::serde::rfc3339::option")]
    pub survey_expires_at: Option<OffsetDateTime>,
}

#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DisputeRequest {
    /// `beneficiary`, `provider` or `csirt`.
    pub raised_by: DisputeParty,
    pub summary: String,
}

#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct OutcomeRequest {
    pub outcome: String,
}

impl Cases<'_> {
    pub async fn close(
        &self,
        caller: &RegistryRecord,
        id: &str,
        request: CloseRequest,
        now: OffsetDateTime,
    ) -> Result<ClosureView, CaseError> {
        let file = self.disclosed(caller, id).await?.into_inner();
        let analyst = caller.principal.kind == PrincipalKind::Analyst;
        match file.status {
            CaseStatus::Closed => return Err(CaseError::NotNow("the case is closed".into())),
            CaseStatus::HandedOff => {
                return Err(CaseError::NotNow(
                    "the chosen provider has not answered the handoff yet".into(),
                ));
            }
            CaseStatus::InProgress => {}
            CaseStatus::Open | CaseStatus::Shortlisted if analyst => {}
            CaseStatus::Open | CaseStatus::Shortlisted => {
                return Err(CaseError::NotNow("the case is not in progress".into()));
            }
        }
        check_end_date(request.end_date, file.case.created_at, now)?;
        let summary = if request.summary.trim().is_empty() {
            String::new()
        } else {
            long_text("summary", &request.summary)?
        };
        let delivered = file.status == CaseStatus::InProgress;
        let closure = Closure {
            end_date: request.end_date,
            closed_by: caller.principal.id.to_string(),
            closed_at: now,
            summary,
            provider: delivered
                .then(|| file.case.provider.as_ref().map(|p| p.to_string()))
                .flatten(),
            rex_due: delivered.then(|| rex_due(request.end_date)),
        };
        let mut next = file.clone();
        next.status = CaseStatus::Closed;
        next.closure = Some(closure.clone());
        next.revision += 1;
        let audit = AuditRecord::by(caller, "case.close", now)
            .objects([file.case.id.as_str()])
            .reason(format!(
                "ended {}{}",
                request.end_date,
                closure
                    .rex_due
                    .map(|d| format!("; REX due {d}"))
                    .unwrap_or_default()
            ));
        self.write(&CaseWrite::of(&next, file.revision), &[audit])
            .await?;
        let (mut survey_token, mut survey_expires_at) = (None, None);
        if delivered {
            let issuer = Analyst::new(caller.clone());
            let by = issuer.as_ref().map_or(Csirt::Hub, Csirt::Analyst);
            match self.registry.issue_survey(by, &file.case.id, now).await {
                Ok((token, expires)) => {
                    if analyst {
                        survey_token = Some(token);
                    }
                    survey_expires_at = Some(expires);
                }
                Err(e) => tracing::warn!(error = %e, case = %file.case.id, "survey not issued"),
            }
        }
        Ok(ClosureView {
            case_id: file.case.id,
            closure,
            survey_token,
            survey_expires_at,
        })
    }

    pub async fn add_dispute(
        &self,
        caller: &Analyst,
        id: &str,
        request: DisputeRequest,
        now: OffsetDateTime,
    ) -> Result<Dispute, CaseError> {
        let file = self.disclosed(caller, id).await?.into_inner();
        if !matches!(file.status, CaseStatus::InProgress | CaseStatus::Closed) {
            return Err(CaseError::NotNow(
                "a dispute is between the beneficiary and the provider that served it".into(),
            ));
        }
        if file.disputes.len() >= MAX_DISPUTES {
            return Err(CaseError::Invalid(format!(
                "at most {MAX_DISPUTES} disputes per case"
            )));
        }
        let dispute = Dispute {
            number: u32::try_from(file.disputes.len() + 1).unwrap_or(u32::MAX),
            raised_by: request.raised_by,
            summary: long_text("summary", &request.summary)?,
            recorded_by: caller.principal.id.to_string(),
            recorded_at: now,
            outcome: None,
        };
        let mut next = file.clone();
        next.disputes.push(dispute.clone());
        next.revision += 1;
        let audit = AuditRecord::by(caller, "case.dispute", now)
            .objects([file.case.id.clone(), format!("dispute:{}", dispute.number)]);
        self.write(&CaseWrite::of(&next, file.revision), &[audit])
            .await?;
        Ok(dispute)
    }

    pub async fn record_outcome(
        &self,
        caller: &Analyst,
        id: &str,
        number: u32,
        request: OutcomeRequest,
        now: OffsetDateTime,
    ) -> Result<Dispute, CaseError> {
        let file = self.disclosed(caller, id).await?.into_inner();
        let text = long_text("outcome", &request.outcome)?;
        let mut next = file.clone();
        let dispute = next
            .disputes
            .iter_mut()
            .find(|d| d.number == number)
            .ok_or(CaseError::NotFound)?;
        if dispute.outcome.is_some() {
            return Err(CaseError::NotNow("this dispute has its outcome".into()));
        }
        dispute.outcome = Some(DisputeOutcome {
            text,
            recorded_by: caller.principal.id.to_string(),
            recorded_at: now,
        });
        let dispute = dispute.clone();
        next.revision += 1;
        let audit = AuditRecord::by(caller, "case.dispute_outcome", now)
            .objects([file.case.id.clone(), format!("dispute:{number}")]);
        self.write(&CaseWrite::of(&next, file.revision), &[audit])
            .await?;
        Ok(dispute)
    }
}
