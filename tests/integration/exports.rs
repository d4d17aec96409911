//! The blocklist export over real mTLS: only what the caller may read, only PAP:CLEAR/GREEN,
//! never TLP:RED in bulk, only indicators in force.

use reqwest::header::{ACCEPT, CONTENT_TYPE};

use crate::common::{TestHub, spawn_hub};

const TAXII: &str = "application/taxii+json;version=2.1";
const COMMUNITY: &str = "9cfa669c-ee94-4ece-afd2-f8edac37d8fd";
const SUBMISSIONS: &str = "2f1b3c38-5a4e-4d1f-9a53-6f1e2c7d8b90";
const GREEN: &str = "marking-definition--bab4a63c-aed9-4cf5-a766-dfca5abac2bb";
const AMBER: &str = "marking-definition--55d920b0-5e8b-4f79-9ee9-91f868d9b421";
const RED: &str = "marking-definition--e828b379-4e03-4974-9ac4-e53a884c97c1";
const PAP_CLEAR: &str = "marking-definition--ad15a0cd-55b6-4588-a14c-a66105329b92";
const PAP_GREEN: &str = "marking-definition--c43594d1-4b11-4c59-93ab-1c9b14d53ce9";
const PAP_AMBER: &str = "marking-definition--60f8932b-e51e-4458-b265-a2e8be9a80ab";

fn indicator(n: u32, pattern: &str, markings: &[&str], extra: &str) -> String {
    format!(
        r#"{{"type":"indicator","spec_version":"2.1","id":"indicator--5d0c1f3e-9a2b-4c7d-8e6f-{n:012}","created":"2026-05-01T00:00:00.000Z","modified":"2026-05-01T00:00:00.000Z","pattern":{},"pattern_type":"stix","valid_from":"2026-05-01T00:00:00Z","object_marking_refs":{}{extra}}}"#,
        serde_json::to_string(pattern).unwrap(),
        serde_json::to_string(markings).unwrap()
    )
}

async fn post(hub: &TestHub, who: &str, collection: &str, objects: &[String]) {
    let resp = hub
        .client(who)
        .post(hub.url(&format!("/taxii2/api/collections/{collection}/objects/")))
        .header(ACCEPT, TAXII)
        .header(CONTENT_TYPE, TAXII)
        .body(format!("{{\"objects\":[{}]}}", objects.join(",")))
        .send()
        .await
        .unwrap();
    let report: serde_json::Value = resp.json().await.unwrap();
    assert_eq!(report["failure_count"], 0, "{report}");
}

async fn export(hub: &TestHub, who: &str, format: &str) -> (u16, String, String) {
    let resp = hub
        .client(who)
        .get(hub.url(&format!("/api/v1/exports/blocklist?format={format}")))
        .send()
        .await
        .unwrap();
    let status = resp.status().as_u16();
    let ct = resp.headers()[CONTENT_TYPE].to_str().unwrap().to_owned();
    (status, ct, resp.text().await.unwrap())
}

