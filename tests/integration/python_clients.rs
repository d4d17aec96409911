//! TAXII 2.1 with clients nobody here wrote: the OASIS Python `taxii2-client`, with `stix2`
//! building what is posted and `stix2-validator` checking every object relais returns. The
//! client runs `tests/python/taxii_client_check.py` over real mTLS; this side puts objects in
//! the store and compares the script's JSON summary with what relais should release.
//!
//! `RELAIS_TEST_PYTHON` names a Python with those packages (`.ci/run` makes a venv); unset,
//! the tests say NOT RUN, unless `RELAIS_TEST_REQUIRE_TOOLS` is set, when they fail.

use crate::common::relais_test_audit;
use std::collections::BTreeSet;
use std::path::PathBuf;

use relais::domain::markings::release::{Condition, ObjectAccess, VisibilityFilter};
use relais::domain::markings::{Pap, Tlp};
use relais::domain::stix::stored::{NewObject, ObjectQuery, version_key};
use reqwest::header::{ACCEPT, CONTENT_TYPE};
use serde_json::Value;
use time::OffsetDateTime;

use crate::common::{REQUIRE_TOOLS_VAR, TestHub, not_run, spawn_hub};

const PYTHON_VAR: &str = "RELAIS_TEST_PYTHON";
const SCRIPT: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/tests/python/taxii_client_check.py"
);
const TAXII: &str = "application/taxii+json;version=2.1";
const COMMUNITY: &str = "9cfa669c-ee94-4ece-afd2-f8edac37d8fd";
const SUBMISSIONS: &str = "2f1b3c38-5a4e-4d1f-9a53-6f1e2c7d8b90";
const INTERNAL: &str = "c6d0a8e4-71b2-4f43-8e0c-3a5d9b1f2e47";
const PER_REQUEST: usize = 7;

/// The Python to run the script with, or `None` (said NOT RUN) when none is configured.
fn python() -> Option<PathBuf> {
    match std::env::var_os(PYTHON_VAR) {
        Some(p) if !p.is_empty() => Some(PathBuf::from(p)),
        _ => {
            assert!(
                std::env::var_os(REQUIRE_TOOLS_VAR).is_none(),
                "{PYTHON_VAR} is not set but {REQUIRE_TOOLS_VAR} is"
            );
            not_run(&format!("taxii2-client tests: {PYTHON_VAR} not set"));
            None
        }
    }
}

/// Where discovery must send a client of a hub with the default configuration.
fn api_root_url(hub: &TestHub) -> String {
    format!("https://localhost:{}/taxii2/api/", hub.main.port())
}

/// Runs the script as the demo principal `who`; its JSON summary. Any failure of the script
/// fails the test with what it said.
async fn run_client(
    hub: &TestHub,
    python: &PathBuf,
    who: &str,
    mode: &str,
    collection: &str,
    hidden: &[String],
) -> Value {
    let files = hub.demo_files(who);
    let mut cmd = std::process::Command::new(python);
    cmd.arg(SCRIPT)
        .arg("--discovery")
        .arg(hub.url("/taxii2/"))
        // Read at 127.0.0.1, discovery sends the client to the first server name, localhost:
        // the client follows the configuration, not the address it came by.
        .arg("--expect-api-root")
        .arg(api_root_url(hub))
        .arg("--ca")
        .arg(hub.ca_path())
        .arg("--cert")
        .arg(&files.cert)
        .arg("--key")
        .arg(&files.key)
        .arg("--collection")
        .arg(collection)
        .arg("--mode")
        .arg(mode)
        .arg("--per-request")
        .arg(PER_REQUEST.to_string())
        // No proxy from the environment between the client and loopback.
        .env("NO_PROXY", "*")
        .env_remove("REQUESTS_CA_BUNDLE")
        .env_remove("CURL_CA_BUNDLE");
    for id in hidden {
        cmd.arg("--hidden-id").arg(id);
    }
    let what = format!("taxii2-client {mode} as {who} on {collection}");
    // The hub serves on this runtime: wait for the child off it.
    let out = tokio::task::spawn_blocking(move || cmd.output())
        .await
        .unwrap()
        .unwrap_or_else(|e| panic!("{PYTHON_VAR} is set but cannot be run: {e}"));
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success(),
        "{what} failed ({}):\n{stderr}\n{stdout}",
        out.status
    );
    if !stderr.trim().is_empty() {
        eprintln!("{what} said on stderr:\n{stderr}");
    }
    serde_json::from_str(&stdout)
        .unwrap_or_else(|e| panic!("{what}: summary is not JSON: {e}\n{stdout}"))
}

