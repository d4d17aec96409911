//! Regressions of the adversarial review (issue 11), over real mTLS, each named after the
//! precedent it guards against: references into hidden objects, TLP written as labels, PAP
//! lowered by the CSIRT, required fields under a stricter marking, spoofed attribution, what
//! the CSIRT reads of a submission, and marking changes on the record.

use reqwest::header::{ACCEPT, CONTENT_TYPE};
use serde_json::{Value, json};

use crate::common::{TestHub, relais_test_audit, spawn_hub};
use relais::domain::markings::release::ObjectAccess;
use relais::domain::markings::{Pap, Tlp};
use relais::domain::stix::stored::{NewObject, version_key};

const TAXII: &str = "application/taxii+json;version=2.1";
const COMMUNITY: &str = "9cfa669c-ee94-4ece-afd2-f8edac37d8fd";
const SUBMISSIONS: &str = "2f1b3c38-5a4e-4d1f-9a53-6f1e2c7d8b90";
const CLEAR: &str = "marking-definition--94868c89-83c2-464b-929b-a1a8aa3c8487";
const GREEN: &str = "marking-definition--bab4a63c-aed9-4cf5-a766-dfca5abac2bb";
const RED: &str = "marking-definition--e828b379-4e03-4974-9ac4-e53a884c97c1";
const PAP_CLEAR: &str = "marking-definition--ad15a0cd-55b6-4588-a14c-a66105329b92";
const PAP_RED: &str = "marking-definition--740d36e5-7714-4c30-961a-3ae632ceee0e";
const T: &str = "2026-05-01T00:00:00.000Z";
const MITRE: &str = "identity--c78cb6e5-0c4b-4611-8297-d1b8b55e40b5";

fn id(kind: &str, n: u32) -> String {
    format!("{kind}--0b5e7a11-0000-4000-8000-{n:012}")
}

/// An SDO or SRO of `kind` with the common properties, its markings and `extra`.
fn sdo(kind: &str, n: u32, markings: &[&str], extra: Value) -> Value {
    let mut o = json!({
        "type": kind, "spec_version": "2.1", "id": id(kind, n), "created": T, "modified": T,
    });
    if !markings.is_empty() {
        o["object_marking_refs"] = json!(markings);
    }
    for (k, v) in extra.as_object().unwrap() {
        o[k] = v.clone();
    }
    o
}

fn indicator(n: u32, markings: &[&str], extra: Value) -> Value {
    let mut o = sdo(
        "indicator",
        n,
        markings,
        json!({
            "pattern": format!("[ipv4-addr:value = '185.220.101.{}']", n % 250),
            "pattern_type": "stix", "valid_from": "2026-05-01T00:00:00Z"
        }),
    );
    for (k, v) in extra.as_object().unwrap() {
        o[k] = v.clone();
    }
    o
}

fn relationship(n: u32, source: &str, target: &str) -> Value {
    sdo(
        "relationship",
        n,
        &[GREEN],
        json!({"relationship_type": "indicates", "source_ref": source, "target_ref": target}),
    )
}

fn report(n: u32, refs: &[&str]) -> Value {
    sdo(
        "report",
        n,
        &[GREEN],
        json!({"name": "report", "published": "2026-05-01T00:00:00Z", "object_refs": refs}),
    )
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
    assert_eq!(resp.status().as_u16(), 202);
    resp.json().await.unwrap()
}

async fn get(hub: &TestHub, who: &str, path: &str) -> (u16, String) {
    let resp = hub
        .client(who)
        .get(hub.url(path))
        .header(ACCEPT, TAXII)
        .send()
        .await
        .unwrap();
    (resp.status().as_u16(), resp.text().await.unwrap())
}

async fn get_json(hub: &TestHub, who: &str, path: &str) -> Value {
    let (status, body) = get(hub, who, path).await;
    assert_eq!(status, 200, "{path}: {body}");
    serde_json::from_str(&body).unwrap()
}

