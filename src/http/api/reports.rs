//! `/api/v1/cases/{id}/rex`, `/api/v1/notifications`, `/api/v1/reports/overdue`: the REX a
//! provider returns after a mission, the reminders the hub records, and the analysts' list of
//! what is overdue. To anyone but the CSIRT and the provider that handled the case, a REX
//! answers exactly as a case that never existed.

use axum::Json;
use axum::extract::{Path, Request, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use base64::Engine as _;

use super::body::json_bytes;
use crate::domain::access::{Analyst, Provider};
use crate::domain::reports::rex::RexRequest;
use crate::http::AppState;
use crate::http::error::ApiError;
use crate::http::identity::AnyPrincipal;
use crate::services::reports::{
    NotificationView, OverdueItem, ReportError, RexVersionView, RexView,
};

/// The header that carries a detached OpenPGP signature over the exact request body, base64
/// of the signature (binary or armored): `gpg --detach-sign -o - rex.json | base64 -w0`.
pub const SIGNATURE_HEADER: &str = "relais-signature";
/// Longest signature header accepted (a few signatures fit in far less).
const MAX_SIGNATURE_HEADER: usize = 16 * 1024;

impl From<ReportError> for ApiError {
    fn from(e: ReportError) -> Self {
        match e {
            ReportError::NotFound => ApiError::NotFound,
            ReportError::NotAnalyst => ApiError::NotPermitted(e.to_string()),
            ReportError::Invalid(_) | ReportError::Refused(_) | ReportError::BadSignature(_) => {
                ApiError::Unprocessable(e.to_string())
            }
            ReportError::NotNow(detail) => ApiError::Conflict(detail),
            ReportError::Store(s) => crate::http::error::storage(s),
        }
    }
}

fn signature(req: &Request) -> Result<Option<Vec<u8>>, ApiError> {
    let Some(value) = req.headers().get(SIGNATURE_HEADER) else {
        return Ok(None);
    };
    let bad = || {
        ApiError::BadRequest(format!(
            "the {SIGNATURE_HEADER} header must be base64 of a detached OpenPGP signature, at \
             most {MAX_SIGNATURE_HEADER} bytes"
        ))
    };
    if value.len() > MAX_SIGNATURE_HEADER {
        return Err(bad());
    }
    let text = value.to_str().map_err(|_| bad())?;
    base64::engine::general_purpose::STANDARD
        .decode(text.trim())
        .map(Some)
        .map_err(|_| bad())
}

/// Returns the REX of a case the caller's organisation handled, once the case is closed; a
/// second post is an amendment (a new version; the earlier ones are kept). The whole REX is
/// anonymised with the case's victim identifiers (the response reports each change); the
/// STIX part, if any, goes to the triage queue as a submission of the case.
#[utoipa::path(
    post,
    path = "/api/v1/cases/{id}/rex",
    tag = "reports",
    params(
        ("id" = String, Path, description = "The case id."),
        ("relais-signature" = Option<String>, Header, description = "Base64 of a detached OpenPGP signature over the exact request body, by the key in the provider's registry file."),
    ),
    request_body(content = RexRequest, content_type = "application/json"),
    responses(
        (status = 201, description = "The REX stored; its versions.", body = RexView),
        (status = 403, description = "Only providers return REX."),
        (status = 404, description = "No such case, or not one the caller's organisation handled."),
        (status = 409, description = "The case is not closed, or a version came meanwhile."),
        (status = 422, description = "A field breaks a rule, the anonymiser refuses a value, or the signature does not verify."),
    )
)]
pub async fn submit(
    caller: Result<Provider, ApiError>,
    State(state): State<AppState>,
    Path(id): Path<String>,
    req: Request,
) -> Result<Response, ApiError> {
    let signature = signature(&req)?;
    let (bytes, value) = json_bytes(req, state.limits.body_bytes).await?;
    let request: RexRequest =
        serde_json::from_value(value).map_err(|e| ApiError::BadRequest(e.to_string()))?;
    let caller = caller?;
    let rex = state
        .services
        .reports()
        .submit_rex(
            &caller,
            &id,
            &bytes,
            request,
            signature.as_deref(),
            state.clock.now(),
        )
        .await?;
    Ok((StatusCode::CREATED, Json(rex)).into_response())
}

/// The REX of a case: its latest version and the list of all, for the analysts and the
/// provider that handled the case.
#[utoipa::path(
    get,
    path = "/api/v1/cases/{id}/rex",
    tag = "reports",
    params(("id" = String, Path, description = "The case id.")),
    responses(
        (status = 200, description = "The REX.", body = RexView),
        (status = 404, description = "No REX yet, no such case, or one the caller may not see."),
    )
)]
pub async fn get(
    AnyPrincipal(caller): AnyPrincipal,
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<Json<RexView>, ApiError> {
    Ok(Json(
        state
            .services
            .reports()
            .rex(&caller, &id, state.clock.now())
            .await?,
    ))
}

/// One version of a case's REX, with the provider's signature and the exact bytes it covers.
#[utoipa::path(
    get,
    path = "/api/v1/cases/{id}/rex/versions/{version}",
    tag = "reports",
    params(
        ("id" = String, Path, description = "The case id."),
        ("version" = u32, Path, description = "The version, from 1."),
    ),
    responses(
        (status = 200, description = "The version.", body = RexVersionView),
        (status = 404, description = "No such version, or a case the caller may not see."),
    )
)]
pub async fn version(
    AnyPrincipal(caller): AnyPrincipal,
    State(state): State<AppState>,
    Path((id, version)): Path<(String, u32)>,
) -> Result<Json<RexVersionView>, ApiError> {
    Ok(Json(
        state
            .services
            .reports()
            .rex_version(&caller, &id, version, state.clock.now())
            .await?,
    ))
}

/// The reminders and overdue states the hub recorded: a provider's own, or for analysts
/// everyone's (breach candidates included).
#[utoipa::path(
    get,
    path = "/api/v1/notifications",
    tag = "reports",
    responses((status = 200, description = "The notifications, oldest first.", body = Vec<NotificationView>))
)]
pub async fn notifications(
    AnyPrincipal(caller): AnyPrincipal,
    State(state): State<AppState>,
) -> Result<Json<Vec<NotificationView>>, ApiError> {
    Ok(Json(state.services.reports().notifications(&caller).await?))
}

/// What is overdue, in one list: REX (with the breach candidates, more than 30 days late),
/// annual summaries, and the provider registry's own deadlines (analysts).
#[utoipa::path(
    get,
    path = "/api/v1/reports/overdue",
    tag = "reports",
    responses(
        (status = 200, description = "The overdue items, earliest due first.", body = Vec<OverdueItem>),
        (status = 403, description = "Only analysts."),
    )
)]
pub async fn overdue(
    caller: Analyst,
    State(state): State<AppState>,
) -> Result<Json<Vec<OverdueItem>>, ApiError> {
    let services = &state.services;
    Ok(Json(
        services
            .reports()
            .overdue(&caller, services.registry(), state.clock.now())
            .await?,
    ))
}
