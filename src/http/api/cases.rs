//! `/api/v1/cases` and `/api/v1/handoffs`: victim cases from first contact to closure. The
//! analysts qualify, shortlist, record the beneficiary's choice (or issue its link), follow
//! and close; the provider the case is handed to fetches its package, answers, keeps the
//! journal and closes. To anyone else every case id answers as an id that never existed.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::body::JsonBody;
use crate::domain::access::{Analyst, Provider};
use crate::domain::cases::handoff::Answer;
use crate::domain::cases::journal::NewEntry;
use crate::domain::triage::Consent;
use crate::http::AppState;
use crate::http::error::ApiError;
use crate::http::identity::AnyPrincipal;
use crate::services::cases::{
    CaseError, CaseView, ChoiceRequest, CloseRequest, ClosureView, DisputeRequest, HandoffView,
    JournalExport, NewCase, OutcomeRequest, ShortlistView,
};

impl From<CaseError> for ApiError {
    fn from(e: CaseError) -> Self {
        match e {
            CaseError::NotFound => ApiError::NotFound,
            CaseError::Invalid(detail) => ApiError::Unprocessable(detail),
            CaseError::Duplicate(_) => ApiError::Conflict(e.to_string()),
            CaseError::NotNow(detail) => ApiError::Conflict(detail),
            // Links are met on the public pages, which map them themselves.
            CaseError::BadLink
            | CaseError::ExpiredLink
            | CaseError::UsedLink
            | CaseError::StaleLink => ApiError::NotFound,
            CaseError::Package(detail) => ApiError::Internal(detail.into()),
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

/// Draws a new shortlist for the case (analysts): at least `cases.shortlist_size` referenced
/// providers that offer the needed services (outside business hours when the incident came
/// then), with no declared conflict with the beneficiary, the least recently proposed first,
/// ties broken by a recorded draw. It supersedes the case's earlier shortlist.
#[utoipa::path(
    post,
    path = "/api/v1/cases/{id}/shortlist",
    tag = "cases",
    params(("id" = String, Path, description = "The case id.")),
    responses(
        (status = 201, description = "The shortlist, with each entry's reasons, the providers left out and why, the seed and the inputs that replay it; `short` says fewer providers were eligible than the size.", body = ShortlistView),
        (status = 403, description = "Only analysts draw shortlists."),
        (status = 404, description = "No such case."),
        (status = 409, description = "The case's state allows no new shortlist, or no provider is eligible."),
    )
)]
pub async fn shortlist(
    caller: Analyst,
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let list = state
        .services
        .cases()
        .shortlist(&caller, &id, state.clock.now())
        .await?;
    Ok((StatusCode::CREATED, Json(list)).into_response())
}

/// Every shortlist of the case, oldest first, to replay (analysts).
#[utoipa::path(
    get,
    path = "/api/v1/cases/{id}/shortlists",
    tag = "cases",
    params(("id" = String, Path, description = "The case id.")),
    responses(
        (status = 200, description = "The shortlists.", body = Vec<ShortlistView>),
        (status = 403, description = "Only analysts read shortlists."),
        (status = 404, description = "No such case."),
    )
)]
pub async fn shortlists(
    caller: Analyst,
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<Json<Vec<ShortlistView>>, ApiError> {
    Ok(Json(state.services.cases().shortlists(&caller, &id).await?))
}

/// Records the beneficiary's choice from the current shortlist, as the analyst heard it; the
/// case is handed to that provider at once (its encrypted package is built).
#[utoipa::path(
    post,
    path = "/api/v1/cases/{id}/choice",
    tag = "cases",
    params(("id" = String, Path, description = "The case id.")),
    request_body(content = ChoiceRequest, content_type = "application/json"),
    responses(
        (status = 201, description = "The handoff to the chosen provider.", body = HandoffView),
        (status = 403, description = "Only analysts record a choice."),
        (status = 404, description = "No such case."),
        (status = 409, description = "No shortlist yet, a choice was made already, or the provider declined this case or is no longer referenced."),
        (status = 422, description = "The provider is not on the current shortlist, or the channel is not one an analyst records."),
    )
)]
pub async fn choose(
    caller: Result<Analyst, ApiError>,
    State(state): State<AppState>,
    Path(id): Path<String>,
    JsonBody(request): JsonBody<ChoiceRequest>,
) -> Result<Response, ApiError> {
    let caller = caller?;
    let handoff = state
        .services
        .cases()
        .choose(&caller, &id, request, state.clock.now())
        .await?;
    Ok((StatusCode::CREATED, Json(handoff)).into_response())
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ChoiceLink {
    /// The link to send the beneficiary (public listener; no certificate needed): it shows
    /// the shortlist with the directory's public fields, and records the choice once.
    pub url: String,
    #[serde(with = "time::serde::rfc3339")]
    pub expires_at: time::OffsetDateTime,
}

/// Issues a single-use link through which the beneficiary chooses from the current shortlist.
#[utoipa::path(
    post,
    path = "/api/v1/cases/{id}/choice-link",
    tag = "cases",
    params(("id" = String, Path, description = "The case id.")),
    responses(
        (status = 201, description = "The link.", body = ChoiceLink),
        (status = 403, description = "Only analysts issue choice links."),
        (status = 404, description = "No such case."),
        (status = 409, description = "No shortlist yet, or the beneficiary has chosen."),
    )
)]
pub async fn choice_link(
    caller: Analyst,
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let issued = state
        .services
        .cases()
        .issue_choice_link(&caller, &id, state.clock.now())
        .await?;
    Ok((
        StatusCode::CREATED,
        Json(ChoiceLink {
            url: format!("{}/choose?token={}", state.public_url, issued.token),
            expires_at: issued.expires_at,
        }),
    )
        .into_response())
}