async fn api(hub: &TestHub, who: &str, path: &str, body: Value) -> (u16, Value) {
    let resp = hub
        .client(who)
        .post(hub.url(path))
        .json(&body)
        .send()
        .await
        .unwrap();
    (
        resp.status().as_u16(),
        resp.json().await.unwrap_or(Value::Null),
    )
}

/// Everything `who` can read of the community: every version, the manifest and the
/// blocklist in both forms.
async fn community_text(hub: &TestHub, who: &str) -> String {
    let mut text = String::new();
    for path in [
        format!("/taxii2/api/collections/{COMMUNITY}/objects/?match[version]=all&limit=1000"),
        format!("/taxii2/api/collections/{COMMUNITY}/manifest/?limit=1000"),
        "/api/v1/exports/blocklist?format=txt".to_owned(),
        "/api/v1/exports/blocklist?format=csv".to_owned(),
    ] {
        let (status, body) = get(hub, who, &path).await;
        assert_eq!(status, 200, "{path}: {body}");
        text.push_str(&body);
    }
    text
}

/// The community object `object_id` as `who` reads it.
async fn read(hub: &TestHub, who: &str, object_id: &str) -> Option<Value> {
    let (status, body) = get(
        hub,
        who,
        &format!("/taxii2/api/collections/{COMMUNITY}/objects/{object_id}/"),
    )
    .await;
    match status {
        200 => {
            let page: Value = serde_json::from_str(&body).unwrap();
            Some(page["objects"][0].clone())
        }
        404 => None,
        other => panic!("{other}: {body}"),
    }
}

/// The 404 of an id that was never stored: what every hidden object must look like.
async fn missing_body(hub: &TestHub, who: &str) -> String {
    let (status, body) = get(
        hub,
        who,
        &format!(
            "/taxii2/api/collections/{COMMUNITY}/objects/{}/",
            id("indicator", 999_999)
        ),
    )
    .await;
    assert_eq!(status, 404);
    body
}

async fn stix_identity(hub: &TestHub, who: &str) -> String {
    let me = get_json(hub, who, "/api/v1/whoami").await;
    me["organisation"]["stix_identity"]
        .as_str()
        .unwrap()
        .to_owned()
}

