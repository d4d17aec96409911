//! The REST API under `/api/v1`, on the main listener.

use axum::Json;
use axum::Router;
use axum::routing::{get, post, put};
use serde::Serialize;

use super::AppState;
use super::identity::AnyPrincipal;
use crate::domain::principal::{
    OrganisationKind, OrganisationStatus, PrincipalKind, PrincipalStatus,
};

mod audit;
mod body;
mod cases;
mod exports;
mod iocs;
mod registry;
mod triage;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/v1/whoami", get(whoami))
        .route("/api/v1/exports/blocklist", get(exports::blocklist))
        .route("/api/v1/cases", get(cases::list).post(cases::open))
        .route("/api/v1/cases/{id}", get(cases::get))
        .route("/api/v1/cases/{id}/consent", put(cases::set_consent))
        .route("/api/v1/triage", get(triage::queue))
        .route("/api/v1/triage/{id}", get(triage::item))
        .route("/api/v1/triage/{id}/publish", post(triage::publish))
        .route("/api/v1/triage/{id}/merge", post(triage::merge))
        .route("/api/v1/triage/{id}/reject", post(triage::reject))
        .route("/api/v1/submissions", get(triage::own))
        .route("/api/v1/iocs", post(iocs::submit))
        .route("/api/v1/openapi.json", get(openapi))
        .route(
            "/api/v1/registry/providers",
            get(registry::list).post(registry::apply),
        )
        .route("/api/v1/registry/me", get(registry::me))
        .route("/api/v1/registry/evidence", post(registry::upload_evidence))
        .route("/api/v1/registry/providers/{id}", get(registry::get))
        .route(
            "/api/v1/registry/providers/{id}/file",
            put(registry::update_file),
        )
        .route(
            "/api/v1/registry/providers/{id}/evidence",
            post(registry::upload_provider_evidence),
        )
        .route(
            "/api/v1/registry/providers/{id}/transitions",
            post(registry::transition),
        )
        .route(
            "/api/v1/registry/providers/{id}/reference",
            post(registry::reference),
        )
        .route(
            "/api/v1/registry/providers/{id}/convention-signature",
            post(registry::sign_convention),
        )
        .route(
            "/api/v1/registry/providers/{id}/history",
            get(registry::history),
        )
        .route(
            "/api/v1/registry/providers/{id}/standing",
            get(registry::standing),
        )
        .route(
            "/api/v1/registry/providers/{id}/badge",
            post(registry::badge),
        )
        .route(
            "/api/v1/registry/conventions",
            get(registry::conventions).post(registry::publish_convention),
        )
        .route("/api/v1/registry/dashboard", get(registry::dashboard))
        .route("/api/v1/registry/shortlist", get(registry::shortlist))
        .route("/api/v1/cases/{id}/survey", post(registry::issue_survey))
        .route("/api/v1/audit/checkpoint", get(audit::checkpoint))
        .route("/api/v1/audit/public-key", get(audit::public_key))
        .route("/api/v1/audit/entries", get(audit::entries))
        .route("/api/v1/audit/proofs/inclusion", get(audit::inclusion))
        .route("/api/v1/audit/proofs/consistency", get(audit::consistency))
        .route("/api/v1/submissions/{id}", get(triage::item))
        // The request-context middleware enforces `limits.body_bytes`.
        .layer(axum::extract::DefaultBodyLimit::disable())
}

#[derive(Debug, Serialize)]
pub struct WhoAmI {
    pub id: String,
    pub kind: PrincipalKind,
    pub name: String,
    pub status: PrincipalStatus,
    pub organisation: OrganisationView,
    pub certificate: CertificateView,
}

#[derive(Debug, Serialize)]
pub struct OrganisationView {
    pub id: String,
    pub name: String,
    pub kind: OrganisationKind,
    pub status: OrganisationStatus,
    /// The STIX identity its objects may name as `created_by_ref`.
    pub stix_identity: String,
}

#[derive(Debug, Serialize)]
pub struct CertificateView {
    pub fingerprint: String,
    pub serial: String,
    #[serde(with = "time::serde::rfc3339")]
    pub not_after: time::OffsetDateTime,
}

/// The OpenAPI 3.1 description of this API, written by hand next to the handlers (a test
/// checks that it names every route).
pub const OPENAPI: &str = include_str!("openapi.json");

async fn openapi() -> impl axum::response::IntoResponse {
    (
        [(axum::http::header::CONTENT_TYPE, "application/json")],
        OPENAPI,
    )
}

/// The principal the hub sees behind the presented certificate.
async fn whoami(AnyPrincipal(record): AnyPrincipal) -> Json<WhoAmI> {
    let p = record.principal;
    let o = record.organisation;
    Json(WhoAmI {
        id: p.id.to_string(),
        kind: p.kind,
        name: p.name,
        status: p.status,
        organisation: OrganisationView {
            stix_identity: o.id.stix_identity(),
            id: o.id.to_string(),
            name: o.name,
            kind: o.kind,
            status: o.status,
        },
        certificate: CertificateView {
            fingerprint: record.binding.fingerprint.to_hex(),
            serial: record.binding.serial,
            not_after: record.binding.not_after,
        },
    })
}
