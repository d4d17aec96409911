//! Extractors of TAXII handlers, whose rejections are TAXII error messages: axum's own are
//! `text/plain`, which a TAXII client cannot read as an error.

use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{FromRequest, FromRequestParts, Path, Request};
use axum::http::request::Parts;
use serde::de::DeserializeOwned;

use super::TaxiiError;
use crate::domain::access::RegistryRecord;
use crate::http::AppState;
use crate::http::error::ApiError;
use crate::http::identity::AnyPrincipal;

/// The caller, with refusals written as TAXII errors.
pub struct TaxiiCaller(pub RegistryRecord);

impl FromRequestParts<AppState> for TaxiiCaller {
    type Rejection = TaxiiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, TaxiiError> {
        AnyPrincipal::from_request_parts(parts, state)
            .await
            .map(|AnyPrincipal(record)| TaxiiCaller(record))
            .map_err(TaxiiError::from)
    }
}

/// The path parameters; a path that does not decode (`%FF`) is a TAXII `400`.
pub struct TaxiiPath<T>(pub T);

impl<T, S> FromRequestParts<S> for TaxiiPath<T>
where
    T: DeserializeOwned + Send,
    S: Send + Sync,
{
    type Rejection = TaxiiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, TaxiiError> {
        Path::<T>::from_request_parts(parts, state)
            .await
            .map(|Path(t)| TaxiiPath(t))
            .map_err(|rejection| TaxiiError::bad_request(rejection.body_text()))
    }
}

/// The raw bytes of a posted envelope, bounded by `limits.body_bytes` before routing.
pub struct EnvelopeBytes(pub Bytes);

impl FromRequest<AppState> for EnvelopeBytes {
    type Rejection = TaxiiError;

    async fn from_request(req: Request, state: &AppState) -> Result<Self, TaxiiError> {
        Bytes::from_request(req, state)
            .await
            .map(EnvelopeBytes)
            .map_err(|rejection| {
                let too_large = matches!(&rejection, BytesRejection::FailedToBufferBody(_))
                    && rejection.status() == axum::http::StatusCode::PAYLOAD_TOO_LARGE;
                TaxiiError::from(if too_large {
                    ApiError::PayloadTooLarge {
                        limit: state.limits.body_bytes,
                    }
                } else {
                    ApiError::BadRequest("the request body could not be read".into())
                })
            })
    }
}
