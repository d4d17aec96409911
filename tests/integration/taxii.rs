//! TAXII 2.1 reads over real mTLS: discovery, collections, paging, versions, manifests, media
//! types, and the absence of existence oracles.

use crate::common::relais_test_audit;
use relais::domain::markings::release::ObjectAccess;
use relais::domain::markings::{Pap, Tlp};
use relais::domain::stix::stored::{NewObject, version_key};
use reqwest::header::{ACCEPT, HeaderMap};
use serde_json::Value;
use time::OffsetDateTime;

use crate::common::{TestHub, spawn_hub};

const TAXII: &str = "application/taxii+json;version=2.1";
const COMMUNITY: &str = "9cfa669c-ee94-4ece-afd2-f8edac37d8fd";
const INTERNAL: &str = "c6d0a8e4-71b2-4f43-8e0c-3a5d9b1f2e47";

/// Stores an indicator version in the community collection, produced by `producer`'s
/// organisation (a demo principal name).
async fn put(hub: &TestHub, n: u32, day: i64, tlp: Tlp, producer: &str) -> String {
    let principal = hub.principal_named(producer).await;
    let id = format!("indicator--7b5b2b0c-0000-4000-8000-{n:012}");
    let modified = OffsetDateTime::from_unix_timestamp(1_780_000_000 + day * 86_400).unwrap();
    let modified_text = version_key(modified).replace(".000000000Z", ".000Z");
    let raw = format!(
        r#"{{"type":"indicator","spec_version":"2.1","id":"{id}","created":"2026-05-01T00:00:00.000Z","modified":"{modified_text}","pattern":"[ipv4-addr:value = '185.220.101.{}']","pattern_type":"stix","valid_from":"2026-05-01T00:00:00Z","object_marking_refs":["{}"]}}"#,
        n % 250,
        tlp.marking_definition_id()
    );
    hub.store
        .insert_object(
            &NewObject {
                collection: COMMUNITY.into(),
                id: id.clone(),
                object_type: "indicator".into(),
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
                    origin_peer: None,
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
    id
}

async fn get(hub: &TestHub, who: &str, path: &str) -> (u16, HeaderMap, String) {
    let resp = hub
        .client(who)
        .get(hub.url(path))
        .header(ACCEPT, TAXII)
        .send()
        .await
        .unwrap();
    let status = resp.status().as_u16();
    let headers = resp.headers().clone();
    (status, headers, resp.text().await.unwrap())
}

async fn get_json(hub: &TestHub, who: &str, path: &str) -> Value {
    let (status, headers, body) = get(hub, who, path).await;
    assert_eq!(status, 200, "{path}: {body}");
    assert_eq!(headers["content-type"], TAXII);
    serde_json::from_str(&body).unwrap()
}

#[tokio::test]
async fn discovery_api_root_and_collections_reflect_the_caller() {
    let hub = spawn_hub().await;
    let discovery = get_json(&hub, "provider-a", "/taxii2/").await;
    let root = discovery["api_roots"][0].as_str().unwrap();
    assert!(root.ends_with("/taxii2/api/"), "{root}");
    let api = get_json(&hub, "provider-a", "/taxii2/api/").await;
    assert_eq!(api["versions"][0], TAXII);
    assert_eq!(api["max_content_length"], hub.config.limits.body_bytes);

    let ids = |v: &Value| -> Vec<String> {
        v["collections"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c["id"].as_str().unwrap().to_owned())
            .collect()
    };
    let analyst = get_json(&hub, "csirt-analyst", "/taxii2/api/collections/").await;
    assert_eq!(ids(&analyst).len(), 3);
    let provider = get_json(&hub, "provider-a", "/taxii2/api/collections/").await;
    assert_eq!(ids(&provider).len(), 2);
    let community = provider["collections"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["id"] == COMMUNITY)
        .unwrap();
    assert_eq!(
        (
            community["can_read"].as_bool(),
            community["can_write"].as_bool()
        ),
        (Some(true), Some(false))
    );
    let peer = get_json(&hub, "partner-csirt", "/taxii2/api/collections/").await;
    assert_eq!(ids(&peer), [COMMUNITY]);

    // A collection the caller may not see does not exist for it.
    let (status, headers, body) = get(
        &hub,
        "provider-a",
        &format!("/taxii2/api/collections/{INTERNAL}/"),
    )
    .await;
    assert_eq!(status, 404);
    assert_eq!(headers["content-type"], TAXII);
    let missing = get(
        &hub,
        "provider-a",
        "/taxii2/api/collections/00000000-0000-4000-8000-000000000000/",
    )
    .await;
    assert_eq!((missing.0, missing.2), (404, body));
    hub.shutdown().await;
}

#[tokio::test]
async fn media_types_are_negotiated() {
    let hub = spawn_hub().await;
    let client = hub.client("provider-a");
    let resp = client
        .get(hub.url("/taxii2/"))
        .header(ACCEPT, "application/json")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 406);
    assert_eq!(resp.headers()["content-type"], TAXII);
    let body: Value = resp.json().await.unwrap();
    assert_eq!(body["http_status"], "406");
    let resp = client
        .get(hub.url("/taxii2/"))
        .header(ACCEPT, "application/taxii+json;version=2.0")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 406);
    let resp = client.get(hub.url("/taxii2/")).send().await.unwrap();
    assert_eq!(
        resp.status(),
        200,
        "no Accept header: any type is acceptable"
    );
    // Unknown filters are refused rather than ignored.
    let resp = client
        .get(hub.url(&format!(
            "/taxii2/api/collections/{COMMUNITY}/objects/?match[colour]=red"
        )))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 400);
    hub.shutdown().await;
}