fn strings(v: &Value) -> BTreeSet<String> {
    v.as_array()
        .unwrap_or_else(|| panic!("not a list: {v}"))
        .iter()
        .map(|s| s.as_str().unwrap().to_owned())
        .collect()
}

/// `(id, can_read, can_write)` of each collection the script saw.
fn collections(summary: &Value) -> Vec<(String, bool, bool)> {
    let mut out: Vec<_> = summary["collections"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            (
                c["id"].as_str().unwrap().to_owned(),
                c["can_read"].as_bool().unwrap(),
                c["can_write"].as_bool().unwrap(),
            )
        })
        .collect();
    out.sort();
    out
}

/// Stores one object version in the community collection, produced by `producer`'s
/// organisation (a demo principal name).
async fn put(hub: &TestHub, id: &str, day: i64, tlp: Tlp, producer: &str) {
    let principal = hub.principal_named(producer).await;
    let object_type = id.split("--").next().unwrap();
    let modified = OffsetDateTime::from_unix_timestamp(1_780_000_000 + day * 86_400).unwrap();
    let modified_text = version_key(modified).replace(".000000000Z", ".000Z");
    let marking = tlp.marking_definition_id();
    let n = id.len() % 250;
    let body = match object_type {
        "indicator" => format!(
            r#""name":"interop indicator {id}","pattern":"[ipv4-addr:value = '185.220.101.{n}']","pattern_type":"stix","valid_from":"2026-05-01T00:00:00Z""#
        ),
        "malware" => format!(r#""name":"interop malware {id}","is_family":true"#),
        other => panic!("no template for {other}"),
    };
    let raw = format!(
        r#"{{"type":"{object_type}","spec_version":"2.1","id":"{id}","created":"2026-05-01T00:00:00.000Z","modified":"{modified_text}",{body},"object_marking_refs":["{marking}"]}}"#
    );
    hub.store
        .insert_object(
            &NewObject {
                collection: COMMUNITY.into(),
                id: id.to_owned(),
                object_type: object_type.into(),
                spec_version: "2.1".into(),
                version: version_key(modified),
                date_added: OffsetDateTime::now_utc(),
                access: ObjectAccess {
                    tlp,
                    pap: Some(Pap::Green),
                    producer: principal.organisation_id.clone(),
                    shared_with: vec![],
                    recipients: vec![],
                    granular: vec![],
                    confined: false,
                    submission: false,
                },
                tlp_defaulted: false,
                submitted_by: principal.id,
                raw,
                case_id: None,
                refs: vec![],
            },
            &relais_test_audit(),
        )
        .await
        .unwrap();
}

fn indicator(n: u32) -> String {
    format!("indicator--5f0c1d2e-0000-4000-8000-{n:012}")
}

fn malware(n: u32) -> String {
    format!("malware--6a1b2c3d-0000-4000-8000-{n:012}")
}

/// Page sizes of a paged read: every page but the last is full (relais fills a page past
/// hidden objects, so that `as_pages` keeps its page size), and they add up to `total`.
fn assert_full_pages(sizes: &Value, total: usize, what: &str) {
    let sizes: Vec<usize> = sizes
        .as_array()
        .unwrap()
        .iter()
        .map(|s| usize::try_from(s.as_u64().unwrap()).unwrap())
        .collect();
    assert_eq!(sizes.iter().sum::<usize>(), total, "{what}: {sizes:?}");
    let full = total / PER_REQUEST;
    assert!(
        sizes[..full].iter().all(|s| *s == PER_REQUEST)
            && sizes[full..].iter().all(|s| *s < PER_REQUEST),
        "{what}: pages {sizes:?} for {total} objects by {PER_REQUEST}"
    );
}

#[tokio::test]
async fn taxii2_client_reads_exactly_what_is_released() {
    let Some(python) = python() else { return };
    let hub = spawn_hub().await;

    // 25 GREEN indicators of provider A (four pages and a bit), AMBER ones of provider A
    // interleaved, CLEAR malware of the CSIRT, and a first indicator with three versions,
    // the last of them RED.
    let mut released = BTreeSet::new();
    let mut amber = Vec::new();
    for n in 0..25 {
        put(&hub, &indicator(n), 0, Tlp::Green, "provider-a").await;
        released.insert(indicator(n));
        if n % 4 == 1 {
            let id = indicator(1000 + n);
            put(&hub, &id, 0, Tlp::Amber, "provider-a").await;
            amber.push(id);
        }
        if n % 10 == 3 {
            put(&hub, &malware(n), 0, Tlp::Clear, "csirt-analyst").await;
            released.insert(malware(n));
        }
    }
    put(&hub, &indicator(0), 1, Tlp::Green, "provider-a").await;
    put(&hub, &indicator(0), 2, Tlp::Red, "provider-a").await;
    assert_eq!((released.len(), amber.len()), (28, 6));

    let summary = run_client(&hub, &python, "provider-b", "read", COMMUNITY, &amber).await;
    let ids = strings(&summary["objects"]["ids"]);
    assert_eq!(
        ids, released,
        "provider B sees exactly the GREEN and CLEAR objects"
    );
    assert!(amber.iter().all(|id| !ids.contains(id)));
    assert_eq!(summary["objects"]["count"], 28, "one version of each");
    assert_full_pages(&summary["objects"]["page_sizes"], 28, "objects");
    assert_full_pages(&summary["manifest"]["page_sizes"], 28, "manifest");
    assert_eq!(summary["filters"]["type"]["indicator"], 25);
    assert_eq!(summary["filters"]["type"]["malware"], 3);
    assert_eq!(summary["hidden_checked"], 6);
    assert_eq!(
        summary["versions"][indicator(0)].as_array().map(Vec::len),
        Some(2),
        "the RED version is not listed: {}",
        summary["versions"]
    );
    // Every object relais returned went through stix2-validator.
    assert!(summary["validated"].as_u64().unwrap() >= 28);
    assert_eq!(
        collections(&summary),
        [
            (SUBMISSIONS.to_owned(), true, true),
            (COMMUNITY.to_owned(), true, false),
        ]
    );
    assert_eq!(summary["discovery"]["default"], api_root_url(&hub));
    assert_eq!(summary["discovery"]["followed"], 1);

    // The producer sees its AMBER objects and every version; the CSIRT sees its internal
    // collection too.
    let producer = run_client(&hub, &python, "provider-a", "read", COMMUNITY, &[]).await;
    let mut everything = released.clone();
    everything.extend(amber.iter().cloned());
    assert_eq!(strings(&producer["objects"]["ids"]), everything);
    assert_full_pages(&producer["objects"]["page_sizes"], 34, "producer objects");
    assert_eq!(
        producer["versions"][indicator(0)].as_array().map(Vec::len),
        Some(3)
    );
    let analyst = run_client(&hub, &python, "csirt-analyst", "read", COMMUNITY, &[]).await;
    let analyst_collections = collections(&analyst);
    assert_eq!(analyst_collections.len(), 3);
    assert!(analyst_collections.contains(&(INTERNAL.to_owned(), true, true)));
    assert!(analyst_collections.contains(&(COMMUNITY.to_owned(), true, true)));
    // A partner CSIRT (peer) has the community collection only, read-only, and never the
    // AMBER objects.
    let peer = run_client(&hub, &python, "partner-csirt", "read", COMMUNITY, &amber).await;
    assert_eq!(collections(&peer), [(COMMUNITY.to_owned(), true, false)]);
    assert!(strings(&peer["objects"]["ids"]).is_subset(&released));
    eprintln!(
        "taxii2-client read: {} objects validated as provider B; packages {}",
        summary["validated"], summary["packages"]
    );
    hub.shutdown().await;
}

#[tokio::test]
async fn taxii2_client_writes_and_reads_back() {
    let Some(python) = python() else { return };
    let hub = spawn_hub().await;

    let summary = run_client(&hub, &python, "provider-a", "write", SUBMISSIONS, &[]).await;
    let write = &summary["write"];
    let initial = &write["initial_status"];
    for field in [
        "id",
        "status",
        "total_count",
        "success_count",
        "failure_count",
        "pending_count",
    ] {
        assert!(
            initial.get(field).is_some(),
            "status resource without {field}: {initial}"
        );
    }
    let posted: Vec<String> = ["indicator", "malware", "relationship"]
        .iter()
        .map(|k| write[k].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(
        write["indicator_versions"].as_array().map(Vec::len),
        Some(2)
    );

    // Stored as TLP:GREEN (stix2's TLP 1.0 definition), not defaulted, produced by provider
    // A: a store query that shows GREEN alone finds every posted version.
    let provider_a = hub.principal_named("provider-a").await;
    let green_only = ObjectQuery {
        collection: SUBMISSIONS.into(),
        visibility: VisibilityFilter {
            tlp: vec![(Tlp::Green, Condition::Always)],
            pap: vec![],
            granular: None,
            confined: Condition::Always,
            all_submissions: false,
        },
        types: vec![],
        ids: posted.clone(),
        added_after: None,
        versions: vec![],
        after_seq: None,
        limit: 100,
    };
    let stored = hub.store.objects(&green_only).await.unwrap();
    assert_eq!(
        stored.len(),
        4,
        "3 objects, the indicator twice: {stored:?}"
    );
    for v in &stored {
        assert!(
            !v.tlp_defaulted,
            "{}: the TLP 1.0 marking was not recognised",
            v.id
        );
        assert_eq!(v.access.producer, provider_a.organisation_id);
        assert_eq!(v.submitted_by, provider_a.id);
    }

    // Readable by the CSIRT over plain HTTPS, byte for byte what the client's JSON said.
    let analyst = hub.client("csirt-analyst");
    for entry in write["posted"].as_array().unwrap() {
        let id = entry["id"].as_str().unwrap();
        let resp = analyst
            .get(hub.url(&format!(
                "/taxii2/api/collections/{SUBMISSIONS}/objects/{id}/?match[version]={}",
                entry["modified"].as_str().unwrap()
            )))
            .header(ACCEPT, TAXII)
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), 200, "{id}");
        let body: Value = resp.json().await.unwrap();
        assert_eq!(body["objects"][0]["id"], id);
        assert_eq!(body["objects"][0]["modified"], entry["modified"]);
    }

    // The status resource is its poster's: another provider gets a 404 for it.
    let status_path = format!(
        "/taxii2/api/status/{}/",
        write["status_id"].as_str().unwrap()
    );
    for (who, expected) in [("provider-a", 200), ("provider-b", 404)] {
        let resp = hub
            .client(who)
            .get(hub.url(&status_path))
            .header(ACCEPT, TAXII)
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), expected, "{who} GET {status_path}");
    }

    // Through taxii2-client again: the CSIRT reads every submission; another provider reads
    // none, GREEN or not, since submissions are confined until an analyst publishes them.
    let mixed = &write["mixed_envelope"];
    let mut expected: BTreeSet<String> = posted.iter().cloned().collect();
    if mixed["outcome"] == "partial" {
        expected.insert(mixed["valid_id"].as_str().unwrap().to_owned());
    }
    let invalid = mixed["invalid_id"].as_str().unwrap().to_owned();
    let reader = run_client(
        &hub,
        &python,
        "csirt-analyst",
        "read",
        SUBMISSIONS,
        std::slice::from_ref(&invalid),
    )
    .await;
    assert_eq!(strings(&reader["objects"]["ids"]), expected);
    let other = run_client(
        &hub,
        &python,
        "provider-b",
        "read",
        SUBMISSIONS,
        std::slice::from_ref(&invalid),
    )
    .await;
    assert!(strings(&other["objects"]["ids"]).is_empty(), "{other}");
    eprintln!(
        "taxii2-client write: status {}, mixed envelope {}",
        write["status_id"], mixed
    );
    hub.shutdown().await;
}

