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
