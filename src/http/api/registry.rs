//! `/api/v1/registry`: the provider registry (`services::registry`). Analysts administer it;
//! a provider reads and updates its own file, signs convention versions, follows its
//! deadlines and surveys, and gets its badge.

use axum::Json;
use axum::body::Bytes;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::body::JsonBody;
use crate::domain::access::{Analyst, Provider};
use crate::domain::principal::{OrganisationId, OrganisationStatus};
use crate::domain::registry::file::{Conditions, ProviderFile};
use crate::domain::registry::lifecycle::Referencing;
use crate::http::AppState;
use crate::http::error::ApiError;
use crate::http::identity::AnyPrincipal;
use crate::services::registry::{
    Asked, DashboardItem, HistoryEntry, ProviderRecord, RegistryError, Standing, Who,
};

impl From<RegistryError> for ApiError {
    fn from(e: RegistryError) -> Self {
        match e {
            RegistryError::NotAnalyst => ApiError::NotPermitted(e.to_string()),
            RegistryError::NotFound => ApiError::NotFound,
            RegistryError::Conflict(_) | RegistryError::AlreadyAnswered => {
                ApiError::Conflict(e.to_string())
            }
            RegistryError::Transition(_) => ApiError::Conflict(e.to_string()),
            RegistryError::Store(s) => crate::http::error::storage(s),
            RegistryError::Signing(_) => ApiError::Internal(Box::new(e)),
            RegistryError::BadRequest(_) => ApiError::BadRequest(e.to_string()),
            RegistryError::Invalid(_)
            | RegistryError::Conditions(_)
            | RegistryError::MissingEvidence(_)
            | RegistryError::BadSignature(_)
            | RegistryError::BadKey(_)
            | RegistryError::NoConvention
            | RegistryError::NoSuchVersion(_)
            | RegistryError::Token(_)
            | RegistryError::Answer(_) => ApiError::Unprocessable(e.to_string()),
        }
    }
}

/// A provider's entry as the API shows it.
#[derive(Debug, Serialize, ToSchema)]
pub struct ProviderView {
    pub id: String,
    pub name: String,
    pub status: OrganisationStatus,
    pub file: ProviderFile,
    pub referencing: Referencing,
    pub conditions: Conditions,
    pub convention_signature: Option<String>,
    #[serde(with = "time::serde::rfc3339")]
    pub updated_at: time::OffsetDateTime,
}

fn view(r: ProviderRecord) -> ProviderView {
    ProviderView {
        id: r.organisation.id.as_str().to_owned(),
        name: r.organisation.name,
        status: r.referencing.status,
        file: r.file,
        referencing: r.referencing,
        conditions: r.conditions,
        convention_signature: r.convention_signature,
        updated_at: r.updated_at,
    }
}

fn org(id: String) -> OrganisationId {
    OrganisationId::from_stored(id)
}

#[utoipa::path(
    get,
    path = "/api/v1/registry/providers",
    tag = "registry",
    responses(
        (status = 200, description = "The entries the caller may see.", body = Vec<ProviderView>),
        (status = 403, description = "The caller may not list the registry."),
    )
)]
pub async fn list(
    analyst: Analyst,
    State(state): State<AppState>,
) -> Result<Json<Vec<ProviderView>>, ApiError> {
    let all = state.registry().list(&analyst).await?;
    Ok(Json(all.into_iter().map(view).collect()))
}

#[utoipa::path(
    post,
    path = "/api/v1/registry/providers",
    tag = "registry",
    request_body(content = ProviderFile, content_type = "application/json"),
    responses(
        (status = 201, description = "The application, recorded.", body = ProviderView),
        (status = 403, description = "The caller may not do this to this entry."),
        (status = 404, description = "No such provider, or one the caller may not see."),
        (status = 409, description = "The entry's state does not allow it."),
        (status = 422, description = "The content breaks a rule of the convention (the detail says which)."),
    )
)]
pub async fn apply(
    analyst: Analyst,
    State(state): State<AppState>,
    JsonBody(file): JsonBody<ProviderFile>,
) -> Result<Response, ApiError> {
    let record = state
        .registry()
        .apply(&analyst, file, state.clock.now())
        .await?;
    Ok((StatusCode::CREATED, Json(view(record))).into_response())
}

