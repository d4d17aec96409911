//! `POST /api/v1/iocs`: plain IOC items for providers who do not speak STIX (see
//! `services::iocs`).

use axum::Json;
use axum::extract::{Request, State};

use super::body::json_value;
use crate::http::AppState;
use crate::http::error::ApiError;
use crate::http::identity::AnyPrincipal;
use crate::services::ingest::IngestError;
use crate::services::iocs::IocResponse;

/// Plain IOC items for providers who do not speak STIX: each becomes an indicator queued for
/// triage, anonymised and confined like a TAXII submission. Each item succeeds or fails on its
/// own: a refused item is reported in the 200 answer with its field and reason.
#[utoipa::path(
    post,
    path = "/api/v1/iocs",
    tag = "submissions",
    request_body(
        content = super::schema::IocItems,
        content_type = "application/json",
        description = "A JSON array of 1 to 1000 IOC items (not an object wrapping one).",
    ),
    responses(
        (status = 200, description = "What became of each item.", body = IocResponse),
        (status = 400, description = "The body is not a JSON array of 1 to 1000 items, or is malformed."),
        (status = 403, description = "Only providers and analysts submit IOCs."),
    )
)]
pub async fn submit(
    AnyPrincipal(caller): AnyPrincipal,
    State(state): State<AppState>,
    req: Request,
) -> Result<Json<IocResponse>, ApiError> {
    let body = json_value(req, state.limits.body_bytes).await?;
    let response = state
        .ingest()
        .iocs(&caller, &body, state.clock.now())
        .await
        .map_err(ingest_error)?;
    Ok(Json(response))
}

fn ingest_error(e: IngestError) -> ApiError {
    match e {
        IngestError::CollectionNotFound | IngestError::NotWritable => {
            ApiError::NotPermitted("only providers and analysts submit IOCs".into())
        }
        IngestError::Store(s) => crate::http::error::storage(s),
        other => ApiError::BadRequest(other.to_string()),
    }
}
