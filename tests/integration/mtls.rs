//! Who gets in on the main listener, over real TLS handshakes with real certificates.

use crate::common::relais_test_audit;
use relais::domain::principal::{OrganisationStatus, PrincipalKind, PrincipalStatus};
use relais::pki::ca::ClientUsage;
use relais::pki::{CertificateAuthority, ClientSubject};
use serde_json::Value;
use time::{Duration, OffsetDateTime};

use crate::common::{self, Credential, Db, TestHub, error_chain, spawn_hub, subject, succeed};

async fn whoami(
    hub: &TestHub,
    client: &reqwest::Client,
) -> Result<reqwest::Response, reqwest::Error> {
    client.get(hub.url("/api/v1/whoami")).send().await
}

/// The request fails at the TLS layer, and the chain names the alert the hub sent.
async fn assert_tls_refused(hub: &TestHub, client: &reqwest::Client, alert: &str) {
    let err = whoami(hub, client)
        .await
        .expect_err("the hub must refuse the handshake");
    let chain = error_chain(&err);
    assert!(
        chain.contains(alert),
        "expected a TLS alert {alert}, got: {chain}"
    );
}

/// The handshake succeeds but the registry refuses: 403 problem+json, nothing about why.
async fn assert_forbidden(hub: &TestHub, client: &reqwest::Client) {
    let resp = whoami(hub, client).await.unwrap();
    assert_eq!(resp.status(), 403);
    assert_eq!(
        resp.headers()["content-type"].to_str().unwrap(),
        "application/problem+json"
    );
    let body: Value = resp.json().await.unwrap();
    assert_eq!(body["status"], 403);
    assert_eq!(body["title"], "Certificate not authorised");
    assert!(body.get("id").is_none() && body.get("principal").is_none());
}

async fn demo_principals_resolve(db: Db) {
    let Some(hub) = common::spawn_hub_on(db).await else {
        return;
    };
    for (name, kind, org) in [
        ("csirt-analyst", "analyst", "CSIRT La Réunion"),
        ("provider-a", "provider", "Provider A (demo)"),
        ("provider-b", "provider", "Provider B (demo)"),
        ("partner-csirt", "peer", "Partner CSIRT (demo)"),
    ] {
        let resp = whoami(&hub, &hub.client(name)).await.unwrap();
        assert_eq!(resp.status(), 200, "{name}");
        assert!(resp.headers().contains_key("x-request-id"));
        let body: Value = resp.json().await.unwrap();
        assert_eq!(body["name"], name);
        assert_eq!(body["kind"], kind);
        assert_eq!(body["status"], "active");
        assert_eq!(body["organisation"]["name"], org);
        assert!(body["id"].as_str().unwrap().starts_with("principal--"));
        assert_eq!(
            body["certificate"]["fingerprint"].as_str().unwrap().len(),
            64
        );
    }
    hub.shutdown().await;
}

#[tokio::test]
async fn demo_principals_resolve_on_sqlite() {
    demo_principals_resolve(Db::Sqlite).await;
}

#[tokio::test]
async fn demo_principals_resolve_on_postgres() {
    demo_principals_resolve(Db::Postgres).await;
}

#[tokio::test]
async fn no_client_certificate_is_refused() {
    let hub = spawn_hub().await;
    assert_tls_refused(&hub, &hub.client_with(None), "CertificateRequired").await;
    hub.shutdown().await;
}

#[tokio::test]
async fn certificate_from_another_ca_is_refused_even_if_bound() {
    let hub = spawn_hub().await;
    let now = OffsetDateTime::now_utc();
    let rogue = CertificateAuthority::generate("rogue CA", now, Duration::days(30)).unwrap();
    let issued = rogue
        .issue_client(
            &subject(PrincipalKind::Analyst, "CSIRT La Réunion", "csirt-analyst"),
            ClientUsage::ClientAuth,
            now,
            Duration::days(1),
        )
        .unwrap();
    // Even a binding in the registry does not make the hub trust a foreign CA.
    hub.bind_raw(&issued, "csirt-analyst").await;
    let client = hub.client_with(Some(&Credential::from_issued(&issued)));
    assert_tls_refused(&hub, &client, "UnknownCA").await;
    hub.shutdown().await;
}

#[tokio::test]
async fn expired_certificate_is_refused() {
    let hub = spawn_hub().await;
    let subject = subject(PrincipalKind::Provider, "Provider A (demo)", "old-laptop");
    let issued = hub.issue_unbound(
        &subject,
        ClientUsage::ClientAuth,
        Duration::days(-30),
        Duration::days(2),
    );
    assert!(issued.info.not_after < OffsetDateTime::now_utc());
    let client = hub.client_with(Some(&Credential::from_issued(&issued)));
    assert_tls_refused(&hub, &client, "CertificateExpired").await;
    hub.shutdown().await;
}

