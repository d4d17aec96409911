//! `limits.body_bytes`, applied before routing to every request, with or without a declared
//! length, so that a body past it gets the same refusal whichever way it was sent.
//!
//! A body without a declared length (chunked, or HTTP/2 DATA frames without content-length)
//! is read here up to the limit and handed on with its length declared: past the limit it is
//! refused like a body whose declared length is too large, and nothing downstream tells the
//! two apart. Handlers read whole bodies anyway, so this holds no more in memory than they
//! would. What a refused body still sends is read and discarded after the answer (`drain`).

use axum::body::{Body, Bytes};
use axum::extract::Request;
use axum::http::{HeaderValue, header};
use http_body_util::BodyExt as _;

use super::error::ApiError;

/// Why a body could not be taken in.
enum BodyRefusal {
    TooLarge,
    Unreadable,
}

/// The whole of a body of unknown length, if it is at most `limit` bytes.
async fn read_unsized(mut body: Body, limit: usize) -> Result<Bytes, BodyRefusal> {
    let mut read = Vec::new();
    while let Some(frame) = body.frame().await {
        let frame = frame.map_err(|_| BodyRefusal::Unreadable)?;
        let Ok(data) = frame.into_data() else {
            continue;
        };
        if read.len() + data.len() > limit {
            return Err(BodyRefusal::TooLarge);
        }
        read.extend_from_slice(&data);
    }
    Ok(read.into())
}

/// Applies `limits.body_bytes` to a request, whether its body declared a length or not.
pub(super) async fn apply(req: Request, limit: usize) -> Result<Request, ApiError> {
    let too_large = ApiError::PayloadTooLarge { limit };
    let declared = req
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    match declared {
        Some(n) if n > limit as u64 => Err(too_large),
        // hyper holds the body to its declared length; the limit is a second guard.
        Some(_) => Ok(req.map(|body| Body::new(http_body_util::Limited::new(body, limit)))),
        None if axum::body::HttpBody::is_end_stream(req.body()) => Ok(req),
        None => {
            let (mut parts, body) = req.into_parts();
            let bytes = read_unsized(body, limit)
                .await
                .map_err(|refusal| match refusal {
                    BodyRefusal::TooLarge => too_large,
                    BodyRefusal::Unreadable => {
                        ApiError::BadRequest("the request body could not be read".into())
                    }
                })?;
            parts.headers.remove(header::TRANSFER_ENCODING);
            parts
                .headers
                .insert(header::CONTENT_LENGTH, HeaderValue::from(bytes.len()));
            Ok(Request::from_parts(parts, Body::from(bytes)))
        }
    }
}
