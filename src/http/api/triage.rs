//! `/api/v1/triage` (analysts: the queue and its decisions) and `/api/v1/submissions` (a
//! provider's own submissions and what became of them).

use axum::Json;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

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

/// The triage queue (analysts): submissions of the same value grouped as one item.
#[utoipa::path(
    get,
    path = "/api/v1/triage",
    tag = "triage",
    params(QueueQuery),
    responses(
        (status = 200, description = "The queue, oldest first.", body = Vec<QueueItem>),
        (status = 400, description = "A filter is malformed (the detail says which)."),
        (status = 403, description = "Only analysts read the queue."),
    )
)]
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

/// One submission in full, for the analyst deciding on it (or the provider that sent it).
#[utoipa::path(
    get,
    path = "/api/v1/triage/{id}",
    tag = "triage",
    params(("id" = String, Path, description = "The submission id.")),
    responses(
        (status = 200, description = "The submission.", body = SubmissionView),
        (status = 404, description = "No such submission, or one the caller may not see."),
    )
)]
pub async fn item(
    AnyPrincipal(caller): AnyPrincipal,
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<Json<SubmissionView>, ApiError> {
    let triage = state.services.triage();
    Ok(Json(triage.view(&caller, &id, state.clock.now()).await?))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Published {
    /// The id of the object published in the community collection.
    pub published: String,
}

/// Publishes a submission to the community (analysts), at its markings or stricter ones.
#[utoipa::path(
    post,
    path = "/api/v1/triage/{id}/publish",
    tag = "triage",
    params(("id" = String, Path, description = "The submission id.")),
    request_body(content = PublishRequest, content_type = "application/json"),
    responses(
        (status = 200, description = "Published.", body = Published),
        (status = 403, description = "Only analysts publish."),
        (status = 404, description = "No such submission."),
        (status = 409, description = "Already decided, no consent for its case, or decided by someone else meanwhile."),
        (status = 422, description = "Looser markings than the producer's, or an audience that is unknown or not allowed."),
    )
)]
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

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MergeRequest {
    /// The id of the community object the submission duplicates.
    into: String,
}

/// Records a submission as a duplicate of a community object (analysts).
#[utoipa::path(
    post,
    path = "/api/v1/triage/{id}/merge",
    tag = "triage",
    params(("id" = String, Path, description = "The submission id.")),
    request_body(content = MergeRequest, content_type = "application/json"),
    responses(
        (status = 204, description = "Merged."),
        (status = 403, description = "Only analysts merge."),
        (status = 404, description = "No such submission."),
        (status = 409, description = "Already decided, or decided by someone else meanwhile."),
        (status = 422, description = "No community object of that id to merge into."),
    )
)]
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

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RejectRequest {
    /// Why, for the provider: required.
    #[schema(min_length = 1, pattern = r"\S")]
    reason: String,
}

/// Rejects a submission (analysts), with a reason the provider reads.
#[utoipa::path(
    post,
    path = "/api/v1/triage/{id}/reject",
    tag = "triage",
    params(("id" = String, Path, description = "The submission id.")),
    request_body(content = RejectRequest, content_type = "application/json"),
    responses(
        (status = 204, description = "Rejected."),
        (status = 400, description = "No reason given."),
        (status = 403, description = "Only analysts reject."),
        (status = 404, description = "No such submission."),
        (status = 409, description = "Already decided, or decided by someone else meanwhile."),
    )
)]
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

#[derive(Debug, Default, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct OwnParams {
    /// How many to list, newest first: 1000 if absent; a larger value is cut to 1000.
    limit: Option<u32>,
}

/// A provider's own submissions (an analyst's too, if it ever submits).
#[utoipa::path(
    get,
    path = "/api/v1/submissions",
    tag = "submissions",
    params(OwnParams),
    responses(
        (status = 200, description = "The caller's submissions and what became of them.", body = Vec<Sighting>),
    )
)]
pub async fn own(
    AnyPrincipal(caller): AnyPrincipal,
    State(state): State<AppState>,
    params: Result<Query<OwnParams>, QueryRejection>,
) -> Result<Json<Vec<Sighting>>, ApiError> {
    let limit = query(params)?.limit.unwrap_or(MAX_LISTED);
    let triage = state.services.triage();
    Ok(Json(triage.own(&caller, limit, state.clock.now()).await?))
}

/// One of the caller's own submissions, in full (the same as `GET /api/v1/triage/{id}`).
#[utoipa::path(
    get,
    path = "/api/v1/submissions/{id}",
    tag = "submissions",
    params(("id" = String, Path, description = "The submission id.")),
    responses(
        (status = 200, description = "The submission.", body = SubmissionView),
        (status = 404, description = "No such submission, or one the caller may not see."),
    )
)]
pub async fn own_item(
    caller: AnyPrincipal,
    state: State<AppState>,
    id: Path<String>,
) -> Result<Json<SubmissionView>, ApiError> {
    item(caller, state, id).await
}
