//! Victim cases end to end over real mTLS (issue 14): qualification, the fair shortlist and
//! its rotation, the beneficiary's choice through its link in headless Chromium, the package
//! decrypted by the provider with sequoia and with GnuPG, the answer, the journal, closure;
//! decline, conflict, an unanswered handoff, JHNO filtering, a suspended provider; and
//! provider B probing every endpoint with provider A's ids.

use std::collections::BTreeMap;
use std::time::Duration as StdDuration;

use relais::clock::{Clock, FixedClock};
use relais::crypto::envelope::decrypt_and_verify;
use relais::crypto::openpgp::{AuditKey, verify_cleartext};
use relais::services::secrets;
use reqwest::Method;
use serde_json::{Value, json};
use time::Duration;

use crate::common::webdriver::Browser;
use crate::common::{
    TestHub, api, demo_secret, driven_hub_on, have, new_case, not_run, succeed, today,
};

async fn get(hub: &TestHub, who: &str, path: &str) -> (u16, Value) {
    api(hub, who, Method::GET, path, None).await
}

async fn post(hub: &TestHub, who: &str, path: &str, body: Value) -> (u16, Value) {
    api(hub, who, Method::POST, path, Some(body)).await
}

/// A hub on a clock the test moves, whose handoff job looks every second.
async fn driven_hub() -> (TestHub, FixedClock) {
    driven_hub_on(None).await
}

/// As [`driven_hub`], on a PostgreSQL database of its own; None (the test says it did not
/// run) without `RELAIS_TEST_POSTGRES_URL`.
async fn driven_hub_on_postgres() -> Option<(TestHub, FixedClock)> {
    let pg = crate::common::PgDatabase::create().await?;
    Some(driven_hub_on(Some(pg)).await)
}

async fn org(hub: &TestHub, provider: &str) -> String {
    hub.principal_named(provider)
        .await
        .organisation_id
        .as_str()
        .to_owned()
}

async fn open(hub: &TestHub, body: Value) -> String {
    let (code, case) = post(hub, "csirt-analyst", "/api/v1/cases", body).await;
    assert_eq!(code, 201, "{case}");
    case["id"].as_str().unwrap().to_owned()
}

async fn shortlist(hub: &TestHub, case: &str) -> Value {
    let (code, list) = post(
        hub,
        "csirt-analyst",
        &format!("/api/v1/cases/{case}/shortlist"),
        json!({}),
    )
    .await;
    assert_eq!(code, 201, "{list}");
    list
}

