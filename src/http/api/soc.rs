//! `/api/v1/soc/…`: SOC contracts (analysts record them), the alerts their SOC provider
//! reports and the take-in clocks, the compliance reports, and the contract rules (asset
//! reviews, committees, prepaid credits, term). A contract and everything under it answers,
//! to anyone but the CSIRT and the contract's SOC provider, exactly as an id that never
//! existed.

use axum::Json;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use time::Date;

use super::body::JsonBody;
use crate::domain::access::{Analyst, Provider};
use crate::domain::sla::contract::{AlertVerb, NewAlert, NewContract};
use crate::domain::sla::report::ComplianceReport;
use crate::domain::sla::rules::Minutes;
use crate::http::AppState;
use crate::http::error::ApiError;
use crate::http::identity::AnyPrincipal;
use crate::services::sla::records::{NewCommittee, NewPurchase, NewReview, NewUsage};
use crate::services::sla::{
    AlertView, CommitteeView, ContractView, CreditsView, Rendered, ReportFormat, ReviewView,
    SlaError, TermView,
};

impl From<SlaError> for ApiError {
    fn from(e: SlaError) -> Self {
        match e {
            SlaError::NotFound => ApiError::NotFound,
            SlaError::NotAnalyst | SlaError::NotTheSoc => ApiError::NotPermitted(e.to_string()),
            SlaError::Invalid(m) => ApiError::Unprocessable(m),
            SlaError::NotNow(m) => ApiError::Conflict(m),
            SlaError::Render(_) => ApiError::Internal(Box::new(e)),
            SlaError::Store(s) => crate::http::error::storage(s),
        }
    }
}

fn query<T>(q: Result<Query<T>, QueryRejection>) -> Result<T, ApiError> {
    q.map(|Query(t)| t)
        .map_err(|e| ApiError::BadRequest(e.body_text()))
}

const DATE: &[time::format_description::BorrowedFormatItem<'_>] =
    time::macros::format_description!("[year]-[month]-[day]");

fn date(field: &str, text: &str) -> Result<Date, ApiError> {
    Date::parse(text, DATE)
        .map_err(|_| ApiError::BadRequest(format!("{field} must be a date, YYYY-MM-DD")))
}

fn optional_date(field: &str, text: Option<&str>) -> Result<Option<Date>, ApiError> {
    text.map(|t| date(field, t)).transpose()
}

/// Records a SOC contract between a provider of the registry and a beneficiary.
#[utoipa::path(
    post,
    path = "/api/v1/soc/contracts",
    tag = "soc",
    request_body(content = NewContract, content_type = "application/json"),
    responses(
        (status = 201, description = "The contract recorded.", body = ContractView),
        (status = 403, description = "Only analysts record contracts."),
        (status = 422, description = "A field breaks a rule (unknown provider or calendar, dates, delays)."),
    )
)]
pub async fn create_contract(
    caller: Analyst,
    State(state): State<AppState>,
    JsonBody(request): JsonBody<NewContract>,
) -> Result<(StatusCode, Json<ContractView>), ApiError> {
    let view = state
        .services
        .sla()
        .create_contract(&caller, request, state.clock.now())
        .await?;
    Ok((StatusCode::CREATED, Json(view)))
}

/// The contracts the caller may see: every one for the analysts, its own for a SOC provider.
#[utoipa::path(
    get,
    path = "/api/v1/soc/contracts",
    tag = "soc",
    responses((status = 200, description = "The contracts, oldest first.", body = Vec<ContractView>))
)]
pub async fn contracts(
    AnyPrincipal(caller): AnyPrincipal,
    State(state): State<AppState>,
) -> Result<Json<Vec<ContractView>>, ApiError> {
    Ok(Json(state.services.sla().contracts(&caller).await?))
}