#[tokio::test]
async fn opencti_3319_11496_15533_references_never_name_what_the_reader_may_not_read() {
    let hub = spawn_hub().await;
    let red_indicator = id("indicator", 1);
    let red_identity = id("identity", 2);
    let malware = id("malware", 3);
    let green_indicator = id("indicator", 4);
    let never_stored = id("indicator", 5);
    let objects = vec![
        indicator(1, &[RED], json!({})),
        sdo(
            "identity",
            2,
            &[RED],
            json!({"name": "victim", "identity_class": "organization"}),
        ),
        sdo(
            "malware",
            3,
            &[GREEN],
            json!({"name": "x", "is_family": true}),
        ),
        indicator(4, &[GREEN], json!({})),
        // OpenCTI #3319: a relationship to a hidden object.
        relationship(10, &red_indicator, &malware),
        relationship(11, &green_indicator, &malware),
        // A reference to nothing stored counts exactly like one to a hidden object.
        relationship(12, &never_stored, &malware),
        // OpenCTI #11496: a report that lists hidden objects loses them, and one left with
        // nothing is withheld.
        report(
            20,
            &[
                &red_indicator,
                &malware,
                &id("relationship", 10),
                &green_indicator,
            ],
        ),
        report(21, &[&red_indicator, &id("relationship", 10)]),
        // OpenCTI #15533: a sighting that names a hidden identity keeps the sighting only.
        sdo(
            "sighting",
            30,
            &[GREEN],
            json!({"sighting_of_ref": green_indicator, "where_sighted_refs": [red_identity]}),
        ),
        // A container of containers: judged through the report, transitively.
        sdo(
            "grouping",
            40,
            &[GREEN],
            json!({"context": "suspicious-activity",
                   "object_refs": [id("report", 20), id("relationship", 10)]}),
        ),
    ];
    let status = post(&hub, "csirt-analyst", COMMUNITY, &objects).await;
    assert_eq!(status["success_count"], objects.len(), "{status}");

    for reader in ["provider-b", "provider-a"] {
        let text = community_text(&hub, reader).await;
        for hidden in [
            &red_indicator,
            &red_identity,
            &never_stored,
            &id("relationship", 10),
            &id("relationship", 12),
            &id("report", 21),
        ] {
            assert!(!text.contains(hidden.as_str()), "{reader} sees {hidden}");
        }
        for shown in [&malware, &green_indicator, &id("relationship", 11)] {
            assert!(text.contains(shown.as_str()), "{reader} misses {shown}");
        }
        let missing = missing_body(&hub, reader).await;
        for withheld in [
            id("relationship", 10),
            id("relationship", 12),
            id("report", 21),
        ] {
            let (status, body) = get(
                &hub,
                reader,
                &format!("/taxii2/api/collections/{COMMUNITY}/objects/{withheld}/versions/"),
            )
            .await;
            assert_eq!((status, body), (404, missing.clone()), "{withheld}");
        }
        let report = read(&hub, reader, &id("report", 20)).await.unwrap();
        assert_eq!(report["object_refs"], json!([malware, green_indicator]));
        let sighting = read(&hub, reader, &id("sighting", 30)).await.unwrap();
        assert!(sighting.get("where_sighted_refs").is_none(), "{sighting}");
        assert_eq!(sighting["sighting_of_ref"], green_indicator);
        let grouping = read(&hub, reader, &id("grouping", 40)).await.unwrap();
        assert_eq!(grouping["object_refs"], json!([id("report", 20)]));
    }
    // The producer of the RED objects sees everything whole, as stored; the dangling
    // relationship is withheld from everyone.
    let analyst = read(&hub, "csirt-analyst", &id("report", 20))
        .await
        .unwrap();
    assert_eq!(analyst, objects[7]);
    assert!(
        read(&hub, "csirt-analyst", &id("relationship", 10))
            .await
            .is_some()
    );
    assert!(
        read(&hub, "csirt-analyst", &id("relationship", 12))
            .await
            .is_none()
    );
    hub.shutdown().await;
}

/// Every page of `objects/` or `manifest/` for `who`, with the ids of each page, its `more`
/// and its date headers.
async fn walk(
    hub: &TestHub,
    who: &str,
    endpoint: &str,
    limit: u32,
) -> Vec<(
    Vec<String>,
    bool,
    Option<String>,
    Option<String>,
    Vec<String>,
)> {
    let mut pages = Vec::new();
    let mut next = String::new();
    loop {
        let resp = hub
            .client(who)
            .get(hub.url(&format!(
                "/taxii2/api/collections/{COMMUNITY}/{endpoint}/?limit={limit}{next}"
            )))
            .header(ACCEPT, TAXII)
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), 200);
        let header = |name: &str| {
            resp.headers()
                .get(name)
                .map(|v| v.to_str().unwrap().to_owned())
        };
        let (first, last) = (
            header("x-taxii-date-added-first"),
            header("x-taxii-date-added-last"),
        );
        let page: Value = resp.json().await.unwrap();
        let items = page["objects"].as_array().cloned().unwrap_or_default();
        let ids = items
            .iter()
            .map(|o| o["id"].as_str().unwrap().to_owned())
            .collect();
        let dates = items
            .iter()
            .filter_map(|o| o["date_added"].as_str().map(str::to_owned))
            .collect();
        pages.push((ids, page["more"] == true, first, last, dates));
        match page["next"].as_str() {
            Some(n) => next = format!("&next={n}"),
            None => return pages,
        }
        assert!(pages.len() < 50);
    }
}