fn proposed(list: &Value) -> Vec<String> {
    list["entries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["provider"].as_str().unwrap().to_owned())
        .collect()
}

/// Shortlists until `provider` is proposed (the rotation gets there within two draws of four).
async fn shortlist_with(hub: &TestHub, case: &str, provider: &str) -> Value {
    for _ in 0..4 {
        let list = shortlist(hub, case).await;
        if proposed(&list).iter().any(|p| p == provider) {
            return list;
        }
    }
    panic!("{provider} never proposed for {case}");
}

async fn choose(hub: &TestHub, case: &str, provider: &str) -> String {
    let (code, handoff) = post(
        hub,
        "csirt-analyst",
        &format!("/api/v1/cases/{case}/choice"),
        json!({"provider": provider, "channel": "phone"}),
    )
    .await;
    assert_eq!(code, 201, "{handoff}");
    handoff["id"].as_str().unwrap().to_owned()
}

async fn hub_signing_key(hub: &TestHub) -> AuditKey {
    let armored = hub
        .store
        .hub_secret(secrets::REGISTRY_KEY)
        .await
        .unwrap()
        .unwrap();
    AuditKey::from_armored_secret(&armored).unwrap()
}

/// The package decrypted with GnuPG, the provider's secret key and the hub's public key in a
/// keyring of its own: `gpg` must both decrypt and find a good signature.
fn gpg_decrypt(
    hub: &TestHub,
    package: &str,
    secret: &AuditKey,
    signer: &AuditKey,
) -> Option<Value> {
    if !have("gpg") {
        not_run("decrypting the handoff package with GnuPG: gpg missing");
        return None;
    }
    let home = tempfile::tempdir().unwrap();
    let _ = hub;
    let write = |name: &str, text: &str| {
        let path = home.path().join(name);
        std::fs::write(&path, text).unwrap();
        path
    };
    let secret_file = write("provider.asc", &secret.to_armored_secret().unwrap());
    let signer_file = write("hub.asc", &signer.public_armored().unwrap());
    let package_file = write("package.asc", package);
    let gpg = || {
        let mut cmd = std::process::Command::new("gpg");
        cmd.arg("--homedir")
            .arg(home.path())
            .args([
                "--batch",
                "--yes",
                "--pinentry-mode",
                "loopback",
                "--passphrase",
                "",
            ])
            // The hub runs a minute ahead of the system clock here: its key is "from the future".
            .arg("--ignore-time-conflict");
        cmd
    };
    succeed(gpg().arg("--import").arg(&secret_file));
    succeed(gpg().arg("--import").arg(&signer_file));
    let status = home.path().join("status.txt");
    let out = succeed(
        gpg()
            .arg("--status-file")
            .arg(&status)
            .arg("--trust-model")
            .arg("always")
            .arg("--decrypt")
            .arg(&package_file),
    );
    let status = String::from_utf8_lossy(&std::fs::read(status).unwrap()).into_owned();
    assert!(status.contains("[GNUPG:] GOODSIG"), "{status}");
    assert!(status.contains("[GNUPG:] DECRYPTION_OKAY"), "{status}");
    Some(serde_json::from_slice(&out.stdout).unwrap())
}

/// Qualification → shortlist of 3 of 4 → the beneficiary's choice in Chromium → the package
/// decrypted by the provider (sequoia, GnuPG) → accept → journal → closure → survey and REX.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_case_from_first_contact_to_closure() {
    let (hub, clock) = driven_hub().await;
    let mut body = new_case("CSIRT-RE-2026-0101", "given");
    body["services"] = json!(["analysis", "containment"]);
    body["notes"] = json!("Le maire attend un appel avant 18 h.");
    let case = open(&hub, body).await;
    let (_, opened) = get(&hub, "csirt-analyst", &format!("/api/v1/cases/{case}")).await;
    assert_eq!(opened["status"], "open");
    assert_eq!(opened["provider"], Value::Null);
    // Monday 2 November 2026, 10:00 on the island: business hours.
    assert_eq!(
        opened["qualification"]["outside_business_hours"], false,
        "{opened}"
    );

    let list = shortlist(&hub, &case).await;
    assert_eq!(list["entries"].as_array().unwrap().len(), 3, "{list}");
    assert_eq!(list["eligible"], 4);
    assert_eq!(list["short"], false);
    assert_eq!(list["seed"].as_str().unwrap().len(), 64);
    for e in list["entries"].as_array().unwrap() {
        assert!(e["reasons"].as_array().unwrap().len() >= 3, "{e}");
    }
    // Nobody learns of the case before the choice: not even the shortlisted providers.
    for p in ["provider-a", "provider-b", "provider-c", "provider-d"] {
        let (_, cases) = get(&hub, p, "/api/v1/cases").await;
        assert_eq!(cases, json!([]), "{p}");
        let (_, handoffs) = get(&hub, p, "/api/v1/handoffs").await;
        assert_eq!(handoffs, json!([]), "{p}");
    }
    // The stored shortlist replays to the same list from its seed and inputs.
    let (_, stored) = get(
        &hub,
        "csirt-analyst",
        &format!("/api/v1/cases/{case}/shortlists"),
    )
    .await;
    let recorded: relais::domain::cases::shortlist::Shortlist =
        serde_json::from_value(stored[0].clone()).unwrap();
    assert_eq!(
        relais::domain::cases::shortlist::replay(&recorded).unwrap(),
        recorded
    );

    // The beneficiary chooses through its link, in a browser, without a certificate.
    let (code, link) = post(
        &hub,
        "csirt-analyst",
        &format!("/api/v1/cases/{case}/choice-link"),
        json!({}),
    )
    .await;
    assert_eq!(code, 201, "{link}");
    let url = link["url"].as_str().unwrap().to_owned();
    let page_url = hub.public_url(&format!("/choose?{}", url.split('?').nth(1).unwrap()));
    let chosen = proposed(&list)[1].clone();
    let page = hub.client_with(None).get(&page_url).send().await.unwrap();
    assert_eq!(page.status().as_u16(), 200);
    let page = page.text().await.unwrap();
    // The directory's public fields only: nothing of the victim, the case or the facts.
    for secret in [
        "Saint-Leu",
        "CSIRT-RE-2026-0101",
        "chiffrés",
        "victim.re",
        "SRV-COMPTA",
        &case,
    ] {
        assert!(!page.contains(secret), "{secret} on the page");
    }
    assert!(page.contains(&format!("value=\"{chosen}\"")), "{page}");
    match Browser::start().await {
        Some(browser) => {
            browser.goto(&page_url).await;
            browser.click(&format!("input[value=\"{chosen}\"]")).await;
            browser.click("button[type=\"submit\"]").await;
            // The click starts the form's navigation; the new page comes when it comes.
            let mut answer = String::new();
            for _ in 0..100 {
                answer = browser.source().await;
                if answer.contains("votre choix est enregistré") {
                    break;
                }
                tokio::time::sleep(StdDuration::from_millis(100)).await;
            }
            assert!(answer.contains("votre choix est enregistré"), "{answer}");
            browser.quit().await;
        }
        None => {
            not_run(
                "the choice in headless Chromium: chromium or chromedriver missing; posting the form instead",
            );
            let token = url.split("token=").nth(1).unwrap();
            let resp = hub
                .client_with(None)
                .post(hub.public_url("/choose"))
                .header("content-type", "application/x-www-form-urlencoded")
                .body(format!("token={token}&provider={chosen}"))
                .send()
                .await
                .unwrap();
            assert_eq!(resp.status().as_u16(), 200);
        }
    }
    // Single use.
    let again = hub.client_with(None).get(&page_url).send().await.unwrap();
    assert_eq!(again.status().as_u16(), 409);

    let (_, handed) = get(&hub, "csirt-analyst", &format!("/api/v1/cases/{case}")).await;
    assert_eq!(handed["status"], "handed_off");
    assert_eq!(handed["provider"], chosen.as_str());
    let provider = ["provider-a", "provider-b", "provider-c", "provider-d"]
        .into_iter()
        .find(|p| futures_org(&hub, p) == chosen);
    let provider = match provider {
        Some(p) => p,
        None => {
            let mut found = None;
            for p in ["provider-a", "provider-b", "provider-c", "provider-d"] {
                if org(&hub, p).await == chosen {
                    found = Some(p);
                }
            }
            found.unwrap()
        }
    };
    // Now, and only now, the chosen provider sees its handoff; the others still see nothing.
    let (_, handoffs) = get(&hub, provider, "/api/v1/handoffs").await;
    let handoffs = handoffs.as_array().unwrap().clone();
    assert_eq!(handoffs.len(), 1);
    assert_eq!(handoffs[0]["channel"], "link");
    assert_eq!(handoffs[0]["status"], "pending");
    let handoff = handoffs[0]["id"].as_str().unwrap().to_owned();
    for other in ["provider-a", "provider-b", "provider-c", "provider-d"]
        .into_iter()
        .filter(|p| *p != provider)
    {
        let (_, h) = get(&hub, other, "/api/v1/handoffs").await;
        assert_eq!(h, json!([]), "{other}");
    }

    // The package: armored, for the provider's key and the CSIRT's, signed by the hub.
    let resp = hub
        .client(provider)
        .get(hub.url(&format!("/api/v1/handoffs/{handoff}/package")))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status().as_u16(), 200);
    assert_eq!(resp.headers()["content-type"], "application/pgp-encrypted");
    let package = resp.text().await.unwrap();
    assert!(package.starts_with("-----BEGIN PGP MESSAGE-----"));
    assert!(!package.contains("Saint-Leu"));
    let signer = hub_signing_key(&hub).await;
    let provider_key = demo_secret(&hub, provider);
    let plain = decrypt_and_verify(
        &provider_key,
        &signer.public_key(),
        package.as_bytes(),
        clock.now(),
    )
    .unwrap();
    let document: Value = serde_json::from_slice(&plain).unwrap();
    assert_eq!(document["type"], "relais-handoff");
    assert_eq!(document["case"]["reference"], "CSIRT-RE-2026-0101");
    assert_eq!(document["beneficiary"]["name"], "Mairie de Saint-Leu");
    assert_eq!(document["victim_identifiers"]["hostnames"][0], "srv-compta");
    assert_eq!(document["observables"]["type"], "bundle");
    assert_eq!(
        document["observables"]["objects"][0]["value"],
        "198.51.100.7"
    );
    assert_eq!(document["notes"], "Le maire attend un appel avant 18 h.");
    // The CSIRT's own key opens it too; another provider's does not.
    let csirt_key = demo_secret(&hub, "csirt");
    assert_eq!(
        decrypt_and_verify(
            &csirt_key,
            &signer.public_key(),
            package.as_bytes(),
            clock.now()
        )
        .unwrap(),
        plain
    );
    let stranger = ["provider-a", "provider-b"]
        .into_iter()
        .find(|p| *p != provider)
        .unwrap();
    assert!(
        decrypt_and_verify(
            &demo_secret(&hub, stranger),
            &signer.public_key(),
            package.as_bytes(),
            clock.now()
        )
        .is_err()
    );
    if let Some(by_gpg) = gpg_decrypt(&hub, &package, &provider_key, &signer) {
        assert_eq!(by_gpg, document);
    }

    // The journal is the provider's once it accepts.
    let journal = format!("/api/v1/cases/{case}/journal");
    let (code, _) = post(
        &hub,
        provider,
        &journal,
        json!({"kind": "action", "text": "x"}),
    )
    .await;
    assert_eq!(code, 409, "before accepting");
    let (code, answered) = post(
        &hub,
        provider,
        &format!("/api/v1/handoffs/{handoff}/answer"),
        json!({"answer": "accept"}),
    )
    .await;
    assert_eq!(code, 200, "{answered}");
    assert_eq!(answered["status"], "accepted");
    let (code, _) = post(
        &hub,
        provider,
        &format!("/api/v1/handoffs/{handoff}/answer"),
        json!({"answer": "decline", "reason": "unavailable"}),
    )
    .await;
    assert_eq!(code, 409, "answered once");
    let (_, progress) = get(&hub, provider, &format!("/api/v1/cases/{case}")).await;
    assert_eq!(progress["status"], "in_progress");
    assert!(progress.get("identifiers").is_none(), "{progress}");

    let digest = "a".repeat(64);
    for (who, entry) in [
        (
            provider,
            json!({"kind": "action", "text": "Isolement des serveurs de fichiers."}),
        ),
        (
            provider,
            json!({"kind": "finding", "text": "Accès initial par VPN sans MFA.", "attachments": [{"name": "vpn.log", "sha256": digest}]}),
        ),
        (
            "csirt-analyst",
            json!({"kind": "meeting", "text": "Point de suivi avec la mairie.", "participants": ["DGS", "CSIRT", "prestataire"]}),
        ),
        (
            provider,
            json!({"kind": "finding", "text": "Accès initial par VPN sans MFA, compte de service.", "corrects": 2}),
        ),
        (
            provider,
            json!({"kind": "decision", "text": "Réinstallation des postes."}),
        ),
    ] {
        let (code, e) = post(&hub, who, &journal, entry).await;
        assert_eq!(code, 201, "{e}");
    }
    let (code, j) = get(&hub, "csirt-analyst", &journal).await;
    assert_eq!(code, 200);
    assert_eq!(j["verified"], true);
    let entries = j["entries"].as_array().unwrap();
    assert_eq!(entries.len(), 5);
    assert_eq!(entries[3]["corrects"], 2);
    assert_eq!(entries[2]["author_name"], "csirt-analyst");
    assert_eq!(entries[1]["previous"], entries[0]["hash"]);
    assert_eq!(j["head"], entries[4]["hash"]);
    // Append only, down to the database.
    let broken = hub.store.journal(&case).await.unwrap();
    assert_eq!(broken.len(), 5);
    // The clear-signed copy the beneficiary keeps.
    let resp = hub
        .client(provider)
        .get(hub.url(&format!("{journal}/signed")))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status().as_u16(), 200);
    let signed = resp.text().await.unwrap();
    let (text, _) = verify_cleartext(&signer.public_key(), signed.as_bytes(), clock.now()).unwrap();
    assert!(text.contains("Case: CSIRT-RE-2026-0101"), "{text}");
    assert!(
        text.contains("#4 ") && text.contains("corrects #2"),
        "{text}"
    );
    if have("gpg") {
        let home = tempfile::tempdir().unwrap();
        let key = home.path().join("hub.asc");
        std::fs::write(&key, signer.public_armored().unwrap()).unwrap();
        let file = home.path().join("journal.asc");
        std::fs::write(&file, &signed).unwrap();
        succeed(
            std::process::Command::new("gpg")
                .arg("--homedir")
                .arg(home.path())
                .args(["--batch", "--ignore-time-conflict", "--import"])
                .arg(&key),
        );
        succeed(
            std::process::Command::new("gpg")
                .arg("--homedir")
                .arg(home.path())
                .args(["--batch", "--ignore-time-conflict", "--verify"])
                .arg(&file),
        );
    }

    // Closure by the provider: REX due 30 days after the end; the survey is issued, but its
    // link goes to the analysts, never to the provider it rates.
    let end = today(&hub);
    let (code, closed) = post(
        &hub,
        provider,
        &format!("/api/v1/cases/{case}/close"),
        json!({"end_date": end, "summary": "Service rendu."}),
    )
    .await;
    assert_eq!(code, 200, "{closed}");
    let end_date = time::Date::parse(
        &end,
        time::macros::format_description!("[year]-[month]-[day]"),
    )
    .unwrap();
    let due = end_date + Duration::days(30);
    assert_eq!(closed["closure"]["rex_due"], due.to_string());
    assert!(closed.get("survey_url").is_none(), "{closed}");
    assert!(closed["survey_expires_at"].is_string(), "{closed}");
    let (code, _) = post(
        &hub,
        provider,
        &journal,
        json!({"kind": "action", "text": "après"}),
    )
    .await;
    assert_eq!(code, 409, "the journal closes with the case");
    let (code, survey) = post(
        &hub,
        "csirt-analyst",
        &format!("/api/v1/cases/{case}/survey"),
        json!({}),
    )
    .await;
    assert_eq!(code, 201, "{survey}");
    let form = hub
        .client_with(None)
        .get(hub.public_url(&format!(
            "/survey?{}",
            survey["url"].as_str().unwrap().split('?').nth(1).unwrap()
        )))
        .send()
        .await
        .unwrap();
    assert_eq!(form.status().as_u16(), 200);
    let (_, final_view) = get(&hub, "csirt-analyst", &format!("/api/v1/cases/{case}")).await;
    assert_eq!(final_view["status"], "closed");
    assert_eq!(final_view["closure"]["provider"], chosen.as_str());
    hub.shutdown().await;
}