/// The case's journal with its hash chain (analysts, and the provider the case is handed to).
#[utoipa::path(
    get,
    path = "/api/v1/cases/{id}/journal",
    tag = "cases",
    params(("id" = String, Path, description = "The case id.")),
    responses(
        (status = 200, description = "The journal.", body = JournalExport),
        (status = 404, description = "No such case, or one the caller may not see."),
    )
)]
pub async fn journal(
    AnyPrincipal(caller): AnyPrincipal,
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<Json<JournalExport>, ApiError> {
    Ok(Json(
        state
            .services
            .cases()
            .journal(&caller, &id, state.clock.now())
            .await?,
    ))
}

/// Appends an entry to the journal; the author is the certificate's principal. Append only:
/// a correction is a new entry whose `corrects` names the entry it corrects.
#[utoipa::path(
    post,
    path = "/api/v1/cases/{id}/journal",
    tag = "cases",
    params(("id" = String, Path, description = "The case id.")),
    request_body(content = Object, content_type = "application/json", description = "`{\"kind\": \"action\" | \"finding\" | \"communication\" | \"meeting\" | \"decision\", \"text\": \"…\" (1 to 20000 bytes), \"participants\": [\"…\"] (a meeting names at least one, at most 50), \"attachments\": [{\"name\": \"…\", \"sha256\": \"64 hex digits\"}] (at most 50), \"corrects\": N}`"),
    responses(
        (status = 201, description = "The entry as chained (its number, previous hash and hash).", body = crate::domain::cases::journal::Entry),
        (status = 404, description = "No such case, or one the caller may not see."),
        (status = 409, description = "The case is closed, the provider has not accepted it yet, or another entry came meanwhile."),
        (status = 422, description = "A field breaks a rule (the detail says which)."),
    )
)]
pub async fn append_journal(
    AnyPrincipal(caller): AnyPrincipal,
    State(state): State<AppState>,
    Path(id): Path<String>,
    JsonBody(entry): JsonBody<NewEntry>,
) -> Result<Response, ApiError> {
    let entry = state
        .services
        .cases()
        .append_journal(&caller, &id, entry, state.clock.now())
        .await?;
    Ok((StatusCode::CREATED, Json(entry)).into_response())
}