#[utoipa::path(
    get,
    path = "/api/v1/soc/contracts/{id}",
    tag = "soc",
    params(("id" = String, Path, description = "The contract id.")),
    responses(
        (status = 200, description = "The contract.", body = ContractView),
        (status = 404, description = "No such contract, or one the caller may not see."),
    )
)]
pub async fn contract(
    AnyPrincipal(caller): AnyPrincipal,
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<Json<ContractView>, ApiError> {
    Ok(Json(state.services.sla().contract(&caller, &id).await?))
}

/// Longest period a list or a report covers (the service checks it too).
const MAX_PERIOD_DAYS: i64 = crate::services::sla::MAX_PERIOD_DAYS;

/// A period of local dates of the contract's calendar, [from, to), or a month.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PeriodQuery {
    /// First day (YYYY-MM-DD).
    pub from: Option<String>,
    /// Day after the last (YYYY-MM-DD).
    pub to: Option<String>,
    /// A whole month instead (YYYY-MM).
    pub month: Option<String>,
    /// Reports: `json` (default), `csv` or `html`.
    #[param(pattern = "^(json|csv|html)$")]
    pub format: Option<String>,
}

fn period(q: &PeriodQuery) -> Result<(Date, Date), ApiError> {
    match (&q.month, &q.from, &q.to) {
        (Some(m), None, None) => {
            let first = date("month", &format!("{m}-01"))
                .map_err(|_| ApiError::BadRequest("month must be YYYY-MM".to_owned()))?;
            let next = if first.month() == time::Month::December {
                Date::from_calendar_date(first.year() + 1, time::Month::January, 1)
            } else {
                Date::from_calendar_date(first.year(), first.month().next(), 1)
            }
            .map_err(|_| ApiError::BadRequest("month is out of range".to_owned()))?;
            Ok((first, next))
        }
        (None, Some(f), Some(t)) => {
            let (from, to) = (date("from", f)?, date("to", t)?);
            if to <= from || (to - from).whole_days() > MAX_PERIOD_DAYS {
                return Err(ApiError::BadRequest(format!(
                    "the period must end after it starts and last at most {MAX_PERIOD_DAYS} days"
                )));
            }
            Ok((from, to))
        }
        _ => Err(ApiError::BadRequest(
            "give month=YYYY-MM, or from=YYYY-MM-DD and to=YYYY-MM-DD".to_owned(),
        )),
    }
}

/// A contract's alerts detected within a period.
#[utoipa::path(
    get,
    path = "/api/v1/soc/contracts/{id}/alerts",
    tag = "soc",
    params(("id" = String, Path, description = "The contract id."), PeriodQuery),
    responses(
        (status = 200, description = "The alerts, oldest detection first.", body = Vec<AlertView>),
        (status = 400, description = "No period, or a malformed one."),
        (status = 404, description = "No such contract, or one the caller may not see."),
        (status = 422, description = "More than 50,000 alerts in the period: ask for a shorter one."),
    )
)]
pub async fn contract_alerts(
    AnyPrincipal(caller): AnyPrincipal,
    State(state): State<AppState>,
    Path(id): Path<String>,
    q: Result<Query<PeriodQuery>, QueryRejection>,
) -> Result<Json<Vec<AlertView>>, ApiError> {
    let (from, to) = period(&query(q)?)?;
    Ok(Json(
        state
            .services
            .sla()
            .alerts(&caller, &id, from, to, state.clock.now())
            .await?,
    ))
}

