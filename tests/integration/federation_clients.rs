//! Third-party TAXII peers: relais pulling from medallion 3, taxii2-client reading relais as a peer.
//!
//! medallion (the OASIS reference TAXII 2.1 server) runs from `RELAIS_TEST_PYTHON`'s venv on
//! loopback with its memory backend. It has no TLS, so its entry allows plain HTTP and private
//! addresses, and authenticates with HTTP basic auth. Unset, or without the package in it, the
//! tests say NOT RUN, unless `RELAIS_TEST_REQUIRE_TOOLS` is set, when they fail.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use relais::domain::federation::collection::peer_collection_id;
use relais::domain::markings::Tlp;
use relais::domain::principal::{PrincipalId, PrincipalKind};
use reqwest::header::{ACCEPT, CONTENT_TYPE};
use serde_json::{Value, json};

use crate::common::{REQUIRE_TOOLS_VAR, TestHub, error_chain, https_client, not_run, subject};
use crate::federation::{
    COMMUNITY, TAXII, V1, V2, hub, indicator, new_id, origins, publish, read_ids, set, set_policy,
    state_of,
};

const PYTHON_VAR: &str = "RELAIS_TEST_PYTHON";
const PEER_SCRIPT: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/tests/python/peer_read_check.py"
);

/// The Python to run `module` with, or `None` (said NOT RUN) when none is configured or the
/// module is not installed in it.
fn python_with(module: &str, what: &str) -> Option<PathBuf> {
    let require = std::env::var_os(REQUIRE_TOOLS_VAR).is_some();
    let python = match std::env::var_os(PYTHON_VAR) {
        Some(p) if !p.is_empty() => PathBuf::from(p),
        _ => {
            assert!(
                !require,
                "{PYTHON_VAR} is not set but {REQUIRE_TOOLS_VAR} is"
            );
            not_run(&format!("{what}: {PYTHON_VAR} not set"));
            return None;
        }
    };
    let found = Command::new(&python)
        .args(["-c", &format!("import {module}")])
        .output()
        .unwrap_or_else(|e| panic!("{PYTHON_VAR} is set but cannot be run: {e}"));
    if !found.status.success() {
        assert!(
            !require,
            "{module} is not installed in {} but {REQUIRE_TOOLS_VAR} is set: {}",
            python.display(),
            String::from_utf8_lossy(&found.stderr)
        );
        not_run(&format!(
            "{what}: {module} is not installed in {}",
            python.display()
        ));
        return None;
    }
    Some(python)
}

/// The one API root and collection of the medallion instance, and its user.
const API_ROOT: &str = "api1";
const MEDALLION_COLLECTION: &str = "4e3b5d92-6c1a-4f0e-9b27-8d5c0a1e7f36";
const USER: &str = "relais-puller";
const PASSWORD: &str = "medallion-test-password";

/// An object version medallion holds from the start, with the date it says it was added.
struct Seeded {
    object: Value,
    date_added: &'static str,
}

fn seeded(object: &str, date_added: &'static str) -> Seeded {
    Seeded {
        object: serde_json::from_str(object).unwrap(),
        date_added,
    }
}

/// A medallion 3 process on loopback, killed when dropped (a failed assertion included).
struct Medallion {
    child: Child,
    port: u16,
    dir: tempfile::TempDir,
    /// A plain client (medallion has no TLS).
    client: reqwest::Client,
}