/// The journal as text signed in clear by the hub (OpenPGP), for the beneficiary to keep and
/// check with `gpg --verify`.
#[utoipa::path(
    get,
    path = "/api/v1/cases/{id}/journal/signed",
    tag = "cases",
    params(("id" = String, Path, description = "The case id.")),
    responses(
        (status = 200, description = "The clear-signed journal.", body = String, content_type = "text/plain"),
        (status = 404, description = "No such case, or one the caller may not see."),
    )
)]
pub async fn journal_signed(
    AnyPrincipal(caller): AnyPrincipal,
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let text = state
        .services
        .cases()
        .journal_signed(&caller, &id, state.clock.now())
        .await?;
    Ok((
        [(
            axum::http::header::CONTENT_TYPE,
            "text/plain; charset=utf-8",
        )],
        text,
    )
        .into_response())
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Closed {
    #[serde(flatten)]
    pub closure: ClosureView,
    /// The satisfaction survey link to send the beneficiary, for the analyst who closed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub survey_url: Option<String>,
}

/// Closes the case with the end date of the service: the provider the case is handed to (at
/// the end of its service) or an analyst. Issues the satisfaction survey and sets the REX due
/// date (end + 30 days) when a provider served.
#[utoipa::path(
    post,
    path = "/api/v1/cases/{id}/close",
    tag = "cases",
    params(("id" = String, Path, description = "The case id.")),
    request_body(content = CloseRequest, content_type = "application/json"),
    responses(
        (status = 200, description = "The closure.", body = Closed),
        (status = 404, description = "No such case, or one the caller may not see."),
        (status = 409, description = "The case is closed, not in a state to close, or the end date is before the case or in the future."),
        (status = 422, description = "The summary is too long."),
    )
)]
pub async fn close(
    AnyPrincipal(caller): AnyPrincipal,
    State(state): State<AppState>,
    Path(id): Path<String>,
    JsonBody(request): JsonBody<CloseRequest>,
) -> Result<Json<Closed>, ApiError> {
    let mut closure = state
        .services
        .cases()
        .close(&caller, &id, request, state.clock.now())
        .await?;
    let survey_url = closure
        .survey_token
        .take()
        .map(|t| format!("{}/survey?token={t}", state.public_url));
    Ok(Json(Closed {
        closure,
        survey_url,
    }))
}

/// Records a dispute between the beneficiary and the provider, which the CSIRT mediates.
#[utoipa::path(
    post,
    path = "/api/v1/cases/{id}/disputes",
    tag = "cases",
    params(("id" = String, Path, description = "The case id.")),
    request_body(content = DisputeRequest, content_type = "application/json"),
    responses(
        (status = 201, description = "The dispute.", body = crate::domain::cases::lifecycle::Dispute),
        (status = 403, description = "Only analysts record disputes."),
        (status = 404, description = "No such case."),
        (status = 409, description = "No provider served this case."),
    )
)]
pub async fn add_dispute(
    caller: Result<Analyst, ApiError>,
    State(state): State<AppState>,
    Path(id): Path<String>,
    JsonBody(request): JsonBody<DisputeRequest>,
) -> Result<Response, ApiError> {
    let caller = caller?;
    let dispute = state
        .services
        .cases()
        .add_dispute(&caller, &id, request, state.clock.now())
        .await?;
    Ok((StatusCode::CREATED, Json(dispute)).into_response())
}

/// Records the outcome of a mediation.
#[utoipa::path(
    post,
    path = "/api/v1/cases/{id}/disputes/{number}/outcome",
    tag = "cases",
    params(
        ("id" = String, Path, description = "The case id."),
        ("number" = String, Path, description = "The dispute's number (1, 2, …)."),
    ),
    request_body(content = OutcomeRequest, content_type = "application/json"),
    responses(
        (status = 200, description = "The dispute with its outcome.", body = crate::domain::cases::lifecycle::Dispute),
        (status = 403, description = "Only analysts record outcomes."),
        (status = 404, description = "No such case or dispute."),
        (status = 409, description = "The dispute has its outcome."),
    )
)]
pub async fn dispute_outcome(
    caller: Result<Analyst, ApiError>,
    State(state): State<AppState>,
    Path((id, number)): Path<(String, String)>,
    JsonBody(request): JsonBody<OutcomeRequest>,
) -> Result<Response, ApiError> {
    let caller = caller?;
    // Taken as text so that a bad number is a dispute that does not exist, answered as
    // problem+json like every other miss, not the router's plain-text rejection.
    let number: u32 = number.parse().map_err(|_| ApiError::NotFound)?;
    let dispute = state
        .services
        .cases()
        .record_outcome(&caller, &id, number, request, state.clock.now())
        .await?;
    Ok(Json(dispute).into_response())
}