/// Compliance per level over a period (count, met, breached, median and 90th percentile
/// take-in time) and the breaches, as JSON, CSV or an HTML page with a chart.
#[utoipa::path(
    get,
    path = "/api/v1/soc/contracts/{id}/report",
    tag = "soc",
    params(("id" = String, Path, description = "The contract id."), PeriodQuery),
    responses(
        (status = 200, description = "The report: JSON, or CSV and HTML with `format`.", body = ComplianceReport,
         content(
            (ComplianceReport = "application/json"),
            (String = "text/csv"),
            (String = "text/html"),
         )),
        (status = 400, description = "No period, a malformed one, or an unknown format."),
        (status = 404, description = "No such contract, or one the caller may not see."),
        (status = 422, description = "More than 50,000 alerts in the period: ask for a shorter one."),
    )
)]
pub async fn report(
    AnyPrincipal(caller): AnyPrincipal,
    State(state): State<AppState>,
    Path(id): Path<String>,
    q: Result<Query<PeriodQuery>, QueryRejection>,
) -> Result<Response, ApiError> {
    let q = query(q)?;
    let format = match q.format.as_deref() {
        None | Some("json") => ReportFormat::Json,
        Some("csv") => ReportFormat::Csv,
        Some("html") => ReportFormat::Html,
        Some(_) => {
            return Err(ApiError::BadRequest(
                "format must be json, csv or html".into(),
            ));
        }
    };
    let rendered = state
        .services
        .sla()
        .report(&caller, &id, period(&q)?, format, state.clock.now())
        .await?;
    let mut response = match rendered {
        Rendered::Json(report) => Json(report).into_response(),
        Rendered::Text(media, body) => {
            let mut r = body.into_response();
            r.headers_mut()
                .insert(header::CONTENT_TYPE, HeaderValue::from_static(media));
            r
        }
    };
    let headers = response.headers_mut();
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    if format == ReportFormat::Html {
        // Self-contained like the annual statistics: inline style and SVG, nothing runs.
        headers.insert(
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static(
                "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'",
            ),
        );
    }
    Ok(response)
}

/// Reports an alert on one of the caller's contracts; the same external id posted again
/// returns the alert recorded the first time (200).
#[utoipa::path(
    post,
    path = "/api/v1/soc/alerts",
    tag = "soc",
    request_body(content = NewAlert, content_type = "application/json"),
    responses(
        (status = 201, description = "The alert recorded, its due time and state.", body = AlertView),
        (status = 200, description = "This external id was posted before: the alert recorded then.", body = AlertView),
        (status = 403, description = "Only providers report alerts."),
        (status = 404, description = "No such contract, or not one of the caller's."),
        (status = 409, description = "The external id is used by a different alert."),
        (status = 422, description = "A field breaks a rule (detected in the future, text too long)."),
    )
)]
pub async fn post_alert(
    caller: Result<Provider, ApiError>,
    State(state): State<AppState>,
    JsonBody(request): JsonBody<NewAlert>,
) -> Result<(StatusCode, Json<AlertView>), ApiError> {
    let caller = caller?;
    let (view, created) = state
        .services
        .sla()
        .post_alert(&caller, request, state.clock.now())
        .await?;
    let status = if created {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    Ok((status, Json(view)))
}

#[utoipa::path(
    get,
    path = "/api/v1/soc/alerts/{id}",
    tag = "soc",
    params(("id" = String, Path, description = "The alert id.")),
    responses(
        (status = 200, description = "The alert, its clock read now.", body = AlertView),
        (status = 404, description = "No such alert, or one the caller may not see."),
    )
)]
pub async fn alert(
    AnyPrincipal(caller): AnyPrincipal,
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<Json<AlertView>, ApiError> {
    Ok(Json(
        state
            .services
            .sla()
            .alert(&caller, &id, state.clock.now())
            .await?,
    ))
}

/// The reason of an action on an alert's clock (required to pause and resume).
#[derive(Debug, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ActionRequest {
    pub reason: Option<String>,
}

async fn act(
    state: &AppState,
    caller: &crate::domain::access::RegistryRecord,
    id: &str,
    verb: AlertVerb,
    reason: Option<String>,
) -> Result<Json<AlertView>, ApiError> {
    Ok(Json(
        state
            .services
            .sla()
            .act(caller, id, verb, reason, state.clock.now())
            .await?,
    ))
}

