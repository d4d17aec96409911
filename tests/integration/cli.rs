//! The command line as a user runs it: `relais serve` on a fresh directory, `relais pki …`
//! against a running hub, and the one-line refusals of bad configuration.

use std::io::{BufRead, BufReader};
use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use relais::domain::principal::PrincipalKind;
use relais::pki::CertificateAuthority;
use relais::pki::ca::ClientUsage;
use serde_json::Value;
use time::OffsetDateTime;

use crate::common::{
    self, Credential, HubOptions, have, https_client, spawn_hub, spawn_hub_with, subject, succeed,
};

fn relais(cwd: &Path) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_relais"));
    cmd.current_dir(cwd);
    for (name, _) in std::env::vars() {
        if name.starts_with("RELAIS_") || name == "RUST_LOG" {
            cmd.env_remove(name);
        }
    }
    cmd
}

/// A `relais serve` child process, killed if the test fails half-way. Its logs go to a file
/// rather than a pipe, so that a chatty hub can never block on a full pipe.
struct Served {
    child: Child,
    stdout: Vec<String>,
    log: std::path::PathBuf,
}

impl Served {
    fn logs(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }
}

impl Drop for Served {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Starts `relais serve` in `cwd` on free ports and reads its first screen.
fn serve(cwd: &Path, extra_env: &[(&str, &str)]) -> Served {
    let log = cwd.join(format!("serve-{}.log", uuid::Uuid::new_v4()));
    let mut cmd = relais(cwd);
    cmd.arg("serve")
        .env("RELAIS_LISTEN_MAIN", "127.0.0.1:0")
        .env("RELAIS_LISTEN_PUBLIC", "127.0.0.1:0")
        .env("RELAIS_LOG_FORMAT", "json")
        .stdout(Stdio::piped())
        .stderr(std::fs::File::create(&log).unwrap());
    for (k, v) in extra_env {
        cmd.env(k, v);
    }
    let mut child = cmd.spawn().unwrap();
    let stdout = child.stdout.take().unwrap();
    let mut lines = Vec::new();
    let mut reader = BufReader::new(stdout);
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let mut line = String::new();
        let n = reader.read_line(&mut line).unwrap();
        assert!(
            n > 0 && Instant::now() < deadline,
            "serve ended early: {lines:?}"
        );
        let done = line.starts_with("Stop with ctrl-c");
        lines.push(line.trim_end().to_owned());
        if done {
            break;
        }
    }
    Served {
        child,
        stdout: lines,
        log,
    }
}

fn stop(mut served: Served) -> String {
    let pid = served.child.id().to_string();
    assert!(
        Command::new("kill")
            .args(["-TERM", &pid])
            .status()
            .unwrap()
            .success()
    );
    let deadline = Instant::now() + Duration::from_secs(20);
    let status = loop {
        if let Some(status) = served.child.try_wait().unwrap() {
            break status;
        }
        assert!(Instant::now() < deadline, "relais did not stop on SIGTERM");
        std::thread::sleep(Duration::from_millis(50));
    };
    assert!(
        status.success(),
        "relais exited with {status} on SIGTERM; its log:\n{}",
        served.logs()
    );
    served.logs()
}

fn curl_line(stdout: &[String]) -> String {
    stdout
        .iter()
        .find(|l| l.trim_start().starts_with("curl "))
        .expect("the first screen prints a curl command")
        .trim()
        .to_owned()
}

