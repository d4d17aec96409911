//! `limits.body_bytes` as a client meets it: a body past the limit gets `413` with the
//! documented error body (problem+json on the REST API, the TAXII error message on TAXII),
//! whether it declared its length or came chunked (HTTP/1.1) or as DATA frames without a
//! length (HTTP/2).

use std::pin::Pin;
use std::task::{Context, Poll};

use hyper::body::{Bytes, Frame};
use reqwest::header::{ACCEPT, CONTENT_TYPE};
use serde_json::Value;

use crate::common::{HubOptions, TestHub, have, spawn_hub_with};

const LIMIT: usize = 1024;
const TAXII: &str = "application/taxii+json;version=2.1";
const COMMUNITY: &str = "9cfa669c-ee94-4ece-afd2-f8edac37d8fd";

/// `left` frames of `chunk`, of unknown length: reqwest sends them chunked (HTTP/1.1) or as
/// DATA frames without content-length (HTTP/2).
struct Unsized {
    chunk: Vec<u8>,
    left: usize,
}

fn unsized_body(content: &[u8]) -> reqwest::Body {
    reqwest::Body::wrap(Unsized {
        chunk: content.to_vec(),
        left: 1,
    })
}

fn unsized_fill(len: usize) -> reqwest::Body {
    reqwest::Body::wrap(Unsized {
        chunk: vec![b'x'; 256],
        left: len.div_ceil(256),
    })
}

impl hyper::body::Body for Unsized {
    type Data = Bytes;
    type Error = std::convert::Infallible;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        _: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Self::Error>>> {
        if self.left == 0 {
            return Poll::Ready(None);
        }
        self.left -= 1;
        Poll::Ready(Some(Ok(Frame::data(Bytes::from(self.chunk.clone())))))
    }
}

fn http1_client(hub: &TestHub, demo: &str) -> reqwest::Client {
    use rustls_pki_types::pem::PemObject;
    let cred = hub.demo(demo);
    let chain = rustls_pki_types::CertificateDer::pem_slice_iter(cred.cert_pem.as_bytes())
        .collect::<Result<Vec<_>, _>>()
        .unwrap();
    let key = rustls_pki_types::PrivateKeyDer::from_pem_slice(cred.key_pem.as_bytes()).unwrap();
    let roots = relais::pki::certificate::read_pem_certificates(&hub.ca_path()).unwrap();
    let mut config = relais::http::tls::client_config(&roots, Some((chain, key))).unwrap();
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    reqwest::Client::builder()
        .tls_backend_preconfigured(config)
        .build()
        .unwrap()
}

/// One request's answer: status, content type, body.
async fn answer(req: reqwest::RequestBuilder) -> (u16, String, Value) {
    let resp = req.send().await.unwrap();
    let status = resp.status().as_u16();
    let content_type = resp.headers()[CONTENT_TYPE].to_str().unwrap().to_owned();
    let body = resp.json().await.unwrap();
    (status, content_type, body)
}

fn taxii_post(client: &reqwest::Client, hub: &TestHub) -> reqwest::RequestBuilder {
    client
        .post(hub.url(&format!("/taxii2/api/collections/{COMMUNITY}/objects/")))
        .header(ACCEPT, TAXII)
        .header(CONTENT_TYPE, TAXII)
}

