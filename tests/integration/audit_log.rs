//! The audit log of a running hub, over real mTLS: every write endpoint leaves exactly one
//! entry in the transaction of its change, refused requests and reads of restricted material
//! leave one too, checkpoints are signed by the job and served with proofs that verify, and
//! `relais audit export` + `relais audit verify` check the whole log offline (and catch an
//! edit made straight in the database).

use std::collections::BTreeSet;
use std::future::Future;
use std::time::Duration;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use relais::crypto::openpgp::PublicKey;
use relais::domain::audit::checkpoint::SignedCheckpoint;
use relais::domain::audit::entry::{AuditEntry, Decision, parse_canonical};
use relais::domain::audit::merkle::{Hash, verify_consistency, verify_entry_inclusion};
use reqwest::header::{ACCEPT, CONTENT_TYPE};
use serde_json::{Value, json};

use crate::common::{Db, HubOptions, TestHub, spawn_hub_on, spawn_hub_with, succeed};

const TAXII: &str = "application/taxii+json;version=2.1";
const COMMUNITY: &str = "9cfa669c-ee94-4ece-afd2-f8edac37d8fd";
const SUBMISSIONS: &str = "2f1b3c38-5a4e-4d1f-9a53-6f1e2c7d8b90";
const TLP_CLEAR: &str = "marking-definition--94868c89-83c2-464b-929b-a1a8aa3c8487";
const TLP_GREEN: &str = "marking-definition--bab4a63c-aed9-4cf5-a766-dfca5abac2bb";
const TLP_RED: &str = "marking-definition--e828b379-4e03-4974-9ac4-e53a884c97c1";

fn indicator(n: u32, description: &str, tlp: &str) -> Value {
    json!({
        "type": "indicator",
        "spec_version": "2.1",
        "id": format!("indicator--a0d17000-0000-4000-8000-{n:012}"),
        "created": "2026-11-01T10:00:00.000Z",
        "modified": "2026-11-01T10:00:00.000Z",
        "name": format!("audit indicator {n}"),
        "description": description,
        "pattern": format!("[domain-name:value = 'c2-{n}.example']"),
        "pattern_type": "stix",
        "valid_from": "2026-11-01T10:00:00Z",
        "object_marking_refs": [tlp]
    })
}

async fn request(
    hub: &TestHub,
    who: &str,
    method: reqwest::Method,
    path: &str,
    body: Option<(&str, String)>,
) -> (u16, Value) {
    let mut req = hub.client(who).request(method, hub.url(path)).header(
        ACCEPT,
        if path.starts_with("/taxii2/") {
            TAXII
        } else {
            "*/*"
        },
    );
    if let Some((content_type, body)) = body {
        req = req.header(CONTENT_TYPE, content_type).body(body);
    }
    let resp = req.send().await.unwrap();
    let status = resp.status().as_u16();
    let text = resp.text().await.unwrap();
    (
        status,
        serde_json::from_str(&text).unwrap_or(Value::String(text)),
    )
}

async fn api(
    hub: &TestHub,
    who: &str,
    method: reqwest::Method,
    path: &str,
    body: Value,
) -> (u16, Value) {
    request(
        hub,
        who,
        method,
        path,
        Some(("application/json", body.to_string())),
    )
    .await
}

async fn get(hub: &TestHub, who: &str, path: &str) -> (u16, Value) {
    request(hub, who, reqwest::Method::GET, path, None).await
}

async fn size(hub: &TestHub) -> u64 {
    hub.store.audit_size().await.unwrap()
}

async fn entry_at(hub: &TestHub, seq: u64) -> AuditEntry {
    let stored = hub.store.audit_entries(seq, 1, None).await.unwrap();
    assert_eq!(stored[0].seq, seq);
    parse_canonical(&stored[0].entry).unwrap()
}

/// Runs one request and checks that it appended exactly one entry, of `action`.
async fn one_entry<F>(hub: &TestHub, action: &str, run: F) -> (Value, AuditEntry)
where
    F: Future<Output = (u16, Value)>,
{
    let before = size(hub).await;
    let (status, body) = run.await;
    assert!((200..300).contains(&status), "{action}: {status} {body}");
    let after = size(hub).await;
    assert_eq!(
        after,
        before + 1,
        "{action} appended {} entries",
        after - before
    );
    let entry = entry_at(hub, before).await;
    assert_eq!(entry.action, action, "{entry:?}");
    (body, entry)
}

/// The write operations of the REST API, from its OpenAPI description, and of TAXII.
fn write_endpoints() -> BTreeSet<String> {
    let doc: Value = serde_json::to_value(relais::http::api::openapi_document()).unwrap();
    let mut out = BTreeSet::new();
    for (path, item) in doc["paths"].as_object().unwrap() {
        for method in item.as_object().unwrap().keys() {
            if ["post", "put", "patch", "delete"].contains(&method.as_str()) {
                out.insert(format!("{} {path}", method.to_uppercase()));
            }
        }
    }
    // TAXII 2.1's two writes (the OpenAPI document covers the REST API only).
    out.insert("POST /taxii2/api/collections/{id}/objects/".into());
    out.insert("DELETE /taxii2/api/collections/{id}/objects/{object}/".into());
    out
}

#[tokio::test]
async fn every_write_endpoint_leaves_exactly_one_entry() {
    write_endpoints_flow(Db::Sqlite).await;
}

#[tokio::test]
async fn every_write_endpoint_leaves_exactly_one_entry_on_postgres() {
    write_endpoints_flow(Db::Postgres).await;
}

