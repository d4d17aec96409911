//! `/api/v1/audit`: the audit log's checkpoints, entries and proofs (`services::audit_log`).
//! Hashes are standard base64, as in the checkpoint's root line.

use axum::Json;
use axum::extract::{Query, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use serde::{Deserialize, Serialize};

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

pub async fn checkpoint(
    AnyPrincipal(_): AnyPrincipal,
    State(state): State<AppState>,
) -> Result<Response, ApiError> {
    let text = log(&state).latest_checkpoint().await?;
    Ok(([(header::CONTENT_TYPE, "text/plain; charset=utf-8")], text).into_response())
}

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

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EntriesParams {
    #[serde(default)]
    from: u64,
    limit: Option<u32>,
}

#[derive(Debug, Serialize)]
pub struct EntryView {
    pub seq: u64,
    /// The canonical bytes, exactly (one line of printable ASCII): hash these.
    pub entry: String,
    pub leaf_hash: String,
}

fn entry_view(e: StoredEntry) -> EntryView {
    EntryView {
        seq: e.seq,
        entry: String::from_utf8_lossy(&e.entry).into_owned(),
        leaf_hash: b64(&e.leaf_hash),
    }
}

#[derive(Debug, Serialize)]
pub struct EntriesPage {
    pub entries: Vec<EntryView>,
    /// Where the next page starts, if there may be more.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next: Option<u64>,
}

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

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct InclusionParams {
    seq: u64,
    size: Option<u64>,
}

#[derive(Debug, Serialize)]
pub struct InclusionView {
    pub seq: u64,
    pub tree_size: u64,
    pub entry: String,
    pub leaf_hash: String,
    /// The audit path, nearest the leaf first.
    pub path: Vec<String>,
}

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

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConsistencyParams {
    from: u64,
    to: Option<u64>,
}

#[derive(Debug, Serialize)]
pub struct ConsistencyView {
    pub from: u64,
    pub to: u64,
    pub path: Vec<String>,
}

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
