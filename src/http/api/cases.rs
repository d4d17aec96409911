//! `/api/v1/cases`: victim cases as far as submissions need them (analysts open them and
//! record consent; the provider a case was handed to sees it, to name it in submissions).

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};

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

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConsentRequest {
    pub consent: Consent,
}

#[derive(Debug, Serialize)]
pub struct ConsentOutcome {
    pub consent: Consent,
    /// Object versions that left or re-entered the community views.
    pub objects_moved: u64,
}

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
