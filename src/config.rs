//! Configuration: a TOML file (unknown keys refused), overridden by `RELAIS_<SECTION>_<KEY>`
//! environment variables, then checked for insecure combinations before anything starts.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Config {
    pub hub: HubConfig,
    pub listen: ListenConfig,
    pub database: DatabaseConfig,
    pub tls: TlsConfig,
    pub pki: PkiConfig,
    pub limits: Limits,
    pub log: LogConfig,
    pub policies: PoliciesConfig,
    pub audit: AuditConfig,
    pub registry: RegistryConfig,
    pub taxii: TaxiiConfig,
    pub cases: CasesConfig,
    pub reports: ReportsConfig,
    pub statistics: StatisticsConfig,
    pub federation: FederationConfig,
}

/// This instance's part in federation (`[federation]`); the peers themselves are in
/// `policies/federation.toml`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct FederationConfig {
    /// Whether this instance runs the pull workers. Several instances may all say yes (a lease
    /// in the database lets one poll each peer); an instance kept for serving only says no.
    pub pull: bool,
}

impl Default for FederationConfig {
    fn default() -> Self {
        Self { pull: true }
    }
}

/// Reports the providers owe (`[reports]`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ReportsConfig {
    /// The day of the next year the annual summary of a year is due, `MM-DD`.
    pub annual_summary_due: String,
    /// How often the hub records reminders and overdue states.
    pub deadline_check_secs: u64,
}

impl Default for ReportsConfig {
    fn default() -> Self {
        Self {
            annual_summary_due: "01-31".into(),
            deadline_check_secs: 300,
        }
    }
}

/// The CSIRT's annual statistics (`[statistics]`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct StatisticsConfig {
    /// Smallest group of beneficiaries a cell may show; smaller groups are merged into
    /// "other" or suppressed.
    pub min_group: u32,
}

impl Default for StatisticsConfig {
    fn default() -> Self {
        Self { min_group: 3 }
    }
}

/// Victim cases (`[cases]`): the shortlist, the handoff's answer deadline, the beneficiary's
/// choice link, the CSIRT's own key.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct CasesConfig {
    /// How many referenced providers a shortlist proposes (at least 2: the convention asks
    /// for several).
    pub shortlist_size: usize,
    /// How long the chosen provider has to answer a handoff: `4h`, `90m`, `1h30m`, `45s`.
    pub answer_within: String,
    /// How long a beneficiary's choice link stays valid, in the same form.
    pub choice_link_valid: String,
    /// The CSIRT's armored OpenPGP public key, to which every handoff package is encrypted
    /// besides the provider's. Empty: the hub generates one and keeps it (its secret is
    /// written to `certs/demo/csirt-openpgp.asc` in demo mode).
    pub csirt_key: PathBuf,
    /// How often the hub looks for handoffs whose answer is overdue.
    pub handoff_check_secs: u64,
}

impl Default for CasesConfig {
    fn default() -> Self {
        Self {
            shortlist_size: 3,
            answer_within: "4h".into(),
            choice_link_valid: "72h".into(),
            csirt_key: PathBuf::new(),
            handoff_check_secs: 60,
        }
    }
}