async fn write_endpoints_flow(db: Db) {
    let postgres = match db {
        Db::Sqlite => None,
        Db::Postgres => match crate::common::PgDatabase::create().await {
            Some(pg) => Some(pg),
            None => return,
        },
    };
    let hub = spawn_hub_with(HubOptions {
        postgres,
        // The deadline job's round that matters here is run by the test itself, below; the
        // hub's own runs at start and not again during the test.
        tweak: Some(Box::new(|c, _| c.registry.deadline_check_secs = 86_400)),
        ..HubOptions::default()
    })
    .await;
    let analyst = hub.principal_named("csirt-analyst").await;
    let provider = hub.principal_named("provider-a").await;
    let mut covered = BTreeSet::new();
    use reqwest::Method as M;

    let mut opened = crate::common::new_case("CSIRT-RE-2026-0042", "pending");
    opened["identifiers"] =
        json!({"hostnames": ["SRV-COMPTA"], "organisations": ["Mairie de Saint-Leu"]});
    let (case, entry) = one_entry(
        &hub,
        "case.create",
        api(&hub, "csirt-analyst", M::POST, "/api/v1/cases", opened),
    )
    .await;
    covered.insert("POST /api/v1/cases");
    let case = case["id"].as_str().unwrap().to_owned();
    assert_eq!(entry.actor.principal, analyst.id.as_str());
    assert_eq!(entry.actor.fingerprint.len(), 64);
    assert_eq!(entry.objects[0], case);
    // Victim identifiers stay out of the log: ids only.
    let text = String::from_utf8(entry.to_canonical()).unwrap();
    assert!(
        !text.contains("Saint-Leu") && !text.contains("CSIRT-RE-2026-0042"),
        "{text}"
    );

    let (_, entry) = one_entry(
        &hub,
        "case.consent",
        api(
            &hub,
            "csirt-analyst",
            M::PUT,
            &format!("/api/v1/cases/{case}/consent"),
            json!({"consent": "given"}),
        ),
    )
    .await;
    covered.insert("PUT /api/v1/cases/{id}/consent");
    assert_eq!(entry.reason, "consent given");

    // The case from the shortlist to the provider's journal: one entry per change.
    let mut list = Value::Null;
    for _ in 0..6 {
        let (drawn, entry) = one_entry(
            &hub,
            "case.shortlist",
            api(
                &hub,
                "csirt-analyst",
                M::POST,
                &format!("/api/v1/cases/{case}/shortlist"),
                json!({}),
            ),
        )
        .await;
        assert!(entry.reason.starts_with("seed "), "{entry:?}");
        let proposed = drawn["entries"]
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e["provider"] == provider.organisation_id.as_str());
        list = drawn;
        if proposed {
            break;
        }
    }
    assert!(
        list["entries"]
            .to_string()
            .contains(provider.organisation_id.as_str())
    );
    covered.insert("POST /api/v1/cases/{id}/shortlist");
    let (handoff, entry) = one_entry(
        &hub,
        "case.choice",
        api(
            &hub,
            "csirt-analyst",
            M::POST,
            &format!("/api/v1/cases/{case}/choice"),
            json!({"provider": provider.organisation_id.as_str(), "channel": "phone"}),
        ),
    )
    .await;
    covered.insert("POST /api/v1/cases/{id}/choice");
    let handoff = handoff["id"].as_str().unwrap().to_owned();
    assert!(entry.objects.contains(&handoff), "{entry:?}");
    // The package holds the victim: neither its text nor the beneficiary is in the log.
    let text = String::from_utf8(entry.to_canonical()).unwrap();
    assert!(!text.contains("Saint-Leu"), "{text}");
    one_entry(
        &hub,
        "case.handoff_answer",
        api(
            &hub,
            "provider-a",
            M::POST,
            &format!("/api/v1/handoffs/{handoff}/answer"),
            json!({"answer": "accept"}),
        ),
    )
    .await;
    covered.insert("POST /api/v1/handoffs/{id}/answer");
    let (_, entry) = one_entry(
        &hub,
        "case.journal",
        api(
            &hub,
            "provider-a",
            M::POST,
            &format!("/api/v1/cases/{case}/journal"),
            json!({"kind": "action", "text": "Isolement du poste SRV-COMPTA"}),
        ),
    )
    .await;
    covered.insert("POST /api/v1/cases/{id}/journal");
    assert!(
        !String::from_utf8(entry.to_canonical())
            .unwrap()
            .contains("SRV-COMPTA")
    );
    one_entry(
        &hub,
        "case.dispute",
        api(
            &hub,
            "csirt-analyst",
            M::POST,
            &format!("/api/v1/cases/{case}/disputes"),
            json!({"raised_by": "beneficiary", "summary": "Délai contesté"}),
        ),
    )
    .await;
    covered.insert("POST /api/v1/cases/{id}/disputes");
    one_entry(
        &hub,
        "case.dispute_outcome",
        api(
            &hub,
            "csirt-analyst",
            M::POST,
            &format!("/api/v1/cases/{case}/disputes/1/outcome"),
            json!({"outcome": "Accord trouvé en médiation"}),
        ),
    )
    .await;
    covered.insert("POST /api/v1/cases/{id}/disputes/{number}/outcome");
    // A second case waits for its beneficiary's own choice, by link.
    let (second, _) = one_entry(
        &hub,
        "case.create",
        api(
            &hub,
            "csirt-analyst",
            M::POST,
            "/api/v1/cases",
            crate::common::new_case("CSIRT-RE-2026-0043", "pending"),
        ),
    )
    .await;
    let second = second["id"].as_str().unwrap().to_owned();
    one_entry(
        &hub,
        "case.shortlist",
        api(
            &hub,
            "csirt-analyst",
            M::POST,
            &format!("/api/v1/cases/{second}/shortlist"),
            json!({}),
        ),
    )
    .await;
    one_entry(
        &hub,
        "case.choice_link",
        api(
            &hub,
            "csirt-analyst",
            M::POST,
            &format!("/api/v1/cases/{second}/choice-link"),
            json!({}),
        ),
    )
    .await;
    covered.insert("POST /api/v1/cases/{id}/choice-link");
    let third = crate::common::new_case("CSIRT-RE-2026-0044", "pending");
    let (third, _) = one_entry(
        &hub,
        "case.create",
        api(&hub, "csirt-analyst", M::POST, "/api/v1/cases", third),
    )
    .await;
    let third = third["id"].as_str().unwrap().to_owned();
    let (list, _) = one_entry(
        &hub,
        "case.shortlist",
        api(
            &hub,
            "csirt-analyst",
            M::POST,
            &format!("/api/v1/cases/{third}/shortlist"),
            json!({}),
        ),
    )
    .await;
    let (pending, _) = one_entry(
        &hub,
        "case.choice",
        api(
            &hub,
            "csirt-analyst",
            M::POST,
            &format!("/api/v1/cases/{third}/choice"),
            json!({"provider": list["entries"][0]["provider"], "channel": "email"}),
        ),
    )
    .await;
    one_entry(
        &hub,
        "case.handoff_withdraw",
        api(
            &hub,
            "csirt-analyst",
            M::POST,
            &format!(
                "/api/v1/handoffs/{}/withdraw",
                pending["id"].as_str().unwrap()
            ),
            json!({"reason": "no answer"}),
        ),
    )
    .await;
    covered.insert("POST /api/v1/handoffs/{id}/withdraw");

    let envelope = json!({"objects": [
        indicator(1, "beacon seen on SRV-COMPTA", TLP_GREEN),
        indicator(2, "second stage", TLP_GREEN),
        indicator(3, "third", TLP_GREEN),
    ]})
    .to_string();
    let submit = async {
        let resp = hub
            .client("provider-a")
            .post(hub.url(&format!("/taxii2/api/collections/{SUBMISSIONS}/objects/")))
            .header(ACCEPT, TAXII)
            .header(CONTENT_TYPE, TAXII)
            .header("X-Relais-Case", &case)
            .body(envelope)
            .send()
            .await
            .unwrap();
        (resp.status().as_u16(), resp.json::<Value>().await.unwrap())
    };
    let (_, entry) = one_entry(&hub, "submission.add", submit).await;
    covered.insert("POST /taxii2/api/collections/{id}/objects/");
    assert_eq!(entry.actor.principal, provider.id.as_str());
    assert!(entry.objects.contains(&case), "{entry:?}");
    assert!(entry.objects.iter().any(|o| o.ends_with("-000000000001")));
    assert_eq!(entry.markings, ["tlp:green"]);
    assert_eq!(entry.reason, "3 stored, 0 refused");

    let (_, entry) = one_entry(
        &hub,
        "submission.add",
        api(
            &hub,
            "provider-a",
            M::POST,
            "/api/v1/iocs",
            json!([
                {"type": "domain", "value": "evil-audit.example", "tlp": "green"}
            ]),
        ),
    )
    .await;
    covered.insert("POST /api/v1/iocs");
    assert_eq!(entry.decision, Decision::Allow);

    let (_, mine) = get(&hub, "provider-a", "/api/v1/submissions").await;
    let item = |n: u32| {
        mine.as_array()
            .unwrap()
            .iter()
            .find(|s| {
                s["stix_id"]
                    .as_str()
                    .unwrap()
                    .ends_with(&format!("-{n:012}"))
            })
            .unwrap()["id"]
            .as_str()
            .unwrap()
            .to_owned()
    };
    let (published, entry) = one_entry(
        &hub,
        "submission.publish",
        api(
            &hub,
            "csirt-analyst",
            M::POST,
            &format!("/api/v1/triage/{}/publish", item(1)),
            json!({}),
        ),
    )
    .await;
    covered.insert("POST /api/v1/triage/{id}/publish");
    let published = published["published"].as_str().unwrap().to_owned();
    assert_eq!(entry.objects[..2], [item(1), published.clone()]);

    one_entry(
        &hub,
        "submission.merge",
        api(
            &hub,
            "csirt-analyst",
            M::POST,
            &format!("/api/v1/triage/{}/merge", item(2)),
            json!({"into": published}),
        ),
    )
    .await;
    covered.insert("POST /api/v1/triage/{id}/merge");

    let reason = "duplicate of the report sent by Mairie de Saint-Leu";
    let (_, entry) = one_entry(
        &hub,
        "submission.reject",
        api(
            &hub,
            "csirt-analyst",
            M::POST,
            &format!("/api/v1/triage/{}/reject", item(3)),
            json!({"reason": reason}),
        ),
    )
    .await;
    covered.insert("POST /api/v1/triage/{id}/reject");
    // The analyst's words may name the victim: the entry holds their hash.
    assert!(
        entry.reason.starts_with("sha256:") && !entry.reason.contains("Saint"),
        "{entry:?}"
    );

    let community = format!("/taxii2/api/collections/{COMMUNITY}/objects/");
    let (_, entry) = one_entry(
        &hub,
        "objects.add",
        request(
            &hub,
            "csirt-analyst",
            M::POST,
            &community,
            Some((
                TAXII,
                json!({"objects": [indicator(9, "public", TLP_CLEAR)]}).to_string(),
            )),
        ),
    )
    .await;
    assert_eq!(entry.objects[0], COMMUNITY);
    let doomed = indicator(9, "", TLP_CLEAR)["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let (_, entry) = one_entry(
        &hub,
        "objects.delete",
        request(
            &hub,
            "csirt-analyst",
            M::DELETE,
            &format!("{community}{doomed}/"),
            None,
        ),
    )
    .await;
    covered.insert("DELETE /taxii2/api/collections/{id}/objects/{object}/");
    assert_eq!(entry.objects, [COMMUNITY.to_owned(), doomed]);
    assert_eq!(entry.reason, "1 versions");

    // The provider registry.
    let now = time::OffsetDateTime::now_utc();
    let key = relais::crypto::openpgp::AuditKey::generate("Audit Test <a@t.example>", now).unwrap();
    let upload = async {
        let resp = hub
            .client("csirt-analyst")
            .post(hub.url("/api/v1/registry/evidence?name=pris.pdf"))
            .body(b"%PDF proof".to_vec())
            .send()
            .await
            .unwrap();
        (resp.status().as_u16(), resp.json::<Value>().await.unwrap())
    };
    let (evidence, _) = one_entry(&hub, "registry.evidence", upload).await;
    covered.insert("POST /api/v1/registry/evidence");
    let file = json!({
        "legal_name": "Audit Test SAS", "siren": "552100554",
        "contacts": [{"name": "A", "email": "a@t.example"}],
        "website": "https://t.example", "catalogue_url": "https://t.example/ri",
        "catalogue_lists_incident_response": true,
        "services": [{"service": "analysis", "jho": true, "jhno": false}],
        "qualifications": [{"kind": "pris", "evidence_sha256": evidence["sha256"], "evidence_name": "pris.pdf", "expires": "2030-01-01"}],
        "openpgp_key": key.public_armored().unwrap()
    });
    let (applied, entry) = one_entry(
        &hub,
        "registry.apply",
        api(
            &hub,
            "csirt-analyst",
            M::POST,
            "/api/v1/registry/providers",
            file.clone(),
        ),
    )
    .await;
    covered.insert("POST /api/v1/registry/providers");
    let org = applied["id"].as_str().unwrap().to_owned();
    assert_eq!(entry.objects[0], org);
    let base = format!("/api/v1/registry/providers/{org}");
    one_entry(
        &hub,
        "registry.file_update",
        api(&hub, "csirt-analyst", M::PUT, &format!("{base}/file"), file),
    )
    .await;
    covered.insert("PUT /api/v1/registry/providers/{id}/file");
    let upload = async {
        let resp = hub
            .client("csirt-analyst")
            .post(hub.url(&format!("{base}/evidence?name=passi.pdf")))
            .body(b"%PDF other proof".to_vec())
            .send()
            .await
            .unwrap();
        (resp.status().as_u16(), resp.json::<Value>().await.unwrap())
    };
    one_entry(&hub, "registry.evidence", upload).await;
    covered.insert("POST /api/v1/registry/providers/{id}/evidence");
    let (_, entry) = one_entry(
        &hub,
        "registry.review",
        api(
            &hub,
            "csirt-analyst",
            M::POST,
            &format!("{base}/transitions"),
            json!({"event": "start_review"}),
        ),
    )
    .await;
    covered.insert("POST /api/v1/registry/providers/{id}/transitions");
    assert!(
        entry.reason.starts_with("applied -> under_review"),
        "{entry:?}"
    );
    let (_, conventions) = request(
        &hub,
        "csirt-analyst",
        M::GET,
        "/api/v1/registry/conventions",
        None,
    )
    .await;
    let v1 = conventions[0]["text"].as_str().unwrap().to_owned();
    let signature = key.sign_detached(v1.as_bytes(), now).unwrap();
    one_entry(
        &hub,
        "registry.reference",
        api(
            &hub,
            "csirt-analyst",
            M::POST,
            &format!("{base}/reference"),
            json!({"signature": signature}),
        ),
    )
    .await;
    covered.insert("POST /api/v1/registry/providers/{id}/reference");
    one_entry(
        &hub,
        "registry.badge",
        api(
            &hub,
            "csirt-analyst",
            M::POST,
            &format!("{base}/badge"),
            json!({}),
        ),
    )
    .await;
    covered.insert("POST /api/v1/registry/providers/{id}/badge");
    let (v2, _) = one_entry(
        &hub,
        "registry.convention_publish",
        api(
            &hub,
            "csirt-analyst",
            M::POST,
            "/api/v1/registry/conventions",
            json!({"text": "version 2"}),
        ),
    )
    .await;
    covered.insert("POST /api/v1/registry/conventions");
    assert_eq!(v2["version"], 2);
    // The signature request is recorded on each provider in force by the deadline job, as
    // entries of its own: its round is run and awaited here, so that they do not land
    // between the next request and its check.
    let before_round = size(&hub).await;
    let round = tokio::time::timeout(
        Duration::from_secs(20),
        relais::services::registry::Deadlines::new(hub.store.as_ref())
            .tick(time::OffsetDateTime::now_utc()),
    )
    .await
    .expect("the deadline round finishes")
    .expect("the deadline round reads the registry");
    assert!(round.failures.is_empty(), "{:?}", round.failures);
    let providers = hub.store.providers().await.unwrap();
    assert!(providers.iter().all(|p| {
        !p.referencing.is_referenced()
            || p.referencing
                .pending_version
                .is_some_and(|v| v.version == 2)
    }));
    assert_eq!(
        size(&hub).await,
        before_round + u64::try_from(round.changes).unwrap(),
        "one entry for each change of the round"
    );
    let signature = key.sign_detached(b"version 2", now).unwrap();
    one_entry(
        &hub,
        "registry.convention_signed",
        api(
            &hub,
            "csirt-analyst",
            M::POST,
            &format!("{base}/convention-signature"),
            json!({"version": 2, "signature": signature}),
        ),
    )
    .await;
    covered.insert("POST /api/v1/registry/providers/{id}/convention-signature");
    let (link, _) = one_entry(
        &hub,
        "registry.survey_issue",
        api(
            &hub,
            "csirt-analyst",
            M::POST,
            &format!("/api/v1/cases/{case}/survey"),
            json!({}),
        ),
    )
    .await;
    covered.insert("POST /api/v1/cases/{id}/survey");
    // The beneficiary's answer, on the public listener.
    let token = link["url"]
        .as_str()
        .unwrap()
        .split("token=")
        .nth(1)
        .unwrap()
        .to_owned();
    let answer = async {
        let mut form = form_urlencoded::Serializer::new(String::new());
        form.append_pair("token", &token);
        for q in [
            "responsiveness",
            "analysis_quality",
            "communication",
            "result",
            "overall",
        ] {
            form.append_pair(q, "4");
        }
        let resp = hub
            .client_with(None)
            .post(hub.public_url("/survey"))
            .header(CONTENT_TYPE, "application/x-www-form-urlencoded")
            .body(form.finish())
            .send()
            .await
            .unwrap();
        (resp.status().as_u16(), Value::Null)
    };
    let (_, entry) = one_entry(&hub, "registry.survey_answer", answer).await;
    assert_eq!(entry.actor.principal, "beneficiary");

    // Closing issues no second survey: the beneficiary has answered the one issued above.
    let today = crate::common::today(&hub);
    one_entry(
        &hub,
        "case.close",
        api(
            &hub,
            "provider-a",
            M::POST,
            &format!("/api/v1/cases/{case}/close"),
            json!({"end_date": today}),
        ),
    )
    .await;
    covered.insert("POST /api/v1/cases/{id}/close");

    let (_, entry) = one_entry(
        &hub,
        "rex.submit",
        api(
            &hub,
            "provider-a",
            M::POST,
            &format!("/api/v1/cases/{case}/rex"),
            crate::reports::rex_body(),
        ),
    )
    .await;
    covered.insert("POST /api/v1/cases/{id}/rex");
    let text = String::from_utf8(entry.to_canonical()).unwrap();
    assert!(
        !text.contains("victim.re") && !text.contains("MFA"),
        "ids and digests only: {text}"
    );
    let year = relais::domain::registry::calendar::calendar_year(hub.clock.now());
    let summary = format!("/api/v1/registry/me/annual-summaries/{year}");
    let part = json!({"threat_observations": "Rançongiciels."});
    one_entry(
        &hub,
        "summary.save",
        api(&hub, "provider-a", M::PUT, &summary, part.clone()),
    )
    .await;
    covered.insert("PUT /api/v1/registry/me/annual-summaries/{year}");
    one_entry(
        &hub,
        "summary.submit",
        api(
            &hub,
            "provider-a",
            M::POST,
            &format!("{summary}/submit"),
            part,
        ),
    )
    .await;
    covered.insert("POST /api/v1/registry/me/annual-summaries/{year}/submit");

    // A partner hub witnessing this hub's log sends back its cosignature of a checkpoint.
    let witness =
        relais::domain::audit::cosignature::WitnessKey::from_seed("hub-w.test/witness", &[7u8; 32])
            .unwrap();
    let partner = crate::common::subject(
        relais::domain::principal::PrincipalKind::Peer,
        "CSIRT W",
        "hub-w",
    );
    let partner = hub.issue_bound(&partner).await;
    std::fs::write(
        hub.data_dir().join("policies/federation.toml"),
        format!(
            "[peers.\"CSIRT W/hub-w\"]\nmax_tlp = \"clear\"\nwitness_key = \"{}\"\n",
            witness.verifier().to_vkey()
        ),
    )
    .unwrap();
    hub.federation.reload().await.unwrap();
    let stored = hub
        .federation
        .services
        .checkpoints
        .checkpoint_now()
        .await
        .unwrap()
        .unwrap();
    let head = SignedCheckpoint::parse(&stored.signed).unwrap().checkpoint;
    let cosign = async {
        let body =
            json!({"checkpoint": head.body(), "cosignature": witness.cosign(&head, 1).line()});
        let resp = hub
            .client_with(Some(&partner))
            .post(hub.url("/api/v1/audit/cosignatures"))
            .json(&body)
            .send()
            .await
            .unwrap();
        let status = resp.status().as_u16();
        (status, resp.json::<Value>().await.unwrap_or(Value::Null))
    };
    let (_, entry) = one_entry(&hub, "audit.cosignature.receive", cosign).await;
    assert_eq!(
        entry.actor.principal,
        hub.principal_named("hub-w").await.id.as_str()
    );
    covered.insert("POST /api/v1/audit/cosignatures");

    // SOC service levels: a contract, an alert and its clock, the contract's records.
    let (contract, _) = one_entry(
        &hub,
        "soc.contract.create",
        api(
            &hub,
            "csirt-analyst",
            M::POST,
            "/api/v1/soc/contracts",
            json!({
                "provider": provider.organisation_id.as_str(),
                "client": "Commune de Saint-Leu",
                "coverage": "business-hours",
                "production_date": "2026-01-05",
                "subscription_start": "2026-01-01",
                "subscription_months": 12,
                "subscribed_assets": 100,
            }),
        ),
    )
    .await;
    covered.insert("POST /api/v1/soc/contracts");
    let contract = contract["id"].as_str().unwrap().to_owned();
    let detected = time::OffsetDateTime::now_utc()
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap();
    let new_alert =
        json!({"contract": contract, "external_id": "siem-1", "level": 2, "detected_at": detected});
    let (alert, entry) = one_entry(
        &hub,
        "soc.alert.create",
        api(
            &hub,
            "provider-a",
            M::POST,
            "/api/v1/soc/alerts",
            new_alert.clone(),
        ),
    )
    .await;
    covered.insert("POST /api/v1/soc/alerts");
    let alert = alert["id"].as_str().unwrap().to_owned();
    assert_eq!(entry.objects, [alert.clone(), contract.clone()]);
    // The SOC's retry of the same alert finds it and writes nothing.
    let before = size(&hub).await;
    let (status, _) = api(&hub, "provider-a", M::POST, "/api/v1/soc/alerts", new_alert).await;
    assert_eq!((status, size(&hub).await), (200, before));
    for (verb, body) in [
        ("pause", json!({"reason": "waiting for the client"})),
        ("resume", json!({"reason": "client answered"})),
        ("ack", json!({})),
    ] {
        one_entry(
            &hub,
            &format!("soc.alert.{verb}"),
            api(
                &hub,
                "provider-a",
                M::POST,
                &format!("/api/v1/soc/alerts/{alert}/{verb}"),
                body,
            ),
        )
        .await;
    }
    covered.insert("POST /api/v1/soc/alerts/{id}/pause");
    covered.insert("POST /api/v1/soc/alerts/{id}/resume");
    covered.insert("POST /api/v1/soc/alerts/{id}/ack");
    let under = format!("/api/v1/soc/contracts/{contract}");
    one_entry(
        &hub,
        "soc.review.create",
        api(
            &hub,
            "csirt-analyst",
            M::POST,
            &format!("{under}/reviews"),
            json!({"reviewed_on": "2026-06-01", "monitored_assets": 104}),
        ),
    )
    .await;
    covered.insert("POST /api/v1/soc/contracts/{id}/reviews");
    let (committee, _) = one_entry(
        &hub,
        "soc.committee.create",
        api(
            &hub,
            "provider-a",
            M::POST,
            &format!("{under}/committees"),
            json!({"held_on": "2026-06-01"}),
        ),
    )
    .await;
    covered.insert("POST /api/v1/soc/contracts/{id}/committees");
    one_entry(
        &hub,
        "soc.committee.minutes",
        api(
            &hub,
            "provider-a",
            M::PUT,
            &format!("{under}/committees/{}/minutes", committee["seq"]),
            json!({"participants": ["RSSI"], "indicators": ["take-in"], "incidents": [], "decisions": ["none"], "action_plan": ["none"]}),
        ),
    )
    .await;
    covered.insert("PUT /api/v1/soc/contracts/{id}/committees/{seq}/minutes");
    one_entry(
        &hub,
        "soc.credits.purchase",
        api(
            &hub,
            "csirt-analyst",
            M::POST,
            &format!("{under}/credits/purchases"),
            json!({"bought_on": "2026-01-10", "amount": 5}),
        ),
    )
    .await;
    covered.insert("POST /api/v1/soc/contracts/{id}/credits/purchases");
    one_entry(
        &hub,
        "soc.credits.use",
        api(
            &hub,
            "provider-a",
            M::POST,
            &format!("{under}/credits/usages"),
            json!({"used_on": "2026-02-10", "amount": 2}),
        ),
    )
    .await;
    covered.insert("POST /api/v1/soc/contracts/{id}/credits/usages");

    let covered: BTreeSet<String> = covered.into_iter().map(str::to_owned).collect();
    assert_eq!(
        covered,
        write_endpoints(),
        "a write endpoint is not covered by this test"
    );

    // A failed write leaves nothing: the transaction that would have held the entry is gone.
    let before = size(&hub).await;
    let (status, _) = api(
        &hub,
        "csirt-analyst",
        M::POST,
        &format!("/api/v1/triage/{}/reject", item(3)),
        json!({"reason": "again"}),
    )
    .await;
    assert_eq!(status, 409);
    assert_eq!(size(&hub).await, before);

    // Seqs run from 0 without a gap and time never goes back.
    let all = hub.store.audit_entries(0, 1000, None).await.unwrap();
    let mut previous = None;
    for (i, stored) in all.iter().enumerate() {
        let e = parse_canonical(&stored.entry).unwrap();
        assert_eq!(e.seq, i as u64);
        assert!(previous.is_none_or(|p| p <= e.time));
        previous = Some(e.time);
    }
    hub.shutdown().await;
}