/// Every page of a read, following `next`, with what a client can observe of each
/// (status, body without the opaque cursor, date headers).
async fn walk(
    hub: &TestHub,
    who: &str,
    query: &str,
) -> Vec<(u16, Value, Option<String>, Option<String>)> {
    let mut pages = Vec::new();
    let mut next: Option<String> = None;
    loop {
        let sep = if query.is_empty() { "?" } else { "&" };
        let path = match &next {
            Some(n) => format!("/taxii2/api/collections/{COMMUNITY}/objects/?{query}{sep}next={n}"),
            None => format!("/taxii2/api/collections/{COMMUNITY}/objects/?{query}"),
        };
        let (status, headers, body) = get(hub, who, &path).await;
        let mut body: Value = serde_json::from_str(&body).unwrap();
        next = body
            .as_object_mut()
            .unwrap()
            .remove("next")
            .map(|v| v.as_str().unwrap().to_owned());
        let header = |name: &str| headers.get(name).map(|v| v.to_str().unwrap().to_owned());
        pages.push((
            status,
            body,
            header("x-taxii-date-added-first"),
            header("x-taxii-date-added-last"),
        ));
        if next.is_none() || pages.len() > 50 {
            break;
        }
    }
    pages
}

#[tokio::test]
async fn paging_shows_exactly_what_is_released_and_hidden_objects_change_nothing() {
    let hub = spawn_hub().await;
    for n in 0..12 {
        put(&hub, n, 0, Tlp::Green, "provider-a").await;
    }
    let before = walk(&hub, "provider-b", "limit=5").await;
    assert_eq!(before.len(), 3);
    assert_eq!(
        before
            .iter()
            .map(|p| p.1["objects"].as_array().map_or(0, Vec::len))
            .collect::<Vec<_>>(),
        [5, 5, 2]
    );
    assert_eq!(before[0].1["more"], true);
    assert_eq!(before[2].1["more"], false);
    assert!(before[0].2.is_some() && before[0].3.is_some());

    // AMBER objects of provider A, interleaved: provider B must see exactly the same thing.
    for n in 100..110 {
        put(&hub, n, 0, Tlp::Amber, "provider-a").await;
    }
    let after = walk(&hub, "provider-b", "limit=5").await;
    assert_eq!(before, after);
    // The producer sees its AMBER objects.
    let producer: usize = walk(&hub, "provider-a", "limit=50")
        .await
        .iter()
        .map(|p| p.1["objects"].as_array().map_or(0, Vec::len))
        .sum();
    assert_eq!(producer, 22);

    // A hidden object and a missing one answer alike.
    let hidden = format!(
        "/taxii2/api/collections/{COMMUNITY}/objects/indicator--7b5b2b0c-0000-4000-8000-000000000100/"
    );
    let missing = format!(
        "/taxii2/api/collections/{COMMUNITY}/objects/indicator--7b5b2b0c-0000-4000-8000-000000009999/"
    );
    let (hs, hh, hb) = get(&hub, "provider-b", &hidden).await;
    let (ms, mh, mb) = get(&hub, "provider-b", &missing).await;
    assert_eq!((hs, hb.clone()), (ms, mb));
    assert_eq!(hs, 404);
    assert_eq!(hh["content-type"], mh["content-type"]);
    assert_eq!(get(&hub, "provider-a", &hidden).await.0, 200);
    for path in [format!("{hidden}versions/"), format!("{missing}versions/")] {
        assert_eq!(get(&hub, "provider-b", &path).await.2, hb);
    }
    // Manifests count the same way.
    let manifest = get_json(
        &hub,
        "provider-b",
        &format!("/taxii2/api/collections/{COMMUNITY}/manifest/?limit=100"),
    )
    .await;
    assert_eq!(manifest["objects"].as_array().unwrap().len(), 12);
    hub.shutdown().await;
}