#[tokio::test]
async fn withheld_references_change_no_page_count_or_header() {
    let hub = spawn_hub().await;
    let red = id("indicator", 900);
    let visible: Vec<Value> = (1..=7).map(|n| indicator(n, &[GREEN], json!({}))).collect();
    let withheld = |n: u32| relationship(n, &red, &id("indicator", 1));
    // Arrival order: V1 V2 V3 W V4 V5 W W V6 V7, the RED target first.
    post(
        &hub,
        "csirt-analyst",
        COMMUNITY,
        &[indicator(900, &[RED], json!({}))],
    )
    .await;
    for batch in [
        vec![visible[0].clone(), visible[1].clone(), visible[2].clone()],
        vec![withheld(50)],
        vec![visible[3].clone(), visible[4].clone()],
        vec![withheld(51), withheld(52)],
        vec![visible[5].clone(), visible[6].clone()],
    ] {
        post(&hub, "csirt-analyst", COMMUNITY, &batch).await;
    }
    let expected: Vec<Vec<String>> = vec![
        vec![id("indicator", 1), id("indicator", 2)],
        vec![id("indicator", 3), id("indicator", 4)],
        vec![id("indicator", 5), id("indicator", 6)],
        vec![id("indicator", 7)],
    ];
    let before = walk(&hub, "provider-b", "objects", 2).await;
    assert_eq!(
        before.iter().map(|p| p.0.clone()).collect::<Vec<_>>(),
        expected
    );
    assert_eq!(
        before.iter().map(|p| p.1).collect::<Vec<_>>(),
        [true, true, true, false]
    );
    // Withheld objects after the last visible one do not turn the last page's `more` on.
    post(
        &hub,
        "csirt-analyst",
        COMMUNITY,
        &[withheld(53), withheld(54)],
    )
    .await;
    let after = walk(&hub, "provider-b", "objects", 2).await;
    assert_eq!(before, after);
    // The manifest pages alike, and its headers are the dates of the records it shows.
    let manifest = walk(&hub, "provider-b", "manifest", 2).await;
    assert_eq!(
        manifest.iter().map(|p| p.0.clone()).collect::<Vec<_>>(),
        expected
    );
    for (_, _, first, last, dates) in &manifest {
        assert_eq!(first.as_ref(), dates.first());
        assert_eq!(last.as_ref(), dates.last());
    }
    hub.shutdown().await;
}

#[tokio::test]
async fn misp_stix_77_tlp_and_pap_labels_are_markings() {
    let hub = spawn_hub().await;
    let objects = vec![
        // No marking, a RED label: RED, not the hub's default.
        indicator(1, &[], json!({"labels": ["tlp:red"]})),
        // A stricter label wins.
        indicator(
            2,
            &[GREEN],
            json!({"labels": ["TLP:RED", "malicious-activity"]}),
        ),
        // OpenCTI's list of its markings' names.
        indicator(
            3,
            &[GREEN],
            json!({"x_opencti_markings": ["TLP:AMBER+STRICT"]}),
        ),
        // A GREEN label without marking is GREEN, where the default would hide it.
        indicator(4, &[], json!({"labels": ["tlp:green", "PAP:GREEN"]})),
        // PAP as a label: readable, never blocked on.
        indicator(5, &[GREEN, PAP_CLEAR], json!({"labels": ["PAP:RED"]})),
        // Refused: a label looser than the marking, two labels that disagree, an unknown one.
        indicator(6, &[RED], json!({"labels": ["tlp:clear"]})),
        indicator(7, &[], json!({"labels": ["tlp:green", "tlp:red"]})),
        indicator(8, &[], json!({"labels": ["tlp:ex:chr"]})),
    ];
    let status = post(&hub, "csirt-analyst", COMMUNITY, &objects).await;
    assert_eq!(status["success_count"], 5, "{status}");
    let failed: Vec<&str> = status["failures"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["id"].as_str().unwrap())
        .collect();
    assert_eq!(
        failed,
        [id("indicator", 6), id("indicator", 7), id("indicator", 8)]
    );
    assert!(
        status["failures"][0]["message"]
            .as_str()
            .unwrap()
            .contains("label")
    );
    let b = community_text(&hub, "provider-b").await;
    for hidden in [1, 2, 3] {
        assert!(!b.contains(&id("indicator", hidden)), "{hidden}");
    }
    assert!(b.contains(&id("indicator", 4)) && b.contains(&id("indicator", 5)));
    let (_, blocklist) = get(&hub, "provider-b", "/api/v1/exports/blocklist?format=txt").await;
    assert!(blocklist.contains("185.220.101.4"), "{blocklist}");
    assert!(!blocklist.contains("185.220.101.5"), "{blocklist}");
    hub.shutdown().await;
}