/// The alert was taken into account: its clock stops (met, or breached if past due).
#[utoipa::path(
    post,
    path = "/api/v1/soc/alerts/{id}/ack",
    tag = "soc",
    params(("id" = String, Path, description = "The alert id.")),
    request_body(content = ActionRequest, content_type = "application/json"),
    responses(
        (status = 200, description = "The alert.", body = AlertView),
        (status = 403, description = "Only the contract's SOC provider acts on its alerts."),
        (status = 404, description = "No such alert, or one the caller may not see."),
        (status = 409, description = "The alert changed meanwhile (read it again)."),
        (status = 422, description = "Already taken into account, or a reason too long."),
    )
)]
pub async fn ack(
    AnyPrincipal(caller): AnyPrincipal,
    State(state): State<AppState>,
    Path(id): Path<String>,
    JsonBody(request): JsonBody<ActionRequest>,
) -> Result<Json<AlertView>, ApiError> {
    act(&state, &caller, &id, AlertVerb::Ack, request.reason).await
}

/// Pauses the clock (waiting for the beneficiary, say), with a reason.
#[utoipa::path(
    post,
    path = "/api/v1/soc/alerts/{id}/pause",
    tag = "soc",
    params(("id" = String, Path, description = "The alert id.")),
    request_body(content = ActionRequest, content_type = "application/json"),
    responses(
        (status = 200, description = "The alert.", body = AlertView),
        (status = 403, description = "Only the contract's SOC provider acts on its alerts."),
        (status = 404, description = "No such alert, or one the caller may not see."),
        (status = 409, description = "The clock is not running."),
        (status = 422, description = "No reason, or the alert carries no service level."),
    )
)]
pub async fn pause(
    AnyPrincipal(caller): AnyPrincipal,
    State(state): State<AppState>,
    Path(id): Path<String>,
    JsonBody(request): JsonBody<ActionRequest>,
) -> Result<Json<AlertView>, ApiError> {
    act(&state, &caller, &id, AlertVerb::Pause, request.reason).await
}

/// Resumes a paused clock, with a reason.
#[utoipa::path(
    post,
    path = "/api/v1/soc/alerts/{id}/resume",
    tag = "soc",
    params(("id" = String, Path, description = "The alert id.")),
    request_body(content = ActionRequest, content_type = "application/json"),
    responses(
        (status = 200, description = "The alert.", body = AlertView),
        (status = 403, description = "Only the contract's SOC provider acts on its alerts."),
        (status = 404, description = "No such alert, or one the caller may not see."),
        (status = 409, description = "The clock is not paused."),
        (status = 422, description = "No reason."),
    )
)]
pub async fn resume(
    AnyPrincipal(caller): AnyPrincipal,
    State(state): State<AppState>,
    Path(id): Path<String>,
    JsonBody(request): JsonBody<ActionRequest>,
) -> Result<Json<AlertView>, ApiError> {
    act(&state, &caller, &id, AlertVerb::Resume, request.reason).await
}

/// The asset reviews of a contract, each compared with the one before.
#[utoipa::path(
    get,
    path = "/api/v1/soc/contracts/{id}/reviews",
    tag = "soc",
    params(("id" = String, Path, description = "The contract id.")),
    responses(
        (status = 200, description = "The reviews, in order.", body = Vec<ReviewView>),
        (status = 404, description = "No such contract, or one the caller may not see."),
    )
)]
pub async fn reviews(
    AnyPrincipal(caller): AnyPrincipal,
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<Json<Vec<ReviewView>>, ApiError> {
    Ok(Json(state.services.sla().reviews(&caller, &id).await?))
}

/// Records a review of the monitored assets: 5 % or more above the previous review (the
/// subscribed assets at the first) requires a regularisation, prorated over the rest of the
/// subscription year.
#[utoipa::path(
    post,
    path = "/api/v1/soc/contracts/{id}/reviews",
    tag = "soc",
    params(("id" = String, Path, description = "The contract id.")),
    request_body(content = NewReview, content_type = "application/json"),
    responses(
        (status = 201, description = "The review and its outcome.", body = ReviewView),
        (status = 404, description = "No such contract, or one the caller may not see."),
        (status = 422, description = "Before the subscription, or before the previous review."),
    )
)]
pub async fn add_review(
    AnyPrincipal(caller): AnyPrincipal,
    State(state): State<AppState>,
    Path(id): Path<String>,
    JsonBody(request): JsonBody<NewReview>,
) -> Result<(StatusCode, Json<ReviewView>), ApiError> {
    let view = state
        .services
        .sla()
        .add_review(&caller, &id, request, state.clock.now())
        .await?;
    Ok((StatusCode::CREATED, Json(view)))
}

