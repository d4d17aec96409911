//! Test helpers: a real hub on loopback port 0, with a fresh database and a generated PKI, and
//! real HTTPS clients that present certificates. `spawn_hub().await` is the one line a test
//! needs.
#![allow(dead_code)]

pub mod webdriver;

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use relais::app::Hub;
use relais::clock::SystemClock;
use relais::config::Config;
use relais::domain::principal::PrincipalKind;
use relais::pki::ca::ClientUsage;
use relais::pki::{CertificateAuthority, ClientSubject, IssuedCertificate};
use relais::services::bootstrap::{self, CredentialFiles};
use relais::store::SharedStore;
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, PrivateKeyDer};
use time::{Duration, OffsetDateTime};

/// The audit record of a test's direct store write: the store appends it like any other.
pub fn relais_test_audit() -> relais::domain::audit::record::AuditRecord {
    relais::domain::audit::record::AuditRecord::operator("test.write", OffsetDateTime::now_utc())
}
use tokio_util::sync::CancellationToken;

pub const POSTGRES_VAR: &str = "RELAIS_TEST_POSTGRES_URL";

/// Which database a test hub runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Db {
    Sqlite,
    Postgres,
}

/// A fresh PostgreSQL database for one test, dropped when the guard is dropped.
pub struct PgDatabase {
    pub url: String,
    admin_url: String,
    name: String,
}

impl PgDatabase {
    /// `None` when `RELAIS_TEST_POSTGRES_URL` is not set (the test says it did not run). With
    /// the variable set, an unreachable server fails the test.
    pub async fn create() -> Option<Self> {
        let admin_url = match std::env::var(POSTGRES_VAR) {
            Ok(u) if !u.is_empty() => u,
            _ => {
                not_run(&format!(
                    "PostgreSQL test skipped: {POSTGRES_VAR} is not set"
                ));
                return None;
            }
        };
        let name = format!("relais_t_{}", uuid::Uuid::new_v4().simple());
        let mut conn = connect_admin(&admin_url).await;
        sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
            .execute(&mut conn)
            .await
            .unwrap_or_else(|e| panic!("{POSTGRES_VAR} is set but CREATE DATABASE failed: {e}"));
        let url = replace_db_name(&admin_url, &name);
        Some(Self {
            url,
            admin_url,
            name,
        })
    }
}

async fn connect_admin(url: &str) -> sqlx::PgConnection {
    use sqlx::Connection;
    sqlx::PgConnection::connect(url)
        .await
        .unwrap_or_else(|e| panic!("{POSTGRES_VAR} is set but PostgreSQL is unreachable: {e}"))
}

fn replace_db_name(url: &str, name: &str) -> String {
    let (base, query) = match url.split_once('?') {
        Some((b, q)) => (b, format!("?{q}")),
        None => (url, String::new()),
    };
    let scheme_end = base.find("://").map(|i| i + 3).unwrap_or(0);
    let base = match base[scheme_end..].find('/') {
        Some(i) => &base[..scheme_end + i],
        None => base,
    };
    format!("{base}/{name}{query}")
}

impl Drop for PgDatabase {
    fn drop(&mut self) {
        let admin = self.admin_url.clone();
        let name = self.name.clone();
        // Dropping needs a runtime of its own: the test's runtime may be shutting down.
        let _ = std::thread::spawn(move || {
            let Ok(rt) = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
            else {
                return;
            };
            rt.block_on(async {
                use sqlx::Connection;
                if let Ok(mut conn) = sqlx::PgConnection::connect(&admin).await {
                    let _ = sqlx::query(sqlx::AssertSqlSafe(format!(
                        "DROP DATABASE IF EXISTS {name} WITH (FORCE)"
                    )))
                    .execute(&mut conn)
                    .await;
                }
            });
        })
        .join();
    }
}

/// A running hub and what a test needs to talk to it.
pub struct TestHub {
    pub dir: tempfile::TempDir,
    pub config: Config,
    pub store: SharedStore,
    pub main: SocketAddr,
    pub public: SocketAddr,
    /// The hub's clock.
    pub clock: relais::clock::SharedClock,
    /// Its inbound federation (poll a peer now, reload the policy).
    pub federation: Arc<relais::services::federation::worker::Federation>,
    shutdown: CancellationToken,
    task: Option<tokio::task::JoinHandle<()>>,
    _pg: Option<PgDatabase>,
}

