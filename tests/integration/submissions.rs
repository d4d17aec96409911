//! Provider submissions over real mTLS: anonymisation, consent, the triage queue and the IOC
//! API, and a second provider's view of the community with no victim identifier in it.

use reqwest::header::{ACCEPT, CONTENT_TYPE};
use serde_json::{Value, json};

use crate::common::{Db, TestHub, spawn_hub, spawn_hub_on};

const TAXII: &str = "application/taxii+json;version=2.1";
const COMMUNITY: &str = "9cfa669c-ee94-4ece-afd2-f8edac37d8fd";
const SUBMISSIONS: &str = "2f1b3c38-5a4e-4d1f-9a53-6f1e2c7d8b90";
const TLP_GREEN: &str = "marking-definition--bab4a63c-aed9-4cf5-a766-dfca5abac2bb";
const TLP_AMBER: &str = "marking-definition--55d920b0-5e8b-4f79-9ee9-91f868d9b421";

/// What identifies the victim of the test case; none of it may reach another provider.
const VICTIM: [&str; 5] = [
    "victim.re",
    "srv-compta",
    "10.1.2.3",
    "Mairie de Saint-Leu",
    "jdupont",
];

fn indicator(n: u32, pattern: &str, description: &str, tlp: &str) -> Value {
    json!({
        "type": "indicator",
        "spec_version": "2.1",
        "id": format!("indicator--5f0c1d2e-0000-4000-8000-{n:012}"),
        "created": "2026-11-01T10:00:00.000Z",
        "modified": "2026-11-01T10:00:00.000Z",
        "name": format!("indicator {n}"),
        "description": description,
        "pattern": pattern,
        "pattern_type": "stix",
        "valid_from": "2026-11-01T10:00:00Z",
        "object_marking_refs": [tlp]
    })
}

async fn submit(hub: &TestHub, who: &str, case: Option<&str>, objects: &[Value]) -> Value {
    let mut request = hub
        .client(who)
        .post(hub.url(&format!("/taxii2/api/collections/{SUBMISSIONS}/objects/")))
        .header(ACCEPT, TAXII)
        .header(CONTENT_TYPE, TAXII)
        .body(json!({ "objects": objects }).to_string());
    if let Some(case) = case {
        request = request.header("X-Relais-Case", case);
    }
    let resp = request.send().await.unwrap();
    assert_eq!(resp.status().as_u16(), 202);
    resp.json().await.unwrap()
}

async fn api(
    hub: &TestHub,
    who: &str,
    method: reqwest::Method,
    path: &str,
    body: Option<Value>,
) -> (u16, Value) {
    let mut request = hub.client(who).request(method, hub.url(path));
    if let Some(body) = body {
        request = request
            .header(CONTENT_TYPE, "application/json")
            .body(body.to_string());
    }
    let resp = request.send().await.unwrap();
    let status = resp.status().as_u16();
    let text = resp.text().await.unwrap();
    (
        status,
        serde_json::from_str(&text).unwrap_or(Value::String(text)),
    )
}

async fn get(hub: &TestHub, who: &str, path: &str) -> (u16, Value) {
    api(hub, who, reqwest::Method::GET, path, None).await
}

async fn post(hub: &TestHub, who: &str, path: &str, body: Value) -> (u16, Value) {
    api(hub, who, reqwest::Method::POST, path, Some(body)).await
}

async fn open_case(hub: &TestHub, consent: &str) -> String {
    crate::common::handed_case(
        hub,
        crate::common::new_case(&format!("CSIRT-RE-2026-{}", uuid::Uuid::new_v4()), consent),
        "provider-a",
    )
    .await
}

/// Everything `who` can read of the community, as text: every page of objects (all
/// versions), the manifest and the blocklist export.
async fn community_text(hub: &TestHub, who: &str) -> String {
    let mut text = String::new();
    for path in [
        format!("/taxii2/api/collections/{COMMUNITY}/objects/?match[version]=all&limit=1000"),
        format!("/taxii2/api/collections/{COMMUNITY}/manifest/?limit=1000"),
    ] {
        let resp = hub
            .client(who)
            .get(hub.url(&path))
            .header(ACCEPT, TAXII)
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status().as_u16(), 200);
        text.push_str(&resp.text().await.unwrap());
    }
    for format in ["txt", "csv"] {
        let resp = hub
            .client(who)
            .get(hub.url(&format!("/api/v1/exports/blocklist?format={format}")))
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status().as_u16(), 200);
        text.push_str(&resp.text().await.unwrap());
    }
    text
}

fn community_ids(text: &str) -> Vec<String> {
    let mut ids = Vec::new();
    for line in text.split("\"id\":\"").skip(1) {
        if let Some(end) = line.find('"') {
            ids.push(line[..end].to_owned());
        }
    }
    ids
}

#[tokio::test]
async fn submissions_are_anonymised_confined_triaged_and_follow_consent() {
    consent_flow(Db::Sqlite).await;
}

#[tokio::test]
async fn submissions_are_anonymised_confined_triaged_and_follow_consent_on_postgres() {
    consent_flow(Db::Postgres).await;
}

