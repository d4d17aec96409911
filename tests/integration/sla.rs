//! SOC service levels over real mTLS on a clock the test drives (issue 17): a contract, alerts
//! of each level opened on the Friday afternoon before Easter Monday 2027, at night with and
//! without 24/7, one paused and resumed, one breached while nobody looks (recorded by the
//! job: notice and audit entry), the monthly report as JSON, CSV and HTML; the asset review at
//! exactly 5 %, committee minutes on the 10th working day and the day after, credits on the
//! day they expire, the term and its notice deadline; provider B, a peer and an analyst
//! probing what they may not touch. Also `relais sla due` from the command line.

use std::time::Duration as StdDuration;

use relais::clock::FixedClock;
use relais::domain::audit::entry::parse_canonical;
use reqwest::Method;
use serde_json::{Value, json};
use time::macros::datetime;

use crate::common::{HubOptions, PgDatabase, TestHub, api, spawn_hub_with, succeed};

async fn get(hub: &TestHub, who: &str, path: &str) -> (u16, Value) {
    api(hub, who, Method::GET, path, None).await
}

async fn post(hub: &TestHub, who: &str, path: &str, body: Value) -> (u16, Value) {
    api(hub, who, Method::POST, path, Some(body)).await
}

/// A hub whose clock starts on Friday 26 March 2027, 15:00 in Réunion (11:00 UTC), the
/// Friday before Easter Monday, with the breach job looking every second.
async fn soc_hub(postgres: Option<PgDatabase>) -> (TestHub, FixedClock) {
    let clock = FixedClock::new(datetime!(2027-03-26 11:00 UTC));
    let hub = spawn_hub_with(HubOptions {
        postgres,
        clock: Some(std::sync::Arc::new(clock.clone())),
        tweak: Some(Box::new(|c, dir| {
            c.pki.client_validity_days = 3650;
            let sla = dir.join("sla-test.toml");
            std::fs::write(
                &sla,
                relais::domain::sla::policy::SHIPPED
                    .replace("breach_check_secs = 30", "breach_check_secs = 1"),
            )
            .unwrap();
            c.policies.sla = sla;
        })),
    })
    .await;
    (hub, clock)
}

async fn provider_org(hub: &TestHub, name: &str) -> String {
    hub.principal_named(name)
        .await
        .organisation_id
        .as_str()
        .to_owned()
}

async fn contract(hub: &TestHub, provider: &str, coverage: &str, production: &str) -> String {
    let org = provider_org(hub, provider).await;
    let (code, c) = post(
        hub,
        "csirt-analyst",
        "/api/v1/soc/contracts",
        json!({
            "provider": org,
            "client": "Commune de Saint-Leu",
            "coverage": coverage,
            "production_date": production,
            "subscription_start": "2027-01-01",
            "subscription_months": 12,
            "subscribed_assets": 200,
        }),
    )
    .await;
    assert_eq!(code, 201, "{c}");
    assert_eq!(c["calendar"], "reunion");
    assert_eq!(c["time_zone"], "Indian/Reunion");
    c["id"].as_str().unwrap().to_owned()
}

async fn alert(hub: &TestHub, contract: &str, ext: &str, level: u8, detected: &str) -> Value {
    let (code, a) = post(
        hub,
        "provider-a",
        "/api/v1/soc/alerts",
        json!({"contract": contract, "external_id": ext, "level": level, "detected_at": detected}),
    )
    .await;
    assert_eq!(code, 201, "{a}");
    a
}

async fn act(hub: &TestHub, who: &str, id: &str, verb: &str, reason: Option<&str>) -> (u16, Value) {
    post(
        hub,
        who,
        &format!("/api/v1/soc/alerts/{id}/{verb}"),
        match reason {
            Some(r) => json!({"reason": r}),
            None => json!({}),
        },
    )
    .await
}

fn id(v: &Value) -> String {
    v["id"].as_str().unwrap().to_owned()
}

