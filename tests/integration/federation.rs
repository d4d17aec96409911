//! Federation between real hubs: each with its own CA, database and certificates, pulling from
//! one another over TAXII 2.1 with mutual TLS; and against a hostile peer (a plain-HTTP server
//! on loopback that says what the test scripts).

use std::collections::{BTreeSet, HashMap, VecDeque};
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use relais::domain::federation::collection::peer_collection_id;
use relais::domain::markings::definitions::pap_id;
use relais::domain::markings::{Pap, Tlp};
use relais::domain::principal::{PrincipalId, PrincipalKind};
use reqwest::header::{ACCEPT, CONTENT_TYPE};
use serde_json::{Value, json};

use crate::common::{
    Credential, HubOptions, PgDatabase, TestHub, https_client, spawn_hub_with, subject,
};

pub(crate) const TAXII: &str = "application/taxii+json;version=2.1";
pub(crate) const COMMUNITY: &str = "9cfa669c-ee94-4ece-afd2-f8edac37d8fd";

/// A hub whose pulls the test runs itself (`federation.poll_peer`), so that what each poll
/// did is known; one test leaves the workers on.
pub(crate) async fn hub(postgres: Option<PgDatabase>) -> TestHub {
    spawn_hub_with(HubOptions {
        postgres,
        tweak: Some(Box::new(|c, _| c.federation.pull = false)),
        ..HubOptions::default()
    })
    .await
}

pub(crate) fn org(label: &str) -> String {
    format!("CSIRT {}", label.to_uppercase())
}

/// The policy name, on another hub, of the hub labelled `label`.
pub(crate) fn entry(label: &str) -> String {
    format!("{}/hub-{label}", org(label))
}

pub(crate) fn new_id() -> String {
    format!("indicator--{}", uuid::Uuid::new_v4())
}

pub(crate) fn indicator(
    id: &str,
    modified: &str,
    tlp: Tlp,
    pap: Option<Pap>,
    created_by: Option<&str>,
) -> String {
    let mut markings = vec![tlp.marking_definition_id().to_owned()];
    if let Some(p) = pap {
        markings.push(pap_id(p).to_owned());
    }
    let octet = u8::from_str_radix(&id[id.len() - 2..], 16).unwrap_or(7);
    let mut o = json!({
        "type": "indicator", "spec_version": "2.1", "id": id,
        "created": "2026-05-01T00:00:00.000Z", "modified": modified,
        "pattern": format!("[ipv4-addr:value = '185.220.101.{octet}']"),
        "pattern_type": "stix", "valid_from": "2026-05-01T00:00:00Z",
        "object_marking_refs": markings,
    });
    if let Some(c) = created_by {
        o["created_by_ref"] = json!(c);
    }
    o.to_string()
}

pub(crate) const V1: &str = "2026-05-01T00:00:00.000Z";
pub(crate) const V2: &str = "2026-06-01T00:00:00.000Z";

/// The CSIRT analyst publishes `objects` in the hub's community collection over TAXII.
pub(crate) async fn publish(hub: &TestHub, objects: &[String]) {
    let resp = hub
        .client("csirt-analyst")
        .post(hub.url(&format!("/taxii2/api/collections/{COMMUNITY}/objects/")))
        .header(ACCEPT, TAXII)
        .header(CONTENT_TYPE, TAXII)
        .body(format!("{{\"objects\": [{}]}}", objects.join(",")))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 202);
    let status: Value = resp.json().await.unwrap();
    assert_eq!(
        status["success_count"].as_u64(),
        Some(objects.len() as u64),
        "{status}"
    );
}

/// Every id (latest versions) of `collection` that `client` reads on `hub`, following `next`;
/// a collection it may not read reads as empty, as TAXII answers it (404).
pub(crate) async fn read_ids_with(
    client: &reqwest::Client,
    hub: &TestHub,
    collection: &str,
) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    let mut next: Option<String> = None;
    loop {
        let mut url = hub.url(&format!(
            "/taxii2/api/collections/{collection}/objects/?limit=100"
        ));
        if let Some(n) = &next {
            url.push_str(&format!("&next={n}"));
        }
        let resp = client.get(url).header(ACCEPT, TAXII).send().await.unwrap();
        if resp.status() == 404 {
            return out;
        }
        assert_eq!(resp.status(), 200);
        let page: Value = resp.json().await.unwrap();
        for o in page["objects"].as_array().into_iter().flatten() {
            out.insert(o["id"].as_str().unwrap().to_owned());
        }
        match page["next"].as_str() {
            Some(n) if page["more"] == true => next = Some(n.to_owned()),
            _ => return out,
        }
    }
}

pub(crate) async fn read_ids(hub: &TestHub, who: &str, collection: &str) -> BTreeSet<String> {
    read_ids_with(&hub.client(who), hub, collection).await
}

