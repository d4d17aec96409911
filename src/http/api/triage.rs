//! `/api/v1/triage` (analysts: the queue and its decisions) and `/api/v1/submissions` (a
//! provider's own submissions and what became of them).

use axum::Json;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};

use super::body::JsonBody;
use crate::domain::access::Analyst;
use crate::domain::triage::TriageError;
use crate::http::AppState;
use crate::http::error::ApiError;
use crate::http::identity::AnyPrincipal;
use crate::services::triage::{
    MAX_LISTED, PublishRequest, QueueItem, QueueQuery, Sighting, SubmissionView, TriageServiceError,
};

impl From<TriageServiceError> for ApiError {
    fn from(e: TriageServiceError) -> Self {
        match e {
            TriageServiceError::NotFound => ApiError::NotFound,
            TriageServiceError::BadQuery(detail) => ApiError::BadRequest(detail),
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
            TriageServiceError::Store(s) => crate::http::error::storage(s),
        }
    }
}

/// Query strings are parsed here so that a bad one is a problem+json 400 like any other.
fn query<T>(q: Result<Query<T>, QueryRejection>) -> Result<T, ApiError> {
    q.map(|Query(t)| t)
        .map_err(|e| ApiError::BadRequest(e.body_text()))
}

pub async fn queue(
    caller: Result<Analyst, ApiError>,
    State(state): State<AppState>,
    params: Result<Query<QueueQuery>, QueryRejection>,
) -> Result<Json<Vec<QueueItem>>, ApiError> {
    let params = query(params)?;
    // What was sent is judged before who sent it, as for every other caller.
    let caller = caller?;
    let queue = state.services.triage();
    let items = queue.queue(&caller, params, state.clock.now()).await?;
    Ok(Json(items))
}

pub async fn item(
    AnyPrincipal(caller): AnyPrincipal,
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<Json<SubmissionView>, ApiError> {
    let triage = state.services.triage();
    Ok(Json(triage.view(&caller, &id, state.clock.now()).await?))
}

#[derive(Debug, Serialize)]
pub struct Published {
    pub published: String,
}

pub async fn publish(
    caller: Result<Analyst, ApiError>,
    State(state): State<AppState>,
    Path(id): Path<String>,
    JsonBody(request): JsonBody<PublishRequest>,
) -> Result<Json<Published>, ApiError> {
    // What was sent is judged before who sent it, as for every other caller.
    let caller = caller?;
    let triage = state.services.triage();
    let published = triage
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
    caller: Result<Analyst, ApiError>,
    State(state): State<AppState>,
    Path(id): Path<String>,
    JsonBody(request): JsonBody<MergeRequest>,
) -> Result<StatusCode, ApiError> {
    // What was sent is judged before who sent it, as for every other caller.
    let caller = caller?;
    let triage = state.services.triage();
    triage
        .merge(&caller, &id, &request.into, state.clock.now())
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RejectRequest {
    reason: String,
}

pub async fn reject(
    caller: Result<Analyst, ApiError>,
    State(state): State<AppState>,
    Path(id): Path<String>,
    JsonBody(request): JsonBody<RejectRequest>,
) -> Result<StatusCode, ApiError> {
    // What was sent is judged before who sent it, as for every other caller.
    let caller = caller?;
    let triage = state.services.triage();
    triage
        .reject(&caller, &id, &request.reason, state.clock.now())
        .await?;
    Ok(StatusCode::NO_CONTENT)
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
    params: Result<Query<OwnParams>, QueryRejection>,
) -> Result<Json<Vec<Sighting>>, ApiError> {
    let limit = query(params)?.limit.unwrap_or(MAX_LISTED);
    let triage = state.services.triage();
    Ok(Json(triage.own(&caller, limit, state.clock.now()).await?))
}
