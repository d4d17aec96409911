//! Satisfaction surveys: the beneficiary's link, its answer, and the de-referencing
//! procedure that unfavourable answers open.

use std::collections::BTreeMap;

use time::{Duration, OffsetDateTime};

use super::{Csirt, Deadlines, Registry, RegistryError, Who, record};
use crate::crypto::tokens::{SurveyClaims, issue_survey_token, verify_survey_token};
use crate::domain::audit::record::Acting;
use crate::domain::principal::OrganisationId;
use crate::domain::registry::lifecycle::{DereferencingCause, Event, NoticeKind};
use crate::domain::registry::survey::{
    Answers, Outcome, SurveySummary, opens_dereferencing, score, summarise, unfavourable_since,
};
use crate::store::registry::Survey;

/// How long a survey link stays valid.
pub const SURVEY_VALIDITY: Duration = Duration::days(30);

impl Registry<'_> {
    /// Issues a survey link for the beneficiary of a case, about the case's provider.
    pub async fn issue_survey(
        &self,
        by: impl Into<Csirt<'_>>,
        case_id: &str,
        now: OffsetDateTime,
    ) -> Result<(String, OffsetDateTime), RegistryError> {
        let who = Who::from(by.into());
        let case = self
            .store
            .case(case_id)
            .await?
            .ok_or_else(|| RegistryError::BadRequest(format!("no case {case_id:?}")))?;
        let provider = case.provider.clone().ok_or_else(|| {
            RegistryError::BadRequest("the case was handed to no provider".into())
        })?;
        self.record(&provider).await?;
        // One voice per beneficiary: a new link only while no answer came for the case.
        if self
            .store
            .surveys_of(&provider)
            .await?
            .iter()
            .any(|s| s.case_id == case.id && s.answered_at.is_some())
        {
            return Err(RegistryError::Conflict(
                "the beneficiary of this case has answered its survey".into(),
            ));
        }
        let id = uuid::Uuid::new_v4().to_string();
        let expires = now + SURVEY_VALIDITY;
        let token = issue_survey_token(
            self.survey_key,
            &SurveyClaims {
                jti: id.clone(),
                provider: provider.as_str().to_owned(),
                case: case.id.clone(),
                iat: now.unix_timestamp(),
                exp: expires.unix_timestamp(),
            },
        )?;
        let audit = who.acting(now).record("registry.survey_issue").objects([
            id.clone(),
            case.id.clone(),
            provider.as_str().to_owned(),
        ]);
        self.store
            .insert_survey(
                &Survey {
                    id,
                    organisation: provider.clone(),
                    case_id: case.id,
                    issued_at: now,
                    expires_at: expires,
                    answered_at: None,
                    answers: None,
                    average: None,
                    unfavourable: None,
                },
                &audit,
            )
            .await?;
        Ok((token, expires))
    }

    /// The survey a link opens, if it can still be answered.
    pub async fn open_survey(
        &self,
        token: &str,
        now: OffsetDateTime,
    ) -> Result<Survey, RegistryError> {
        let claims = verify_survey_token(self.survey_key, token, now)?;
        let survey = self
            .store
            .survey(&claims.jti)
            .await?
            .filter(|s| s.organisation.as_str() == claims.provider && s.case_id == claims.case)
            .ok_or(RegistryError::NotFound)?;
        if survey.answered_at.is_some() {
            return Err(RegistryError::AlreadyAnswered);
        }
        Ok(survey)
    }

    /// Records a beneficiary's answers (once); three unfavourable surveys open the
    /// de-referencing procedure. Returns whether this one was unfavourable.
    pub async fn answer_survey(
        &self,
        token: &str,
        ratings: BTreeMap<String, u8>,
        comment: String,
        now: OffsetDateTime,
    ) -> Result<bool, RegistryError> {
        let survey = self.open_survey(token, now).await?;
        let answers = Answers { ratings, comment };
        let scored = score(self.survey_policy, &answers)?;
        let json = serde_json::json!({
            "ratings": answers.ratings,
            "comment": answers.comment,
        })
        .to_string();
        let audit = Acting::unregistered("beneficiary", "", now)
            .record("registry.survey_answer")
            .objects([survey.id.clone(), survey.organisation.as_str().to_owned()])
            .reason(format!(
                "average {:.2}{}",
                scored.average,
                if scored.unfavourable {
                    ", unfavourable"
                } else {
                    ""
                }
            ));
        if !self
            .store
            .answer_survey(
                &survey.id,
                now,
                &json,
                scored.average,
                scored.unfavourable,
                &audit,
            )
            .await?
        {
            return Err(RegistryError::AlreadyAnswered);
        }
        // The answer is stored: whatever happens next, the beneficiary is told so. A failure
        // to open the procedure now is retried by the deadline job, which counts the same way.
        if scored.unfavourable
            && let Err(e) = self
                .deadlines()
                .consider_dereferencing(&survey.organisation, now)
                .await
        {
            tracing::warn!(error = %e, "de-referencing procedure not opened yet; the deadline job retries");
        }
        Ok(scored.unfavourable)
    }
}

impl Deadlines<'_> {
    /// Opens the de-referencing procedure if enough distinct beneficiaries answered
    /// unfavourably since the referencing (or the last cancelled procedure). Idempotent:
    /// the answer path and the deadline job both call it. True if it opened one.
    pub(super) async fn consider_dereferencing(
        &self,
        org: &OrganisationId,
        now: OffsetDateTime,
    ) -> Result<bool, RegistryError> {
        let record = record(self.store, org).await?;
        let surveys = self.store.surveys_of(org).await?;
        let unfavourable = unfavourable_since(
            &surveys.iter().map(outcome).collect::<Vec<_>>(),
            record.referencing.surveys_count_from,
        );
        if !opens_dereferencing(unfavourable) {
            return Ok(false);
        }
        let event = Event::GiveNotice(NoticeKind::Dereferencing {
            cause: DereferencingCause::UnfavourableSurveys,
        });
        // Already under notice, suspended or gone: nothing more to open now.
        let Ok(next) = record.referencing.apply(&event, now) else {
            return Ok(false);
        };
        let reason = format!(
            "{unfavourable} unfavourable satisfaction surveys: de-referencing procedure opened"
        );
        self.hub_change(&record, &next, event.action(), reason, now)
            .await?;
        Ok(true)
    }
}

/// A stored survey as the domain's rules read it.
fn outcome(s: &Survey) -> Outcome<'_> {
    Outcome {
        case: &s.case_id,
        answered_at: s.answered_at,
        average: s.average,
        unfavourable: s.unfavourable == Some(true),
    }
}

/// A provider's surveys in aggregate.
pub(super) fn summary(surveys: &[Survey]) -> SurveySummary {
    summarise(&surveys.iter().map(outcome).collect::<Vec<_>>())
}