async fn consent_flow(db: Db) {
    let Some(hub) = spawn_hub_on(db).await else {
        return;
    };
    let case = open_case(&hub, "pending").await;

    let status = submit(
        &hub,
        "provider-a",
        Some(&case),
        &[
            // A victim's private address as the indicator itself: refused.
            indicator(1, "[ipv4-addr:value = '10.1.2.3']", "beacon", TLP_GREEN),
            // A public C2 passes; the description names the victim's domain and host.
            indicator(
                2,
                "[ipv4-addr:value = '185.220.101.4']",
                "C2 seen from SRV-COMPTA at victim.re (Mairie de Saint-Leu), dropped in C:\\Users\\jdupont\\AppData\\x.exe",
                TLP_GREEN,
            ),
        ],
    )
    .await;
    assert_eq!(status["failure_count"], 1, "{status}");
    assert_eq!(status["success_count"], 1, "{status}");
    let failure = status["failures"][0]["message"].as_str().unwrap();
    assert!(failure.contains("private_ip"), "{failure}");
    assert!(
        !failure.contains("10.1.2.3"),
        "the refusal echoes no value: {failure}"
    );
    let message = status["successes"][0]["message"].as_str().unwrap();
    assert!(
        message.contains("/description victim_domain redacted")
            && message.contains("victim_hostname pseudonymised"),
        "{message}"
    );

    // Pending: the submitter and the CSIRT see it, another provider does not, even in the
    // submissions collection, and nothing is in the community collection.
    let (_, mine) = get(&hub, "provider-a", "/api/v1/submissions").await;
    assert_eq!(mine.as_array().unwrap().len(), 1, "{mine}");
    let submission = mine[0]["id"].as_str().unwrap().to_owned();
    assert_eq!(mine[0]["status"], "pending");
    let (_, theirs) = get(&hub, "provider-b", "/api/v1/submissions").await;
    assert_eq!(theirs, json!([]));
    let (status, _) = get(
        &hub,
        "provider-b",
        &format!("/api/v1/submissions/{submission}"),
    )
    .await;
    assert_eq!(status, 404);
    let (status, _) = get(&hub, "provider-b", "/api/v1/triage").await;
    assert_eq!(status, 403);
    let seen_by_b = hub
        .client("provider-b")
        .get(hub.url(&format!("/taxii2/api/collections/{SUBMISSIONS}/objects/")))
        .header(ACCEPT, TAXII)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(!seen_by_b.contains("indicator--"), "{seen_by_b}");
    assert!(community_ids(&community_text(&hub, "provider-b").await).is_empty());

    // The analyst sees the anonymised object, the report and the original; the provider its
    // object and report, not the original.
    let (status, item) = get(
        &hub,
        "csirt-analyst",
        &format!("/api/v1/triage/{submission}"),
    )
    .await;
    assert_eq!(status, 200, "{item}");
    let stored = item["object"]["description"].as_str().unwrap();
    assert!(!stored.to_lowercase().contains("victim.re"), "{stored}");
    assert!(!stored.to_lowercase().contains("srv-compta"), "{stored}");
    assert!(stored.contains("anon-"), "{stored}");
    assert_eq!(
        item["object"]["pattern"],
        "[ipv4-addr:value = '185.220.101.4']"
    );
    assert!(
        item["original"]["description"]
            .as_str()
            .unwrap()
            .contains("victim.re")
    );
    assert_eq!(item["consent"], "pending");
    let (_, own) = get(
        &hub,
        "provider-a",
        &format!("/api/v1/submissions/{submission}"),
    )
    .await;
    assert!(own.get("original").is_none(), "{own}");
    assert!(!own["report"].as_array().unwrap().is_empty());

    // No consent yet: publishing is refused. Looser markings are refused.
    let publish = format!("/api/v1/triage/{submission}/publish");
    let (status, problem) = post(&hub, "csirt-analyst", &publish, json!({})).await;
    assert_eq!(status, 409, "{problem}");
    assert!(problem["detail"].as_str().unwrap().contains("consent"));
    let (status, _) = api(
        &hub,
        "csirt-analyst",
        reqwest::Method::PUT,
        &format!("/api/v1/cases/{case}/consent"),
        Some(json!({"consent": "given"})),
    )
    .await;
    assert_eq!(status, 200);
    let (status, _) = post(&hub, "csirt-analyst", &publish, json!({"tlp": "clear"})).await;
    assert_eq!(status, 422);
    let (status, _) = post(&hub, "provider-a", &publish, json!({})).await;
    assert_eq!(status, 403);

    // Published under the CSIRT's identity: provider B reads it, without a trace of the
    // victim or of provider A.
    let (status, published) = post(&hub, "csirt-analyst", &publish, json!({"pap": "green"})).await;
    assert_eq!(status, 200, "{published}");
    let published = published["published"].as_str().unwrap().to_owned();
    assert_ne!(published, "indicator--5f0c1d2e-0000-4000-8000-000000000002");
    let text = community_text(&hub, "provider-b").await;
    assert!(text.contains(&published), "{text}");
    assert!(
        text.contains("185.220.101.4"),
        "the blocklist carries the C2: {text}"
    );
    let provider_a = hub.principal_named("provider-a").await;
    for needle in VICTIM
        .iter()
        .copied()
        .chain([provider_a.organisation_id.as_str(), "Provider A"])
    {
        assert!(
            !text.to_lowercase().contains(&needle.to_lowercase()),
            "{needle} reached provider B: {text}"
        );
    }
    let (status, _) = post(&hub, "csirt-analyst", &publish, json!({})).await;
    assert_eq!(status, 409, "decided once");
    let (_, mine) = get(&hub, "provider-a", "/api/v1/submissions").await;
    assert_eq!(mine[0]["status"], "published");
    let analyst = hub.principal_named("csirt-analyst").await;
    assert_eq!(mine[0]["decided_by"], analyst.id.as_str());

    // Consent withdrawn: gone from the community at once, kept for the CSIRT.
    let (status, moved) = api(
        &hub,
        "csirt-analyst",
        reqwest::Method::PUT,
        &format!("/api/v1/cases/{case}/consent"),
        Some(json!({"consent": "withdrawn"})),
    )
    .await;
    assert_eq!((status, moved["objects_moved"].as_u64()), (200, Some(1)));
    assert!(
        !community_text(&hub, "provider-b")
            .await
            .contains(&published)
    );
    assert!(
        !community_text(&hub, "partner-csirt")
            .await
            .contains(&published)
    );
    assert!(
        community_text(&hub, "csirt-analyst")
            .await
            .contains(&published)
    );
    hub.shutdown().await;
}

#[tokio::test]
async fn the_queue_groups_duplicates_and_decisions_reach_the_provider() {
    queue_flow(Db::Sqlite).await;
}

#[tokio::test]
async fn the_queue_groups_duplicates_and_decisions_reach_the_provider_on_postgres() {
    queue_flow(Db::Postgres).await;
}

