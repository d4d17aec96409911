//! `/directory` and `/directory.json`: the referenced providers (Convention art. 3).

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;

use super::html::{escape, page};
use crate::domain::registry::directory::DirectoryEntry;
use crate::domain::registry::file::Service;
use crate::http::AppState;
use crate::http::error::ApiError;

pub async fn json(State(state): State<AppState>) -> Result<Json<Vec<DirectoryEntry>>, ApiError> {
    Ok(Json(state.registry().directory(state.clock.now()).await?))
}

fn services(entry: &DirectoryEntry) -> String {
    entry
        .services
        .iter()
        .map(|s| {
            let hours = match (s.jho, s.jhno) {
                (true, true) => "JHO + JHNO",
                (true, false) => "JHO",
                _ => "JHNO",
            };
            let name = match s.service {
                Service::Qualification => "Qualification",
                Service::Collection => "Collecte",
                Service::Analysis => "Analyse",
                Service::Containment => "Endiguement",
                Service::Remediation => "Remédiation",
                Service::PostIncident => "Post-incident",
            };
            format!("{name} ({hours})")
        })
        .collect::<Vec<_>>()
        .join("<br>")
}

pub async fn html(State(state): State<AppState>) -> Result<Response, ApiError> {
    let entries = state.registry().directory(state.clock.now()).await?;
    let mut body = format!(
        "<p>Prestataires de réponse à incident référencés par {}. \
         JHO&nbsp;: jours et heures ouvrés&nbsp;; JHNO&nbsp;: non ouvrés. \
         Aussi en JSON&nbsp;: <a href=\"/directory.json\">/directory.json</a>.</p>\n",
        escape(&state.services.organisation)
    );
    if entries.is_empty() {
        body.push_str("<p>Aucun prestataire référencé.</p>");
    } else {
        body.push_str(
            "<table>\n<thead><tr><th>Prestataire</th><th>Niveau</th><th>Certifications</th>\
             <th>Domaines de compétence</th><th>Services</th></tr></thead>\n<tbody>\n",
        );
        for e in &entries {
            let certifications = e
                .certifications
                .iter()
                .map(|c| format!("{} (→ {})", escape(&c.name), c.expires))
                .collect::<Vec<_>>()
                .join("<br>");
            body.push_str(&format!(
                "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>\n",
                escape(&e.name),
                escape(e.level.label()),
                certifications,
                e.fields_of_competence
                    .iter()
                    .map(|f| escape(f))
                    .collect::<Vec<_>>()
                    .join(", "),
                services(e),
            ));
        }
        body.push_str("</tbody>\n</table>");
    }
    Ok(page(
        StatusCode::OK,
        "Annuaire des prestataires référencés",
        &body,
    ))
}