impl Drop for Medallion {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Medallion {
    /// Starts medallion with its memory backend holding `seed` in one collection, and waits
    /// until discovery answers. `session_secs` is how long it keeps a paging session (`next`)
    /// it has handed out.
    async fn start(
        python: &Path,
        seed: &[Seeded],
        session_secs: u64,
        client: reqwest::Client,
    ) -> Self {
        let dir = tempfile::tempdir().unwrap();
        // A port the kernel just handed out and took back: free unless something else grabs it
        // in the next instant.
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let root_url = format!("http://127.0.0.1:{port}/{API_ROOT}/");
        let manifest: Vec<Value> = seed
            .iter()
            .map(|s| {
                json!({
                    "id": s.object["id"], "date_added": s.date_added,
                    "version": s.object["modified"],
                    "media_type": "application/stix+json;version=2.1",
                })
            })
            .collect();
        let data = json!({
            "/discovery": {
                "title": "medallion (relais federation test)",
                "default": root_url, "api_roots": [root_url],
            },
            API_ROOT: {
                "information": {
                    "title": "medallion API root", "versions": [TAXII],
                    "max_content_length": 10_485_760,
                },
                "status": [],
                "collections": [{
                    "id": MEDALLION_COLLECTION, "title": "indicators",
                    "can_read": true, "can_write": true,
                    "media_types": ["application/stix+json;version=2.1"],
                    "objects": seed.iter().map(|s| s.object.clone()).collect::<Vec<_>>(),
                    "manifest": manifest,
                }],
            },
        });
        let data_path = dir.path().join("data.json");
        std::fs::write(&data_path, data.to_string()).unwrap();
        let config = json!({
            "backend": {
                "module": "medallion.backends.memory_backend", "module_class": "MemoryBackend",
                "filename": data_path, "session_timeout": session_secs, "check_interval": 1,
            },
            "users": {USER: PASSWORD},
            "taxii": {"max_page_size": 100},
        });
        let config_path = dir.path().join("config.json");
        std::fs::write(&config_path, config.to_string()).unwrap();
        let log = std::fs::File::create(dir.path().join("medallion.log")).unwrap();
        let child = Command::new(python)
            .args([
                "-m",
                "medallion.scripts.run",
                "--host",
                "127.0.0.1",
                "--port",
            ])
            .arg(port.to_string())
            .arg(&config_path)
            .stdin(Stdio::null())
            .stdout(log.try_clone().unwrap())
            .stderr(log)
            .spawn()
            .unwrap();
        let mut medallion = Self {
            child,
            port,
            dir,
            client,
        };
        medallion.wait_until_up().await;
        medallion
    }

    async fn wait_until_up(&mut self) {
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                panic!("medallion exited ({status}):\n{}", self.log());
            }
            let answer = self
                .client
                .get(self.discovery())
                .basic_auth(USER, Some(PASSWORD))
                .header(ACCEPT, TAXII)
                .send()
                .await;
            if answer.is_ok_and(|r| r.status() == 200) {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "medallion did not answer within 30 s:\n{}",
                self.log()
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("medallion.log")).unwrap_or_default()
    }

    fn discovery(&self) -> String {
        format!("http://127.0.0.1:{}/taxii2/", self.port)
    }

    fn objects_url(&self) -> String {
        format!(
            "http://127.0.0.1:{}/{API_ROOT}/collections/{MEDALLION_COLLECTION}/objects/",
            self.port
        )
    }

    /// Adds `objects` through medallion's own TAXII API, as its users would.
    async fn add(&self, objects: &[String]) {
        let resp = self
            .client
            .post(self.objects_url())
            .basic_auth(USER, Some(PASSWORD))
            .header(ACCEPT, TAXII)
            .header(CONTENT_TYPE, TAXII)
            .body(format!("{{\"objects\": [{}]}}", objects.join(",")))
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), 202, "{}", self.log());
        let status: Value = resp.json().await.unwrap();
        assert_eq!(
            status["success_count"].as_u64(),
            Some(objects.len() as u64),
            "{status}"
        );
    }

    /// The entry of a peer pulling from this medallion, its password read from `password_file`.
    fn entry(&self, name: &str, password_file: &str, extra: &str) -> String {
        format!(
            "[peers.\"{name}\"]\nmax_tlp = \"clear\"\n[peers.\"{name}\".ingress]\n\
             url = \"{}\"\ncollections = [\"{MEDALLION_COLLECTION}\"]\n\
             allow_http = true\nallow_private = true\n\
             basic_user = \"{USER}\"\nbasic_password_file = \"{password_file}\"\n\
             page_size = 2\nwitness = false\n{extra}\n",
            self.discovery()
        )
    }
}

const ORG: &str = "TAXII Reference";

/// A peer principal on `hub` for medallion, and its password written where its entry says.
async fn medallion_peer(hub: &TestHub, name: &str, password: &str) -> (PrincipalId, String) {
    hub.issue_bound(&subject(PrincipalKind::Peer, ORG, name))
        .await;
    let file = format!("peers/{name}/password");
    let path = hub.data_dir().join(&file);
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(&path, format!("{password}\n")).unwrap();
    (hub.principal_named(name).await.id, file)
}

/// Where the hub's pull of medallion's collection stands.
async fn cursor(hub: &TestHub, peer: &PrincipalId) -> relais::store::federation::PullCursor {
    hub.store
        .pull_cursor(peer, MEDALLION_COLLECTION)
        .await
        .unwrap()
        .unwrap()
}