async fn queue_flow(db: Db) {
    let Some(hub) = spawn_hub_on(db).await else {
        return;
    };
    let same = "[domain-name:value = 'evil-c2.example']";
    submit(
        &hub,
        "provider-a",
        None,
        &[indicator(10, same, "seen", TLP_AMBER)],
    )
    .await;
    submit(
        &hub,
        "provider-b",
        None,
        &[indicator(11, same, "also seen", TLP_GREEN)],
    )
    .await;
    submit(
        &hub,
        "provider-b",
        None,
        &[indicator(
            12,
            "[domain-name:value = 'other.example']",
            "x",
            TLP_GREEN,
        )],
    )
    .await;

    let (status, queue) = get(&hub, "csirt-analyst", "/api/v1/triage").await;
    assert_eq!(status, 200, "{queue}");
    let items = queue.as_array().unwrap();
    assert_eq!(items.len(), 2, "{queue}");
    assert_eq!(items[0]["sightings"].as_array().unwrap().len(), 2);
    assert_eq!(items[1]["sightings"].as_array().unwrap().len(), 1);
    // Filters.
    let b = hub.principal_named("provider-b").await.organisation_id;
    let (_, only_b) = get(
        &hub,
        "csirt-analyst",
        &format!("/api/v1/triage?provider={}", b.as_str()),
    )
    .await;
    assert_eq!(only_b.as_array().unwrap().len(), 2);
    let (_, amber) = get(&hub, "csirt-analyst", "/api/v1/triage?tlp=amber").await;
    assert_eq!(amber.as_array().unwrap().len(), 1);
    let (_, old) = get(&hub, "csirt-analyst", "/api/v1/triage?older_than=1h").await;
    assert_eq!(old, json!([]));
    let (status, _) = get(&hub, "csirt-analyst", "/api/v1/triage?older_than=soon").await;
    assert_eq!(status, 400);

    // Publish provider A's (no case: no consent needed), merge B's duplicate into it, reject
    // B's other one with a reason B reads.
    let a_item = items[0]["sightings"][0]["id"].as_str().unwrap().to_owned();
    let b_dup = items[0]["sightings"][1]["id"].as_str().unwrap().to_owned();
    let b_other = items[1]["sightings"][0]["id"].as_str().unwrap().to_owned();
    let (status, published) = post(
        &hub,
        "csirt-analyst",
        &format!("/api/v1/triage/{a_item}/publish"),
        json!({"as_csirt": true}),
    )
    .await;
    assert_eq!(status, 200);
    let published = published["published"].as_str().unwrap();
    let (status, _) = post(
        &hub,
        "csirt-analyst",
        &format!("/api/v1/triage/{b_dup}/merge"),
        json!({"into": "indicator--00000000-0000-4000-8000-000000000000"}),
    )
    .await;
    assert_eq!(status, 422, "no such community object");
    let (status, _) = post(
        &hub,
        "csirt-analyst",
        &format!("/api/v1/triage/{b_dup}/merge"),
        json!({"into": published}),
    )
    .await;
    assert_eq!(status, 204);
    let (status, _) = post(
        &hub,
        "csirt-analyst",
        &format!("/api/v1/triage/{b_other}/reject"),
        json!({"reason": " "}),
    )
    .await;
    assert_eq!(status, 400);
    let (status, _) = post(
        &hub,
        "csirt-analyst",
        &format!("/api/v1/triage/{b_other}/reject"),
        json!({"reason": "benign CDN domain"}),
    )
    .await;
    assert_eq!(status, 204);
    let (_, mine) = get(&hub, "provider-b", "/api/v1/submissions").await;
    let statuses: Vec<(&str, Option<&str>)> = mine
        .as_array()
        .unwrap()
        .iter()
        .map(|s| (s["status"].as_str().unwrap(), s["reason"].as_str()))
        .collect();
    assert_eq!(
        statuses,
        [("merged", None), ("rejected", Some("benign CDN domain"))]
    );
    let (_, pending) = get(&hub, "csirt-analyst", "/api/v1/triage").await;
    assert_eq!(pending, json!([]));

    // A published AMBER object stays AMBER: provider B (not the producer) does not read it.
    assert!(!community_text(&hub, "provider-b").await.contains(published));

    // Unless the analyst shares it with B's organisation when publishing.
    submit(
        &hub,
        "provider-a",
        None,
        &[indicator(
            13,
            "[domain-name:value = 'amber.example']",
            "x",
            TLP_AMBER,
        )],
    )
    .await;
    let (_, queue) = get(&hub, "csirt-analyst", "/api/v1/triage").await;
    let item = queue[0]["sightings"][0]["id"].as_str().unwrap().to_owned();
    let (status, problem) = post(
        &hub,
        "csirt-analyst",
        &format!("/api/v1/triage/{item}/publish"),
        json!({"shared_with": ["No Such Org"]}),
    )
    .await;
    assert_eq!(status, 422, "{problem}");
    let (status, shared) = post(
        &hub,
        "csirt-analyst",
        &format!("/api/v1/triage/{item}/publish"),
        json!({"shared_with": ["Provider B (demo)"]}),
    )
    .await;
    assert_eq!(status, 200, "{shared}");
    let shared = shared["published"].as_str().unwrap();
    assert!(community_text(&hub, "provider-b").await.contains(shared));
    assert!(!community_text(&hub, "partner-csirt").await.contains(shared));
    hub.shutdown().await;
}

/// The pseudonym of a victim host, as it appears in a stored description.
async fn pseudonym_of_host(hub: &TestHub, n: u32) -> String {
    let case = open_case(hub, "pending").await;
    submit(
        hub,
        "provider-a",
        Some(&case),
        &[indicator(
            n,
            "[domain-name:value = 'c2.example']",
            "lateral movement from srv-compta",
            TLP_GREEN,
        )],
    )
    .await;
    let (_, mine) = get(hub, "provider-a", "/api/v1/submissions").await;
    let id = mine.as_array().unwrap().last().unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let (_, item) = get(hub, "csirt-analyst", &format!("/api/v1/triage/{id}")).await;
    let description = item["object"]["description"].as_str().unwrap().to_owned();
    let at = description
        .find("anon-")
        .unwrap_or_else(|| panic!("{description}"));
    description[at..]
        .split(|c: char| c.is_whitespace())
        .next()
        .unwrap()
        .to_owned()
}

