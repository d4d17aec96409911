//! `/api/v1/cases/{id}/rex`, `/api/v1/notifications`, `/api/v1/reports/overdue`: the REX a
//! provider returns after a mission, the reminders the hub records, and the analysts' list of
//! what is overdue. To anyone but the CSIRT and the provider that handled the case, a REX
//! answers exactly as a case that never existed.

use axum::Json;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Path, Query, Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use base64::Engine as _;

use super::body::{JsonBody, json_bytes};
use crate::domain::access::{Analyst, Provider};
use crate::domain::principal::{OrganisationId, PrincipalKind};
use crate::domain::reports::rex::RexRequest;
use crate::domain::reports::statistics::{AnnualStatistics, Audience};
use crate::domain::reports::summary::ProviderPart;
use crate::http::AppState;
use crate::http::error::ApiError;
use crate::http::identity::AnyPrincipal;
use crate::services::reports::{
    NotificationView, OverdueItem, ReportError, RexVersionView, RexView, StatisticsFormat,
    SummaryView, render,
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
            ReportError::Render(_) => ApiError::Internal(Box::new(e)),
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
    Path((id, version)): Path<(String, String)>,
) -> Result<Json<RexVersionView>, ApiError> {
    // A version that is not a number is a version that does not exist.
    let version: u32 = version.parse().map_err(|_| ApiError::NotFound)?;
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

/// A year of a path; a problem+json 400 when it is not one.
fn year_of(text: &str) -> Result<i32, ApiError> {
    text.parse()
        .map_err(|_| ApiError::BadRequest(format!("{text:?} is not a calendar year")))
}

/// The form of the annual statistics.
#[derive(Debug, serde::Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct StatisticsQuery {
    /// `json` (default), `csv` or `html`.
    #[serde(default)]
    #[param(value_type = Option<String>, pattern = "^(json|csv|html)$")]
    pub format: Option<StatisticsFormat>,
    /// `csirt` (analysts' default) or `providers`: the aggregates-only form shown to
    /// providers (and the only one they get).
    #[serde(default)]
    #[param(value_type = Option<String>, pattern = "^(csirt|providers)$")]
    pub audience: Option<Audience>,
}

/// The provider's own annual summary of `year`: its stored draft or submission, or the
/// hub's draft (the figures of its cases of the year) if it has not started one.
#[utoipa::path(
    get,
    path = "/api/v1/registry/me/annual-summaries/{year}",
    tag = "reports",
    params(("year" = i32, Path, description = "The calendar year.")),
    responses(
        (status = 200, description = "The summary.", body = SummaryView),
        (status = 403, description = "Only providers have summaries of their own."),
        (status = 400, description = "The year is not a number."),
        (status = 422, description = "Not a year a summary may be about."),
    )
)]
pub async fn own_summary(
    caller: Provider,
    State(state): State<AppState>,
    Path(year): Path<String>,
) -> Result<Json<SummaryView>, ApiError> {
    let year = year_of(&year)?;
    Ok(Json(
        state
            .services
            .reports()
            .own_summary(&caller, year, state.clock.now())
            .await?,
    ))
}

/// Saves the provider's part of its draft (anonymised with the identifiers of its cases of
/// the year, changes reported).
#[utoipa::path(
    put,
    path = "/api/v1/registry/me/annual-summaries/{year}",
    tag = "reports",
    params(("year" = i32, Path, description = "The calendar year.")),
    request_body(content = ProviderPart, content_type = "application/json"),
    responses(
        (status = 200, description = "The draft saved.", body = SummaryView),
        (status = 403, description = "Only providers."),
        (status = 400, description = "The year is not a number, or the body is malformed."),
        (status = 409, description = "The summary was submitted already."),
        (status = 422, description = "A field breaks a rule, or the anonymiser refuses a value."),
    )
)]
pub async fn save_summary(
    caller: Result<Provider, ApiError>,
    State(state): State<AppState>,
    Path(year): Path<String>,
    JsonBody(part): JsonBody<ProviderPart>,
) -> Result<Json<SummaryView>, ApiError> {
    write_summary(caller, &state, &year, part, false).await
}