/// The versions (`modified`) of `id` the hub holds, oldest first.
async fn versions(hub: &TestHub, collection: &str, id: &str) -> Vec<String> {
    let (status, body) = crate::common::api(
        hub,
        "csirt-analyst",
        reqwest::Method::GET,
        &format!("/taxii2/api/collections/{collection}/objects/{id}/versions/"),
        None,
    )
    .await;
    assert_eq!(status, 200, "{body}");
    let mut out: Vec<String> = body["versions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap().to_owned())
        .collect();
    out.sort();
    out
}

const V3: &str = "2026-07-01T00:00:00.000Z";

/// Issue 16: relais pulls from medallion 3 over plain HTTP on loopback with basic auth,
/// page by page (`next`), and resumes with `added_after` from its X-TAXII-Date-Added-Last.
#[tokio::test]
async fn relais_pulls_from_medallion() {
    let Some(python) = python_with("medallion", "medallion 3 peer") else {
        return;
    };
    let hub = hub(None).await;
    let [clear, green, updated, clear2, green2] = std::array::from_fn::<_, 5, _>(|_| new_id());
    let medallion = Medallion::start(
        &python,
        &[
            seeded(
                &indicator(&clear, V1, Tlp::Clear, None, None),
                "2026-05-01T01:00:00.000000Z",
            ),
            seeded(
                &indicator(&green, V1, Tlp::Green, None, None),
                "2026-05-01T02:00:00.000000Z",
            ),
            seeded(
                &indicator(&updated, V1, Tlp::Green, None, None),
                "2026-05-01T03:00:00.000000Z",
            ),
            seeded(
                &indicator(&clear2, V1, Tlp::Clear, None, None),
                "2026-05-01T04:00:00.000000Z",
            ),
            // A version update, added after everything else.
            seeded(
                &indicator(&updated, V2, Tlp::Green, None, None),
                "2026-06-01T01:00:00.000000Z",
            ),
            seeded(
                &indicator(&green2, V1, Tlp::Green, None, None),
                "2026-06-02T00:00:00.000000Z",
            ),
        ],
        30,
        https_client(&hub.ca_path(), None),
    )
    .await;
    let (peer, password_file) = medallion_peer(&hub, "medallion", PASSWORD).await;
    let (wrong, wrong_file) = medallion_peer(&hub, "medallion-wrong", "not-the-password").await;
    set_policy(
        &hub,
        &format!(
            "{}\n{}",
            medallion.entry(&format!("{ORG}/medallion"), &password_file, ""),
            medallion.entry(&format!("{ORG}/medallion-wrong"), &wrong_file, "")
        ),
    )
    .await;
    let collection = peer_collection_id(&peer);

    // Five objects, latest versions (what a TAXII read without match[version] gives), two by
    // page: three pages, following medallion's `next`.
    let first = hub.federation.poll_peer(&peer).await.unwrap();
    assert_eq!(
        (first.pages, first.stored, first.duplicates, first.refused),
        (3, 5, 0, 0),
        "{first:?}\n{}",
        medallion.log()
    );
    let all = set(&[&clear, &green, &updated, &clear2, &green2]);
    assert_eq!(read_ids(&hub, "csirt-analyst", &collection).await, all);
    assert_eq!(versions(&hub, &collection, &updated).await, [V2]);
    assert_eq!(
        origins(&hub, &all).await,
        BTreeSet::from([Some(peer.as_str().to_owned())])
    );
    // With the TLP 2.0 marking they came with.
    for (id, tlp) in [(&clear, Tlp::Clear), (&green, Tlp::Green)] {
        let (status, page) = crate::common::api(
            &hub,
            "csirt-analyst",
            reqwest::Method::GET,
            &format!("/taxii2/api/collections/{collection}/objects/{id}/"),
            None,
        )
        .await;
        assert_eq!(status, 200, "{page}");
        assert_eq!(
            page["objects"][0]["object_marking_refs"],
            json!([tlp.marking_definition_id()])
        );
    }
    // The cursor is medallion's X-TAXII-Date-Added-Last of the last page, verbatim.
    let after = cursor(&hub, &peer).await;
    assert_eq!(
        (after.added_after.as_deref(), after.next.as_deref()),
        (Some("2026-06-02T00:00:00.000000Z"), None)
    );

    // Again: medallion has nothing added after the cursor.
    let again = hub.federation.poll_peer(&peer).await.unwrap();
    assert_eq!(
        (again.stored, again.duplicates, again.refused),
        (0, 0, 0),
        "{again:?}"
    );

    // A new object and a new version added through medallion's API: exactly those arrive.
    let newer = new_id();
    medallion
        .add(&[
            indicator(&newer, V1, Tlp::Green, None, None),
            indicator(&updated, V3, Tlp::Green, None, None),
        ])
        .await;
    let added = hub.federation.poll_peer(&peer).await.unwrap();
    assert_eq!(
        (added.stored, added.duplicates, added.refused),
        (2, 0, 0),
        "{added:?}\n{}",
        medallion.log()
    );
    let mut all = all;
    all.insert(newer.clone());
    assert_eq!(read_ids(&hub, "csirt-analyst", &collection).await, all);
    assert_eq!(versions(&hub, &collection, &updated).await, [V2, V3]);
    assert_eq!(
        origins(&hub, &all).await,
        BTreeSet::from([Some(peer.as_str().to_owned())])
    );
    let settled = hub.federation.poll_peer(&peer).await.unwrap();
    assert_eq!((settled.stored, settled.duplicates), (0, 0), "{settled:?}");
    assert_eq!(state_of(&hub, &peer).await.objects_in, 7);

    // A wrong password: medallion answers 401, the poll fails saying so, nothing is stored.
    let e = hub.federation.poll_peer(&wrong).await.unwrap_err();
    assert!(e.to_string().contains("HTTP 401"), "{e}");
    let failed = state_of(&hub, &wrong).await;
    assert_eq!((failed.failures, failed.objects_in), (1, 0));
    assert!(
        failed.last_error.as_deref().unwrap_or("").contains("401"),
        "{failed:?}"
    );
    assert!(
        read_ids(&hub, "csirt-analyst", &peer_collection_id(&wrong))
            .await
            .is_empty()
    );
    assert!(
        hub.store
            .pull_cursor(&wrong, MEDALLION_COLLECTION)
            .await
            .unwrap()
            .is_none_or(|c| c.added_after.is_none() && c.pages == 0)
    );
    hub.shutdown().await;
}

/// medallion keeps a paging session (`next`) for 30 s and forgets them all when it restarts;
/// a puller whose page budget ran out mid-run resumes with a `next` medallion no longer knows
/// (400), and starts the run again from `added_after` instead of failing at every poll.
#[tokio::test]
async fn a_next_medallion_forgot_restarts_the_run() {
    let Some(python) = python_with("medallion", "medallion 3 peer") else {
        return;
    };
    let hub = hub(None).await;
    let ids: [String; 3] = std::array::from_fn(|_| new_id());
    let dates = [
        "2026-05-01T01:00:00.000000Z",
        "2026-05-01T02:00:00.000000Z",
        "2026-05-01T03:00:00.000000Z",
    ];
    let seed = || -> Vec<Seeded> {
        ids.iter()
            .zip(dates)
            .map(|(id, d)| seeded(&indicator(id, V1, Tlp::Clear, None, None), d))
            .collect()
    };
    let client = https_client(&hub.ca_path(), None);
    let medallion = Medallion::start(&python, &seed(), 30, client.clone()).await;
    let (peer, password_file) = medallion_peer(&hub, "medallion", PASSWORD).await;
    let name = format!("{ORG}/medallion");
    set_policy(
        &hub,
        &medallion.entry(&name, &password_file, "max_pages = 1"),
    )
    .await;
    let first = hub.federation.poll_peer(&peer).await.unwrap();
    assert_eq!((first.stored, first.budget_spent), (2, true), "{first:?}");
    let forgotten = cursor(&hub, &peer).await.next.unwrap();

    // medallion restarts (on another port, which the entry then names): its sessions are gone.
    drop(medallion);
    let medallion = Medallion::start(&python, &seed(), 30, client).await;
    set_policy(
        &hub,
        &medallion.entry(&name, &password_file, "max_pages = 1"),
    )
    .await;
    let second = hub.federation.poll_peer(&peer).await.unwrap();
    assert_eq!(
        (second.pages, second.stored, second.duplicates),
        (1, 0, 2),
        "{second:?}\n{}",
        medallion.log()
    );
    assert!(
        medallion.log().contains(&format!("next={forgotten}")),
        "the stored `next` was tried first:\n{}",
        medallion.log()
    );
    let resumed = cursor(&hub, &peer).await;
    assert!(
        resumed.next.as_deref().is_some_and(|n| n != forgotten),
        "{resumed:?}"
    );
    let third = hub.federation.poll_peer(&peer).await.unwrap();
    assert_eq!(
        (third.stored, third.duplicates, third.budget_spent),
        (1, 0, false),
        "{third:?}"
    );
    let collection = peer_collection_id(&peer);
    assert_eq!(
        read_ids(&hub, "csirt-analyst", &collection).await,
        ids.iter().cloned().collect::<BTreeSet<_>>()
    );
    assert_eq!(state_of(&hub, &peer).await.failures, 0);
    hub.shutdown().await;
}

/// A new peer principal `name` on `hub`; the files its certificate and key were written to.
async fn peer_files(hub: &TestHub, organisation: &str, name: &str) -> (PathBuf, PathBuf) {
    let credential = hub
        .issue_bound(&subject(PrincipalKind::Peer, organisation, name))
        .await;
    let dir = hub.data_dir().join("test-peer");
    std::fs::create_dir_all(&dir).unwrap();
    credential.write_to(&dir, name)
}

/// Runs `tests/python/peer_read_check.py` with `args`; its JSON summary. Any failure of the
/// script fails the test with what it said.
async fn run_peer_script(python: &Path, args: Vec<std::ffi::OsString>) -> Value {
    let mut cmd = Command::new(python);
    cmd.arg(PEER_SCRIPT)
        .args(args)
        // No proxy from the environment between the client and loopback.
        .env("NO_PROXY", "*")
        .env_remove("REQUESTS_CA_BUNDLE")
        .env_remove("CURL_CA_BUNDLE");
    // The hub serves on this runtime: wait for the child off it.
    let out = tokio::task::spawn_blocking(move || cmd.output())
        .await
        .unwrap()
        .unwrap_or_else(|e| panic!("{PYTHON_VAR} is set but cannot be run: {e}"));
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success(),
        "peer_read_check.py failed ({}):\n{stderr}\n{stdout}",
        out.status
    );
    serde_json::from_str(&stdout)
        .unwrap_or_else(|e| panic!("peer_read_check.py: summary is not JSON: {e}\n{stdout}"))
}