/// The operational committees, their minutes' due dates and states.
#[utoipa::path(
    get,
    path = "/api/v1/soc/contracts/{id}/committees",
    tag = "soc",
    params(("id" = String, Path, description = "The contract id.")),
    responses(
        (status = 200, description = "The committees, in order.", body = Vec<CommitteeView>),
        (status = 404, description = "No such contract, or one the caller may not see."),
    )
)]
pub async fn committees(
    AnyPrincipal(caller): AnyPrincipal,
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<Json<Vec<CommitteeView>>, ApiError> {
    Ok(Json(
        state
            .services
            .sla()
            .committees(&caller, &id, state.clock.now())
            .await?,
    ))
}

/// Records that a committee was held: its minutes are due on the 10th working day after.
#[utoipa::path(
    post,
    path = "/api/v1/soc/contracts/{id}/committees",
    tag = "soc",
    params(("id" = String, Path, description = "The contract id.")),
    request_body(content = NewCommittee, content_type = "application/json"),
    responses(
        (status = 201, description = "The committee.", body = CommitteeView),
        (status = 404, description = "No such contract, or one the caller may not see."),
        (status = 422, description = "Held in the future."),
    )
)]
pub async fn add_committee(
    AnyPrincipal(caller): AnyPrincipal,
    State(state): State<AppState>,
    Path(id): Path<String>,
    JsonBody(request): JsonBody<NewCommittee>,
) -> Result<(StatusCode, Json<CommitteeView>), ApiError> {
    let view = state
        .services
        .sla()
        .add_committee(&caller, &id, request, state.clock.now())
        .await?;
    Ok((StatusCode::CREATED, Json(view)))
}

/// Files (or completes) a committee's minutes: participants, the indicators agreed at build,
/// the incidents of the period (`[]` for none), decisions, action plan.
#[utoipa::path(
    put,
    path = "/api/v1/soc/contracts/{id}/committees/{seq}/minutes",
    tag = "soc",
    params(
        ("id" = String, Path, description = "The contract id."),
        ("seq" = i64, Path, description = "The committee's number, from 1."),
    ),
    request_body(content = Object, content_type = "application/json"),
    responses(
        (status = 200, description = "The committee, its minutes checked.", body = CommitteeView),
        (status = 404, description = "No such committee, or a contract the caller may not see."),
        (status = 422, description = "Too many or too long entries."),
    )
)]
pub async fn file_minutes(
    AnyPrincipal(caller): AnyPrincipal,
    State(state): State<AppState>,
    Path((id, seq)): Path<(String, String)>,
    JsonBody(minutes): JsonBody<Minutes>,
) -> Result<Json<CommitteeView>, ApiError> {
    let seq: i64 = seq.parse().map_err(|_| ApiError::NotFound)?;
    Ok(Json(
        state
            .services
            .sla()
            .file_minutes(&caller, &id, seq, minutes, state.clock.now())
            .await?,
    ))
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct AtQuery {
    /// The day to compute at (YYYY-MM-DD) [default: today on the contract's calendar].
    pub at: Option<String>,
    /// Term only: the day a registered letter ending the contract was sent.
    pub notice_sent_on: Option<String>,
}

/// Prepaid incident-response credits: the balance at a date, lot by lot (first in, first
/// out; a lot expires three years after purchase), with the purchases and usages.
#[utoipa::path(
    get,
    path = "/api/v1/soc/contracts/{id}/credits",
    tag = "soc",
    params(("id" = String, Path, description = "The contract id."), AtQuery),
    responses(
        (status = 200, description = "The credits.", body = CreditsView),
        (status = 404, description = "No such contract, or one the caller may not see."),
    )
)]
pub async fn credits(
    AnyPrincipal(caller): AnyPrincipal,
    State(state): State<AppState>,
    Path(id): Path<String>,
    q: Result<Query<AtQuery>, QueryRejection>,
) -> Result<Json<CreditsView>, ApiError> {
    let q = query(q)?;
    let at = optional_date("at", q.at.as_deref())?;
    Ok(Json(
        state
            .services
            .sla()
            .credits(&caller, &id, at, state.clock.now())
            .await?,
    ))
}

