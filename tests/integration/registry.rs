//! The provider registry over real mTLS with a driven clock: renewals and expiry, the 15-day
//! re-signature rule, the one-month notices, the three-survey rule, access cut on suspension;
//! applications with real OpenPGP signatures; the public directory, survey form and badge
//! checks (reqwest, curl and headless Chromium).
//!
//! The deadline job's rounds are the tests' own: each moves the clock, runs one round with
//! [`tick`] and awaits it, so that what it asserts next (a change, or that nothing changed) is
//! that round's doing. The hub's own loop around the same round has a test of its own.

use std::sync::Arc;
use std::time::Duration as StdDuration;

use relais::clock::{Clock, FixedClock};
use relais::crypto::openpgp::AuditKey;
use relais::services::registry::{Deadlines, RegistryError, Round};
use reqwest::Method;
use serde_json::{Value, json};
use time::{Duration, OffsetDateTime};

use crate::common::{HubOptions, PgDatabase, TestHub, have, not_run, spawn_hub_with, succeed};

async fn api(
    hub: &TestHub,
    who: &str,
    method: Method,
    path: &str,
    body: Option<Value>,
) -> (u16, Value) {
    let mut req = hub.client(who).request(method, hub.url(path));
    if let Some(body) = body {
        req = req
            .header("content-type", "application/json")
            .body(body.to_string());
    }
    let resp = req.send().await.unwrap();
    let status = resp.status().as_u16();
    let text = resp.text().await.unwrap();
    (
        status,
        serde_json::from_str(&text).unwrap_or(Value::String(text)),
    )
}

async fn get(hub: &TestHub, who: &str, path: &str) -> (u16, Value) {
    api(hub, who, Method::GET, path, None).await
}

async fn post(hub: &TestHub, who: &str, path: &str, body: Value) -> (u16, Value) {
    api(hub, who, Method::POST, path, Some(body)).await
}

async fn whoami(hub: &TestHub, who: &str) -> u16 {
    get(hub, who, "/api/v1/whoami").await.0
}

/// A hub whose clock the test moves; certificates last ten years so that only the registry
/// decides access. The hub's deadline job runs its round at start and then once a day of real
/// time, that is not again during the test: the test runs the rounds with [`tick`].
async fn driven_hub() -> (TestHub, FixedClock) {
    driven_hub_every(86_400).await
}

/// As [`driven_hub`], with the hub's deadline job running every `secs` seconds.
async fn driven_hub_every(secs: u64) -> (TestHub, FixedClock) {
    driven_hub_on(None, secs).await
}

/// As [`driven_hub`], on a PostgreSQL database of its own; None (the test says it did not
/// run) without `RELAIS_TEST_POSTGRES_URL`.
async fn driven_hub_on_postgres() -> Option<(TestHub, FixedClock)> {
    let pg = PgDatabase::create().await?;
    Some(driven_hub_on(Some(pg), 86_400).await)
}

async fn driven_hub_on(postgres: Option<PgDatabase>, secs: u64) -> (TestHub, FixedClock) {
    // A minute ahead: the demo providers' keys and signatures, made at first start on the
    // system clock, are in the hub's past.
    let clock = FixedClock::new(OffsetDateTime::now_utc() + Duration::minutes(1));
    let hub = spawn_hub_with(HubOptions {
        postgres,
        clock: Some(Arc::new(clock.clone())),
        tweak: Some(Box::new(move |c, _| {
            c.pki.client_validity_days = 3650;
            c.registry.deadline_check_secs = secs;
        })),
    })
    .await;
    (hub, clock)
}

/// One round of the deadline job at the hub's time, awaited: a round that hangs fails the
/// test after 20 s rather than letting a later assertion pass by luck.
async fn tick(hub: &TestHub, clock: &FixedClock) -> Round {
    let round = tokio::time::timeout(
        StdDuration::from_secs(20),
        Deadlines::new(hub.store.as_ref()).tick(clock.now()),
    )
    .await
    .expect("the deadline round finishes")
    .expect("the deadline round reads the registry");
    // A conflict can only be the hub's own round at start writing the same change first: the
    // state the caller asserts is then its doing, and the same. Any other failure is a bug.
    for (org, e) in &round.failures {
        assert!(
            matches!(e, RegistryError::Conflict(_)),
            "{}: {e}",
            org.as_str()
        );
    }
    round
}

async fn org_id(hub: &TestHub, name: &str) -> String {
    hub.store
        .organisation_by_name(name)
        .await
        .unwrap()
        .unwrap()
        .id
        .as_str()
        .to_owned()
}

async fn status(hub: &TestHub, org: &str) -> String {
    let (code, p) = get(
        hub,
        "csirt-analyst",
        &format!("/api/v1/registry/providers/{org}"),
    )
    .await;
    assert_eq!(code, 200, "{p}");
    p["status"].as_str().unwrap().to_owned()
}

/// Waits for the hub's own deadline job to bring `org` to `wanted`: only for the test of the
/// job's loop, the others run their rounds with [`tick`].
async fn wait_status(hub: &TestHub, org: &str, wanted: &str) {
    for _ in 0..50 {
        if status(hub, org).await == wanted {
            return;
        }
        tokio::time::sleep(StdDuration::from_millis(100)).await;
    }
    panic!("{org} never became {wanted}: {}", status(hub, org).await);
}

async fn directory_names(hub: &TestHub) -> Vec<String> {
    let resp = hub
        .client_with(None)
        .get(hub.public_url("/directory.json"))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status().as_u16(), 200);
    let list: Vec<Value> = resp.json().await.unwrap();
    list.iter()
        .map(|e| e["name"].as_str().unwrap().to_owned())
        .collect()
}

