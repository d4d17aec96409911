//! Issue 12, point 2: every error a TAXII client can meet under `/taxii2/` is a TAXII error
//! message (TAXII 2.1 §3.6.1) with the TAXII media type, whichever layer refused: the router
//! (unknown path, method), content negotiation (406, 415), the body limit, the request
//! timeout, the identity extractor, an extractor's rejection, the handlers. The REST API's
//! stay problem+json.

use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use hyper::body::{Bytes, Frame};
use relais::domain::principal::PrincipalKind;
use relais::pki::ca::ClientUsage;
use reqwest::header::{ACCEPT, ALLOW, CONTENT_TYPE};
use serde_json::Value;

use crate::common::{Credential, HubOptions, spawn_hub_with, subject};

const TAXII: &str = "application/taxii+json;version=2.1";
const PROBLEM: &str = "application/problem+json";
const COMMUNITY: &str = "9cfa669c-ee94-4ece-afd2-f8edac37d8fd";
const LIMIT: usize = 4096;

fn objects_path() -> String {
    format!("/taxii2/api/collections/{COMMUNITY}/objects/")
}

/// Sends `req` and checks that the answer is a TAXII error message of `status`: the media type,
/// `title`, `http_status` as a string, `description` a string if present, nothing else.
async fn assert_taxii_error(what: &str, req: reqwest::RequestBuilder, status: u16) -> Value {
    let resp = req.send().await.unwrap_or_else(|e| panic!("{what}: {e}"));
    assert_eq!(resp.status().as_u16(), status, "{what}");
    assert_eq!(
        resp.headers()
            .get(CONTENT_TYPE)
            .map(|v| v.to_str().unwrap()),
        Some(TAXII),
        "{what}"
    );
    let body: Value = resp.json().await.unwrap_or_else(|e| panic!("{what}: {e}"));
    let fields = body.as_object().unwrap_or_else(|| panic!("{what}: {body}"));
    assert!(
        fields
            .keys()
            .all(|k| ["title", "description", "http_status"].contains(&k.as_str())),
        "{what}: {body}"
    );
    assert!(
        body["title"].as_str().is_some_and(|t| !t.is_empty()),
        "{what}: {body}"
    );
    assert_eq!(body["http_status"], status.to_string(), "{what}: {body}");
    assert!(
        body.get("description").is_none_or(Value::is_string),
        "{what}: {body}"
    );
    body
}

/// One frame of `x`, then nothing for `stall`, then the end: a client slower than the
/// request timeout.
struct Stalling {
    sent: bool,
    stall: Pin<Box<tokio::time::Sleep>>,
}

impl hyper::body::Body for Stalling {
    type Data = Bytes;
    type Error = std::convert::Infallible;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Self::Error>>> {
        if !self.sent {
            self.sent = true;
            return Poll::Ready(Some(Ok(Frame::data(Bytes::from_static(b"{")))));
        }
        self.stall.as_mut().poll(cx).map(|()| None)
    }
}

/// An envelope nested deeper than the strict reader allows.
fn too_deep() -> Vec<u8> {
    let depth = 100;
    format!(
        "{{\"objects\":[{}{}]}}",
        "[".repeat(depth),
        "]".repeat(depth)
    )
    .into_bytes()
}

