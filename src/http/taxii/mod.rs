//! TAXII 2.1 (OASIS): discovery, the API root, collections, objects, versions and manifests.
//! Reads only return what the marking rules release to the caller; a hidden object answers
//! exactly like a missing one.

mod error;
mod extract;
mod media;
mod objects;

use axum::Router;
use axum::middleware;
use axum::routing::get;

use super::AppState;
pub use error::TaxiiError;

/// Where the single API root lives.
pub const API_ROOT: &str = "/taxii2/api/";

/// Whether `path` is under the TAXII server, whose errors are TAXII error messages: a client
/// that lost the discovery URL's slash is a TAXII client too.
pub fn serves(path: &str) -> bool {
    path == "/taxii2" || path.starts_with("/taxii2/")
}

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/taxii2/", get(objects::discovery))
        .route(API_ROOT, get(objects::api_root))
        .route("/taxii2/api/collections/", get(objects::collections))
        .route(
            "/taxii2/api/collections/{collection}/",
            get(objects::collection),
        )
        .route(
            "/taxii2/api/collections/{collection}/objects/",
            get(objects::objects).post(objects::add_objects),
        )
        .route(
            "/taxii2/api/collections/{collection}/objects/{object}/",
            get(objects::object).delete(objects::delete_object),
        )
        .route(
            "/taxii2/api/collections/{collection}/objects/{object}/versions/",
            get(objects::versions),
        )
        .route(
            "/taxii2/api/collections/{collection}/manifest/",
            get(objects::manifest),
        )
        .route("/taxii2/api/status/{status}/", get(objects::status))
        .route_layer(middleware::from_fn(media::negotiate))
        // The request-context middleware enforces `limits.body_bytes`; axum's own 2 MiB
        // default would otherwise cut TAXII envelopes below the advertised maximum.
        .layer(axum::extract::DefaultBodyLimit::disable())
}
