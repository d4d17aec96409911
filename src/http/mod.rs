//! HTTP edge: routers, request context, error mapping. No SQL and no policy decisions here.

pub mod api;
pub mod audit;
mod body_limit;
mod drain;
pub mod error;
pub mod identity;
pub mod page;
pub mod public;
pub mod refused;
pub mod server;
pub mod taxii;
pub mod tls;

use std::time::{Duration, Instant};

use axum::Router;
use axum::extract::{Request, State};
use axum::http::{HeaderValue, Uri, Version, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use tracing::Instrument;

use std::sync::Arc;

use crate::clock::SharedClock;
use crate::config::Limits;
use crate::services::Services;
use error::ApiError;
use server::ConnectionInfo;

#[derive(Debug, Clone)]
pub struct AppState {
    /// The use-cases: what handlers call. They hold the store; the edge never does.
    pub services: Arc<Services>,
    pub clock: SharedClock,
    pub limits: Limits,
    /// `https://HOST:PORT` of the public listener, for links sent to people without a
    /// certificate (survey, badge check).
    pub public_url: Arc<str>,
    /// `https://HOST:PORT` of the main listener as TAXII clients reach it (`taxii.public_url`
    /// or derived from the bound port), on which discovery builds its absolute URLs.
    pub taxii_url: Arc<str>,
}

impl AppState {
    /// The read side of the sharing services, for one request.
    pub fn sharing(&self) -> crate::services::share::Sharing<'_> {
        self.services.sharing()
    }

    /// The provider registry, for one request.
    pub fn registry(&self) -> crate::services::registry::Registry<'_> {
        self.services.registry()
    }

    /// The write side, for one request.
    pub fn ingest(&self) -> crate::services::ingest::Ingest<'_> {
        self.services.ingest()
    }
}

/// Routes of the main (mTLS) listener.
pub fn main_router(state: AppState) -> Router {
    with_request_context(
        api::router()
            .merge(taxii::router())
            // Set on the routes above, so it must follow them.
            .method_not_allowed_fallback(method_not_allowed)
            .fallback(not_found)
            .layer(middleware::from_fn_with_state(
                state.clone(),
                audit::record_denials,
            )),
        state,
    )
}

/// Routes of the public listener.
pub fn public_router(state: AppState) -> Router {
    with_request_context(
        public::router()
            .method_not_allowed_fallback(method_not_allowed)
            .fallback(not_found),
        state,
    )
}

fn with_request_context(router: Router<AppState>, state: AppState) -> Router {
    router
        .layer(middleware::from_fn_with_state(
            state.clone(),
            request_context,
        ))
        .with_state(state)
}

async fn not_found(uri: Uri) -> Response {
    refuse(uri.path(), ApiError::NotFound)
}

/// axum adds the `Allow` header to what this returns.
async fn method_not_allowed(uri: Uri) -> Response {
    refuse(uri.path(), ApiError::MethodNotAllowed)
}

/// A refusal made outside the handlers of an API (before routing, by the router, by a layer
/// around every route), in the error body of the API the path belongs to: problem+json, or the
/// TAXII error message under `/taxii2/`.
pub(crate) fn refuse(path: &str, error: ApiError) -> Response {
    if taxii::serves(path) {
        taxii::TaxiiError::from(error).into_response()
    } else {
        error.into_response()
    }
}

/// One span per request with a fresh request id (also returned as `X-Request-Id`) and, once
/// resolved, the principal id; the body limit and the request timeout are applied here so that
/// their refusals have the error body of the API, like every other error, and a body left
/// unread by the answer is drained after it (`drain`).
async fn request_context(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let request_id = uuid::Uuid::new_v4().to_string();
    let remote = req
        .extensions()
        .get::<ConnectionInfo>()
        .map(|c| c.remote.to_string())
        .unwrap_or_default();
    let span = tracing::info_span!(
        "request",
        request_id = %request_id,
        method = %req.method(),
        path = %req.uri().path(),
        %remote,
        principal = tracing::field::Empty,
        status = tracing::field::Empty,
        latency_ms = tracing::field::Empty,
    );
    let started = Instant::now();
    let limits = state.limits.clone();
    let path = req.uri().path().to_owned();
    let version = req.version();
    let (req, unread) = drain::watch(req, drain::DrainLimits::from(&limits));
    let mut response = async move {
        // Reading an unsized body counts against the request's time, like the handler.
        let served =
            tokio::time::timeout(Duration::from_secs(limits.request_timeout_secs), async {
                match body_limit::apply(req, limits.body_bytes).await {
                    Ok(req) => next.run(req).await,
                    Err(refusal) => refuse(&path, refusal),
                }
            })
            .await;
        served.unwrap_or_else(|_| {
            refuse(
                &path,
                ApiError::Timeout {
                    secs: limits.request_timeout_secs,
                },
            )
        })
    }
    .instrument(span.clone())
    .await;
    span.record("status", response.status().as_u16());
    span.record("latency_ms", started.elapsed().as_millis() as u64);
    span.in_scope(|| tracing::info!("request served"));
    if let Ok(value) = HeaderValue::from_str(&request_id) {
        response.headers_mut().insert("x-request-id", value);
    }
    // HTTP/2 has no such header: h2 resets the stream instead.
    if unread.left() && version < Version::HTTP_2 {
        response
            .headers_mut()
            .insert(header::CONNECTION, HeaderValue::from_static("close"));
    }
    response
}