pub(crate) fn set(ids: &[&String]) -> BTreeSet<String> {
    ids.iter().map(|s| (*s).clone()).collect()
}

/// Lets the hub labelled `puller_label` pull from `server`: the server's CA issues a peer
/// certificate for it (a principal "hub-<label>" of kind peer in the server's registry), and
/// that certificate, its key and the server's CA go into the puller's data directory under
/// `peers/<server label>/`. Returns the puller's principal on the server.
pub(crate) async fn enrol(
    server: &TestHub,
    server_label: &str,
    puller: &TestHub,
    puller_label: &str,
) -> PrincipalId {
    let name = format!("hub-{puller_label}");
    let credential = server
        .issue_bound(&subject(PrincipalKind::Peer, &org(puller_label), &name))
        .await;
    let dir = puller.data_dir().join("peers").join(server_label);
    std::fs::create_dir_all(&dir).unwrap();
    credential.write_to(&dir, "client");
    std::fs::copy(server.ca_path(), dir.join("ca.pem")).unwrap();
    server.principal_named(&name).await.id
}

/// Two hubs that know each other: (x's principal on y, y's principal on x).
pub(crate) async fn pair(
    x: &TestHub,
    xl: &str,
    y: &TestHub,
    yl: &str,
) -> (PrincipalId, PrincipalId) {
    let x_on_y = enrol(y, yl, x, xl).await;
    let y_on_x = enrol(x, xl, y, yl).await;
    (x_on_y, y_on_x)
}

/// The `ingress` table of an entry pulling `collections` from `server`, by its discovery URL.
pub(crate) fn ingress(
    server: &TestHub,
    server_label: &str,
    collections: &[&str],
    extra: &str,
) -> String {
    let list: Vec<String> = collections.iter().map(|c| format!("\"{c}\"")).collect();
    format!(
        "url = \"{}\"\ncollections = [{}]\nca = \"peers/{server_label}/ca.pem\"\n\
         cert = \"peers/{server_label}/client.pem\"\nkey = \"peers/{server_label}/client-key.pem\"\n\
         allow_private = true\n{extra}\n",
        server.url("/taxii2/"),
        list.join(", ")
    )
}

pub(crate) fn policy_path(hub: &TestHub) -> std::path::PathBuf {
    hub.data_dir().join("policies/federation.toml")
}

/// Writes the hub's federation policy and has it load it, as `relais federation reload` does.
pub(crate) async fn set_policy(hub: &TestHub, text: &str) {
    std::fs::write(policy_path(hub), text).unwrap();
    hub.federation.reload().await.unwrap();
}

pub(crate) async fn origins(hub: &TestHub, ids: &BTreeSet<String>) -> BTreeSet<Option<String>> {
    let ids: Vec<String> = ids.iter().cloned().collect();
    hub.store
        .object_origins(&ids)
        .await
        .unwrap()
        .into_iter()
        .map(|(_, o)| o)
        .collect()
}

