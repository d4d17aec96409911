//! A page of one sentence under a title: a refusal, a thank-you, an outage.

use askama::Template;
use axum::http::StatusCode;
use axum::response::Response;

use crate::http::error::ApiError;
use crate::http::page::render;

#[derive(Template)]
#[template(path = "public/message.html")]
struct Message {
    title: &'static str,
    /// `ok` or `ko` (the colours of the base layout), or none.
    class: Option<&'static str>,
    text: &'static str,
}

/// The words are the hub's own (`&'static`): nothing a visitor sent is repeated back.
pub fn message(
    status: StatusCode,
    title: &'static str,
    class: Option<&'static str>,
    text: &'static str,
) -> Result<Response, ApiError> {
    render(status, &Message { title, class, text })
}