#[tokio::test]
async fn a_cursor_works_only_for_its_principal_and_query() {
    let hub = spawn_hub().await;
    for n in 0..6 {
        put(&hub, n, 0, Tlp::Green, "provider-a").await;
    }
    let base = format!("/taxii2/api/collections/{COMMUNITY}/objects/");
    let first = get_json(&hub, "provider-a", &format!("{base}?limit=2")).await;
    let next = first["next"].as_str().unwrap().to_owned();
    assert_eq!(
        get(&hub, "provider-a", &format!("{base}?limit=2&next={next}"))
            .await
            .0,
        200
    );
    let (status, _, body) = get(&hub, "provider-b", &format!("{base}?limit=2&next={next}")).await;
    assert_eq!(status, 400, "{body}");
    let (status, _, _) = get(
        &hub,
        "provider-a",
        &format!("{base}?limit=2&match[type]=malware&next={next}"),
    )
    .await;
    assert_eq!(status, 400);
    hub.shutdown().await;
}

#[tokio::test]
async fn versions_filters_and_manifest() {
    let hub = spawn_hub().await;
    let id = put(&hub, 1, 0, Tlp::Green, "provider-a").await;
    put(&hub, 1, 1, Tlp::Green, "provider-a").await;
    put(&hub, 1, 2, Tlp::Red, "provider-a").await;
    put(&hub, 2, 0, Tlp::Clear, "csirt-analyst").await;
    let base = format!("/taxii2/api/collections/{COMMUNITY}");

    let versions = get_json(
        &hub,
        "provider-b",
        &format!("{base}/objects/{id}/versions/"),
    )
    .await;
    assert_eq!(
        versions["versions"].as_array().unwrap().len(),
        2,
        "the RED version is not listed"
    );
    let all = get_json(
        &hub,
        "provider-a",
        &format!("{base}/objects/{id}/versions/"),
    )
    .await;
    assert_eq!(all["versions"].as_array().unwrap().len(), 3);

    let last = get_json(&hub, "provider-b", &format!("{base}/objects/{id}/")).await;
    assert_eq!(last["objects"].as_array().unwrap().len(), 1);
    assert_eq!(last["objects"][0]["modified"], versions["versions"][1]);
    let first = get_json(
        &hub,
        "provider-b",
        &format!("{base}/objects/{id}/?match[version]=first"),
    )
    .await;
    assert_eq!(first["objects"][0]["modified"], versions["versions"][0]);
    let both = get_json(
        &hub,
        "provider-b",
        &format!("{base}/objects/?match[version]=all&match[id]={id}"),
    )
    .await;
    assert_eq!(both["objects"].as_array().unwrap().len(), 2);

    let by_type = get_json(
        &hub,
        "provider-b",
        &format!("{base}/objects/?match[type]=malware"),
    )
    .await;
    assert_eq!(by_type, serde_json::json!({"more": false}));
    let future = get_json(
        &hub,
        "provider-b",
        &format!("{base}/objects/?added_after=2100-01-01T00:00:00Z"),
    )
    .await;
    assert!(future.get("objects").is_none());

    let manifest = get_json(&hub, "provider-b", &format!("{base}/manifest/")).await;
    let records = manifest["objects"].as_array().unwrap();
    assert_eq!(records.len(), 2);
    assert!(
        records
            .iter()
            .all(|r| r["media_type"] == "application/stix+json;version=2.1")
    );
    hub.shutdown().await;
}

/// The community objects `who` reads, as (id, TLP) pairs in arrival order.
async fn community_ids(hub: &TestHub, who: &str) -> Vec<String> {
    let page = get_json(
        hub,
        who,
        &format!("/taxii2/api/collections/{COMMUNITY}/objects/?limit=100"),
    )
    .await;
    page["objects"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| o["id"].as_str().unwrap().to_owned())
        .collect()
}

#[tokio::test]
async fn peers_read_up_to_the_level_their_federation_policy_allows() {
    async fn stock(hub: &TestHub) -> [String; 4] {
        [
            put(hub, 1, 0, Tlp::Clear, "provider-a").await,
            put(hub, 2, 0, Tlp::Green, "provider-a").await,
            put(hub, 3, 0, Tlp::Amber, "provider-a").await,
            put(hub, 4, 0, Tlp::Red, "provider-a").await,
        ]
    }

    // Shipped policy: no peer listed, so the partner hub reads CLEAR only.
    let hub = spawn_hub().await;
    let [clear, green, _, _] = stock(&hub).await;
    assert_eq!(community_ids(&hub, "partner-csirt").await, [clear.as_str()]);
    assert_eq!(
        community_ids(&hub, "provider-b").await,
        [clear.clone(), green.clone()]
    );
    hub.shutdown().await;

    // Listed with max_tlp = "green": GREEN too, and never AMBER (the marking policy does not
    // name peers for AMBER) nor RED. Another peer name in the file changes nothing for it.
    let hub = crate::common::spawn_hub_with(crate::common::HubOptions {
        postgres: None,
        clock: None,
        tweak: Some(Box::new(|config, dir| {
            let path = dir.join("federation.toml");
            std::fs::write(
                &path,
                "[peers.\"Partner CSIRT (demo)/partner-csirt\"]\nmax_tlp = \"green\"\n\n\
                 [peers.\"Another CSIRT/partner-csirt\"]\nmax_tlp = \"amber_strict\"\n",
            )
            .unwrap();
            config.policies.federation = path;
        })),
    })
    .await;
    let [clear, green, _, _] = stock(&hub).await;
    assert_eq!(community_ids(&hub, "partner-csirt").await, [clear, green]);
    hub.shutdown().await;
}

