//! `limits.body_bytes` as a client meets it: a body past the limit gets `413` with the
//! documented error body (problem+json on the REST API, the TAXII error message on TAXII),
//! whether it declared its length or came chunked (HTTP/1.1) or as DATA frames without a
//! length (HTTP/2), and whatever the client: one that reads the answer while it sends (curl,
//! hyper), one that sends everything first (Python `requests`, `taxii2-client`), one that
//! waits for `100 Continue`.

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

pub(crate) fn unsized_fill(len: usize) -> reqwest::Body {
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

/// `limits.body_bytes` of the hubs below: small, so that a body several MiB over it is quick.
const SMALL_LIMIT: usize = 256 * 1024;
/// Several MiB over [`SMALL_LIMIT`].
const OVERSIZED: usize = 3 * 1024 * 1024;
const OVERSIZED_SCRIPT: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/tests/python/oversized_post.py"
);

fn small_limit_hub(drain_bytes: Option<u64>) -> HubOptions {
    HubOptions {
        tweak: Some(Box::new(move |c, _| {
            c.limits.body_bytes = SMALL_LIMIT;
            if let Some(bytes) = drain_bytes {
                c.limits.refused_body_drain_bytes = bytes;
            }
        })),
        ..Default::default()
    }
}

fn taxii_413() -> Value {
    serde_json::json!({
        "title": "Request body too large",
        "description": format!("the limit is {SMALL_LIMIT} bytes"),
        "http_status": "413",
    })
}

/// Runs `tests/python/oversized_post.py` with `client` (`requests` or `taxii2-client`) as the
/// analyst, posting `bytes` twice on one session; its JSON summary.
async fn python_oversized_post(
    hub: &TestHub,
    python: &std::path::Path,
    client: &str,
    bytes: usize,
) -> Value {
    let files = hub.demo_files("csirt-analyst");
    let mut cmd = std::process::Command::new(python);
    cmd.arg(OVERSIZED_SCRIPT)
        .arg("--collection-url")
        .arg(hub.url(&format!("/taxii2/api/collections/{COMMUNITY}/")))
        .arg("--ca")
        .arg(hub.ca_path())
        .arg("--cert")
        .arg(&files.cert)
        .arg("--key")
        .arg(&files.key)
        .arg("--bytes")
        .arg(bytes.to_string())
        .arg("--client")
        .arg(client)
        .env("NO_PROXY", "*");
    // The hub serves on this runtime: wait for the child off it.
    let out = tokio::task::spawn_blocking(move || cmd.output())
        .await
        .unwrap()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{client}: {}\n{stdout}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_str(&stdout).unwrap_or_else(|e| panic!("{client}: {e}: {stdout}"))
}

/// What curl read: status, content type, body, and its verbose trace.
struct CurlAnswer {
    status: u16,
    content_type: String,
    body: Value,
    trace: String,
}

/// curl POSTs `file` to the TAXII objects endpoint as the analyst, with `args` (`--http1.1`,
/// `--http2`, `-H 'Expect:'`…).
/// curl's exit status when the connection closed while it was still sending.
const SEND_FAILURE: i32 = 55;