#[utoipa::path(
    get,
    path = "/api/v1/registry/providers/{id}",
    tag = "registry",
    params(("id" = String, Path, description = "The provider organisation id.")),
    responses(
        (status = 200, description = "The entry.", body = ProviderView),
        (status = 404, description = "No such provider, or one the caller may not see."),
    )
)]
pub async fn get(
    AnyPrincipal(caller): AnyPrincipal,
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<Json<ProviderView>, ApiError> {
    let record = state
        .registry()
        .get(Who::Principal(&caller), &org(id))
        .await?;
    Ok(Json(view(record)))
}

/// The caller's own organisation's entry.
#[utoipa::path(
    get,
    path = "/api/v1/registry/me",
    tag = "registry",
    responses(
        (status = 200, description = "The caller's own entry.", body = ProviderView),
        (status = 403, description = "The caller is not a provider."),
        (status = 404, description = "The caller's organisation has no entry."),
    )
)]
pub async fn me(
    provider: Provider,
    State(state): State<AppState>,
) -> Result<Json<ProviderView>, ApiError> {
    let record = state.registry().own_entry(&provider).await?;
    Ok(Json(view(record)))
}

#[utoipa::path(
    put,
    path = "/api/v1/registry/providers/{id}/file",
    tag = "registry",
    params(("id" = String, Path, description = "The provider organisation id.")),
    request_body(content = ProviderFile, content_type = "application/json"),
    responses(
        (status = 200, description = "The entry with its new file.", body = ProviderView),
        (status = 403, description = "The caller may not do this to this entry."),
        (status = 404, description = "No such provider, or one the caller may not see."),
        (status = 409, description = "The entry's state does not allow it."),
        (status = 422, description = "The content breaks a rule of the convention (the detail says which)."),
    )
)]
pub async fn update_file(
    AnyPrincipal(caller): AnyPrincipal,
    State(state): State<AppState>,
    Path(id): Path<String>,
    JsonBody(file): JsonBody<ProviderFile>,
) -> Result<Json<ProviderView>, ApiError> {
    let record = state
        .registry()
        .update_file(Who::Principal(&caller), &org(id), file, state.clock.now())
        .await?;
    Ok(Json(view(record)))
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct EvidenceParams {
    name: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct EvidenceStored {
    pub sha256: String,
}

fn evidence_name(
    params: Result<Query<EvidenceParams>, QueryRejection>,
) -> Result<String, ApiError> {
    let Query(p) = params.map_err(|_| ApiError::BadRequest("give ?name=FILE-NAME".into()))?;
    Ok(p.name)
}

fn stored(sha256: String) -> Response {
    (StatusCode::CREATED, Json(EvidenceStored { sha256 })).into_response()
}

/// Evidence for a file not recorded yet (an application).
#[utoipa::path(
    post,
    path = "/api/v1/registry/evidence",
    tag = "registry",
    params(EvidenceParams),
    request_body(content = Vec<u8>, content_type = "application/octet-stream", description = "The file."),
    responses(
        (status = 201, description = "Stored.", body = EvidenceStored),
        (status = 400, description = "No `name`, or the file is empty or too large."),
        (status = 403, description = "The caller may not upload evidence here."),
        (status = 409, description = "The entry's state does not allow it."),
        (status = 422, description = "The file is refused (the detail says why)."),
    )
)]
pub async fn upload_evidence(
    analyst: Analyst,
    State(state): State<AppState>,
    params: Result<Query<EvidenceParams>, QueryRejection>,
    body: Bytes,
) -> Result<Response, ApiError> {
    let name = evidence_name(params)?;
    let sha256 = state
        .registry()
        .upload_evidence(&analyst, &name, body.to_vec(), state.clock.now())
        .await?;
    Ok(stored(sha256))
}