async fn federate_both_ways(a: TestHub, b: TestHub) {
    let (a_on_b, b_on_a) = pair(&a, "a", &b, "b").await;
    let egress = "max_tlp = \"amber\"\nmax_pap = \"green\"\n";
    set_policy(
        &a,
        &format!(
            "[peers.\"{}\"]\n{egress}\n[peers.\"{}\".ingress]\n{}",
            entry("b"),
            entry("b"),
            ingress(&b, "b", &[COMMUNITY], "")
        ),
    )
    .await;
    set_policy(
        &b,
        &format!(
            "[peers.\"{}\"]\n{egress}\n[peers.\"{}\".ingress]\n{}",
            entry("a"),
            entry("a"),
            ingress(&a, "a", &[COMMUNITY], "")
        ),
    )
    .await;

    let [
        clear,
        green,
        amber,
        amber_pap_green,
        strict,
        red,
        green_pap_amber,
    ] = std::array::from_fn::<_, 7, _>(|_| new_id());
    publish(
        &a,
        &[
            indicator(&clear, V1, Tlp::Clear, None, None),
            indicator(&green, V1, Tlp::Green, None, None),
            indicator(&amber, V1, Tlp::Amber, None, None),
            indicator(&amber_pap_green, V1, Tlp::Amber, Some(Pap::Green), None),
            indicator(&strict, V1, Tlp::AmberStrict, None, None),
            indicator(&red, V1, Tlp::Red, None, None),
            indicator(&green_pap_amber, V1, Tlp::Green, Some(Pap::Amber), None),
        ],
    )
    .await;
    let [b_green, b_amber, b_red] = std::array::from_fn::<_, 3, _>(|_| new_id());
    publish(
        &b,
        &[
            indicator(&b_green, V1, Tlp::Green, None, None),
            indicator(&b_amber, V1, Tlp::Amber, None, None),
            indicator(&b_red, V1, Tlp::Red, None, None),
        ],
    )
    .await;

    let from_a = b.federation.poll_peer(&a_on_b).await.unwrap();
    assert_eq!((from_a.stored, from_a.refused), (4, 0), "{from_a:?}");
    let from_b = a.federation.poll_peer(&b_on_a).await.unwrap();
    assert_eq!((from_b.stored, from_b.refused), (2, 0), "{from_b:?}");

    // GREEN and AMBER within the PAP cap arrive; RED, AMBER+STRICT and PAP:AMBER never.
    let a_collection = peer_collection_id(&a_on_b);
    let shared = set(&[&clear, &green, &amber, &amber_pap_green]);
    assert_eq!(read_ids(&b, "csirt-analyst", &a_collection).await, shared);
    let b_collection = peer_collection_id(&b_on_a);
    assert_eq!(
        read_ids(&a, "csirt-analyst", &b_collection).await,
        set(&[&b_green, &b_amber])
    );
    // With their provenance: the delivering peer, and the markings they came with.
    assert_eq!(
        origins(&b, &shared).await,
        BTreeSet::from([Some(a_on_b.as_str().to_owned())])
    );
    let (status, page) = crate::common::api(
        &b,
        "csirt-analyst",
        reqwest::Method::GET,
        &format!("/taxii2/api/collections/{a_collection}/objects/{amber}/"),
        None,
    )
    .await;
    assert_eq!(status, 200, "{page}");
    assert_eq!(
        page["objects"][0]["object_marking_refs"],
        json!([Tlp::Amber.marking_definition_id()])
    );
    // Not in the receiving hub's own community.
    assert!(
        read_ids(&b, "csirt-analyst", COMMUNITY)
            .await
            .is_disjoint(&shared)
    );
    // Providers read federated material at CLEAR and GREEN only (markings.toml `[federated]`).
    assert_eq!(
        read_ids(&b, "provider-b", &a_collection).await,
        set(&[&clear, &green])
    );

    // A second poll fetches nothing again.
    let again = b.federation.poll_peer(&a_on_b).await.unwrap();
    assert_eq!((again.stored, again.duplicates), (0, 0), "{again:?}");
    let newer = new_id();
    publish(&a, &[indicator(&newer, V1, Tlp::Green, None, None)]).await;
    let again = b.federation.poll_peer(&a_on_b).await.unwrap();
    assert_eq!((again.stored, again.duplicates), (1, 0), "{again:?}");

    // The operator's view: status on B, preview on A, both as JSON for scripts.
    let out = crate::common::succeed(b.cli().args(["federation", "status", "--json"]));
    let peers: Value = serde_json::from_slice(&out.stdout).unwrap();
    let row = peers
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["name"] == entry("a").as_str())
        .unwrap();
    assert_eq!(row["principal"], a_on_b.as_str());
    assert_eq!(row["objects_in"], 5, "{row}");
    assert_eq!(row["failures"], 0);
    assert!(row["last_success"].is_string(), "{row}");
    assert_eq!(row["cursors"][0]["collection"], COMMUNITY);
    assert!(row["cursors"][0]["added_after"].is_string(), "{row}");
    let text = crate::common::succeed(b.cli().args(["federation", "status"]));
    assert!(
        String::from_utf8_lossy(&text.stdout).contains(&entry("a")),
        "{}",
        String::from_utf8_lossy(&text.stdout)
    );

    let out =
        crate::common::succeed(
            a.cli()
                .args(["federation", "preview", &entry("b"), "--json"]),
        );
    let preview: Value = serde_json::from_slice(&out.stdout).unwrap();
    let community = preview["collections"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["id"] == COMMUNITY)
        .unwrap();
    assert_eq!(community["objects"], 5, "{preview}");
    assert_eq!(
        community["by_tlp"],
        json!({"amber": 2, "clear": 1, "green": 2}),
        "{preview}"
    );
    let sample: BTreeSet<String> = community["sample"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s.as_str().unwrap().to_owned())
        .collect();
    let mut expected = shared.clone();
    expected.insert(newer.clone());
    assert_eq!(sample, expected);
    // B's own collection on A is not something A serves back to B.
    assert!(
        preview["collections"]
            .as_array()
            .unwrap()
            .iter()
            .all(|c| c["id"] != b_collection.as_str()),
        "{preview}"
    );
    // Preview reads as the peer but is not a read by the peer: its out-count did not move.
    let before = a
        .store
        .peer_states()
        .await
        .unwrap()
        .into_iter()
        .find(|s| s.peer == b_on_a.as_str())
        .map_or(0, |s| s.objects_out);
    crate::common::succeed(a.cli().args(["federation", "preview", &entry("b")]));
    let after = a
        .store
        .peer_states()
        .await
        .unwrap()
        .into_iter()
        .find(|s| s.peer == b_on_a.as_str())
        .map_or(0, |s| s.objects_out);
    assert_eq!(before, after);
    assert!(before >= 5, "A counted what B read: {before}");

    // `reload` checks the file before any instance loads it.
    crate::common::succeed(b.cli().args(["federation", "reload"]));
    let good = std::fs::read_to_string(policy_path(&b)).unwrap();
    std::fs::write(
        policy_path(&b),
        good.replace(
            "allow_private = true",
            "allow_private = true\nmax_pages = 0",
        ),
    )
    .unwrap();
    let out = b.cli().args(["federation", "reload"]).output().unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("max_pages") && err.trim().lines().count() == 1,
        "{err}"
    );
    assert!(b.federation.reload().await.is_err());
    // The refused file changed nothing: the previous policy still pulls.
    std::fs::write(policy_path(&b), good).unwrap();
    b.federation.poll_peer(&a_on_b).await.unwrap();

    a.shutdown().await;
    b.shutdown().await;
}

