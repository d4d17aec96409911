//! Badge checks: `/badges/{id}` (the page a badge links to) and `/badge/verify` (paste the
//! clear-signed statement). A badge verifies only while its provider is referenced.

use askama::Template;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};

use super::message::message;
use crate::http::AppState;
use crate::http::error::ApiError;
use crate::http::page::render;
use crate::services::registry::{BadgeCheck, RegistryError};

const TITLE: &str = "Vérification de badge";

/// The answer to a check: `None` when the signature or the badge is unknown.
#[derive(Template)]
#[template(path = "public/badge.html")]
struct CheckPage {
    title: &'static str,
    check: Option<BadgeCheck>,
}

#[derive(Template)]
#[template(path = "public/badge_form.html")]
struct FormPage {
    title: &'static str,
}

fn outcome(result: Result<BadgeCheck, RegistryError>) -> Result<Response, ApiError> {
    let check = match result {
        Ok(check) => Some(check),
        Err(RegistryError::Store(e)) => {
            tracing::error!(error = %e, "badge check unavailable");
            return message(
                StatusCode::SERVICE_UNAVAILABLE,
                TITLE,
                None,
                "Service momentanément indisponible.",
            );
        }
        Err(_) => None,
    };
    render(
        StatusCode::OK,
        &CheckPage {
            title: TITLE,
            check,
        },
    )
}

pub async fn by_id(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    outcome(state.registry().badge_status(&id).await)
}

pub async fn form() -> Result<Response, ApiError> {
    render(StatusCode::OK, &FormPage { title: TITLE })
}

/// A form post (`badge=…`) answers with a page; a `text/plain` body (the statement itself,
/// e.g. from curl) with JSON.
pub async fn verify(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
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
            Ok(check) => Ok((StatusCode::OK, axum::Json(check)).into_response()),
            Err(RegistryError::Store(e)) => Err(crate::http::error::storage(e)),
            Err(e) => Ok((
                StatusCode::OK,
                axum::Json(serde_json::json!({"valid": false, "reason": e.to_string()})),
            )
                .into_response()),
        };
    }
    outcome(result)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::principal::OrganisationStatus;

    fn page(check: Option<BadgeCheck>) -> String {
        CheckPage {
            title: TITLE,
            check,
        }
        .render()
        .unwrap()
    }

    fn check(valid: bool, status: OrganisationStatus) -> BadgeCheck {
        BadgeCheck {
            badge: "badge--1".into(),
            provider: "<b>Cyber</b> & \"974\"".into(),
            status,
            valid,
        }
    }

    #[test]
    fn a_valid_badge_names_its_provider_as_text() {
        let html = page(Some(check(true, OrganisationStatus::Referenced)));
        assert!(
            html.contains(
                "<p class=\"ok\">Badge valide&nbsp;: <strong>&#60;b&#62;Cyber&#60;/b&#62; &#38; \
                 &#34;974&#34;</strong> est référencé(e) aujourd'hui.</p><p>Badge badge--1.</p>"
            ),
            "{html}"
        );
    }

    #[test]
    fn an_invalid_or_unknown_badge_says_so() {
        let html = page(Some(check(false, OrganisationStatus::Suspended)));
        assert!(
            html.contains("<p class=\"ko\">Badge non valide&nbsp;: &#60;b&#62;"),
            "{html}"
        );
        assert!(html.contains("(statut&nbsp;: suspended).</p>"), "{html}");
        let html = page(None);
        assert!(
            html.contains(
                "<p class=\"ko\">Badge non valide&nbsp;: signature ou badge inconnus.</p>"
            ),
            "{html}"
        );
    }
}