#[tokio::test]
async fn pseudonyms_are_stable_on_a_hub_and_differ_between_hubs() {
    let hub = spawn_hub().await;
    let first = pseudonym_of_host(&hub, 20).await;
    let second = pseudonym_of_host(&hub, 21).await;
    assert_eq!(first, second);
    let other = spawn_hub().await;
    let elsewhere = pseudonym_of_host(&other, 20).await;
    assert_ne!(first, elsewhere);
    hub.shutdown().await;
    other.shutdown().await;
}

#[tokio::test]
async fn cases_belong_to_their_provider() {
    let hub = spawn_hub().await;
    let case = open_case(&hub, "given").await;
    // Provider B may not name provider A's case: same answer as a missing one.
    for id in [case.as_str(), "case--00000000-0000-4000-8000-000000000000"] {
        let resp = hub
            .client("provider-b")
            .post(hub.url(&format!("/taxii2/api/collections/{SUBMISSIONS}/objects/")))
            .header(ACCEPT, TAXII)
            .header(CONTENT_TYPE, TAXII)
            .header("X-Relais-Case", id)
            .body(json!({"objects": [indicator(30, "[domain-name:value = 'x.example']", "d", TLP_GREEN)]}).to_string())
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status().as_u16(), 404, "{id}");
    }
    let (_, listed) = get(&hub, "provider-b", "/api/v1/cases").await;
    assert_eq!(listed, json!([]));
    let (status, _) = get(&hub, "provider-b", &format!("/api/v1/cases/{case}")).await;
    assert_eq!(status, 404);
    let (status, own) = get(&hub, "provider-a", &format!("/api/v1/cases/{case}")).await;
    assert_eq!(status, 200);
    assert!(own.get("identifiers").is_none(), "{own}");
    let (status, _) = post(&hub, "provider-a", "/api/v1/cases", json!({})).await;
    assert_eq!(status, 400);
    let (status, _) = post(
        &hub,
        "provider-a",
        "/api/v1/cases",
        crate::common::new_case("x", "pending"),
    )
    .await;
    assert_eq!(status, 403);
    hub.shutdown().await;
}

#[tokio::test]
async fn the_ioc_api_converts_items_and_answers_item_by_item() {
    let hub = spawn_hub().await;
    let case = open_case(&hub, "given").await;
    let (status, response) = post(
        &hub,
        "provider-a",
        "/api/v1/iocs",
        json!([
            {"type": "ipv4", "value": "185.220.101.4", "tlp": "green", "pap": "green",
             "description": "C2 of the intrusion at victim.re", "attack_techniques": ["T1071.001"],
             "case": case},
            {"type": "sha256", "value": "not-a-hash"},
            {"type": "ipv4", "value": "10.1.2.3", "tlp": "green", "case": case},
            {"type": "domain", "value": "evil-c2.example", "first_seen": "2026-11-01T08:00:00Z"},
            {"type": "url", "value": "https://evil-c2.example/gate.php", "case": "case--nope"}
        ]),
    )
    .await;
    assert_eq!(status, 200, "{response}");
    assert_eq!(response["accepted"], 2, "{response}");
    assert_eq!(response["refused"], 3, "{response}");
    let items = response["items"].as_array().unwrap();
    assert_eq!(items[0]["status"], "accepted");
    assert!(
        items[0]["changes"][0]["rule"] == "victim_domain",
        "{response}"
    );
    assert!(
        items[1]["errors"][0]
            .as_str()
            .unwrap()
            .starts_with("/1/value"),
        "{response}"
    );
    assert!(
        items[2]["errors"][0]
            .as_str()
            .unwrap()
            .contains("private_ip"),
        "{response}"
    );
    assert_eq!(items[3]["status"], "accepted");
    assert!(
        items[4]["errors"][0]
            .as_str()
            .unwrap()
            .contains("no such case")
    );

    // The accepted items are in the queue, as valid STIX with the technique attached.
    let submission = items[0]["submission"].as_str().unwrap();
    let (_, item) = get(
        &hub,
        "csirt-analyst",
        &format!("/api/v1/triage/{submission}"),
    )
    .await;
    assert_eq!(
        item["object"]["pattern"],
        "[ipv4-addr:value = '185.220.101.4']"
    );
    assert!(
        !item["object"]["description"]
            .as_str()
            .unwrap()
            .contains("victim.re")
    );
    let (_, queue) = get(&hub, "csirt-analyst", "/api/v1/triage?type=attack-pattern").await;
    assert_eq!(queue.as_array().unwrap().len(), 1, "{queue}");

    // Another provider sending the same technique gets its own attack-pattern, not a
    // refusal that would reveal provider A's confined one; the queue shows one item.
    let (status, b) = post(
        &hub,
        "provider-b",
        "/api/v1/iocs",
        json!([{"type": "domain", "value": "b-c2.example", "attack_techniques": ["T1071.001"]}]),
    )
    .await;
    assert_eq!((status, &b["accepted"]), (200, &json!(1)), "{b}");
    let (_, queue) = get(&hub, "csirt-analyst", "/api/v1/triage?type=attack-pattern").await;
    assert_eq!(queue.as_array().unwrap().len(), 1, "{queue}");
    assert_eq!(
        queue[0]["sightings"].as_array().unwrap().len(),
        2,
        "{queue}"
    );
    // Consent filter: provider A's items came with a case whose beneficiary consented.
    let (_, consented) = get(&hub, "csirt-analyst", "/api/v1/triage?consent=given").await;
    assert!(!consented.as_array().unwrap().is_empty());
    let (_, refused) = get(&hub, "csirt-analyst", "/api/v1/triage?consent=refused").await;
    assert_eq!(refused, json!([]));

    // Whole-request errors are problem+json.
    let (status, problem) = post(&hub, "provider-a", "/api/v1/iocs", json!({"iocs": []})).await;
    assert_eq!(status, 400, "{problem}");
    let resp = hub
        .client("provider-a")
        .post(hub.url("/api/v1/iocs"))
        .header(CONTENT_TYPE, "text/plain")
        .body("[]")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status().as_u16(), 415);
    assert_eq!(resp.headers()[CONTENT_TYPE], "application/problem+json");
    let resp = hub
        .client("provider-a")
        .post(hub.url("/api/v1/iocs"))
        .header(CONTENT_TYPE, "application/json")
        .body(r#"[{"type": "domain", "type": "ipv4", "value": "x.example"}]"#)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status().as_u16(), 400, "duplicate keys are refused");
    hub.shutdown().await;
}

