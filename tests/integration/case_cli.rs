//! `relais case …` as an analyst runs it against a running hub: the whole walk of a case from
//! first contact to closure through the CLI (the provider's answer over HTTPS in between), and
//! the hub's refusals arriving as one line, the same for the CLI as for the API.

use std::io::Write as _;
use std::process::{Command, Output, Stdio};

use serde_json::{Value, json};

use crate::common::{TestHub, spawn_hub};

/// `relais --data HUB case --hub URL ARGS…`, run off the runtime's threads: the hub it talks
/// to runs on them.
async fn case(hub: &TestHub, args: &[&str], stdin: Option<Vec<u8>>) -> Output {
    let mut cmd = hub.cli();
    cmd.arg("case").arg("--hub").arg(hub.url("")).args(args);
    run(cmd, stdin).await
}

async fn run(mut cmd: Command, stdin: Option<Vec<u8>>) -> Output {
    tokio::task::spawn_blocking(move || {
        let Some(input) = stdin else {
            return cmd.output().unwrap();
        };
        let mut child = cmd
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        child.stdin.take().unwrap().write_all(&input).unwrap();
        child.wait_with_output().unwrap()
    })
    .await
    .unwrap()
}

async fn ok(hub: &TestHub, args: &[&str]) -> String {
    let out = case(hub, args, None).await;
    assert!(
        out.status.success(),
        "relais case {args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

/// A refusal: a non-zero exit, nothing on stdout, one line on stderr, which is returned.
fn refused(out: &Output, what: &str) -> String {
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(!out.status.success(), "{what} succeeded: {stderr}");
    assert!(
        out.stdout.is_empty(),
        "{what}: {}",
        String::from_utf8_lossy(&out.stdout)
    );
    assert_eq!(stderr.lines().count(), 1, "{what}: {stderr}");
    assert!(!stderr.contains('<'), "{what}: {stderr}");
    stderr.trim_end().to_owned()
}

fn new_case(reference: &str) -> Value {
    json!({
        "reference": reference,
        "beneficiary": {
            "name": "Mairie de Saint-Leu",
            "kind": "local_authority",
            "sector": "administration",
            "size": "sme",
            "commune": "Saint-Leu"
        },
        "incident": {
            "category": "ransomware",
            "severity": 3,
            // A Tuesday morning on the hub's calendar: business hours, so every demo
            // provider's offer counts.
            "started_at": "2026-12-01T06:30:00+04:00",
            "detected_at": "2026-12-01T08:00:00+04:00",
            "reported_at": "2026-12-01T09:15:00+04:00"
        },
        "facts": "Fichiers chiffrés sur le serveur de fichiers, note de rançon.",
        "observables": [{
            "type": "ipv4-addr",
            "spec_version": "2.1",
            "id": format!("ipv4-addr--{}", uuid::Uuid::new_v4()),
            "value": "198.51.100.7"
        }],
        "services": ["analysis", "containment"],
        "identifiers": {"domains": ["saint-leu.example"]},
        "consent": "pending"
    })
}

/// The demo principal of a demo provider organisation.
fn demo_principal(organisation: &str) -> &'static str {
    match organisation {
        "Provider A (demo)" => "provider-a",
        "Provider B (demo)" => "provider-b",
        "Provider C (demo)" => "provider-c",
        "Provider D (demo)" => "provider-d",
        other => panic!("not a demo provider: {other}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_case_from_first_contact_to_closure() {
    let hub = spawn_hub().await;
    let work = tempfile::tempdir().unwrap();
    let file = work.path().join("case.json");
    std::fs::write(&file, new_case("CSIRT-RE-2026-CLI1").to_string()).unwrap();
    let file = file.to_str().unwrap();

    // Open: the id first, then the case.
    let out = ok(&hub, &["open", "--file", file]).await;
    let (id, rest) = out.split_once('\n').unwrap();
    assert!(id.starts_with("case--"), "{out}");
    let opened: Value = serde_json::from_str(rest).unwrap();
    assert_eq!(opened["id"], id);
    assert_eq!(opened["status"], "open");
    let today = relais::domain::registry::calendar::local(
        time::OffsetDateTime::parse(
            opened["created_at"].as_str().unwrap(),
            &time::format_description::well_known::Rfc3339,
        )
        .unwrap(),
    )
    .date()
    .to_string();

    let list = ok(&hub, &["show"]).await;
    assert!(
        list.lines()
            .any(|l| l == format!("{id}\tCSIRT-RE-2026-CLI1\topen\t-")),
        "{list}"
    );
    let shown: Value = serde_json::from_str(&ok(&hub, &["show", id]).await).unwrap();
    assert_eq!(shown["reference"], "CSIRT-RE-2026-CLI1");

    // Shortlist: three demo providers, ranked, with their reasons.
    let list = ok(&hub, &["shortlist", id]).await;
    let entries: Vec<Vec<&str>> = list
        .lines()
        .filter(|l| l.starts_with(|c: char| c.is_ascii_digit()))
        .map(|l| l.split('\t').collect())
        .collect();
    assert_eq!(entries.len(), 3, "{list}");
    assert_eq!(entries[0][0], "1");
    assert!(
        entries.iter().all(|e| e.len() == 4 && !e[3].is_empty()),
        "{list}"
    );
    assert!(list.contains("short: no"), "{list}");
    assert!(
        list.lines()
            .any(|l| l.starts_with("seed: ") && l.len() == 6 + 64),
        "{list}"
    );
    let (name, provider) = (entries[0][1], entries[0][2]);

    // The choice hands the case over: the handoff id first.
    let out = ok(
        &hub,
        &["choose", id, "--provider", provider, "--channel", "phone"],
    )
    .await;
    let handoff = out.lines().next().unwrap();
    assert!(out.contains("answer due "), "{out}");
    let handoffs = ok(&hub, &["handoff", id]).await;
    let line: Vec<&str> = handoffs
        .lines()
        .find(|l| l.starts_with(handoff))
        .unwrap_or_else(|| panic!("{handoffs}"))
        .split('\t')
        .collect();
    assert_eq!(line[1..4], [provider, "pending", "in time"], "{handoffs}");
    let package = work.path().join("package.asc");
    ok(
        &hub,
        &[
            "handoff",
            id,
            "--package",
            handoff,
            "--out",
            package.to_str().unwrap(),
        ],
    )
    .await;
    assert!(
        std::fs::read_to_string(&package)
            .unwrap()
            .starts_with("-----BEGIN PGP MESSAGE-----")
    );

    // The chosen provider accepts, as its own client of the API.
    let answered = hub
        .client(demo_principal(name))
        .post(hub.url(&format!("/api/v1/handoffs/{handoff}/answer")))
        .json(&json!({"answer": "accept"}))
        .send()
        .await
        .unwrap();
    assert_eq!(answered.status(), 200, "{}", answered.text().await.unwrap());
    assert!(ok(&hub, &["handoff", id]).await.contains("\taccepted\t"));

    // The journal: an entry appended, read back with its chain, signed in clear.
    let digest = "a".repeat(64);
    let attachment = format!("compte-rendu.txt={digest}");
    let out = ok(
        &hub,
        &[
            "journal",
            id,
            "--add",
            "--kind",
            "meeting",
            "--text",
            "Point de situation avec la mairie.",
            "--participant",
            "Marie Payet",
            "--attachment",
            &attachment,
        ],
    )
    .await;
    assert!(out.starts_with('#'), "{out}");
    let journal = ok(&hub, &["journal", id]).await;
    assert!(journal.contains("\tmeeting\t"), "{journal}");
    assert!(
        journal.contains("    Point de situation avec la mairie."),
        "{journal}"
    );
    assert!(journal.contains("participants: Marie Payet"), "{journal}");
    assert!(
        journal.contains(&format!("compte-rendu.txt sha256:{digest}")),
        "{journal}"
    );
    assert!(journal.contains("chain verified"), "{journal}");
    let signed = work.path().join("journal.asc");
    ok(
        &hub,
        &["journal", id, "--signed", "--out", signed.to_str().unwrap()],
    )
    .await;
    let text = std::fs::read_to_string(&signed).unwrap();
    assert!(
        text.starts_with("-----BEGIN PGP SIGNED MESSAGE-----"),
        "{text}"
    );
    assert!(
        text.contains("Point de situation avec la mairie."),
        "{text}"
    );

    // Closure: the REX is due 30 days after the service ended, the survey link is the
    // analyst's to send.
    let out = ok(
        &hub,
        &[
            "close",
            id,
            "--end-date",
            &today,
            "--summary",
            "Confinement et analyse",
        ],
    )
    .await;
    assert!(out.contains(&format!("service ended {today}")), "{out}");
    assert!(out.lines().any(|l| l.starts_with("REX due 20")), "{out}");
    assert!(
        out.lines().any(|l| l.starts_with("survey https://")),
        "{out}"
    );
    let shown: Value = serde_json::from_str(&ok(&hub, &["show", id]).await).unwrap();
    assert_eq!(shown["status"], "closed");
    hub.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn refusals_are_the_hubs_in_one_line() {
    let hub = spawn_hub().await;
    // From standard input.
    let out = case(
        &hub,
        &["open", "--file", "-"],
        Some(new_case("CSIRT-RE-2026-CLI2").to_string().into_bytes()),
    )
    .await;
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let stdout = String::from_utf8(out.stdout).unwrap();
    let id = stdout.lines().next().unwrap();

    // The same reference twice: the hub's conflict.
    let again = case(
        &hub,
        &["open", "--file", "-"],
        Some(new_case("CSIRT-RE-2026-CLI2").to_string().into_bytes()),
    )
    .await;
    let line = refused(&again, "a duplicate");
    assert!(line.starts_with("relais: 409 "), "{line}");

    let line = refused(
        &case(&hub, &["show", "case--does-not-exist"], None).await,
        "show",
    );
    assert!(line.starts_with("relais: 404 "), "{line}");

    // No shortlist yet.
    let line = refused(
        &case(
            &hub,
            &[
                "choose",
                id,
                "--provider",
                "org--nobody",
                "--channel",
                "email",
            ],
            None,
        )
        .await,
        "a choice without a shortlist",
    );
    assert!(line.starts_with("relais: 409 Conflict: "), "{line}");

    // A provider's certificate meets the API's rule: only analysts draw shortlists.
    let provider = hub.demo_files("provider-a");
    let mut cmd = hub.cli();
    cmd.arg("case")
        .arg("--hub")
        .arg(hub.url(""))
        .arg("--cert")
        .arg(&provider.cert)
        .arg("--key")
        .arg(&provider.key)
        .args(["shortlist", id]);
    let line = refused(&run(cmd, None).await, "a provider's shortlist");
    assert!(line.starts_with("relais: 403 "), "{line}");
    // …and the case was left as it was.
    let shown: Value = serde_json::from_str(&ok(&hub, &["show", id]).await).unwrap();
    assert_eq!(shown["status"], "open");

    // Nothing listens there: the message names the URL.
    let mut cmd = hub.cli();
    cmd.args(["case", "show", "--hub", "https://127.0.0.1:1"]);
    let line = refused(&run(cmd, None).await, "an unreachable hub");
    assert!(
        line.starts_with("relais: cannot reach https://127.0.0.1:1/api/v1/cases: "),
        "{line}"
    );

    // A file that is not there, and a plain-HTTP URL, are refused before any request.
    let line = refused(
        &case(&hub, &["open", "--file", "/nonexistent/case.json"], None).await,
        "a missing file",
    );
    assert!(line.contains("/nonexistent/case.json"), "{line}");
    let mut cmd = hub.cli();
    cmd.args([
        "case",
        "show",
        "--hub",
        &hub.url("").replace("https", "http"),
    ]);
    let line = refused(&run(cmd, None).await, "http://");
    assert!(line.contains("https://"), "{line}");
    hub.shutdown().await;
}