/// A client of `who` that speaks only `version` (offered alone in ALPN).
fn client_speaking(hub: &TestHub, who: &str, version: reqwest::Version) -> reqwest::Client {
    use rustls_pki_types::pem::PemObject;
    use rustls_pki_types::{CertificateDer, PrivateKeyDer};
    let cred = hub.demo(who);
    let roots = relais::pki::certificate::read_pem_certificates(&hub.ca_path()).unwrap();
    let chain: Vec<CertificateDer<'static>> =
        CertificateDer::pem_slice_iter(cred.cert_pem.as_bytes())
            .collect::<Result<_, _>>()
            .unwrap();
    let key = PrivateKeyDer::from_pem_slice(cred.key_pem.as_bytes()).unwrap();
    let mut tls = relais::http::tls::client_config(&roots, Some((chain, key))).unwrap();
    let builder = reqwest::Client::builder().timeout(std::time::Duration::from_secs(20));
    let builder = if version == reqwest::Version::HTTP_2 {
        tls.alpn_protocols = vec![b"h2".to_vec()];
        builder.http2_prior_knowledge()
    } else {
        tls.alpn_protocols = vec![b"http/1.1".to_vec()];
        builder.http1_only()
    };
    builder.tls_backend_preconfigured(tls).build().unwrap()
}

/// Discovery over `version` with a forged `Host`: the API root URLs it gives.
async fn discovered(hub: &TestHub, version: reqwest::Version) -> (String, Vec<String>) {
    let resp = client_speaking(hub, "provider-b", version)
        .get(hub.url("/taxii2/"))
        .header(ACCEPT, TAXII)
        .header(reqwest::header::HOST, "evil.example:1234")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.version(), version);
    assert_eq!(resp.status(), 200);
    let body: Value = resp.json().await.unwrap();
    let roots = body["api_roots"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r.as_str().unwrap().to_owned())
        .collect();
    (body["default"].as_str().unwrap().to_owned(), roots)
}

/// Issue 12, point 3: discovery over HTTP/2 gave `https://localhost/taxii2/api/` (no `Host`
/// header, so no port) and over HTTP/1.1 echoed whatever `Host` came; a client following
/// `api_roots` went elsewhere. The URLs now come from `taxii.public_url`, or from the first
/// server name and the port the main listener is bound to.
#[tokio::test]
async fn discovery_urls_come_from_configuration_not_the_request() {
    let hub = spawn_hub().await;
    let derived = format!("https://localhost:{}/taxii2/api/", hub.main.port());
    for version in [reqwest::Version::HTTP_11, reqwest::Version::HTTP_2] {
        let (default, roots) = discovered(&hub, version).await;
        assert_eq!(default, derived, "{version:?}");
        assert_eq!(roots, std::slice::from_ref(&derived), "{version:?}");
    }
    // The API root is served where discovery says (localhost is in the server certificate).
    let resp = hub
        .client("provider-b")
        .get(&derived)
        .header(ACCEPT, TAXII)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    let api: Value = resp.json().await.unwrap();
    assert_eq!(api["versions"][0], TAXII);
    hub.shutdown().await;

    // Behind a load balancer or a port mapping, the operator says where clients connect.
    let hub = crate::common::spawn_hub_with(crate::common::HubOptions {
        tweak: Some(Box::new(|config, _| {
            config.taxii.public_url = "https://hub.csirt.re:8443/".into();
        })),
        ..crate::common::HubOptions::default()
    })
    .await;
    for version in [reqwest::Version::HTTP_11, reqwest::Version::HTTP_2] {
        let (default, roots) = discovered(&hub, version).await;
        assert_eq!(
            default, "https://hub.csirt.re:8443/taxii2/api/",
            "{version:?}"
        );
        assert_eq!(roots, std::slice::from_ref(&default), "{version:?}");
    }
    hub.shutdown().await;
}