async fn service_levels(postgres: Option<PgDatabase>) {
    let (hub, clock) = soc_hub(postgres).await;
    let c = contract(&hub, "provider-a", "business-hours", "2027-01-04").await;
    let c24 = contract(&hub, "provider-a", "24x7", "2027-01-04").await;

    // Friday 15:00 local, one alert of each level. Monday 29 March is Easter Monday.
    let detected = "2027-03-26T11:00:00Z";
    let l4 = alert(&hub, &c, "fri-l4", 4, detected).await;
    let l3 = alert(&hub, &c, "fri-l3", 3, detected).await;
    let l2 = alert(&hub, &c, "fri-l2", 2, detected).await;
    let l1 = alert(&hub, &c, "fri-l1", 1, detected).await;
    for (a, local, utc) in [
        (&l4, "2027-03-26 16:30", "2027-03-26T12:30:00Z"),
        (&l3, "2027-03-30 09:00", "2027-03-30T05:00:00Z"),
        (&l2, "2027-03-30 11:00", "2027-03-30T07:00:00Z"),
        (&l1, "2027-03-30 15:00", "2027-03-30T11:00:00Z"),
    ] {
        assert_eq!(a["state"], "running", "{a}");
        assert_eq!(a["due_local"], local, "{a}");
        assert_eq!(a["due_at"], utc, "{a}");
    }
    assert_eq!(l1["remaining_minutes"], 480);

    // The same external id again is the same alert; with another level it is a conflict.
    let (code, again) = post(
        &hub,
        "provider-a",
        "/api/v1/soc/alerts",
        json!({"contract": c, "external_id": "fri-l4", "level": 4, "detected_at": detected}),
    )
    .await;
    assert_eq!((code, id(&again)), (200, id(&l4)), "{again}");
    let (code, clash) = post(
        &hub,
        "provider-a",
        "/api/v1/soc/alerts",
        json!({"contract": c, "external_id": "fri-l4", "level": 2, "detected_at": detected}),
    )
    .await;
    assert_eq!(code, 409, "{clash}");
    // Detected more than a day before it reached the hub: the SOC does not start its own
    // clock in the past.
    let (code, old) = post(
        &hub,
        "provider-a",
        "/api/v1/soc/alerts",
        json!({"contract": c, "external_id": "old", "level": 1, "detected_at": "2027-03-25T10:59:00Z"}),
    )
    .await;
    assert_eq!(code, 422, "{old}");
    assert!(old["detail"].as_str().unwrap().contains("24 h"), "{old}");
    // Detected in the future (beyond the clock's skew) is refused.
    let (code, _) = post(
        &hub,
        "provider-a",
        "/api/v1/soc/alerts",
        json!({"contract": c, "external_id": "later", "level": 1, "detected_at": "2027-03-26T12:00:00Z"}),
    )
    .await;
    assert_eq!(code, 422);

    // Nobody looks at the level-4 alert: at 16:31 the job records its breach.
    clock.set(datetime!(2027-03-26 12:31 UTC));
    let l4_id = id(&l4);
    let mut notice = None;
    for _ in 0..100 {
        let (code, list) = get(&hub, "provider-a", "/api/v1/notifications").await;
        assert_eq!(code, 200);
        notice = list
            .as_array()
            .unwrap()
            .iter()
            .find(|n| n["kind"] == "sla_breach" && n["subject"] == l4_id.as_str())
            .cloned();
        if notice.is_some() {
            break;
        }
        tokio::time::sleep(StdDuration::from_millis(100)).await;
    }
    let notice = notice.expect("the breach job recorded no notice");
    assert!(
        notice["message"].as_str().unwrap().contains(&l4_id),
        "{notice}"
    );
    let (_, l4_now) = get(&hub, "provider-a", &format!("/api/v1/soc/alerts/{l4_id}")).await;
    assert_eq!(l4_now["state"], "breached", "{l4_now}");
    assert_eq!(l4_now["breach_recorded_at"], "2027-03-26T12:31:00Z");
    // The analysts see it too, and the audit log holds the job's entry.
    let (_, all) = get(&hub, "csirt-analyst", "/api/v1/notifications").await;
    assert!(
        all.as_array()
            .unwrap()
            .iter()
            .any(|n| n["subject"] == l4_id.as_str())
    );
    let breaches: Vec<_> = hub
        .store
        .audit_entries(0, 100_000, None)
        .await
        .unwrap()
        .iter()
        .map(|e| parse_canonical(&e.entry).unwrap())
        .filter(|e| e.action == "soc.alert.breach")
        .collect();
    assert_eq!(breaches.len(), 1, "{breaches:?}");
    assert_eq!(breaches[0].objects[0], l4_id);
    assert_eq!(breaches[0].actor.principal, "hub");

    // Saturday 02:00 local: level 4 waits for Tuesday 09:30 in business hours, and is due at
    // 03:30 under 24/7; level 3 under 24/7 still counts business hours.
    clock.set(datetime!(2027-03-26 22:00 UTC));
    let night = alert(&hub, &c, "sat-l4", 4, "2027-03-26T22:00:00Z").await;
    assert_eq!(night["due_local"], "2027-03-30 09:30", "{night}");
    let night24 = alert(&hub, &c24, "sat-l4-24", 4, "2027-03-26T22:00:00Z").await;
    assert_eq!(night24["due_local"], "2027-03-27 03:30", "{night24}");
    let night24_l3 = alert(&hub, &c24, "sat-l3-24", 3, "2027-03-26T22:00:00Z").await;
    assert_eq!(night24_l3["due_local"], "2027-03-30 11:00", "{night24_l3}");
    let (_, c24_view) = get(&hub, "provider-a", &format!("/api/v1/soc/contracts/{c24}")).await;
    assert_eq!(c24_view["delays"][0]["counted_on"], "24x7", "{c24_view}");
    assert_eq!(c24_view["delays"][1]["counted_on"], "business-hours");

    // Tuesday 08:30: level 3 taken into account in time (30 business minutes).
    clock.set(datetime!(2027-03-30 04:30 UTC));
    let (code, met) = act(&hub, "provider-a", &id(&l3), "ack", None).await;
    assert_eq!(code, 200, "{met}");
    assert_eq!(met["state"], "met");
    assert_eq!(met["counted_minutes"], 150, "{met}");
    let (code, twice) = act(&hub, "provider-a", &id(&l3), "ack", None).await;
    assert_eq!(code, 422, "{twice}");

    // Level 2 paused at 09:00 (3 h counted: two on Friday, one this morning), resumed at
    // 14:00 with 2 h left: due 16:00.
    clock.set(datetime!(2027-03-30 05:00 UTC));
    let (code, _) = act(&hub, "provider-a", &id(&l2), "pause", None).await;
    assert_eq!(code, 422, "a pause needs a reason");
    let (code, paused) = act(
        &hub,
        "provider-a",
        &id(&l2),
        "pause",
        Some("waiting for the beneficiary's logs"),
    )
    .await;
    assert_eq!(code, 200, "{paused}");
    assert_eq!(paused["state"], "paused");
    assert_eq!(paused["due_at"], Value::Null);
    assert_eq!(paused["remaining_minutes"], 120);
    let (code, _) = act(&hub, "provider-a", &id(&l2), "pause", Some("again")).await;
    assert_eq!(code, 409);
    clock.set(datetime!(2027-03-30 10:00 UTC));
    let (_, still) = get(
        &hub,
        "provider-a",
        &format!("/api/v1/soc/alerts/{}", id(&l2)),
    )
    .await;
    assert_eq!(
        (still["state"].as_str(), &still["remaining_minutes"]),
        (Some("paused"), &json!(120))
    );
    let (code, resumed) = act(
        &hub,
        "provider-a",
        &id(&l2),
        "resume",
        Some("logs received"),
    )
    .await;
    assert_eq!(code, 200, "{resumed}");
    assert_eq!(resumed["due_local"], "2027-03-30 16:00", "{resumed}");
    clock.set(datetime!(2027-03-30 10:45 UTC));
    let (_, met2) = act(&hub, "provider-a", &id(&l2), "ack", Some("on it")).await;
    assert_eq!(met2["state"], "met", "{met2}");
    assert_eq!(met2["journal"].as_array().unwrap().len(), 3);

    // Level 1 taken into account at 15:30, half an hour late: the breach is recorded then.
    clock.set(datetime!(2027-03-30 11:30 UTC));
    let (_, late) = act(&hub, "provider-a", &id(&l1), "ack", None).await;
    assert_eq!(late["state"], "breached", "{late}");
    assert_eq!(late["breach_recorded_at"], "2027-03-30T11:30:00Z");
    // The SOC's reasons may name the beneficiary: the audit log pins them by their hash.
    let pause = hub
        .store
        .audit_entries(0, 100_000, None)
        .await
        .unwrap()
        .iter()
        .map(|e| parse_canonical(&e.entry).unwrap())
        .find(|e| e.action == "soc.alert.pause")
        .unwrap();
    assert!(
        pause.reason.starts_with("sha256:") && !pause.reason.contains("logs"),
        "{pause:?}"
    );

    // A contract in production only from June: its alerts carry no service level.
    let june = contract(&hub, "provider-a", "business-hours", "2027-06-01").await;
    let early = alert(&hub, &june, "pre-prod", 4, "2027-03-30T11:00:00Z").await;
    assert_eq!(early["state"], "no_service_level", "{early}");
    assert_eq!(early["due_at"], Value::Null);
    let (code, _) = act(&hub, "provider-a", &id(&early), "pause", Some("x")).await;
    assert_eq!(code, 422);

    // Who sees what: provider B, the partner hub, and an analyst acting for the SOC. The
    // precedent guarded against is DFIR-IRIS's IDOR on global tasks (dfir-iris/iris-web#1034):
    // endpoints that checked the caller was logged in, not that the object was theirs, so any
    // user read, changed or deleted others' items by id. Here every read and write by id of a
    // contract, an alert or a record answers another provider as if the id did not exist.
    for who in ["provider-b", "partner-csirt"] {
        let (code, _) = get(&hub, who, &format!("/api/v1/soc/contracts/{c}")).await;
        assert_eq!(code, 404, "{who}");
        let (code, _) = get(&hub, who, &format!("/api/v1/soc/alerts/{l4_id}")).await;
        assert_eq!(code, 404, "{who}");
        let (code, list) = get(&hub, who, "/api/v1/soc/contracts").await;
        assert_eq!((code, list), (200, json!([])), "{who}");
        for path in [
            "report?month=2027-03",
            "alerts?month=2027-03",
            "reviews",
            "committees",
            "credits",
            "term",
        ] {
            let (code, _) = get(&hub, who, &format!("/api/v1/soc/contracts/{c}/{path}")).await;
            assert_eq!(code, 404, "{who} {path}");
        }
    }
    let missing = "00000000-0000-4000-8000-000000000000";
    let (code, hidden) = get(&hub, "provider-b", &format!("/api/v1/soc/contracts/{c}")).await;
    let (code2, absent) = get(
        &hub,
        "provider-b",
        &format!("/api/v1/soc/contracts/{missing}"),
    )
    .await;
    assert_eq!(
        (code, hidden["title"].clone()),
        (code2, absent["title"].clone())
    );
    let (code, _) = act(&hub, "provider-b", &id(&night), "ack", None).await;
    assert_eq!(code, 404);
    let (code, _) = post(
        &hub,
        "provider-b",
        "/api/v1/soc/alerts",
        json!({"contract": c, "external_id": "b-1", "level": 1, "detected_at": "2027-03-30T11:00:00Z"}),
    )
    .await;
    assert_eq!(code, 404, "provider B cannot post on A's contract");
    let (code, _) = act(&hub, "csirt-analyst", &id(&night), "ack", None).await;
    assert_eq!(code, 403);
    let (code, _) = post(&hub, "provider-a", "/api/v1/soc/contracts", json!({})).await;
    assert_eq!(code, 403, "providers do not record contracts");
    let (_, mine) = get(&hub, "provider-a", "/api/v1/soc/contracts").await;
    assert_eq!(mine.as_array().unwrap().len(), 3);

    // The month's report, read on Tuesday 15:30: the Saturday night level 4 ran past its
    // 09:30 too.
    let (code, report) = get(
        &hub,
        "provider-a",
        &format!("/api/v1/soc/contracts/{c}/report?month=2027-03"),
    )
    .await;
    assert_eq!(code, 200, "{report}");
    let level = |n: u64| {
        report["levels"]
            .as_array()
            .unwrap()
            .iter()
            .find(|l| l["level"] == n)
            .unwrap()
            .clone()
    };
    assert_eq!(
        (
            level(4)["count"].clone(),
            level(4)["breached"].clone(),
            level(4)["open"].clone()
        ),
        (json!(2), json!(2), json!(0))
    );
    assert_eq!(
        (level(3)["met"].clone(), level(3)["median_minutes"].clone()),
        (json!(1), json!(150))
    );
    assert_eq!(
        (level(2)["met"].clone(), level(2)["p90_minutes"].clone()),
        (json!(1), json!(225))
    );
    assert_eq!(
        (
            level(1)["breached"].clone(),
            level(1)["median_minutes"].clone()
        ),
        (json!(1), json!(510))
    );
    let mut breached: Vec<&str> = report["breaches"]
        .as_array()
        .unwrap()
        .iter()
        .map(|b| b["external_id"].as_str().unwrap())
        .collect();
    breached.sort_unstable();
    assert_eq!(breached, ["fri-l1", "fri-l4", "sat-l4"], "{report}");
    // Lateness is wall-clock minutes from due to acknowledgement (or to now): level 1 was
    // due at 15:00 and taken into account at 15:30; the Saturday level 4 is still open,
    // six hours after its 09:30.
    let late = |ext: &str| {
        report["breaches"]
            .as_array()
            .unwrap()
            .iter()
            .find(|b| b["external_id"] == ext)
            .unwrap()["late_minutes"]
            .clone()
    };
    assert_eq!(
        (late("fri-l1"), late("sat-l4")),
        (json!(30), json!(360)),
        "{report}"
    );
    assert_eq!(report["without_service_level"], 0);
    let csv = hub
        .client("csirt-analyst")
        .get(hub.url(&format!(
            "/api/v1/soc/contracts/{c}/report?from=2027-03-01&to=2027-04-01&format=csv"
        )))
        .send()
        .await
        .unwrap();
    assert_eq!(csv.headers()["content-type"], "text/csv; charset=utf-8");
    let csv = csv.text().await.unwrap();
    assert!(
        csv.starts_with("row,level,name,delay_minutes,count,met,breached"),
        "{csv}"
    );
    assert!(
        csv.lines()
            .any(|l| l.starts_with("level,4,critical,90,2,0,2,0")),
        "{csv}"
    );
    assert_eq!(csv.lines().filter(|l| l.starts_with("breach,")).count(), 3);
    let html = hub
        .client("csirt-analyst")
        .get(hub.url(&format!(
            "/api/v1/soc/contracts/{c}/report?month=2027-03&format=html"
        )))
        .send()
        .await
        .unwrap();
    assert_eq!(html.headers()["content-type"], "text/html; charset=utf-8");
    assert!(
        html.headers()["content-security-policy"]
            .to_str()
            .unwrap()
            .starts_with("default-src 'none'")
    );
    let html = html.text().await.unwrap();
    assert!(
        html.contains("<svg") && html.contains("Commune de Saint-Leu") && html.contains("fri-l1"),
        "{html}"
    );
    let (code, _) = get(
        &hub,
        "provider-a",
        &format!("/api/v1/soc/contracts/{c}/report?month=2027-13"),
    )
    .await;
    assert_eq!(code, 400);
    let (code, _) = get(
        &hub,
        "provider-a",
        &format!("/api/v1/soc/contracts/{c}/report?month=2027-03&format=pdf"),
    )
    .await;
    assert_eq!(code, 400);

    // Asset review: 200 subscribed → 210 is exactly 5 %: a regularisation over what is left
    // of the subscription year; 210 → 220 (+4.76 %) is not.
    let reviews = format!("/api/v1/soc/contracts/{c}/reviews");
    let (code, r1) = post(
        &hub,
        "csirt-analyst",
        &reviews,
        json!({"reviewed_on": "2027-03-30", "monitored_assets": 210}),
    )
    .await;
    assert_eq!(code, 201, "{r1}");
    let reg = &r1["review"]["regularisation"];
    assert_eq!(
        (
            reg["extra_assets"].clone(),
            reg["days_left"].clone(),
            reg["days_in_year"].clone()
        ),
        (json!(10), json!(277), json!(365)),
        "{r1}"
    );
    let (_, r2) = post(
        &hub,
        "provider-a",
        &reviews,
        json!({"reviewed_on": "2027-03-30", "monitored_assets": 220}),
    )
    .await;
    assert_eq!(r2["review"]["baseline"], 210, "{r2}");
    assert_eq!(r2["review"]["regularisation"], Value::Null, "{r2}");
    let (code, _) = post(
        &hub,
        "provider-a",
        &reviews,
        json!({"reviewed_on": "2027-03-01", "monitored_assets": 220}),
    )
    .await;
    assert_eq!(code, 422, "a review before the previous one");

    // Committees: held on Friday 26 March, minutes due on the 10th working day after
    // (Easter Monday skipped): Monday 12 April.
    let committees = format!("/api/v1/soc/contracts/{c}/committees");
    let mut seqs = Vec::new();
    for _ in 0..3 {
        let (code, k) = post(
            &hub,
            "provider-a",
            &committees,
            json!({"held_on": "2027-03-26"}),
        )
        .await;
        assert_eq!(code, 201, "{k}");
        assert_eq!(k["minutes_due"], "2027-04-12");
        assert_eq!(k["status"], "pending");
        seqs.push(k["seq"].as_i64().unwrap());
    }
    let minutes = json!({
        "participants": ["RSSI de la commune", "SOC analyst"],
        "indicators": ["alerts per level", "take-in times"],
        "incidents": [],
        "decisions": ["raise the phishing rule's priority"],
        "action_plan": ["deploy the new collector by May"],
    });
    clock.set(datetime!(2027-04-12 06:00 UTC));
    let (code, on_time) = api(
        &hub,
        "provider-a",
        Method::PUT,
        &format!("{committees}/{}/minutes", seqs[0]),
        Some(minutes.clone()),
    )
    .await;
    assert_eq!(code, 200, "{on_time}");
    assert_eq!(on_time["status"], "complete", "{on_time}");
    let mut partial = minutes.clone();
    partial.as_object_mut().unwrap().remove("action_plan");
    partial.as_object_mut().unwrap().remove("incidents");
    let (_, incomplete) = api(
        &hub,
        "provider-a",
        Method::PUT,
        &format!("{committees}/{}/minutes", seqs[1]),
        Some(partial),
    )
    .await;
    assert_eq!(incomplete["status"], "incomplete", "{incomplete}");
    let gaps: Vec<&str> = incomplete["gaps"]
        .as_array()
        .unwrap()
        .iter()
        .map(|g| g["section"].as_str().unwrap())
        .collect();
    assert_eq!(gaps, ["incidents", "action_plan"]);
    clock.set(datetime!(2027-04-13 06:00 UTC));
    let (_, list) = get(&hub, "csirt-analyst", &committees).await;
    assert_eq!(list[2]["status"], "overdue", "{list}");
    let (_, late) = api(
        &hub,
        "provider-a",
        Method::PUT,
        &format!("{committees}/{}/minutes", seqs[2]),
        Some(minutes.clone()),
    )
    .await;
    assert_eq!(late["status"], "late", "{late}");
    // A correction of minutes filed complete on time keeps them on time.
    let (_, corrected) = api(
        &hub,
        "csirt-analyst",
        Method::PUT,
        &format!("{committees}/{}/minutes", seqs[0]),
        Some(minutes),
    )
    .await;
    assert_eq!(
        (
            corrected["status"].clone(),
            corrected["minutes_received_on"].clone()
        ),
        (json!("complete"), json!("2027-04-12")),
        "{corrected}"
    );
    let (code, _) = api(
        &hub,
        "provider-b",
        Method::PUT,
        &format!("{committees}/{}/minutes", seqs[2]),
        Some(json!({})),
    )
    .await;
    assert_eq!(code, 404);

    // Credits bought on 13 April 2024 expire on 13 April 2027, that is today.
    let credits = format!("/api/v1/soc/contracts/{c}/credits");
    let (code, bought) = post(
        &hub,
        "csirt-analyst",
        &format!("{credits}/purchases"),
        json!({"bought_on": "2024-04-13", "amount": 10}),
    )
    .await;
    assert_eq!(code, 201, "{bought}");
    assert_eq!(bought["balance"]["available"], 0, "{bought}");
    assert_eq!(bought["balance"]["expired"], 10);
    let (_, eve) = get(&hub, "provider-a", &format!("{credits}?at=2027-04-12")).await;
    assert_eq!(eve["balance"]["available"], 10, "{eve}");
    let (code, refused) = post(
        &hub,
        "provider-a",
        &format!("{credits}/usages"),
        json!({"used_on": "2027-04-13", "amount": 1}),
    )
    .await;
    assert_eq!(code, 422, "{refused}");
    let (code, used) = post(
        &hub,
        "provider-a",
        &format!("{credits}/usages"),
        json!({"used_on": "2027-04-12", "amount": 4, "note": "case 2027-014"}),
    )
    .await;
    assert_eq!(code, 201, "{used}");
    assert_eq!(
        (
            used["balance"]["used"].clone(),
            used["balance"]["expired"].clone()
        ),
        (json!(4), json!(6)),
        "{used}"
    );
    // Two usages that each fit what is left, sent at once: one is stored, the other refused,
    // and the ledger still reads.
    let (_, more) = post(
        &hub,
        "csirt-analyst",
        &format!("{credits}/purchases"),
        json!({"bought_on": "2027-04-13", "amount": 10}),
    )
    .await;
    assert_eq!(more["balance"]["available"], 10, "{more}");
    let usages = format!("{credits}/usages");
    let draw = || {
        post(
            &hub,
            "provider-a",
            &usages,
            json!({"used_on": "2027-04-13", "amount": 6}),
        )
    };
    let ((a, _), (b, _)) = tokio::join!(draw(), draw());
    let mut codes = [a, b];
    codes.sort_unstable();
    assert_eq!(codes, [201, 422]);
    let (code, after) = get(&hub, "provider-a", &credits).await;
    assert_eq!(
        (code, after["balance"]["available"].clone()),
        (200, json!(4)),
        "{after}"
    );
    let (code, _) = post(
        &hub,
        "csirt-analyst",
        &format!("{credits}/purchases"),
        json!({"bought_on": "2027-04-13", "amount": 18446744073709551615u64}),
    )
    .await;
    assert_eq!(code, 422, "amounts are bounded");

    // The term: one year from 1 January, notice by registered letter by 1 October.
    let term = format!("/api/v1/soc/contracts/{c}/term");
    let (_, t) = get(&hub, "provider-a", &term).await;
    assert_eq!(
        (
            t["term"]["period_end"].clone(),
            t["term"]["last_day_for_notice"].clone()
        ),
        (json!("2028-01-01"), json!("2027-10-01")),
        "{t}"
    );
    let (_, on_time) = get(
        &hub,
        "provider-a",
        &format!("{term}?notice_sent_on=2027-10-01"),
    )
    .await;
    assert_eq!(on_time["term"]["ends_on"], "2028-01-01", "{on_time}");
    let (_, too_late) = get(
        &hub,
        "provider-a",
        &format!("{term}?notice_sent_on=2027-10-02"),
    )
    .await;
    assert_eq!(too_late["term"]["ends_on"], "2029-01-01", "{too_late}");
    let (_, renewed) = get(&hub, "provider-a", &format!("{term}?at=2028-02-01")).await;
    assert_eq!(
        (
            renewed["term"]["renewals"].clone(),
            renewed["term"]["period_end"].clone()
        ),
        (json!(1), json!("2029-01-01")),
        "{renewed}"
    );

    hub.shutdown().await;
}

