//! The caller of a request on the main listener, resolved from its verified certificate and the
//! registry. A handler that takes `Caller` cannot run for an unknown, revoked or suspended key.

use axum::extract::FromRequestParts;
use axum::http::request::Parts;

use super::AppState;
use super::error::ApiError;
use super::server::ConnectionInfo;
use crate::domain::access::RegistryRecord;
use crate::services::identity::{self, IdentityError};

/// An authenticated principal with an active binding.
#[derive(Debug, Clone)]
pub struct Caller(pub RegistryRecord);

impl FromRequestParts<AppState> for Caller {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let fingerprint = parts
            .extensions
            .get::<ConnectionInfo>()
            .and_then(|c| c.client)
            .ok_or(ApiError::Unauthenticated)?;
        let span = tracing::Span::current();
        match identity::resolve(state.store.as_ref(), state.clock.as_ref(), &fingerprint).await {
            Ok(record) => {
                span.record("principal", record.principal.id.as_str());
                Ok(Caller(record))
            }
            Err(IdentityError::Refused(refusal)) => {
                tracing::warn!(fingerprint = %fingerprint, reason = %refusal, "request refused");
                Err(ApiError::Forbidden)
            }
            Err(e) => Err(e.into()),
        }
    }
}
