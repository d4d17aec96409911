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
#[derive(Debug, Serialize)]
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

pub async fn list(
    analyst: Analyst,
    State(state): State<AppState>,
) -> Result<Json<Vec<ProviderView>>, ApiError> {
    let all = state.registry().list(&analyst).await?;
    Ok(Json(all.into_iter().map(view).collect()))
}

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
pub async fn me(
    provider: Provider,
    State(state): State<AppState>,
) -> Result<Json<ProviderView>, ApiError> {
    let record = state.registry().own_entry(&provider).await?;
    Ok(Json(view(record)))
}

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

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EvidenceParams {
    name: String,
}

#[derive(Debug, Serialize)]
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

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TransitionRequest {
    pub event: Asked,
    #[serde(default)]
    pub reason: String,
}

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

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReferenceRequest {
    /// The provider's armored detached signature over the latest convention text.
    pub signature: String,
}

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
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SignatureRequest {
    pub version: u32,
    pub signature: String,
}

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

#[derive(Debug, Serialize)]
pub struct BadgeView {
    pub id: String,
    /// The clear-signed statement to show.
    pub text: String,
    /// Where anyone checks it.
    pub verify: String,
}

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

#[derive(Debug, Serialize)]
pub struct ConventionView {
    pub version: u32,
    pub text: String,
    #[serde(with = "time::serde::rfc3339")]
    pub published_at: time::OffsetDateTime,
}

/// Every convention version, for providers to read and sign.
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

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConventionRequest {
    pub text: String,
}

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

#[derive(Debug, Serialize)]
pub struct ShortlistItem {
    pub id: String,
    pub name: String,
    pub status: OrganisationStatus,
}

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

#[derive(Debug, Serialize)]
pub struct SurveyLink {
    /// The link to send the beneficiary (public listener; no certificate needed).
    pub url: String,
    #[serde(with = "time::serde::rfc3339")]
    pub expires_at: time::OffsetDateTime,
}

/// Issues the satisfaction survey of a case's service, for its beneficiary.
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
