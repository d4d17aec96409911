//! `GET /api/v1/exports/blocklist?format=txt|csv`: values ready for a firewall or an EDR.

use axum::extract::{Query, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;

use crate::http::AppState;
use crate::http::error::ApiError;
use crate::http::identity::AnyPrincipal;
use crate::services::export::BlocklistRow;
use crate::services::share::ShareError;

#[derive(Debug, Default, Deserialize, PartialEq, Eq, Clone, Copy)]
#[serde(rename_all = "lowercase")]
pub enum Format {
    #[default]
    Txt,
    Csv,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Params {
    #[serde(default)]
    format: Format,
}

pub async fn blocklist(
    AnyPrincipal(caller): AnyPrincipal,
    State(state): State<AppState>,
    params: Result<Query<Params>, axum::extract::rejection::QueryRejection>,
) -> Result<Response, ApiError> {
    let Query(params) = params.map_err(|_| ApiError::BadRequest("format is txt or csv".into()))?;
    let sharing = state.sharing();
    let rows = sharing
        .blocklist(&caller, state.clock.now())
        .await
        .map_err(|e| match e {
            ShareError::Store(s) => crate::http::error::storage(s),
            other => ApiError::Internal(Box::new(other)),
        })?;
    Ok(match params.format {
        Format::Txt => (
            [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
            rows.iter()
                .map(|r| format!("{}\n", r.entry.value))
                .collect::<String>(),
        )
            .into_response(),
        Format::Csv => (
            [(header::CONTENT_TYPE, "text/csv; charset=utf-8")],
            csv(&rows),
        )
            .into_response(),
    })
}

/// RFC 4180 CSV. Values are syntax-checked per kind (no commas, quotes or line breaks except
/// in URLs, which are quoted).
fn csv(rows: &[BlocklistRow]) -> String {
    let field = |s: &str| {
        if s.contains([',', '"']) {
            format!("\"{}\"", s.replace('"', "\"\""))
        } else {
            s.to_owned()
        }
    };
    let mut out = String::from("type,value,indicator_id,tlp,pap\r\n");
    for r in rows {
        out.push_str(&format!(
            "{},{},{},{},{}\r\n",
            r.entry.kind,
            field(&r.entry.value),
            r.indicator,
            r.tlp.label(),
            r.pap.label()
        ));
    }
    out
}
