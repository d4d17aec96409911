//! `/api/v1/cases`: victim cases as far as submissions need them (analysts open them and
//! record consent; the provider a case was handed to sees it, to name it in submissions).

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::body::JsonBody;
use crate::domain::access::Analyst;
use crate::domain::triage::Consent;
use crate::http::AppState;
use crate::http::error::ApiError;
use crate::http::identity::AnyPrincipal;
use crate::services::cases::{CaseError, CaseView, NewCase};

impl From<CaseError> for ApiError {
    fn from(e: CaseError) -> Self {
        match e {
            CaseError::NotFound => ApiError::NotFound,
            CaseError::Invalid(detail) => ApiError::Unprocessable(detail),
            CaseError::Duplicate(_) => ApiError::Conflict(e.to_string()),
            CaseError::Store(s) => crate::http::error::storage(s),
        }
    }
}

/// Opens a victim case (analysts).
#[utoipa::path(
    post,
    path = "/api/v1/cases",
    tag = "cases",
    request_body(content = NewCase, content_type = "application/json"),
    responses(
        (status = 201, description = "The case opened.", body = CaseView),
        (status = 403, description = "Only analysts open cases."),
        (status = 409, description = "A case with this reference exists already."),
        (status = 422, description = "A field breaks a rule (the detail says which), or the provider is unknown."),
    )
)]
pub async fn open(
    caller: Result<Analyst, ApiError>,
    State(state): State<AppState>,
    JsonBody(request): JsonBody<NewCase>,
) -> Result<Response, ApiError> {
    // What was sent is judged before who sent it, as for every other caller.
    let caller = caller?;
    let case = state
        .services
        .cases()
        .open(&caller, request, state.clock.now())
        .await?;
    Ok((StatusCode::CREATED, Json(case)).into_response())
}

/// The cases the caller may see: all of them for analysts, those handed to its organisation
/// for a provider.
#[utoipa::path(
    get,
    path = "/api/v1/cases",
    tag = "cases",
    responses((status = 200, description = "The cases.", body = Vec<CaseView>))
)]
pub async fn list(
    AnyPrincipal(caller): AnyPrincipal,
    State(state): State<AppState>,
) -> Result<Json<Vec<CaseView>>, ApiError> {
    let cases = state
        .services
        .cases()
        .list(&caller, state.clock.now())
        .await?;
    Ok(Json(cases))
}

#[utoipa::path(
    get,
    path = "/api/v1/cases/{id}",
    tag = "cases",
    params(("id" = String, Path, description = "The case id.")),
    responses(
        (status = 200, description = "The case.", body = CaseView),
        (status = 404, description = "No such case, or one the caller may not see."),
    )
)]
pub async fn get(
    AnyPrincipal(caller): AnyPrincipal,
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<Json<CaseView>, ApiError> {
    let case = state
        .services
        .cases()
        .get(&caller, &id, state.clock.now())
        .await?;
    Ok(Json(case))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ConsentRequest {
    pub consent: Consent,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ConsentOutcome {
    pub consent: Consent,
    /// Object versions that left or re-entered the community views.
    pub objects_moved: u64,
}

/// Records the beneficiary's answer (analysts); material of the case leaves or re-enters the
/// community views accordingly.
#[utoipa::path(
    put,
    path = "/api/v1/cases/{id}/consent",
    tag = "cases",
    params(("id" = String, Path, description = "The case id.")),
    request_body(content = ConsentRequest, content_type = "application/json"),
    responses(
        (status = 200, description = "The consent recorded.", body = ConsentOutcome),
        (status = 403, description = "Only analysts record consent."),
        (status = 404, description = "No such case."),
    )
)]
pub async fn set_consent(
    caller: Result<Analyst, ApiError>,
    State(state): State<AppState>,
    Path(id): Path<String>,
    JsonBody(request): JsonBody<ConsentRequest>,
) -> Result<Json<ConsentOutcome>, ApiError> {
    // What was sent is judged before who sent it, as for every other caller.
    let caller = caller?;
    let moved = state
        .services
        .cases()
        .set_consent(&caller, &id, request.consent, state.clock.now())
        .await?;
    Ok(Json(ConsentOutcome {
        consent: request.consent,
        objects_moved: moved,
    }))
}
