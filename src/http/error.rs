//! The one place where errors become HTTP responses: RFC 9457 problem+json, with no internal
//! detail. Server-side failures are logged here, once, with their cause.

use axum::Json;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;

use crate::services::Failure;
use crate::services::identity::IdentityError;

#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// No verified client certificate reached the handler (never on a correctly wired listener).
    #[error("client certificate required")]
    Unauthenticated,
    /// The certificate is valid but grants nothing: unbound, revoked, suspended. The client is
    /// not told which.
    #[error("forbidden")]
    Forbidden,
    #[error("not found")]
    NotFound,
    /// The path exists, not with this method (the router adds `Allow`).
    #[error("method not allowed")]
    MethodNotAllowed,
    /// Authenticated, but this principal's kind may not do this; the text says who may.
    #[error("not permitted: {0}")]
    NotPermitted(String),
    /// The request conflicts with the current state (already decided, no consent…).
    #[error("conflict: {0}")]
    Conflict(String),
    /// Well-formed, but its content breaks a rule.
    #[error("unprocessable: {0}")]
    Unprocessable(String),
    /// The request is malformed; the text says how, and echoes nothing internal.
    #[error("bad request: {0}")]
    BadRequest(String),
    #[error("the body must be {0}")]
    UnsupportedMediaType(&'static str),
    #[error("request body larger than {limit} bytes")]
    PayloadTooLarge { limit: usize },
    #[error("service unavailable")]
    Unavailable(#[source] Failure),
    /// The request ran past `limits.request_timeout_secs`.
    #[error("request timed out after {secs} s")]
    Timeout { secs: u64 },
    #[error("internal error")]
    Internal(#[source] Box<dyn std::error::Error + Send + Sync>),
}

/// RFC 9457 problem details: the body of every REST error.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub(crate) struct Problem {
    /// Always `about:blank`: the status says what happened.
    #[serde(rename = "type")]
    kind: &'static str,
    title: &'static str,
    #[schema(minimum = 400, maximum = 599)]
    status: u16,
    /// What to change; never internal detail.
    #[serde(skip_serializing_if = "Option::is_none")]
    detail: Option<String>,
}

pub const PROBLEM_JSON: &str = "application/problem+json";

/// Why a request was refused (401/403), attached to the response for the audit log
/// (`http::audit`); never sent.
#[derive(Debug, Clone)]
pub struct Denial(pub String);

impl ApiError {
    /// What a client is told: status, title and detail, the same in both error bodies
    /// (problem+json and the TAXII error message).
    pub(crate) fn parts(&self) -> (StatusCode, &'static str, Option<String>) {
        match self {
            ApiError::Unauthenticated => (
                StatusCode::UNAUTHORIZED,
                "Client certificate required",
                None,
            ),
            ApiError::Forbidden => (
                StatusCode::FORBIDDEN,
                "Certificate not authorised",
                Some("the certificate is not bound to an active principal of this hub".into()),
            ),
            ApiError::NotFound => (StatusCode::NOT_FOUND, "Not found", None),
            ApiError::MethodNotAllowed => {
                (StatusCode::METHOD_NOT_ALLOWED, "Method not allowed", None)
            }
            ApiError::NotPermitted(detail) => {
                (StatusCode::FORBIDDEN, "Not permitted", Some(detail.clone()))
            }
            ApiError::Conflict(detail) => (StatusCode::CONFLICT, "Conflict", Some(detail.clone())),
            ApiError::Unprocessable(detail) => (
                StatusCode::UNPROCESSABLE_ENTITY,
                "Unprocessable content",
                Some(detail.clone()),
            ),
            ApiError::BadRequest(detail) => {
                (StatusCode::BAD_REQUEST, "Bad request", Some(detail.clone()))
            }
            ApiError::UnsupportedMediaType(expected) => (
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "Unsupported media type",
                Some(format!("send Content-Type: {expected}")),
            ),
            ApiError::PayloadTooLarge { limit } => (
                StatusCode::PAYLOAD_TOO_LARGE,
                "Request body too large",
                Some(format!("the limit is {limit} bytes")),
            ),
            ApiError::Unavailable(_) => {
                (StatusCode::SERVICE_UNAVAILABLE, "Service unavailable", None)
            }
            ApiError::Timeout { secs } => (
                StatusCode::SERVICE_UNAVAILABLE,
                "Request timed out",
                Some(format!("the request took longer than {secs} s")),
            ),
            ApiError::Internal(_) => (StatusCode::INTERNAL_SERVER_ERROR, "Internal error", None),
        }
    }

    /// Logs a server-side failure with its cause, which the client is never told: called once,
    /// by whichever error body the error is written in.
    pub(crate) fn log_if_server_error(&self, status: StatusCode) {
        if status.is_server_error() {
            tracing::error!(error = %self, cause = ?std::error::Error::source(self), "request failed");
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let (status, title, detail) = self.parts();
        self.log_if_server_error(status);
        let body = Problem {
            kind: "about:blank",
            title,
            status: status.as_u16(),
            detail,
        };
        let denial = matches!(status, StatusCode::UNAUTHORIZED | StatusCode::FORBIDDEN)
            .then(|| Denial(body.detail.clone().unwrap_or_else(|| title.to_owned())));
        let mut response = (status, Json(body)).into_response();
        response
            .headers_mut()
            .insert(header::CONTENT_TYPE, HeaderValue::from_static(PROBLEM_JSON));
        if let Some(denial) = denial {
            response.extensions_mut().insert(denial);
        }
        response
    }
}

impl From<Failure> for ApiError {
    fn from(e: Failure) -> Self {
        if e.is_outage() {
            ApiError::Unavailable(e)
        } else {
            ApiError::Internal(Box::new(e))
        }
    }
}

/// A storage failure under a use-case's error, as the edge answers it.
pub fn storage(e: impl Into<Failure>) -> ApiError {
    ApiError::from(e.into())
}

/// A page that failed to render: a bug of the hub (a template or the values given to it), never
/// the visitor's doing.
impl From<askama::Error> for ApiError {
    fn from(e: askama::Error) -> Self {
        ApiError::Internal(Box::new(e))
    }
}

impl From<IdentityError> for ApiError {
    fn from(e: IdentityError) -> Self {
        match e {
            IdentityError::Refused(_) => ApiError::Forbidden,
            IdentityError::Store(s) => storage(s),
        }
    }
}