#[utoipa::path(
    post,
    path = "/api/v1/registry/providers/{id}/evidence",
    tag = "registry",
    params(("id" = String, Path, description = "The provider organisation id."), EvidenceParams),
    request_body(content = Vec<u8>, content_type = "application/octet-stream", description = "The file."),
    responses(
        (status = 201, description = "Stored.", body = EvidenceStored),
        (status = 400, description = "No `name`, or the file is empty or too large."),
        (status = 403, description = "The caller may not upload evidence here."),
        (status = 404, description = "No such provider, or one the caller may not see."),
        (status = 409, description = "The entry's state does not allow it."),
        (status = 422, description = "The file is refused (the detail says why)."),
    )
)]
pub async fn upload_provider_evidence(
    AnyPrincipal(caller): AnyPrincipal,
    State(state): State<AppState>,
    Path(id): Path<String>,
    params: Result<Query<EvidenceParams>, QueryRejection>,
    body: Bytes,
) -> Result<Response, ApiError> {
    let name = evidence_name(params)?;
    let sha256 = state
        .registry()
        .upload_provider_evidence(
            Who::Principal(&caller),
            &org(id),
            &name,
            body.to_vec(),
            state.clock.now(),
        )
        .await?;
    Ok(stored(sha256))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TransitionRequest {
    pub event: Asked,
    #[serde(default)]
    pub reason: String,
}

#[utoipa::path(
    post,
    path = "/api/v1/registry/providers/{id}/transitions",
    tag = "registry",
    params(("id" = String, Path, description = "The provider organisation id.")),
    request_body(content = TransitionRequest, content_type = "application/json"),
    responses(
        (status = 200, description = "The entry after the transition.", body = ProviderView),
        (status = 403, description = "The caller may not do this to this entry."),
        (status = 404, description = "No such provider, or one the caller may not see."),
        (status = 409, description = "The entry's state does not allow it."),
        (status = 422, description = "The content breaks a rule of the convention (the detail says which)."),
    )
)]
pub async fn transition(
    AnyPrincipal(caller): AnyPrincipal,
    State(state): State<AppState>,
    Path(id): Path<String>,
    JsonBody(request): JsonBody<TransitionRequest>,
) -> Result<Json<ProviderView>, ApiError> {
    let record = state
        .registry()
        .ask(
            Who::Principal(&caller),
            &org(id),
            request.event,
            &request.reason,
            state.clock.now(),
        )
        .await?;
    Ok(Json(view(record)))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReferenceRequest {
    /// The provider's armored detached signature over the latest convention text.
    pub signature: String,
}

#[utoipa::path(
    post,
    path = "/api/v1/registry/providers/{id}/reference",
    tag = "registry",
    params(("id" = String, Path, description = "The provider organisation id.")),
    request_body(content = ReferenceRequest, content_type = "application/json"),
    responses(
        (status = 200, description = "The provider, referenced.", body = ProviderView),
        (status = 403, description = "The caller may not do this to this entry."),
        (status = 404, description = "No such provider, or one the caller may not see."),
        (status = 409, description = "The entry's state does not allow it."),
        (status = 422, description = "The content breaks a rule of the convention (the detail says which)."),
    )
)]
pub async fn reference(
    analyst: Analyst,
    State(state): State<AppState>,
    Path(id): Path<String>,
    JsonBody(request): JsonBody<ReferenceRequest>,
) -> Result<Json<ProviderView>, ApiError> {
    let record = state
        .registry()
        .reference(&analyst, &org(id), &request.signature, state.clock.now())
        .await?;
    Ok(Json(view(record)))
}
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SignatureRequest {
    pub version: u32,
    pub signature: String,
}