#[tokio::test]
async fn opencti_cve_2026_35210_the_csirt_never_lowers_a_providers_pap() {
    let hub = spawn_hub().await;
    let (status, response) = api(
        &hub,
        "provider-a",
        "/api/v1/iocs",
        json!([{"type": "ipv4", "value": "185.220.101.77", "tlp": "green", "pap": "red"}]),
    )
    .await;
    assert_eq!(status, 200, "{response}");
    let submission = response["items"][0]["submission"].as_str().unwrap();
    let indicator_id = response["items"][0]["indicator"].as_str().unwrap();
    let (status, published) = api(
        &hub,
        "csirt-analyst",
        &format!("/api/v1/triage/{submission}/publish"),
        json!({"as_csirt": false}),
    )
    .await;
    assert_eq!(status, 200, "{published}");
    assert_eq!(published["published"], indicator_id);
    let stored = read(&hub, "csirt-analyst", indicator_id).await.unwrap();

    let newer = |markings: Vec<&str>| {
        let mut o = stored.clone();
        o["modified"] = json!("2030-01-01T00:00:00.000Z");
        o["object_marking_refs"] = json!(markings);
        o
    };
    for lowered in [vec![GREEN, PAP_CLEAR], vec![GREEN], vec![CLEAR, PAP_RED]] {
        let status = post(&hub, "csirt-analyst", COMMUNITY, &[newer(lowered.clone())]).await;
        assert_eq!(status["failure_count"], 1, "{lowered:?}: {status}");
        assert_eq!(
            status["failures"][0]["message"],
            "only the producer may publish this version (the CSIRT may raise its markings)"
        );
    }
    let (_, blocklist) = get(&hub, "provider-b", "/api/v1/exports/blocklist?format=txt").await;
    assert!(!blocklist.contains("185.220.101.77"), "{blocklist}");
    let b = read(&hub, "provider-b", indicator_id).await.unwrap();
    assert!(
        b["object_marking_refs"]
            .as_array()
            .unwrap()
            .contains(&json!(PAP_RED))
    );
    hub.shutdown().await;
}

