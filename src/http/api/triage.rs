//! `/api/v1/triage` (analysts: the queue and its decisions) and `/api/v1/submissions` (a
//! provider's own submissions and what became of them).

use axum::Json;
use axum::extract::{Path, Query, State};
use serde::{Deserialize, Serialize};
use time::Duration;

use super::body::JsonBody;
use crate::domain::markings::Tlp;
use crate::domain::principal::OrganisationId;
use crate::domain::triage::{Consent, SubmissionStatus, TriageError};
use crate::http::AppState;
use crate::http::error::ApiError;
use crate::http::identity::AnyPrincipal;
use crate::services::triage::{
    MAX_LISTED, PublishRequest, QueueItem, Sighting, SubmissionView, Triage, TriageServiceError,
};
use crate::store::SubmissionFilter;

impl From<TriageServiceError> for ApiError {
    fn from(e: TriageServiceError) -> Self {
        match e {
            TriageServiceError::NotAnalyst => ApiError::NotPermitted(e.to_string()),
            TriageServiceError::NotFound => ApiError::NotFound,
            TriageServiceError::NoMergeTarget(_)
            | TriageServiceError::Invalid(_)
            | TriageServiceError::UnknownAudience(_)
            | TriageServiceError::AudienceNotAllowed(_) => ApiError::Unprocessable(e.to_string()),
            TriageServiceError::Rule(
                TriageError::LooserTlp { .. } | TriageError::LooserPap { .. },
            ) => ApiError::Unprocessable(e.to_string()),
            TriageServiceError::Rule(TriageError::NoReason) => ApiError::BadRequest(e.to_string()),
            TriageServiceError::Rule(_) | TriageServiceError::Raced => {
                ApiError::Conflict(e.to_string())
            }
            TriageServiceError::Store(s) => s.into(),
        }
    }
}

fn triage(state: &AppState) -> Triage<'_> {
    Triage {
        store: state.store.as_ref(),
        policy: &state.policy,
        federation: &state.federation,
    }
}

/// Queue filters. Ages are a number and a unit: `90s`, `30m`, `12h`, `7d`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct QueueParams {
    /// `pending` (the default), `published`, `merged`, `rejected` or `all`.
    status: Option<String>,
    /// Provider organisation id.
    provider: Option<String>,
    #[serde(rename = "type")]
    object_type: Option<String>,
    tlp: Option<Tlp>,
    consent: Option<Consent>,
    older_than: Option<String>,
    newer_than: Option<String>,
    limit: Option<u32>,
}

fn age(text: &str) -> Result<Duration, ApiError> {
    let bad = || {
        ApiError::BadRequest(format!(
            "{text:?} is not an age such as 90s, 30m, 12h or 7d"
        ))
    };
    let unit = text.chars().last().ok_or_else(bad)?;
    let number = text.strip_suffix(unit).ok_or_else(bad)?;
    let n: i64 = number.parse().map_err(|_| bad())?;
    if n < 0 {
        return Err(bad());
    }
    let seconds = match unit {
        's' => Some(n),
        'm' => n.checked_mul(60),
        'h' => n.checked_mul(3_600),
        'd' => n.checked_mul(86_400),
        _ => None,
    }
    .ok_or_else(bad)?;
    Ok(Duration::seconds(seconds))
}

/// `now - age`, refused rather than overflowing.
fn before(now: time::OffsetDateTime, text: &str) -> Result<time::OffsetDateTime, ApiError> {
    now.checked_sub(age(text)?)
        .ok_or_else(|| ApiError::BadRequest(format!("{text:?} reaches before year -9999")))
}

