//! `/choose`: the beneficiary chooses its provider from the case's shortlist, through the
//! single-use link the CSIRT sent (a signed token; no certificate). The page shows the
//! directory's public fields of the shortlisted providers and nothing of the case.

use askama::Template;
use axum::body::Bytes;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use serde::Deserialize;

use super::directory::Row;
use super::message::message;
use crate::http::AppState;
use crate::http::error::ApiError;
use crate::http::page::render;
use crate::services::cases::CaseError;

const TITLE: &str = "Choix de votre prestataire";

#[derive(Debug, Deserialize)]
pub struct Link {
    #[serde(default)]
    token: String,
}

struct Choice<'a> {
    id: &'a str,
    row: Row<'a>,
}

#[derive(Template)]
#[template(path = "public/choose.html")]
struct ChoosePage<'a> {
    title: &'static str,
    token: &'a str,
    options: Vec<Choice<'a>>,
    expires: String,
}

/// Refusals in words a beneficiary understands, nothing more.
fn refusal(e: &CaseError) -> Result<Response, ApiError> {
    let (status, text) = match e {
        CaseError::UsedLink => (
            StatusCode::CONFLICT,
            "Ce lien a déjà servi : votre choix est enregistré. Contactez le CSIRT pour toute \
             question.",
        ),
        CaseError::StaleLink => (
            StatusCode::GONE,
            "Ce lien n'est plus valable : le CSIRT vous a proposé une autre liste ou a \
             enregistré votre choix autrement. Contactez-le au besoin.",
        ),
        CaseError::ExpiredLink => (
            StatusCode::GONE,
            "Ce lien a expiré. Contactez le CSIRT pour choisir votre prestataire.",
        ),
        CaseError::Invalid(_) => (
            StatusCode::UNPROCESSABLE_ENTITY,
            "Merci de choisir l'un des prestataires proposés.",
        ),
        CaseError::NotNow(_) => (
            StatusCode::CONFLICT,
            "Ce choix ne peut plus être enregistré. Contactez le CSIRT.",
        ),
        CaseError::Store(_) | CaseError::Package(_) => (
            StatusCode::SERVICE_UNAVAILABLE,
            "Le service est momentanément indisponible ; réessayez plus tard.",
        ),
        _ => (StatusCode::NOT_FOUND, "Ce lien n'est pas valide."),
    };
    if matches!(e, CaseError::Store(_) | CaseError::Package(_)) {
        tracing::error!(error = %e, "choice page unavailable");
    }
    message(status, TITLE, None, text)
}

pub async fn form(
    State(state): State<AppState>,
    Query(link): Query<Link>,
) -> Result<Response, ApiError> {
    let page = match state
        .services
        .cases()
        .choice_page(&link.token, state.clock.now())
        .await
    {
        Ok(page) => page,
        Err(e) => return refusal(&e),
    };
    let expires = crate::domain::registry::calendar::local(page.expires_at);
    render(
        StatusCode::OK,
        &ChoosePage {
            title: TITLE,
            token: &link.token,
            options: page
                .options
                .iter()
                .map(|o| Choice {
                    id: &o.provider,
                    row: Row::of(&o.entry),
                })
                .collect(),
            expires: format!(
                "{:02}/{:02}/{} à {:02}h{:02}",
                expires.day(),
                u8::from(expires.month()),
                expires.year(),
                expires.hour(),
                expires.minute()
            ),
        },
    )
}

pub async fn answer(State(state): State<AppState>, body: Bytes) -> Result<Response, ApiError> {
    let mut token = String::new();
    let mut provider = String::new();
    for (key, value) in form_urlencoded::parse(&body) {
        match key.as_ref() {
            "token" => token = value.into_owned(),
            "provider" => provider = value.into_owned(),
            _ => {}
        }
    }
    match state
        .services
        .cases()
        .choose_by_link(&token, &provider, state.clock.now())
        .await
    {
        Ok(()) => message(
            StatusCode::OK,
            TITLE,
            Some("ok"),
            "Merci, votre choix est enregistré. Le prestataire choisi vous contactera ; le \
             CSIRT reste à votre disposition.",
        ),
        Err(e) => refusal(&e),
    }
}