#[tokio::test]
async fn certificate_without_client_auth_eku_is_refused() {
    let hub = spawn_hub().await;
    let subject = subject(PrincipalKind::Provider, "Provider A (demo)", "web-server");
    let issued = hub.issue_unbound(
        &subject,
        ClientUsage::ServerOnly,
        Duration::ZERO,
        Duration::days(2),
    );
    let client = hub.client_with(Some(&Credential::from_issued(&issued)));
    // rustls reports the wrong purpose as an unsupported certificate.
    assert_tls_refused(&hub, &client, "UnsupportedCertificate").await;
    hub.shutdown().await;
}

/// Finding 8 of issue 11: webpki takes a certificate without the extendedKeyUsage extension as
/// fit for any purpose. The hub refuses it at the handshake, from its own CA and from a CA in
/// `tls.extra_client_cas` alike, even bound to an active principal.
#[tokio::test]
async fn certificate_without_eku_is_refused_at_the_handshake() {
    let partner_dir = tempfile::tempdir().unwrap();
    let now = OffsetDateTime::now_utc();
    let partner_ca =
        CertificateAuthority::generate("CERT-Partner CA", now, Duration::days(30)).unwrap();
    let partner_ca_path = partner_dir.path().join("partner-ca.pem");
    std::fs::write(&partner_ca_path, partner_ca.cert_pem()).unwrap();
    let for_hub = partner_ca_path.clone();
    let hub = common::spawn_hub_with(common::HubOptions {
        tweak: Some(Box::new(move |c, _| c.tls.extra_client_cas = vec![for_hub])),
        ..Default::default()
    })
    .await;

    let from_hub = hub.issue_unbound(
        &subject(PrincipalKind::Provider, "Provider A (demo)", "no-eku"),
        ClientUsage::NoExtendedKeyUsage,
        Duration::ZERO,
        Duration::days(2),
    );
    let partner_subject = subject(PrincipalKind::Peer, "Partner CSIRT (demo)", "no-eku");
    let from_partner = partner_ca
        .issue_client(
            &partner_subject,
            ClientUsage::NoExtendedKeyUsage,
            now,
            Duration::days(2),
        )
        .unwrap();
    for issued in [&from_hub, &from_partner] {
        // What the finding describes: digitalSignature, and no extendedKeyUsage at all.
        use x509_parser::prelude::{FromDer, X509Certificate};
        let (_, cert) = X509Certificate::from_der(&issued.cert_der).unwrap();
        assert!(cert.extended_key_usage().unwrap().is_none());
        assert!(cert.key_usage().unwrap().unwrap().value.digital_signature());
    }
    // Bound to active principals: only the handshake stands between them and the API.
    hub.bind_raw(&from_hub, "provider-a").await;
    hub.bind_raw(&from_partner, "partner-csirt").await;
    for issued in [&from_hub, &from_partner] {
        let client = hub.client_with(Some(&Credential::from_issued(issued)));
        assert_tls_refused(&hub, &client, "UnsupportedCertificate").await;
    }
    // The partner CA is trusted: with clientAuth, its certificate gets in.
    let with_eku = partner_ca
        .issue_client(
            &partner_subject,
            ClientUsage::ClientAuth,
            now,
            Duration::days(2),
        )
        .unwrap();
    hub.bind_raw(&with_eku, "partner-csirt").await;
    let client = hub.client_with(Some(&Credential::from_issued(&with_eku)));
    assert_eq!(whoami(&hub, &client).await.unwrap().status(), 200);

    // Nor can `relais pki bind` attach one: it applies the listener's checks.
    let (cert, _) = Credential::from_issued(&from_hub).write_to(partner_dir.path(), "no-eku");
    let out = hub
        .cli()
        .args([
            "pki",
            "bind",
            "--kind",
            "provider",
            "--org",
            "Provider A (demo)",
        ])
        .args(["--name", "no-eku-tool", "--cert"])
        .arg(&cert)
        .output()
        .unwrap();
    assert!(
        !out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    hub.shutdown().await;
}

#[tokio::test]
async fn valid_certificate_bound_to_no_principal_gets_nothing() {
    let hub = spawn_hub().await;
    // Same subject as the demo analyst, different key: the name alone identifies nobody.
    let impostor = hub.issue_unbound(
        &subject(PrincipalKind::Analyst, "CSIRT La Réunion", "csirt-analyst"),
        ClientUsage::ClientAuth,
        Duration::ZERO,
        Duration::days(2),
    );
    let client = hub.client_with(Some(&Credential::from_issued(&impostor)));
    assert_forbidden(&hub, &client).await;
    hub.shutdown().await;
}

#[tokio::test]
async fn suspended_principal_and_suspended_organisation_are_refused_without_restart() {
    let hub = spawn_hub().await;
    let credential = hub
        .issue_bound(&subject(
            PrincipalKind::Provider,
            "Provider B (demo)",
            "soc-tool",
        ))
        .await;
    let client = hub.client_with(Some(&credential));
    assert_eq!(whoami(&hub, &client).await.unwrap().status(), 200);

    let principal = hub.principal_named("soc-tool").await;
    let now = OffsetDateTime::now_utc();
    hub.store
        .set_principal_status(
            &principal.id,
            PrincipalStatus::Suspended,
            now,
            &relais_test_audit(),
        )
        .await
        .unwrap();
    // Same kept-alive client: the refusal does not wait for a new connection.
    assert_forbidden(&hub, &client).await;

    hub.store
        .set_principal_status(
            &principal.id,
            PrincipalStatus::Active,
            now,
            &relais_test_audit(),
        )
        .await
        .unwrap();
    assert_eq!(whoami(&hub, &client).await.unwrap().status(), 200);
    hub.store
        .set_organisation_status(
            &principal.organisation_id,
            OrganisationStatus::Suspended,
            now,
            &relais_test_audit(),
        )
        .await
        .unwrap();
    assert_forbidden(&hub, &client).await;
    hub.shutdown().await;
}

#[tokio::test]
async fn revoked_certificate_is_refused_at_the_next_connection() {
    let hub = spawn_hub().await;
    let credential = hub
        .issue_bound(&subject(
            PrincipalKind::Provider,
            "Provider A (demo)",
            "analyst-laptop",
        ))
        .await;
    assert_eq!(
        whoami(&hub, &hub.client_with(Some(&credential)))
            .await
            .unwrap()
            .status(),
        200
    );
    let serial = relais::pki::CertificateInfo::from_der(
        &relais::pki::certificate::read_pem_certificates(
            &credential.write_to(hub.data_dir(), "laptop").0,
        )
        .unwrap()[0],
    )
    .unwrap()
    .serial;

    succeed(hub.cli().args([
        "pki",
        "revoke",
        "--serial",
        &serial,
        "--reason",
        "laptop stolen",
    ]));

    // At once, through the registry, even before the CRL is reloaded.
    assert_forbidden(&hub, &hub.client_with(Some(&credential))).await;
    // Then at the handshake, once the running hub has picked the new CRL from the database.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    loop {
        match whoami(&hub, &hub.client_with(Some(&credential))).await {
            Err(e) if error_chain(&e).contains("CertificateRevoked") => break,
            other => {
                assert!(
                    std::time::Instant::now() < deadline,
                    "CRL not applied within 10 s: {:?}",
                    other.map(|r| r.status())
                );
                tokio::time::sleep(std::time::Duration::from_millis(200)).await;
            }
        }
    }
    // Others are unaffected.
    assert_eq!(
        whoami(&hub, &hub.client("provider-a"))
            .await
            .unwrap()
            .status(),
        200
    );
    hub.shutdown().await;
}

