//! Objects that cite a marking definition the hub does not hold yet wait for it (issue 12,
//! point 6): pending in their envelope's status resource, out of every collection, stored
//! once the definition arrives, refused once their wait is over or their poster lost access.

use std::sync::Arc;

use reqwest::header::{ACCEPT, CONTENT_TYPE};
use serde_json::{Value, json};
use time::OffsetDateTime;

use crate::common::{HubOptions, REQUIRE_TOOLS_VAR, TestHub, not_run, spawn_hub, spawn_hub_with};
use relais::clock::FixedClock;

const TAXII: &str = "application/taxii+json;version=2.1";
const COMMUNITY: &str = "9cfa669c-ee94-4ece-afd2-f8edac37d8fd";
const SUBMISSIONS: &str = "2f1b3c38-5a4e-4d1f-9a53-6f1e2c7d8b90";
const CLEAR: &str = "marking-definition--94868c89-83c2-464b-929b-a1a8aa3c8487";

fn statement_id(n: u32) -> String {
    format!("marking-definition--5a7e0000-0000-4000-8000-{n:012}")
}

fn statement(n: u32) -> Value {
    json!({
        "type": "marking-definition", "spec_version": "2.1", "id": statement_id(n),
        "created": "2026-05-01T00:00:00.000Z", "definition_type": "statement",
        "definition": {"statement": "Copyright 2026, the test"},
        "object_marking_refs": [CLEAR]
    })
}

fn indicator(n: u32, markings: &[String]) -> Value {
    let mut o = json!({
        "type": "indicator", "spec_version": "2.1",
        "id": format!("indicator--5a7e0000-0000-4000-8000-{n:012}"),
        "created": "2026-05-01T00:00:00.000Z", "modified": "2026-05-01T00:00:00.000Z",
        "pattern": format!("[ipv4-addr:value = '185.220.101.{n}']"),
        "pattern_type": "stix", "valid_from": "2026-05-01T00:00:00Z"
    });
    if !markings.is_empty() {
        o["object_marking_refs"] = json!(markings);
    }
    o
}

async fn post(hub: &TestHub, who: &str, collection: &str, objects: &[Value]) -> Value {
    let resp = hub
        .client(who)
        .post(hub.url(&format!("/taxii2/api/collections/{collection}/objects/")))
        .header(ACCEPT, TAXII)
        .header(CONTENT_TYPE, TAXII)
        .body(json!({ "objects": objects }).to_string())
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 202);
    resp.json().await.unwrap()
}

async fn status(hub: &TestHub, who: &str, posted: &Value) -> Value {
    let id = posted["id"].as_str().unwrap();
    let resp = hub
        .client(who)
        .get(hub.url(&format!("/taxii2/api/status/{id}/")))
        .header(ACCEPT, TAXII)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    resp.json().await.unwrap()
}

async fn ids(hub: &TestHub, who: &str, collection: &str) -> Vec<String> {
    let resp = hub
        .client(who)
        .get(hub.url(&format!(
            "/taxii2/api/collections/{collection}/objects/?limit=1000"
        )))
        .header(ACCEPT, TAXII)
        .send()
        .await
        .unwrap();
    let page: Value = resp.json().await.unwrap();
    page["objects"]
        .as_array()
        .map(|objects| {
            objects
                .iter()
                .map(|o| o["id"].as_str().unwrap().to_owned())
                .collect()
        })
        .unwrap_or_default()
}