#[tokio::test]
async fn blocklist_follows_tlp_pap_and_validity() {
    let hub = spawn_hub().await;
    post(&hub, "csirt-analyst", COMMUNITY, &[
        indicator(1, "[ipv4-addr:value = '185.220.101.1']", &[GREEN, PAP_GREEN], ""),
        indicator(2, "[ipv4-addr:value = '185.220.101.2']", &[GREEN, PAP_AMBER], ""),
        indicator(3, "[ipv4-addr:value = '185.220.101.3']", &[GREEN], ""),
        indicator(4, "[domain-name:value = 'c2.example.net'] OR [url:value = 'http://c2.example.net/a,b']", &[GREEN, PAP_CLEAR], ""),
        indicator(5, "[ipv4-addr:value = '185.220.101.5']", &[GREEN, PAP_CLEAR], r#","revoked":true"#),
        indicator(6, "[ipv4-addr:value = '185.220.101.6']", &[GREEN, PAP_CLEAR], r#","valid_until":"2026-06-01T00:00:00Z""#),
        indicator(7, "[file:hashes.'SHA-256' = 'AABBCCDDEEFF00112233445566778899AABBCCDDEEFF00112233445566778899']", &[GREEN, PAP_GREEN], ""),
    ]).await;
    post(
        &hub,
        "provider-a",
        SUBMISSIONS,
        &[
            indicator(
                10,
                "[ipv4-addr:value = '45.153.160.10']",
                &[AMBER, PAP_GREEN],
                "",
            ),
            indicator(
                11,
                "[ipv4-addr:value = '45.153.160.11']",
                &[RED, PAP_CLEAR],
                "",
            ),
        ],
    )
    .await;

    let (status, ct, text) = export(&hub, "provider-b", "txt").await;
    assert_eq!((status, ct.as_str()), (200, "text/plain; charset=utf-8"));
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(
        lines,
        [
            "185.220.101.1",
            "c2.example.net",
            "http://c2.example.net/a,b",
            "aabbccddeeff00112233445566778899aabbccddeeff00112233445566778899"
        ]
    );
    // The producer gets its AMBER submission too, but never its RED one in bulk.
    let (_, _, text) = export(&hub, "provider-a", "txt").await;
    assert!(text.lines().any(|l| l == "45.153.160.10"));
    assert!(!text.contains("45.153.160.11"));
    let (_, _, text) = export(&hub, "provider-b", "txt").await;
    assert!(!text.contains("45.153.160.10"));

    let (status, ct, csv) = export(&hub, "provider-b", "csv").await;
    assert_eq!((status, ct.as_str()), (200, "text/csv; charset=utf-8"));
    let mut rows = csv.split("\r\n");
    assert_eq!(rows.next(), Some("type,value,indicator_id,tlp,pap"));
    assert!(csv.contains("url,\"http://c2.example.net/a,b\",indicator--5d0c1f3e-9a2b-4c7d-8e6f-000000000004,TLP:GREEN,PAP:CLEAR"), "{csv}");

    let (status, ct, _) = export(&hub, "provider-b", "xml").await;
    assert_eq!((status, ct.as_str()), (400, "application/problem+json"));
    hub.shutdown().await;
}

/// Stores an indicator straight through the store, as an object stored before the bound (or
/// under a looser policy) would be: no ingest check on the way in.
async fn store_directly(hub: &TestHub, n: u32, pattern: &str) {
    use relais::domain::markings::release::ObjectAccess;
    use relais::domain::markings::{Pap, Tlp};
    use relais::domain::stix::stored::NewObject;
    let analyst = hub.principal_named("csirt-analyst").await;
    let raw = indicator(n, pattern, &[GREEN, PAP_GREEN], "");
    let id = format!("indicator--5d0c1f3e-9a2b-4c7d-8e6f-{n:012}");
    let object = NewObject {
        collection: COMMUNITY.into(),
        id,
        object_type: "indicator".into(),
        spec_version: "2.1".into(),
        version: relais::domain::stix::stored::version_key(time::macros::datetime!(
            2026-05-01 00:00:00 UTC
        )),
        date_added: time::OffsetDateTime::now_utc(),
        access: ObjectAccess {
            tlp: Tlp::Green,
            pap: Some(Pap::Green),
            producer: analyst.organisation_id.clone(),
            shared_with: Vec::new(),
            recipients: Vec::new(),
            granular: Vec::new(),
            confined: false,
            submission: false,
            origin_peer: None,
        },
        tlp_defaulted: false,
        submitted_by: analyst.id.clone(),
        raw,
        case_id: None,
        refs: Vec::new(),
    };
    hub.store
        .insert_object(&object, &crate::common::relais_test_audit())
        .await
        .unwrap();
}

/// Issue 11, point 7: `0.0.0.0/0` in a stored indicator used to be exported to every
/// provider as a firewall rule. Defence in depth: whatever is stored, nothing too broad
/// leaves.
#[tokio::test]
async fn blocklist_never_exports_networks_wider_than_policy() {
    let hub = spawn_hub().await;
    post(
        &hub,
        "csirt-analyst",
        COMMUNITY,
        &[indicator(
            1,
            "[ipv4-addr:value = '185.220.101.1']",
            &[GREEN, PAP_GREEN],
            "",
        )],
    )
    .await;
    store_directly(
        &hub,
        2,
        "[ipv4-addr:value = '0.0.0.0/0'] OR [ipv4-addr:value IN ('185.0.0.0/8', '198.51.100.9')] \
         OR [ipv6-addr:value = '::/0'] OR [ipv6-addr:value = '::ffff:0.0.0.0/96'] \
         OR [domain-name:value = 'com'] OR [domain-name:value = '*.net'] \
         OR [url:value = 'http://'] OR [url:value = 'https://*.example/']",
    )
    .await;
    // It is stored and readable: only the export holds it back.
    let resp = hub
        .client("provider-b")
        .get(hub.url(&format!(
            "/taxii2/api/collections/{COMMUNITY}/objects/indicator--5d0c1f3e-9a2b-4c7d-8e6f-000000000002/"
        )))
        .header(ACCEPT, TAXII)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    assert!(resp.text().await.unwrap().contains("0.0.0.0/0"));

    let (status, _, text) = export(&hub, "provider-b", "txt").await;
    assert_eq!(status, 200);
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines, ["185.220.101.1", "198.51.100.9"], "{text}");
    let (_, _, csv) = export(&hub, "provider-b", "csv").await;
    assert!(!csv.contains("0.0.0.0/0") && !csv.contains("::/0"), "{csv}");
    assert_eq!(
        csv.split("\r\n").filter(|l| !l.is_empty()).count(),
        3,
        "{csv}"
    );
    hub.shutdown().await;
}

/// The bound comes from `policies/exports.toml`, read at start: a stricter policy refuses
/// more at ingest (TAXII and the IOC API), and holds back what was stored before it.
#[tokio::test]
async fn a_stricter_export_policy_applies_to_ingest_and_to_what_was_stored_before() {
    let hub = crate::common::spawn_hub_with(crate::common::HubOptions {
        tweak: Some(Box::new(|config, dir| {
            let path = dir.join("exports-strict.toml");
            std::fs::write(
                &path,
                "[networks]\nipv4_min_prefix = 24\nipv6_min_prefix = 48\n",
            )
            .unwrap();
            config.policies.exports = path;
        })),
        ..crate::common::HubOptions::default()
    })
    .await;
    let resp = hub
        .client("csirt-analyst")
        .post(hub.url(&format!("/taxii2/api/collections/{COMMUNITY}/objects/")))
        .header(ACCEPT, TAXII)
        .header(CONTENT_TYPE, TAXII)
        .body(format!(
            "{{\"objects\":[{}]}}",
            indicator(
                3,
                "[ipv4-addr:value = '198.51.0.0/16']",
                &[GREEN, PAP_GREEN],
                ""
            )
        ))
        .send()
        .await
        .unwrap();
    let report: serde_json::Value = resp.json().await.unwrap();
    assert_eq!(report["failure_count"], 1, "{report}");
    assert!(
        report["failures"][0]["message"]
            .as_str()
            .unwrap()
            .contains("/16 is wider than /24"),
        "{report}"
    );
    let resp = hub
        .client("provider-a")
        .post(hub.url("/api/v1/iocs"))
        .header(CONTENT_TYPE, "application/json")
        .body(r#"[{"type": "ipv6", "value": "2001:db8::/32"}]"#)
        .send()
        .await
        .unwrap();
    let answer: serde_json::Value = resp.json().await.unwrap();
    assert_eq!(answer["refused"], 1, "{answer}");
    assert!(
        answer["items"][0]["errors"][0]
            .as_str()
            .unwrap()
            .contains("/32 is wider than /48"),
        "{answer}"
    );
    // Stored under the shipped /16 bound, before this policy.
    store_directly(
        &hub,
        4,
        "[ipv4-addr:value IN ('198.51.0.0/16', '198.51.100.0/24', '203.0.113.7')]",
    )
    .await;
    let (_, _, text) = export(&hub, "provider-b", "txt").await;
    assert_eq!(
        text.lines().collect::<Vec<_>>(),
        ["198.51.100.0/24", "203.0.113.7"]
    );
    hub.shutdown().await;
}
