//! Limits, protocol versions and shutdown, as a client meets them.

use std::time::Duration;

use tokio::io::AsyncReadExt;

use crate::common::{HubOptions, spawn_hub, spawn_hub_with};

#[tokio::test]
async fn body_over_the_limit_is_413_problem_json() {
    let hub = spawn_hub_with(HubOptions {
        tweak: Some(Box::new(|c, _| c.limits.body_bytes = 1024)),
        ..Default::default()
    })
    .await;
    let resp = hub
        .client("provider-a")
        .post(hub.url("/api/v1/whoami"))
        .body(vec![b'x'; 4096])
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 413);
    assert_eq!(resp.headers()["content-type"], "application/problem+json");
    let body: serde_json::Value = resp.json().await.unwrap();
    assert_eq!(body["detail"], "the limit is 1024 bytes");
    hub.shutdown().await;
}

#[tokio::test]
async fn oversized_headers_are_refused() {
    let hub = spawn_hub().await;
    let big = "a".repeat(hub.config.limits.header_bytes + 1024);
    // HTTP/1.1: 431 from the server.
    let http1 = reqwest::Client::builder()
        .tls_backend_preconfigured(tls_for(&hub, "provider-a", &[b"http/1.1"]))
        .build()
        .unwrap();
    let resp = http1
        .get(hub.url("/api/v1/whoami"))
        .header("x-padding", &big)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 431);
    // HTTP/2: the stream is refused one way or another, never served.
    let served = hub
        .client("provider-a")
        .get(hub.url("/api/v1/whoami"))
        .header("x-padding", &big)
        .send()
        .await
        .map(|r| r.status().is_success())
        .unwrap_or(false);
    assert!(!served);
    hub.shutdown().await;
}

fn tls_for(hub: &crate::common::TestHub, demo: &str, alpn: &[&[u8]]) -> rustls::ClientConfig {
    use rustls_pki_types::pem::PemObject;
    let cred = hub.demo(demo);
    let chain = rustls_pki_types::CertificateDer::pem_slice_iter(cred.cert_pem.as_bytes())
        .collect::<Result<Vec<_>, _>>()
        .unwrap();
    let key = rustls_pki_types::PrivateKeyDer::from_pem_slice(cred.key_pem.as_bytes()).unwrap();
    let roots = relais::pki::certificate::read_pem_certificates(&hub.ca_path()).unwrap();
    let mut config = relais::http::tls::client_config(&roots, Some((chain, key))).unwrap();
    config.alpn_protocols = alpn.iter().map(|p| p.to_vec()).collect();
    config
}

#[tokio::test]
async fn tls_1_2_clients_are_served() {
    use rustls_pki_types::pem::PemObject;
    let hub = spawn_hub().await;
    let cred = hub.demo("csirt-analyst");
    let chain = rustls_pki_types::CertificateDer::pem_slice_iter(cred.cert_pem.as_bytes())
        .collect::<Result<Vec<_>, _>>()
        .unwrap();
    let key = rustls_pki_types::PrivateKeyDer::from_pem_slice(cred.key_pem.as_bytes()).unwrap();
    let mut roots = rustls::RootCertStore::empty();
    for ca in relais::pki::certificate::read_pem_certificates(&hub.ca_path()).unwrap() {
        roots.add(ca).unwrap();
    }
    let config = rustls::ClientConfig::builder_with_provider(relais::http::tls::provider())
        .with_protocol_versions(&[&rustls::version::TLS12])
        .unwrap()
        .with_root_certificates(roots)
        .with_client_auth_cert(chain, key)
        .unwrap();
    let client = reqwest::Client::builder()
        .tls_backend_preconfigured(config)
        .build()
        .unwrap();
    let resp = client.get(hub.url("/api/v1/whoami")).send().await.unwrap();
    assert_eq!(resp.status(), 200);
    hub.shutdown().await;
}

#[tokio::test]
async fn silent_clients_are_dropped_after_the_handshake_timeout() {
    let hub = spawn_hub_with(HubOptions {
        tweak: Some(Box::new(|c, _| c.limits.handshake_timeout_secs = 1)),
        ..Default::default()
    })
    .await;
    let mut tcp = tokio::net::TcpStream::connect(hub.main).await.unwrap();
    let mut buf = [0u8; 16];
    let read = tokio::time::timeout(Duration::from_secs(5), tcp.read(&mut buf))
        .await
        .expect("the hub closes the connection within the handshake timeout");
    assert!(
        matches!(read, Ok(0) | Err(_)),
        "connection closed: {read:?}"
    );
    hub.shutdown().await;
}

#[tokio::test]
async fn shutdown_drains_and_stops_listening() {
    let hub = spawn_hub().await;
    let client = hub.client("provider-b");
    assert_eq!(
        client
            .get(hub.url("/api/v1/whoami"))
            .send()
            .await
            .unwrap()
            .status(),
        200
    );
    let main = hub.main;
    let started = std::time::Instant::now();
    // The kept-alive connection above is still open: shutdown must close it gracefully.
    hub.shutdown().await;
    assert!(started.elapsed() < Duration::from_secs(10));
    assert!(tokio::net::TcpStream::connect(main).await.is_err());
}