#[tokio::test]
async fn refused_requests_and_restricted_reads_are_on_record() {
    let Some(hub) = spawn_hub_on(Db::Sqlite).await else {
        return;
    };
    use reqwest::Method as M;
    let provider = hub.principal_named("provider-a").await;

    // A provider trying an analyst's action: who, what, why.
    let before = size(&hub).await;
    let (status, _) = api(
        &hub,
        "provider-a",
        M::POST,
        "/api/v1/cases",
        crate::common::new_case("x", "pending"),
    )
    .await;
    assert_eq!(status, 403);
    assert_eq!(size(&hub).await, before + 1);
    let denied = entry_at(&hub, before).await;
    assert_eq!(denied.action, "request.denied");
    assert_eq!(denied.decision, Decision::Deny);
    assert_eq!(denied.actor.principal, provider.id.as_str());
    assert_eq!(denied.objects, ["POST /api/v1/cases"]);
    assert!(denied.reason.contains("analyst"), "{denied:?}");

    // A revoked certificate: refused without a reason given to the client; the log says
    // which rule refused it and which key it was.
    let credential = hub
        .issue_bound(&crate::common::subject(
            relais::domain::principal::PrincipalKind::Provider,
            "Provider A (demo)",
            "soc-robot",
        ))
        .await;
    let robot = hub.client_with(Some(&credential));
    let binding = hub
        .store
        .bindings()
        .await
        .unwrap()
        .into_iter()
        .find(|b| b.subject.contains("soc-robot"))
        .unwrap();
    hub.store
        .revoke_binding(
            &binding.fingerprint,
            time::OffsetDateTime::now_utc(),
            "lost laptop",
            &crate::common::relais_test_audit(),
        )
        .await
        .unwrap();
    let before = size(&hub).await;
    // The path carries a percent-encoded escape sequence and a newline: they reach the entry
    // as text that cannot move a terminal's cursor or split a line.
    let resp = robot
        .get(hub.url("/api/v1/cases/%1B%5B2J%0Afake"))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status().as_u16(), 403);
    let denied = entry_at(&hub, before).await;
    assert_eq!(denied.reason, "certificate revoked");
    assert_eq!(denied.actor.fingerprint, binding.fingerprint.to_hex());
    let line = String::from_utf8(denied.to_canonical()).unwrap();
    assert!(line.chars().all(|c| (' '..='~').contains(&c)), "{line}");

    // A RED object read over TAXII is on record; a CLEAR one is not.
    let community = format!("/taxii2/api/collections/{COMMUNITY}/objects/");
    let (status, _) = request(
        &hub,
        "csirt-analyst",
        M::POST,
        &community,
        Some((
            TAXII,
            json!({"objects": [indicator(20, "", TLP_CLEAR), indicator(21, "", TLP_RED)]})
                .to_string(),
        )),
    )
    .await;
    assert_eq!(status, 202);
    let clear = indicator(20, "", TLP_CLEAR)["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let red = indicator(21, "", TLP_RED)["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let before = size(&hub).await;
    let (status, _) = get(&hub, "csirt-analyst", &format!("{community}{clear}/")).await;
    assert_eq!(status, 200);
    assert_eq!(size(&hub).await, before, "a CLEAR read is not logged");
    let (_, entry) = one_entry(
        &hub,
        "objects.read",
        get(&hub, "csirt-analyst", &format!("{community}{red}/")),
    )
    .await;
    assert_eq!(entry.objects, [COMMUNITY.to_owned(), red]);
    assert_eq!(entry.markings, ["tlp:red"]);

    // Case material: a case read by its provider.
    let case = crate::common::handed_case(
        &hub,
        crate::common::new_case("CSIRT-RE-2026-0077", "pending"),
        "provider-a",
    )
    .await;
    let case = case.as_str();
    let (_, entry) = one_entry(
        &hub,
        "case.read",
        get(&hub, "provider-a", &format!("/api/v1/cases/{case}")),
    )
    .await;
    assert_eq!(entry.objects, [case]);
    hub.shutdown().await;
}