#[utoipa::path(
    post,
    path = "/api/v1/registry/providers/{id}/convention-signature",
    tag = "registry",
    params(("id" = String, Path, description = "The provider organisation id.")),
    request_body(content = SignatureRequest, content_type = "application/json"),
    responses(
        (status = 200, description = "The signature recorded.", body = ProviderView),
        (status = 403, description = "The caller may not do this to this entry."),
        (status = 404, description = "No such provider, or one the caller may not see."),
        (status = 409, description = "The entry's state does not allow it."),
        (status = 422, description = "The content breaks a rule of the convention (the detail says which)."),
    )
)]
pub async fn sign_convention(
    AnyPrincipal(caller): AnyPrincipal,
    State(state): State<AppState>,
    Path(id): Path<String>,
    JsonBody(request): JsonBody<SignatureRequest>,
) -> Result<Json<ProviderView>, ApiError> {
    let record = state
        .registry()
        .sign_convention(
            Who::Principal(&caller),
            &org(id),
            request.version,
            &request.signature,
            state.clock.now(),
        )
        .await?;
    Ok(Json(view(record)))
}

#[utoipa::path(
    get,
    path = "/api/v1/registry/providers/{id}/history",
    tag = "registry",
    params(("id" = String, Path, description = "The provider organisation id.")),
    responses(
        (status = 200, description = "The entry's history, oldest first.", body = Vec<HistoryEntry>),
        (status = 403, description = "The caller may not read this history."),
        (status = 404, description = "No such provider, or one the caller may not see."),
    )
)]
pub async fn history(
    AnyPrincipal(caller): AnyPrincipal,
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<Json<Vec<HistoryEntry>>, ApiError> {
    Ok(Json(
        state
            .registry()
            .history(Who::Principal(&caller), &org(id))
            .await?,
    ))
}

#[utoipa::path(
    get,
    path = "/api/v1/registry/providers/{id}/standing",
    tag = "registry",
    params(("id" = String, Path, description = "The provider organisation id.")),
    responses(
        (status = 200, description = "The provider's standing.", body = Standing),
        (status = 403, description = "The caller may not read this standing."),
        (status = 404, description = "No such provider, or one the caller may not see."),
    )
)]
pub async fn standing(
    AnyPrincipal(caller): AnyPrincipal,
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<Json<Standing>, ApiError> {
    Ok(Json(
        state
            .registry()
            .standing(Who::Principal(&caller), &org(id), state.clock.now())
            .await?,
    ))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct BadgeView {
    pub id: String,
    /// The clear-signed statement to show.
    pub text: String,
    /// Where anyone checks it.
    pub verify: String,
}

#[utoipa::path(
    post,
    path = "/api/v1/registry/providers/{id}/badge",
    tag = "registry",
    params(("id" = String, Path, description = "The provider organisation id.")),
    responses(
        (status = 201, description = "A signed badge.", body = BadgeView),
        (status = 403, description = "The caller may not do this to this entry."),
        (status = 404, description = "No such provider, or one the caller may not see."),
        (status = 409, description = "The entry's state does not allow it."),
        (status = 422, description = "The content breaks a rule of the convention (the detail says which)."),
    )
)]
pub async fn badge(
    AnyPrincipal(caller): AnyPrincipal,
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let verify = format!("{}/badge/verify", state.public_url);
    let badge = state
        .registry()
        .issue_badge(
            Who::Principal(&caller),
            &org(id),
            &verify,
            state.clock.now(),
        )
        .await?;
    Ok((
        StatusCode::CREATED,
        Json(BadgeView {
            verify: format!("{}/badges/{}", state.public_url, badge.id),
            id: badge.id,
            text: badge.text,
        }),
    )
        .into_response())
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ConventionView {
    pub version: u32,
    pub text: String,
    #[serde(with = "time::serde::rfc3339")]
    pub published_at: time::OffsetDateTime,
}

/// Every convention version, for providers to read and sign.
#[utoipa::path(
    get,
    path = "/api/v1/registry/conventions",
    tag = "registry",
    responses(
        (status = 200, description = "Every version, oldest first.", body = Vec<ConventionView>),
    )
)]
pub async fn conventions(
    AnyPrincipal(_): AnyPrincipal,
    State(state): State<AppState>,
) -> Result<Json<Vec<ConventionView>>, ApiError> {
    let all = state.registry().conventions().await?;
    Ok(Json(
        all.into_iter()
            .map(|c| ConventionView {
                version: c.version,
                text: c.text,
                published_at: c.published_at,
            })
            .collect(),
    ))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ConventionRequest {
    pub text: String,
}

#[utoipa::path(
    post,
    path = "/api/v1/registry/conventions",
    tag = "registry",
    request_body(content = ConventionRequest, content_type = "application/json"),
    responses(
        (status = 201, description = "The new version.", body = ConventionView),
        (status = 403, description = "Only analysts publish the convention."),
        (status = 409, description = "The registry's state does not allow it."),
        (status = 422, description = "The text is refused (the detail says why)."),
    )
)]
pub async fn publish_convention(
    analyst: Analyst,
    State(state): State<AppState>,
    JsonBody(request): JsonBody<ConventionRequest>,
) -> Result<Response, ApiError> {
    let c = state
        .registry()
        .publish_convention(&analyst, &request.text, state.clock.now())
        .await?;
    Ok((
        StatusCode::CREATED,
        Json(ConventionView {
            version: c.version,
            text: c.text,
            published_at: c.published_at,
        }),
    )
        .into_response())
}