/// Changes a test makes to the configuration before the hub starts.
pub type ConfigTweak = Box<dyn FnOnce(&mut Config, &Path) + Send>;

/// Options of a test hub. `Default` is SQLite with the shipped defaults on loopback port 0.
#[derive(Default)]
pub struct HubOptions {
    pub postgres: Option<PgDatabase>,
    pub tweak: Option<ConfigTweak>,
    /// The hub's clock (default: the system's); a `FixedClock` lets a test drive deadlines.
    pub clock: Option<relais::clock::SharedClock>,
}

pub fn test_config(dir: &Path) -> Config {
    let _ = dir;
    let mut config = Config::default();
    config.listen.main = "127.0.0.1:0".parse().unwrap_or_else(|_| unreachable!());
    config.listen.public = "127.0.0.1:0".parse().unwrap_or_else(|_| unreachable!());
    config.tls.crl_refresh_secs = 1;
    config.limits.shutdown_grace_secs = 5;
    config
}

pub async fn spawn_hub() -> TestHub {
    spawn_hub_with(HubOptions::default()).await
}

pub async fn spawn_hub_on(db: Db) -> Option<TestHub> {
    match db {
        Db::Sqlite => Some(spawn_hub().await),
        Db::Postgres => {
            let pg = PgDatabase::create().await?;
            Some(
                spawn_hub_with(HubOptions {
                    postgres: Some(pg),
                    ..HubOptions::default()
                })
                .await,
            )
        }
    }
}

pub async fn spawn_hub_with(options: HubOptions) -> TestHub {
    let dir = tempfile::tempdir().unwrap();
    let mut config = test_config(dir.path());
    if let Some(pg) = &options.postgres {
        config.database.url = pg.url.clone();
    }
    if let Some(tweak) = options.tweak {
        tweak(&mut config, dir.path());
    }
    config.check(dir.path()).unwrap();
    let store = relais::store::open(&config.database.url, dir.path(), 4)
        .await
        .unwrap();
    bootstrap::prepare(
        dir.path(),
        &config,
        store.as_ref(),
        OffsetDateTime::now_utc(),
    )
    .await
    .unwrap();
    let clock: relais::clock::SharedClock = options.clock.unwrap_or_else(|| Arc::new(SystemClock));
    start(dir, config, store, clock, options.postgres).await
}

/// Builds and runs a hub on a prepared data directory and store.
async fn start(
    dir: tempfile::TempDir,
    config: Config,
    store: SharedStore,
    clock: relais::clock::SharedClock,
    pg: Option<PgDatabase>,
) -> TestHub {
    let hub = Hub::build(&config, dir.path(), Arc::clone(&store), Arc::clone(&clock))
        .await
        .unwrap();
    let main = hub.main_addr();
    let public = hub.public_addr();
    let federation = hub.federation();
    let shutdown = CancellationToken::new();
    let task = tokio::spawn(hub.run(shutdown.clone()));
    TestHub {
        dir,
        config,
        store,
        main,
        public,
        clock,
        federation,
        shutdown,
        task: Some(task),
        _pg: pg,
    }
}

/// A certificate and key as PEM text.
#[derive(Clone)]
pub struct Credential {
    pub cert_pem: String,
    pub key_pem: String,
}

impl Credential {
    pub fn from_files(files: &CredentialFiles) -> Self {
        Self {
            cert_pem: std::fs::read_to_string(&files.cert).unwrap(),
            key_pem: std::fs::read_to_string(&files.key).unwrap(),
        }
    }

    pub fn from_issued(issued: &IssuedCertificate) -> Self {
        Self {
            cert_pem: issued.cert_pem.clone(),
            key_pem: issued.key_pem.clone(),
        }
    }

    /// Writes NAME.pem and NAME-key.pem into `dir` (for curl and the CLI).
    pub fn write_to(&self, dir: &Path, name: &str) -> (PathBuf, PathBuf) {
        let cert = dir.join(format!("{name}.pem"));
        let key = dir.join(format!("{name}-key.pem"));
        std::fs::write(&cert, &self.cert_pem).unwrap();
        std::fs::write(&key, &self.key_pem).unwrap();
        (cert, key)
    }
}

impl TestHub {
    pub fn data_dir(&self) -> &Path {
        self.dir.path()
    }

    pub fn ca_path(&self) -> PathBuf {
        self.dir.path().join("certs/ca.pem")
    }