fn demo_key(hub: &TestHub, principal: &str) -> AuditKey {
    let armored = std::fs::read(
        hub.data_dir()
            .join(format!("certs/demo/{principal}-openpgp.asc")),
    )
    .unwrap();
    AuditKey::from_armored_secret(&armored).unwrap()
}

#[tokio::test]
async fn renewals_then_expiry_follow_the_clock() {
    let (hub, clock) = driven_hub().await;
    renewals_then_expiry(hub, clock).await;
}

/// The same rounds against PostgreSQL, whose store checks each write against the state it was
/// computed from in its own way.
#[tokio::test]
async fn renewals_then_expiry_follow_the_clock_on_postgres() {
    if let Some((hub, clock)) = driven_hub_on_postgres().await {
        renewals_then_expiry(hub, clock).await;
    }
}

async fn renewals_then_expiry(hub: TestHub, clock: FixedClock) {
    let a = org_id(&hub, "Provider A (demo)").await;
    assert_eq!(status(&hub, &a).await, "referenced");
    let (_, me) = get(&hub, "provider-a", "/api/v1/registry/me").await;
    assert_eq!(me["referencing"]["renewals"], 0);

    for year in [1, 2] {
        clock.advance(Duration::days(366));
        tick(&hub, &clock).await;
        let (_, standing) = get(
            &hub,
            "provider-a",
            &format!("/api/v1/registry/providers/{a}/standing"),
        )
        .await;
        assert_eq!(standing["renewals"], year, "{standing}");
        assert_eq!(standing["status"], "renewed", "{standing}");
        assert_eq!(whoami(&hub, "provider-a").await, 200);
    }
    clock.advance(Duration::days(366));
    tick(&hub, &clock).await;
    assert_eq!(status(&hub, &a).await, "expired");
    // Access, shortlists and the directory follow at once; past contributions stay.
    assert_eq!(whoami(&hub, "provider-a").await, 403);
    assert!(
        !directory_names(&hub)
            .await
            .contains(&"Provider A (demo)".to_owned())
    );
    let (_, shortlist) = get(&hub, "csirt-analyst", "/api/v1/registry/shortlist").await;
    assert!(!shortlist.to_string().contains("Provider A"));
    let (_, history) = get(
        &hub,
        "csirt-analyst",
        &format!("/api/v1/registry/providers/{a}/history"),
    )
    .await;
    let actions: Vec<&str> = history
        .as_array()
        .unwrap()
        .iter()
        .map(|h| h["action"].as_str().unwrap())
        .collect();
    assert_eq!(
        actions,
        [
            "registry.reference",
            "registry.renewed",
            "registry.renewed",
            "registry.expired"
        ]
    );
    assert!(
        history.as_array().unwrap()[1..]
            .iter()
            .all(|h| h["actor"] == "hub")
    );
    hub.shutdown().await;
}

/// The hub's own loop runs the same round: left to itself, it renews a provider whose term
/// ended, on the hub's clock.
#[tokio::test]
async fn the_hub_runs_its_deadline_job_by_itself() {
    let (hub, clock) = driven_hub_every(1).await;
    let a = org_id(&hub, "Provider A (demo)").await;
    assert_eq!(status(&hub, &a).await, "referenced");
    clock.advance(Duration::days(366));
    wait_status(&hub, &a, "renewed").await;
    hub.shutdown().await;
}

#[tokio::test]
async fn suspension_cuts_access_at_once_and_reinstatement_restores_it() {
    let (hub, _clock) = driven_hub().await;
    let a = org_id(&hub, "Provider A (demo)").await;
    assert_eq!(whoami(&hub, "provider-a").await, 200);
    let transitions = format!("/api/v1/registry/providers/{a}/transitions");
    // A reason is required, and only analysts suspend.
    let (code, _) = post(
        &hub,
        "csirt-analyst",
        &transitions,
        json!({"event": "suspend"}),
    )
    .await;
    assert_eq!(code, 400);
    let (code, _) = post(
        &hub,
        "provider-b",
        &transitions,
        json!({"event": "suspend", "reason": "x"}),
    )
    .await;
    assert_eq!(
        code, 404,
        "another provider's entry does not exist for provider B"
    );
    let (code, p) = post(
        &hub,
        "csirt-analyst",
        &transitions,
        json!({"event": "suspend", "reason": "audit en cours"}),
    )
    .await;
    assert_eq!(code, 200, "{p}");
    assert_eq!(whoami(&hub, "provider-a").await, 403);
    // Gone from case shortlists too, whatever the draw.
    let (code, p) = post(
        &hub,
        "csirt-analyst",
        "/api/v1/cases",
        crate::common::new_case("CSIRT-RE-2026-SUSP", "pending"),
    )
    .await;
    assert_eq!(code, 201, "{p}");
    let case = p["id"].as_str().unwrap().to_owned();
    for _ in 0..4 {
        let (code, list) = post(
            &hub,
            "csirt-analyst",
            &format!("/api/v1/cases/{case}/shortlist"),
            json!({}),
        )
        .await;
        assert_eq!(code, 201, "{list}");
        assert!(!list["entries"].to_string().contains(&a), "{list}");
        let excluded = list["excluded"].as_array().unwrap();
        assert!(
            excluded
                .iter()
                .any(|e| e["provider"] == a.as_str() && e["reasons"][0]["detail"] == "suspended"),
            "{list}"
        );
    }
    let (_, shortlist) = get(&hub, "csirt-analyst", "/api/v1/registry/shortlist").await;
    assert!(!shortlist.to_string().contains("Provider A"), "{shortlist}");
    assert!(
        !directory_names(&hub)
            .await
            .contains(&"Provider A (demo)".to_owned())
    );
    let (code, _) = post(
        &hub,
        "csirt-analyst",
        &transitions,
        json!({"event": "reinstate", "reason": "audit clos"}),
    )
    .await;
    assert_eq!(code, 200);
    assert_eq!(whoami(&hub, "provider-a").await, 200);
    // Every transition is in the audit log with who and why; what a person typed is kept by
    // its hash (it may name someone), the text in the provider's history.
    let all = hub.store.audit_entries(0, 1000, None).await.unwrap();
    let text: Vec<String> = all
        .iter()
        .map(|e| String::from_utf8(e.entry.clone()).unwrap())
        .collect();
    let digest = relais::domain::audit::record::text_digest("audit en cours");
    assert!(
        text.iter()
            .any(|e| e.contains("registry.suspend") && e.contains(&digest))
    );
    assert!(!text.iter().any(|e| e.contains("audit en cours")));
    let (_, history) = get(
        &hub,
        "csirt-analyst",
        &format!("/api/v1/registry/providers/{a}/history"),
    )
    .await;
    assert!(history.to_string().contains("audit en cours"));
    hub.shutdown().await;
}

