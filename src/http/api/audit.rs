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

/// Most cosignatures one answer lists.
const COSIGNATURES_PAGE: u32 = 100;

#[derive(Debug, Serialize, ToSchema)]
pub struct CosignatureView {
    /// The tree size of the checkpoint cosigned.
    pub size: u64,
    /// Its root, standard base64.
    pub root: String,
    /// The witness's name, as in its verifier key.
    pub witness: String,
    /// The C2SP tlog-cosignature/v1 note signature line, to append to the checkpoint body.
    pub line: String,
    #[serde(with = "time::serde::rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    pub received_at: time::OffsetDateTime,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct CosignatureList {
    pub cosignatures: Vec<CosignatureView>,
}

/// Cosignatures of this log's checkpoints by partner hubs that witness it, newest size first
/// (at most 100). Each verifies offline with the witness's verifier key over
/// `cosignature/v1\ntime <t>\n` and the checkpoint body.
#[utoipa::path(
    get,
    path = "/api/v1/audit/cosignatures",
    tag = "audit",
    responses(
        (status = 200, description = "The cosignatures.", body = CosignatureList),
    )
)]
pub async fn cosignatures(
    AnyPrincipal(_): AnyPrincipal,
    State(state): State<AppState>,
) -> Result<Json<CosignatureList>, ApiError> {
    let list = state
        .services
        .cosignatures(COSIGNATURES_PAGE)
        .await
        .map_err(crate::http::error::storage)?;
    Ok(Json(CosignatureList {
        cosignatures: list
            .into_iter()
            .map(|c| CosignatureView {
                size: c.size,
                root: c.root,
                witness: c.witness,
                line: c.line,
                received_at: c.received_at,
            })
            .collect(),
    }))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CosignatureIn {
    /// The checkpoint body cosigned (three lines).
    pub checkpoint: String,
    /// The note signature line.
    pub cosignature: String,
}

/// A partner hub sends back its cosignature of one of this log's checkpoints. Kept when the
/// body is a checkpoint this log signed and the signature verifies with the `witness_key` its
/// entry in `policies/federation.toml` names.
#[utoipa::path(
    post,
    path = "/api/v1/audit/cosignatures",
    tag = "audit",
    request_body = CosignatureIn,
    responses(
        (status = 201, description = "Kept."),
        (status = 200, description = "Already kept."),
        (status = 403, description = "The caller is no partner hub with a witness key configured here."),
        (status = 422, description = "Not a checkpoint of this log, or the cosignature does not verify."),
    )
)]
pub async fn receive_cosignature(
    AnyPrincipal(caller): AnyPrincipal,
    State(state): State<AppState>,
    req: axum::extract::Request,
) -> Result<Response, ApiError> {
    use crate::services::federation::witness::ReceiveError;
    let body = super::body::json_value(req, state.limits.body_bytes).await?;
    let input: CosignatureIn =
        serde_json::from_value(body).map_err(|e| ApiError::BadRequest(e.to_string()))?;
    let new = state
        .services
        .receive_cosignature(
            &caller,
            &input.checkpoint,
            &input.cosignature,
            state.clock.now(),
        )
        .await
        .map_err(|e| match e {
            ReceiveError::NotAWitness | ReceiveError::BadKey(_) => {
                ApiError::NotPermitted(e.to_string())
            }
            ReceiveError::Malformed(d) => ApiError::BadRequest(d),
            ReceiveError::NotOurCheckpoint | ReceiveError::BadSignature(_) => {
                ApiError::Unprocessable(e.to_string())
            }
            ReceiveError::Store(s) => crate::http::error::storage(s),
        })?;
    let status = if new {
        axum::http::StatusCode::CREATED
    } else {
        axum::http::StatusCode::OK
    };
    Ok((status, Json(serde_json::json!({"kept": new}))).into_response())
}