/// Point 11a of issue 11: a chunked body past the limit got `text/plain` "Failed to buffer the
/// request body". It gets what a declared one gets, on every route, over both HTTP versions.
#[tokio::test]
async fn chunked_body_over_the_limit_is_413_with_the_documented_body() {
    let hub = spawn_hub_with(HubOptions {
        tweak: Some(Box::new(|c, _| c.limits.body_bytes = LIMIT)),
        ..Default::default()
    })
    .await;
    let problem = serde_json::json!({
        "type": "about:blank",
        "title": "Request body too large",
        "status": 413,
        "detail": format!("the limit is {LIMIT} bytes"),
    });
    let taxii_error = serde_json::json!({
        "title": "Request body too large",
        "description": format!("the limit is {LIMIT} bytes"),
        "http_status": "413",
    });
    for (version, analyst, provider) in [
        (
            "HTTP/2",
            hub.client("csirt-analyst"),
            hub.client("provider-a"),
        ),
        (
            "HTTP/1.1",
            http1_client(&hub, "csirt-analyst"),
            http1_client(&hub, "provider-a"),
        ),
    ] {
        let rest = [
            // Read by the strict JSON reader, by the raw-bytes extractor, and not at all.
            analyst
                .post(hub.url("/api/v1/iocs"))
                .header(CONTENT_TYPE, "application/json"),
            analyst.post(hub.url("/api/v1/registry/evidence?name=scan.pdf")),
            provider.post(hub.url("/api/v1/whoami")),
        ];
        for req in rest {
            let declared = req.try_clone().unwrap().body(vec![b'x'; 4 * LIMIT]);
            let got = answer(req.body(unsized_fill(4 * LIMIT))).await;
            assert_eq!(got, answer(declared).await, "{version}");
            assert_eq!(
                got,
                (413, "application/problem+json".into(), problem.clone()),
                "{version}"
            );
        }
        let got = answer(taxii_post(&analyst, &hub).body(unsized_fill(4 * LIMIT))).await;
        let declared = answer(taxii_post(&analyst, &hub).body(vec![b'x'; 4 * LIMIT])).await;
        assert_eq!(got, declared, "{version}");
        assert_eq!(got, (413, TAXII.into(), taxii_error.clone()), "{version}");

        // Under the limit, an unsized body is served as before.
        let (status, _, body) = answer(
            provider
                .post(hub.url("/api/v1/iocs"))
                .header(CONTENT_TYPE, "application/json")
                .body(unsized_body(
                    br#"[{"type": "domain", "value": "chunked.example"}]"#,
                )),
        )
        .await;
        assert_eq!(status, 200, "{version}: {body}");
        // Exactly at the limit is still within it.
        let (status, _, _) = answer(
            analyst
                .post(hub.url("/api/v1/registry/evidence?name=exact.bin"))
                .body(unsized_fill(LIMIT)),
        )
        .await;
        assert_eq!(status, 201, "{version}");
    }

    if have("curl") {
        let big = hub.data_dir().join("bigfile");
        std::fs::write(&big, vec![b'x'; 64 * LIMIT]).unwrap();
        let (cert, key) = hub
            .demo("csirt-analyst")
            .write_to(hub.data_dir(), "curl-analyst");
        let curl = async |path: &str, headers: &[&str]| {
            let out_file = hub.data_dir().join("curl-out");
            let mut cmd = std::process::Command::new("curl");
            cmd.args(["-sS", "--http1.1", "-o"])
                .arg(&out_file)
                .args(["-w", "%{http_code} %{content_type}", "--cacert"])
                .arg(hub.ca_path())
                .arg("--cert")
                .arg(&cert)
                .arg("--key")
                .arg(&key)
                .args(["-H", "Transfer-Encoding: chunked"]);
            for h in headers {
                cmd.args(["-H", h]);
            }
            cmd.arg("--data-binary")
                .arg(format!("@{}", big.display()))
                .arg(hub.url(path));
            // The hub runs on this test's runtime: wait for curl off it.
            let out = tokio::task::spawn_blocking(move || crate::common::succeed(&mut cmd))
                .await
                .unwrap();
            let body: Value = serde_json::from_slice(&std::fs::read(&out_file).unwrap()).unwrap();
            (String::from_utf8(out.stdout).unwrap(), body)
        };
        let (status, body) = curl("/api/v1/iocs", &["Content-Type: application/json"]).await;
        assert_eq!(status, "413 application/problem+json");
        assert_eq!(body, problem);
        let (status, body) = curl("/api/v1/registry/evidence?name=big.pdf", &[]).await;
        assert_eq!(status, "413 application/problem+json");
        assert_eq!(body, problem);
        let (status, body) = curl(
            &format!("/taxii2/api/collections/{COMMUNITY}/objects/"),
            &[
                &format!("Content-Type: {TAXII}"),
                &format!("Accept: {TAXII}"),
            ],
        )
        .await;
        assert_eq!(status, format!("413 {TAXII}"));
        assert_eq!(body, taxii_error);
    }
    hub.shutdown().await;
}
