//! Reports the providers owe, over real mTLS on a clock the test drives (issue 15): closure →
//! reminders at D-7 and D-1 → one REX on day 29 (on time), another on day 35 (late: overdue
//! listed, breach candidate); a REX naming the victim's domain redacted with a report; a
//! signed REX verified and kept, a tampered signature refused; amendments; the STIX part in
//! the triage queue; provider B getting nothing of provider A's reports.

use std::sync::Arc;
use std::time::Duration as StdDuration;

use base64::Engine as _;
use relais::clock::{Clock, FixedClock};
use relais::crypto::openpgp::{AuditKey, PublicKey, verify_detached};
use reqwest::Method;
use serde_json::{Value, json};
use time::{Duration, OffsetDateTime};

use crate::common::{
    HubOptions, PgDatabase, TestHub, api, handed_case, new_case, spawn_hub_with, today,
};

async fn get(hub: &TestHub, who: &str, path: &str) -> (u16, Value) {
    api(hub, who, Method::GET, path, None).await
}

async fn post(hub: &TestHub, who: &str, path: &str, body: Value) -> (u16, Value) {
    api(hub, who, Method::POST, path, Some(body)).await
}

/// A hub on a clock the test moves, whose reports job looks every second.
pub(crate) async fn driven_hub(postgres: Option<PgDatabase>) -> (TestHub, FixedClock) {
    // A minute ahead: the demo keys, made at first start on the system clock, are in the past.
    let clock = FixedClock::new(OffsetDateTime::now_utc() + Duration::minutes(1));
    let hub = spawn_hub_with(HubOptions {
        postgres,
        clock: Some(Arc::new(clock.clone())),
        tweak: Some(Box::new(|c, _| {
            c.pki.client_validity_days = 3650;
            c.reports.deadline_check_secs = 1;
        })),
    })
    .await;
    (hub, clock)
}

pub(crate) fn demo_secret(hub: &TestHub, name: &str) -> AuditKey {
    let path = hub
        .data_dir()
        .join("certs/demo")
        .join(format!("{name}-openpgp.asc"));
    AuditKey::from_armored_secret(&std::fs::read(path).unwrap()).unwrap()
}

/// A case handed to `provider`, then closed by it today: its REX is due in 30 days.
pub(crate) async fn closed_case(hub: &TestHub, reference: &str, provider: &str) -> String {
    let id = handed_case(hub, new_case(reference, "given"), provider).await;
    let (code, closed) = post(
        hub,
        provider,
        &format!("/api/v1/cases/{id}/close"),
        json!({"end_date": today(hub), "summary": "Service rendu."}),
    )
    .await;
    assert_eq!(code, 200, "{closed}");
    id
}

/// A REX whose texts name the victim's domain and host.
pub(crate) fn rex_body() -> Value {
    json!({
        "report": {
            "timeline": [
                {"at": "2026-11-02T06:00:00Z", "event": "Premier appel au CSIRT."},
                {"at": "2026-11-02T09:00:00Z", "event": "Isolement du serveur SRV-COMPTA."}
            ],
            "initial_access": "Hameçonnage",
            "techniques": ["T1566.001", "T1486"],
            "impact": "Postes chiffrés; messagerie compta@victim.re compromise.",
            "detection": "Note de rançon vue par un agent.",
            "containment": ["Coupure du VPN"],
            "remediation": ["Restauration depuis les sauvegardes"],
            "root_causes": ["Pas de MFA sur le webmail de victim.re"],
            "lessons": ["Sauvegardes hors ligne utiles"],
            "recommendations": ["MFA partout"]
        }
    })
}

/// Polls `path` as `who` until `pred` holds (the job runs every second).
async fn until(hub: &TestHub, who: &str, path: &str, pred: impl Fn(&Value) -> bool) -> Value {
    for _ in 0..100 {
        let (code, body) = get(hub, who, path).await;
        assert_eq!(code, 200, "{body}");
        if pred(&body) {
            return body;
        }
        tokio::time::sleep(StdDuration::from_millis(100)).await;
    }
    panic!("{path} never became as expected");
}

fn has_notice(list: &Value, kind: &str, subject: &str) -> bool {
    list.as_array()
        .unwrap()
        .iter()
        .any(|n| n["kind"] == kind && n["subject"] == subject)
}

/// The REX posted with a signature header (base64 of the armored signature).
async fn post_signed(
    hub: &TestHub,
    who: &str,
    case: &str,
    body: &[u8],
    signature: &str,
) -> (u16, Value) {
    let resp = hub
        .client(who)
        .post(hub.url(&format!("/api/v1/cases/{case}/rex")))
        .header("content-type", "application/json")
        .header(
            "relais-signature",
            base64::engine::general_purpose::STANDARD.encode(signature),
        )
        .body(body.to_vec())
        .send()
        .await
        .unwrap();
    let code = resp.status().as_u16();
    (code, resp.json().await.unwrap())
}