/// Every route of the REST API, as `src/http/api/mod.rs` declares them.
const ROUTES: &[(&str, &str)] = &[
    ("GET", "/api/v1/whoami"),
    ("GET", "/api/v1/exports/blocklist"),
    ("GET", "/api/v1/cases"),
    ("POST", "/api/v1/cases"),
    ("GET", "/api/v1/cases/{id}"),
    ("PUT", "/api/v1/cases/{id}/consent"),
    ("POST", "/api/v1/cases/{id}/survey"),
    ("POST", "/api/v1/cases/{id}/shortlist"),
    ("GET", "/api/v1/cases/{id}/shortlists"),
    ("POST", "/api/v1/cases/{id}/choice"),
    ("POST", "/api/v1/cases/{id}/choice-link"),
    ("GET", "/api/v1/cases/{id}/journal"),
    ("POST", "/api/v1/cases/{id}/journal"),
    ("GET", "/api/v1/cases/{id}/journal/signed"),
    ("POST", "/api/v1/cases/{id}/close"),
    ("POST", "/api/v1/cases/{id}/disputes"),
    ("POST", "/api/v1/cases/{id}/disputes/{number}/outcome"),
    ("GET", "/api/v1/handoffs"),
    ("GET", "/api/v1/handoffs/{id}/package"),
    ("POST", "/api/v1/handoffs/{id}/answer"),
    ("POST", "/api/v1/handoffs/{id}/withdraw"),
    ("GET", "/api/v1/triage"),
    ("GET", "/api/v1/triage/{id}"),
    ("POST", "/api/v1/triage/{id}/publish"),
    ("POST", "/api/v1/triage/{id}/merge"),
    ("POST", "/api/v1/triage/{id}/reject"),
    ("GET", "/api/v1/submissions"),
    ("GET", "/api/v1/submissions/{id}"),
    ("POST", "/api/v1/iocs"),
    ("GET", "/api/v1/openapi.json"),
    ("GET", "/api/v1/registry/providers"),
    ("POST", "/api/v1/registry/providers"),
    ("GET", "/api/v1/registry/me"),
    ("POST", "/api/v1/registry/evidence"),
    ("GET", "/api/v1/registry/providers/{id}"),
    ("PUT", "/api/v1/registry/providers/{id}/file"),
    ("POST", "/api/v1/registry/providers/{id}/evidence"),
    ("POST", "/api/v1/registry/providers/{id}/transitions"),
    ("POST", "/api/v1/registry/providers/{id}/reference"),
    (
        "POST",
        "/api/v1/registry/providers/{id}/convention-signature",
    ),
    ("GET", "/api/v1/registry/providers/{id}/history"),
    ("GET", "/api/v1/registry/providers/{id}/standing"),
    ("POST", "/api/v1/registry/providers/{id}/badge"),
    ("GET", "/api/v1/registry/conventions"),
    ("POST", "/api/v1/registry/conventions"),
    ("GET", "/api/v1/registry/dashboard"),
    ("GET", "/api/v1/registry/shortlist"),
    ("GET", "/api/v1/audit/checkpoint"),
    ("GET", "/api/v1/audit/public-key"),
    ("GET", "/api/v1/audit/entries"),
    ("GET", "/api/v1/audit/proofs/inclusion"),
    ("GET", "/api/v1/audit/proofs/consistency"),
    ("GET", "/api/v1/audit/cosignatures"),
    ("POST", "/api/v1/audit/cosignatures"),
    ("POST", "/api/v1/cases/{id}/rex"),
    ("GET", "/api/v1/cases/{id}/rex"),
    ("GET", "/api/v1/cases/{id}/rex/versions/{version}"),
    ("GET", "/api/v1/notifications"),
    ("GET", "/api/v1/reports/overdue"),
    ("GET", "/api/v1/registry/me/annual-summaries/{year}"),
    ("PUT", "/api/v1/registry/me/annual-summaries/{year}"),
    ("POST", "/api/v1/registry/me/annual-summaries/{year}/submit"),
    (
        "GET",
        "/api/v1/registry/providers/{id}/annual-summaries/{year}",
    ),
    ("GET", "/api/v1/statistics/annual/{year}"),
    ("GET", "/api/v1/soc/contracts"),
    ("POST", "/api/v1/soc/contracts"),
    ("GET", "/api/v1/soc/contracts/{id}"),
    ("GET", "/api/v1/soc/contracts/{id}/alerts"),
    ("GET", "/api/v1/soc/contracts/{id}/report"),
    ("POST", "/api/v1/soc/alerts"),
    ("GET", "/api/v1/soc/alerts/{id}"),
    ("POST", "/api/v1/soc/alerts/{id}/ack"),
    ("POST", "/api/v1/soc/alerts/{id}/pause"),
    ("POST", "/api/v1/soc/alerts/{id}/resume"),
    ("GET", "/api/v1/soc/contracts/{id}/reviews"),
    ("POST", "/api/v1/soc/contracts/{id}/reviews"),
    ("GET", "/api/v1/soc/contracts/{id}/committees"),
    ("POST", "/api/v1/soc/contracts/{id}/committees"),
    ("PUT", "/api/v1/soc/contracts/{id}/committees/{seq}/minutes"),
    ("GET", "/api/v1/soc/contracts/{id}/credits"),
    ("POST", "/api/v1/soc/contracts/{id}/credits/purchases"),
    ("POST", "/api/v1/soc/contracts/{id}/credits/usages"),
    ("GET", "/api/v1/soc/contracts/{id}/term"),
];