#[tokio::test]
async fn required_properties_under_a_hidden_granular_marking_withhold_the_object() {
    let hub = spawn_hub().await;
    let granular = |selector: &str| json!({"granular_markings": [{"marking_ref": RED, "selectors": [selector]}]});
    let objects = vec![
        indicator(1, &[GREEN, PAP_CLEAR], granular("id")),
        indicator(2, &[GREEN, PAP_CLEAR], granular("modified")),
        indicator(3, &[GREEN, PAP_CLEAR], granular("pattern")),
        indicator(
            4,
            &[GREEN, PAP_CLEAR],
            json!({"description": "internal note",
                   "granular_markings": [{"marking_ref": RED, "selectors": ["description"]}]}),
        ),
    ];
    let status = post(&hub, "csirt-analyst", COMMUNITY, &objects).await;
    assert_eq!(status["success_count"], 4, "{status}");
    let b = community_text(&hub, "provider-b").await;
    for n in 1..=3 {
        assert!(!b.contains(&id("indicator", n)), "{n}: {b}");
        assert!(!b.contains(&format!("185.220.101.{n}'")), "{n}");
        assert!(!b.contains(&format!("185.220.101.{n}\n")), "{n}");
        let (_, manifest) = get(
            &hub,
            "provider-b",
            &format!(
                "/taxii2/api/collections/{COMMUNITY}/manifest/?match[id]={}",
                id("indicator", n)
            ),
        )
        .await;
        assert_eq!(manifest, r#"{"more":false}"#);
    }
    // A version value is no oracle: the true one and its neighbour answer alike.
    let missing = missing_body(&hub, "provider-b").await;
    for version in [T, "2026-05-01T00:00:00.001Z"] {
        let (status, body) = get(
            &hub,
            "provider-b",
            &format!(
                "/taxii2/api/collections/{COMMUNITY}/objects/{}/?match[version]={version}",
                id("indicator", 2)
            ),
        )
        .await;
        assert_eq!((status, body), (404, missing.clone()), "{version}");
    }
    // An optional property goes, the object stays.
    let four = read(&hub, "provider-b", &id("indicator", 4)).await.unwrap();
    assert!(four.get("description").is_none() && four.get("granular_markings").is_none());
    assert!(b.contains("185.220.101.4"));
    // The producer reads all of them.
    for n in 1..=4 {
        assert!(
            read(&hub, "csirt-analyst", &id("indicator", n))
                .await
                .is_some()
        );
    }
    hub.shutdown().await;
}

/// The queue id of the pending submission of `stix_id`.
async fn queued(hub: &TestHub, stix_id: &str) -> String {
    let queue = get_json(hub, "csirt-analyst", "/api/v1/triage").await;
    queue
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|item| item["sightings"].as_array().unwrap().clone())
        .find(|s| s["stix_id"] == stix_id && s["status"] == "pending")
        .map(|s| s["id"].as_str().unwrap().to_owned())
        .unwrap_or_else(|| panic!("{stix_id} not queued: {queue}"))
}

#[tokio::test]
async fn melicertes_csp_27_attribution_names_only_the_producer() {
    let hub = spawn_hub().await;
    let a = stix_identity(&hub, "provider-a").await;
    let b = stix_identity(&hub, "provider-b").await;
    let csirt = stix_identity(&hub, "csirt-analyst").await;
    assert!(a != b && b != csirt);
    let by = |n: u32, creator: Option<&str>| {
        let extra = match creator {
            Some(c) => json!({ "created_by_ref": c }),
            None => json!({}),
        };
        indicator(n, &[GREEN], extra)
    };
    let status = post(
        &hub,
        "provider-a",
        SUBMISSIONS,
        &[
            by(1, Some(&csirt)),
            by(2, Some(&b)),
            by(3, Some(MITRE)),
            by(4, Some(&a)),
            by(5, None),
        ],
    )
    .await;
    assert_eq!(status["success_count"], 2, "{status}");
    assert!(
        status["failures"][0]["message"]
            .as_str()
            .unwrap()
            .contains(&a),
        "{status}"
    );
    // Published under the provider's name, an object that named no creator is attributed to
    // it by the hub; under the CSIRT's, to the CSIRT.
    for (n, as_csirt) in [(5, false), (4, true)] {
        let item = queued(&hub, &id("indicator", n)).await;
        let (status, published) = api(
            &hub,
            "csirt-analyst",
            &format!("/api/v1/triage/{item}/publish"),
            json!({ "as_csirt": as_csirt }),
        )
        .await;
        assert_eq!(status, 200, "{published}");
        let object = read(&hub, "provider-b", published["published"].as_str().unwrap())
            .await
            .unwrap();
        let expected = if as_csirt { &csirt } else { &a };
        assert_eq!(object["created_by_ref"], expected.as_str());
    }
    // The CSIRT relays third parties, never speaks for a member.
    let status = post(
        &hub,
        "csirt-analyst",
        COMMUNITY,
        &[by(10, Some(&a)), by(11, Some(MITRE)), by(12, Some(&csirt))],
    )
    .await;
    assert_eq!(status["success_count"], 2, "{status}");
    assert_eq!(status["failures"][0]["id"], id("indicator", 10));
    // The IOC API attributes what it builds to the submitting provider.
    let (_, response) = api(
        &hub,
        "provider-b",
        "/api/v1/iocs",
        json!([{"type": "domain", "value": "evil-c2.example", "tlp": "green"}]),
    )
    .await;
    let submission = response["items"][0]["submission"].as_str().unwrap();
    let view = get_json(
        &hub,
        "provider-b",
        &format!("/api/v1/submissions/{submission}"),
    )
    .await;
    assert_eq!(view["object"]["created_by_ref"], b.as_str());
    hub.shutdown().await;
}