/// The caller's handoffs, newest first: a provider's own, every one for an analyst.
#[utoipa::path(
    get,
    path = "/api/v1/handoffs",
    tag = "cases",
    responses((status = 200, description = "The handoffs.", body = Vec<HandoffView>))
)]
pub async fn handoffs(
    AnyPrincipal(caller): AnyPrincipal,
    State(state): State<AppState>,
) -> Result<Json<Vec<HandoffView>>, ApiError> {
    Ok(Json(
        state
            .services
            .cases()
            .handoffs(&caller, state.clock.now())
            .await?,
    ))
}

/// The handoff package, armored OpenPGP: encrypted to the provider's registered key and to
/// the CSIRT's, signed by the hub. Served to the provider while the handoff is pending or
/// accepted.
#[utoipa::path(
    get,
    path = "/api/v1/handoffs/{id}/package",
    tag = "cases",
    params(("id" = String, Path, description = "The handoff id.")),
    responses(
        (status = 200, description = "The armored message.", body = String, content_type = "application/pgp-encrypted"),
        (status = 404, description = "No such handoff, or one the caller may not fetch."),
    )
)]
pub async fn package(
    AnyPrincipal(caller): AnyPrincipal,
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let armored = state
        .services
        .cases()
        .package(&caller, &id, state.clock.now())
        .await?;
    Ok((
        [(
            axum::http::header::CONTENT_TYPE,
            "application/pgp-encrypted",
        )],
        armored,
    )
        .into_response())
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct WithdrawRequest {
    /// Why (1 to 200 bytes), e.g. "no answer within 4 h, provider unreachable".
    pub reason: String,
}

/// Takes a pending handoff back from a provider that did not answer (analysts): the case
/// returns to the beneficiary's choice, and the provider loses sight of it.
#[utoipa::path(
    post,
    path = "/api/v1/handoffs/{id}/withdraw",
    tag = "cases",
    params(("id" = String, Path, description = "The handoff id.")),
    request_body(content = WithdrawRequest, content_type = "application/json"),
    responses(
        (status = 200, description = "The handoff as withdrawn.", body = HandoffView),
        (status = 403, description = "Only analysts withdraw handoffs."),
        (status = 404, description = "No such handoff."),
        (status = 409, description = "The provider has answered."),
        (status = 422, description = "The reason is empty or too long."),
    )
)]
pub async fn withdraw(
    caller: Result<Analyst, ApiError>,
    State(state): State<AppState>,
    Path(id): Path<String>,
    JsonBody(request): JsonBody<WithdrawRequest>,
) -> Result<Json<HandoffView>, ApiError> {
    let caller = caller?;
    Ok(Json(
        state
            .services
            .cases()
            .withdraw(&caller, &id, &request.reason, state.clock.now())
            .await?,
    ))
}

/// The provider's answer to its pending handoff, within `cases.answer_within`: accept,
/// decline (unavailable, out of scope), or a conflict of interest with the beneficiary (kept
/// on the provider's record; it is not proposed to this beneficiary again). A decline or a
/// conflict sends the case back to the beneficiary's choice.
#[utoipa::path(
    post,
    path = "/api/v1/handoffs/{id}/answer",
    tag = "cases",
    params(("id" = String, Path, description = "The handoff id.")),
    request_body(content = Object, content_type = "application/json", description = "`{\"answer\": \"accept\"}`, `{\"answer\": \"decline\", \"reason\": \"unavailable\" | \"out_of_scope\", \"note\": \"…\"}` or `{\"answer\": \"conflict\", \"note\": \"…\"}`"),
    responses(
        (status = 200, description = "The handoff as answered.", body = HandoffView),
        (status = 403, description = "Only providers answer handoffs."),
        (status = 404, description = "No such handoff, or not the caller's."),
        (status = 409, description = "The handoff was answered already."),
    )
)]
pub async fn answer(
    caller: Result<Provider, ApiError>,
    State(state): State<AppState>,
    Path(id): Path<String>,
    JsonBody(answer): JsonBody<Answer>,
) -> Result<Json<HandoffView>, ApiError> {
    let caller = caller?;
    Ok(Json(
        state
            .services
            .cases()
            .answer(&caller, &id, answer, state.clock.now())
            .await?,
    ))
}