#[utoipa::path(
    post,
    path = "/api/v1/soc/contracts/{id}/credits/purchases",
    tag = "soc",
    params(("id" = String, Path, description = "The contract id.")),
    request_body(content = NewPurchase, content_type = "application/json"),
    responses(
        (status = 201, description = "The credits after the purchase.", body = CreditsView),
        (status = 404, description = "No such contract, or one the caller may not see."),
        (status = 422, description = "A zero amount."),
    )
)]
pub async fn buy_credits(
    AnyPrincipal(caller): AnyPrincipal,
    State(state): State<AppState>,
    Path(id): Path<String>,
    JsonBody(request): JsonBody<NewPurchase>,
) -> Result<(StatusCode, Json<CreditsView>), ApiError> {
    let view = state
        .services
        .sla()
        .buy_credits(&caller, &id, request, state.clock.now())
        .await?;
    Ok((StatusCode::CREATED, Json(view)))
}

#[utoipa::path(
    post,
    path = "/api/v1/soc/contracts/{id}/credits/usages",
    tag = "soc",
    params(("id" = String, Path, description = "The contract id.")),
    request_body(content = NewUsage, content_type = "application/json"),
    responses(
        (status = 201, description = "The credits after the usage.", body = CreditsView),
        (status = 404, description = "No such contract, or one the caller may not see."),
        (status = 422, description = "More than the credits valid that day."),
    )
)]
pub async fn use_credits(
    AnyPrincipal(caller): AnyPrincipal,
    State(state): State<AppState>,
    Path(id): Path<String>,
    JsonBody(request): JsonBody<NewUsage>,
) -> Result<(StatusCode, Json<CreditsView>), ApiError> {
    let view = state
        .services
        .sla()
        .use_credits(&caller, &id, request, state.clock.now())
        .await?;
    Ok((StatusCode::CREATED, Json(view)))
}

/// The contract's current period, its term, the tacit renewals so far and the last day to
/// end it by registered letter (3 months before term).
#[utoipa::path(
    get,
    path = "/api/v1/soc/contracts/{id}/term",
    tag = "soc",
    params(("id" = String, Path, description = "The contract id."), AtQuery),
    responses(
        (status = 200, description = "The term.", body = TermView),
        (status = 404, description = "No such contract, or one the caller may not see."),
    )
)]
pub async fn term(
    AnyPrincipal(caller): AnyPrincipal,
    State(state): State<AppState>,
    Path(id): Path<String>,
    q: Result<Query<AtQuery>, QueryRejection>,
) -> Result<Json<TermView>, ApiError> {
    let q = query(q)?;
    let at = optional_date("at", q.at.as_deref())?;
    let notice = optional_date("notice_sent_on", q.notice_sent_on.as_deref())?;
    Ok(Json(
        state
            .services
            .sla()
            .term(&caller, &id, at, notice, state.clock.now())
            .await?,
    ))
}
