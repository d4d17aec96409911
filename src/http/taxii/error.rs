//! TAXII error messages (TAXII 2.1 §3.6.1), the one mapping of errors on TAXII routes.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;

use super::media::TAXII_MEDIA_TYPE;
use crate::http::error::{ApiError, Denial};
use crate::services::share::ShareError;
use crate::services::taxii::DeleteError;

#[derive(Debug)]
pub struct TaxiiError {
    status: StatusCode,
    title: &'static str,
    description: Option<String>,
}

#[derive(Serialize)]
struct Body<'a> {
    title: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    description: Option<&'a str>,
    http_status: String,
}

impl TaxiiError {
    pub fn new(status: StatusCode, title: &'static str, description: impl Into<String>) -> Self {
        Self {
            status,
            title,
            description: Some(description.into()),
        }
    }

    pub fn not_found() -> Self {
        Self {
            status: StatusCode::NOT_FOUND,
            title: "Not found",
            description: None,
        }
    }

    pub fn bad_request(description: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "Bad request", description)
    }
}

impl IntoResponse for TaxiiError {
    fn into_response(self) -> Response {
        let body = Body {
            title: self.title,
            description: self.description.as_deref(),
            http_status: self.status.as_u16().to_string(),
        };
        let denial = matches!(
            self.status,
            StatusCode::UNAUTHORIZED | StatusCode::FORBIDDEN
        )
        .then(|| {
            Denial(
                self.description
                    .clone()
                    .unwrap_or_else(|| self.title.to_owned()),
            )
        });
        let mut response = (self.status, axum::Json(body)).into_response();
        response.headers_mut().insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static(TAXII_MEDIA_TYPE),
        );
        if let Some(denial) = denial {
            response.extensions_mut().insert(denial);
        }
        response
    }
}

/// The one mapping of the edge's errors onto TAXII: the same status, title and detail as the
/// problem+json body would have, which never carry internal detail.
impl From<ApiError> for TaxiiError {
    fn from(e: ApiError) -> Self {
        let (status, title, description) = e.parts();
        e.log_if_server_error(status);
        Self {
            status,
            title,
            description,
        }
    }
}

impl From<crate::services::ingest::IngestError> for TaxiiError {
    fn from(e: crate::services::ingest::IngestError) -> Self {
        use crate::services::ingest::IngestError;
        match e {
            IngestError::CollectionNotFound => Self::not_found(),
            IngestError::NotWritable => Self::new(
                StatusCode::FORBIDDEN,
                "Forbidden",
                "this collection cannot be written with this certificate",
            ),
            IngestError::Envelope(j) => Self::bad_request(j.to_string()),
            IngestError::UnknownCase => {
                Self::new(StatusCode::NOT_FOUND, "Not found", "no such case")
            }
            IngestError::CaseOutsideSubmissions | IngestError::Items(_) => {
                Self::bad_request(e.to_string())
            }
            IngestError::Store(s) => crate::http::error::storage(s).into(),
        }
    }
}

impl From<DeleteError> for TaxiiError {
    fn from(e: DeleteError) -> Self {
        match e {
            DeleteError::Read(e) => e.into(),
            DeleteError::Write(e) => e.into(),
        }
    }
}

impl From<ShareError> for TaxiiError {
    fn from(e: ShareError) -> Self {
        match e {
            ShareError::CollectionNotFound => Self::not_found(),
            ShareError::NotReadable => Self::new(
                StatusCode::FORBIDDEN,
                "Forbidden",
                "this collection cannot be read with this certificate",
            ),
            ShareError::BadCursor(b) => Self::bad_request(b.to_string()),
            ShareError::Store(s) => crate::http::error::storage(s).into(),
            ShareError::Random => ApiError::Internal(Box::new(ShareError::Random)).into(),
        }
    }
}