#[tokio::test]
async fn a_new_convention_version_must_be_signed_within_15_days() {
    let (hub, clock) = driven_hub().await;
    let a = org_id(&hub, "Provider A (demo)").await;
    let b = org_id(&hub, "Provider B (demo)").await;
    let text = "Convention, version 2: article 14 clarifié.\n";
    let (code, _) = post(
        &hub,
        "provider-a",
        "/api/v1/registry/conventions",
        json!({"text": text}),
    )
    .await;
    assert_eq!(code, 403);
    let (code, v2) = post(
        &hub,
        "csirt-analyst",
        "/api/v1/registry/conventions",
        json!({"text": text}),
    )
    .await;
    assert_eq!(code, 201, "{v2}");
    assert_eq!(v2["version"], 2);
    // The deadline job asks each provider in force for its signature.
    tick(&hub, &clock).await;
    let (_, standing) = get(
        &hub,
        "provider-b",
        &format!("/api/v1/registry/providers/{b}/standing"),
    )
    .await;
    assert!(
        standing["due"].to_string().contains("signature"),
        "{standing}"
    );
    let (_, me) = get(&hub, "provider-a", "/api/v1/registry/me").await;
    assert_eq!(me["referencing"]["pending_version"]["version"], 2, "{me}");

    // Provider A signs with its registered key; a signature by another key is refused.
    let (_, conventions) = get(&hub, "provider-a", "/api/v1/registry/conventions").await;
    let published = conventions.as_array().unwrap().last().unwrap()["text"]
        .as_str()
        .unwrap()
        .to_owned();
    let now = OffsetDateTime::now_utc();
    let wrong = demo_key(&hub, "provider-b")
        .sign_detached(published.as_bytes(), now)
        .unwrap();
    let sign = format!("/api/v1/registry/providers/{a}/convention-signature");
    let (code, p) = post(
        &hub,
        "provider-a",
        &sign,
        json!({"version": 2, "signature": wrong}),
    )
    .await;
    assert_eq!(code, 422, "{p}");
    let right = demo_key(&hub, "provider-a")
        .sign_detached(published.as_bytes(), now)
        .unwrap();
    let (code, p) = post(
        &hub,
        "provider-a",
        &sign,
        json!({"version": 2, "signature": right}),
    )
    .await;
    assert_eq!(code, 200, "{p}");

    clock.advance(Duration::days(14));
    assert_eq!(tick(&hub, &clock).await.changes, 0, "nothing is due yet");
    assert_eq!(status(&hub, &b).await, "referenced");
    clock.advance(Duration::days(1) + Duration::minutes(1));
    // B, and the demo's C and D, which did not sign either.
    assert_eq!(
        tick(&hub, &clock).await.changes,
        3,
        "B's, C's and D's deadlines passed"
    );
    assert_eq!(status(&hub, &b).await, "dereferenced");
    assert_eq!(status(&hub, &a).await, "referenced");
    assert_eq!(whoami(&hub, "provider-b").await, 403);
    assert_eq!(whoami(&hub, "provider-a").await, 200);
    hub.shutdown().await;
}