#[test]
fn first_run_creates_everything_and_the_printed_curl_command_works() {
    let cwd = tempfile::tempdir().unwrap();
    let served = serve(cwd.path(), &[]);
    let curl = curl_line(&served.stdout);
    assert!(curl.contains("relais-data/certs/ca.pem"), "{curl}");
    assert!(curl.contains("/api/v1/whoami"));

    let data = cwd.path().join("relais-data");
    for file in [
        "relais.toml",
        "relais.db",
        "certs/ca.pem",
        "certs/server.pem",
        "certs/crl.pem",
    ] {
        assert!(data.join(file).exists(), "{file} missing");
    }
    for name in ["csirt-analyst", "provider-a", "provider-b", "partner-csirt"] {
        for suffix in [".pem", "-key.pem", ".p12"] {
            assert!(data.join(format!("certs/demo/{name}{suffix}")).exists());
        }
        let mode = std::fs::metadata(data.join(format!("certs/demo/{name}-key.pem")))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);
    }
    for key in ["certs/ca-key.pem", "certs/server-key.pem"] {
        let mode = std::fs::metadata(data.join(key))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600, "{key}");
    }

    if have("curl") {
        // Exactly the command a new user copies from the screen.
        let out = Command::new("sh")
            .arg("-c")
            .arg(format!("{curl} --silent --show-error"))
            .current_dir(cwd.path())
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{curl}: {}\nhub log:\n{}",
            String::from_utf8_lossy(&out.stderr),
            served.logs()
        );
        let body: Value = serde_json::from_slice(&out.stdout).unwrap();
        assert_eq!(body["name"], "csirt-analyst");
        assert_eq!(body["kind"], "analyst");

        // curl without a client certificate gets no further than the handshake.
        let main = curl.split_whitespace().last().unwrap().to_owned();
        let out = Command::new("curl")
            .args(["--silent", "--cacert", "relais-data/certs/ca.pem", &main])
            .current_dir(cwd.path())
            .output()
            .unwrap();
        assert!(!out.status.success());
        assert!(out.stdout.is_empty());

        // Browsers import the PKCS#12 bundle with the documented empty password.
        let out = succeed(
            Command::new("curl")
                .args([
                    "--silent",
                    "--cacert",
                    "relais-data/certs/ca.pem",
                    "--cert-type",
                    "P12",
                    "--cert",
                    "relais-data/certs/demo/provider-a.p12:",
                    &main,
                ])
                .current_dir(cwd.path()),
        );
        let body: Value = serde_json::from_slice(&out.stdout).unwrap();
        assert_eq!(body["name"], "provider-a");
    }

    let ca_before = std::fs::read(data.join("certs/ca.pem")).unwrap();
    let logs = stop(served);
    // JSON logs: one span per request with the request id and the principal id; no key or
    // certificate material.
    let request_lines: Vec<Value> = logs
        .lines()
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
        .filter(|v| v["message"] == "request served")
        .collect();
    if have("curl") {
        let ok = request_lines
            .iter()
            .find(|v| v["span"]["status"] == 200)
            .unwrap_or_else(|| panic!("no served request in the logs: {logs}"));
        assert!(ok["span"]["request_id"].as_str().unwrap().len() >= 32);
        assert!(
            ok["span"]["principal"]
                .as_str()
                .unwrap()
                .starts_with("principal--")
        );
    }
    assert!(!logs.contains("BEGIN"), "PEM material in the logs");
    assert!(logs.contains("shutting down"));

    // A second run reuses the data directory.
    let served = serve(cwd.path(), &[]);
    assert!(!served.stdout.iter().any(|l| l.contains("first run")));
    assert_eq!(std::fs::read(data.join("certs/ca.pem")).unwrap(), ca_before);
    stop(served);
}