/// Issue 16: two hubs, each with its own CA, database and certificates, federate both ways
/// over mutual TLS within their policies.
#[tokio::test]
async fn two_hubs_federate_both_ways_within_policy() {
    federate_both_ways(hub(None).await, hub(None).await).await;
}

#[tokio::test]
async fn two_hubs_federate_both_ways_on_postgres() {
    let (Some(pa), Some(pb)) = (PgDatabase::create().await, PgDatabase::create().await) else {
        return;
    };
    federate_both_ways(hub(Some(pa)).await, hub(Some(pb)).await).await;
}

/// MISP's sync let an instance outside a sharing group pull the event from a hub it had
/// reached (MISP/MISP#1720, "Event received by organisation not in sharing group
/// distribution"): here what B received from A goes to C only if B's entry for A says
/// `reshare`, never above what C may read, and never back to A.
#[tokio::test]
async fn what_a_hub_received_is_not_served_on_unless_reshared() {
    let (a, b, c) = (hub(None).await, hub(None).await, hub(None).await);
    let (a_on_b, _) = pair(&a, "a", &b, "b").await;
    let (b_on_c, _) = pair(&b, "b", &c, "c").await;
    let a_collection = peer_collection_id(&a_on_b);
    set_policy(
        &a,
        &format!("[peers.\"{}\"]\nmax_tlp = \"amber\"\n", entry("b")),
    )
    .await;
    let b_policy = |reshare: bool| {
        format!(
            "[peers.\"{a}\"]\nmax_tlp = \"amber\"\nreshare = {reshare}\n\
             collections = [\"community\", \"{a_collection}\"]\n\
             [peers.\"{a}\".ingress]\n{}\n\
             [peers.\"{c}\"]\nmax_tlp = \"green\"\ncollections = [\"community\", \"{a_collection}\"]\n",
            ingress(&a, "a", &[COMMUNITY], ""),
            a = entry("a"),
            c = entry("c"),
        )
    };
    set_policy(&b, &b_policy(false)).await;
    set_policy(
        &c,
        &format!(
            "[peers.\"{b}\"]\nmax_tlp = \"green\"\n[peers.\"{b}\".ingress]\n{}",
            ingress(&b, "b", &[COMMUNITY, &a_collection], ""),
            b = entry("b"),
        ),
    )
    .await;

    let [clear, green, amber] = std::array::from_fn::<_, 3, _>(|_| new_id());
    publish(
        &a,
        &[
            indicator(&clear, V1, Tlp::Clear, None, None),
            indicator(&green, V1, Tlp::Green, None, None),
            indicator(&amber, V1, Tlp::Amber, None, None),
        ],
    )
    .await;
    let b_own = new_id();
    publish(&b, &[indicator(&b_own, V1, Tlp::Green, None, None)]).await;
    assert_eq!(b.federation.poll_peer(&a_on_b).await.unwrap().stored, 3);

    // reshare = false: C gets B's own material, none of A's, though B's entry for C names
    // the collection A's material is in.
    let first = c.federation.poll_peer(&b_on_c).await.unwrap();
    assert_eq!(first.stored, 1, "{first:?}");
    let on_c = peer_collection_id(&b_on_c);
    assert_eq!(read_ids(&c, "csirt-analyst", &on_c).await, set(&[&b_own]));
    let c_client = https_client(
        &b.ca_path(),
        Some(&Credential {
            cert_pem: std::fs::read_to_string(c.data_dir().join("peers/b/client.pem")).unwrap(),
            key_pem: std::fs::read_to_string(c.data_dir().join("peers/b/client-key.pem")).unwrap(),
        }),
    );
    assert!(read_ids_with(&c_client, &b, &a_collection).await.is_empty());

    // reshare = true: on to C, but only as far as C may read (GREEN), never AMBER.
    set_policy(&b, &b_policy(true)).await;
    let second = c.federation.poll_peer(&b_on_c).await.unwrap();
    assert_eq!(second.stored, 2, "{second:?}");
    assert_eq!(
        read_ids(&c, "csirt-analyst", &on_c).await,
        set(&[&b_own, &clear, &green])
    );
    // C records B as the hub that delivered them.
    assert_eq!(
        origins(&c, &set(&[&clear, &green])).await,
        BTreeSet::from([Some(b_on_c.as_str().to_owned())])
    );
    // Never back to the hub it came from: A's certificate on B reads none of it.
    let a_client = https_client(
        &b.ca_path(),
        Some(&Credential {
            cert_pem: std::fs::read_to_string(a.data_dir().join("peers/b/client.pem")).unwrap(),
            key_pem: std::fs::read_to_string(a.data_dir().join("peers/b/client-key.pem")).unwrap(),
        }),
    );
    assert!(read_ids_with(&a_client, &b, &a_collection).await.is_empty());
    for h in [a, b, c] {
        h.shutdown().await;
    }
}