#[tokio::test]
async fn notices_take_effect_after_one_month_unless_cancelled() {
    let (hub, clock) = driven_hub().await;
    let a = org_id(&hub, "Provider A (demo)").await;
    let b = org_id(&hub, "Provider B (demo)").await;
    // Provider A ends its own convention; it keeps working during the notice.
    let (code, p) = post(
        &hub,
        "provider-a",
        &format!("/api/v1/registry/providers/{a}/transitions"),
        json!({"event": "terminate", "reason": "cessation d'activité"}),
    )
    .await;
    assert_eq!(code, 200, "{p}");
    assert_eq!(p["status"], "notice_given");
    assert_eq!(p["referencing"]["notice"]["by"], "provider");
    let (code, p) = post(
        &hub,
        "csirt-analyst",
        &format!("/api/v1/registry/providers/{a}/transitions"),
        json!({"event": "cancel_notice", "reason": "non"}),
    )
    .await;
    assert_eq!(code, 409, "the provider's own notice is its right: {p}");
    // The provider keeps its file current, but what the CSIRT vouches for is not its to change.
    let (_, mine) = get(&hub, "provider-a", "/api/v1/registry/me").await;
    let mut file = mine["file"].clone();
    file["fields_of_competence"] = json!(["Windows", "cloud"]);
    let (code, p) = api(
        &hub,
        "provider-a",
        Method::PUT,
        &format!("/api/v1/registry/providers/{a}/file"),
        Some(file.clone()),
    )
    .await;
    assert_eq!(code, 200, "{p}");
    file["qualifications"][0]["expires"] = json!("2099-12-31");
    let (code, p) = api(
        &hub,
        "provider-a",
        Method::PUT,
        &format!("/api/v1/registry/providers/{a}/file"),
        Some(file),
    )
    .await;
    assert_eq!(code, 400, "{p}");
    // A breach recorded against provider B opens the procedure; the analyst cancels it.
    let tb = format!("/api/v1/registry/providers/{b}/transitions");
    let (code, _) = post(
        &hub,
        "csirt-analyst",
        &tb,
        json!({"event": "breach", "reason": "délai de prise en charge non tenu"}),
    )
    .await;
    assert_eq!(code, 200);
    let (code, _) = post(
        &hub,
        "csirt-analyst",
        &tb,
        json!({"event": "cancel_notice"}),
    )
    .await;
    assert_eq!(code, 400, "cancelling needs a reason");
    let (code, p) = post(
        &hub,
        "csirt-analyst",
        &tb,
        json!({"event": "cancel_notice", "reason": "explications reçues"}),
    )
    .await;
    assert_eq!((code, p["status"].as_str()), (200, Some("referenced")));

    clock.advance(Duration::days(27));
    assert_eq!(tick(&hub, &clock).await.changes, 0, "nothing is due yet");
    assert_eq!(status(&hub, &a).await, "notice_given");
    assert_eq!(whoami(&hub, "provider-a").await, 200);
    clock.advance(Duration::days(5));
    tick(&hub, &clock).await;
    assert_eq!(status(&hub, &a).await, "terminated");
    assert_eq!(whoami(&hub, "provider-a").await, 403);
    assert_eq!(status(&hub, &b).await, "referenced");
    hub.shutdown().await;
}

async fn open_case(hub: &TestHub, provider: &str, n: usize) -> String {
    crate::common::handed_case(
        hub,
        crate::common::new_case(&format!("CSIRT-RE-2026-S{n}"), "pending"),
        provider,
    )
    .await
}

async fn answer(hub: &TestHub, url: &str, rating: u8) -> (u16, String) {
    let token = url.split("token=").nth(1).unwrap();
    let mut form = form_urlencoded::Serializer::new(String::new());
    form.append_pair("token", token);
    for q in [
        "responsiveness",
        "analysis_quality",
        "communication",
        "result",
        "overall",
    ] {
        form.append_pair(q, &rating.to_string());
    }
    form.append_pair("comment", "réponse de test");
    let resp = hub
        .client_with(None)
        .post(hub.public_url("/survey"))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(form.finish())
        .send()
        .await
        .unwrap();
    (resp.status().as_u16(), resp.text().await.unwrap())
}

#[tokio::test]
async fn three_unfavourable_surveys_open_the_dereferencing_procedure() {
    let (hub, clock) = driven_hub().await;
    let b = org_id(&hub, "Provider B (demo)").await;
    let mut links = Vec::new();
    for n in 0..4 {
        let case = open_case(&hub, "provider-b", n).await;
        let (code, link) = post(
            &hub,
            "csirt-analyst",
            &format!("/api/v1/cases/{case}/survey"),
            json!({}),
        )
        .await;
        assert_eq!(code, 201, "{link}");
        links.push(link["url"].as_str().unwrap().to_owned());
    }
    assert!(links[0].starts_with("https://localhost:"));
    // The form opens without a certificate.
    let form = hub
        .client_with(None)
        .get(hub.public_url(&format!("/survey?{}", links[0].split('?').nth(1).unwrap())))
        .send()
        .await
        .unwrap();
    assert_eq!(form.status().as_u16(), 200);
    assert!(
        form.text()
            .await
            .unwrap()
            .contains("name=\"responsiveness\"")
    );

    let (code, _) = answer(&hub, &links[0], 5).await;
    assert_eq!(code, 200);
    // Single use.
    let (code, page) = answer(&hub, &links[0], 1).await;
    assert_eq!(code, 409, "{page}");
    // A forged token.
    let (code, _) = answer(&hub, &format!("{}x", links[1]), 1).await;
    assert_eq!(code, 404);
    for link in &links[1..3] {
        assert_eq!(answer(&hub, link, 1).await.0, 200);
        assert_eq!(status(&hub, &b).await, "referenced");
    }
    assert_eq!(answer(&hub, &links[3], 2).await.0, 200);
    assert_eq!(status(&hub, &b).await, "notice_given");
    let (_, standing) = get(
        &hub,
        "provider-b",
        &format!("/api/v1/registry/providers/{b}/standing"),
    )
    .await;
    assert_eq!(standing["surveys"]["answered"], 4, "{standing}");
    assert_eq!(standing["surveys"]["unfavourable"], 3, "{standing}");
    // The answers themselves stay with the CSIRT: the provider sees the aggregate only.
    assert!(!standing.to_string().contains("réponse de test"));

    clock.advance(Duration::days(32));
    tick(&hub, &clock).await;
    assert_eq!(status(&hub, &b).await, "dereferenced");
    assert_eq!(whoami(&hub, "provider-b").await, 403);
    // An expired link is refused with its own message.
    let case = open_case(&hub, "provider-a", 9).await;
    let (_, link) = post(
        &hub,
        "csirt-analyst",
        &format!("/api/v1/cases/{case}/survey"),
        json!({}),
    )
    .await;
    clock.advance(Duration::days(31));
    let (code, _) = answer(&hub, link["url"].as_str().unwrap(), 5).await;
    assert_eq!(code, 410);
    hub.shutdown().await;
}

