//! Badge checks: `/badges/{id}` (the page a badge links to) and `/badge/verify` (paste the
//! clear-signed statement). A badge verifies only while its provider is referenced.

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};

use super::html::{escape, page};
use crate::http::AppState;
use crate::services::registry::{BadgeCheck, RegistryError};

fn outcome(result: Result<BadgeCheck, RegistryError>) -> Response {
    let body = match result {
        Ok(check) if check.valid => format!(
            "<p class=\"ok\">Badge valide&nbsp;: <strong>{}</strong> est référencé(e) \
             aujourd'hui.</p><p>Badge {}.</p>",
            escape(&check.provider),
            escape(&check.badge)
        ),
        Ok(check) => format!(
            "<p class=\"ko\">Badge non valide&nbsp;: {} n'est plus référencé(e) (statut&nbsp;: \
             {}).</p>",
            escape(&check.provider),
            escape(check.status.as_str())
        ),
        Err(RegistryError::Store(e)) => {
            tracing::error!(error = %e, "badge check unavailable");
            return page(
                StatusCode::SERVICE_UNAVAILABLE,
                "Vérification de badge",
                "<p>Service momentanément indisponible.</p>",
            );
        }
        Err(_) => "<p class=\"ko\">Badge non valide&nbsp;: signature ou badge inconnus.</p>".into(),
    };
    page(StatusCode::OK, "Vérification de badge", &body)
}

pub async fn by_id(State(state): State<AppState>, Path(id): Path<String>) -> Response {
    outcome(state.registry().badge_status(&id).await)
}

pub async fn form() -> Response {
    page(
        StatusCode::OK,
        "Vérification de badge",
        "<form method=\"post\" action=\"/badge/verify\">\
         <p><label for=\"badge\">Collez le badge signé (texte OpenPGP)&nbsp;:</label><br>\
         <textarea id=\"badge\" name=\"badge\" rows=\"16\" cols=\"80\" required></textarea></p>\
         <p><button type=\"submit\">Vérifier</button></p></form>",
    )
}

/// A form post (`badge=…`) answers with a page; a `text/plain` body (the statement itself,
/// e.g. from curl) with JSON.
pub async fn verify(State(state): State<AppState>, headers: HeaderMap, body: Bytes) -> Response {
    let plain = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("text/plain"));
    let text = if plain {
        String::from_utf8_lossy(&body).into_owned()
    } else {
        form_urlencoded::parse(&body)
            .find(|(k, _)| k == "badge")
            .map(|(_, v)| v.into_owned())
            .unwrap_or_default()
    };
    let result = state
        .registry()
        .verify_badge(&text, state.clock.now())
        .await;
    if plain {
        return match result {
            Ok(check) => (StatusCode::OK, axum::Json(check)).into_response(),
            Err(RegistryError::Store(e)) => crate::http::error::storage(e).into_response(),
            Err(e) => (
                StatusCode::OK,
                axum::Json(serde_json::json!({"valid": false, "reason": e.to_string()})),
            )
                .into_response(),
        };
    }
    outcome(result)
}