/// A puller stopped between pages resumes from the cursor it stored with the last page:
/// nothing fetched twice is stored twice, nothing is missing. MISP re-synchronises whole
/// events for hours after an interruption.
#[tokio::test]
async fn a_restarted_puller_resumes_from_its_cursor() {
    let (a, b) = (hub(None).await, hub(None).await);
    let (a_on_b, _) = pair(&a, "a", &b, "b").await;
    set_policy(
        &a,
        &format!("[peers.\"{}\"]\nmax_tlp = \"green\"\n", entry("b")),
    )
    .await;
    let b_text = format!(
        "[peers.\"{a}\"]\nmax_tlp = \"green\"\n[peers.\"{a}\".ingress]\n{}",
        ingress(
            &a,
            "a",
            &[COMMUNITY],
            "page_size = 4\nmax_pages = 2\npoll_secs = 1\nmax_backoff_secs = 1"
        ),
        a = entry("a"),
    );
    set_policy(&b, &b_text).await;
    let mut ids = BTreeSet::new();
    for _ in 0..4 {
        let batch: Vec<String> = (0..5).map(|_| new_id()).collect();
        publish(
            &a,
            &batch
                .iter()
                .map(|id| indicator(id, V1, Tlp::Green, None, None))
                .collect::<Vec<_>>(),
        )
        .await;
        ids.extend(batch);
    }
    let first = b.federation.poll_peer(&a_on_b).await.unwrap();
    assert_eq!((first.pages, first.stored), (2, 8), "{first:?}");
    assert!(first.budget_spent);

    // Restarted, with the workers on this time: they resume on their own.
    let b = {
        let mut b = b;
        b.config.federation.pull = true;
        b.restart().await
    };
    let late: Vec<String> = (0..5).map(|_| new_id()).collect();
    publish(
        &a,
        &late
            .iter()
            .map(|id| indicator(id, V1, Tlp::Green, None, None))
            .collect::<Vec<_>>(),
    )
    .await;
    ids.extend(late);
    let collection = peer_collection_id(&a_on_b);
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    loop {
        let got = read_ids(&b, "csirt-analyst", &collection).await;
        if got == ids {
            break;
        }
        assert!(got.is_subset(&ids));
        assert!(
            std::time::Instant::now() < deadline,
            "{} of {} after a minute",
            got.len(),
            ids.len()
        );
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    }
    // Every version once: the versions endpoint of each object lists one.
    let all: Vec<String> = ids.iter().cloned().collect();
    let rows = b.store.object_origins(&all).await.unwrap();
    assert_eq!(rows.len(), ids.len(), "one stored version per object");
    let state = b
        .store
        .peer_states()
        .await
        .unwrap()
        .into_iter()
        .find(|s| s.peer == a_on_b.as_str())
        .unwrap();
    assert_eq!(state.objects_in, 25);
    assert_eq!(state.failures, 0);
    a.shutdown().await;
    b.shutdown().await;
}

/// One answer of the scripted peer.
#[derive(Clone)]
pub(crate) enum Canned {
    Json {
        status: u16,
        headers: Vec<(&'static str, String)>,
        body: String,
    },
    /// `bytes` of an endless JSON string, streamed without a length.
    Stream { bytes: usize },
}

pub(crate) fn page(objects: &[String], more: bool, next: Option<&str>, last: &str) -> Canned {
    let mut body = json!({"more": more, "objects": objects.iter().map(|o| serde_json::from_str::<Value>(o).unwrap()).collect::<Vec<_>>()});
    if let Some(n) = next {
        body["next"] = json!(n);
    }
    Canned::Json {
        status: 200,
        headers: vec![
            ("content-type", TAXII.to_owned()),
            ("x-taxii-date-added-last", last.to_owned()),
        ],
        body: body.to_string(),
    }
}

pub(crate) fn status(code: u16) -> Canned {
    Canned::Json {
        status: code,
        headers: vec![],
        body: "{}".into(),
    }
}

/// A TAXII-looking server on loopback without TLS that answers each path with the next of
/// its scripted answers (the last one again once they run out), and remembers every request.
#[derive(Clone, Default)]
pub(crate) struct ScriptedPeer {
    script: Arc<Mutex<HashMap<String, VecDeque<Canned>>>>,
    seen: Arc<Mutex<Vec<String>>>,
}

impl ScriptedPeer {
    pub(crate) async fn start(&self) -> SocketAddr {
        let me = self.clone();
        let app = axum::Router::new().fallback(move |uri: axum::http::Uri| {
            let me = me.clone();
            async move { me.answer(&uri) }
        });
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move { axum::serve(listener, app).await });
        addr
    }