/// The routes the hub really answers and the operations its OpenAPI description names are the
/// same, both ways: the description names exactly `ROUTES`; for each of their paths the router
/// answers a method no route takes with 405 and an `Allow` naming exactly the methods of
/// `ROUTES` (an unrouted path gets the 404 fallback instead); and each documented operation
/// reaches its handler.
#[tokio::test]
async fn the_openapi_description_and_the_router_have_the_same_routes() {
    use std::collections::{BTreeMap, BTreeSet};

    let hub = spawn_hub().await;
    let (status, doc) = get(&hub, "provider-a", "/api/v1/openapi.json").await;
    assert_eq!(status, 200);
    assert_eq!(doc["openapi"], "3.1.0");
    // `servers` names the main listener as configured (here derived from the bound port).
    assert_eq!(
        doc["servers"],
        json!([{"url": format!("https://localhost:{}", hub.main.port())}])
    );

    let declared: BTreeSet<(String, String)> = ROUTES
        .iter()
        .map(|(m, p)| ((*m).to_owned(), (*p).to_owned()))
        .collect();
    assert_eq!(declared.len(), ROUTES.len(), "a route is listed twice");
    let mut documented = BTreeSet::new();
    for (path, item) in doc["paths"].as_object().unwrap() {
        for method in item.as_object().unwrap().keys() {
            if [
                "get", "put", "post", "delete", "patch", "head", "options", "trace",
            ]
            .contains(&method.as_str())
            {
                documented.insert((method.to_uppercase(), path.clone()));
            }
        }
    }
    let undocumented: Vec<_> = declared.difference(&documented).collect();
    let unrouted: Vec<_> = documented.difference(&declared).collect();
    assert!(
        undocumented.is_empty(),
        "routes not documented: {undocumented:?}"
    );
    assert!(
        unrouted.is_empty(),
        "documented but not in ROUTES: {unrouted:?}"
    );

    let mut methods: BTreeMap<&str, BTreeSet<String>> = BTreeMap::new();
    for (method, path) in ROUTES {
        methods
            .entry(path)
            .or_default()
            .insert((*method).to_owned());
    }
    let concrete = |path: &str| path.replace("{id}", "x");
    let client = hub.client("csirt-analyst");
    for (path, expected) in &methods {
        // The REST API takes no DELETE: the router's answer says which methods it routes.
        let resp = client
            .delete(hub.url(&concrete(path)))
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status().as_u16(), 405, "{path} is not routed");
        let allow: BTreeSet<String> = resp.headers()[reqwest::header::ALLOW]
            .to_str()
            .unwrap()
            .split(',')
            .map(|m| m.trim().to_owned())
            .filter(|m| m != "HEAD")
            .collect();
        assert_eq!(&allow, expected, "{path}: the router's methods");
    }
    // Each documented operation reaches a handler: never the method fallback (405), and never
    // the path fallback (404) where no item is named (with `{id}` = `x`, 404 is the handler's
    // "no such item").
    for (method, path) in &documented {
        let method = reqwest::Method::from_bytes(method.as_bytes()).unwrap();
        let resp = client
            .request(method.clone(), hub.url(&concrete(path)))
            .send()
            .await
            .unwrap();
        let status = resp.status().as_u16();
        let body = resp.text().await.unwrap();
        assert_ne!(status, 405, "{method} {path}: {body}");
        assert!(
            status != 404 || path.contains("{id}"),
            "{method} {path}: {status} {body}"
        );
    }
    // The fallback, for contrast.
    let resp = client
        .delete(hub.url("/api/v1/nowhere"))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status().as_u16(), 404);
    hub.shutdown().await;

    // Behind a load balancer or a port mapping, the operator says where clients connect.
    let hub = crate::common::spawn_hub_with(crate::common::HubOptions {
        tweak: Some(Box::new(|config, _| {
            config.taxii.public_url = "https://hub.csirt.re:8443/".into();
        })),
        ..crate::common::HubOptions::default()
    })
    .await;
    let (_, doc) = get(&hub, "provider-a", "/api/v1/openapi.json").await;
    assert_eq!(
        doc["servers"],
        json!([{"url": "https://hub.csirt.re:8443"}])
    );
    hub.shutdown().await;
}

#[tokio::test]
async fn the_same_observable_from_two_providers_is_two_sightings_not_an_oracle() {
    let hub = spawn_hub().await;
    // STIX observables have ids derived from their value: both providers send the same id.
    let sco = json!({
        "type": "ipv4-addr",
        "spec_version": "2.1",
        "id": "ipv4-addr--ff26c055-6336-5bc5-b98d-13d6226742dd",
        "value": "185.220.101.4"
    });
    let a = submit(&hub, "provider-a", None, std::slice::from_ref(&sco)).await;
    assert_eq!(a["success_count"], 1, "{a}");
    // Provider B's answer is the one it would get if A had sent nothing.
    let fresh = spawn_hub().await;
    let alone = submit(&fresh, "provider-b", None, std::slice::from_ref(&sco)).await;
    let b = submit(&hub, "provider-b", None, std::slice::from_ref(&sco)).await;
    for status in [&alone, &b] {
        assert_eq!(status["success_count"], 1, "{status}");
        assert_eq!(status["failure_count"], 0, "{status}");
    }
    // Each reads its own copy only; the CSIRT sees one item with two sightings.
    for who in ["provider-a", "provider-b"] {
        let resp = hub
            .client(who)
            .get(hub.url(&format!(
                "/taxii2/api/collections/{SUBMISSIONS}/objects/ipv4-addr--ff26c055-6336-5bc5-b98d-13d6226742dd/?match[version]=all"
            )))
            .header(ACCEPT, TAXII)
            .send()
            .await
            .unwrap();
        let body: Value = resp.json().await.unwrap();
        assert_eq!(
            body["objects"].as_array().map(Vec::len),
            Some(1),
            "{who}: {body}"
        );
    }
    let (_, queue) = get(&hub, "csirt-analyst", "/api/v1/triage").await;
    assert_eq!(queue.as_array().unwrap().len(), 1, "{queue}");
    assert_eq!(
        queue[0]["sightings"].as_array().unwrap().len(),
        2,
        "{queue}"
    );
    // Sending it again is the same submission, not a third one.
    let again = submit(&hub, "provider-b", None, std::slice::from_ref(&sco)).await;
    assert_eq!(again["success_count"], 1);
    let (_, queue) = get(&hub, "csirt-analyst", "/api/v1/triage").await;
    assert_eq!(
        queue[0]["sightings"].as_array().unwrap().len(),
        2,
        "{queue}"
    );
    // Publishing an observable under the CSIRT keeps its id; B's copy then merges into it.
    let first = queue[0]["sightings"][0]["id"].as_str().unwrap().to_owned();
    let second = queue[0]["sightings"][1]["id"].as_str().unwrap().to_owned();
    let (status, published) = post(
        &hub,
        "csirt-analyst",
        &format!("/api/v1/triage/{first}/publish"),
        json!({}),
    )
    .await;
    assert_eq!(status, 200, "{published}");
    assert_eq!(
        published["published"],
        "ipv4-addr--ff26c055-6336-5bc5-b98d-13d6226742dd"
    );
    let (status, _) = post(
        &hub,
        "csirt-analyst",
        &format!("/api/v1/triage/{second}/merge"),
        json!({"into": "ipv4-addr--ff26c055-6336-5bc5-b98d-13d6226742dd"}),
    )
    .await;
    assert_eq!(status, 204);
    hub.shutdown().await;
    fresh.shutdown().await;
}