fn application(name: &str, key: &AuditKey, evidence: &str) -> Value {
    json!({
        "legal_name": name,
        "siren": "552100554",
        "siret": "55210055400013",
        "contacts": [{"name": "Marie Payet", "role": "directrice", "email": "marie@cyber974.example", "phone": "+262 262 00 00 00"}],
        "website": "https://cyber974.example/",
        "catalogue_url": "https://cyber974.example/offres/reponse-incident",
        "catalogue_lists_incident_response": true,
        "services": [
            {"service": "qualification", "jho": true, "jhno": true},
            {"service": "containment", "jho": true, "jhno": false}
        ],
        "fields_of_competence": ["OT", "cloud"],
        "qualifications": [{"kind": "pris", "evidence_sha256": evidence, "evidence_name": "pris.pdf", "expires": "2028-06-30"}],
        "staff_training": "GIAC, OSCP",
        "staff_experience": "12 ans",
        "client_references": [{"client": "Hôpital (confidentiel)", "description": "", "confidential": true}],
        "openpgp_key": key.public_armored().unwrap()
    })
}

/// The text of the convention in force, which a provider signs to be referenced.
async fn latest_convention(hub: &TestHub) -> String {
    let (_, conventions) = get(hub, "csirt-analyst", "/api/v1/registry/conventions").await;
    conventions.as_array().unwrap().last().unwrap()["text"]
        .as_str()
        .unwrap()
        .to_owned()
}

/// Found by schemathesis: evidence for a provider id that names no entry failed on the
/// store's foreign key and was answered 503, as if the database were down.
#[tokio::test]
async fn evidence_for_an_unknown_provider_is_not_found() {
    let hub = crate::common::spawn_hub().await;
    let resp = hub
        .client("csirt-analyst")
        .post(hub.url("/api/v1/registry/providers/%C3%A3/evidence?name=x.pdf"))
        .body(b"8".to_vec())
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status().as_u16(), 404);
    assert_eq!(
        resp.headers()[reqwest::header::CONTENT_TYPE],
        "application/problem+json"
    );
    hub.shutdown().await;
}