    pub(crate) fn on(&self, path: &str, answers: Vec<Canned>) {
        self.script
            .lock()
            .unwrap()
            .insert(path.to_owned(), answers.into());
    }

    pub(crate) fn seen(&self) -> Vec<String> {
        self.seen.lock().unwrap().clone()
    }

    fn answer(&self, uri: &axum::http::Uri) -> axum::response::Response {
        use axum::response::IntoResponse;
        self.seen.lock().unwrap().push(uri.to_string());
        let canned = {
            let mut script = self.script.lock().unwrap();
            let Some(queue) = script.get_mut(uri.path()) else {
                return axum::http::StatusCode::NOT_FOUND.into_response();
            };
            if queue.len() > 1 {
                queue.pop_front().unwrap()
            } else {
                queue.front().unwrap().clone()
            }
        };
        match canned {
            Canned::Json {
                status,
                headers,
                body,
            } => {
                let mut resp =
                    (axum::http::StatusCode::from_u16(status).unwrap(), body).into_response();
                for (k, v) in headers {
                    resp.headers_mut()
                        .insert(k, axum::http::HeaderValue::from_str(&v).unwrap());
                }
                resp
            }
            Canned::Stream { bytes } => {
                let chunk = bytes::Bytes::from(vec![b'a'; 1 << 20]);
                let head = bytes::Bytes::from_static(b"{\"objects\": [\"");
                let chunks = std::iter::once(head)
                    .chain(std::iter::repeat_n(chunk, bytes >> 20))
                    .map(Ok::<_, std::io::Error>);
                axum::body::Body::from_stream(futures_util::stream::iter(chunks)).into_response()
            }
        }
    }
}

/// The ingress of a scripted peer: plain HTTP on loopback, both allowed for this test peer.
pub(crate) fn scripted_ingress(addr: SocketAddr, collection: &str, extra: &str) -> String {
    format!(
        "url = \"http://{addr}/api/\"\ncollections = [\"{collection}\"]\nallow_http = true\n\
         allow_private = true\npoll_secs = 60\nmax_backoff_secs = 3600\n{extra}\n"
    )
}

pub(crate) fn root() -> Canned {
    Canned::Json {
        status: 200,
        headers: vec![("content-type", TAXII.to_owned())],
        body: json!({"title": "scripted", "versions": [TAXII]}).to_string(),
    }
}

pub(crate) async fn fake_peer(hub: &TestHub, name: &str) -> PrincipalId {
    hub.issue_bound(&subject(PrincipalKind::Peer, "Scripted", name))
        .await;
    hub.principal_named(name).await.id
}

pub(crate) async fn state_of(
    hub: &TestHub,
    peer: &PrincipalId,
) -> relais::store::federation::PeerState {
    hub.store
        .peer_states()
        .await
        .unwrap()
        .into_iter()
        .find(|s| s.peer == peer.as_str())
        .unwrap()
}