/// The pseudonym `who` reads back in its own copy of a path naming a user.
async fn user_pseudonym(hub: &TestHub, who: &str, n: u32) -> String {
    let status = submit(
        hub,
        who,
        None,
        &[indicator(
            n,
            "[domain-name:value = 'c2.example']",
            "dropped in C:\\Users\\jdupont\\AppData\\x.exe",
            TLP_GREEN,
        )],
    )
    .await;
    assert_eq!(status["success_count"], 1, "{status}");
    let (_, mine) = get(hub, who, "/api/v1/submissions").await;
    let id = mine.as_array().unwrap().last().unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let (_, item) = get(hub, who, &format!("/api/v1/submissions/{id}")).await;
    let description = item["object"]["description"].as_str().unwrap().to_owned();
    let at = description
        .find("anon-user-")
        .unwrap_or_else(|| panic!("{description}"));
    description[at..at + "anon-user-".len() + 12].to_owned()
}

#[tokio::test]
async fn a_submitter_cannot_test_guesses_against_other_providers_pseudonyms() {
    let hub = spawn_hub().await;
    // Provider A's pseudonym for a user name is stable for A, and provider B submitting the
    // same (guessed) value reads back an unrelated one.
    let a = user_pseudonym(&hub, "provider-a", 40).await;
    assert_eq!(a, user_pseudonym(&hub, "provider-a", 41).await);
    let b = user_pseudonym(&hub, "provider-b", 42).await;
    assert_ne!(a, b);
    hub.shutdown().await;
}

#[tokio::test]
async fn an_anonymised_observable_loses_its_value_derived_id_everywhere() {
    let hub = spawn_hub().await;
    let old_id = "directory--5b0b1c2d-3e4f-5a6b-8c7d-9e0f1a2b3c4d";
    let observed = json!({
        "type": "observed-data", "spec_version": "2.1",
        "id": "observed-data--0f4c4a2b-1111-4222-8333-944455556666",
        "created": "2026-11-01T10:00:00.000Z", "modified": "2026-11-01T10:00:00.000Z",
        "first_observed": "2026-11-01T10:00:00Z", "last_observed": "2026-11-01T10:00:00Z",
        "number_observed": 1, "object_refs": [old_id]
    });
    let directory = json!({
        "type": "directory", "spec_version": "2.1", "id": old_id,
        "path": "C:\\Users\\jdupont\\AppData\\Roaming"
    });
    let status = submit(&hub, "provider-a", None, &[observed, directory]).await;
    assert_eq!(status["success_count"], 2, "{status}");
    let (_, queue) = get(&hub, "csirt-analyst", "/api/v1/triage?status=all").await;
    let text = queue.to_string();
    assert!(!text.contains(old_id), "{text}");
    for item in queue.as_array().unwrap() {
        let id = item["sightings"][0]["id"].as_str().unwrap();
        let (_, view) = get(&hub, "csirt-analyst", &format!("/api/v1/triage/{id}")).await;
        let object = view["object"].to_string();
        assert!(!object.contains(old_id), "{object}");
        assert!(!object.contains("jdupont"), "{object}");
    }
    hub.shutdown().await;
}

#[tokio::test]
async fn a_renamed_observable_sent_twice_is_stored_once() {
    let hub = spawn_hub().await;
    let directory = json!({
        "type": "directory", "spec_version": "2.1",
        "id": "directory--6c1c2d3e-4f50-5a6b-8c7d-9e0f1a2b3c4d",
        "path": "/home/jdupont/.cache/x"
    });
    for _ in 0..2 {
        let status = submit(&hub, "provider-a", None, std::slice::from_ref(&directory)).await;
        assert_eq!(status["success_count"], 1, "{status}");
    }
    let (_, mine) = get(&hub, "provider-a", "/api/v1/submissions").await;
    assert_eq!(mine.as_array().unwrap().len(), 1, "{mine}");
    hub.shutdown().await;
}

#[tokio::test]
async fn a_pending_submission_can_be_withdrawn_a_decided_one_cannot() {
    withdrawal_flow(Db::Sqlite).await;
}

#[tokio::test]
async fn a_pending_submission_can_be_withdrawn_a_decided_one_cannot_on_postgres() {
    withdrawal_flow(Db::Postgres).await;
}

async fn withdrawal_flow(db: Db) {
    let Some(hub) = spawn_hub_on(db).await else {
        return;
    };
    let delete = |n: u32| {
        let hub = &hub;
        async move {
            hub.client("provider-a")
                .delete(hub.url(&format!(
                    "/taxii2/api/collections/{SUBMISSIONS}/objects/indicator--5f0c1d2e-0000-4000-8000-{n:012}/"
                )))
                .header(ACCEPT, TAXII)
                .send()
                .await
                .unwrap()
                .status()
                .as_u16()
        }
    };
    submit(
        &hub,
        "provider-a",
        None,
        &[
            indicator(50, "[domain-name:value = 'a.example']", "x", TLP_GREEN),
            indicator(51, "[domain-name:value = 'b.example']", "x", TLP_GREEN),
        ],
    )
    .await;
    let (_, mine) = get(&hub, "provider-a", "/api/v1/submissions").await;
    let decided = mine
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["stix_id"].as_str().unwrap().ends_with("000000000051"))
        .unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let (status, _) = post(
        &hub,
        "csirt-analyst",
        &format!("/api/v1/triage/{decided}/reject"),
        json!({"reason": "sinkholed"}),
    )
    .await;
    assert_eq!(status, 204);
    assert_eq!(delete(50).await, 200);
    assert_eq!(delete(51).await, 409);
    let (_, mine) = get(&hub, "provider-a", "/api/v1/submissions").await;
    let left: Vec<&str> = mine
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["status"].as_str().unwrap())
        .collect();
    assert_eq!(left, ["rejected"]);
    hub.shutdown().await;
}