#[tokio::test]
async fn service_levels_over_mtls() {
    service_levels(None).await;
}

#[tokio::test]
async fn service_levels_over_mtls_on_postgres() {
    let Some(pg) = PgDatabase::create().await else {
        return;
    };
    service_levels(Some(pg)).await;
}

#[tokio::test]
async fn sla_due_from_the_command_line() {
    let (hub, _clock) = soc_hub(None).await;
    let due = |args: &[&str]| {
        let out = succeed(hub.cli().arg("sla").arg("due").args(args));
        String::from_utf8(out.stdout).unwrap()
    };
    // Friday 22 May 2026 16:00, level 3: one hour on Friday, Whit Monday off, two on Tuesday.
    assert_eq!(
        due(&[
            "--calendar",
            "reunion",
            "--level",
            "3",
            "--at",
            "2026-05-22T16:00"
        ]),
        "2026-05-26 10:00 Indian/Reunion\n2026-05-26T06:00:00Z\n"
    );
    assert_eq!(
        due(&[
            "--level",
            "4",
            "--at",
            "2026-05-23T02:00",
            "--coverage",
            "24x7"
        ]),
        "2026-05-23 03:30 Indian/Reunion\n2026-05-22T23:30:00Z\n"
    );
    let json: Value = serde_json::from_str(&due(&[
        "--level",
        "1",
        "--at",
        "2026-12-18T16:00",
        "--json",
    ]))
    .unwrap();
    // Friday 18 December: 1 h, then Monday 21 (20 December is a Sunday) 7 h → 16:00.
    assert_eq!(json["due_local"], "2026-12-21 16:00", "{json}");

    // A second calendar with DST, added to the data directory: 02:30 does not exist on
    // 28 March 2027 in Paris.
    let calendars = hub.data_dir().join("policies/calendars");
    std::fs::write(
        calendars.join("paris.toml"),
        "time_zone = \"Europe/Paris\"\n",
    )
    .unwrap();
    let out = hub
        .cli()
        .args([
            "sla",
            "due",
            "--calendar",
            "paris",
            "--level",
            "2",
            "--at",
            "2027-03-28T02:30",
        ])
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8(out.stderr).unwrap();
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(err.contains("does not exist in Europe/Paris"), "{err}");
    assert_eq!(
        due(&[
            "--calendar",
            "paris",
            "--level",
            "2",
            "--at",
            "2027-03-26T16:00"
        ]),
        "2027-03-29 12:00 Europe/Paris\n2027-03-29T10:00:00Z\n"
    );
    for bad in [
        vec!["--level", "5", "--at", "2026-05-22T16:00"],
        vec!["--level", "3", "--at", "yesterday"],
        vec![
            "--level",
            "3",
            "--at",
            "2026-05-22T16:00",
            "--calendar",
            "../etc",
        ],
        vec![
            "--level",
            "3",
            "--at",
            "2026-05-22T16:00",
            "--calendar",
            "mars",
        ],
        vec![
            "--level",
            "3",
            "--at",
            "2026-05-22T16:00",
            "--coverage",
            "weekends",
        ],
    ] {
        let out = hub.cli().args(["sla", "due"]).args(&bad).output().unwrap();
        assert!(!out.status.success(), "{bad:?}");
        let err = String::from_utf8(out.stderr).unwrap();
        assert_eq!(err.trim().lines().count(), 1, "{bad:?}: {err}");
    }
    hub.shutdown().await;
}