/// A peer that answers errors, serves a 50 MB page, replays old pages or loops on `next`,
/// and lies about who may update what.
#[tokio::test]
async fn a_hostile_peer_is_handled() {
    let hub = hub(None).await;
    let fake = ScriptedPeer::default();
    let addr = fake.start().await;
    fake.on("/api/", vec![root()]);
    let names = ["errors", "huge", "replay", "owner", "liar"];
    let mut peers = HashMap::new();
    for n in names {
        peers.insert(n, fake_peer(&hub, n).await);
    }
    let owner_identity = "identity--5f0b6c3e-1e7a-4a4b-9f0e-2b8d7c6a5e41";
    let mut text = String::new();
    for n in names {
        let extra = if n == "owner" {
            format!("identities = [\"{owner_identity}\"]\n")
        } else {
            String::new()
        };
        text.push_str(&format!(
            "[peers.\"Scripted/{n}\"]\nmax_tlp = \"clear\"\n{extra}[peers.\"Scripted/{n}\".ingress]\n{}\n",
            scripted_ingress(addr, n, "")
        ));
    }
    set_policy(&hub, &text).await;
    let objects = |n: &str| format!("/api/collections/{n}/objects/");

    // Errors: the poll fails, the failure is counted, the next poll backs off (doubling from
    // poll_secs, less up to half of jitter).
    fake.on(&objects("errors"), vec![status(500)]);
    let p = &peers["errors"];
    let e = hub.federation.poll_peer(p).await.unwrap_err();
    assert!(e.to_string().contains("500"), "{e}");
    let s1 = state_of(&hub, p).await;
    assert_eq!(s1.failures, 1);
    assert!(s1.last_error.as_deref().unwrap_or("").contains("500"));
    let wait1 = s1.next_poll.unwrap() - s1.last_attempt.unwrap();
    assert!(wait1 >= time::Duration::seconds(59), "{wait1}");
    hub.federation.poll_peer(p).await.unwrap_err();
    let s2 = state_of(&hub, p).await;
    assert_eq!(s2.failures, 2);
    let wait2 = s2.next_poll.unwrap() - s2.last_attempt.unwrap();
    assert!(wait2 >= time::Duration::seconds(119), "{wait2}");

    // 50 MB streamed without a length: refused past max_page_bytes, nothing stored, and the
    // cursor did not move.
    fake.on(&objects("huge"), vec![Canned::Stream { bytes: 50 << 20 }]);
    let p = &peers["huge"];
    let e = hub.federation.poll_peer(p).await.unwrap_err();
    assert!(e.to_string().contains("larger than"), "{e}");
    assert!(
        read_ids(&hub, "csirt-analyst", &peer_collection_id(p))
            .await
            .is_empty()
    );
    assert!(
        hub.store
            .pull_cursor(p, "huge")
            .await
            .unwrap()
            .is_none_or(|c| c.added_after.is_none() && c.pages == 0)
    );

    // Replays: the same page again, with an older X-TAXII-Date-Added-Last, stores nothing
    // twice and does not move the cursor back; a peer repeating the same `next` is stopped.
    let [r1, r2, r3] = std::array::from_fn::<_, 3, _>(|_| new_id());
    let later = "2026-06-02T00:00:00.000000Z";
    let earlier = "2026-06-01T00:00:00.000000Z";
    let objs = [
        indicator(&r1, V1, Tlp::Clear, None, None),
        indicator(&r2, V1, Tlp::Clear, None, None),
    ];
    fake.on(
        &objects("replay"),
        vec![
            page(&objs, false, None, later),
            page(&objs, false, None, earlier),
            page(
                &[indicator(&r3, V1, Tlp::Clear, None, None)],
                true,
                Some("n1"),
                later,
            ),
            page(&objs, true, Some("n1"), later),
        ],
    );
    let p = &peers["replay"];
    let first = hub.federation.poll_peer(p).await.unwrap();
    assert_eq!((first.stored, first.duplicates), (2, 0));
    let second = hub.federation.poll_peer(p).await.unwrap();
    assert_eq!(
        (second.stored, second.duplicates),
        (0, 2),
        "{first:?} {second:?} {:?}",
        fake.seen()
    );
    let cursor = hub.store.pull_cursor(p, "replay").await.unwrap().unwrap();
    assert_eq!(cursor.added_after.as_deref(), Some(later));
    let e = hub.federation.poll_peer(p).await.unwrap_err();
    assert!(e.to_string().contains("same `next`"), "{e}");
    let asked = fake.seen();
    let encoded: String = form_urlencoded::byte_serialize(later.as_bytes()).collect();
    assert!(
        asked
            .iter()
            .filter(|u| u.starts_with(&objects("replay")))
            .skip(1)
            .all(|u| u.contains(&format!("added_after={encoded}"))),
        "{asked:?}"
    );
    assert_eq!(
        read_ids(&hub, "csirt-analyst", &peer_collection_id(p)).await,
        set(&[&r1, &r2, &r3])
    );

    // Lies about origin: the owner delivers an object of its own; the liar then "updates" it,
    // "updates" an object this hub produced, and delivers one claiming the owner's identity.
    // Each is refused, object by object; its honest object in the same page is stored.
    let local = new_id();
    publish(&hub, &[indicator(&local, V1, Tlp::Clear, None, None)]).await;
    let owned = new_id();
    fake.on(
        &objects("owner"),
        vec![page(
            &[indicator(
                &owned,
                V1,
                Tlp::Clear,
                None,
                Some(owner_identity),
            )],
            false,
            None,
            later,
        )],
    );
    let owner = hub.federation.poll_peer(&peers["owner"]).await.unwrap();
    assert_eq!(owner.stored, 1, "{owner:?}");
    let [claimed, honest, member] = std::array::from_fn::<_, 3, _>(|_| new_id());
    // A partner hub relays what other hubs produced, but never speaks for this hub's members.
    let member_identity = hub
        .principal_named("provider-a")
        .await
        .organisation_id
        .stix_identity();
    fake.on(
        &objects("liar"),
        vec![page(
            &[
                indicator(&owned, V2, Tlp::Clear, None, None),
                indicator(&local, V2, Tlp::Clear, None, None),
                indicator(&claimed, V1, Tlp::Clear, None, Some(owner_identity)),
                indicator(&honest, V1, Tlp::Clear, None, None),
                indicator(&member, V1, Tlp::Clear, None, Some(&member_identity)),
            ],
            false,
            None,
            later,
        )],
    );
    let lied = hub.federation.poll_peer(&peers["liar"]).await.unwrap();
    assert_eq!((lied.stored, lied.refused), (1, 4), "{lied:?}");
    let why = lied.refusals.join("\n");
    for expected in [
        "came from another hub",
        "was produced by this hub",
        "another hub's identity",
        "created_by_ref must be the identity",
    ] {
        assert!(why.contains(expected), "{why}");
    }
    assert_eq!(
        read_ids(&hub, "csirt-analyst", &peer_collection_id(&peers["liar"])).await,
        set(&[&honest])
    );
    let held = hub
        .store
        .object_origins(&[owned.clone(), local.clone()])
        .await
        .unwrap();
    assert_eq!(held.len(), 2, "one version each, untouched: {held:?}");
    assert_eq!(state_of(&hub, &peers["liar"]).await.refused_in, 4);
    hub.shutdown().await;
}