#[utoipa::path(
    get,
    path = "/api/v1/registry/dashboard",
    tag = "registry",
    responses(
        (status = 200, description = "What is due or overdue, provider by provider.", body = Vec<DashboardItem>),
        (status = 403, description = "Only analysts read the dashboard."),
    )
)]
pub async fn dashboard(
    analyst: Analyst,
    State(state): State<AppState>,
) -> Result<Json<Vec<DashboardItem>>, ApiError> {
    Ok(Json(
        state
            .registry()
            .dashboard(&analyst, state.clock.now())
            .await?,
    ))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ShortlistItem {
    pub id: String,
    pub name: String,
    pub status: OrganisationStatus,
}

#[utoipa::path(
    get,
    path = "/api/v1/registry/shortlist",
    tag = "registry",
    responses(
        (status = 200, description = "The providers a beneficiary may choose from.", body = Vec<ShortlistItem>),
        (status = 403, description = "Only analysts read the shortlist."),
    )
)]
pub async fn shortlist(
    analyst: Analyst,
    State(state): State<AppState>,
) -> Result<Json<Vec<ShortlistItem>>, ApiError> {
    let list = state.registry().shortlist(&analyst).await?;
    Ok(Json(
        list.into_iter()
            .map(|r| ShortlistItem {
                id: r.organisation.id.as_str().to_owned(),
                name: r.organisation.name,
                status: r.referencing.status,
            })
            .collect(),
    ))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct SurveyLink {
    /// The link to send the beneficiary (public listener; no certificate needed).
    pub url: String,
    #[serde(with = "time::serde::rfc3339")]
    pub expires_at: time::OffsetDateTime,
}

/// Issues the satisfaction survey of a case's service, for its beneficiary.
#[utoipa::path(
    post,
    path = "/api/v1/cases/{id}/survey",
    tag = "cases",
    params(("id" = String, Path, description = "The case id.")),
    responses(
        (status = 201, description = "The link to send the beneficiary.", body = SurveyLink),
        (status = 400, description = "The case cannot have a survey."),
        (status = 403, description = "Only analysts issue surveys."),
        (status = 404, description = "No such case."),
        (status = 409, description = "A survey was issued or answered already."),
        (status = 422, description = "The case's state does not allow a survey."),
    )
)]
pub async fn issue_survey(
    analyst: Analyst,
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let (token, expires_at) = state
        .registry()
        .issue_survey(&analyst, &id, state.clock.now())
        .await?;
    Ok((
        StatusCode::CREATED,
        Json(SurveyLink {
            url: format!("{}/survey?token={token}", state.public_url),
            expires_at,
        }),
    )
        .into_response())
}