/// Stores a TLP:RED community object produced by `producer`'s organisation, as a publication
/// under the provider's name would.
async fn put_red(hub: &TestHub, n: u32, producer: &str) -> String {
    let principal = hub.principal_named(producer).await;
    let object = indicator(n, &[RED], json!({}));
    hub.store
        .insert_object(
            &NewObject {
                collection: COMMUNITY.into(),
                id: object["id"].as_str().unwrap().to_owned(),
                object_type: "indicator".into(),
                spec_version: "2.1".into(),
                version: version_key(time::macros::datetime!(2026-05-01 00:00:00 UTC)),
                date_added: time::OffsetDateTime::now_utc(),
                access: ObjectAccess {
                    tlp: Tlp::Red,
                    pap: Some(Pap::Green),
                    producer: principal.organisation_id.clone(),
                    shared_with: vec![],
                    recipients: vec![],
                    granular: vec![],
                    confined: false,
                    submission: false,
                    origin_peer: None,
                },
                tlp_defaulted: false,
                submitted_by: principal.id,
                raw: object.to_string(),
                case_id: None,
                refs: vec![],
            },
            &relais_test_audit(),
        )
        .await
        .unwrap();
    object["id"].as_str().unwrap().to_owned()
}

#[tokio::test]
async fn analysts_read_every_submission_and_hidden_ids_answer_like_unused_ones() {
    let hub = spawn_hub().await;
    // A provider's TLP:RED submission: TAXII, versions, triage and DELETE agree that the
    // CSIRT reads it.
    let status = post(
        &hub,
        "provider-a",
        SUBMISSIONS,
        &[indicator(1, &[RED], json!({}))],
    )
    .await;
    assert_eq!(status["success_count"], 1, "{status}");
    let submitted = id("indicator", 1);
    let base = format!("/taxii2/api/collections/{SUBMISSIONS}/objects/{submitted}/");
    let object = get_json(&hub, "csirt-analyst", &base).await;
    assert_eq!(object["objects"][0]["id"], submitted);
    get_json(&hub, "csirt-analyst", &format!("{base}versions/")).await;
    let item = queued(&hub, &submitted).await;
    let view = get_json(&hub, "csirt-analyst", &format!("/api/v1/triage/{item}")).await;
    assert_eq!(view["object"], object["objects"][0]);
    let resp = hub
        .client("csirt-analyst")
        .delete(hub.url(&base))
        .header(ACCEPT, TAXII)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 403);
    // Provider B still sees nothing of it.
    let (status, _) = get(&hub, "provider-b", &base).await;
    assert_eq!(status, 404);

    // A community id the analyst may not read takes a new version exactly as an unused id
    // does; the hidden object is left as it was.
    let hidden = put_red(&hub, 2, "provider-a").await;
    let unused = id("indicator", 3);
    let version = |n: u32| indicator(n, &[GREEN], json!({"modified": "2026-06-01T00:00:00.000Z"}));
    let over_hidden = post(&hub, "csirt-analyst", COMMUNITY, &[version(2)]).await;
    let over_unused = post(&hub, "csirt-analyst", COMMUNITY, &[version(3)]).await;
    let comparable = |s: &Value, object_id: &str| {
        let mut s = s.clone();
        s["id"] = json!("");
        s["request_timestamp"] = json!("");
        s.to_string().replace(object_id, "ID")
    };
    assert_eq!(
        comparable(&over_hidden, &hidden),
        comparable(&over_unused, &unused)
    );
    assert_eq!(over_hidden["success_count"], 1, "{over_hidden}");
    // The analyst reads its own version back, and continues it.
    let mine = read(&hub, "csirt-analyst", &hidden).await.unwrap();
    assert_eq!(mine["object_marking_refs"], json!([GREEN]));
    let again = {
        let mut o = version(2);
        o["modified"] = json!("2026-07-01T00:00:00.000Z");
        o
    };
    let status = post(&hub, "csirt-analyst", COMMUNITY, &[again]).await;
    assert_eq!(status["success_count"], 1, "{status}");
    // Provider A's own RED version is still there, whole.
    let (_, versions) = get(
        &hub,
        "provider-a",
        &format!("/taxii2/api/collections/{COMMUNITY}/objects/{hidden}/versions/"),
    )
    .await;
    assert!(versions.contains(T), "{versions}");
    // The analyst deleting "the object" removes its own lineage, never the hidden one.
    let object_url = format!("/taxii2/api/collections/{COMMUNITY}/objects/{hidden}/");
    let resp = hub
        .client("csirt-analyst")
        .delete(hub.url(&object_url))
        .header(ACCEPT, TAXII)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    assert!(read(&hub, "csirt-analyst", &hidden).await.is_none());
    let a = read(&hub, "provider-a", &hidden).await.unwrap();
    assert_eq!(a["object_marking_refs"], json!([RED]));
    hub.shutdown().await;
}