/// Outbound requests never reach what the entry does not allow: loopback and private
/// addresses without `allow_private` (by address or by a name that resolves there), the
/// metadata service even with it (also through a redirect), `file:` and plain `http:`.
#[tokio::test]
async fn peer_urls_cannot_reach_internal_addresses() {
    let hub = hub(None).await;
    let fake = ScriptedPeer::default();
    let addr = fake.start().await;
    fake.on("/api/", vec![root()]);
    let p = fake_peer(&hub, "ssrf").await;
    let write = |ingress: String| {
        std::fs::write(
            policy_path(&hub),
            format!("[peers.\"Scripted/ssrf\"]\nmax_tlp = \"clear\"\n[peers.\"Scripted/ssrf\".ingress]\n{ingress}"),
        )
        .unwrap();
    };
    let refused = |text: String, expected: &str| {
        assert!(text.contains(expected), "{text}");
        assert!(!text.contains('\n'), "{text}");
    };

    // Refused when the policy is read: an address, a scheme.
    for (url, extra, expected) in [
        (
            format!("http://{addr}/api/"),
            "allow_http = true",
            "loopback",
        ),
        ("file:///etc/passwd".to_owned(), "", "only https"),
        (
            format!("http://{addr}/api/"),
            "allow_private = true",
            "plain http",
        ),
        (
            "https://169.254.169.254/latest/".to_owned(),
            "allow_private = true\nca = \"certs/ca.pem\"",
            "link-local",
        ),
    ] {
        write(format!("url = \"{url}\"\ncollections = [\"x\"]\n{extra}\n"));
        let e = hub.federation.reload().await.unwrap_err();
        refused(e.to_string(), expected);
        let out = hub.cli().args(["federation", "reload"]).output().unwrap();
        assert!(!out.status.success());
        refused(
            String::from_utf8_lossy(&out.stderr).trim().to_owned(),
            expected,
        );
    }

    // A name that resolves to loopback: refused at connection time, nothing sent.
    write(format!(
        "url = \"http://localhost:{}/api/\"\ncollections = [\"x\"]\nallow_http = true\n",
        addr.port()
    ));
    hub.federation.reload().await.unwrap();
    let e = hub.federation.poll_peer(&p).await.unwrap_err();
    refused(e.to_string(), "loopback");

    // A redirect to the metadata service: not followed by default, refused when followed.
    fake.on(
        "/api/",
        vec![Canned::Json {
            status: 302,
            headers: vec![(
                "location",
                "http://169.254.169.254/latest/meta-data/".to_owned(),
            )],
            body: String::new(),
        }],
    );
    write(scripted_ingress(addr, "x", ""));
    hub.federation.reload().await.unwrap();
    let e = hub.federation.poll_peer(&p).await.unwrap_err();
    refused(e.to_string(), "302");
    write(scripted_ingress(addr, "x", "follow_redirects = true"));
    hub.federation.reload().await.unwrap();
    let e = hub.federation.poll_peer(&p).await.unwrap_err();
    refused(e.to_string(), "169.254.169.254");
    assert!(
        fake.seen().iter().all(|u| u.starts_with("/api/")),
        "{:?}",
        fake.seen()
    );
    assert_eq!(
        fake.seen().len(),
        2,
        "only the two redirecting answers were asked for"
    );
    hub.shutdown().await;
}