#[tokio::test]
async fn pki_issue_list_crl_from_the_command_line() {
    let hub = spawn_hub().await;
    let out_dir = hub.data_dir().join("out");
    let out = succeed(
        hub.cli()
            .args([
                "pki",
                "issue",
                "--kind",
                "provider",
                "--org",
                "Provider C",
                "--name",
                "soc-tool",
                "--days",
                "10",
                "--out",
            ])
            .arg(&out_dir),
    );
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("fingerprint"), "{text}");
    let key = out_dir.join("soc-tool-key.pem");
    assert_eq!(
        std::fs::metadata(&key).unwrap().permissions().mode() & 0o777,
        0o600
    );
    assert_eq!(
        std::fs::metadata(out_dir.join("soc-tool.p12"))
            .unwrap()
            .permissions()
            .mode()
            & 0o777,
        0o600
    );
    let cred = Credential {
        cert_pem: std::fs::read_to_string(out_dir.join("soc-tool.pem")).unwrap(),
        key_pem: std::fs::read_to_string(&key).unwrap(),
    };
    // A provider the registry has not referenced yet: its certificate opens nothing.
    let resp = hub
        .client_with(Some(&cred))
        .get(hub.url("/api/v1/whoami"))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 403);
    // A referenced provider's new tool gets in.
    let out = succeed(
        hub.cli()
            .args([
                "pki",
                "issue",
                "--kind",
                "provider",
                "--org",
                "Provider B (demo)",
            ])
            .args(["--name", "soc-tool-b", "--out"])
            .arg(&out_dir),
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("fingerprint"));
    let cred = Credential {
        cert_pem: std::fs::read_to_string(out_dir.join("soc-tool-b.pem")).unwrap(),
        key_pem: std::fs::read_to_string(out_dir.join("soc-tool-b-key.pem")).unwrap(),
    };
    let resp = hub
        .client_with(Some(&cred))
        .get(hub.url("/api/v1/whoami"))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    let body: Value = resp.json().await.unwrap();
    assert_eq!(body["organisation"]["name"], "Provider B (demo)");
    assert_eq!(body["kind"], "provider");

    let out = hub.cli().args(["pki", "list", "--json"]).output().unwrap();
    assert!(out.status.success());
    let rows: Vec<Value> = serde_json::from_slice(&out.stdout).unwrap();
    // The six demo principals and the two issued above.
    assert_eq!(rows.len(), 8);
    assert!(rows.iter().any(|r| r["principal"]["name"] == "soc-tool"));
    let out = hub.cli().args(["pki", "list"]).output().unwrap();
    assert!(String::from_utf8_lossy(&out.stdout).contains("soc-tool"));

    // Analysts default to the hub's own CSIRT.
    succeed(
        hub.cli()
            .args(["pki", "issue", "--kind", "analyst", "--name", "marie"]),
    );
    // Providers must say which organisation.
    let out = hub
        .cli()
        .args(["pki", "issue", "--kind", "provider", "--name", "x"])
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(err.contains("--org is required"), "{err}");

    let crl = hub.data_dir().join("fresh-crl.pem");
    succeed(hub.cli().args(["pki", "crl", "--out"]).arg(&crl));
    assert!(
        std::fs::read_to_string(&crl)
            .unwrap()
            .starts_with("-----BEGIN X509 CRL-----")
    );
    if have("openssl") {
        let out = succeed(
            Command::new("openssl")
                .args(["crl", "-noout", "-CAfile"])
                .arg(hub.ca_path())
                .arg("-in")
                .arg(&crl),
        );
        assert!(String::from_utf8_lossy(&out.stderr).contains("verify OK"));
    }
    hub.shutdown().await;
}

#[tokio::test]
async fn revoke_by_fingerprint_and_unknown_serial() {
    let hub = spawn_hub().await;
    let fingerprint = hub.store.bindings().await.unwrap()[0].fingerprint.to_hex();
    succeed(
        hub.cli()
            .args(["pki", "revoke", "--fingerprint", &fingerprint]),
    );
    let out = hub
        .cli()
        .args(["pki", "revoke", "--serial", "abcdef"])
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert_eq!(
        String::from_utf8_lossy(&out.stderr).trim(),
        "relais: no certificate with serial abcdef"
    );
    hub.shutdown().await;
}

#[tokio::test]
async fn external_certificate_is_bound_by_its_public_key() {
    let partner_dir = tempfile::tempdir().unwrap();
    let now = OffsetDateTime::now_utc();
    let partner_ca =
        CertificateAuthority::generate("CERT-Partner CA", now, time::Duration::days(30)).unwrap();
    let partner_ca_path = partner_dir.path().join("partner-ca.pem");
    std::fs::write(&partner_ca_path, partner_ca.cert_pem()).unwrap();
    let path_for_hub = partner_ca_path.clone();
    let hub = spawn_hub_with(HubOptions {
        tweak: Some(Box::new(move |c, _| {
            c.tls.extra_client_cas = vec![path_for_hub]
        })),
        ..Default::default()
    })
    .await;
    let issued = partner_ca
        .issue_client(
            &subject(PrincipalKind::Peer, "CERT-Partner", "taxii-poller"),
            ClientUsage::ClientAuth,
            now,
            time::Duration::days(5),
        )
        .unwrap();
    let cred = Credential::from_issued(&issued);
    let client = hub.client_with(Some(&cred));
    // Trusted CA, but bound to nobody: nothing.
    assert_eq!(
        client
            .get(hub.url("/api/v1/whoami"))
            .send()
            .await
            .unwrap()
            .status(),
        403
    );

    let (cert_path, _) = cred.write_to(partner_dir.path(), "poller");
    let extra = format!("[\"{}\"]", partner_ca_path.display());
    let bind = |name: &str, cert: &Path| {
        hub.cli()
            .env("RELAIS_TLS_EXTRA_CLIENT_CAS", &extra)
            .args([
                "pki",
                "bind",
                "--kind",
                "peer",
                "--org",
                "CERT-Partner",
                "--name",
                name,
                "--cert",
            ])
            .arg(cert)
            .output()
            .unwrap()
    };
    let out = bind("taxii-poller", &cert_path);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let resp = client.get(hub.url("/api/v1/whoami")).send().await.unwrap();
    assert_eq!(resp.status(), 200);
    let body: Value = resp.json().await.unwrap();
    assert_eq!(body["kind"], "peer");
    assert_eq!(body["organisation"]["name"], "CERT-Partner");
    assert_eq!(
        body["certificate"]["fingerprint"],
        issued.info.fingerprint.to_hex()
    );

    // A certificate from a CA the hub does not trust cannot be bound.
    let rogue = CertificateAuthority::generate("rogue", now, time::Duration::days(3)).unwrap();
    let rogue_cert = rogue
        .issue_client(
            &subject(PrincipalKind::Peer, "CERT-Partner", "other"),
            ClientUsage::ClientAuth,
            now,
            time::Duration::days(1),
        )
        .unwrap();
    let (rogue_path, _) =
        Credential::from_issued(&rogue_cert).write_to(partner_dir.path(), "rogue");
    let out = bind("other", &rogue_path);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(err.lines().count(), 1);
    assert!(
        err.contains("does not chain to a trusted client CA"),
        "{err}"
    );
    hub.shutdown().await;
}

