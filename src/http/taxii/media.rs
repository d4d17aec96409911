//! Content negotiation for TAXII routes: `Accept` must allow the TAXII 2.1 media type (406
//! otherwise), a request body must be sent as it (415 otherwise), and responses carry it.

use axum::extract::Request;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use super::TaxiiError;

pub const TAXII_MEDIA_TYPE: &str = "application/taxii+json;version=2.1";

/// Whether one media range of an `Accept` header covers TAXII 2.1.
fn range_accepts(range: &str) -> bool {
    let mut parts = range.split(';').map(str::trim);
    let essence = parts.next().unwrap_or_default().to_ascii_lowercase();
    let mut version = None;
    for p in parts {
        if let Some((k, v)) = p.split_once('=') {
            if k.trim().eq_ignore_ascii_case("version") {
                version = Some(v.trim().trim_matches('"').to_owned());
            }
            if k.trim().eq_ignore_ascii_case("q") && v.trim().parse::<f32>().is_ok_and(|q| q <= 0.0)
            {
                return false;
            }
        }
    }
    match essence.as_str() {
        "*/*" | "application/*" => true,
        "application/taxii+json" => version.is_none_or(|v| v == "2.1"),
        _ => false,
    }
}

fn accepts_taxii(headers: &HeaderMap) -> bool {
    let values: Vec<&str> = headers
        .get_all(header::ACCEPT)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .collect();
    values.is_empty() || values.iter().flat_map(|v| v.split(',')).any(range_accepts)
}

fn is_taxii_content(headers: &HeaderMap) -> bool {
    headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| {
            let mut parts = v.split(';').map(str::trim);
            parts
                .next()
                .is_some_and(|e| e.eq_ignore_ascii_case("application/taxii+json"))
                && parts.all(|p| {
                    p.split_once('=').is_none_or(|(k, v)| {
                        !k.trim().eq_ignore_ascii_case("version") || v.trim() == "2.1"
                    })
                })
        })
}

pub async fn negotiate(req: Request, next: Next) -> Response {
    if !accepts_taxii(req.headers()) {
        return TaxiiError::new(
            StatusCode::NOT_ACCEPTABLE,
            "Not acceptable",
            format!("this server answers {TAXII_MEDIA_TYPE}"),
        )
        .into_response();
    }
    // `Content-Length: 0` is how many clients say "no body" (a DELETE from `requests`).
    let declared = req
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<u64>().ok());
    let has_body =
        declared.is_some_and(|n| n > 0) || req.headers().contains_key(header::TRANSFER_ENCODING);
    if has_body && req.method() != axum::http::Method::GET && !is_taxii_content(req.headers()) {
        return TaxiiError::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "Unsupported media type",
            format!("send {TAXII_MEDIA_TYPE}"),
        )
        .into_response();
    }
    let mut response = next.run(req).await;
    if response.status().is_success() {
        response.headers_mut().insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static(TAXII_MEDIA_TYPE),
        );
    }
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accept_ranges() {
        assert!(range_accepts("application/taxii+json;version=2.1"));
        assert!(range_accepts("application/taxii+json"));
        assert!(range_accepts("*/*"));
        assert!(range_accepts("application/*; q=0.5"));
        assert!(!range_accepts("application/taxii+json;version=2.0"));
        assert!(!range_accepts("application/json"));
        assert!(!range_accepts("text/html"));
        assert!(!range_accepts("*/*;q=0"));
    }
}