#[tokio::test]
async fn an_application_is_reviewed_signed_referenced_and_badged() {
    let (hub, _clock) = driven_hub().await;
    let now = OffsetDateTime::now_utc();
    let key = AuditKey::generate("Cyber 974 <contact@cyber974.example>", now).unwrap();
    // Evidence first: a file the hub keeps under its SHA-256.
    let resp = hub
        .client("csirt-analyst")
        .post(hub.url("/api/v1/registry/evidence?name=pris.pdf"))
        .body(b"%PDF-1.7 attestation PRIS".to_vec())
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status().as_u16(), 201);
    let evidence: Value = resp.json().await.unwrap();
    let sha = evidence["sha256"].as_str().unwrap();

    // Bad files are refused field by field, nothing stored.
    let mut bad = application("Cyber 974", &key, sha);
    bad["siren"] = json!("552100555");
    bad["qualifications"][0]["evidence_sha256"] = json!("00".repeat(32));
    let (code, p) = post(&hub, "csirt-analyst", "/api/v1/registry/providers", bad).await;
    assert_eq!(code, 422, "{p}");
    assert!(p["detail"].as_str().unwrap().contains("siren"), "{p}");
    // A name is one line: a line break could forge a field of a signed badge.
    let forged_name = application("Evil SARL\nBadge: badge--x", &key, sha);
    let (code, p) = post(
        &hub,
        "csirt-analyst",
        "/api/v1/registry/providers",
        forged_name,
    )
    .await;
    assert_eq!(code, 422, "{p}");
    let (code, _) = post(
        &hub,
        "provider-a",
        "/api/v1/registry/providers",
        application("Cyber 974", &key, sha),
    )
    .await;
    assert_eq!(code, 403);

    let (code, applied) = post(
        &hub,
        "csirt-analyst",
        "/api/v1/registry/providers",
        application("Cyber 974", &key, sha),
    )
    .await;
    assert_eq!(code, 201, "{applied}");
    assert_eq!(applied["status"], "applied");
    assert_eq!(applied["conditions"]["incident_response_offered"], true);
    assert_eq!(applied["conditions"]["listed_in_public_catalogue"], true);
    let id = applied["id"].as_str().unwrap().to_owned();
    let base = format!("/api/v1/registry/providers/{id}");

    let text = latest_convention(&hub).await;
    let signature = key.sign_detached(text.as_bytes(), now).unwrap();
    // Not before review.
    let (code, _) = post(
        &hub,
        "csirt-analyst",
        &format!("{base}/reference"),
        json!({"signature": signature}),
    )
    .await;
    assert_eq!(code, 409);
    let (code, _) = post(
        &hub,
        "csirt-analyst",
        &format!("{base}/transitions"),
        json!({"event": "start_review"}),
    )
    .await;
    assert_eq!(code, 200);
    let forged = AuditKey::generate("x <x@example.org>", now)
        .unwrap()
        .sign_detached(text.as_bytes(), now)
        .unwrap();
    let (code, p) = post(
        &hub,
        "csirt-analyst",
        &format!("{base}/reference"),
        json!({"signature": forged}),
    )
    .await;
    assert_eq!(code, 422, "{p}");
    let (code, p) = post(
        &hub,
        "csirt-analyst",
        &format!("{base}/reference"),
        json!({"signature": signature}),
    )
    .await;
    assert_eq!(code, 200, "{p}");
    assert_eq!(p["status"], "referenced");
    assert_eq!(p["convention_signature"], json!(signature));

    // Its people get certificates and in; it appears in the directory, qualified.
    let credential = hub
        .issue_bound(&crate::common::subject(
            relais::domain::principal::PrincipalKind::Provider,
            "Cyber 974",
            "soc",
        ))
        .await;
    let cyber = hub.client_with(Some(&credential));
    let resp = cyber
        .get(hub.url("/api/v1/registry/me"))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status().as_u16(), 200);
    let resp = hub
        .client_with(None)
        .get(hub.public_url("/directory.json"))
        .send()
        .await
        .unwrap();
    let directory: Vec<Value> = resp.json().await.unwrap();
    let entry = directory.iter().find(|e| e["name"] == "Cyber 974").unwrap();
    assert_eq!(entry["level"], "qualified");
    // Published fields only: no contact, reference, SIREN or key.
    let published = entry.to_string();
    for secret in ["Marie", "Hôpital", "552100554", "PGP", "cyber974.example"] {
        assert!(
            !published.contains(secret),
            "{secret} published: {published}"
        );
    }

    // Badge: clear-signed, verifies while referenced, not after suspension.
    let resp = cyber
        .post(hub.url(&format!("{base}/badge")))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status().as_u16(), 201);
    let badge: Value = resp.json().await.unwrap();
    let text = badge["text"].as_str().unwrap().to_owned();
    assert!(
        text.starts_with("-----BEGIN PGP SIGNED MESSAGE-----"),
        "{text}"
    );
    let check = |text: String| {
        let hub = &hub;
        async move {
            let resp = hub
                .client_with(None)
                .post(hub.public_url("/badge/verify"))
                .header("content-type", "text/plain")
                .body(text)
                .send()
                .await
                .unwrap();
            resp.json::<Value>().await.unwrap()
        }
    };
    assert_eq!(check(text.clone()).await["valid"], true);
    assert_eq!(
        check(text.replace("Cyber 974", "Cyber 975")).await["valid"],
        false
    );
    let (code, _) = post(
        &hub,
        "csirt-analyst",
        &format!("{base}/transitions"),
        json!({"event": "suspend", "reason": "contrôle"}),
    )
    .await;
    assert_eq!(code, 200);
    assert_eq!(check(text).await["valid"], false);
    assert_eq!(
        cyber
            .get(hub.url("/api/v1/whoami"))
            .send()
            .await
            .unwrap()
            .status()
            .as_u16(),
        403
    );

    // Badges are signed by the registry key, not by the audit log's.
    let audit_key = relais::crypto::openpgp::PublicKey::from_bytes(
        get(&hub, "csirt-analyst", "/api/v1/audit/public-key")
            .await
            .1
            .as_str()
            .unwrap()
            .as_bytes(),
    )
    .unwrap();
    assert!(
        relais::crypto::openpgp::verify_cleartext(
            &audit_key,
            badge["text"].as_str().unwrap().as_bytes(),
            OffsetDateTime::now_utc() + Duration::days(1)
        )
        .is_err()
    );
    let registry_secret = hub
        .store
        .hub_secret("registry-openpgp-key")
        .await
        .unwrap()
        .unwrap();
    assert_ne!(
        AuditKey::from_armored_secret(&registry_secret)
            .unwrap()
            .public_key()
            .fingerprint(),
        audit_key.fingerprint()
    );
    let (_, history) = get(&hub, "csirt-analyst", &format!("{base}/history")).await;
    let actions: Vec<&str> = history
        .as_array()
        .unwrap()
        .iter()
        .map(|h| h["action"].as_str().unwrap())
        .collect();
    assert_eq!(
        actions,
        [
            "registry.apply",
            "registry.review",
            "registry.reference",
            "registry.suspend"
        ]
    );
    hub.shutdown().await;
}

/// Text of an HTML page with its character references decoded, as a browser shows it; whichever
/// form the escaper chose (`&lt;`, `&#60;`, `&#x3c;`) reads the same.
fn html_text(page: &str) -> String {
    let mut out = String::with_capacity(page.len());
    let mut rest = page;
    while let Some(at) = rest.find('&') {
        out.push_str(&rest[..at]);
        rest = &rest[at..];
        let decoded = rest.find(';').and_then(|end| {
            let entity = &rest[1..end];
            let c = match entity {
                "lt" => Some('<'),
                "gt" => Some('>'),
                "amp" => Some('&'),
                "quot" => Some('"'),
                "apos" => Some('\''),
                "nbsp" => Some('\u{a0}'),
                _ => entity
                    .strip_prefix("#x")
                    .or_else(|| entity.strip_prefix("#X"))
                    .map(|hex| u32::from_str_radix(hex, 16))
                    .or_else(|| entity.strip_prefix('#').map(str::parse::<u32>))
                    .and_then(Result::ok)
                    .and_then(char::from_u32),
            };
            c.map(|c| (c, end + 1))
        });
        match decoded {
            Some((c, len)) => {
                out.push(c);
                rest = &rest[len..];
            }
            None => {
                out.push('&');
                rest = &rest[1..];
            }
        }
    }
    out.push_str(rest);
    out
}

