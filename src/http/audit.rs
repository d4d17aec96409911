//! Refused requests on the main listener go into the audit log (`Services::record_denial`):
//! what is method and path, never the query or the body, which may carry victim data. The entry's encoding escapes every control
//! character, so a crafted path cannot forge or split log lines.

use axum::extract::{Request, State};
use axum::http::StatusCode;
use axum::middleware::Next;
use axum::response::Response;

use super::AppState;
use super::error::{ApiError, Denial};
use super::server::ConnectionInfo;

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
    let told = response
        .extensions()
        .get::<Denial>()
        .map_or_else(|| response.status().to_string(), |d| d.0.clone());
    let recorded = state
        .services
        .record_denial(fingerprint.as_ref(), what, told, state.clock.now())
        .await;
    if let Err(e) = recorded {
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