#[tokio::test]
async fn every_taxii_error_is_a_taxii_error_message() {
    let hub = spawn_hub_with(HubOptions {
        tweak: Some(Box::new(|c, _| c.limits.body_bytes = LIMIT)),
        ..Default::default()
    })
    .await;
    let analyst = hub.client("csirt-analyst");
    let provider = hub.client("provider-a");
    let url = |p: &str| hub.url(p);
    let post = |client: &reqwest::Client| {
        client
            .post(url(&objects_path()))
            .header(ACCEPT, TAXII)
            .header(CONTENT_TYPE, TAXII)
    };

    // The router: no such path (under the API root, beside it, the root without its slash).
    for path in ["/taxii2/nope/", "/taxii2/api/nope/", "/taxii2"] {
        assert_taxii_error(path, analyst.get(url(path)).header(ACCEPT, TAXII), 404).await;
    }
    // The router: no such method on a path that exists, with the `Allow` it needs.
    for (what, req, allow) in [
        ("PUT discovery", analyst.put(url("/taxii2/")), "GET,HEAD"),
        (
            "DELETE objects",
            analyst.delete(url(&objects_path())),
            "GET,HEAD,POST",
        ),
    ] {
        let req = req.header(ACCEPT, TAXII);
        let resp = req.try_clone().unwrap().send().await.unwrap();
        assert_eq!(resp.headers()[ALLOW], allow, "{what}");
        assert_taxii_error(what, req, 405).await;
    }
    // Content negotiation.
    assert_taxii_error(
        "Accept: application/json",
        analyst
            .get(url("/taxii2/"))
            .header(ACCEPT, "application/json"),
        406,
    )
    .await;
    assert_taxii_error(
        "POST as application/json",
        analyst
            .post(url(&objects_path()))
            .header(ACCEPT, TAXII)
            .header(CONTENT_TYPE, "application/json")
            .body(r#"{"objects":[]}"#),
        415,
    )
    .await;
    // The body limit, declared or not.
    let body = assert_taxii_error(
        "declared body past the limit",
        post(&analyst).body(vec![b'x'; 4 * LIMIT]),
        413,
    )
    .await;
    assert_eq!(body["description"], format!("the limit is {LIMIT} bytes"));
    assert_taxii_error(
        "unsized body past the limit",
        post(&analyst).body(crate::body_limit::unsized_fill(4 * LIMIT)),
        413,
    )
    .await;
    // The limits of the envelope's reader.
    let body = assert_taxii_error(
        "envelope nested too deep",
        post(&analyst).body(too_deep()),
        400,
    )
    .await;
    assert!(
        body["description"]
            .as_str()
            .unwrap()
            .contains("nesting deeper than"),
        "{body}"
    );
    assert_taxii_error(
        "duplicate keys",
        post(&analyst).body(r#"{"objects":[],"objects":[]}"#),
        400,
    )
    .await;
    // Path and query.
    assert_taxii_error(
        "undecodable path",
        analyst
            .get(url("/taxii2/api/collections/%FF/objects/"))
            .header(ACCEPT, TAXII),
        400,
    )
    .await;
    assert_taxii_error(
        "unknown parameter",
        analyst
            .get(url(&format!("{}?match[colour]=red", objects_path())))
            .header(ACCEPT, TAXII),
        400,
    )
    .await;
    assert_taxii_error(
        "unknown collection",
        analyst
            .get(url("/taxii2/api/collections/nope/"))
            .header(ACCEPT, TAXII),
        404,
    )
    .await;
    // Who may: a certificate of this CA bound to no one, and a provider writing where only
    // analysts write.
    let unbound = hub.issue_unbound(
        &subject(PrincipalKind::Provider, "Nobody", "stray"),
        ClientUsage::ClientAuth,
        time::Duration::ZERO,
        time::Duration::days(2),
    );
    let stray = hub.client_with(Some(&Credential::from_issued(&unbound)));
    let body = assert_taxii_error(
        "unbound certificate",
        stray.get(url("/taxii2/")).header(ACCEPT, TAXII),
        403,
    )
    .await;
    assert_eq!(body["title"], "Certificate not authorised");
    assert_taxii_error(
        "unbound certificate posting",
        post(&stray).body(r#"{"objects":[]}"#),
        403,
    )
    .await;
    assert_taxii_error(
        "provider writing to the community",
        post(&provider).body(r#"{"objects":[]}"#),
        403,
    )
    .await;

    // The REST API keeps its problem+json for the same refusals.
    for (what, req, status) in [
        ("REST unknown path", analyst.get(url("/api/v1/nope")), 404),
        ("REST method", analyst.delete(url("/api/v1/whoami")), 405),
        (
            "REST body past the limit",
            analyst
                .post(url("/api/v1/iocs"))
                .header(CONTENT_TYPE, "application/json")
                .body(vec![b'x'; 4 * LIMIT]),
            413,
        ),
    ] {
        let resp = req.send().await.unwrap();
        assert_eq!(resp.status().as_u16(), status, "{what}");
        assert_eq!(resp.headers()[CONTENT_TYPE], PROBLEM, "{what}");
        let body: Value = resp.json().await.unwrap();
        assert_eq!(body["status"], status, "{what}");
    }
    hub.shutdown().await;

    // The request timeout, on a hub of its own so that nothing else runs against it.
    let hub = spawn_hub_with(HubOptions {
        tweak: Some(Box::new(|c, _| c.limits.request_timeout_secs = 1)),
        ..Default::default()
    })
    .await;
    let slow = Stalling {
        sent: false,
        stall: Box::pin(tokio::time::sleep(Duration::from_secs(3))),
    };
    let body = assert_taxii_error(
        "request timeout",
        hub.client("csirt-analyst")
            .post(hub.url(&objects_path()))
            .header(ACCEPT, TAXII)
            .header(CONTENT_TYPE, TAXII)
            .body(reqwest::Body::wrap(slow)),
        503,
    )
    .await;
    assert_eq!(body["title"], "Request timed out");
    hub.shutdown().await;
}
