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