/// A provider whose legal name is markup: the public directory and its badge page show the
/// name as text, escaped, and never as markup (the pages are templates that escape every
/// value; this fails if the name is ever written out raw).
#[tokio::test]
async fn a_provider_name_that_is_markup_is_shown_escaped_on_the_public_pages() {
    let (hub, _clock) = driven_hub().await;
    let name = r#"Evil <script>alert(1)</script> "SARL" & Co"#;
    let now = OffsetDateTime::now_utc();
    let key = AuditKey::generate("Evil <contact@evil.example>", now).unwrap();
    let mut file = application(name, &key, "");
    // No qualification: nothing to upload, and the level stays "Référencé".
    file["qualifications"] = json!([]);
    let (code, applied) = post(&hub, "csirt-analyst", "/api/v1/registry/providers", file).await;
    assert_eq!(code, 201, "{applied}");
    let base = format!(
        "/api/v1/registry/providers/{}",
        applied["id"].as_str().unwrap()
    );
    let (code, p) = post(
        &hub,
        "csirt-analyst",
        &format!("{base}/transitions"),
        json!({"event": "start_review"}),
    )
    .await;
    assert_eq!(code, 200, "{p}");
    let signature = key
        .sign_detached(latest_convention(&hub).await.as_bytes(), now)
        .unwrap();
    let (code, p) = post(
        &hub,
        "csirt-analyst",
        &format!("{base}/reference"),
        json!({"signature": signature}),
    )
    .await;
    assert_eq!(
        (code, p["status"].as_str()),
        (200, Some("referenced")),
        "{p}"
    );
    let (code, badge) = post(&hub, "csirt-analyst", &format!("{base}/badge"), json!({})).await;
    assert_eq!(code, 201, "{badge}");
    let badge_page = badge["verify"]
        .as_str()
        .unwrap()
        .split_once("/badges/")
        .map(|(_, id)| format!("/badges/{id}"))
        .unwrap();

    for path in ["/directory", badge_page.as_str()] {
        let resp = hub
            .client_with(None)
            .get(hub.public_url(path))
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status().as_u16(), 200, "{path}");
        assert_eq!(
            resp.headers()["content-type"],
            "text/html; charset=utf-8",
            "{path}"
        );
        let page = resp.text().await.unwrap();
        // Never raw: no tag of the name, no unescaped quote or ampersand of it.
        for raw in ["<script", "</script>", "\"SARL\"", "\" & Co"] {
            assert!(!page.contains(raw), "{path} shows {raw:?} raw:\n{page}");
        }
        // Escaped, and read back as the very name.
        assert!(
            page.contains("&lt;script&gt;") || page.contains("&#60;script&#62;"),
            "{path} does not show the escaped tag:\n{page}"
        );
        assert!(
            html_text(&page).contains(name),
            "{path} does not show the name as text:\n{page}"
        );
    }
    hub.shutdown().await;
}

/// The public pages in a real browser and with curl: the directory and the survey form.
/// Multi-threaded: the clients run as blocking subprocesses while the hub serves.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_public_pages_render_in_chromium_and_curl() {
    let (hub, _clock) = driven_hub().await;
    let case = open_case(&hub, "provider-b", 1).await;
    let (_, link) = post(
        &hub,
        "csirt-analyst",
        &format!("/api/v1/cases/{case}/survey"),
        json!({}),
    )
    .await;
    let survey = hub.public_url(&format!(
        "/survey?{}",
        link["url"].as_str().unwrap().split('?').nth(1).unwrap()
    ));

    if have("curl") {
        let out = succeed(
            std::process::Command::new("curl")
                .args(["-sS", "--fail", "--cacert"])
                .arg(hub.ca_path())
                .arg(hub.public_url("/directory.json")),
        );
        let list: Vec<Value> = serde_json::from_slice(&out.stdout).unwrap();
        assert_eq!(list.len(), 4);
        let out = succeed(
            std::process::Command::new("curl")
                .args(["-sS", "--fail", "--cacert"])
                .arg(hub.ca_path())
                .arg(&survey),
        );
        assert!(
            String::from_utf8_lossy(&out.stdout)
                .contains("<form method=\"post\" action=\"/survey\">")
        );
    } else {
        not_run("curl checks of the public pages: curl missing");
    }

    let Some(chromium) = ["chromium", "chromium-browser", "google-chrome"]
        .into_iter()
        .find(|c| have(c))
    else {
        not_run("headless Chromium checks of the public pages: chromium missing");
        hub.shutdown().await;
        return;
    };
    let out_dir = std::env::temp_dir().join(format!("relais-screens-{}", uuid::Uuid::new_v4()));
    std::fs::create_dir_all(&out_dir).unwrap();
    for (name, url) in [
        ("directory", hub.public_url("/directory")),
        ("survey", survey),
    ] {
        let profile = tempfile::tempdir().unwrap();
        let dom = std::process::Command::new(chromium)
            .args([
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--ignore-certificate-errors",
                "--dump-dom",
            ])
            .arg(format!("--user-data-dir={}", profile.path().display()))
            .arg(&url)
            .output()
            .unwrap();
        assert!(
            dom.status.success(),
            "{}",
            String::from_utf8_lossy(&dom.stderr)
        );
        let dom = String::from_utf8_lossy(&dom.stdout).into_owned();
        let shot = out_dir.join(format!("{name}.png"));
        let screenshot = std::process::Command::new(chromium)
            .args([
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--ignore-certificate-errors",
                "--window-size=1200,900",
            ])
            .arg(format!("--user-data-dir={}", profile.path().display()))
            .arg(format!("--screenshot={}", shot.display()))
            .arg(&url)
            .output()
            .unwrap();
        assert!(
            screenshot.status.success(),
            "{}",
            String::from_utf8_lossy(&screenshot.stderr)
        );
        let png = std::fs::read(&shot).unwrap();
        assert!(
            png.starts_with(b"\x89PNG") && png.len() > 5_000,
            "{name}: blank screenshot"
        );
        println!("screenshot of {name}: {}", shot.display());
        match name {
            "directory" => {
                assert!(
                    dom.contains("Provider A (demo)") && dom.contains("Provider B (demo)"),
                    "{dom}"
                );
                assert!(dom.contains("qualifié PRIS"), "{dom}");
            }
            _ => {
                assert!(dom.contains("type=\"radio\""), "{dom}");
                assert!(dom.contains("Envoyer"), "{dom}");
            }
        }
    }
    hub.shutdown().await;
}