/// A provider's org id without awaiting: only for the lookup above, which falls back to the
/// awaited one.
fn futures_org(_hub: &TestHub, _provider: &str) -> String {
    String::new()
}

/// Thirty cases with the same needs: every provider is equally eligible, and the rotation
/// keeps their proposals within one of each other.
#[tokio::test]
async fn the_rotation_is_fair_over_thirty_cases() {
    let (hub, _clock) = driven_hub().await;
    let mut counts: BTreeMap<String, usize> = BTreeMap::new();
    for n in 0..30 {
        let case = open(&hub, new_case(&format!("CSIRT-RE-2026-R{n:02}"), "pending")).await;
        let list = shortlist(&hub, &case).await;
        assert_eq!(list["entries"].as_array().unwrap().len(), 3);
        for p in proposed(&list) {
            *counts.entry(p).or_default() += 1;
        }
        let max = counts.values().max().copied().unwrap_or(0);
        let min = if counts.len() < 4 {
            0
        } else {
            counts.values().min().copied().unwrap_or(0)
        };
        assert!(max - min <= 1, "after {} cases: {counts:?}", n + 1);
    }
    assert_eq!(counts.values().sum::<usize>(), 90);
    assert!(counts.values().all(|c| (22..=23).contains(c)), "{counts:?}");
    hub.shutdown().await;
}

