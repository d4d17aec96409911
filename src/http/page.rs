//! HTML pages: askama templates from `templates/` at the crate root, compiled into the binary
//! and checked with it. An `.html` template escapes every value it prints, so a page cannot
//! forget to; `|safe` is for constants of the hub only, each with a comment saying why.
//! The layout every page extends is `templates/base.html`.

use askama::Template;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{Html, IntoResponse, Response};

use super::error::ApiError;

/// `page` rendered whole, then sent with `status`: nothing is sent before rendering has
/// succeeded, so a failure is a plain 500 (through [`ApiError`], which logs it).
pub fn render(status: StatusCode, page: &impl Template) -> Result<Response, ApiError> {
    let mut response = (status, Html(page.render()?)).into_response();
    let headers = response.headers_mut();
    // Inline style only; nothing runs, nothing loads, nothing frames the page.
    headers.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(
            "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; frame-ancestors 'none'",
        ),
    );
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    // Survey and choice pages carry a single-use token in their URL and form: neither a
    // cache nor a referrer may keep it.
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    headers.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    Ok(response)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Template)]
    #[template(source = "<p title=\"{{ text }}\">{{ text }}</p>", ext = "html")]
    struct Probe<'a> {
        text: &'a str,
    }

    #[test]
    fn a_page_is_html_with_its_status_and_a_strict_policy() {
        let response = render(StatusCode::GONE, &Probe { text: "x" }).unwrap();
        assert_eq!(response.status(), StatusCode::GONE);
        let headers = response.headers();
        assert_eq!(headers[header::CONTENT_TYPE], "text/html; charset=utf-8");
        assert_eq!(headers[header::X_CONTENT_TYPE_OPTIONS], "nosniff");
        assert!(
            headers[header::CONTENT_SECURITY_POLICY]
                .to_str()
                .unwrap()
                .starts_with("default-src 'none';")
        );
    }

    #[test]
    fn values_are_escaped_in_text_and_attributes() {
        let html = Probe {
            text: "<script>\"&'",
        }
        .render()
        .unwrap();
        assert!(!html.contains('\'') && !html.contains("<script"), "{html}");
        assert_eq!(html.matches('"').count(), 2, "{html}");
    }
}
