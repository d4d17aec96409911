//! The public listener: no client certificate. Health, the provider directory, badge checks,
//! the satisfaction survey and the beneficiary's choice of provider (whose links carry a
//! signed single-use token); nothing that depends on who is asking.

mod badge;
mod choose;
mod directory;
mod message;
mod survey;

use axum::Json;
use axum::Router;
use axum::extract::State;
use axum::routing::get;
use serde::Serialize;

use super::AppState;
use super::error::ApiError;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/health", get(health))
        .route("/directory", get(directory::html))
        .route("/directory.json", get(directory::json))
        .route("/survey", get(survey::form).post(survey::answer))
        .route("/choose", get(choose::form).post(choose::answer))
        .route("/badge/verify", get(badge::form).post(badge::verify))
        .route("/badges/{id}", get(badge::by_id))
}

#[derive(Debug, Serialize)]
struct Health {
    status: &'static str,
    version: &'static str,
}

/// Ready when the database answers.
async fn health(State(state): State<AppState>) -> Result<Json<Health>, ApiError> {
    state
        .services
        .ping()
        .await
        .map_err(crate::http::error::storage)?;
    Ok(Json(Health {
        status: "ok",
        version: env!("CARGO_PKG_VERSION"),
    }))
}