/// `Err(trace)` when curl could not finish sending: the hub closed the connection on a body
/// past its drain bound before curl read the answer.
async fn curl_post(
    hub: &TestHub,
    file: &std::path::Path,
    args: &[&str],
) -> Result<CurlAnswer, String> {
    let (cert, key) = hub
        .demo("csirt-analyst")
        .write_to(hub.data_dir(), "curl-analyst");
    let out_file = hub
        .data_dir()
        .join(format!("curl-out-{}", uuid::Uuid::new_v4()));
    let mut cmd = std::process::Command::new("curl");
    cmd.args(["-sS", "-v", "-o"])
        .arg(&out_file)
        .args(["-w", "%{http_code} %{content_type}", "--cacert"])
        .arg(hub.ca_path())
        .arg("--cert")
        .arg(&cert)
        .arg("--key")
        .arg(&key)
        .args(args)
        .args(["-H", &format!("Content-Type: {TAXII}")])
        .args(["-H", &format!("Accept: {TAXII}")])
        .arg("--data-binary")
        .arg(format!("@{}", file.display()))
        .arg(hub.url(&format!("/taxii2/api/collections/{COMMUNITY}/objects/")));
    let what = format!("curl {args:?}");
    let out = tokio::task::spawn_blocking(move || cmd.output())
        .await
        .unwrap()
        .unwrap();
    let trace = String::from_utf8_lossy(&out.stderr).into_owned();
    if out.status.code() == Some(SEND_FAILURE) {
        return Err(trace);
    }
    assert!(out.status.success(), "{what} failed:\n{trace}");
    let written = String::from_utf8(out.stdout).unwrap();
    let (status, content_type) = written.split_once(' ').unwrap();
    let body = serde_json::from_slice(&std::fs::read(&out_file).unwrap())
        .unwrap_or_else(|e| panic!("{what}: the body is not JSON ({e}):\n{trace}"));
    Ok(CurlAnswer {
        status: status.parse().unwrap(),
        content_type: content_type.to_owned(),
        body,
        trace,
    })
}

/// Issue 12, point 1: a client that sends its whole body before it reads (Python `requests`,
/// and so `taxii2-client`) met a reset instead of its 413 once the body was a few MiB over the
/// limit, and curl over HTTP/2 a stream error. Every client reads the 413 and its TAXII error
/// body, the connection is kept after a body read to its end, and a client waiting for
/// `100 Continue` is answered without being invited to send.
#[tokio::test]
async fn oversized_post_gets_its_413_with_requests_and_curl_http1_and_http2() {
    let hub = spawn_hub_with(small_limit_hub(None)).await;

    // hyper's own client, declared and unsized, over both versions.
    for (version, client) in [
        ("HTTP/2", hub.client("csirt-analyst")),
        ("HTTP/1.1", http1_client(&hub, "csirt-analyst")),
    ] {
        for chunked in [false, true] {
            let body = if chunked {
                unsized_fill(OVERSIZED)
            } else {
                vec![b'x'; OVERSIZED].into()
            };
            let got = answer(taxii_post(&client, &hub).body(body)).await;
            assert_eq!(
                got,
                (413, TAXII.into(), taxii_413()),
                "{version}, without a length: {chunked}"
            );
        }
        // The connection (or its pool) still serves.
        let (status, _, _) = answer(client.get(hub.url("/taxii2/")).header(ACCEPT, TAXII)).await;
        assert_eq!(status, 200, "{version}");
    }

    match crate::python_clients::python() {
        None => {}
        Some(python) => {
            for client in ["requests", "taxii2-client"] {
                let summary = python_oversized_post(&hub, &python, client, OVERSIZED).await;
                for got in summary["answers"].as_array().unwrap() {
                    assert_eq!(got["status"], 413, "{client}: {summary}");
                    assert_eq!(got["content_type"], TAXII, "{client}: {summary}");
                    assert_eq!(got["body"], taxii_413(), "{client}: {summary}");
                    // Read to its end, the body leaves the connection open.
                    assert_eq!(got["connection"], Value::Null, "{client}: {summary}");
                }
                assert_eq!(summary["after"], 200, "{client}: {summary}");
                assert_eq!(
                    summary["connections"], 1,
                    "{client}: two refused posts and a read on one connection: {summary}"
                );
            }
        }
    }

    if have("curl") {
        let big = hub.data_dir().join("oversized.json");
        std::fs::write(&big, vec![b'x'; OVERSIZED]).unwrap();
        for args in [
            &["--http1.1", "-H", "Expect:"][..],
            &[
                "--http1.1",
                "-H",
                "Expect:",
                "-H",
                "Transfer-Encoding: chunked",
            ],
            &["--http1.1"],
            &["--http2"],
        ] {
            let got = curl_post(&hub, &big, args)
                .await
                .unwrap_or_else(|trace| panic!("curl {args:?} could not send:\n{trace}"));
            assert_eq!(
                (got.status, got.content_type.as_str(), &got.body),
                (413, TAXII, &taxii_413()),
                "curl {args:?}:\n{}",
                got.trace
            );
            if args == ["--http1.1"] {
                // curl asks for 100 Continue with a body this large: answered without it,
                // and told the connection closes, since the body it holds back is not read.
                assert!(
                    got.trace.contains("> Expect: 100-continue"),
                    "{}",
                    got.trace
                );
                assert!(!got.trace.contains("< HTTP/1.1 100"), "{}", got.trace);
                assert!(got.trace.contains("< connection: close"), "{}", got.trace);
            }
            if args == ["--http2"] {
                assert!(got.trace.contains("< HTTP/2 413"), "{}", got.trace);
            }
        }
    }
    hub.shutdown().await;
}