    pub fn ca(&self) -> CertificateAuthority {
        CertificateAuthority::load(&self.ca_path(), &self.dir.path().join("certs/ca-key.pem"))
            .unwrap()
    }

    pub fn demo_files(&self, name: &str) -> CredentialFiles {
        CredentialFiles::in_dir(&bootstrap::demo_dir(self.dir.path()), name)
    }

    pub fn demo(&self, name: &str) -> Credential {
        Credential::from_files(&self.demo_files(name))
    }

    pub fn url(&self, path: &str) -> String {
        format!("https://{}{path}", self.main)
    }

    pub fn public_url(&self, path: &str) -> String {
        format!("https://{}{path}", self.public)
    }

    /// An HTTPS client presenting the demo principal's certificate.
    pub fn client(&self, demo_name: &str) -> reqwest::Client {
        self.client_with(Some(&self.demo(demo_name)))
    }

    /// An HTTPS client that trusts the hub's CA and presents `credential`, if any.
    pub fn client_with(&self, credential: Option<&Credential>) -> reqwest::Client {
        https_client(&self.ca_path(), credential)
    }

    /// Issues a certificate from the hub's CA without binding it to anyone.
    pub fn issue_unbound(
        &self,
        subject: &ClientSubject,
        usage: ClientUsage,
        not_before_shift: Duration,
        validity: Duration,
    ) -> IssuedCertificate {
        self.ca()
            .issue_client(
                subject,
                usage,
                OffsetDateTime::now_utc() + not_before_shift,
                validity,
            )
            .unwrap()
    }

    /// Issues and binds a new principal's certificate through the service the CLI uses.
    pub async fn issue_bound(&self, subject: &ClientSubject) -> Credential {
        let (_, issued) = relais::services::pki::issue(
            self.store.as_ref(),
            &self.ca(),
            subject,
            ClientUsage::ClientAuth,
            30,
            &relais::domain::audit::record::Acting::operator(OffsetDateTime::now_utc()),
        )
        .await
        .unwrap();
        Credential::from_issued(&issued)
    }

    pub async fn principal_named(&self, name: &str) -> relais::domain::principal::Principal {
        self.store
            .principals()
            .await
            .unwrap()
            .into_iter()
            .find(|p| p.name == name)
            .unwrap_or_else(|| panic!("no principal {name}"))
    }

    /// Binds `issued` to the named principal straight in the registry, bypassing every check
    /// the CLI makes: for tests that prove the listener does not rely on those checks.
    pub async fn bind_raw(&self, issued: &IssuedCertificate, principal: &str) {
        let principal = self.principal_named(principal).await;
        let now = OffsetDateTime::now_utc();
        let binding = relais::domain::principal::CertificateBinding {
            fingerprint: issued.info.fingerprint,
            principal_id: principal.id,
            serial: issued.info.serial.clone(),
            subject: issued.info.subject.clone(),
            issuer: issued.info.issuer.clone(),
            not_before: issued.info.not_before,
            not_after: issued.info.not_after,
            issued_by_hub: false,
            revoked_at: None,
            revocation_reason: None,
            created_at: now,
        };
        self.store
            .insert_binding(&binding, &relais_test_audit())
            .await
            .unwrap();
    }

    /// `relais --data DIR …` as a subprocess against this hub's data directory.
    pub fn cli(&self) -> std::process::Command {
        let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_relais"));
        cmd.arg("--data").arg(self.dir.path());
        // The CLI reads relais.toml from the data directory; tests configure the hub in code,
        // so give the CLI the same database.
        cmd.env("RELAIS_DATABASE_URL", &self.config.database.url);
        for (name, _) in std::env::vars() {
            if name.starts_with("RELAIS_") && name != "RELAIS_DATABASE_URL" {
                cmd.env_remove(name);
            }
        }
        cmd
    }

    /// Stops the hub and starts it again on the same data directory, database and clock, as
    /// an operator's restart would (new listener ports).
    pub async fn restart(mut self) -> TestHub {
        self.shutdown.cancel();
        if let Some(task) = self.task.take() {
            tokio::time::timeout(std::time::Duration::from_secs(15), task)
                .await
                .expect("hub stops within its grace period")
                .unwrap();
        }
        let dir = std::mem::replace(&mut self.dir, tempfile::tempdir().unwrap());
        let config = self.config.clone();
        let store = relais::store::open(&config.database.url, dir.path(), 4)
            .await
            .unwrap();
        bootstrap::prepare(dir.path(), &config, store.as_ref(), self.clock.now())
            .await
            .unwrap();
        let clock = Arc::clone(&self.clock);
        start(dir, config, store, clock, self._pg.take()).await
    }

