//! The REST API under `/api/v1`, on the main listener.

use std::sync::LazyLock;

use axum::Json;
use axum::Router;
use axum::extract::State;
use serde::Serialize;
use utoipa::openapi::path::{Operation, ParameterIn};
use utoipa::openapi::response::Response;
use utoipa::openapi::{Content, OpenApi, Ref, RefOr, Server};
use utoipa::{Modify, OpenApi as _, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::AppState;
use super::error::{PROBLEM_JSON, Problem};
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
mod reports;
mod schema;
mod soc;
mod triage;

/// The REST API's routes. Each comes with its OpenAPI entry (`routes!` reads both from the
/// handler's `#[utoipa::path]`), so no route exists without its description.
fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::with_openapi(ApiDoc::openapi())
        .routes(routes!(whoami))
        .routes(routes!(exports::blocklist))
        .routes(routes!(cases::list, cases::open))
        .routes(routes!(cases::get))
        .routes(routes!(cases::set_consent))
        .routes(routes!(cases::shortlist))
        .routes(routes!(cases::shortlists))
        .routes(routes!(cases::choose))
        .routes(routes!(cases::choice_link))
        .routes(routes!(cases::journal, cases::append_journal))
        .routes(routes!(cases::journal_signed))
        .routes(routes!(cases::close))
        .routes(routes!(cases::add_dispute))
        .routes(routes!(cases::dispute_outcome))
        .routes(routes!(cases::handoffs))
        .routes(routes!(cases::package))
        .routes(routes!(cases::answer))
        .routes(routes!(cases::withdraw))
        .routes(routes!(reports::submit, reports::get))
        .routes(routes!(reports::version))
        .routes(routes!(reports::notifications))
        .routes(routes!(reports::overdue))
        .routes(routes!(reports::own_summary, reports::save_summary))
        .routes(routes!(reports::submit_summary))
        .routes(routes!(reports::provider_summary))
        .routes(routes!(reports::annual_statistics))
        .routes(routes!(triage::queue))
        .routes(routes!(triage::item))
        .routes(routes!(triage::publish))
        .routes(routes!(triage::merge))
        .routes(routes!(triage::reject))
        .routes(routes!(triage::own))
        .routes(routes!(triage::own_item))
        .routes(routes!(iocs::submit))
        .routes(routes!(openapi))
        .routes(routes!(registry::list, registry::apply))
        .routes(routes!(registry::me))
        .routes(routes!(registry::upload_evidence))
        .routes(routes!(registry::get))
        .routes(routes!(registry::update_file))
        .routes(routes!(registry::upload_provider_evidence))
        .routes(routes!(registry::transition))
        .routes(routes!(registry::reference))
        .routes(routes!(registry::sign_convention))
        .routes(routes!(registry::history))
        .routes(routes!(registry::standing))
        .routes(routes!(registry::badge))
        .routes(routes!(registry::conventions, registry::publish_convention))
        .routes(routes!(registry::dashboard))
        .routes(routes!(registry::shortlist))
        .routes(routes!(registry::issue_survey))
        .routes(routes!(audit::checkpoint))
        .routes(routes!(audit::public_key))
        .routes(routes!(audit::entries))
        .routes(routes!(audit::inclusion))
        .routes(routes!(audit::consistency))
        .routes(routes!(audit::cosignatures, audit::receive_cosignature))
        .routes(routes!(soc::contracts, soc::create_contract))
        .routes(routes!(soc::contract))
        .routes(routes!(soc::contract_alerts))
        .routes(routes!(soc::report))
        .routes(routes!(soc::post_alert))
        .routes(routes!(soc::alert))
        .routes(routes!(soc::ack))
        .routes(routes!(soc::pause))
        .routes(routes!(soc::resume))
        .routes(routes!(soc::reviews, soc::add_review))
        .routes(routes!(soc::committees, soc::add_committee))
        .routes(routes!(soc::file_minutes))
        .routes(routes!(soc::credits))
        .routes(routes!(soc::buy_credits))
        .routes(routes!(soc::use_credits))
        .routes(routes!(soc::term))
}

pub fn router() -> Router<AppState> {
    let (router, _) = routes().split_for_parts();
    // The request-context middleware enforces `limits.body_bytes`.
    router.layer(axum::extract::DefaultBodyLimit::disable())
}