fn one_line_failure(out: &std::process::Output) -> String {
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr).to_string();
    assert_eq!(err.trim_end().lines().count(), 1, "not one line: {err}");
    err
}

#[test]
fn insecure_or_wrong_configuration_is_refused_in_one_line() {
    let cwd = tempfile::tempdir().unwrap();
    succeed(relais(cwd.path()).arg("init"));

    // Demo PKI on a network address.
    let out = relais(cwd.path())
        .arg("serve")
        .env("RELAIS_LISTEN_MAIN", "0.0.0.0:0")
        .output()
        .unwrap();
    let err = one_line_failure(&out);
    assert!(
        err.starts_with("relais: insecure configuration: listen.main"),
        "{err}"
    );

    // A private key readable by others.
    let key = cwd.path().join("relais-data/certs/server-key.pem");
    std::fs::set_permissions(&key, std::fs::Permissions::from_mode(0o644)).unwrap();
    let err = one_line_failure(&relais(cwd.path()).arg("serve").output().unwrap());
    assert!(
        err.contains("tls.server_key") && err.contains("chmod 600"),
        "{err}"
    );
    std::fs::set_permissions(&key, std::fs::Permissions::from_mode(0o600)).unwrap();

    // An unknown key in the file, and an unknown RELAIS_ variable.
    let toml = cwd.path().join("relais-data/relais.toml");
    let text = std::fs::read_to_string(&toml).unwrap();
    std::fs::write(
        &toml,
        text.replace("[listen]", "[listen]\nmian = \"127.0.0.1:1\""),
    )
    .unwrap();
    let err = one_line_failure(&relais(cwd.path()).arg("serve").output().unwrap());
    assert!(err.contains("mian"), "{err}");
    std::fs::write(&toml, text).unwrap();
    let err = one_line_failure(
        &relais(cwd.path())
            .arg("serve")
            .env("RELAIS_LISTEN_MIAN", "x")
            .output()
            .unwrap(),
    );
    assert!(err.contains("RELAIS_LISTEN_MIAN"), "{err}");

    // A TAXII public URL clients could not be sent to as it is.
    for url in [
        "http://hub.csirt.re:8443",
        "https://hub.csirt.re:8443/taxii2/",
    ] {
        let err = one_line_failure(
            &relais(cwd.path())
                .arg("serve")
                .env("RELAIS_TAXII_PUBLIC_URL", url)
                .output()
                .unwrap(),
        );
        assert!(
            err.starts_with("relais: invalid configuration: taxii.public_url = "),
            "{err}"
        );
    }

    // A federation policy that would federate TLP:RED.
    let federation = cwd.path().join("relais-data/policies/federation.toml");
    let shipped = std::fs::read_to_string(&federation).unwrap();
    std::fs::write(
        &federation,
        format!("{shipped}\n[peers.\"Partner CSIRT (demo)/partner-csirt\"]\nmax_tlp = \"red\"\n"),
    )
    .unwrap();
    // (Logging is quieted: the policies are read after the database opened and said so.)
    let err = one_line_failure(
        &relais(cwd.path())
            .arg("serve")
            .env("RUST_LOG", "warn")
            .output()
            .unwrap(),
    );
    assert!(
        err.contains("federation.toml") && err.contains("never federated"),
        "{err}"
    );
    std::fs::write(&federation, shipped).unwrap();

    // An export policy that would let an indicator block the whole Internet.
    let exports = cwd.path().join("relais-data/policies/exports.toml");
    let shipped = std::fs::read_to_string(&exports).unwrap();
    std::fs::write(
        &exports,
        shipped.replace("ipv4_min_prefix = 16", "ipv4_min_prefix = 0"),
    )
    .unwrap();
    let err = one_line_failure(
        &relais(cwd.path())
            .arg("serve")
            .env("RUST_LOG", "warn")
            .output()
            .unwrap(),
    );
    assert!(
        err.contains("exports.toml") && err.contains("ipv4_min_prefix = 0"),
        "{err}"
    );
    std::fs::write(&exports, shipped).unwrap();

    // PKI commands need a data directory.
    let err = one_line_failure(
        &relais(cwd.path())
            .args(["--data", "nowhere", "pki", "list"])
            .output()
            .unwrap(),
    );
    assert!(err.contains("no data directory at nowhere"), "{err}");
}