    pub async fn shutdown(mut self) {
        self.shutdown.cancel();
        if let Some(task) = self.task.take() {
            tokio::time::timeout(std::time::Duration::from_secs(15), task)
                .await
                .expect("hub stops within its grace period")
                .unwrap();
        }
    }
}

impl Drop for TestHub {
    fn drop(&mut self) {
        self.shutdown.cancel();
    }
}

pub fn subject(kind: PrincipalKind, organisation: &str, name: &str) -> ClientSubject {
    ClientSubject {
        kind,
        organisation: organisation.into(),
        name: name.into(),
    }
}

/// A reqwest client on rustls (ring) trusting `ca` and presenting `credential`.
pub fn https_client(ca: &Path, credential: Option<&Credential>) -> reqwest::Client {
    let roots: Vec<CertificateDer<'static>> =
        relais::pki::certificate::read_pem_certificates(ca).unwrap();
    let identity = credential.map(|c| {
        let chain: Vec<CertificateDer<'static>> =
            CertificateDer::pem_slice_iter(c.cert_pem.as_bytes())
                .collect::<Result<_, _>>()
                .unwrap();
        let key = PrivateKeyDer::from_pem_slice(c.key_pem.as_bytes()).unwrap();
        (chain, key)
    });
    let tls = relais::http::tls::client_config(&roots, identity).unwrap();
    reqwest::Client::builder()
        .tls_backend_preconfigured(tls)
        .timeout(std::time::Duration::from_secs(20))
        .build()
        .unwrap()
}

/// The whole chain of an error, for asserting on the TLS alert behind a failed request.
pub fn error_chain(e: &(dyn std::error::Error + 'static)) -> String {
    let mut out = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        out.push_str(" <- ");
        out.push_str(&s.to_string());
        source = s.source();
    }
    out
}

/// Set by `.ci/run`: a missing external tool fails the test instead of skipping it.
pub const REQUIRE_TOOLS_VAR: &str = "RELAIS_TEST_REQUIRE_TOOLS";

/// Says that part of a test did not run. Written to the process's stderr directly, past the
/// test harness's capture, so that it shows in a passing run.
pub fn not_run(what: &str) {
    use std::io::Write;
    let _ = writeln!(std::io::stderr(), "NOT RUN: {what}");
}

/// Whether an external program is installed; a test that needs it says so when it is not,
/// and fails when `.ci/run` asked for every tool.
pub fn have(program: &str) -> bool {
    let found = std::process::Command::new(program)
        .arg("--version")
        .output()
        .is_ok();
    if !found {
        assert!(
            std::env::var_os(REQUIRE_TOOLS_VAR).is_none(),
            "{program} is not installed but {REQUIRE_TOOLS_VAR} is set"
        );
        not_run(&format!(
            "{program} is not installed; the checks that use it were skipped"
        ));
    }
    found
}

