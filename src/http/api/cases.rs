//! `/api/v1/cases`: victim cases as far as submissions need them (analysts open them and
//! record consent; the provider a case was handed to sees it, to name it in submissions).

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};

use super::body::JsonBody;
use crate::domain::principal::PrincipalKind;
use crate::domain::triage::{Case, Consent, VictimIdentifiers};
use crate::http::AppState;
use crate::http::error::ApiError;
use crate::http::identity::AnyPrincipal;
use crate::services::cases::{CaseError, Cases, NewCase};

impl From<CaseError> for ApiError {
    fn from(e: CaseError) -> Self {
        match e {
            CaseError::NotAnalyst => ApiError::NotPermitted(e.to_string()),
            CaseError::NotFound => ApiError::NotFound,
            CaseError::Invalid(detail) => ApiError::Unprocessable(detail),
            CaseError::Duplicate(_) => ApiError::Conflict(e.to_string()),
            CaseError::Store(s) => s.into(),
        }
    }
}

/// A case as the API shows it. Providers get no identifiers: they are the CSIRT's working
/// material for the anonymiser.
#[derive(Debug, Serialize)]
pub struct CaseView {
    pub id: String,
    pub reference: String,
    pub beneficiary: String,
    pub provider: String,
    pub consent: Consent,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub identifiers: Option<VictimIdentifiers>,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: time::OffsetDateTime,
    #[serde(with = "time::serde::rfc3339::option")]
    pub consent_at: Option<time::OffsetDateTime>,
}

fn view(case: Case, kind: PrincipalKind) -> CaseView {
    CaseView {
        id: case.id,
        reference: case.reference,
        beneficiary: case.beneficiary,
        provider: case.provider.to_string(),
        consent: case.consent,
        identifiers: (kind == PrincipalKind::Analyst).then_some(case.identifiers),
        created_at: case.created_at,
        consent_at: case.consent_at,
    }
}

fn cases(state: &AppState) -> Cases<'_> {
    Cases {
        store: state.store.as_ref(),
    }
}

pub async fn open(
    AnyPrincipal(caller): AnyPrincipal,
    State(state): State<AppState>,
    JsonBody(request): JsonBody<NewCase>,
) -> Result<Response, ApiError> {
    let case = cases(&state)
        .open(&caller, request, state.clock.now())
        .await?;
    Ok((StatusCode::CREATED, Json(view(case, caller.principal.kind))).into_response())
}

pub async fn list(
    AnyPrincipal(caller): AnyPrincipal,
    State(state): State<AppState>,
) -> Result<Json<Vec<CaseView>>, ApiError> {
    let kind = caller.principal.kind;
    let all = cases(&state).list(&caller, state.clock.now()).await?;
    Ok(Json(all.into_iter().map(|c| view(c, kind)).collect()))
}

pub async fn get(
    AnyPrincipal(caller): AnyPrincipal,
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<Json<CaseView>, ApiError> {
    let case = cases(&state).get(&caller, &id, state.clock.now()).await?;
    Ok(Json(view(case, caller.principal.kind)))
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
    AnyPrincipal(caller): AnyPrincipal,
    State(state): State<AppState>,
    Path(id): Path<String>,
    JsonBody(request): JsonBody<ConsentRequest>,
) -> Result<Json<ConsentOutcome>, ApiError> {
    let moved = cases(&state)
        .set_consent(&caller, &id, request.consent, state.clock.now())
        .await?;
    Ok(Json(ConsentOutcome {
        consent: request.consent,
        objects_moved: moved,
    }))
}