#[derive(utoipa::OpenApi)]
#[openapi(
    info(
        title = "relais REST API",
        version = "1",
        description = "The REST API of a relais hub, under /api/v1 on the main listener. Every \
request needs a client certificate issued by the hub's CA and bound to an active principal \
(mutual TLS); there is no other authentication. Errors are RFC 9457 problem+json, those of the \
router included (404 for an unknown path, 405 with Allow for a method a path does not take). \
Request bodies are strict JSON (duplicate keys and nesting deeper than 64 levels refused) of at \
most limits.body_bytes (10 MiB by default), declared or not; a body refused before it was read \
(413, 403, 415...) is read and discarded after the answer up to limits.refused_body_drain_bytes \
(64 MiB) and limits.refused_body_drain_secs (30 s), so that a client that sends its whole body \
first still reads the answer, and a client that sent Expect: 100-continue is answered without \
being asked for the body. STIX 2.1 over TAXII 2.1 is served under /taxii2/."
    ),
    components(schemas(Problem))
)]
struct ApiDoc;

/// The description of the REST API, without `servers` (the hub adds its main listener's URL
/// when it serves it at `/api/v1/openapi.json`).
pub fn openapi_document() -> OpenApi {
    let mut doc = routes().into_openapi();
    Completion.modify(&mut doc);
    doc
}

static DOCUMENT: LazyLock<OpenApi> = LazyLock::new(openapi_document);

/// What the handlers' attributes leave to one place: the refusals every operation can meet,
/// the problem+json body of every error answer, and operation ids unique across modules
/// (`cases_get`, not `get`).
struct Completion;

impl Modify for Completion {
    fn modify(&self, doc: &mut OpenApi) {
        for item in doc.paths.paths.values_mut() {
            let operations = [
                &mut item.get,
                &mut item.put,
                &mut item.post,
                &mut item.delete,
                &mut item.patch,
            ];
            for operation in operations.into_iter().flatten() {
                refusals(operation);
                if let (Some(tag), Some(id)) = (
                    operation.tags.as_ref().and_then(|t| t.first()),
                    &operation.operation_id,
                ) {
                    operation.operation_id = Some(format!("{tag}_{id}"));
                }
            }
        }
    }
}

fn refusals(operation: &mut Operation) {
    let query = operation
        .parameters
        .iter()
        .flatten()
        .any(|p| matches!(p, RefOr::T(p) if p.parameter_in == ParameterIn::Query));
    // `Some(reads JSON)` for an operation that takes a body.
    let body = operation.request_body.as_ref().map(|b| match b {
        RefOr::T(b) => b.content.contains_key("application/json"),
        RefOr::Ref(_) => false,
    });
    let mut add = |status: &str, description: &str| {
        operation
            .responses
            .responses
            .entry(status.to_owned())
            .or_insert_with(|| RefOr::T(Response::new(description)));
    };
    add(
        "401",
        "No client certificate reached the handler (never on a correctly wired listener).",
    );
    add(
        "403",
        "The certificate is not bound to an active principal of this hub.",
    );
    if query {
        add(
            "400",
            "The query string is malformed or names an unknown parameter.",
        );
    }
    if let Some(json) = body {
        add(
            "400",
            "The body is malformed, or not of the request's shape.",
        );
        add("413", "The body is larger than limits.body_bytes.");
        if json {
            add(
                "415",
                "The body is not declared Content-Type: application/json.",
            );
        }
    }
    add(
        "503",
        "The store is unavailable, or the request ran past limits.request_timeout_secs.",
    );
    let problem = Content::new(Some(Ref::from_schema_name(Problem::name())));
    for (status, response) in &mut operation.responses.responses {
        if let RefOr::T(response) = response
            && (status.starts_with('4') || status.starts_with('5'))
            && response.content.is_empty()
        {
            response
                .content
                .insert(PROBLEM_JSON.to_owned(), RefOr::T(problem.clone()));
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct WhoAmI {
    pub id: String,
    pub kind: PrincipalKind,
    pub name: String,
    pub status: PrincipalStatus,
    pub organisation: OrganisationView,
    pub certificate: CertificateView,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct OrganisationView {
    pub id: String,
    pub name: String,
    pub kind: OrganisationKind,
    pub status: OrganisationStatus,
    /// The STIX identity its objects may name as `created_by_ref`.
    pub stix_identity: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct CertificateView {
    pub fingerprint: String,
    pub serial: String,
    #[serde(with = "time::serde::rfc3339")]
    pub not_after: time::OffsetDateTime,
}

/// This description, OpenAPI 3.1, generated from the handlers and their types; `servers`
/// names the main listener.
#[utoipa::path(
    get,
    path = "/api/v1/openapi.json",
    tag = "meta",
    responses((status = 200, description = "The OpenAPI 3.1 description of this API.",
        content_type = "application/json", body = Object))
)]
async fn openapi(State(state): State<AppState>) -> Json<OpenApi> {
    let mut doc = DOCUMENT.clone();
    doc.servers = Some(vec![Server::new(&*state.taxii_url)]);
    Json(doc)
}

/// The principal the hub sees behind the presented certificate.
#[utoipa::path(
    get,
    path = "/api/v1/whoami",
    tag = "meta",
    responses((status = 200, description = "The caller.", body = WhoAmI))
)]
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
