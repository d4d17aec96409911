//! `/directory` and `/directory.json`: the referenced providers (Convention art. 3).

use askama::Template;
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;

use crate::domain::registry::directory::{Certification, DirectoryEntry, PublishedService};
use crate::domain::registry::file::Service;
use crate::http::AppState;
use crate::http::error::ApiError;
use crate::http::page::render;

pub async fn json(State(state): State<AppState>) -> Result<Json<Vec<DirectoryEntry>>, ApiError> {
    Ok(Json(state.registry().directory(state.clock.now()).await?))
}

#[derive(Template)]
#[template(path = "public/directory.html")]
struct DirectoryPage<'a> {
    title: &'static str,
    organisation: &'a str,
    rows: Vec<Row<'a>>,
}

/// One provider as the table shows it: the entry, with the hub's French words for its level
/// and services.
pub(super) struct Row<'a> {
    pub(super) name: &'a str,
    pub(super) level: &'static str,
    pub(super) certifications: &'a [Certification],
    pub(super) fields: &'a [String],
    /// (service, hours) pairs.
    pub(super) services: Vec<(&'static str, &'static str)>,
}

impl<'a> Row<'a> {
    pub(super) fn of(entry: &'a DirectoryEntry) -> Self {
        Self {
            name: &entry.name,
            level: entry.level.label(),
            certifications: &entry.certifications,
            fields: &entry.fields_of_competence,
            services: entry.services.iter().map(service).collect(),
        }
    }
}

fn service(s: &PublishedService) -> (&'static str, &'static str) {
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
    (name, hours)
}

pub async fn html(State(state): State<AppState>) -> Result<Response, ApiError> {
    let entries = state.registry().directory(state.clock.now()).await?;
    render(
        StatusCode::OK,
        &DirectoryPage {
            title: "Annuaire des prestataires référencés",
            organisation: &state.services.organisation,
            rows: entries.iter().map(Row::of).collect(),
        },
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::registry::directory::Level;

    fn entry(name: &str) -> DirectoryEntry {
        DirectoryEntry {
            name: name.into(),
            level: Level::Qualified,
            certifications: vec![Certification {
                name: "PRIS".into(),
                expires: time::macros::date!(2028 - 06 - 30),
            }],
            fields_of_competence: vec!["OT".into(), "<i>cloud</i>".into()],
            services: vec![
                PublishedService {
                    service: Service::Qualification,
                    jho: true,
                    jhno: true,
                },
                PublishedService {
                    service: Service::Containment,
                    jho: true,
                    jhno: false,
                },
            ],
        }
    }

    fn page(entries: &[DirectoryEntry]) -> String {
        DirectoryPage {
            title: "Annuaire",
            organisation: "CSIRT <Réunion>",
            rows: entries.iter().map(Row::of).collect(),
        }
        .render()
        .unwrap()
    }

    #[test]
    fn a_row_says_level_certifications_fields_and_services() {
        let html = page(&[entry("Cyber 974")]);
        assert!(
            html.contains(
                "<tr><td>Cyber 974</td><td>Référencé, qualifié PRIS</td>\
                 <td>PRIS (→ 2028-06-30)</td><td>OT, &#60;i&#62;cloud&#60;/i&#62;</td>\
                 <td>Qualification (JHO + JHNO)<br>Endiguement (JHO)</td></tr>"
            ),
            "{html}"
        );
        assert!(
            html.contains("référencés par CSIRT &#60;Réunion&#62;."),
            "{html}"
        );
    }

    #[test]
    fn an_empty_directory_says_so() {
        let html = page(&[]);
        assert!(
            html.contains("<p>Aucun prestataire référencé.</p>"),
            "{html}"
        );
        assert!(!html.contains("<table>"), "{html}");
    }

    #[test]
    fn a_name_is_text_never_markup() {
        let html = page(&[entry("<script>alert(1)</script> \"&")]);
        assert!(!html.contains("<script"), "{html}");
        assert!(
            html.contains("&#60;script&#62;alert(1)&#60;/script&#62; &#34;&#38;"),
            "{html}"
        );
    }
}