/// taxii2-client's `delete_object` sends, through `requests`, `Content-Length: 0` and no
/// `Content-Type`; relais's media check counts that as a body of the wrong type and answers
/// 415, so the client cannot delete. With that header left off, this test passes.
#[tokio::test]
async fn taxii2_client_deletes_what_its_principal_produced() {
    let Some(python) = python() else { return };
    let hub = spawn_hub().await;
    let summary = run_client(&hub, &python, "provider-a", "delete", SUBMISSIONS, &[]).await;
    let id = summary["delete"]["id"].as_str().unwrap();
    // Gone for the CSIRT too.
    let resp = hub
        .client("csirt-analyst")
        .get(hub.url(&format!(
            "/taxii2/api/collections/{SUBMISSIONS}/objects/{id}/"
        )))
        .header(ACCEPT, TAXII)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 404);
    hub.shutdown().await;
}

/// What the IOC API and the anonymiser produce is valid STIX for the reference validator, read
/// back with taxii2-client: the queue as the CSIRT sees it, then the published objects as
/// another provider sees them.
#[tokio::test]
async fn ioc_api_and_anonymised_submissions_pass_stix2_validator() {
    let Some(python) = python() else { return };
    let hub = spawn_hub().await;
    let provider = hub.principal_named("provider-a").await.organisation_id;
    let case: Value = hub
        .client("csirt-analyst")
        .post(hub.url("/api/v1/cases"))
        .header(CONTENT_TYPE, "application/json")
        .body(
            serde_json::json!({
                "reference": "CSIRT-RE-2026-0001", "beneficiary": "Mairie de Saint-Leu",
                "provider": provider.as_str(), "consent": "given",
                "identifiers": {"domains": ["victim.re"], "hostnames": ["srv-compta"]}
            })
            .to_string(),
        )
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let items = serde_json::json!([
        {"type": "ipv4", "value": "185.220.101.4", "tlp": "green", "pap": "green",
         "description": "C2 reached from srv-compta.victim.re", "attack_techniques": ["T1071.001", "T1059"],
         "case": case["id"]},
        {"type": "ipv6", "value": "2a0b:f4c2::1", "tlp": "clear"},
        {"type": "domain", "value": "evil-c2.example", "tlp": "green"},
        {"type": "url", "value": "https://evil-c2.example/gate.php?id='1'", "tlp": "green"},
        {"type": "email", "value": "phish@evil-c2.example", "tlp": "green"},
        {"type": "md5", "value": "D41D8CD98F00B204E9800998ECF8427E", "tlp": "green"},
        {"type": "sha1", "value": "da39a3ee5e6b4b0d3255bfef95601890afd80709", "tlp": "green"},
        {"type": "sha256", "value": "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855", "tlp": "green"},
        {"type": "file_name", "value": "invoice 'final'.pdf.exe", "tlp": "green"}
    ]);
    let response: Value = hub
        .client("provider-a")
        .post(hub.url("/api/v1/iocs"))
        .header(CONTENT_TYPE, "application/json")
        .body(items.to_string())
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(response["accepted"], 9, "{response}");
    let queued = run_client(&hub, &python, "csirt-analyst", "read", SUBMISSIONS, &[]).await;
    assert!(
        strings(&queued["objects"]["ids"]).len() >= 9 + 2 + 2,
        "{queued}"
    );
    // Publish every indicator under the CSIRT and read the community as provider B.
    let queue: Value = hub
        .client("csirt-analyst")
        .get(hub.url("/api/v1/triage?type=indicator"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    for item in queue.as_array().unwrap() {
        let id = item["sightings"][0]["id"].as_str().unwrap();
        let resp = hub
            .client("csirt-analyst")
            .post(hub.url(&format!("/api/v1/triage/{id}/publish")))
            .header(CONTENT_TYPE, "application/json")
            .body("{}")
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status().as_u16(), 200);
    }
    let community = run_client(&hub, &python, "provider-b", "read", COMMUNITY, &[]).await;
    assert!(
        strings(&community["objects"]["ids"]).len() >= 8,
        "{community}"
    );
    hub.shutdown().await;
}
