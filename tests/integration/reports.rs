//! Reports the providers owe, over real mTLS on a clock the test drives (issue 15): closure →
//! reminders at D-7 and D-1 → one REX on day 29 (on time), another on day 35 (late: overdue
//! listed, breach candidate); a REX naming the victim's domain redacted with a report; a
//! signed REX verified and kept, a tampered signature refused; amendments; the STIX part in
//! the triage queue; provider B getting nothing of provider A's reports.

use std::time::Duration as StdDuration;

use base64::Engine as _;
use relais::clock::{Clock, FixedClock};
use relais::crypto::openpgp::{PublicKey, verify_detached};
use reqwest::Method;
use serde_json::{Value, json};
use time::Duration;

use crate::common::{
    PgDatabase, TestHub, api, demo_secret, driven_hub_on, handed_case, new_case, today,
};

async fn get(hub: &TestHub, who: &str, path: &str) -> (u16, Value) {
    api(hub, who, Method::GET, path, None).await
}

async fn post(hub: &TestHub, who: &str, path: &str, body: Value) -> (u16, Value) {
    api(hub, who, Method::POST, path, Some(body)).await
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
    let (hub, clock) = driven_hub_on(None).await;
    rex_flow(hub, clock).await;
}

#[tokio::test]
async fn rex_deadlines_signatures_and_anonymisation_on_postgres() {
    let Some(pg) = PgDatabase::create().await else {
        return;
    };
    let (hub, clock) = driven_hub_on(Some(pg)).await;
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
    let (hub, _clock) = driven_hub_on(None).await;
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

/// A case for another beneficiary: `name` in `sector`.
fn case_of(reference: &str, name: &str, sector: &str, category: &str) -> Value {
    let mut case = new_case(reference, "given");
    case["beneficiary"]["name"] = json!(name);
    case["beneficiary"]["sector"] = json!(sector);
    case["incident"]["category"] = json!(category);
    case["identifiers"]["organisations"] = json!([name]);
    case
}

/// The annual summary drafted from real cases, completed and submitted; the yearly evaluation
/// refused without it and based on it once submitted; the annual statistics as JSON, CSV and
/// HTML (opened in headless Chromium, a screenshot kept), whose totals agree with the cases
/// stored, with a sector of a single beneficiary nowhere in them; providers get aggregates
/// only; and `relais report annual` writes the same page.
#[tokio::test]
async fn annual_summaries_evaluation_and_statistics() {
    let (hub, clock) = driven_hub_on(None).await;
    let year = relais::domain::registry::calendar::calendar_year(clock.now());
    let org_a = hub.principal_named("provider-a").await.organisation_id;
    let org_b = hub.principal_named("provider-b").await.organisation_id;

    // Three beneficiaries in administration, one alone in health; two missions handled by
    // provider A and closed, one REX on time.
    let first = closed_case(&hub, "STAT-1", "provider-a").await;
    let _second = handed_case(
        &hub,
        case_of("STAT-2", "Mairie du Port", "administration", "phishing"),
        "provider-a",
    )
    .await;
    let alone = "Clinique des Alizés";
    for (reference, name, sector) in [
        ("STAT-3", "Mairie de Cilaos", "administration"),
        ("STAT-4", alone, "santé-unique"),
    ] {
        let (code, opened) = post(
            &hub,
            "csirt-analyst",
            "/api/v1/cases",
            case_of(reference, name, sector, "ransomware"),
        )
        .await;
        assert_eq!(code, 201, "{opened}");
    }
    let (code, _) = post(
        &hub,
        "provider-a",
        &format!("/api/v1/cases/{first}/rex"),
        rex_body(),
    )
    .await;
    assert_eq!(code, 201);

    // The draft: the figures of provider A's own cases of the year.
    let path = format!("/api/v1/registry/me/annual-summaries/{year}");
    let (code, draft) = get(&hub, "provider-a", &path).await;
    assert_eq!(code, 200, "{draft}");
    assert_eq!(draft["status"], "draft");
    assert_eq!(draft["figures"]["missions"], 2, "{draft}");
    assert_eq!(draft["figures"]["rex"]["on_time"], 1, "{draft}");
    let (_, b_draft) = get(&hub, "provider-b", &path).await;
    assert_eq!(
        b_draft["figures"]["missions"], 0,
        "B's draft knows nothing of A's cases: {b_draft}"
    );
    assert!(!b_draft.to_string().contains("administration"), "{b_draft}");
    // Completed, anonymised with the identifiers of its cases of the year, submitted.
    let part = json!({
        "threat_observations": "Vagues de rançongiciels; un webmail de victim.re compromis.",
        "notable_ttps": ["T1486", "T1566.001"],
        "staffing_changes": "Deux analystes recrutés.",
        "qualification_changes": "PRIS renouvelé."
    });
    let (code, saved) = api(&hub, "provider-a", Method::PUT, &path, Some(part.clone())).await;
    assert_eq!(code, 200, "{saved}");
    assert!(!saved["part"].to_string().contains("victim.re"), "{saved}");
    assert!(!saved["changes"].as_array().unwrap().is_empty(), "{saved}");
    let (code, bad) = post(
        &hub,
        "provider-a",
        &format!("{path}/submit"),
        json!({"notable_ttps": ["T1486"]}),
    )
    .await;
    assert_eq!(code, 422, "observations are required: {bad}");
    let (code, submitted) = post(&hub, "provider-a", &format!("{path}/submit"), part.clone()).await;
    assert_eq!(code, 200, "{submitted}");
    assert_eq!(submitted["status"], "submitted");
    let digest = submitted["sha256"].as_str().unwrap().to_owned();
    let (code, _) = post(&hub, "provider-a", &format!("{path}/submit"), part.clone()).await;
    assert_eq!(code, 409, "submitted once");
    let (code, _) = api(&hub, "provider-a", Method::PUT, &path, Some(part.clone())).await;
    assert_eq!(code, 409);
    // The analysts read it; provider B has no way to.
    let (code, read) = get(
        &hub,
        "csirt-analyst",
        &format!(
            "/api/v1/registry/providers/{}/annual-summaries/{year}",
            org_a.as_str()
        ),
    )
    .await;
    assert_eq!(code, 200, "{read}");
    assert_eq!(read["sha256"], digest.as_str());
    let (code, _) = get(
        &hub,
        "provider-b",
        &format!(
            "/api/v1/registry/providers/{}/annual-summaries/{year}",
            org_a.as_str()
        ),
    )
    .await;
    assert_eq!(code, 403);

    // The yearly evaluation is based on the summary of the year that ended: refused this
    // year, and next year for B, which submitted none; A's names the summary and its digest.
    let evaluate = json!({"event": "evaluate", "reason": "Bilan annuel"});
    let (code, refused) = post(
        &hub,
        "csirt-analyst",
        &format!("/api/v1/registry/providers/{}/transitions", org_a.as_str()),
        evaluate.clone(),
    )
    .await;
    assert_eq!(code, 409, "{refused}");
    assert!(
        refused["detail"]
            .as_str()
            .unwrap()
            .contains("annual summary"),
        "{refused}"
    );
    let next_year = time::Date::from_calendar_date(year + 1, time::Month::February, 1).unwrap();
    clock.set(next_year.with_hms(8, 0, 0).unwrap().assume_utc());
    let (code, refused) = post(
        &hub,
        "csirt-analyst",
        &format!("/api/v1/registry/providers/{}/transitions", org_b.as_str()),
        evaluate.clone(),
    )
    .await;
    assert_eq!(code, 409, "{refused}");
    let (code, evaluated) = post(
        &hub,
        "csirt-analyst",
        &format!("/api/v1/registry/providers/{}/transitions", org_a.as_str()),
        evaluate,
    )
    .await;
    assert_eq!(code, 200, "{evaluated}");
    let (_, history) = get(
        &hub,
        "csirt-analyst",
        &format!("/api/v1/registry/providers/{}/history", org_a.as_str()),
    )
    .await;
    let line = history
        .as_array()
        .unwrap()
        .iter()
        .find(|h| h["action"] == "registry.evaluate")
        .unwrap_or_else(|| panic!("{history}"));
    let reason = line["reason"].as_str().unwrap();
    assert!(
        reason.contains(&format!("annual summary {year}")) && reason.contains(&digest),
        "{reason}"
    );
    // B's summary is now overdue, in the analysts' list.
    let (_, overdue) = get(&hub, "csirt-analyst", "/api/v1/reports/overdue").await;
    assert!(
        overdue
            .as_array()
            .unwrap()
            .iter()
            .any(|i| i["kind"] == "annual_summary"
                && i["organisation"] == org_b.as_str()
                && i["subject"].as_str() == Some(year.to_string().as_str())),
        "{overdue}"
    );

    // The statistics: totals agree with the cases stored.
    let stored: Vec<_> = hub
        .store
        .case_files()
        .await
        .unwrap()
        .into_iter()
        .filter(|f| relais::domain::registry::calendar::calendar_year(f.case.created_at) == year)
        .collect();
    let stats_path = format!("/api/v1/statistics/annual/{year}");
    let (code, stats) = get(&hub, "csirt-analyst", &format!("{stats_path}?format=json")).await;
    assert_eq!(code, 200, "{stats}");
    assert_eq!(stats["missions"], stored.len(), "{stats}");
    assert_eq!(stats["missions"], 4);
    let months: u64 = stats["by_month"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|m| m["missions"].as_u64())
        .sum();
    assert_eq!(
        months, 4,
        "one month holds them all, and it is not small: {stats}"
    );
    let categories: u64 = stats["by_category"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|m| m["missions"].as_u64())
        .sum();
    assert!(categories <= 4, "{stats}");
    // The single beneficiary of its sector is nowhere: merged or suppressed.
    let json_text = stats.to_string();
    assert!(
        !json_text.contains("santé-unique") && !json_text.contains(alone),
        "{json_text}"
    );
    // Merged alone, "other" would still be one beneficiary: the next group joins it.
    assert!(
        stats["by_sector"]
            .as_array()
            .unwrap()
            .iter()
            .all(|r| r["group"] == "other" || r["beneficiaries"].as_u64().unwrap_or(3) >= 3),
        "{json_text}"
    );
    // Proposals and choices per provider: the rotation's fairness, for the CSIRT.
    let rotation = stats["rotation"]["providers"].as_array().unwrap();
    assert_eq!(rotation.len(), 4, "{stats}");
    let choices: u64 = rotation
        .iter()
        .map(|r| r["choices"].as_u64().unwrap())
        .sum();
    assert_eq!(choices, 2, "two handoffs: {stats}");

    let csv = hub
        .client("csirt-analyst")
        .get(hub.url(&format!("{stats_path}?format=csv")))
        .send()
        .await
        .unwrap();
    assert_eq!(csv.status(), 200);
    assert!(
        csv.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/csv")
    );
    let csv = csv.text().await.unwrap();
    assert!(
        !csv.contains("santé-unique") && !csv.contains(alone),
        "{csv}"
    );
    let mut reader = ::csv::Reader::from_reader(csv.as_bytes());
    let total: u64 = reader
        .records()
        .map(|r| r.unwrap())
        .filter(|r| &r[0] == "total" && &r[1] == "all")
        .map(|r| r[2].parse::<u64>().unwrap())
        .sum();
    assert_eq!(total, 4, "{csv}");

    let page = hub
        .client("csirt-analyst")
        .get(hub.url(&format!("{stats_path}?format=html")))
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), 200);
    assert!(
        page.headers()["content-security-policy"]
            .to_str()
            .unwrap()
            .starts_with("default-src 'none'")
    );
    let html = page.text().await.unwrap();
    assert!(
        html.contains(&format!("CSIRT annual statistics {year}")),
        "{html}"
    );
    assert!(html.contains("<svg"), "charts drawn server-side");
    assert!(!html.contains("<script") && !html.contains("santé-unique") && !html.contains(alone));

    // Providers: aggregates only, and only in that form.
    let (code, _) = get(&hub, "provider-a", &stats_path).await;
    assert_eq!(code, 403);
    let (code, _) = get(
        &hub,
        "partner-csirt",
        &format!("{stats_path}?audience=providers"),
    )
    .await;
    assert_eq!(code, 403);
    let (code, theirs) = get(
        &hub,
        "provider-b",
        &format!("{stats_path}?audience=providers"),
    )
    .await;
    assert_eq!(code, 200, "{theirs}");
    for name in ["provider-a", "provider-b", org_a.as_str(), org_b.as_str()] {
        assert!(!theirs.to_string().contains(name), "{name} in {theirs}");
    }

    // The command line writes the same report, with its progress bar on a terminal only.
    let out = hub.dir.path().join(format!("annual-{year}.html"));
    let printed = crate::common::succeed(
        hub.cli()
            .args(["report", "annual", &year.to_string(), "--out"])
            .arg(&out),
    );
    let printed = String::from_utf8_lossy(&printed.stdout).to_string();
    assert!(printed.contains("4 missions"), "{printed}");
    let written = std::fs::read_to_string(&out).unwrap();
    assert!(written.contains(&format!("CSIRT annual statistics {year}")));
    assert!(!written.contains("santé-unique"));
    let json_out = hub.dir.path().join("annual.json");
    crate::common::succeed(
        hub.cli()
            .args(["report", "annual", &year.to_string(), "--out"])
            .arg(&json_out),
    );
    let from_cli: Value =
        serde_json::from_str(&std::fs::read_to_string(&json_out).unwrap()).unwrap();
    assert_eq!(from_cli["missions"], stats["missions"]);
    assert_eq!(from_cli["by_sector"], stats["by_sector"]);

    // Opened in headless Chromium, as on the meeting room's projector; the screenshot stays in
    // the test output.
    match crate::common::webdriver::Browser::start().await {
        Some(browser) => {
            browser.resize(1280, 720).await;
            browser.goto(&format!("file://{}", out.display())).await;
            let source = browser.source().await;
            assert!(source.contains(&format!("CSIRT annual statistics {year}")));
            let png = browser.screenshot().await;
            assert!(png.starts_with(b"\x89PNG"), "a PNG screenshot");
            let shots = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("screenshots");
            std::fs::create_dir_all(&shots).unwrap();
            let shot = shots.join(format!("annual-statistics-{year}.png"));
            std::fs::write(&shot, &png).unwrap();
            println!("screenshot of the annual statistics: {}", shot.display());
            browser.quit().await;
        }
        None => crate::common::not_run(
            "the annual statistics in headless Chromium (chromedriver not installed)",
        ),
    }
}