#[tokio::test]
async fn attack_bundles_whose_marking_definition_comes_last_are_stored_whole() {
    let hub = spawn_hub().await;
    let cited = vec![statement_id(1)];
    // The objects first, in two envelopes, as a client posting a bundle in file order does.
    let first = post(
        &hub,
        "csirt-analyst",
        COMMUNITY,
        &[
            indicator(1, &cited),
            indicator(2, &cited),
            indicator(3, &[]),
        ],
    )
    .await;
    assert_eq!(first["status"], "pending", "{first}");
    assert_eq!(
        (
            &first["success_count"],
            &first["pending_count"],
            &first["total_count"]
        ),
        (&json!(1), &json!(2), &json!(3)),
        "{first}"
    );
    assert_eq!(
        first["pendings"][0]["message"],
        format!("waiting for marking definition {}", statement_id(1))
    );
    let second = post(&hub, "csirt-analyst", COMMUNITY, &[indicator(4, &cited)]).await;
    assert_eq!(second["pending_count"], 1);
    // Pending objects are in no collection, for anyone.
    for who in ["csirt-analyst", "provider-b"] {
        let seen = ids(&hub, who, COMMUNITY).await;
        assert!(
            !seen.iter().any(|id| id.ends_with("000000000001")),
            "{seen:?}"
        );
    }
    assert_eq!(status(&hub, "csirt-analyst", &first).await, first);

    // The definition arrives: what waited for it is stored, as its poster, at once.
    let last = post(&hub, "csirt-analyst", COMMUNITY, &[statement(1)]).await;
    assert_eq!(last["status"], "complete", "{last}");
    for posted in [&first, &second] {
        let now = status(&hub, "csirt-analyst", posted).await;
        assert_eq!(now["status"], "complete", "{now}");
        assert_eq!(now["pending_count"], 0);
        assert_eq!(now["failure_count"], 0);
        assert_eq!(now["success_count"], now["total_count"]);
    }
    let seen = ids(&hub, "csirt-analyst", COMMUNITY).await;
    for n in 1..=4 {
        assert!(
            seen.iter().any(|id| id.ends_with(&format!("{n:012}"))),
            "{n}"
        );
    }
    // On the record as the poster's, when it was stored.
    let entries = hub.store.audit_entries(0, 1000, None).await.unwrap();
    let resumed: Vec<Value> = entries
        .iter()
        .map(|e| serde_json::from_slice::<Value>(&e.entry).unwrap())
        .filter(|e| {
            e["reason"]
                .as_str()
                .unwrap_or_default()
                .contains("after waiting for marking definitions")
        })
        .collect();
    assert_eq!(resumed.len(), 2, "one per envelope: {resumed:?}");
    let analyst = hub.principal_named("csirt-analyst").await;
    assert!(
        resumed
            .iter()
            .all(|e| e["actor"]["principal"] == analyst.id.as_str())
    );
    // Another principal never sees the statuses.
    let id = first["id"].as_str().unwrap();
    let resp = hub
        .client("provider-a")
        .get(hub.url(&format!("/taxii2/api/status/{id}/")))
        .header(ACCEPT, TAXII)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 404);
    hub.shutdown().await;
}

/// A hub on a clock the test moves.
async fn hub_on_clock(wait_secs: u64) -> (TestHub, FixedClock) {
    let clock = FixedClock::new(OffsetDateTime::now_utc());
    let hub = spawn_hub_with(HubOptions {
        clock: Some(Arc::new(clock.clone())),
        tweak: Some(Box::new(move |config, _| {
            config.limits.pending_marking_secs = wait_secs;
        })),
        ..HubOptions::default()
    })
    .await;
    (hub, clock)
}

/// Waits (on the hub's job, every 5 s) until `cond` holds of the status.
async fn until(hub: &TestHub, who: &str, posted: &Value, cond: impl Fn(&Value) -> bool) -> Value {
    for _ in 0..40 {
        let now = status(hub, who, posted).await;
        if cond(&now) {
            return now;
        }
        tokio::time::sleep(std::time::Duration::from_millis(250)).await;
    }
    panic!("status never changed: {}", status(hub, who, posted).await);
}

#[tokio::test]
async fn a_pending_object_is_refused_when_its_wait_is_over() {
    let (hub, clock) = hub_on_clock(300).await;
    let posted = post(
        &hub,
        "provider-a",
        SUBMISSIONS,
        &[indicator(1, &[statement_id(9)])],
    )
    .await;
    assert_eq!(posted["status"], "pending");
    // Within its wait nothing changes; past it the hub's job refuses it with the reason it
    // waited for, and nothing is stored.
    clock.advance(time::Duration::seconds(299));
    tokio::time::sleep(std::time::Duration::from_millis(5500)).await;
    assert_eq!(
        status(&hub, "provider-a", &posted).await["status"],
        "pending"
    );
    clock.advance(time::Duration::seconds(2));
    let done = until(&hub, "provider-a", &posted, |s| s["status"] == "complete").await;
    assert_eq!(done["failure_count"], 1, "{done}");
    assert_eq!(
        done["failures"][0]["message"],
        format!("marking {} is unknown to this hub", statement_id(9))
    );
    assert_eq!(done["failures"][0]["id"], indicator(1, &[])["id"]);
    // The definition coming later changes nothing.
    post(&hub, "provider-a", SUBMISSIONS, &[statement(9)]).await;
    assert!(
        ids(&hub, "provider-a", SUBMISSIONS)
            .await
            .iter()
            .all(|id| !id.starts_with("indicator--"))
    );
    hub.shutdown().await;
}