/// Decline (unavailable) and conflict of interest: each sends the case back to the choice;
/// the provider that declined no longer sees the case; a conflict keeps the provider off
/// this beneficiary's shortlists for good, on any later case.
#[tokio::test]
async fn decline_and_conflict_send_the_case_back_to_the_choice() {
    let (hub, clock) = driven_hub().await;
    decline_and_conflict(hub, clock).await;
}

#[tokio::test]
async fn decline_and_conflict_send_the_case_back_to_the_choice_on_postgres() {
    let Some((hub, clock)) = driven_hub_on_postgres().await else {
        return;
    };
    decline_and_conflict(hub, clock).await;
}

async fn decline_and_conflict(hub: TestHub, _clock: FixedClock) {
    let a = org(&hub, "provider-a").await;
    let b = org(&hub, "provider-b").await;
    let case = open(&hub, new_case("CSIRT-RE-2026-0201", "pending")).await;
    shortlist_with(&hub, &case, &a).await;
    let handoff = choose(&hub, &case, &a).await;
    let (code, _) = get(&hub, "provider-a", &format!("/api/v1/cases/{case}")).await;
    assert_eq!(code, 200);
    let (code, declined) = post(
        &hub,
        "provider-a",
        &format!("/api/v1/handoffs/{handoff}/answer"),
        json!({"answer": "decline", "reason": "unavailable", "note": "équipe en mission"}),
    )
    .await;
    assert_eq!(code, 200, "{declined}");
    assert_eq!(declined["reason"], "unavailable");
    let (_, back) = get(&hub, "csirt-analyst", &format!("/api/v1/cases/{case}")).await;
    assert_eq!(back["status"], "shortlisted");
    assert_eq!(back["provider"], Value::Null);
    // A no longer sees the case, nor fetches the package; its own answer stays in its list.
    let (code, _) = get(&hub, "provider-a", &format!("/api/v1/cases/{case}")).await;
    assert_eq!(code, 404);
    let (code, _) = get(
        &hub,
        "provider-a",
        &format!("/api/v1/handoffs/{handoff}/package"),
    )
    .await;
    assert_eq!(code, 404);
    let (_, own) = get(&hub, "provider-a", "/api/v1/handoffs").await;
    assert_eq!(own[0]["status"], "declined");
    // The beneficiary cannot be handed to A again on this case.
    let (code, p) = post(
        &hub,
        "csirt-analyst",
        &format!("/api/v1/cases/{case}/choice"),
        json!({"provider": a, "channel": "phone"}),
    )
    .await;
    assert_eq!(code, 409, "{p}");
    let list = shortlist(&hub, &case).await;
    assert!(!proposed(&list).contains(&a), "{list}");

    // B declares a conflict of interest with this beneficiary.
    let list = if proposed(&list).contains(&b) {
        list
    } else {
        shortlist_with(&hub, &case, &b).await
    };
    assert!(proposed(&list).contains(&b));
    let handoff = choose(&hub, &case, &b).await;
    let (code, conflict) = post(
        &hub,
        "provider-b",
        &format!("/api/v1/handoffs/{handoff}/answer"),
        json!({"answer": "conflict", "note": "client historique"}),
    )
    .await;
    assert_eq!(code, 200, "{conflict}");
    assert_eq!(conflict["status"], "conflict");
    let (_, history) = get(
        &hub,
        "csirt-analyst",
        &format!("/api/v1/registry/providers/{b}/history"),
    )
    .await;
    assert!(
        history
            .to_string()
            .contains("conflict of interest declared on case"),
        "{history}"
    );
    // Left out of any later shortlist for the same beneficiary, whatever the case, and said so.
    let later = open(&hub, new_case("CSIRT-RE-2026-0202", "pending")).await;
    for _ in 0..3 {
        let list = shortlist(&hub, &later).await;
        assert!(!proposed(&list).contains(&b), "{list}");
        let why = list["excluded"]
            .as_array()
            .unwrap()
            .iter()
            .find(|e| e["provider"] == b.as_str())
            .unwrap();
        assert_eq!(why["reasons"][0]["reason"], "conflict_of_interest", "{why}");
        // Two eligible are left of four: the list says it is short.
    }
    // Another beneficiary is not affected.
    let mut other = new_case("CSIRT-RE-2026-0203", "pending");
    other["beneficiary"]["name"] = json!("Association Kaz Ansanm");
    let other = open(&hub, other).await;
    let mut seen_b = false;
    for _ in 0..3 {
        seen_b |= proposed(&shortlist(&hub, &other).await).contains(&b);
    }
    assert!(seen_b);
    hub.shutdown().await;
}

