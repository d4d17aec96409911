//! Refused requests on the main listener go into the audit log: who (the certificate's key
//! and, if the registry knows it, its principal), what (method and path, never the query or
//! the body, which may carry victim data) and why. The entry's encoding escapes every control
//! character, so a crafted path cannot forge or split log lines.

use axum::extract::{Request, State};
use axum::http::StatusCode;
use axum::middleware::Next;
use axum::response::Response;

use super::AppState;
use super::error::{ApiError, Denial};
use super::server::ConnectionInfo;
use crate::domain::access;
use crate::domain::audit::record::Acting;

/// Longest path kept in an entry; longer ones are cut (and say so).
const MAX_LOGGED_PATH: usize = 512;

pub async fn record_denials(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let fingerprint = req
        .extensions()
        .get::<ConnectionInfo>()
        .and_then(|c| c.client);
    let path = req.uri().path().to_owned();
    let what = format!("{} {}", req.method(), logged_path(&path));
    let response = next.run(req).await;
    if !matches!(
        response.status(),
        StatusCode::UNAUTHORIZED | StatusCode::FORBIDDEN
    ) {
        return response;
    }
    let now = state.clock.now();
    let mut why = response
        .extensions()
        .get::<Denial>()
        .map_or_else(|| response.status().to_string(), |d| d.0.clone());
    let acting = match fingerprint {
        None => Acting::unregistered("", "", now),
        Some(fp) => match state.store.registry_record(&fp).await {
            Ok(Some(record)) => {
                // A refused key: say which rule refused it, which the client is not told.
                if let Err(refusal) = access::authorise(Some(&record), now) {
                    why = refusal.to_string();
                }
                Acting::by(&record, now)
            }
            Ok(None) => {
                why = access::Refusal::UnboundCertificate.to_string();
                Acting::unregistered("", &fp.to_hex(), now)
            }
            Err(e) => return super::refuse(&path, ApiError::from(e)),
        },
    };
    let record = acting.record("request.denied").objects([what]).denied(why);
    if let Err(e) = state.store.append_audit(&record).await {
        // The refusal stands; what cannot be recorded is an outage, and is answered as one.
        tracing::error!(error = %e, "cannot record a refused request in the audit log");
        return super::refuse(&path, ApiError::from(e));
    }
    response
}

fn logged_path(path: &str) -> String {
    if path.len() <= MAX_LOGGED_PATH {
        return path.to_owned();
    }
    let mut end = MAX_LOGGED_PATH;
    while !path.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}…(cut)", &path[..end])
}