#[tokio::test]
async fn postgres_url_from_the_environment_serves_whoami() {
    // The CLI path to PostgreSQL: `RELAIS_DATABASE_URL` selects the backend.
    let Some(pg) = common::PgDatabase::create().await else {
        return;
    };
    let cwd = tempfile::tempdir().unwrap();
    let served = serve(cwd.path(), &[("RELAIS_DATABASE_URL", &pg.url)]);
    let curl = curl_line(&served.stdout);
    let main = curl.split_whitespace().last().unwrap().to_owned();
    let data = cwd.path().join("relais-data");
    let cred = Credential::from_files(&relais::services::bootstrap::CredentialFiles::in_dir(
        &data.join("certs/demo"),
        "partner-csirt",
    ));
    let resp = https_client(&data.join("certs/ca.pem"), Some(&cred))
        .get(main)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    let body: Value = resp.json().await.unwrap();
    assert_eq!(body["kind"], "peer");
    assert!(
        !data.join("relais.db").exists(),
        "SQLite used instead of PostgreSQL"
    );
    // Off the runtime's thread, so that the client's connection task can answer the hub's
    // graceful close while we wait for the process to exit.
    tokio::task::spawn_blocking(move || stop(served))
        .await
        .unwrap();
}

#[test]
fn config_file_and_data_directory_are_chosen_on_the_command_line() {
    let cwd = tempfile::tempdir().unwrap();
    succeed(relais(cwd.path()).args(["--data", "elsewhere", "init"]));
    assert!(cwd.path().join("elsewhere/certs/ca.pem").exists());
    std::fs::write(
        cwd.path().join("custom.toml"),
        "[database]\nurl = \"postgres://relais:hunter2@db.internal/relais\"\n[limits]\nbody_bytes = 4096\n",
    )
    .unwrap();
    let out = succeed(relais(cwd.path()).args([
        "--data",
        "elsewhere",
        "--config",
        "custom.toml",
        "config",
        "check",
    ]));
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("body_bytes = 4096"), "{text}");
    assert!(
        text.contains("postgres://relais:***@db.internal/relais"),
        "{text}"
    );
    assert!(!text.contains("hunter2"));
    // Every section is in the generated file, the environment list and the check's output.
    let generated = std::fs::read_to_string(cwd.path().join("elsewhere/relais.toml")).unwrap();
    assert!(
        generated.contains("[taxii]\npublic_url = \"\""),
        "{generated}"
    );
    let out = succeed(relais(cwd.path()).args(["config", "env"]));
    assert!(
        String::from_utf8_lossy(&out.stdout).lines().any(|l| l
            .split_whitespace()
            .eq(["RELAIS_TAXII_PUBLIC_URL", "taxii.public_url"])),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    let out = succeed(
        relais(cwd.path())
            .args(["--data", "elsewhere", "config", "check"])
            .env("RELAIS_TAXII_PUBLIC_URL", "https://hub.csirt.re:8443"),
    );
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("[taxii]\npublic_url = \"https://hub.csirt.re:8443\""),
        "{text}"
    );
    let err = one_line_failure(
        &relais(cwd.path())
            .args([
                "--data",
                "elsewhere",
                "--config",
                "missing.toml",
                "config",
                "check",
            ])
            .output()
            .unwrap(),
    );
    assert!(err.contains("missing.toml"), "{err}");
}