/// A handoff nobody answers within `cases.answer_within` is flagged for the analysts, once.
#[tokio::test]
async fn an_unanswered_handoff_is_flagged() {
    let (hub, clock) = driven_hub().await;
    unanswered_handoff(hub, clock).await;
}

#[tokio::test]
async fn an_unanswered_handoff_is_flagged_on_postgres() {
    let Some((hub, clock)) = driven_hub_on_postgres().await else {
        return;
    };
    unanswered_handoff(hub, clock).await;
}

async fn unanswered_handoff(hub: TestHub, clock: FixedClock) {
    let a = org(&hub, "provider-a").await;
    let case = open(&hub, new_case("CSIRT-RE-2026-0301", "pending")).await;
    shortlist_with(&hub, &case, &a).await;
    let handoff = choose(&hub, &case, &a).await;
    let (_, view) = get(&hub, "csirt-analyst", &format!("/api/v1/cases/{case}")).await;
    assert!(view.get("attention").is_none(), "{view}");
    clock.advance(Duration::hours(4) + Duration::seconds(1));
    let mut flagged = false;
    for _ in 0..50 {
        let (_, handoffs) = get(&hub, "csirt-analyst", "/api/v1/handoffs").await;
        let h = handoffs
            .as_array()
            .unwrap()
            .iter()
            .find(|h| h["id"] == handoff.as_str())
            .unwrap()
            .clone();
        if h["overdue"] == true {
            let size = hub.store.audit_size().await.unwrap();
            let entries = hub
                .store
                .audit_entries(size.saturating_sub(1000), 1000, None)
                .await
                .unwrap();
            if entries
                .iter()
                .any(|e| String::from_utf8_lossy(&e.entry).contains("case.handoff_overdue"))
            {
                flagged = true;
                break;
            }
        }
        tokio::time::sleep(StdDuration::from_millis(200)).await;
    }
    assert!(flagged, "the job flagged the handoff");
    let (_, view) = get(&hub, "csirt-analyst", &format!("/api/v1/cases/{case}")).await;
    assert!(
        view["attention"][0].as_str().unwrap().contains(&handoff),
        "{view}"
    );
    // The provider sees its overdue handoff, not the analysts' attention list.
    let (_, seen) = get(&hub, "provider-a", &format!("/api/v1/cases/{case}")).await;
    assert!(seen.get("attention").is_none(), "{seen}");
    // The analysts take it back: the case returns to the choice, A loses sight of it, and
    // its late answer is refused.
    let (code, p) = post(
        &hub,
        "provider-a",
        &format!("/api/v1/handoffs/{handoff}/withdraw"),
        json!({"reason": "x"}),
    )
    .await;
    assert_eq!(code, 403, "{p}");
    let (code, w) = post(
        &hub,
        "csirt-analyst",
        &format!("/api/v1/handoffs/{handoff}/withdraw"),
        json!({"reason": "pas de réponse sous 4 h"}),
    )
    .await;
    assert_eq!(code, 200, "{w}");
    assert_eq!(w["status"], "withdrawn");
    let (_, back) = get(&hub, "csirt-analyst", &format!("/api/v1/cases/{case}")).await;
    assert_eq!(back["status"], "shortlisted");
    let (code, _) = get(&hub, "provider-a", &format!("/api/v1/cases/{case}")).await;
    assert_eq!(code, 404);
    let (code, _) = post(
        &hub,
        "provider-a",
        &format!("/api/v1/handoffs/{handoff}/answer"),
        json!({"answer": "accept"}),
    )
    .await;
    assert_eq!(code, 409);
    let (code, _) = get(
        &hub,
        "provider-a",
        &format!("/api/v1/handoffs/{handoff}/package"),
    )
    .await;
    assert_eq!(code, 404);
    let list = shortlist(&hub, &case).await;
    assert!(!proposed(&list).contains(&a), "{list}");
    hub.shutdown().await;
}