#[tokio::test]
async fn a_pending_object_of_a_poster_who_lost_access_is_refused() {
    let hub = spawn_hub().await;
    let posted = post(
        &hub,
        "provider-a",
        SUBMISSIONS,
        &[indicator(1, &[statement_id(2)])],
    )
    .await;
    assert_eq!(posted["status"], "pending");
    // Provider A's certificate is revoked; the definition then arrives from the CSIRT.
    let a = hub.principal_named("provider-a").await;
    let binding = hub
        .store
        .bindings()
        .await
        .unwrap()
        .into_iter()
        .find(|b| b.principal_id == a.id)
        .unwrap();
    hub.store
        .revoke_binding(
            &binding.fingerprint,
            OffsetDateTime::now_utc(),
            "test",
            &crate::common::relais_test_audit(),
        )
        .await
        .unwrap();
    post(&hub, "csirt-analyst", COMMUNITY, &[statement(2)]).await;
    let rows = hub
        .store
        .pending_of_status(posted["id"].as_str().unwrap())
        .await
        .unwrap();
    assert_eq!(rows.len(), 1);
    assert_eq!(
        (
            rows[0].state,
            rows[0].message.as_str(),
            rows[0].raw.as_deref()
        ),
        (
            relais::domain::stix::pending::PendingState::Failed,
            "the principal that posted it no longer has access",
            None
        )
    );
    hub.shutdown().await;
}

/// A definition the poster may not read counts as one never stored: the object waits the
/// same way, for a definition it may read.
#[tokio::test]
async fn a_definition_the_poster_may_not_read_does_not_end_its_wait() {
    let hub = spawn_hub().await;
    // Provider A's own definition, confined to A and the CSIRT like every submission.
    post(&hub, "provider-a", SUBMISSIONS, &[statement(3)]).await;
    let posted = post(
        &hub,
        "provider-b",
        SUBMISSIONS,
        &[
            indicator(1, &[statement_id(3)]),
            indicator(2, &[statement_id(4)]),
        ],
    )
    .await;
    assert_eq!(posted["pending_count"], 2, "{posted}");
    let same = |i: usize, n: u32| {
        posted["pendings"][i]["message"]
            .as_str()
            .unwrap()
            .replace(&statement_id(n), "X")
    };
    assert_eq!(same(0, 3), same(1, 4));
    // Another definition arrives: B's objects are tried again and still wait.
    post(&hub, "csirt-analyst", COMMUNITY, &[statement(5)]).await;
    let now = status(&hub, "provider-b", &posted).await;
    assert_eq!(now["pending_count"], 2, "{now}");
    hub.shutdown().await;
}

#[tokio::test]
async fn taxii2_client_sees_an_envelope_pending_then_complete_and_failures_named() {
    let Some(python) = std::env::var_os("RELAIS_TEST_PYTHON").filter(|p| !p.is_empty()) else {
        assert!(
            std::env::var_os(REQUIRE_TOOLS_VAR).is_none(),
            "RELAIS_TEST_PYTHON is not set but {REQUIRE_TOOLS_VAR} is"
        );
        not_run("taxii2-client pending check: RELAIS_TEST_PYTHON not set");
        return;
    };
    let hub = spawn_hub().await;
    let files = hub.demo_files("csirt-analyst");
    let mut cmd = std::process::Command::new(python);
    cmd.arg(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/python/pending_check.py"
    ))
    .arg("--collection")
    .arg(hub.url(&format!("/taxii2/api/collections/{COMMUNITY}/")))
    .arg("--ca")
    .arg(hub.ca_path())
    .arg("--cert")
    .arg(&files.cert)
    .arg("--key")
    .arg(&files.key)
    .env("NO_PROXY", "*");
    let out = tokio::task::spawn_blocking(move || cmd.output())
        .await
        .unwrap()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let summary: Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(summary["first"]["status"], "pending", "{summary}");
    assert_eq!(summary["first_final"]["status"], "complete", "{summary}");
    assert_eq!(summary["read_back"], 5);
    hub.shutdown().await;
}