#[tokio::test]
async fn marking_changes_are_recorded_as_remarks() {
    let hub = spawn_hub().await;
    let amber = "marking-definition--55d920b0-5e8b-4f79-9ee9-91f868d9b421";
    post(
        &hub,
        "csirt-analyst",
        COMMUNITY,
        &[indicator(1, &[GREEN, PAP_CLEAR], json!({}))],
    )
    .await;
    let raised = indicator(
        1,
        &[amber, PAP_RED],
        json!({"modified": "2026-06-01T00:00:00.000Z"}),
    );
    let status = post(&hub, "csirt-analyst", COMMUNITY, &[raised]).await;
    assert_eq!(status["success_count"], 1, "{status}");
    let found = remarks(&hub).await;
    assert_eq!(found.len(), 1, "{found:?}");
    assert_eq!(found[0]["objects"], json!([COMMUNITY, id("indicator", 1)]));
    assert_eq!(
        found[0]["reason"],
        "tlp:green pap:clear -> tlp:amber pap:red"
    );
    // The same version again changes nothing and records no remark.
    let again = indicator(
        1,
        &[amber, PAP_RED],
        json!({"modified": "2026-06-01T00:00:00.000Z"}),
    );
    post(&hub, "csirt-analyst", COMMUNITY, &[again]).await;
    assert_eq!(remarks(&hub).await.len(), 1);
    hub.shutdown().await;
}

/// The `objects.remark` entries of the audit log.
async fn remarks(hub: &TestHub) -> Vec<Value> {
    hub.store
        .audit_entries(0, 1000, None)
        .await
        .unwrap()
        .iter()
        .map(|e| serde_json::from_slice::<Value>(&e.entry).unwrap())
        .filter(|e| e["action"] == "objects.remark")
        .collect()
}