/// An incident reported on a Saturday needs JHNO: only providers that offer every needed
/// service outside business hours are proposed, and the answer says the list is short.
/// A suspended provider is never proposed.
#[tokio::test]
async fn a_saturday_incident_is_shortlisted_among_jhno_providers_only() {
    let (hub, _clock) = driven_hub().await;
    let a = org(&hub, "provider-a").await;
    let c = org(&hub, "provider-c").await;
    let mut body = new_case("CSIRT-RE-2026-0401", "pending");
    // Saturday 7 November 2026, 09:00 on the island (05:00 UTC).
    body["incident"]["started_at"] = json!("2026-11-07T03:00:00Z");
    body["incident"]["detected_at"] = json!("2026-11-07T04:30:00Z");
    body["incident"]["reported_at"] = json!("2026-11-07T05:00:00Z");
    body["services"] = json!(["qualification", "containment"]);
    let case = open(&hub, body).await;
    let (_, view) = get(&hub, "csirt-analyst", &format!("/api/v1/cases/{case}")).await;
    assert_eq!(view["qualification"]["outside_business_hours"], true);
    let list = shortlist(&hub, &case).await;
    let mut names = proposed(&list);
    names.sort();
    let mut expected = vec![a.clone(), c.clone()];
    expected.sort();
    assert_eq!(names, expected, "{list}");
    assert_eq!(list["short"], true);
    assert_eq!(list["eligible"], 2);
    assert_eq!(
        list["excluded"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|e| e["reasons"][0]["reason"] == "not_outside_business_hours")
            .count(),
        2,
        "{list}"
    );

    // Suspend C: it is never proposed again, whatever the draw.
    let (code, p) = post(
        &hub,
        "csirt-analyst",
        &format!("/api/v1/registry/providers/{c}/transitions"),
        json!({"event": "suspend", "reason": "audit"}),
    )
    .await;
    assert_eq!(code, 200, "{p}");
    for _ in 0..4 {
        let list = shortlist(&hub, &case).await;
        assert_eq!(proposed(&list), std::slice::from_ref(&a), "{list}");
    }
    hub.shutdown().await;
}

