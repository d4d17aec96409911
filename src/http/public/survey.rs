//! `/survey`: the beneficiary's satisfaction survey, opened by the single-use link the CSIRT
//! sent (a signed token; no certificate).

use std::collections::BTreeMap;

use axum::body::Bytes;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use serde::Deserialize;

use super::html::{escape, page};
use crate::http::AppState;
use crate::services::registry::RegistryError;

#[derive(Debug, Deserialize)]
pub struct Link {
    #[serde(default)]
    token: String,
}

/// Refusals say what happened in words a beneficiary understands, nothing more.
fn refusal(e: &RegistryError) -> Response {
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
    page(
        status,
        "Questionnaire de satisfaction",
        &format!("<p>{}</p>", escape(text)),
    )
}

pub async fn form(State(state): State<AppState>, Query(link): Query<Link>) -> Response {
    if let Err(e) = state
        .registry()
        .open_survey(&link.token, state.clock.now())
        .await
    {
        return refusal(&e);
    }
    let mut body = String::from(
        "<p>Le CSIRT vous a orienté vers un prestataire pour traiter votre incident. \
         Votre avis compte&nbsp;: notez chaque point de 1 (très insatisfait) à 5 (très \
         satisfait).</p>\n<form method=\"post\" action=\"/survey\">\n",
    );
    body.push_str(&format!(
        "<input type=\"hidden\" name=\"token\" value=\"{}\">\n",
        escape(&link.token)
    ));
    for q in &state.services.survey_policy.questions {
        body.push_str(&format!("<fieldset><legend>{}</legend>", escape(&q.text)));
        for n in 1..=5 {
            body.push_str(&format!(
                "<label><input type=\"radio\" name=\"{id}\" value=\"{n}\" required> {n}</label>",
                id = escape(&q.id)
            ));
        }
        body.push_str("</fieldset>\n");
    }
    body.push_str(
        "<p><label for=\"comment\">Commentaire (facultatif)</label><br>\
         <textarea id=\"comment\" name=\"comment\" rows=\"4\" cols=\"60\" maxlength=\"2000\"></textarea></p>\n\
         <p><button type=\"submit\">Envoyer</button></p>\n</form>",
    );
    page(StatusCode::OK, "Questionnaire de satisfaction", &body)
}

pub async fn answer(State(state): State<AppState>, body: Bytes) -> Response {
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
        Ok(_) => page(
            StatusCode::OK,
            "Questionnaire de satisfaction",
            "<p class=\"ok\">Merci, votre réponse a bien été enregistrée.</p>",
        ),
        Err(RegistryError::Answer(e)) => refusal(&RegistryError::Answer(e)),
        Err(e) => refusal(&e),
    }
}