/// Issue 12, point 1: past `limits.refused_body_drain_bytes` the rest of a refused body is not
/// read. The 413 is sent first; the HTTP/1.1 connection is then closed, which a client still
/// sending may meet before it reads the answer, and the HTTP/2 stream is reset with
/// `NO_ERROR`. Either way the hub goes on serving, on the same HTTP/2 connection too.
#[tokio::test]
async fn a_body_past_the_drain_bound_is_cut_and_the_hub_stays_healthy() {
    let hub = spawn_hub_with(small_limit_hub(Some(1024 * 1024))).await;

    // hyper's client reads the 413 while it sends, and stops at the reset.
    let h2 = hub.client("csirt-analyst");
    for _ in 0..3 {
        let got = answer(taxii_post(&h2, &hub).body(unsized_fill(OVERSIZED))).await;
        assert_eq!(got, (413, TAXII.into(), taxii_413()));
    }
    let (status, _, _) = answer(h2.get(hub.url("/taxii2/")).header(ACCEPT, TAXII)).await;
    assert_eq!(status, 200);

    // A declared length past the bound is not read at all: the answer says so.
    let h1 = http1_client(&hub, "csirt-analyst");
    let resp = taxii_post(&h1, &hub)
        .body(vec![b'x'; OVERSIZED])
        .send()
        .await;
    if let Ok(resp) = resp {
        assert_eq!(resp.status(), 413);
        assert_eq!(resp.headers()["connection"], "close");
    }

    if let Some(python) = crate::python_clients::python() {
        // Sent whole before it is read, the 413 may be lost with the connection: what the
        // client gets is the 413 or a connection error, never a hang or another answer.
        let summary = python_oversized_post(&hub, &python, "requests", OVERSIZED).await;
        for got in summary["answers"].as_array().unwrap() {
            assert!(
                got["error"].is_string() || got["body"] == taxii_413(),
                "{summary}"
            );
        }
        assert_eq!(summary["after"], 200, "{summary}");
    }

    if have("curl") {
        // curl reads the answer while it sends, and stops; over HTTP/1.1 the close can reach
        // it while it is still writing (as with `requests` above): then a send failure, never
        // another answer or a hang. HTTP/2 has a stream to reset and always reads the 413.
        let big = hub.data_dir().join("oversized.json");
        std::fs::write(&big, vec![b'x'; OVERSIZED]).unwrap();
        for args in [&["--http1.1", "-H", "Expect:"][..], &["--http2"]] {
            let got = match curl_post(&hub, &big, args).await {
                Ok(got) => got,
                Err(trace) if args[0] == "--http1.1" => {
                    assert!(trace.contains("Send failure"), "{args:?}:\n{trace}");
                    continue;
                }
                Err(trace) => panic!("curl {args:?} could not send:\n{trace}"),
            };
            assert_eq!(
                (got.status, &got.body),
                (413, &taxii_413()),
                "{args:?}:\n{}",
                got.trace
            );
        }
    }
    let (status, _, _) = answer(
        hub.client("provider-a")
            .get(hub.url("/taxii2/"))
            .header(ACCEPT, TAXII),
    )
    .await;
    assert_eq!(status, 200);
    hub.shutdown().await;
}
