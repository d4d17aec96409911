//! `GET /api/v1/exports/blocklist?format=txt|csv`: values ready for a firewall or an EDR.

use axum::extract::{Query, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use utoipa::{IntoParams, ToSchema};

use crate::http::AppState;
use crate::http::error::ApiError;
use crate::http::identity::AnyPrincipal;
use crate::services::export::{csv, text};
use crate::services::share::ShareError;

/// `txt`: one value a line; `csv`: values with their type and markings.
#[derive(Debug, Default, Deserialize, PartialEq, Eq, Clone, Copy, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum Format {
    #[default]
    Txt,
    Csv,
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct Params {
    #[serde(default)]
    #[param(inline)]
    format: Format,
}

/// The values the caller may export to its firewalls or EDRs: PAP:CLEAR and PAP:GREEN
/// material it may read.
#[utoipa::path(
    get,
    path = "/api/v1/exports/blocklist",
    tag = "exports",
    params(Params),
    responses(
        (status = 200, description = "The block list.",
            content(
                (String = "text/plain; charset=utf-8"),
                (String = "text/csv; charset=utf-8"),
            )),
        (status = 400, description = "format is txt or csv."),
    )
)]
pub async fn blocklist(
    AnyPrincipal(caller): AnyPrincipal,
    State(state): State<AppState>,
    params: Result<Query<Params>, axum::extract::rejection::QueryRejection>,
) -> Result<Response, ApiError> {
    let Query(params) = params.map_err(|_| ApiError::BadRequest("format is txt or csv".into()))?;
    let rows = state
        .sharing()
        .blocklist(&caller, state.clock.now())
        .await
        .map_err(|e| match e {
            ShareError::Store(s) => crate::http::error::storage(s),
            other => ApiError::Internal(Box::new(other)),
        })?;
    Ok(match params.format {
        Format::Txt => (
            [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
            text(&rows),
        )
            .into_response(),
        Format::Csv => (
            [(header::CONTENT_TYPE, "text/csv; charset=utf-8")],
            csv(&rows).map_err(|e| ApiError::Internal(Box::new(e)))?,
        )
            .into_response(),
    })
}