#[tokio::test]
async fn rex_deadlines_signatures_and_anonymisation() {
    let (hub, clock) = driven_hub(None).await;
    rex_flow(hub, clock).await;
}

#[tokio::test]
async fn rex_deadlines_signatures_and_anonymisation_on_postgres() {
    let Some(pg) = PgDatabase::create().await else {
        return;
    };
    let (hub, clock) = driven_hub(Some(pg)).await;
    rex_flow(hub, clock).await;
}

async fn rex_flow(hub: TestHub, clock: FixedClock) {
    let org = hub.principal_named("provider-a").await.organisation_id;
    let on_time = closed_case(&hub, "REX-ON-TIME", "provider-a").await;
    let late = closed_case(&hub, "REX-LATE", "provider-a").await;
    let start = clock.now();
    let day = |n: i64| start + Duration::days(n);

    // Before the case is closed, or by anyone but the provider that handled it, no REX.
    let (code, _) = post(
        &hub,
        "csirt-analyst",
        &format!("/api/v1/cases/{on_time}/rex"),
        rex_body(),
    )
    .await;
    assert_eq!(code, 403);
    let (code, _) = get(
        &hub,
        "csirt-analyst",
        &format!("/api/v1/cases/{on_time}/rex"),
    )
    .await;
    assert_eq!(code, 404, "no REX yet");

    // D-7 and D-1: reminders, for the provider.
    clock.set(day(23));
    until(&hub, "provider-a", "/api/v1/notifications", |n| {
        has_notice(n, "rex_reminder_d7", &on_time) && has_notice(n, "rex_reminder_d7", &late)
    })
    .await;
    clock.set(day(29));
    let notices = until(&hub, "provider-a", "/api/v1/notifications", |n| {
        has_notice(n, "rex_reminder_d1", &on_time)
    })
    .await;
    let d1 = notices
        .as_array()
        .unwrap()
        .iter()
        .find(|n| n["kind"] == "rex_reminder_d1" && n["subject"] == on_time.as_str())
        .unwrap();
    assert!(
        d1["message"].as_str().unwrap().contains("is due on"),
        "{d1}"
    );

    // Day 29: the first REX, on time; the victim's domain is redacted and reported, the
    // victim's host pseudonymised, and the signature over the exact body verifies.
    let signer = demo_secret(&hub, "provider-a");
    let body = serde_json::to_vec(&rex_body()).unwrap();
    let tampered = String::from_utf8(body.clone())
        .unwrap()
        .replace("MFA partout", "MFA nulle part")
        .into_bytes();
    let signature = signer
        .sign_detached(&body, clock.now() - Duration::seconds(1))
        .unwrap();
    let (code, refused) = post_signed(&hub, "provider-a", &on_time, &tampered, &signature).await;
    assert_eq!(code, 422, "a signature over other bytes: {refused}");
    assert!(
        refused["detail"].as_str().unwrap().contains("signature"),
        "{refused}"
    );
    let (code, rex) = post_signed(&hub, "provider-a", &on_time, &body, &signature).await;
    assert_eq!(code, 201, "{rex}");
    assert_eq!(rex["on_time"], true);
    assert_eq!(rex["days_late"], 0);
    let text = rex["latest"]["report"].to_string();
    assert!(!text.contains("victim.re"), "{text}");
    assert!(text.contains("[redacted]"), "{text}");
    assert!(!text.to_lowercase().contains("srv-compta"), "{text}");
    let rules: Vec<&str> = rex["latest"]["changes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["rule"].as_str().unwrap())
        .collect();
    assert!(rules.contains(&"victim_domain"), "{rules:?}");
    assert!(!rex["latest"]["changes"].to_string().contains("victim.re"));
    assert_eq!(rex["latest"]["tlp"], "amber");
    // What is kept verifies offline with the provider's key alone.
    let kept = &rex["latest"]["signature"];
    let key = PublicKey::from_bytes(signer.public_armored().unwrap().as_bytes()).unwrap();
    verify_detached(
        &key,
        kept["body"].as_str().unwrap().as_bytes(),
        kept["signature"].as_str().unwrap().as_bytes(),
        clock.now(),
    )
    .unwrap();
    assert_eq!(kept["body"].as_str().unwrap().as_bytes(), body.as_slice());
    // Read back by the analysts.
    let (code, read) = get(
        &hub,
        "csirt-analyst",
        &format!("/api/v1/cases/{on_time}/rex"),
    )
    .await;
    assert_eq!(code, 200, "{read}");
    assert_eq!(read["latest"]["sha256"], rex["latest"]["sha256"]);

    // Day 33: the other is overdue: listed for the analysts with its breach candidate, in the
    // provider's standing and on the dashboard; the provider is told it is overdue.
    clock.set(day(33));
    let notices = until(&hub, "csirt-analyst", "/api/v1/notifications", |n| {
        has_notice(n, "rex_breach_candidate", &late)
    })
    .await;
    assert!(!has_notice(&notices, "rex_overdue", &on_time), "{notices}");
    let mine = until(&hub, "provider-a", "/api/v1/notifications", |n| {
        has_notice(n, "rex_overdue", &late)
    })
    .await;
    assert!(
        !has_notice(&mine, "rex_breach_candidate", &late),
        "for the analysts: {mine}"
    );
    let (code, overdue) = get(&hub, "csirt-analyst", "/api/v1/reports/overdue").await;
    assert_eq!(code, 200, "{overdue}");
    let item = overdue
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["kind"] == "rex" && i["subject"] == late.as_str())
        .unwrap_or_else(|| panic!("{overdue}"));
    assert_eq!(item["days_late"], 3);
    assert_eq!(item["breach_candidate"], true);
    assert!(
        !overdue.to_string().contains(&on_time),
        "returned on time: {overdue}"
    );
    let (code, standing) = get(
        &hub,
        "provider-a",
        &format!("/api/v1/registry/providers/{}/standing", org.as_str()),
    )
    .await;
    assert_eq!(code, 200, "{standing}");
    assert_eq!(standing["overdue_rex"], 1, "{standing}");
    let (_, dashboard) = get(&hub, "csirt-analyst", "/api/v1/registry/dashboard").await;
    let line = dashboard
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["organisation"] == org.as_str())
        .unwrap();
    assert_eq!(line["overdue_rex"], 1, "{dashboard}");

    // Day 35: the late REX comes; it stays late.
    clock.set(day(35));
    let (code, rex) = post(
        &hub,
        "provider-a",
        &format!("/api/v1/cases/{late}/rex"),
        rex_body(),
    )
    .await;
    assert_eq!(code, 201, "{rex}");
    assert_eq!(rex["on_time"], false);
    assert_eq!(rex["days_late"], 5);
    let (_, standing) = get(
        &hub,
        "provider-a",
        &format!("/api/v1/registry/providers/{}/standing", org.as_str()),
    )
    .await;
    assert_eq!(standing["overdue_rex"], 0, "{standing}");

    // An amendment is a new version; the first is kept and its signature with it.
    let mut amended = rex_body();
    amended["report"]["lessons"] =
        json!(["Sauvegardes hors ligne utiles", "Tester la restauration"]);
    amended["tlp"] = json!("green");
    let (code, rex) = post(
        &hub,
        "provider-a",
        &format!("/api/v1/cases/{on_time}/rex"),
        amended,
    )
    .await;
    assert_eq!(code, 201, "{rex}");
    assert_eq!(rex["versions"].as_array().unwrap().len(), 2);
    assert_eq!(rex["latest"]["version"], 2);
    assert_eq!(rex["latest"]["tlp"], "green");
    assert_eq!(rex["on_time"], true, "the first version's date counts");
    let (code, first) = get(
        &hub,
        "provider-a",
        &format!("/api/v1/cases/{on_time}/rex/versions/1"),
    )
    .await;
    assert_eq!(code, 200, "{first}");
    assert!(
        first["signature"]["signature"]
            .as_str()
            .unwrap()
            .contains("BEGIN PGP SIGNATURE")
    );

    // Bad input: an ATT&CK id that is not one, an unknown TLP, a bundle without its report.
    let mut wrong = rex_body();
    wrong["report"]["techniques"] = json!(["T14"]);
    let (code, problem) = post(
        &hub,
        "provider-a",
        &format!("/api/v1/cases/{on_time}/rex"),
        wrong,
    )
    .await;
    assert_eq!(code, 422, "{problem}");
    assert!(
        problem["detail"].as_str().unwrap().contains("techniques"),
        "{problem}"
    );
    let mut wrong = rex_body();
    wrong["tlp"] = json!("amber-ish");
    let (code, _) = post(
        &hub,
        "provider-a",
        &format!("/api/v1/cases/{on_time}/rex"),
        wrong,
    )
    .await;
    assert_eq!(code, 422);
    let mut wrong = rex_body();
    wrong["bundle"] = json!({"type": "bundle", "id": "bundle--5d0092c5-5f74-4287-9642-33f4c354e56d", "objects": []});
    let (code, _) = post(
        &hub,
        "provider-a",
        &format!("/api/v1/cases/{on_time}/rex"),
        wrong,
    )
    .await;
    assert_eq!(code, 422);

    // Provider B, with A's case ids, gets what it gets for ids that never existed.
    let ghost = "case--00000000-0000-4000-8000-000000000000";
    for case in [&on_time, &late] {
        for path in [
            format!("/api/v1/cases/{case}/rex"),
            format!("/api/v1/cases/{case}/rex/versions/1"),
        ] {
            let real = get(&hub, "provider-b", &path).await;
            let never = get(&hub, "provider-b", &path.replace(case.as_str(), ghost)).await;
            assert_eq!(real, never, "{path}");
            assert_eq!(real.0, 404);
        }
        let real = post(
            &hub,
            "provider-b",
            &format!("/api/v1/cases/{case}/rex"),
            rex_body(),
        )
        .await;
        let never = post(
            &hub,
            "provider-b",
            &format!("/api/v1/cases/{ghost}/rex"),
            rex_body(),
        )
        .await;
        assert_eq!(real, never);
    }
    let (code, theirs) = get(&hub, "provider-b", "/api/v1/notifications").await;
    assert_eq!(code, 200);
    assert!(
        !theirs.to_string().contains(&on_time) && !theirs.to_string().contains(&late),
        "{theirs}"
    );
    let (code, _) = get(&hub, "provider-b", "/api/v1/reports/overdue").await;
    assert_eq!(code, 403);
    let (code, _) = get(&hub, "partner-csirt", "/api/v1/notifications").await;
    assert_eq!(code, 200);
}

