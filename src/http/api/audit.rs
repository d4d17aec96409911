//! `/api/v1/audit`: the audit log's checkpoints, entries and proofs (`services::audit_log`).
//! Hashes are standard base64, as in the checkpoint's root line.

use axum::Json;
use axum::extract::{Query, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::domain::audit::entry::StoredEntry;
use crate::domain::audit::merkle::Hash;
use crate::http::AppState;
use crate::http::error::ApiError;
use crate::http::identity::AnyPrincipal;
use crate::services::audit_log::{AuditLog, AuditLogError};

impl From<AuditLogError> for ApiError {
    fn from(e: AuditLogError) -> Self {
        match e {
            AuditLogError::NotFound | AuditLogError::NoCheckpoint => ApiError::NotFound,
            AuditLogError::BadRange(detail) => ApiError::BadRequest(detail),
            AuditLogError::NotPermitted(detail) => ApiError::NotPermitted(detail.to_owned()),
            AuditLogError::Store(s) => crate::http::error::storage(s),
        }
    }
}

fn log(state: &AppState) -> AuditLog<'_> {
    state.services.audit_log()
}

fn b64(hash: &Hash) -> String {
    STANDARD.encode(hash)
}

/// Query strings are parsed here so that a bad one is a problem+json 400 like any other.
fn query<T>(q: Result<Query<T>, axum::extract::rejection::QueryRejection>) -> Result<T, ApiError> {
    q.map(|Query(t)| t)
        .map_err(|e| ApiError::BadRequest(e.body_text()))
}

/// The latest signed checkpoint (tree head) of the audit log: the checkpoint text and its
/// OpenPGP signature by the hub's key.
#[utoipa::path(
    get,
    path = "/api/v1/audit/checkpoint",
    tag = "audit",
    responses(
        (status = 200, description = "The signed checkpoint.", content_type = "text/plain", body = String),
        (status = 404, description = "No checkpoint signed yet."),
    )
)]
pub async fn checkpoint(
    AnyPrincipal(_): AnyPrincipal,
    State(state): State<AppState>,
) -> Result<Response, ApiError> {
    let text = log(&state).latest_checkpoint().await?;
    Ok(([(header::CONTENT_TYPE, "text/plain; charset=utf-8")], text).into_response())
}

/// The hub's OpenPGP public key, which signs the checkpoints.
#[utoipa::path(
    get,
    path = "/api/v1/audit/public-key",
    tag = "audit",
    responses(
        (status = 200, description = "The armored public key.", content_type = "application/pgp-keys", body = String),
    )
)]
pub async fn public_key(
    AnyPrincipal(_): AnyPrincipal,
    State(state): State<AppState>,
) -> Result<Response, ApiError> {
    let armored = state
        .services
        .checkpoints
        .key
        .public_armored()
        .map_err(|e| ApiError::Internal(Box::new(e)))?;
    Ok(([(header::CONTENT_TYPE, "application/pgp-keys")], armored).into_response())
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct EntriesParams {
    /// The first sequence number (0 if absent).
    #[serde(default)]
    from: u64,
    /// How many entries: 100 if absent; a larger value is cut to 1000.
    limit: Option<u32>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct EntryView {
    pub seq: u64,
    /// The canonical bytes, exactly (one line of printable ASCII): hash these.
    pub entry: String,
    /// SHA-256 (RFC 6962 leaf hash), standard base64.
    pub leaf_hash: String,
}

fn entry_view(e: StoredEntry) -> EntryView {
    EntryView {
        seq: e.seq,
        entry: String::from_utf8_lossy(&e.entry).into_owned(),
        leaf_hash: b64(&e.leaf_hash),
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct EntriesPage {
    pub entries: Vec<EntryView>,
    /// Where the next page starts, if there may be more.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next: Option<u64>,
}

/// A page of the audit log's entries (analysts see every entry; others their own).
#[utoipa::path(
    get,
    path = "/api/v1/audit/entries",
    tag = "audit",
    params(EntriesParams),
    responses(
        (status = 200, description = "The entries from `from`.", body = EntriesPage),
        (status = 400, description = "The range is malformed."),
        (status = 403, description = "The caller may not read the log."),
    )
)]
pub async fn entries(
    AnyPrincipal(caller): AnyPrincipal,
    State(state): State<AppState>,
    params: Result<Query<EntriesParams>, axum::extract::rejection::QueryRejection>,
) -> Result<Json<EntriesPage>, ApiError> {
    let p = query(params)?;
    let page = log(&state).entries(&caller, p.from, p.limit).await?;
    Ok(Json(EntriesPage {
        entries: page.entries.into_iter().map(entry_view).collect(),
        next: page.next,
    }))
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct InclusionParams {
    /// The entry's sequence number.
    seq: u64,
    /// The tree size the proof is for (the latest checkpoint's if absent).
    size: Option<u64>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct InclusionView {
    pub seq: u64,
    pub tree_size: u64,
    pub entry: String,
    pub leaf_hash: String,
    /// The audit path, nearest the leaf first.
    pub path: Vec<String>,
}

/// The inclusion proof of one entry in a tree of the log.
#[utoipa::path(
    get,
    path = "/api/v1/audit/proofs/inclusion",
    tag = "audit",
    params(InclusionParams),
    responses(
        (status = 200, description = "The proof.", body = InclusionView),
        (status = 400, description = "The entry is not in a tree of that size."),
        (status = 403, description = "The caller may not read that entry."),
        (status = 404, description = "No such entry, or no checkpoint yet."),
    )
)]
pub async fn inclusion(
    AnyPrincipal(caller): AnyPrincipal,
    State(state): State<AppState>,
    params: Result<Query<InclusionParams>, axum::extract::rejection::QueryRejection>,
) -> Result<Json<InclusionView>, ApiError> {
    let p = query(params)?;
    let proof = log(&state).inclusion(&caller, p.seq, p.size).await?;
    let entry = entry_view(proof.entry);
    Ok(Json(InclusionView {
        seq: proof.seq,
        tree_size: proof.tree_size,
        entry: entry.entry,
        leaf_hash: entry.leaf_hash,
        path: proof.path.iter().map(b64).collect(),
    }))
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ConsistencyParams {
    /// The older tree size.
    from: u64,
    /// The newer tree size (the latest checkpoint's if absent).
    to: Option<u64>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ConsistencyView {
    pub from: u64,
    pub to: u64,
    pub path: Vec<String>,
}

/// The consistency proof between two tree sizes of the log.
#[utoipa::path(
    get,
    path = "/api/v1/audit/proofs/consistency",
    tag = "audit",
    params(ConsistencyParams),
    responses(
        (status = 200, description = "The proof.", body = ConsistencyView),
        (status = 400, description = "The sizes are out of range."),
        (status = 403, description = "The caller may not read the log's proofs."),
        (status = 404, description = "No checkpoint yet."),
    )
)]
pub async fn consistency(
    AnyPrincipal(caller): AnyPrincipal,
    State(state): State<AppState>,
    params: Result<Query<ConsistencyParams>, axum::extract::rejection::QueryRejection>,
) -> Result<Json<ConsistencyView>, ApiError> {
    let p = query(params)?;
    let (to, path) = log(&state).consistency(&caller, p.from, p.to).await?;
    Ok(Json(ConsistencyView {
        from: p.from,
        to,
        path: path.iter().map(b64).collect(),
    }))
}
