//! The caller of a request on the main listener, resolved from its verified certificate and the
//! registry. A handler that takes `AnyPrincipal` cannot run for an unknown, revoked or
//! suspended key; one that takes `Analyst`, `Provider` or `PeerHub` runs only for that kind.

use axum::extract::FromRequestParts;
use axum::http::request::Parts;

use super::AppState;
use super::error::ApiError;
use super::server::ConnectionInfo;
use crate::domain::access::{Analyst, PeerHub, Provider, RegistryRecord};
use crate::services::identity::IdentityError;

/// An authenticated principal with an active binding.
#[derive(Debug, Clone)]
pub struct AnyPrincipal(pub RegistryRecord);

impl FromRequestParts<AppState> for AnyPrincipal {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let fingerprint = parts
            .extensions
            .get::<ConnectionInfo>()
            .and_then(|c| c.client)
            .ok_or(ApiError::Unauthenticated)?;
        let span = tracing::Span::current();
        match state.services.caller(&fingerprint, state.clock.now()).await {
            Ok(record) => {
                span.record("principal", record.principal.id.as_str());
                Ok(AnyPrincipal(record))
            }
            Err(IdentityError::Refused(refusal)) => {
                tracing::warn!(fingerprint = %fingerprint, reason = %refusal, "request refused");
                Err(ApiError::Forbidden)
            }
            Err(e) => Err(e.into()),
        }
    }
}

/// The kinds a handler can require, each with what another kind is told.
macro_rules! kind_extractor {
    ($ty:ty, $refusal:literal) => {
        impl FromRequestParts<AppState> for $ty {
            type Rejection = ApiError;

            async fn from_request_parts(
                parts: &mut Parts,
                state: &AppState,
            ) -> Result<Self, ApiError> {
                let AnyPrincipal(record) = AnyPrincipal::from_request_parts(parts, state).await?;
                <$ty>::new(record).ok_or_else(|| ApiError::NotPermitted($refusal.into()))
            }
        }
    };
}

kind_extractor!(Analyst, "this is for CSIRT analysts");
kind_extractor!(Provider, "this is for referenced providers");
kind_extractor!(PeerHub, "this is for partner hubs");