/// Submits the summary with this final part: the year's figures are frozen with it, and the
/// CSIRT's yearly evaluation of the provider can be based on it.
#[utoipa::path(
    post,
    path = "/api/v1/registry/me/annual-summaries/{year}/submit",
    tag = "reports",
    params(("year" = i32, Path, description = "The calendar year.")),
    request_body(content = ProviderPart, content_type = "application/json"),
    responses(
        (status = 200, description = "The summary submitted.", body = SummaryView),
        (status = 403, description = "Only providers."),
        (status = 400, description = "The year is not a number, or the body is malformed."),
        (status = 409, description = "The summary was submitted already."),
        (status = 422, description = "A field breaks a rule (the observations are required), or the anonymiser refuses a value."),
    )
)]
pub async fn submit_summary(
    caller: Result<Provider, ApiError>,
    State(state): State<AppState>,
    Path(year): Path<String>,
    JsonBody(part): JsonBody<ProviderPart>,
) -> Result<Json<SummaryView>, ApiError> {
    write_summary(caller, &state, &year, part, true).await
}

async fn write_summary(
    caller: Result<Provider, ApiError>,
    state: &AppState,
    year: &str,
    part: ProviderPart,
    submit: bool,
) -> Result<Json<SummaryView>, ApiError> {
    let year = year_of(year)?;
    let caller = caller?;
    Ok(Json(
        state
            .services
            .reports()
            .save_summary(&caller, year, part, submit, state.clock.now())
            .await?,
    ))
}

/// A provider's annual summary of `year` (analysts).
#[utoipa::path(
    get,
    path = "/api/v1/registry/providers/{id}/annual-summaries/{year}",
    tag = "reports",
    params(
        ("id" = String, Path, description = "The provider's organisation id."),
        ("year" = i32, Path, description = "The calendar year."),
    ),
    responses(
        (status = 200, description = "The summary.", body = SummaryView),
        (status = 403, description = "Only analysts."),
        (status = 404, description = "No such provider."),
        (status = 400, description = "The year is not a number."),
        (status = 422, description = "Not a year a summary may be about."),
    )
)]
pub async fn provider_summary(
    caller: Analyst,
    State(state): State<AppState>,
    Path((id, year)): Path<(String, String)>,
) -> Result<Json<SummaryView>, ApiError> {
    let year = year_of(&year)?;
    Ok(Json(
        state
            .services
            .reports()
            .provider_summary(
                &caller,
                &OrganisationId::from_stored(id),
                year,
                state.clock.now(),
            )
            .await?,
    ))
}

/// The CSIRT's statistics of `year` for its annual meeting (art. 3): JSON, CSV, or one
/// self-contained HTML page with its charts. No cell identifies a beneficiary: a group of
/// fewer than `statistics.min_group` beneficiaries is merged into "other" or suppressed.
/// Analysts get every form; providers only `audience=providers` (aggregates only).
#[utoipa::path(
    get,
    path = "/api/v1/statistics/annual/{year}",
    tag = "reports",
    params(("year" = i32, Path, description = "The calendar year."), StatisticsQuery),
    responses(
        (status = 200, description = "The statistics.", body = AnnualStatistics,
         content(
            (AnnualStatistics = "application/json"),
            (String = "text/csv"),
            (String = "text/html"),
         )),
        (status = 400, description = "The year is not a number, or a query parameter is malformed."),
        (status = 403, description = "Providers get only the `audience=providers` form; peers nothing."),
        (status = 422, description = "Not a year the statistics cover."),
    )
)]
pub async fn annual_statistics(
    AnyPrincipal(caller): AnyPrincipal,
    State(state): State<AppState>,
    Path(year): Path<String>,
    query: Result<Query<StatisticsQuery>, QueryRejection>,
) -> Result<Response, ApiError> {
    let year = year_of(&year)?;
    let Query(query) = query.map_err(|e| ApiError::BadRequest(e.body_text()))?;
    let audience = match (caller.principal.kind, query.audience) {
        (PrincipalKind::Analyst, a) => a.unwrap_or(Audience::Csirt),
        (PrincipalKind::Provider, Some(Audience::Providers)) => Audience::Providers,
        _ => {
            return Err(ApiError::NotPermitted(
                "analysts; providers with audience=providers".into(),
            ));
        }
    };
    let format = query.format.unwrap_or(StatisticsFormat::Json);
    let now = state.clock.now();
    let reports = state.services.reports();
    let stats = reports.annual_statistics(year, audience, now).await?;
    let body = render(&stats, format, &state.services.organisation, now)?;
    let mut response = (StatusCode::OK, body).into_response();
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(format.media_type()),
    );
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    if format == StatisticsFormat::Html {
        // The page is self-contained: inline style and SVG, nothing runs, nothing loads.
        headers.insert(
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static(
                "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'",
            ),
        );
    }
    Ok(response)
}