pub async fn queue(
    AnyPrincipal(caller): AnyPrincipal,
    State(state): State<AppState>,
    params: Result<Query<QueueParams>, axum::extract::rejection::QueryRejection>,
) -> Result<Json<Vec<QueueItem>>, ApiError> {
    let Query(p) = params.map_err(|e| ApiError::BadRequest(e.body_text()))?;
    let now = state.clock.now();
    let status = match p.status.as_deref() {
        None => Some(SubmissionStatus::Pending),
        Some("all") => None,
        Some(s) => Some(
            s.parse()
                .map_err(|e| ApiError::BadRequest(format!("{e}")))?,
        ),
    };
    let filter = SubmissionFilter {
        status,
        provider: p.provider.map(OrganisationId::from_stored),
        object_type: p.object_type,
        stix_id: None,
        tlp: p.tlp,
        consent: p.consent,
        submitted_before: p
            .older_than
            .as_deref()
            .map(|t| before(now, t))
            .transpose()?,
        submitted_after: p
            .newer_than
            .as_deref()
            .map(|t| before(now, t))
            .transpose()?,
        limit: p.limit.unwrap_or(MAX_LISTED),
    };
    Ok(Json(
        triage(&state)
            .queue(&caller, filter, state.clock.now())
            .await?,
    ))
}

pub async fn item(
    AnyPrincipal(caller): AnyPrincipal,
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<Json<SubmissionView>, ApiError> {
    Ok(Json(
        triage(&state).view(&caller, &id, state.clock.now()).await?,
    ))
}

#[derive(Debug, Serialize)]
pub struct Published {
    pub published: String,
}

pub async fn publish(
    AnyPrincipal(caller): AnyPrincipal,
    State(state): State<AppState>,
    Path(id): Path<String>,
    JsonBody(request): JsonBody<PublishRequest>,
) -> Result<Json<Published>, ApiError> {
    let published = triage(&state)
        .publish(&caller, &id, &request, state.clock.now())
        .await?;
    Ok(Json(Published { published }))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MergeRequest {
    /// The id of the community object the submission duplicates.
    into: String,
}

pub async fn merge(
    AnyPrincipal(caller): AnyPrincipal,
    State(state): State<AppState>,
    Path(id): Path<String>,
    JsonBody(request): JsonBody<MergeRequest>,
) -> Result<axum::http::StatusCode, ApiError> {
    triage(&state)
        .merge(&caller, &id, &request.into, state.clock.now())
        .await?;
    Ok(axum::http::StatusCode::NO_CONTENT)
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RejectRequest {
    reason: String,
}

pub async fn reject(
    AnyPrincipal(caller): AnyPrincipal,
    State(state): State<AppState>,
    Path(id): Path<String>,
    JsonBody(request): JsonBody<RejectRequest>,
) -> Result<axum::http::StatusCode, ApiError> {
    triage(&state)
        .reject(&caller, &id, &request.reason, state.clock.now())
        .await?;
    Ok(axum::http::StatusCode::NO_CONTENT)
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OwnParams {
    limit: Option<u32>,
}

/// A provider's own submissions (an analyst's too, if it ever submits).
pub async fn own(
    AnyPrincipal(caller): AnyPrincipal,
    State(state): State<AppState>,
    params: Result<Query<OwnParams>, axum::extract::rejection::QueryRejection>,
) -> Result<Json<Vec<Sighting>>, ApiError> {
    let Query(p) = params.map_err(|e| ApiError::BadRequest(e.body_text()))?;
    Ok(Json(
        triage(&state)
            .own(&caller, p.limit.unwrap_or(MAX_LISTED), state.clock.now())
            .await?,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ages_have_a_unit() {
        assert_eq!(age("90s").unwrap(), Duration::seconds(90));
        assert_eq!(age("2d").unwrap(), Duration::days(2));
        assert!(age("2").is_err());
        assert!(age("").is_err());
        assert!(age("-1h").is_err());
        assert!(age("2w").is_err());
        assert!(age("99999999999999999d").is_err());
        assert!(age("1é").is_err());
        assert!(age("é").is_err());
        let now = time::OffsetDateTime::UNIX_EPOCH;
        assert!(before(now, "99999999999d").is_err());
    }
}