/// Runs a command that must succeed; its stderr is the failure message otherwise.
pub fn succeed(cmd: &mut std::process::Command) -> std::process::Output {
    let out = cmd.output().unwrap();
    assert!(
        out.status.success(),
        "{:?} failed: {}",
        cmd,
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

/// A qualified case for `POST /api/v1/cases`: a ransomware incident reported on a weekday in
/// business hours, needing analysis and containment.
pub fn new_case(reference: &str, consent: &str) -> serde_json::Value {
    serde_json::json!({
        "reference": reference,
        "beneficiary": {
            "name": "Mairie de Saint-Leu",
            "kind": "local_authority",
            "sector": "administration",
            "size": "mid_size",
            "commune": "Saint-Leu"
        },
        "incident": {
            "category": "ransomware",
            "severity": 3,
            "started_at": "2026-11-02T04:00:00Z",
            "detected_at": "2026-11-02T05:00:00Z",
            "reported_at": "2026-11-02T06:00:00Z"
        },
        "facts": "Postes chiffrés, note de rançon.",
        "observables": [{
            "type": "ipv4-addr", "spec_version": "2.1",
            "id": "ipv4-addr--ff26c055-6336-5bc5-b98d-13d6226742dd", "value": "198.51.100.7"
        }],
        "services": ["analysis"],
        "identifiers": {
            "domains": ["victim.re"],
            "hostnames": ["SRV-COMPTA"],
            "organisations": ["Mairie de Saint-Leu"]
        },
        "consent": consent
    })
}

/// One REST call as `who` (a demo principal): the status and the body, JSON when it is JSON.
pub async fn api(
    hub: &TestHub,
    who: &str,
    method: reqwest::Method,
    path: &str,
    body: Option<serde_json::Value>,
) -> (u16, serde_json::Value) {
    let mut req = hub.client(who).request(method, hub.url(path));
    if let Some(body) = body {
        req = req.json(&body);
    }
    let resp = req.send().await.unwrap();
    let status = resp.status().as_u16();
    let text = resp.text().await.unwrap();
    (
        status,
        serde_json::from_str(&text).unwrap_or(serde_json::Value::String(text)),
    )
}

/// Opens `case` (a `new_case` body) and hands it to the demo provider `provider` the way the
/// convention asks: shortlists until the rotation proposes it, records the beneficiary's
/// choice by phone, and the provider accepts. Returns the case id.
pub async fn handed_case(hub: &TestHub, case: serde_json::Value, provider: &str) -> String {
    let org = hub.principal_named(provider).await.organisation_id;
    let (status, opened) = api(
        hub,
        "csirt-analyst",
        reqwest::Method::POST,
        "/api/v1/cases",
        Some(case),
    )
    .await;
    assert_eq!(status, 201, "{opened}");
    let id = opened["id"].as_str().unwrap().to_owned();
    let mut proposed = false;
    for _ in 0..6 {
        let (status, list) = api(
            hub,
            "csirt-analyst",
            reqwest::Method::POST,
            &format!("/api/v1/cases/{id}/shortlist"),
            None,
        )
        .await;
        assert_eq!(status, 201, "{list}");
        if list["entries"]
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e["provider"] == org.as_str())
        {
            proposed = true;
            break;
        }
    }
    assert!(proposed, "{provider} never shortlisted");
    let (status, handoff) = api(
        hub,
        "csirt-analyst",
        reqwest::Method::POST,
        &format!("/api/v1/cases/{id}/choice"),
        Some(serde_json::json!({"provider": org.as_str(), "channel": "phone"})),
    )
    .await;
    assert_eq!(status, 201, "{handoff}");
    let (status, answered) = api(
        hub,
        provider,
        reqwest::Method::POST,
        &format!(
            "/api/v1/handoffs/{}/answer",
            handoff["id"].as_str().unwrap()
        ),
        Some(serde_json::json!({"answer": "accept"})),
    )
    .await;
    assert_eq!(status, 200, "{answered}");
    id
}

/// The hub's today (its clock, the hub's time zone), as `YYYY-MM-DD`.
pub fn today(hub: &TestHub) -> String {
    let now = relais::domain::registry::calendar::local(hub.clock.now());
    format!(
        "{:04}-{:02}-{:02}",
        now.year(),
        u8::from(now.month()),
        now.day()
    )
}

/// A hub on a clock the test moves (a minute ahead of the system's: the demo keys, made at
/// first start on the system clock, are then in the past), whose case and report jobs look
/// every second, on a PostgreSQL database of its own when `postgres` is given.
pub async fn driven_hub_on(postgres: Option<PgDatabase>) -> (TestHub, relais::clock::FixedClock) {
    let clock = relais::clock::FixedClock::new(
        time::OffsetDateTime::now_utc() + time::Duration::minutes(1),
    );
    let hub = spawn_hub_with(HubOptions {
        postgres,
        clock: Some(std::sync::Arc::new(clock.clone())),
        tweak: Some(Box::new(|c, _| {
            c.pki.client_validity_days = 3650;
            c.cases.handoff_check_secs = 1;
            c.reports.deadline_check_secs = 1;
        })),
    })
    .await;
    (hub, clock)
}

/// A demo principal's OpenPGP secret key, as the demo data wrote it.
pub fn demo_secret(hub: &TestHub, name: &str) -> relais::crypto::openpgp::AuditKey {
    let path = hub
        .data_dir()
        .join("certs/demo")
        .join(format!("{name}-openpgp.asc"));
    relais::crypto::openpgp::AuditKey::from_armored_secret(&std::fs::read(path).unwrap()).unwrap()
}