/// `4h`, `90m`, `1h30m`, `45s`, `2d`: a duration of whole units, at least one second.
pub fn parse_duration(text: &str) -> Option<time::Duration> {
    let mut total: i64 = 0;
    let mut number = String::new();
    for c in text.trim().chars() {
        if c.is_ascii_digit() {
            number.push(c);
            continue;
        }
        let n: i64 = number.parse().ok()?;
        number.clear();
        let unit = match c {
            's' => 1,
            'm' => 60,
            'h' => 3600,
            'd' => 86_400,
            _ => return None,
        };
        total = total.checked_add(n.checked_mul(unit)?)?;
    }
    (number.is_empty() && total > 0).then(|| time::Duration::seconds(total))
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct TaxiiConfig {
    /// The main listener's address as TAXII clients reach it, `https://HOST[:PORT]`: the
    /// discovery resource's `default` and `api_roots` are built on it, never on the request's
    /// `Host`. Empty: `https://` + the first of `pki.server_names` + the main listener's port.
    pub public_url: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RegistryConfig {
    /// How often the deadline job applies due transitions (renewals, expiries, notices,
    /// unsigned convention versions).
    pub deadline_check_secs: u64,
    /// The public listener's address as people outside reach it (survey and badge links);
    /// empty: `https://` + the first of `pki.server_names` + the public port.
    pub public_url: String,
}

impl Default for RegistryConfig {
    fn default() -> Self {
        Self {
            deadline_check_secs: 60,
            public_url: String::new(),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct AuditConfig {
    /// The log's name in its checkpoints (C2SP `origin`); empty: the first of
    /// `pki.server_names` followed by `/audit`. Witnesses and verifiers pin it.
    pub origin: String,
    /// A checkpoint is signed once this many entries are not covered by one…
    pub checkpoint_entries: u64,
    /// …or this many seconds after the last checkpoint, if any entry came since.
    pub checkpoint_secs: u64,
}

impl Default for AuditConfig {
    fn default() -> Self {
        Self {
            origin: String::new(),
            checkpoint_entries: 1000,
            checkpoint_secs: 60,
        }
    }
}

impl Config {
    /// Where people outside reach the public listener (see [`RegistryConfig::public_url`]).
    pub fn public_url(&self, public_port: u16) -> String {
        if !self.registry.public_url.is_empty() {
            return self.registry.public_url.trim_end_matches('/').to_owned();
        }
        format!("https://{}:{public_port}", self.first_server_name())
    }

    /// Where TAXII clients reach the main listener, `https://HOST:PORT` without a trailing
    /// slash (see [`TaxiiConfig::public_url`]); `main_port` is the port the listener is bound
    /// to, which differs from `listen.main`'s when that asks for port 0.
    pub fn taxii_url(&self, main_port: u16) -> Result<String, ConfigError> {
        if self.taxii.public_url.is_empty() {
            return Ok(format!("https://{}:{main_port}", self.first_server_name()));
        }
        parse_public_url(&self.taxii.public_url)
            .map_err(|why| ConfigError::Invalid(format!("taxii.public_url {why}")))
    }

    /// The first of `pki.server_names` as a URL's host (an IPv6 address in brackets).
    fn first_server_name(&self) -> String {
        let host = self
            .pki
            .server_names
            .first()
            .map_or("localhost", String::as_str);
        if host.contains(':') {
            format!("[{host}]")
        } else {
            host.to_owned()
        }
    }

    /// The audit log's checkpoint origin (see [`AuditConfig::origin`]).
    pub fn audit_origin(&self) -> String {
        if !self.audit.origin.is_empty() {
            return self.audit.origin.clone();
        }
        let host = self
            .pki
            .server_names
            .first()
            .map_or("relais", String::as_str);
        format!("{host}/audit")
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct PoliciesConfig {
    /// TLP/PAP rules; written from the shipped policy on first start if absent.
    pub markings: PathBuf,
    /// What each partner hub may read; written from the shipped policy on first start if
    /// absent.
    pub federation: PathBuf,
    /// What the anonymiser does with each kind of victim identifier in provider submissions;
    /// written from the shipped policy on first start if absent.
    pub anonymisation: PathBuf,
    /// The satisfaction survey's questions and what counts as unfavourable; written from the
    /// shipped policy on first start if absent.
    pub survey: PathBuf,
    /// How broad a network an indicator may name (IOC API, TAXII writes, blocklist export);
    /// written from the shipped policy on first start if absent.
    pub exports: PathBuf,
    /// SOC service levels: default delays per level, default calendar; written from the
    /// shipped policy on first start if absent.
    pub sla: PathBuf,
    /// Directory of business calendars (`NAME.toml`); the shipped `reunion.toml` is written
    /// into it on first start if absent.
    pub calendars: PathBuf,
}

impl Default for PoliciesConfig {
    fn default() -> Self {
        Self {
            markings: "policies/markings.toml".into(),
            federation: "policies/federation.toml".into(),
            anonymisation: "policies/anonymisation.toml".into(),
            survey: "policies/survey.toml".into(),
            exports: "policies/exports.toml".into(),
            sla: "policies/sla.toml".into(),
            calendars: "policies/calendars".into(),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct HubConfig {
    /// The CSIRT that runs this hub; its analysts belong to this organisation.
    pub organisation: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ListenConfig {
    /// Main listener: TLS with a client certificate required.
    pub main: SocketAddr,
    /// Public listener: TLS without client certificate (health, later the public directory).
    pub public: SocketAddr,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct DatabaseConfig {
    /// `sqlite://FILE` (relative to the data directory) or `postgres://…`.
    pub url: String,
    pub max_connections: u32,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct TlsConfig {
    pub ca_cert: PathBuf,
    /// Needed only where certificates are issued or revoked (`relais pki`, first start).
    pub ca_key: PathBuf,
    pub server_cert: PathBuf,
    pub server_key: PathBuf,
    /// Further CAs whose client certificates are accepted (a partner's PKI). Their certificates
    /// still need a registry binding (`relais pki bind`).
    pub extra_client_cas: Vec<PathBuf>,
    /// How often a running hub looks for a newer CRL in the database.
    pub crl_refresh_secs: u64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct PkiConfig {
    /// This data directory holds the generated development PKI and demo principals.
    pub demo: bool,
    /// Let the development PKI serve on a non-loopback address.
    pub allow_demo_on_network: bool,
    /// Names and addresses in the server certificate generated at first start.
    pub server_names: Vec<String>,
    pub client_validity_days: u32,
    pub server_validity_days: u32,
    pub ca_validity_days: u32,
}

/// Every limit the hub enforces, in one place (documented in the README).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Limits {
    /// Largest request body accepted, in bytes (413 beyond).
    pub body_bytes: usize,
    /// Largest request head (request line and headers), in bytes (431 beyond).
    pub header_bytes: usize,
    /// Time a client has to complete the TLS handshake.
    pub handshake_timeout_secs: u64,
    /// Time a request may take from its head to the response.
    pub request_timeout_secs: u64,
    /// Connections served at once per listener; further ones wait in the kernel backlog.
    pub max_connections: usize,
    /// How long shutdown waits for in-flight requests before closing connections.
    pub shutdown_grace_secs: u64,
    /// How long a posted object that cites a marking definition the hub does not hold yet
    /// waits for it (pending in its status resource) before it is refused.
    pub pending_marking_secs: u64,
    /// How much of a body the hub answered without reading (a refusal: 413, 403, 415…) it
    /// still reads, and discards, after the answer, so that a client that sends its whole body
    /// before it reads the answer gets to read it. Past this the connection (HTTP/1.1) or the
    /// stream (HTTP/2) is closed on the client. 0: never.
    pub refused_body_drain_bytes: u64,
    /// How long that reading may go on, from the answer.
    pub refused_body_drain_secs: u64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    Text,
    Json,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct LogConfig {
    pub format: LogFormat,
    /// A `tracing` filter (`info`, `relais=debug,info`); `RUST_LOG` overrides it.
    pub level: String,
}

impl Default for HubConfig {
    fn default() -> Self {
        Self {
            organisation: "CSIRT La Réunion".into(),
        }
    }
}

impl Default for ListenConfig {
    fn default() -> Self {
        Self {
            main: SocketAddr::from(([127, 0, 0, 1], 8443)),
            public: SocketAddr::from(([127, 0, 0, 1], 8444)),
        }
    }
}

impl Default for DatabaseConfig {
    fn default() -> Self {
        Self {
            url: "sqlite://relais.db".into(),
            max_connections: 8,
        }
    }
}

impl Default for TlsConfig {
    fn default() -> Self {
        Self {
            ca_cert: "certs/ca.pem".into(),
            ca_key: "certs/ca-key.pem".into(),
            server_cert: "certs/server.pem".into(),
            server_key: "certs/server-key.pem".into(),
            extra_client_cas: Vec::new(),
            crl_refresh_secs: 2,
        }
    }
}

impl Default for PkiConfig {
    fn default() -> Self {
        Self {
            demo: true,
            allow_demo_on_network: false,
            server_names: vec!["localhost".into(), "127.0.0.1".into(), "::1".into()],
            client_validity_days: 365,
            server_validity_days: 365,
            ca_validity_days: 3650,
        }
    }
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            body_bytes: 10 * 1024 * 1024,
            header_bytes: 16 * 1024,
            handshake_timeout_secs: 10,
            request_timeout_secs: 60,
            max_connections: 1024,
            shutdown_grace_secs: 20,
            pending_marking_secs: 300,
            refused_body_drain_bytes: 64 * 1024 * 1024,
            refused_body_drain_secs: 30,
        }
    }
}

impl Default for LogConfig {
    fn default() -> Self {
        Self {
            format: LogFormat::Text,
            level: "info".into(),
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("{path}: {source}")]
    Read {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{path}: {message}")]
    Parse { path: PathBuf, message: String },
    #[error("environment variable {name}: {message}")]
    Env { name: String, message: String },
    #[error("insecure configuration: {0}")]
    Insecure(String),
    #[error("invalid configuration: {0}")]
    Invalid(String),
}

/// Environment variables with the `RELAIS_` prefix that are not configuration keys.
const NON_CONFIG_VARS: &[&str] = &["RELAIS_DATA", "RELAIS_CONFIG"];
const NON_CONFIG_PREFIXES: &[&str] = &["RELAIS_TEST_"];

impl Config {
    /// Parses TOML text, refusing unknown keys.
    pub fn from_toml(text: &str, path: &Path) -> Result<Self, ConfigError> {
        let table: toml::Table = toml::from_str(text).map_err(|e| ConfigError::Parse {
            path: path.to_owned(),
            message: one_line(&e.to_string()),
        })?;
        Self::from_table(table, path)
    }

    fn from_table(table: toml::Table, path: &Path) -> Result<Self, ConfigError> {
        Config::deserialize(toml::Value::Table(table)).map_err(|e| ConfigError::Parse {
            path: path.to_owned(),
            message: one_line(&e.to_string()),
        })
    }

    /// Reads the file (or the defaults if it is absent) and applies the environment.
    pub fn load(
        path: &Path,
        env: impl IntoIterator<Item = (String, String)>,
    ) -> Result<Self, ConfigError> {
        let text = match std::fs::read_to_string(path) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => String::new(),
            Err(source) => {
                return Err(ConfigError::Read {
                    path: path.to_owned(),
                    source,
                });
            }
        };
        let mut table: toml::Table = toml::from_str(&text).map_err(|e| ConfigError::Parse {
            path: path.to_owned(),
            message: one_line(&e.to_string()),
        })?;
        apply_env(&mut table, env)?;
        Self::from_table(table, path)
    }

    /// Every environment variable that overrides a key, with the key it sets.
    pub fn env_variables() -> Vec<(String, String)> {
        let mut out = Vec::new();
        if let Ok(toml::Value::Table(table)) = toml::Value::try_from(Config::default()) {
            for (section, value) in &table {
                if let toml::Value::Table(keys) = value {
                    for key in keys.keys() {
                        out.push((env_name(section, key), format!("{section}.{key}")));
                    }
                }
            }
        }
        out
    }

    /// Resolves a path from the config against the data directory.
    pub fn resolve(&self, data_dir: &Path, path: &Path) -> PathBuf {
        if path.is_absolute() {
            path.to_owned()
        } else {
            data_dir.join(path)
        }
    }

    /// Refuses combinations that would run the hub insecurely, with a one-line reason.
    pub fn check(&self, data_dir: &Path) -> Result<(), ConfigError> {
        if self.pki.demo && !self.pki.allow_demo_on_network {
            for (name, addr) in [
                ("listen.main", self.listen.main),
                ("listen.public", self.listen.public),
            ] {
                if !addr.ip().is_loopback() {
                    return Err(ConfigError::Insecure(format!(
                        "{name} = {addr} is not a loopback address, but this data directory uses \
                         the generated development PKI and demo certificates; issue a production \
                         PKI or set pki.allow_demo_on_network = true"
                    )));
                }
            }
        }
        for (what, path) in [
            ("tls.server_key", &self.tls.server_key),
            ("tls.ca_key", &self.tls.ca_key),
        ] {
            let path = self.resolve(data_dir, path);
            if path.exists() {
                crate::pki::files::check_private_mode(what, &path)
                    .map_err(|e| ConfigError::Insecure(e.to_string()))?;
            }
        }
        let l = &self.limits;
        if l.body_bytes == 0 || l.max_connections == 0 || l.handshake_timeout_secs == 0 {
            return Err(ConfigError::Invalid(
                "limits.body_bytes, limits.max_connections and limits.handshake_timeout_secs \
                 must be above 0"
                    .into(),
            ));
        }
        if l.header_bytes < 8192 {
            return Err(ConfigError::Invalid(
                "limits.header_bytes must be at least 8192".into(),
            ));
        }
        if self.database.max_connections == 0 {
            return Err(ConfigError::Invalid(
                "database.max_connections must be above 0".into(),
            ));
        }
        crate::domain::principal::validate_name("hub organisation", &self.hub.organisation)
            .map_err(|e| ConfigError::Invalid(e.to_string()))?;
        if self.registry.deadline_check_secs == 0 {
            return Err(ConfigError::Invalid(
                "registry.deadline_check_secs must be above 0".into(),
            ));
        }
        let c = &self.cases;
        if c.shortlist_size < 2 {
            return Err(ConfigError::Invalid(
                "cases.shortlist_size must be at least 2: the beneficiary chooses among several \
                 providers"
                    .into(),
            ));
        }
        for (key, value) in [
            ("cases.answer_within", &c.answer_within),
            ("cases.choice_link_valid", &c.choice_link_valid),
        ] {
            if parse_duration(value).is_none_or(|d| d > time::Duration::days(30)) {
                return Err(ConfigError::Invalid(format!(
                    "{key} = {value:?}: a duration such as 4h, 90m, 1h30m, at most 30d"
                )));
            }
        }
        if c.handoff_check_secs == 0 {
            return Err(ConfigError::Invalid(
                "cases.handoff_check_secs must be above 0".into(),
            ));
        }
        if crate::domain::reports::deadlines::parse_month_day(&self.reports.annual_summary_due)
            .is_none()
        {
            return Err(ConfigError::Invalid(format!(
                "reports.annual_summary_due = {:?}: a day of the year as MM-DD, such as 01-31",
                self.reports.annual_summary_due
            )));
        }
        if self.reports.deadline_check_secs == 0 {
            return Err(ConfigError::Invalid(
                "reports.deadline_check_secs must be above 0".into(),
            ));
        }
        if self.statistics.min_group < 2 {
            return Err(ConfigError::Invalid(
                "statistics.min_group must be at least 2: a group of one names its beneficiary"
                    .into(),
            ));
        }
        if self.audit.checkpoint_entries == 0 || self.audit.checkpoint_secs == 0 {
            return Err(ConfigError::Invalid(
                "audit.checkpoint_entries and audit.checkpoint_secs must be above 0".into(),
            ));
        }
        self.taxii_url(self.listen.main.port())?;
        if self.audit_origin().chars().any(char::is_control) {
            return Err(ConfigError::Invalid(
                "audit.origin must not hold control characters".into(),
            ));
        }
        Ok(())
    }
}

/// Checks a configured public URL, `https://HOST[:PORT]` (one trailing `/` allowed), and
/// gives it without the slash; the error completes "taxii.public_url …". Clients are sent
/// to exactly this address, so anything they could read differently (a path, a query, user
/// information, an empty or out-of-range port) is refused rather than passed on.
fn parse_public_url(url: &str) -> Result<String, String> {
    let refuse = |why: &str| Err(format!("= {url:?}: {why}; expected https://HOST[:PORT]"));
    let Some(rest) = url
        .get(..8)
        .filter(|s| s.eq_ignore_ascii_case("https://"))
        .and(url.get(8..))
    else {
        return refuse("not an https URL");
    };
    let authority = rest.strip_suffix('/').unwrap_or(rest);
    if let Some(c) = authority
        .chars()
        .find(|c| matches!(c, '/' | '?' | '#' | '@' | '\\'))
    {
        return refuse(&format!("a URL with {c:?} after the host"));
    }
    let (host, port) = match authority.strip_prefix('[') {
        Some(v6) => match v6.split_once(']') {
            Some((addr, after)) if addr.parse::<std::net::Ipv6Addr>().is_ok() => {
                (&authority[..addr.len() + 2], after)
            }
            _ => return refuse("not an IPv6 address in brackets"),
        },
        None => match authority.find(':') {
            Some(i) => authority.split_at(i),
            None => (authority, ""),
        },
    };
    if !host.starts_with('[') && !is_host_name(host) {
        return refuse("no valid host name");
    }
    if port.is_empty() {
        return Ok(format!("https://{host}"));
    }
    // Digits only: `u16::from_str` would also take a sign.
    match port
        .strip_prefix(':')
        .filter(|digits| !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit()))
        .and_then(|digits| digits.parse::<u16>().ok())
    {
        Some(port) if port > 0 => Ok(format!("https://{host}:{port}")),
        _ => refuse("no valid port after the host"),
    }
}

/// A DNS name or an IPv4 address: dot-separated labels of letters, digits and inner hyphens.
fn is_host_name(host: &str) -> bool {
    !host.is_empty()
        && host.len() <= 253
        && host.split('.').all(|label| {
            !label.is_empty()
                && label.len() <= 63
                && !label.starts_with('-')
                && !label.ends_with('-')
                && label
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-')
        })
}

fn env_name(section: &str, key: &str) -> String {
    format!("RELAIS_{}_{}", section.to_uppercase(), key.to_uppercase())
}

fn one_line(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// Overlays `RELAIS_<SECTION>_<KEY>` variables on the table. A value is read as TOML when it
/// parses as one (numbers, booleans, arrays) and as a plain string otherwise. A `RELAIS_`
/// variable that names no key is refused, so a typo is not silently ignored.
fn apply_env(
    table: &mut toml::Table,
    env: impl IntoIterator<Item = (String, String)>,
) -> Result<(), ConfigError> {
    let known = Config::env_variables();
    for (name, raw) in env {
        if !name.starts_with("RELAIS_")
            || NON_CONFIG_VARS.contains(&name.as_str())
            || NON_CONFIG_PREFIXES.iter().any(|p| name.starts_with(p))
        {
            continue;
        }
        let Some((_, key)) = known.iter().find(|(var, _)| *var == name) else {
            return Err(ConfigError::Env {
                name,
                message: "names no configuration key (see `relais config env`)".into(),
            });
        };
        let Some((section, key)) = key.split_once('.') else {
            continue;
        };
        let value = toml::from_str::<toml::Table>(&format!("v = {raw}"))
            .ok()
            .and_then(|mut t| t.remove("v"))
            .unwrap_or_else(|| toml::Value::String(raw.clone()));
        let section = table
            .entry(section.to_owned())
            .or_insert_with(|| toml::Value::Table(toml::Table::new()));
        match section {
            toml::Value::Table(t) => {
                t.insert(key.to_owned(), value);
            }
            _ => {
                return Err(ConfigError::Env {
                    name,
                    message: "its section is not a table in the config file".into(),
                });
            }
        }
    }
    Ok(())
}

/// The commented configuration written into a new data directory.
pub fn default_file_text() -> String {
    let body = toml::to_string_pretty(&Config::default()).unwrap_or_default();
    format!(
        "# relais configuration. Unknown keys are refused. Every key can be overridden by an\n\
         # environment variable RELAIS_<SECTION>_<KEY> (e.g. RELAIS_DATABASE_URL); list them with\n\
         # `relais config env`. Relative paths are taken from the data directory.\n\
         # PostgreSQL: url = \"postgres://relais@db.example/relais\".\n\n{body}"
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(a, b)| (a.to_string(), b.to_string()))
            .collect()
    }

    #[test]
    fn durations_read_as_written() {
        assert_eq!(parse_duration("4h"), Some(time::Duration::hours(4)));
        assert_eq!(parse_duration("1h30m"), Some(time::Duration::minutes(90)));
        assert_eq!(parse_duration("45s"), Some(time::Duration::seconds(45)));
        for bad in ["", "4", "h", "0h", "4x", "-1h", "99999999999999999999h"] {
            assert_eq!(parse_duration(bad), None, "{bad}");
        }
    }

    #[test]
    fn default_file_round_trips() {
        let cfg = Config::from_toml(&default_file_text(), Path::new("x.toml")).unwrap();
        assert_eq!(cfg, Config::default());
    }

    #[test]
    fn unknown_keys_are_refused() {
        let err = Config::from_toml("[listen]\nmian = \"127.0.0.1:1\"\n", Path::new("r.toml"))
            .unwrap_err()
            .to_string();
        assert!(err.contains("mian"), "{err}");
        assert!(!err.contains('\n'));
    }

    #[test]
    fn environment_overrides_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("relais.toml");
        std::fs::write(&path, "[database]\nurl = \"sqlite://a.db\"\n").unwrap();
        let cfg = Config::load(
            &path,
            env(&[
                ("RELAIS_DATABASE_URL", "postgres://u@h/db"),
                ("RELAIS_LIMITS_BODY_BYTES", "2048"),
                ("RELAIS_LOG_FORMAT", "json"),
                ("RELAIS_TEST_POSTGRES_URL", "ignored"),
                ("HOME", "/root"),
            ]),
        )
        .unwrap();
        assert_eq!(cfg.database.url, "postgres://u@h/db");
        assert_eq!(cfg.limits.body_bytes, 2048);
        assert_eq!(cfg.log.format, LogFormat::Json);
    }

    #[test]
    fn unknown_relais_variable_is_refused() {
        let err = Config::load(
            Path::new("/nonexistent"),
            env(&[("RELAIS_DATABSE_URL", "x")]),
        )
        .unwrap_err()
        .to_string();
        assert!(err.contains("RELAIS_DATABSE_URL"), "{err}");
    }

    #[test]
    fn report_settings_are_checked() {
        let dir = tempfile::tempdir().unwrap();
        assert!(Config::default().check(dir.path()).is_ok());
        for due in ["13-01", "01-32", "31-01", "january", ""] {
            let mut cfg = Config::default();
            cfg.reports.annual_summary_due = due.into();
            let err = cfg.check(dir.path()).unwrap_err().to_string();
            assert!(err.contains("reports.annual_summary_due"), "{due}: {err}");
        }
        let mut cfg = Config::default();
        cfg.statistics.min_group = 1;
        let err = cfg.check(dir.path()).unwrap_err().to_string();
        assert!(err.contains("statistics.min_group"), "{err}");
        let mut cfg = Config::default();
        cfg.reports.deadline_check_secs = 0;
        assert!(cfg.check(dir.path()).is_err());
    }

    #[test]
    fn demo_pki_stays_on_loopback() {
        let dir = tempfile::tempdir().unwrap();
        let mut cfg = Config::default();
        cfg.listen.main = "0.0.0.0:8443".parse().unwrap();
        let err = cfg.check(dir.path()).unwrap_err().to_string();
        assert!(
            err.starts_with("insecure configuration: listen.main"),
            "{err}"
        );
        cfg.pki.allow_demo_on_network = true;
        assert!(cfg.check(dir.path()).is_ok());
        cfg.pki.allow_demo_on_network = false;
        cfg.pki.demo = false;
        assert!(cfg.check(dir.path()).is_ok());
    }

    #[test]
    fn taxii_public_url_is_an_https_origin_and_nothing_more() {
        let mut cfg = Config::default();
        assert_eq!(cfg.taxii_url(8443).unwrap(), "https://localhost:8443");
        cfg.pki.server_names = vec!["::1".into()];
        assert_eq!(cfg.taxii_url(40000).unwrap(), "https://[::1]:40000");
        for (given, used) in [
            ("https://hub.csirt.re:8443", "https://hub.csirt.re:8443"),
            ("https://hub.csirt.re:8443/", "https://hub.csirt.re:8443"),
            ("HTTPS://hub.csirt.re", "https://hub.csirt.re"),
            ("https://192.0.2.7:08443", "https://192.0.2.7:8443"),
            ("https://[2001:db8::7]:8443", "https://[2001:db8::7]:8443"),
            ("https://[::1]", "https://[::1]"),
        ] {
            cfg.taxii.public_url = given.into();
            assert_eq!(cfg.taxii_url(1).unwrap(), used, "{given}");
        }
        for refused in [
            "http://hub.csirt.re:8443",
            "hub.csirt.re:8443",
            "https://",
            "https://:8443",
            "https://hub.csirt.re:",
            "https://hub.csirt.re:0",
            "https://hub.csirt.re:65536",
            "https://hub.csirt.re:+443",
            "https://hub.csirt.re:84é",
            "https://hub.csirt.re:8443/taxii2/",
            "https://hub.csirt.re:8443//",
            "https://hub.csirt.re?x=1",
            "https://hub.csirt.re#top",
            "https://user@hub.csirt.re",
            "https://hub.csirt.re\\evil",
            "https://hub_csirt.re",
            "https://-hub.csirt.re",
            "https://hub..csirt.re",
            "https://hub.csirt.re:8443 ",
            "https://[::1",
            "https://[hub]:8443",
            "https://[::1]x",
            "https://[::1]:8443x",
        ] {
            cfg.taxii.public_url = refused.into();
            let err = cfg.taxii_url(1).unwrap_err().to_string();
            assert!(
                err.starts_with("invalid configuration: taxii.public_url = ")
                    && !err.contains('\n'),
                "{refused}: {err}"
            );
            let dir = tempfile::tempdir().unwrap();
            assert!(cfg.check(dir.path()).is_err(), "{refused}");
        }
    }

    #[test]
    fn readable_key_is_refused() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join("certs")).unwrap();
        let key = dir.path().join("certs/server-key.pem");
        std::fs::write(&key, "k").unwrap();
        std::fs::set_permissions(&key, std::fs::Permissions::from_mode(0o644)).unwrap();
        let err = Config::default().check(dir.path()).unwrap_err().to_string();
        assert!(
            err.contains("tls.server_key") && err.contains("644"),
            "{err}"
        );
    }
}