/// The STIX part of a REX: a report on an incident and an indicator, sent to the triage queue
/// as submissions of the case, anonymised like any.
#[tokio::test]
async fn the_stix_part_of_a_rex_goes_to_triage() {
    let (hub, _clock) = driven_hub(None).await;
    let case = closed_case(&hub, "REX-STIX", "provider-a").await;
    let now = "2026-11-20T10:00:00.000Z";
    let mut body = rex_body();
    body["bundle"] = json!({
        "type": "bundle",
        "id": "bundle--8a6b7f5e-1f0e-4a38-9a2e-0d5f0b7a1c11",
        "objects": [
            {"type": "incident", "spec_version": "2.1", "id": "incident--6b1d0c4e-7c38-4c67-9a55-2f0d0b6f8a21",
             "created": now, "modified": now, "name": "Rançongiciel",
             "object_marking_refs": ["marking-definition--f88d31f6-486f-44da-b317-01333bde0b82"]},
            {"type": "indicator", "spec_version": "2.1", "id": "indicator--3c2b1a09-8f7e-4d6c-9b5a-1e2f3a4b5c6d",
             "created": now, "modified": now, "valid_from": now, "pattern_type": "stix",
             "pattern": "[ipv4-addr:value = '185.220.101.4']", "indicator_types": ["malicious-activity"],
             "object_marking_refs": ["marking-definition--f88d31f6-486f-44da-b317-01333bde0b82"]},
            {"type": "report", "spec_version": "2.1", "id": "report--9d8c7b6a-5f4e-4d3c-8b2a-1f0e9d8c7b6a",
             "created": now, "modified": now, "name": "REX", "published": now,
             "description": "Intrusion chez victim.re",
             "object_refs": ["incident--6b1d0c4e-7c38-4c67-9a55-2f0d0b6f8a21",
                             "indicator--3c2b1a09-8f7e-4d6c-9b5a-1e2f3a4b5c6d"],
             "object_marking_refs": ["marking-definition--f88d31f6-486f-44da-b317-01333bde0b82"]}
        ]
    });
    let (code, rex) = post(
        &hub,
        "provider-a",
        &format!("/api/v1/cases/{case}/rex"),
        body,
    )
    .await;
    assert_eq!(code, 201, "{rex}");
    assert_eq!(
        rex["latest"]["stix_submitted"].as_array().unwrap().len(),
        3,
        "{rex}"
    );
    assert!(
        rex["latest"]["stix_refused"].as_array().unwrap().is_empty(),
        "{rex}"
    );
    let (code, queue) = get(&hub, "csirt-analyst", "/api/v1/triage").await;
    assert_eq!(code, 200, "{queue}");
    let queued = queue.to_string();
    assert!(
        queued.contains("report--9d8c7b6a-5f4e-4d3c-8b2a-1f0e9d8c7b6a"),
        "{queued}"
    );
    assert!(
        !queued.contains("victim.re"),
        "anonymised like any submission: {queued}"
    );
}
