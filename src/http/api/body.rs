//! JSON request bodies for the REST API, read the way STIX is read: strict JSON (duplicate
//! keys refused, nesting bounded), then the request type, with every failure a problem+json.

use axum::extract::{FromRequest, Request};
use axum::http::header;
use serde::de::DeserializeOwned;

use crate::domain::stix::json::{JsonLimits, parse_strict};
use crate::http::AppState;
use crate::http::error::ApiError;

/// A JSON body of type `T`. The size is bounded by `limits.body_bytes` before this runs.
#[derive(Debug)]
pub struct JsonBody<T>(pub T);

/// The parsed body as a JSON value, for handlers that read it item by item.
pub async fn json_value(req: Request, limit: usize) -> Result<serde_json::Value, ApiError> {
    json_bytes(req, limit).await.map(|(_, value)| value)
}

/// The body's exact bytes and their parse, for handlers that check a signature over them.
pub async fn json_bytes(
    req: Request,
    limit: usize,
) -> Result<(axum::body::Bytes, serde_json::Value), ApiError> {
    let json = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .is_some_and(|v| v.trim().eq_ignore_ascii_case("application/json"));
    if !json {
        return Err(ApiError::UnsupportedMediaType("application/json"));
    }
    let bytes = axum::body::to_bytes(req.into_body(), usize::MAX)
        .await
        .map_err(|e| {
            if std::error::Error::source(&e)
                .is_some_and(|s| s.is::<http_body_util::LengthLimitError>())
            {
                ApiError::PayloadTooLarge { limit }
            } else {
                ApiError::BadRequest("the request body could not be read".into())
            }
        })?;
    let value = parse_strict(&bytes, &JsonLimits::DEFAULT)
        .map_err(|e| ApiError::BadRequest(e.to_string()))?;
    Ok((bytes, value))
}

impl<T: DeserializeOwned> FromRequest<AppState> for JsonBody<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &AppState) -> Result<Self, ApiError> {
        let value = json_value(req, state.limits.body_bytes).await?;
        serde_json::from_value(value)
            .map(JsonBody)
            .map_err(|e| ApiError::BadRequest(e.to_string()))
    }
}