/// Provider B probes every case endpoint with provider A's ids and with ids that never
/// existed: the answers are the same, status and body. (The IDOR class behind the DFIR-IRIS
/// and OpenCTI access-control advisories: a record's id is not a permission.)
#[tokio::test]
async fn provider_b_learns_nothing_from_provider_a_case_ids() {
    let (hub, _clock) = driven_hub().await;
    let a = org(&hub, "provider-a").await;
    let case = open(&hub, new_case("CSIRT-RE-2026-0501", "given")).await;
    shortlist_with(&hub, &case, &a).await;
    let handoff = choose(&hub, &case, &a).await;
    let (code, _) = post(
        &hub,
        "provider-a",
        &format!("/api/v1/handoffs/{handoff}/answer"),
        json!({"answer": "accept"}),
    )
    .await;
    assert_eq!(code, 200);
    let (code, _) = post(
        &hub,
        "provider-a",
        &format!("/api/v1/cases/{case}/journal"),
        json!({"kind": "action", "text": "Isolement."}),
    )
    .await;
    assert_eq!(code, 201);
    let random_case = format!("case--{}", uuid::Uuid::new_v4());
    let random_handoff = format!("handoff--{}", uuid::Uuid::new_v4());
    let probes = |c: &str, h: &str| -> Vec<(Method, String, Option<Value>)> {
        vec![
            (Method::GET, format!("/api/v1/cases/{c}"), None),
            (
                Method::PUT,
                format!("/api/v1/cases/{c}/consent"),
                Some(json!({"consent": "withdrawn"})),
            ),
            (
                Method::POST,
                format!("/api/v1/cases/{c}/shortlist"),
                Some(json!({})),
            ),
            (Method::GET, format!("/api/v1/cases/{c}/shortlists"), None),
            (
                Method::POST,
                format!("/api/v1/cases/{c}/choice"),
                Some(json!({"provider": "x", "channel": "phone"})),
            ),
            (
                Method::POST,
                format!("/api/v1/cases/{c}/choice-link"),
                Some(json!({})),
            ),
            (Method::GET, format!("/api/v1/cases/{c}/journal"), None),
            (
                Method::POST,
                format!("/api/v1/cases/{c}/journal"),
                Some(json!({"kind": "action", "text": "x"})),
            ),
            (
                Method::GET,
                format!("/api/v1/cases/{c}/journal/signed"),
                None,
            ),
            (
                Method::POST,
                format!("/api/v1/cases/{c}/close"),
                Some(json!({"end_date": "2026-11-02"})),
            ),
            (
                Method::POST,
                format!("/api/v1/cases/{c}/disputes"),
                Some(json!({"raised_by": "provider", "summary": "x"})),
            ),
            (
                Method::POST,
                format!("/api/v1/cases/{c}/disputes/1/outcome"),
                Some(json!({"outcome": "x"})),
            ),
            (
                Method::POST,
                format!("/api/v1/cases/{c}/survey"),
                Some(json!({})),
            ),
            (Method::GET, format!("/api/v1/handoffs/{h}/package"), None),
            (
                Method::POST,
                format!("/api/v1/handoffs/{h}/answer"),
                Some(json!({"answer": "accept"})),
            ),
            (
                Method::POST,
                format!("/api/v1/handoffs/{h}/withdraw"),
                Some(json!({"reason": "x"})),
            ),
        ]
    };
    let real = probes(&case, &handoff);
    let fake = probes(&random_case, &random_handoff);
    for (who, (r, f)) in ["provider-b", "partner-csirt"]
        .iter()
        .flat_map(|w| real.iter().zip(fake.iter()).map(move |p| (*w, p)))
    {
        let (rs, rb) = api(&hub, who, r.0.clone(), &r.1, r.2.clone()).await;
        let (fs, fb) = api(&hub, who, f.0.clone(), &f.1, f.2.clone()).await;
        assert_eq!(rs, fs, "{who} {} {}: {rb} vs {fb}", r.0, r.1);
        let strip = |v: &Value| {
            v.to_string()
                .replace(&case, "ID")
                .replace(&random_case, "ID")
                .replace(&handoff, "ID")
                .replace(&random_handoff, "ID")
        };
        assert_eq!(strip(&rb), strip(&fb), "{who} {} {}", r.0, r.1);
        assert!(!rb.to_string().contains("Saint-Leu"), "{rb}");
        assert!(rs == 403 || rs == 404, "{who} {} {}: {rs}", r.0, r.1);
    }
    // Lists name nothing of it either.
    for who in ["provider-b", "partner-csirt"] {
        for path in ["/api/v1/cases", "/api/v1/handoffs"] {
            let (_, list) = get(&hub, who, path).await;
            assert_eq!(list, json!([]), "{who} {path}");
        }
    }
    // And A itself, for a case id that is not its own, meets the same wall.
    let (code, _) = get(&hub, "provider-a", &format!("/api/v1/cases/{random_case}")).await;
    assert_eq!(code, 404);
    hub.shutdown().await;
}