#[tokio::test]
async fn a_relationship_is_published_only_once_what_it_joins_is_and_points_at_it() {
    let hub = spawn_hub().await;
    let (status, response) = post(
        &hub,
        "provider-a",
        "/api/v1/iocs",
        json!([{"type": "domain", "value": "rel-c2.example", "tlp": "green",
                "attack_techniques": ["T1071.004"]}]),
    )
    .await;
    assert_eq!(status, 200, "{response}");
    let queue_of = |kind: &'static str| {
        let hub = &hub;
        async move {
            let (_, queue) =
                get(hub, "csirt-analyst", &format!("/api/v1/triage?type={kind}")).await;
            queue[0]["sightings"][0]["id"].as_str().unwrap().to_owned()
        }
    };
    let relationship = queue_of("relationship").await;
    let publish = |id: String| {
        let hub = &hub;
        async move {
            post(
                hub,
                "csirt-analyst",
                &format!("/api/v1/triage/{id}/publish"),
                json!({}),
            )
            .await
        }
    };
    let (status, problem) = publish(relationship.clone()).await;
    assert_eq!(status, 422, "{problem}");
    assert!(
        problem["detail"]
            .as_str()
            .unwrap()
            .contains("publish that first")
    );
    let (_, indicator) = publish(queue_of("indicator").await).await;
    let (_, pattern) = publish(queue_of("attack-pattern").await).await;
    let (status, published) = publish(relationship).await;
    assert_eq!(status, 200, "{published}");
    // Provider B reads a relationship joining the two published objects.
    let resp = hub
        .client("provider-b")
        .get(hub.url(&format!(
            "/taxii2/api/collections/{COMMUNITY}/objects/{}/",
            published["published"].as_str().unwrap()
        )))
        .header(ACCEPT, TAXII)
        .send()
        .await
        .unwrap();
    let body: Value = resp.json().await.unwrap();
    let object = &body["objects"][0];
    assert_eq!(object["source_ref"], indicator["published"], "{body}");
    assert_eq!(object["target_ref"], pattern["published"], "{body}");
    hub.shutdown().await;
}

const TLP_RED: &str = "marking-definition--e828b379-4e03-4974-9ac4-e53a884c97c1";

/// The objects `who` reads of `id` in the submissions collection over TAXII.
async fn taxii_submission(hub: &TestHub, who: &str, id: &str) -> (u16, Vec<Value>) {
    let resp = hub
        .client(who)
        .get(hub.url(&format!(
            "/taxii2/api/collections/{SUBMISSIONS}/objects/?match[id]={id}"
        )))
        .header(ACCEPT, TAXII)
        .send()
        .await
        .unwrap();
    let status = resp.status().as_u16();
    let body: Value = resp.json().await.unwrap_or(Value::Null);
    let objects = body["objects"].as_array().cloned().unwrap_or_default();
    (status, objects)
}

/// A provider's TLP:RED submission is addressed to the CSIRT: the one decision of what the
/// CSIRT reads of it gives TAXII and the triage API the same answer, for every caller.
#[tokio::test]
async fn a_red_submission_reads_the_same_through_taxii_and_triage() {
    let hub = spawn_hub().await;
    let case = open_case(&hub, "given").await;
    let object = indicator(
        40,
        "[ipv4-addr:value = '185.220.101.40']",
        "C2 seen from SRV-COMPTA at victim.re",
        TLP_RED,
    );
    let stix_id = object["id"].as_str().unwrap().to_owned();
    let status = submit(&hub, "provider-a", Some(&case), &[object]).await;
    assert_eq!(status["success_count"], 1, "{status}");
    let (_, mine) = get(&hub, "provider-a", "/api/v1/submissions").await;
    let submission = mine[0]["id"].as_str().unwrap().to_owned();
    assert_eq!(mine[0]["tlp"], "red", "{mine}");

    // The analyst: the object, both ways, byte for byte the same JSON; the original in triage.
    let (status, taxii) = taxii_submission(&hub, "csirt-analyst", &stix_id).await;
    assert_eq!((status, taxii.len()), (200, 1), "{taxii:?}");
    let (status, item) = get(
        &hub,
        "csirt-analyst",
        &format!("/api/v1/triage/{submission}"),
    )
    .await;
    assert_eq!(status, 200, "{item}");
    assert_eq!(item["object"], taxii[0], "the same object both ways");
    assert!(item["original"].is_object(), "{item}");

    // Its producer: the object both ways, no original.
    let (status, taxii) = taxii_submission(&hub, "provider-a", &stix_id).await;
    assert_eq!((status, taxii.len()), (200, 1));
    let (status, item) = get(
        &hub,
        "provider-a",
        &format!("/api/v1/submissions/{submission}"),
    )
    .await;
    assert_eq!(status, 200, "{item}");
    assert_eq!(item["object"], taxii[0]);
    assert!(item.get("original").is_none(), "{item}");

    // Another provider and a partner hub: nothing either way, as for a missing submission.
    for who in ["provider-b", "partner-csirt"] {
        let (_, taxii) = taxii_submission(&hub, who, &stix_id).await;
        assert!(taxii.is_empty(), "{who}: {taxii:?}");
        let (status, _) = get(&hub, who, &format!("/api/v1/submissions/{submission}")).await;
        let (missing, _) = get(
            &hub,
            who,
            "/api/v1/submissions/00000000-0000-4000-8000-000000000000",
        )
        .await;
        assert_eq!(status, missing, "{who}: hidden looks missing");
    }
    hub.shutdown().await;
}