#[tokio::test]
async fn public_listener_needs_no_certificate_and_serves_only_health() {
    let hub = spawn_hub().await;
    let anonymous = hub.client_with(None);
    let resp = anonymous
        .get(hub.public_url("/health"))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    let body: Value = resp.json().await.unwrap();
    assert_eq!(body["status"], "ok");
    // A certificate presented there does not open the API.
    for client in [&anonymous, &hub.client("csirt-analyst")] {
        let resp = client
            .get(hub.public_url("/api/v1/whoami"))
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), 404);
    }
    hub.shutdown().await;
}

#[tokio::test]
async fn unknown_path_is_problem_json() {
    let hub = spawn_hub().await;
    let resp = hub
        .client("provider-a")
        .get(hub.url("/api/v1/nope"))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 404);
    assert_eq!(resp.headers()["content-type"], "application/problem+json");
}

#[tokio::test]
async fn identity_is_the_key_not_the_subject() {
    let hub = spawn_hub().await;
    // A second certificate for provider-a's principal, with a misleading subject, resolves to
    // provider-a because its key is bound to that principal.
    let ca = hub.ca();
    let issued = ca
        .issue_client(
            &ClientSubject {
                kind: PrincipalKind::Analyst,
                organisation: "CSIRT La Réunion".into(),
                name: "csirt-analyst".into(),
            },
            ClientUsage::ClientAuth,
            OffsetDateTime::now_utc(),
            Duration::days(1),
        )
        .unwrap();
    hub.bind_raw(&issued, "provider-a").await;
    let provider_a = hub.principal_named("provider-a").await;
    let body: Value = whoami(
        &hub,
        &hub.client_with(Some(&Credential::from_issued(&issued))),
    )
    .await
    .unwrap()
    .json()
    .await
    .unwrap();
    assert_eq!(body["id"], provider_a.id.as_str());
    assert_eq!(body["kind"], "provider");
    hub.shutdown().await;
}
