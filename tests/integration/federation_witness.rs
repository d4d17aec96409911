//! Witnessed checkpoints between hubs: C2SP cosignatures both ways over mutual TLS, served and
//! checked offline; a partner's log that forks or is rewritten raises the alarm and stops
//! the witnessing.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use relais::crypto::openpgp::AuditKey;
use relais::domain::audit::checkpoint::{Checkpoint, SignedCheckpoint};
use relais::domain::audit::cosignature::{Cosignature, WitnessVerifier};
use relais::domain::audit::merkle::{Hash, consistency_proof, leaf_hash, root};
use relais::domain::principal::PrincipalId;
use relais::services::federation::witness::Round;
use serde_json::{Value, json};

use crate::common::{HubOptions, TestHub, api, spawn_hub_with};
use crate::federation::{
    Canned, ScriptedPeer, V1, entry, fake_peer, indicator, ingress, new_id, pair, publish,
    scripted_ingress, set_policy,
};
use relais::domain::markings::Tlp;

async fn hub(label: &str) -> TestHub {
    let origin = format!("hub-{label}.test/audit");
    spawn_hub_with(HubOptions {
        tweak: Some(Box::new(move |c, _| {
            c.federation.pull = false;
            c.audit.origin = origin;
        })),
        ..HubOptions::default()
    })
    .await
}

fn vkey(hub: &TestHub) -> String {
    hub.federation.witness.verifier().to_vkey()
}

async fn checkpoint(hub: &TestHub) -> Checkpoint {
    publish(hub, &[indicator(&new_id(), V1, Tlp::Green, None, None)]).await;
    let stored = hub
        .federation
        .services
        .checkpoints
        .checkpoint_now()
        .await
        .unwrap()
        .unwrap();
    SignedCheckpoint::parse(&stored.signed).unwrap().checkpoint
}