/// `relais registry import` with the shipped XLSX template (a real workbook), then with
/// malformed ones: each refusal is one line naming the cell, and nothing is stored.
#[tokio::test]
async fn applications_import_from_a_real_xlsx_and_bad_cells_are_named() {
    let hub = spawn_hub_with(HubOptions::default()).await;
    let pieces = tempfile::tempdir().unwrap();
    for name in ["pris.pdf", "acyma.pdf", "iso27001.pdf"] {
        std::fs::write(pieces.path().join(name), format!("%PDF-1.7 {name}")).unwrap();
    }
    let key = AuditKey::generate(
        "Exemple <cert@exemple-reponse.example>",
        OffsetDateTime::now_utc(),
    )
    .unwrap();
    std::fs::write(
        pieces.path().join("provider.asc"),
        key.public_armored().unwrap(),
    )
    .unwrap();
    let template = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("templates/provider-application.xlsx");

    let out = succeed(
        hub.cli()
            .args(["registry", "import"])
            .arg(&template)
            .arg("--evidence-dir")
            .arg(pieces.path()),
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout.contains("row 2:") && stdout.contains("Exemple Réponse Incident SAS applied"),
        "{stdout}"
    );
    let imported = hub
        .store
        .providers()
        .await
        .unwrap()
        .into_iter()
        .find(|p| p.organisation.name == "Exemple Réponse Incident SAS")
        .unwrap();
    assert_eq!(imported.referencing.status.as_str(), "applied");
    assert!(
        imported.conditions.incident_response_offered
            && imported.conditions.listed_in_public_catalogue
    );
    assert_eq!(imported.file.qualifications.len(), 3);
    for q in &imported.file.qualifications {
        assert!(
            hub.store
                .evidence(&q.evidence_sha256)
                .await
                .unwrap()
                .is_some()
        );
    }
    let out = succeed(
        hub.cli()
            .args(["registry", "history", "Exemple Réponse Incident SAS"]),
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("operator"));

    // The same sheet again: refused as a whole, in one line.
    let again = hub
        .cli()
        .args(["registry", "import"])
        .arg(&template)
        .arg("--evidence-dir")
        .arg(pieces.path())
        .output()
        .unwrap();
    assert!(!again.status.success());
    let err = String::from_utf8_lossy(&again.stderr);
    assert_eq!(err.trim().lines().count(), 1, "{err}");
    assert!(err.contains("already in the registry"), "{err}");

    // A workbook with a bad SIREN and a qualification without its proof.
    let header = [
        "legal_name",
        "siren",
        "siret",
        "website",
        "catalogue_url",
        "catalogue_lists_incident_response",
        "contact_name",
        "contact_role",
        "contact_email",
        "contact_phone",
        "services_jho",
        "services_jhno",
        "fields_of_competence",
        "pris_expires",
        "pris_evidence",
        "passi_expires",
        "passi_evidence",
        "expertcyber_expires",
        "expertcyber_evidence",
        "acyma_expires",
        "acyma_evidence",
        "other_qualifications",
        "staff_training",
        "staff_experience",
        "client_references",
        "openpgp_key_file",
    ];
    let mut row = vec![""; header.len()];
    let set = |row: &mut Vec<&'static str>, column: &str, value: &'static str| {
        let i = header.iter().position(|h| *h == column).unwrap();
        row[i] = value;
    };
    set(&mut row, "legal_name", "Mauvais Dossier SARL");
    set(&mut row, "siren", "123456789");
    set(&mut row, "website", "https://mauvais.example");
    set(&mut row, "catalogue_url", "https://mauvais.example/ri");
    set(&mut row, "catalogue_lists_incident_response", "oui");
    set(&mut row, "contact_name", "X");
    set(&mut row, "contact_email", "x@mauvais.example");
    set(&mut row, "services_jho", "analysis");
    set(&mut row, "pris_expires", "2027-01-01");
    set(&mut row, "openpgp_key_file", "provider.asc");
    let mut workbook = rust_xlsxwriter::Workbook::new();
    let sheet = workbook.add_worksheet();
    for (c, h) in header.iter().enumerate() {
        sheet.write_string(0, c as u16, *h).unwrap();
        sheet.write_string(1, c as u16, row[c]).unwrap();
    }
    let bad = pieces.path().join("bad.xlsx");
    workbook.save(&bad).unwrap();
    let before = hub.store.providers().await.unwrap().len();
    let out = hub
        .cli()
        .args(["registry", "import"])
        .arg(&bad)
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(err.trim().lines().count(), 1, "{err}");
    assert!(err.contains("B2"), "the SIREN cell is named: {err}");
    assert!(
        err.contains("O2"),
        "the missing PRIS evidence cell is named: {err}"
    );
    // Not a spreadsheet at all.
    let garbage = pieces.path().join("garbage.xlsx");
    std::fs::write(&garbage, b"PK\x03\x04 not really a workbook").unwrap();
    let out = hub
        .cli()
        .args(["registry", "import"])
        .arg(&garbage)
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert_eq!(
        String::from_utf8_lossy(&out.stderr).trim().lines().count(),
        1
    );
    assert_eq!(
        hub.store.providers().await.unwrap().len(),
        before,
        "nothing stored"
    );
    hub.shutdown().await;
}
