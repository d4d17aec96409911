//! `/survey`: the beneficiary's satisfaction survey, opened by the single-use link the CSIRT
//! sent (a signed token; no certificate).

use std::collections::BTreeMap;

use askama::Template;
use axum::body::Bytes;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use serde::Deserialize;

use super::message::message;
use crate::domain::registry::survey::Question;
use crate::http::AppState;
use crate::http::error::ApiError;
use crate::http::page::render;
use crate::services::registry::RegistryError;

const TITLE: &str = "Questionnaire de satisfaction";

#[derive(Debug, Deserialize)]
pub struct Link {
    #[serde(default)]
    token: String,
}

#[derive(Template)]
#[template(path = "public/survey.html")]
struct FormPage<'a> {
    title: &'static str,
    /// Sent back with the answers; an attribute value, escaped like any other.
    token: &'a str,
    questions: &'a [Question],
}

/// Refusals say what happened in words a beneficiary understands, nothing more.
fn refusal(e: &RegistryError) -> Result<Response, ApiError> {
    let (status, text) = match e {
        RegistryError::AlreadyAnswered => (
            StatusCode::CONFLICT,
            "Ce questionnaire a déjà reçu une réponse. Merci !",
        ),
        RegistryError::Token(crate::crypto::tokens::TokenError::Expired) => (
            StatusCode::GONE,
            "Ce lien a expiré. Contactez le CSIRT si vous souhaitez encore répondre.",
        ),
        RegistryError::Answer(_) => (
            StatusCode::UNPROCESSABLE_ENTITY,
            "Merci de répondre à chaque question par une note de 1 à 5.",
        ),
        RegistryError::Store(_) => (
            StatusCode::SERVICE_UNAVAILABLE,
            "Le service est momentanément indisponible ; réessayez plus tard.",
        ),
        _ => (StatusCode::NOT_FOUND, "Ce lien n'est pas valide."),
    };
    if matches!(e, RegistryError::Store(_)) {
        tracing::error!(error = %e, "survey unavailable");
    }
    message(status, TITLE, None, text)
}

pub async fn form(
    State(state): State<AppState>,
    Query(link): Query<Link>,
) -> Result<Response, ApiError> {
    if let Err(e) = state
        .registry()
        .open_survey(&link.token, state.clock.now())
        .await
    {
        return refusal(&e);
    }
    render(
        StatusCode::OK,
        &FormPage {
            title: TITLE,
            token: &link.token,
            questions: &state.services.survey_policy.questions,
        },
    )
}

pub async fn answer(State(state): State<AppState>, body: Bytes) -> Result<Response, ApiError> {
    let mut token = String::new();
    let mut comment = String::new();
    let mut ratings = BTreeMap::new();
    let mut malformed = false;
    for (key, value) in form_urlencoded::parse(&body) {
        match key.as_ref() {
            "token" => token = value.into_owned(),
            "comment" => comment = value.into_owned(),
            id => match value.parse::<u8>() {
                Ok(n) if ratings.insert(id.to_owned(), n).is_none() => {}
                _ => malformed = true,
            },
        }
    }
    if malformed {
        return refusal(&RegistryError::BadRequest("malformed answer".into()));
    }
    match state
        .registry()
        .answer_survey(&token, ratings, comment, state.clock.now())
        .await
    {
        Ok(_) => message(
            StatusCode::OK,
            TITLE,
            Some("ok"),
            "Merci, votre réponse a bien été enregistrée.",
        ),
        Err(e) => refusal(&e),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_form_asks_each_question_from_1_to_5_and_carries_the_token() {
        let questions = [Question {
            id: "overall".into(),
            text: "Globalement <satisfait> ?".into(),
        }];
        let html = FormPage {
            title: TITLE,
            token: "a.b\"><script>",
            questions: &questions,
        }
        .render()
        .unwrap();
        assert!(
            html.contains(
                "<input type=\"hidden\" name=\"token\" value=\"a.b&#34;&#62;&#60;script&#62;\">"
            ),
            "{html}"
        );
        assert!(
            html.contains("<fieldset><legend>Globalement &#60;satisfait&#62; ?</legend><label>"),
            "{html}"
        );
        for n in 1..=5 {
            assert!(
                html.contains(&format!(
                    "<label><input type=\"radio\" name=\"overall\" value=\"{n}\" required> {n}</label>"
                )),
                "{html}"
            );
        }
        assert!(html.contains("name=\"comment\""), "{html}");
    }
}