/// The cosignatures `hub` serves, as (checkpoint size, line).
async fn served(hub: &TestHub) -> Vec<(u64, String)> {
    let (status, body) = api(
        hub,
        "provider-b",
        reqwest::Method::GET,
        "/api/v1/audit/cosignatures",
        None,
    )
    .await;
    assert_eq!(status, 200, "{body}");
    body["cosignatures"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            (
                c["size"].as_u64().unwrap(),
                c["line"].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

fn witness_entry(peer: &TestHub, label: &str, witness_key: &str) -> String {
    format!(
        "[peers.\"{e}\"]\nmax_tlp = \"green\"\naudit_origin = \"hub-{label}.test/audit\"\n\
         witness_key = \"{witness_key}\"\n[peers.\"{e}\".ingress]\n{}",
        ingress(peer, label, &[crate::federation::COMMUNITY], ""),
        e = entry(label),
    )
}

/// Issue 16, point 6: each hub cosigns the other's checkpoints and sends the cosignature
/// back; each serves what it received, and anyone checks it offline with the verifier key.
#[tokio::test]
async fn checkpoints_are_cosigned_both_ways() {
    let (a, b) = (hub("a").await, hub("b").await);
    let (a_on_b, b_on_a) = pair(&a, "a", &b, "b").await;
    set_policy(&a, &witness_entry(&b, "b", &vkey(&b))).await;
    set_policy(&b, &witness_entry(&a, "a", &vkey(&a))).await;

    let a_head = checkpoint(&a).await;
    let b_head = checkpoint(&b).await;
    assert_eq!(
        b.federation.witness_peer(&a_on_b).await.unwrap(),
        Round::Cosigned {
            size: a_head.size,
            delivered: true
        }
    );
    assert_eq!(
        a.federation.witness_peer(&b_on_a).await.unwrap(),
        Round::Cosigned {
            size: b_head.size,
            delivered: true
        }
    );
    // A serves B's cosignature of A's checkpoint; it verifies offline with B's key alone.
    for (hub, head, witness) in [(&a, &a_head, &b), (&b, &b_head, &a)] {
        let list = served(hub).await;
        assert_eq!(list.len(), 1, "{list:?}");
        assert_eq!(list[0].0, head.size);
        let verifier = WitnessVerifier::parse(&vkey(witness)).unwrap();
        let line = Cosignature::parse_line(&list[0].1).unwrap();
        verifier.verify(head, &line).unwrap();
    }

    // Nothing new: nothing cosigned again. A grows: B checks the consistency proof from what
    // it witnessed and cosigns the new size.
    assert_eq!(
        b.federation.witness_peer(&a_on_b).await.unwrap(),
        Round::Unchanged { size: a_head.size }
    );
    let grown = checkpoint(&a).await;
    assert!(grown.size > a_head.size);
    assert_eq!(
        b.federation.witness_peer(&a_on_b).await.unwrap(),
        Round::Cosigned {
            size: grown.size,
            delivered: true
        }
    );
    assert_eq!(served(&a).await.len(), 2);
    let out = crate::common::succeed(b.cli().args(["audit", "witness", "check"]));
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains(&format!("cosigned at size {}", grown.size)),
        "{text}"
    );
    let out = crate::common::succeed(
        b.cli()
            .env("RELAIS_AUDIT_ORIGIN", "hub-b.test/audit")
            .args(["audit", "witness", "key"]),
    );
    assert_eq!(String::from_utf8_lossy(&out.stdout).trim(), vkey(&b));

    // What A keeps is checked: a provider is no witness, a cosignature must verify, and a
    // body must be a checkpoint A signed.
    let b_cert = crate::common::Credential {
        cert_pem: std::fs::read_to_string(b.data_dir().join("peers/a/client.pem")).unwrap(),
        key_pem: std::fs::read_to_string(b.data_dir().join("peers/a/client-key.pem")).unwrap(),
    };
    let as_b = a.client_with(Some(&b_cert));
    let real = served(&a).await[0].1.clone();
    let post = |client: reqwest::Client, body: Value| {
        let url = a.url("/api/v1/audit/cosignatures");
        async move {
            client
                .post(url)
                .json(&body)
                .send()
                .await
                .unwrap()
                .status()
                .as_u16()
        }
    };
    assert_eq!(
        post(
            a.client("provider-b"),
            json!({"checkpoint": grown.body(), "cosignature": real})
        )
        .await,
        403
    );
    let mut forged = Cosignature::parse_line(&real).unwrap();
    forged.signature[0] ^= 1;
    assert_eq!(
        post(
            as_b.clone(),
            json!({"checkpoint": grown.body(), "cosignature": forged.line()})
        )
        .await,
        422
    );
    let mut other = grown.clone();
    other.root = [9u8; 32];
    let by_b = b.federation.witness.cosign(&other, 1);
    assert_eq!(
        post(
            as_b.clone(),
            json!({"checkpoint": other.body(), "cosignature": by_b.line()})
        )
        .await,
        422
    );
    assert_eq!(
        post(as_b, json!({"checkpoint": "x", "cosignature": real})).await,
        400
    );
    a.shutdown().await;
    b.shutdown().await;
}

fn leaves(n: usize, salt: &str) -> Vec<Hash> {
    (0..n)
        .map(|i| leaf_hash(format!("{salt}{i}").as_bytes()))
        .collect()
}

fn signed(origin: &str, leaves: &[Hash], key: &AuditKey) -> Canned {
    let head = Checkpoint {
        origin: origin.into(),
        size: leaves.len() as u64,
        root: root(leaves),
    };
    let text = SignedCheckpoint::sign(head, key, time::OffsetDateTime::now_utc())
        .unwrap()
        .to_text();
    Canned::Json {
        status: 200,
        headers: vec![("content-type", "text/plain".into())],
        body: text,
    }
}

fn proof(all: &[Hash], from: u64, to: u64) -> Canned {
    let path: Vec<String> = consistency_proof(all, from, to)
        .unwrap()
        .iter()
        .map(|h| STANDARD.encode(h))
        .collect();
    Canned::Json {
        status: 200,
        headers: vec![("content-type", "application/json".into())],
        body: json!({"from": from, "to": to, "path": path}).to_string(),
    }
}

async fn alarm_entries(hub: &TestHub) -> usize {
    let (status, body) = api(
        hub,
        "csirt-analyst",
        reqwest::Method::GET,
        "/api/v1/audit/entries?limit=1000",
        None,
    )
    .await;
    assert_eq!(status, 200, "{body}");
    body["entries"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| {
            e["entry"]
                .as_str()
                .is_some_and(|t| t.contains("federation.witness.alarm"))
        })
        .count()
}

/// A partner log that shows two roots for one size (a fork), or a bigger checkpoint that is
/// not an extension of the one witnessed (a rewrite, with a proof consistent only with the
/// rewritten tree): the alarm is an audit entry, a line in `relais federation status`, exit 2
/// of `relais audit witness check`, and the end of witnessing that peer.
#[tokio::test]
async fn a_forked_or_rewritten_log_raises_the_alarm() {
    let hub = hub("w").await;
    let key = AuditKey::generate("scripted <log>", time::OffsetDateTime::now_utc()).unwrap();
    let mut ids: Vec<(PrincipalId, ScriptedPeer)> = Vec::new();
    let mut text = String::new();
    for name in ["forker", "rewriter"] {
        let fake = ScriptedPeer::default();
        let addr = fake.start().await;
        ids.push((fake_peer(&hub, name).await, fake));
        text.push_str(&format!(
            "[peers.\"Scripted/{name}\"]\nmax_tlp = \"clear\"\n[peers.\"Scripted/{name}\".ingress]\n{}\n",
            scripted_ingress(addr, "x", "")
        ));
    }
    set_policy(&hub, &text).await;
    let honest = leaves(9, "h");
    let mut rewritten = honest.clone();
    rewritten[1] = leaf_hash(b"an entry rewritten");

    // The fork: size 5 with one root, then size 5 with another.
    let (forker, fake) = &ids[0];
    fake.on(
        "/api/v1/audit/checkpoint",
        vec![
            signed("forker/audit", &honest[..5], &key),
            signed("forker/audit", &rewritten[..5], &key),
        ],
    );
    assert_eq!(
        hub.federation.witness_peer(forker).await.unwrap(),
        Round::Cosigned {
            size: 5,
            delivered: false
        }
    );
    assert_eq!(alarm_entries(&hub).await, 0);
    let round = hub.federation.witness_peer(forker).await.unwrap();
    assert!(
        matches!(&round, Round::Alarm(a) if a.contains("two different roots for size 5")),
        "{round:?}"
    );
    assert_eq!(alarm_entries(&hub).await, 1);
    // Witnessing stops: nothing more is asked of that log.
    let asked = fake.seen().len();
    assert!(matches!(
        hub.federation.witness_peer(forker).await.unwrap(),
        Round::Stopped(_)
    ));
    assert_eq!(fake.seen().len(), asked);

    // The rewrite: size 5, then size 9 of a tree whose second entry changed, with the proof
    // that tree gives.
    let (rewriter, fake) = &ids[1];
    fake.on(
        "/api/v1/audit/checkpoint",
        vec![
            signed("rewriter/audit", &honest[..5], &key),
            signed("rewriter/audit", &rewritten, &key),
        ],
    );
    fake.on(
        "/api/v1/audit/proofs/consistency",
        vec![proof(&rewritten, 5, 9)],
    );
    assert!(matches!(
        hub.federation.witness_peer(rewriter).await.unwrap(),
        Round::Cosigned { size: 5, .. }
    ));
    let round = hub.federation.witness_peer(rewriter).await.unwrap();
    assert!(
        matches!(&round, Round::Alarm(a) if a.contains("does not extend")),
        "{round:?}"
    );
    assert_eq!(alarm_entries(&hub).await, 2);

    // The operator sees it, and scripts get exit status 2.
    let out = hub
        .cli()
        .args(["audit", "witness", "check"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(text.matches("ALARM").count(), 2, "{text}");
    let out = hub.cli().args(["federation", "status"]).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("WITNESS ALARM"), "{text}");
    hub.shutdown().await;
}