/// Issue 16: a partner hub running the OASIS `taxii2-client` reads relais over mutual TLS
/// and gets exactly what its entry allows (`max_tlp = "green"`); without a certificate it
/// does not get past the handshake.
#[tokio::test]
async fn taxii2_client_reads_relais_as_a_peer() {
    let Some(python) = python_with("taxii2client", "taxii2-client as a peer") else {
        return;
    };
    let hub = hub(None).await;
    let organisation = "CSIRT Partner";
    let name = "hub-partner";
    let (cert, key) = peer_files(&hub, organisation, name).await;
    set_policy(
        &hub,
        &format!("[peers.\"{organisation}/{name}\"]\nmax_tlp = \"green\"\n"),
    )
    .await;
    let [clear, green, amber, red] = std::array::from_fn::<_, 4, _>(|_| new_id());
    publish(
        &hub,
        &[
            indicator(&clear, V1, Tlp::Clear, None, None),
            indicator(&green, V1, Tlp::Green, None, None),
            indicator(&amber, V1, Tlp::Amber, None, None),
            indicator(&red, V1, Tlp::Red, None, None),
        ],
    )
    .await;

    let summary = run_peer_script(
        &python,
        vec![
            "--discovery".into(),
            hub.url("/taxii2/").into(),
            "--ca".into(),
            hub.ca_path().into(),
            "--cert".into(),
            cert.into(),
            "--key".into(),
            key.into(),
            "--collection".into(),
            COMMUNITY.into(),
            "--per-request".into(),
            "1".into(),
        ],
    )
    .await;
    let ids: BTreeSet<String> = summary["ids"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i.as_str().unwrap().to_owned())
        .collect();
    assert_eq!(ids, set(&[&clear, &green]), "{summary}");
    // One object a page: `as_pages` followed `next` to the end.
    assert_eq!(summary["page_sizes"], json!([1, 1]), "{summary}");
    let listed: Vec<(String, bool, bool)> = summary["collections"]
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
    assert_eq!(listed, [(COMMUNITY.to_owned(), true, false)], "{summary}");
    assert_eq!(
        summary["api_root"],
        format!("https://localhost:{}/taxii2/api/", hub.main.port())
    );

    // No certificate: refused in the handshake, by the same client and by rustls.
    let refused = run_peer_script(
        &python,
        vec![
            "--discovery".into(),
            hub.url("/taxii2/").into(),
            "--ca".into(),
            hub.ca_path().into(),
            "--no-cert".into(),
        ],
    )
    .await;
    assert!(refused["refused"].is_string(), "{refused}");
    let err = hub
        .client_with(None)
        .get(hub.url("/taxii2/"))
        .header(ACCEPT, TAXII)
        .send()
        .await
        .expect_err("the hub must refuse the handshake");
    let chain = error_chain(&err);
    assert!(chain.contains("CertificateRequired"), "{chain}");
    hub.shutdown().await;
}