async fn wait_for_checkpoint(hub: &TestHub, at_least: u64) -> SignedCheckpoint {
    for _ in 0..100 {
        if let Some(c) = hub.store.latest_checkpoint().await.unwrap()
            && c.size >= at_least
        {
            return SignedCheckpoint::parse(&c.signed).unwrap();
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("no checkpoint of size {at_least} within 10 s");
}

fn hashes(v: &Value) -> Vec<Hash> {
    v.as_array()
        .unwrap()
        .iter()
        .map(|h| {
            STANDARD
                .decode(h.as_str().unwrap())
                .unwrap()
                .try_into()
                .unwrap()
        })
        .collect()
}

#[tokio::test]
async fn checkpoints_proofs_and_the_offline_export() {
    let hub = spawn_hub_with(HubOptions {
        postgres: None,
        clock: None,
        tweak: Some(Box::new(|config, _| {
            config.audit.checkpoint_entries = 3;
            config.audit.checkpoint_secs = 1;
        })),
    })
    .await;
    use reqwest::Method as M;

    // A first checkpoint, fetched as a provider and checked against the served key.
    let first = wait_for_checkpoint(&hub, 1).await;
    let (status, text) = get(&hub, "provider-a", "/api/v1/audit/checkpoint").await;
    assert_eq!(status, 200);
    let served = SignedCheckpoint::parse(text.as_str().unwrap()).unwrap();
    assert!(served.checkpoint.size >= first.checkpoint.size);
    assert_eq!(served.checkpoint.origin, "localhost/audit");
    let (status, key) = get(&hub, "provider-a", "/api/v1/audit/public-key").await;
    assert_eq!(status, 200);
    // Kept off the hub, like the witnessed checkpoint, to pin the key at verification.
    let pinned_key = hub.data_dir().join("witnessed-key.asc");
    std::fs::write(&pinned_key, key.as_str().unwrap()).unwrap();
    let key = PublicKey::from_bytes(key.as_str().unwrap().as_bytes()).unwrap();
    served
        .verify(&key, time::OffsetDateTime::now_utc())
        .unwrap();
    let old = served;
    let outside = hub.data_dir().join("witnessed.checkpoint");
    std::fs::write(&outside, old.to_text()).unwrap();

    // Provider A writes; its entries are its own to read and to prove.
    let (status, _) = api(
        &hub,
        "provider-a",
        M::POST,
        "/api/v1/iocs",
        json!([
            {"type": "domain", "value": "proof-1.example"}
        ]),
    )
    .await;
    assert_eq!(status, 200);
    let (status, _) = api(
        &hub,
        "csirt-analyst",
        M::PUT,
        "/api/v1/cases/case--none/consent",
        json!({"consent": "given"}),
    )
    .await;
    assert_eq!(status, 404);
    let target = size(&hub).await;
    let new = wait_for_checkpoint(&hub, target).await;
    let (status, latest) = get(&hub, "provider-a", "/api/v1/audit/checkpoint").await;
    assert_eq!(status, 200);
    let new_served = SignedCheckpoint::parse(latest.as_str().unwrap()).unwrap();
    assert!(new_served.checkpoint.size >= new.checkpoint.size);
    let new = new_served;

    let (_, all) = get(&hub, "csirt-analyst", "/api/v1/audit/entries?limit=1000").await;
    let (_, own) = get(&hub, "provider-a", "/api/v1/audit/entries?limit=1000").await;
    let all = all["entries"].as_array().unwrap().clone();
    let own = own["entries"].as_array().unwrap().clone();
    assert!(own.len() < all.len() && !own.is_empty());
    let provider = hub.principal_named("provider-a").await;
    for e in &own {
        let entry = parse_canonical(e["entry"].as_str().unwrap().as_bytes()).unwrap();
        assert_eq!(entry.actor.principal, provider.id.as_str());
    }
    let mine = own
        .iter()
        .find(|e| e["entry"].as_str().unwrap().contains("submission.add"))
        .unwrap();
    let seq = mine["seq"].as_u64().unwrap();
    let (status, proof) = get(
        &hub,
        "provider-a",
        &format!("/api/v1/audit/proofs/inclusion?seq={seq}"),
    )
    .await;
    assert_eq!(status, 200, "{proof}");
    assert_eq!(proof["tree_size"].as_u64().unwrap(), new.checkpoint.size);
    verify_entry_inclusion(
        proof["entry"].as_str().unwrap().as_bytes(),
        seq,
        new.checkpoint.size,
        &hashes(&proof["path"]),
        &new.checkpoint.root,
    )
    .unwrap();
    // Against a wrong root the same proof fails: the check above can fail.
    assert!(
        verify_entry_inclusion(
            proof["entry"].as_str().unwrap().as_bytes(),
            seq,
            new.checkpoint.size,
            &hashes(&proof["path"]),
            &old.checkpoint.root
        )
        .is_err()
    );
    // An analyst's entry is not the provider's to see.
    let theirs = all
        .iter()
        .find(|e| {
            e["entry"].as_str().unwrap().contains("request.denied")
                || e["entry"]
                    .as_str()
                    .unwrap()
                    .contains("\"principal\":\"hub\"")
        })
        .unwrap()["seq"]
        .as_u64()
        .unwrap();
    let (status, _) = get(
        &hub,
        "provider-a",
        &format!("/api/v1/audit/proofs/inclusion?seq={theirs}"),
    )
    .await;
    assert_eq!(status, 404);

    let (status, consistency) = get(
        &hub,
        "partner-csirt",
        &format!(
            "/api/v1/audit/proofs/consistency?from={}&to={}",
            old.checkpoint.size, new.checkpoint.size
        ),
    )
    .await;
    assert_eq!(status, 200, "{consistency}");
    verify_consistency(
        old.checkpoint.size,
        new.checkpoint.size,
        &old.checkpoint.root,
        &new.checkpoint.root,
        &hashes(&consistency["path"]),
    )
    .unwrap();
    // Past a few tiles (256 leaves each), proofs come from the stored tile roots: they must
    // still verify, for a leaf in a tile and for the tail, and across tile boundaries.
    for _ in 0..700 {
        hub.store
            .append_audit(&crate::common::relais_test_audit())
            .await
            .unwrap();
    }
    let big_size = size(&hub).await;
    let big = wait_for_checkpoint(&hub, big_size).await;
    assert!(
        hub.store.audit_tiles(0, 10).await.unwrap().len() >= 2,
        "tiles are stored"
    );
    for seq in [0, 3, 255, 256, 300, big_size - 1] {
        let (status, proof) = get(
            &hub,
            "csirt-analyst",
            &format!(
                "/api/v1/audit/proofs/inclusion?seq={seq}&size={}",
                big.checkpoint.size
            ),
        )
        .await;
        assert_eq!(status, 200, "{proof}");
        verify_entry_inclusion(
            proof["entry"].as_str().unwrap().as_bytes(),
            seq,
            big.checkpoint.size,
            &hashes(&proof["path"]),
            &big.checkpoint.root,
        )
        .unwrap_or_else(|e| panic!("seq {seq}: {e}"));
    }
    for from in [old.checkpoint.size, new.checkpoint.size, 256, 512] {
        let (status, c) = get(
            &hub,
            "csirt-analyst",
            &format!(
                "/api/v1/audit/proofs/consistency?from={from}&to={}",
                big.checkpoint.size
            ),
        )
        .await;
        assert_eq!(status, 200, "{c}");
        let old_root = if from == old.checkpoint.size {
            old.checkpoint.root
        } else if from == new.checkpoint.size {
            new.checkpoint.root
        } else {
            let leaves = hub.store.audit_leaf_hashes(0, from).await.unwrap();
            relais::domain::audit::merkle::root(&leaves)
        };
        verify_consistency(
            from,
            big.checkpoint.size,
            &old_root,
            &big.checkpoint.root,
            &hashes(&c["path"]),
        )
        .unwrap_or_else(|e| panic!("from {from}: {e}"));
    }

    for bad in [
        "/api/v1/audit/proofs/consistency?from=0".to_owned(),
        format!(
            "/api/v1/audit/proofs/consistency?from={}&to=1",
            new.checkpoint.size
        ),
        format!("/api/v1/audit/proofs/inclusion?seq=0&size={}", u64::MAX),
        "/api/v1/audit/proofs/inclusion?seq=x".to_owned(),
        "/api/v1/audit/entries?from=-1".to_owned(),
    ] {
        let (status, problem) = get(&hub, "csirt-analyst", &bad).await;
        assert_eq!(status, 400, "{bad}: {problem}");
    }

    // The export, while the hub runs, verifies offline against the witnessed checkpoint.
    let out = hub.data_dir().join("export");
    let done = succeed(hub.cli().args(["audit", "export", "--out"]).arg(&out));
    assert!(String::from_utf8_lossy(&done.stdout).starts_with("exported "));
    let verified = succeed(
        hub.cli()
            .args(["audit", "verify"])
            .arg(&out)
            .arg("--checkpoint")
            .arg(&outside)
            .arg("--key")
            .arg(&pinned_key),
    );
    let summary = String::from_utf8_lossy(&verified.stdout);
    assert!(summary.starts_with("ok: "), "{summary}");
    assert!(summary.contains("(trusted)"), "{summary}");
    assert!(
        summary.contains("extends the external checkpoint"),
        "{summary}"
    );
    // Exporting over an existing export is refused, nothing overwritten.
    let again = hub
        .cli()
        .args(["audit", "export", "--out"])
        .arg(&out)
        .output()
        .unwrap();
    assert!(!again.status.success());

    // Someone with the database rewrites an entry: the next export does not verify.
    sqlx::query("UPDATE audit_log SET entry = CAST(REPLACE(CAST(entry AS TEXT), 'submission.add', 'submission.del') AS BLOB) WHERE seq = $1")
        .bind(i64::try_from(seq).unwrap())
        .execute(&sqlite_pool(&hub).await)
        .await
        .unwrap();
    let out = hub.data_dir().join("export-after-edit");
    succeed(hub.cli().args(["audit", "export", "--out"]).arg(&out));
    let failed = hub
        .cli()
        .args(["audit", "verify"])
        .arg(&out)
        .output()
        .unwrap();
    assert!(!failed.status.success());
    let report = String::from_utf8_lossy(&failed.stdout);
    assert!(report.contains("FAILED"), "{report}");
    hub.shutdown().await;
}

async fn sqlite_pool(hub: &TestHub) -> sqlx::SqlitePool {
    sqlx::SqlitePool::connect(&format!(
        "sqlite://{}",
        hub.data_dir().join("relais.db").display()
    ))
    .await
    .unwrap()
}

/// `relais pki …` writes from the hub's host are on record too, as the operator's.
#[tokio::test]
async fn pki_commands_are_on_record() {
    let hub = spawn_hub_with(HubOptions::default()).await;
    let actions = |from: u64| {
        let hub = &hub;
        async move {
            hub.store
                .audit_entries(from, 1000, None)
                .await
                .unwrap()
                .iter()
                .map(|e| parse_canonical(&e.entry).unwrap())
                .collect::<Vec<_>>()
        }
    };
    // First start: the CSIRT, the development CA, the first CRL, the demo principals and the
    // hub's secrets, all by the hub itself.
    let first: Vec<String> = actions(0).await.iter().map(|e| e.action.clone()).collect();
    for expected in [
        "organisation.create",
        "ca.create",
        "crl.publish",
        "principal.create",
        "certificate.issue",
        "hub_secret.create",
    ] {
        assert!(
            first.iter().any(|a| a == expected),
            "{expected} missing from {first:?}"
        );
    }

    let before = size(&hub).await;
    succeed(hub.cli().args([
        "pki",
        "issue",
        "--kind",
        "provider",
        "--org",
        "Provider C",
        "--name",
        "soc",
    ]));
    let issued = actions(before).await;
    let names: Vec<&str> = issued.iter().map(|e| e.action.as_str()).collect();
    assert_eq!(
        names,
        [
            "organisation.create",
            "principal.create",
            "certificate.issue"
        ]
    );
    assert!(
        issued
            .iter()
            .all(|e| e.actor.principal == "operator" && e.actor.fingerprint.is_empty())
    );
    let fingerprint = issued[2].objects[0].trim_start_matches("spki:").to_owned();

    let before = size(&hub).await;
    succeed(hub.cli().args([
        "pki",
        "revoke",
        "--fingerprint",
        &fingerprint,
        "--reason",
        "key compromise",
    ]));
    let revoked = actions(before).await;
    let names: Vec<&str> = revoked.iter().map(|e| e.action.as_str()).collect();
    assert_eq!(names, ["certificate.revoke", "crl.publish"]);
    assert_eq!(revoked[0].reason, "key compromise");
    // Revoking again changes nothing and records nothing.
    let before = size(&hub).await;
    succeed(
        hub.cli()
            .args(["pki", "revoke", "--fingerprint", &fingerprint]),
    );
    let again: Vec<String> = actions(before)
        .await
        .iter()
        .map(|e| e.action.clone())
        .collect();
    assert!(
        !again.contains(&"certificate.revoke".to_owned()),
        "{again:?}"
    );
    hub.shutdown().await;
}

/// Point 10 of issue 11: a proof asked beyond the log answered "tree size N is beyond the log's
/// M entries", a live count of everyone's activity. Proofs are against signed sizes only, the
/// refusal names none but the size asked, and providers, who witness nothing, get no
/// consistency proofs.
#[tokio::test]
async fn proof_errors_do_not_reveal_the_live_size() {
    let hub = spawn_hub_with(HubOptions {
        tweak: Some(Box::new(|c, _| {
            c.audit.checkpoint_entries = 1_000_000;
            c.audit.checkpoint_secs = 3600;
        })),
        ..Default::default()
    })
    .await;
    let signed = wait_for_checkpoint(&hub, 1).await.checkpoint.size;
    // An entry of their own (a refused request), so that its proofs are theirs to ask.
    let mut own = std::collections::HashMap::from([("csirt-analyst", 0)]);
    for who in ["provider-a", "partner-csirt"] {
        let (status, _) = get(&hub, who, "/api/v1/triage").await;
        assert_eq!(status, 403);
        let seq = size(&hub).await - 1;
        assert_eq!(entry_at(&hub, seq).await.action, "request.denied");
        own.insert(who, seq);
    }
    for _ in 0..10 {
        hub.store
            .append_audit(&crate::common::relais_test_audit())
            .await
            .unwrap();
    }
    let live = size(&hub).await;
    assert!(live > signed);
    for who in ["provider-a", "partner-csirt", "csirt-analyst"] {
        // Between the checkpoint and the live size, and past it: the same answer, so that it
        // cannot be searched for either.
        let seq = own[who];
        for asked in [signed + 1, live, live + 1] {
            for path in [
                format!("/api/v1/audit/proofs/inclusion?seq={seq}&size={asked}"),
                format!("/api/v1/audit/proofs/consistency?from=1&to={asked}"),
            ] {
                let (status, problem) = get(&hub, who, &path).await;
                if who == "provider-a" && path.contains("consistency") {
                    assert_eq!(status, 403, "{who} {path}: {problem}");
                    continue;
                }
                assert_eq!(status, 400, "{who} {path}: {problem}");
                let detail = problem["detail"].as_str().unwrap();
                assert_eq!(
                    detail,
                    format!("tree size {asked} is beyond the latest checkpoint"),
                    "{who} {path}"
                );
            }
        }
    }
    // What concerns a provider it still gets: its entries' inclusion in the checkpoint.
    let (status, _) = get(&hub, "provider-a", "/api/v1/audit/checkpoint").await;
    assert_eq!(status, 200);
    let (status, consistency) = get(
        &hub,
        "partner-csirt",
        &format!("/api/v1/audit/proofs/consistency?from=1&to={signed}"),
    )
    .await;
    assert_eq!(status, 200, "{consistency}");
    let (status, denied) = get(
        &hub,
        "provider-a",
        &format!("/api/v1/audit/proofs/consistency?from=1&to={signed}"),
    )
    .await;
    assert_eq!(status, 403, "{denied}");
    hub.shutdown().await;
}
