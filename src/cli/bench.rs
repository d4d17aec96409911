//! `relais bench`: a small load generator against a running hub's main (mTLS) listener.
//!
//! - `handshakes`: each of N tasks loops on a new TCP connection, a full TLS handshake with the
//!   client certificate (session resumption disabled), one `GET /api/v1/whoami` with
//!   `Connection: close`, the whole response read, then close.
//! - `whoami`: N kept-alive HTTP/1.1 connections, each sending `GET /api/v1/whoami` one after
//!   the other.
//!
//! - `ingest`: `--objects` distinct, valid STIX 2.1 indicators (TLP 2.0 GREEN/AMBER, PAP GREEN)
//!   posted in envelopes of `--batch` objects over `--connections` kept-alive connections; every
//!   status resource must report all objects stored.
//! - `read`: one connection pages through a whole collection (`limit=--page`, then `next`).
//! - `query`: walks the collection's manifest first (untimed) to learn its ids and date range,
//!   then times `--requests` requests over `--connections` connections: `match[id]=X` for
//!   random stored ids, or `added_after=T&limit=--query-limit` for random T in the range.
//!
//! `handshakes` and `whoami` stop after `--duration` seconds; the others after their work is
//! done. It only ever connects to `--target`.
//!
//! `audit-verify` connects to nothing: see `bench_audit`.

use std::fmt::Write as _;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use clap::{Args, ValueEnum};
use http_body_util::{BodyExt, Empty, Full};
use hyper::body::{Bytes, Incoming};
use hyper::client::conn::http1::{self, SendRequest};
use hyper::{Method, Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use rustls_pki_types::ServerName;
use serde::Deserialize;
use serde::de::IgnoredAny;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;
use tokio::net::TcpStream;
use tokio::task::JoinSet;
use tokio_rustls::TlsConnector;
use tokio_rustls::client::TlsStream;

use super::CliError;
use crate::http::tls::{client_config, read_private_key};
use crate::pki::certificate::read_pem_certificates;

/// One connection or request that takes longer than this counts as an error.
const OP_TIMEOUT: Duration = Duration::from_secs(10);
/// Pause after a failed connection, so that a stopped hub is not hammered in a tight loop.
const ERROR_BACKOFF: Duration = Duration::from_millis(20);
const WHOAMI: &str = "/api/v1/whoami";
/// One TAXII request (an envelope of up to 10 MiB, a page of 1000 objects) that takes longer
/// than this counts as an error.
const TAXII_TIMEOUT: Duration = Duration::from_secs(120);
const TAXII: &str = "application/taxii+json;version=2.1";
/// The community collection, which the CSIRT analyst may read and write.
const COMMUNITY: &str = "9cfa669c-ee94-4ece-afd2-f8edac37d8fd";
const TLP2_GREEN: &str = "marking-definition--bab4a63c-aed9-4cf5-a766-dfca5abac2bb";
const TLP2_AMBER: &str = "marking-definition--55d920b0-5e8b-4f79-9ee9-91f868d9b421";
const PAP_GREEN: &str = "marking-definition--c43594d1-4b11-4c59-93ab-1c9b14d53ce9";

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum BenchMode {
    /// A new mTLS connection (full handshake) per authenticated request.
    Handshakes,
    /// Sequential requests on kept-alive HTTP/1.1 connections.
    Whoami,
    /// TAXII envelopes of generated indicators posted over kept-alive connections.
    Ingest,
    /// A whole collection read page by page.
    Read,
    /// Filtered TAXII reads (`match[id]` or `added_after`) against stored objects.
    Query,
    /// Offline verification of a synthetic audit log export (no hub needed).
    AuditVerify,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum QueryKind {
    /// `match[id]=X` for ids sampled from the collection.
    Id,
    /// `added_after=T&limit=--query-limit` for T drawn in the collection's date range.
    AddedAfter,
}

#[derive(Debug, Args)]
pub struct BenchArgs {
    /// What to measure.
    #[arg(value_enum)]
    pub mode: BenchMode,
    /// Address of the hub's main (mTLS) listener; its IP is also the TLS server name.
    #[arg(long, default_value = "127.0.0.1:8443")]
    pub target: SocketAddr,
    /// Client certificate (PEM) [default: DATA/certs/demo/csirt-analyst.pem].
    #[arg(long, requires = "key")]
    pub cert: Option<PathBuf>,
    /// Client private key (PEM) [default: DATA/certs/demo/csirt-analyst-key.pem].
    #[arg(long, requires = "cert")]
    pub key: Option<PathBuf>,
    /// CA certificate the hub's server certificate chains to [default: DATA/certs/ca.pem].
    #[arg(long)]
    pub ca: Option<PathBuf>,
    /// Concurrent connections.
    #[arg(long, default_value_t = 16)]
    pub connections: usize,
    /// How long to generate load, in seconds (handshakes, whoami).
    #[arg(long, default_value_t = 10)]
    pub duration: u64,
    /// TAXII collection (ingest, read, query) [default: community].
    #[arg(long, default_value = COMMUNITY)]
    pub collection: String,
    /// ingest: how many indicators to generate and post.
    #[arg(long, default_value_t = 100_000)]
    pub objects: u64,
    /// ingest: indicators per envelope.
    #[arg(long, default_value_t = 1000)]
    pub batch: u64,
    /// read, and the manifest walk of query: page size (`limit`, at most 1000).
    #[arg(long, default_value_t = 1000)]
    pub page: u32,
    /// query: which filter to time.
    #[arg(long, value_enum, default_value_t = QueryKind::Id)]
    pub kind: QueryKind,
    /// query: how many timed requests.
    #[arg(long, default_value_t = 1000)]
    pub requests: u64,
    /// query: `limit` of each `added_after` request.
    #[arg(long, default_value_t = 100)]
    pub query_limit: u32,
    /// ingest: append `ID DATE` lines (id, and the time its envelope was sent) to this file;
    /// query: take the ids and the date range from it instead of walking the manifest.
    #[arg(long)]
    pub ids_file: Option<PathBuf>,
    /// audit-verify: entries in the synthetic export.
    #[arg(long, default_value_t = 1_000_000)]
    pub entries: u64,
    /// Process id of the hub (when it runs on this machine): its CPU time during the run and
    /// its memory (VmRSS, VmHWM) are read from /proc and printed.
    #[arg(long)]
    pub hub_pid: Option<u32>,
}

/// What to connect to and how; cheap to clone into each task.
#[derive(Clone)]
struct Target {
    addr: SocketAddr,
    name: ServerName<'static>,
    connector: TlsConnector,
}

impl Target {
    async fn connect(&self) -> Result<TlsStream<TcpStream>, String> {
        let tcp = TcpStream::connect(self.addr)
            .await
            .map_err(|e| format!("connect {}: {e}", self.addr))?;
        tcp.set_nodelay(true)
            .map_err(|e| format!("set TCP_NODELAY: {e}"))?;
        self.connector
            .connect(self.name.clone(), tcp)
            .await
            .map_err(|e| format!("TLS handshake: {e}"))
    }

    fn whoami_request(&self, close: bool) -> Result<Request<Empty<Bytes>>, String> {
        let mut builder = Request::get(WHOAMI).header(hyper::header::HOST, self.addr.to_string());
        if close {
            builder = builder.header(hyper::header::CONNECTION, "close");
        }
        builder.body(Empty::new()).map_err(|e| e.to_string())
    }
}

/// Reads the whole response; anything but 200 is an error.
async fn read_response(response: Response<Incoming>) -> Result<Bytes, String> {
    let status = response.status();
    let body = response
        .into_body()
        .collect()
        .await
        .map_err(|e| format!("response body: {e}"))?
        .to_bytes();
    if status != StatusCode::OK {
        return Err(format!("HTTP status {status}"));
    }
    Ok(body)
}

/// One request on an already established TLS stream, with `Connection: close`, driving the
/// connection until it is closed.
async fn request_and_close(target: &Target, tls: TlsStream<TcpStream>) -> Result<Bytes, String> {
    let (mut sender, conn) = http1::handshake::<_, Empty<Bytes>>(TokioIo::new(tls))
        .await
        .map_err(|e| format!("HTTP handshake: {e}"))?;
    let request = target.whoami_request(true)?;
    let exchange = async move {
        let response = sender
            .send_request(request)
            .await
            .map_err(|e| format!("request: {e}"))?;
        read_response(response).await
    };
    let (body, closed) = tokio::join!(exchange, conn);
    let body = body?;
    closed.map_err(|e| format!("connection: {e}"))?;
    Ok(body)
}

/// One full cycle of the `handshakes` mode.
async fn handshake_once(target: &Target) -> Result<(), String> {
    let tls = target.connect().await?;
    // Resumption is disabled on the client; make sure every connection counted really paid
    // for a full handshake.
    let kind = tls.get_ref().1.handshake_kind();
    if kind != Some(rustls::HandshakeKind::Full) {
        return Err(format!("not a plain full handshake: {kind:?}"));
    }
    request_and_close(target, tls).await.map(drop)
}

/// A kept-alive HTTP/1.1 connection; its driver runs in its own task until the sender is
/// dropped.
async fn open_keepalive<B>(target: &Target) -> Result<SendRequest<B>, String>
where
    B: hyper::body::Body + Send + 'static,
    B::Data: Send,
    B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    let tls = target.connect().await?;
    let (sender, conn) = http1::handshake(TokioIo::new(tls))
        .await
        .map_err(|e| format!("HTTP handshake: {e}"))?;
    tokio::spawn(async move {
        let _ = conn.await;
    });
    Ok(sender)
}

async fn keepalive_once(
    target: &Target,
    sender: &mut SendRequest<Empty<Bytes>>,
) -> Result<(), String> {
    sender
        .ready()
        .await
        .map_err(|e| format!("connection: {e}"))?;
    let response = sender
        .send_request(target.whoami_request(false)?)
        .await
        .map_err(|e| format!("request: {e}"))?;
    read_response(response).await.map(drop)
}

/// What one task measured.
#[derive(Debug, Default)]
struct Tally {
    /// Latency of each successful operation, in microseconds.
    latencies_us: Vec<u64>,
    errors: u64,
    first_error: Option<String>,
}

impl Tally {
    fn ok(&mut self, took: Duration) {
        self.latencies_us
            .push(u64::try_from(took.as_micros()).unwrap_or(u64::MAX));
    }

    fn error(&mut self, message: String) {
        self.errors += 1;
        if self.first_error.is_none() {
            self.first_error = Some(message);
        }
    }

    fn merge(&mut self, other: Self) {
        self.latencies_us.extend(other.latencies_us);
        self.errors += other.errors;
        if self.first_error.is_none() {
            self.first_error = other.first_error;
        }
    }
}

async fn timed<T>(op: impl Future<Output = Result<T, String>>) -> Result<(T, Duration), String> {
    timed_for(OP_TIMEOUT, op).await
}

async fn timed_for<T>(
    limit: Duration,
    op: impl Future<Output = Result<T, String>>,
) -> Result<(T, Duration), String> {
    let start = Instant::now();
    match tokio::time::timeout(limit, op).await {
        Ok(Ok(value)) => Ok((value, start.elapsed())),
        Ok(Err(e)) => Err(e),
        Err(_) => Err(format!("timed out after {} s", limit.as_secs())),
    }
}

async fn handshakes_worker(target: Target, deadline: Instant) -> Tally {
    let mut tally = Tally::default();
    while Instant::now() < deadline {
        match timed(handshake_once(&target)).await {
            Ok(((), took)) => tally.ok(took),
            Err(e) => {
                tally.error(e);
                tokio::time::sleep(ERROR_BACKOFF).await;
            }
        }
    }
    tally
}

async fn whoami_worker(
    target: Target,
    mut sender: Option<SendRequest<Empty<Bytes>>>,
    deadline: Instant,
) -> Tally {
    let mut tally = Tally::default();
    while Instant::now() < deadline {
        let mut current = match sender.take() {
            Some(s) => s,
            // The previous connection failed: open another (its handshake is not timed).
            None => match timed(open_keepalive(&target)).await {
                Ok((s, _)) => s,
                Err(e) => {
                    tally.error(e);
                    tokio::time::sleep(ERROR_BACKOFF).await;
                    continue;
                }
            },
        };
        match timed(keepalive_once(&target, &mut current)).await {
            Ok(((), took)) => {
                tally.ok(took);
                sender = Some(current);
            }
            Err(e) => tally.error(e),
        }
    }
    tally
}

/// Nearest-rank percentile of sorted values, in milliseconds.
fn percentile_ms(sorted_us: &[u64], q: f64) -> f64 {
    if sorted_us.is_empty() {
        return 0.0;
    }
    let rank = (q * sorted_us.len() as f64).ceil() as usize;
    let index = rank.clamp(1, sorted_us.len()) - 1;
    sorted_us.get(index).copied().unwrap_or(0) as f64 / 1000.0
}

fn check_args(args: &BenchArgs) -> Result<(), CliError> {
    let usage = |m: &str| Err(CliError::Usage(m.into()));
    if args.connections == 0 {
        return usage("--connections must be above 0");
    }
    match args.mode {
        BenchMode::Handshakes | BenchMode::Whoami if args.duration == 0 => {
            usage("--duration must be above 0")
        }
        BenchMode::Ingest if args.objects == 0 || args.batch == 0 => {
            usage("--objects and --batch must be above 0")
        }
        BenchMode::Read | BenchMode::Query if args.page == 0 || args.page > 1000 => {
            usage("--page must be between 1 and 1000")
        }
        BenchMode::Query if args.requests == 0 || args.query_limit == 0 => {
            usage("--requests and --query-limit must be above 0")
        }
        _ => Ok(()),
    }
}

pub async fn run(args: BenchArgs, data: &Path) -> Result<(), CliError> {
    if args.mode == BenchMode::AuditVerify {
        return super::bench_audit::run(args.entries).await;
    }
    check_args(&args)?;
    let demo = crate::services::bootstrap::demo_dir(data);
    let cert = args
        .cert
        .clone()
        .unwrap_or_else(|| demo.join("csirt-analyst.pem"));
    let key = args
        .key
        .clone()
        .unwrap_or_else(|| demo.join("csirt-analyst-key.pem"));
    let ca = args
        .ca
        .clone()
        .unwrap_or_else(|| data.join("certs").join("ca.pem"));
    let roots = read_pem_certificates(&ca)?;
    let chain = read_pem_certificates(&cert)?;
    let key = read_private_key(&key)?;
    let mut config = client_config(&roots, Some((chain, key)))?;
    config.resumption = rustls::client::Resumption::disabled();
    // The load generator speaks HTTP/1.1 only.
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    let target = Target {
        addr: args.target,
        name: ServerName::IpAddress(args.target.ip().into()),
        connector: TlsConnector::from(Arc::new(config)),
    };

    // One probe before the load: a clear error if the hub is not there or refuses us, and the
    // negotiated parameters for the record.
    let probe = async {
        let tls = target.connect().await?;
        let (_, session) = tls.get_ref();
        let parameters = format!(
            "{}, {}, {}, ALPN {}",
            session
                .protocol_version()
                .map_or_else(|| "?".into(), |v| format!("{v:?}")),
            session
                .negotiated_cipher_suite()
                .map_or_else(|| "?".into(), |s| format!("{:?}", s.suite())),
            session
                .negotiated_key_exchange_group()
                .map_or_else(|| "?".into(), |g| format!("{:?}", g.name())),
            session.alpn_protocol().map_or_else(
                || "none".into(),
                |p| String::from_utf8_lossy(p).into_owned()
            )
        );
        let body = request_and_close(&target, tls).await?;
        let name = serde_json::from_slice::<serde_json::Value>(&body)
            .ok()
            .and_then(|v| v.get("name").and_then(|n| n.as_str()).map(str::to_owned))
            .unwrap_or_else(|| "?".into());
        Ok::<_, String>((parameters, name))
    };
    let (parameters, principal) = tokio::time::timeout(OP_TIMEOUT, probe)
        .await
        .map_err(|_| CliError::Usage(format!("probe of {} timed out", args.target)))?
        .map_err(|e| CliError::Usage(format!("probe of {} failed: {e}", args.target)))?;

    let hub_before = args.hub_pid.and_then(hub_stats);
    let peer = format!("{} ({parameters}, as {principal})", args.target);
    match args.mode {
        BenchMode::Handshakes | BenchMode::Whoami => run_load(&args, target, &peer).await?,
        BenchMode::Ingest => run_ingest(&args, &target, &peer).await?,
        BenchMode::Read => run_read(&args, &target, &peer).await?,
        BenchMode::Query => run_query(&args, &target, &peer).await?,
        BenchMode::AuditVerify => {}
    }
    if let Some(pid) = args.hub_pid {
        print_hub(pid, hub_before);
    }
    Ok(())
}

/// `handshakes` and `whoami`.
async fn run_load(args: &BenchArgs, target: Target, peer: &str) -> Result<(), CliError> {
    let mut workers = JoinSet::new();
    let started = match args.mode {
        BenchMode::Handshakes => {
            let started = Instant::now();
            let deadline = started + Duration::from_secs(args.duration);
            for _ in 0..args.connections {
                workers.spawn(handshakes_worker(target.clone(), deadline));
            }
            started
        }
        BenchMode::Whoami => {
            // Handshakes happen before the clock starts.
            let mut opening = JoinSet::new();
            for _ in 0..args.connections {
                let target = target.clone();
                opening.spawn(async move { timed(open_keepalive::<Empty<Bytes>>(&target)).await });
            }
            let mut senders = Vec::with_capacity(args.connections);
            while let Some(opened) = opening.join_next().await {
                let (sender, _) = opened
                    .map_err(|e| CliError::Usage(format!("bench task failed: {e}")))?
                    .map_err(|e| CliError::Usage(format!("cannot open a connection: {e}")))?;
                senders.push(sender);
            }
            let started = Instant::now();
            let deadline = started + Duration::from_secs(args.duration);
            for sender in senders {
                workers.spawn(whoami_worker(target.clone(), Some(sender), deadline));
            }
            started
        }
        _ => return Err(CliError::Usage("not a duration-bound mode".into())),
    };
    let mut tally = Tally::default();
    while let Some(done) = workers.join_next().await {
        tally.merge(done.map_err(|e| CliError::Usage(format!("bench task failed: {e}")))?);
    }
    let elapsed = started.elapsed();

    let mut sorted = tally.latencies_us;
    sorted.sort_unstable();
    let completed = sorted.len();
    let rate = completed as f64 / elapsed.as_secs_f64();
    let (what, unit) = match args.mode {
        BenchMode::Handshakes => (
            "handshakes (new connection, full mTLS handshake, GET /api/v1/whoami, close)",
            "connections/s",
        ),
        BenchMode::Whoami => (
            "whoami (GET /api/v1/whoami on kept-alive HTTP/1.1 connections)",
            "requests/s",
        ),
        _ => ("?", "operations/s"),
    };
    println!("mode         {what}");
    println!("target       {peer}");
    println!("connections  {}", args.connections);
    println!("duration     {:.2} s", elapsed.as_secs_f64());
    println!("completed    {completed}");
    println!("errors       {}", tally.errors);
    println!("rate         {rate:.1} {unit}");
    println!("latency p50  {:.2} ms", percentile_ms(&sorted, 0.50));
    println!("latency p99  {:.2} ms", percentile_ms(&sorted, 0.99));
    println!("latency max  {:.2} ms", percentile_ms(&sorted, 1.0));
    if let Some(e) = tally.first_error {
        println!("first error  {e}");
    }
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// TAXII modes: ingest, read, query.

type TaxiiSender = SendRequest<Full<Bytes>>;

/// A small, fast pseudo-random generator (SplitMix64); good enough to spread load.
struct SplitMix(u64);

impl SplitMix {
    fn seeded() -> Self {
        Self(uuid::Uuid::new_v4().as_u64_pair().0)
    }

    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// Uniform in `0..n` (n > 0), near enough.
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }
}

/// STIX / TAXII timestamps: UTC, `digits` fractional digits (3 or 6).
fn timestamp(at: OffsetDateTime, micros: bool) -> String {
    let at = at.to_offset(time::UtcOffset::UTC);
    let fraction = if micros {
        format!("{:06}", at.microsecond())
    } else {
        format!("{:03}", at.millisecond())
    };
    format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{fraction}Z",
        at.year(),
        u8::from(at.month()),
        at.day(),
        at.hour(),
        at.minute(),
        at.second(),
    )
}

/// Generates distinct, valid STIX 2.1 indicators: a random UUID each, one of three pattern
/// kinds (IPv4 address, domain name, file SHA-256), TLP 2.0 GREEN or AMBER and PAP GREEN.
struct Generator {
    /// Differs between runs, so that two runs never post the same observable values.
    salt: u64,
    /// `created` / `modified` / `valid_from` of the run.
    created: String,
}

impl Generator {
    fn new() -> Self {
        Self {
            salt: SplitMix::seeded().next(),
            created: timestamp(OffsetDateTime::now_utc(), false),
        }
    }

    fn indicator(&self, n: u64, out: &mut String) -> uuid::Uuid {
        let mut mix = SplitMix(self.salt ^ n.wrapping_mul(0x2545_f491_4f6c_dd1d));
        let h = mix.next();
        let (name, pattern) = match n % 3 {
            0 => {
                let [a, b, c, d, ..] = h.to_be_bytes();
                // Public first octets only: private, reserved and documentation ranges would
                // be refused when the bench targets the submissions collection (anonymiser).
                const PUBLIC: [u8; 12] = [5, 23, 31, 45, 62, 77, 85, 91, 109, 185, 193, 212];
                let first = PUBLIC[usize::from(a) % PUBLIC.len()];
                let ip = format!("{first}.{b}.{c}.{}", 1 + d % 254);
                (
                    format!("Scanning host {ip}"),
                    format!("[ipv4-addr:value = '{ip}']"),
                )
            }
            1 => {
                let domain = format!("cdn-{h:016x}.badsite{}.com", n % 97);
                (
                    format!("Phishing domain {domain}"),
                    format!("[domain-name:value = '{domain}']"),
                )
            }
            _ => {
                let mut seed = [0u8; 16];
                seed[..8].copy_from_slice(&self.salt.to_be_bytes());
                seed[8..].copy_from_slice(&n.to_be_bytes());
                let digest = ring::digest::digest(&ring::digest::SHA256, &seed);
                let sha = hex::encode(digest.as_ref());
                (
                    format!("Dropper sample {}", &sha[..12]),
                    format!("[file:hashes.'SHA-256' = '{sha}']"),
                )
            }
        };
        let tlp = if h.is_multiple_of(4) {
            TLP2_AMBER
        } else {
            TLP2_GREEN
        };
        let created = &self.created;
        let id = uuid::Uuid::new_v4();
        let _ = write!(
            out,
            "{{\"type\":\"indicator\",\"spec_version\":\"2.1\",\"id\":\"indicator--{id}\",\
             \"created\":\"{created}\",\"modified\":\"{created}\",\"name\":\"{name}\",\
             \"indicator_types\":[\"malicious-activity\"],\"pattern\":\"{pattern}\",\
             \"pattern_type\":\"stix\",\"valid_from\":\"{created}\",\
             \"object_marking_refs\":[\"{tlp}\",\"{PAP_GREEN}\"]}}",
        );
        id
    }

    /// `{"objects":[…]}` with objects number `from..to`, and their ids.
    fn envelope(&self, from: u64, to: u64) -> (String, Vec<uuid::Uuid>) {
        let mut ids = Vec::with_capacity((to - from) as usize);
        let mut out = String::with_capacity(((to - from) as usize) * 450 + 16);
        out.push_str("{\"objects\":[");
        for n in from..to {
            if n > from {
                out.push(',');
            }
            ids.push(self.indicator(n, &mut out));
        }
        out.push_str("]}");
        (out, ids)
    }
}

impl Target {
    fn taxii_request(
        &self,
        method: Method,
        path: &str,
        body: Option<String>,
    ) -> Result<Request<Full<Bytes>>, String> {
        let mut builder = Request::builder()
            .method(method)
            .uri(path)
            .header(hyper::header::HOST, self.addr.to_string())
            .header(hyper::header::ACCEPT, TAXII);
        if body.is_some() {
            builder = builder.header(hyper::header::CONTENT_TYPE, TAXII);
        }
        builder
            .body(Full::new(body.map(Bytes::from).unwrap_or_default()))
            .map_err(|e| e.to_string())
    }
}

/// One request on a kept-alive connection; the status must be `expect`.
async fn exchange(
    sender: &mut TaxiiSender,
    request: Request<Full<Bytes>>,
    expect: StatusCode,
) -> Result<Bytes, String> {
    sender
        .ready()
        .await
        .map_err(|e| format!("connection: {e}"))?;
    let response = sender
        .send_request(request)
        .await
        .map_err(|e| format!("request: {e}"))?;
    let status = response.status();
    let body = response
        .into_body()
        .collect()
        .await
        .map_err(|e| format!("response body: {e}"))?
        .to_bytes();
    if status != expect {
        let text = String::from_utf8_lossy(&body[..body.len().min(300)]).into_owned();
        return Err(format!("HTTP status {status}: {text}"));
    }
    Ok(body)
}

fn encode(value: &str) -> String {
    form_urlencoded::byte_serialize(value.as_bytes()).collect()
}

fn objects_path(collection: &str) -> String {
    format!("/taxii2/api/collections/{}/objects/", encode(collection))
}

#[derive(Deserialize)]
struct StatusResource {
    success_count: u64,
    failure_count: u64,
    #[serde(default)]
    failures: Vec<StatusFailure>,
}

#[derive(Deserialize)]
struct StatusFailure {
    #[serde(default)]
    message: Option<String>,
}

/// A page of objects, counted but not kept.
#[derive(Deserialize)]
struct ObjectsPage {
    #[serde(default)]
    more: bool,
    #[serde(default)]
    next: Option<String>,
    #[serde(default)]
    objects: Vec<IgnoredAny>,
}

#[derive(Deserialize)]
struct ManifestPage {
    #[serde(default)]
    more: bool,
    #[serde(default)]
    next: Option<String>,
    #[serde(default)]
    objects: Vec<ManifestRecord>,
}

#[derive(Deserialize)]
struct ManifestRecord {
    id: String,
    date_added: String,
}

/// What every ingest task shares.
struct IngestPlan {
    generator: Generator,
    path: String,
    objects: u64,
    batch: u64,
    next_batch: AtomicU64,
    record_ids: bool,
}

#[derive(Default)]
struct IngestTally {
    envelopes: Tally,
    stored: u64,
    failed: u64,
    bytes: u64,
    /// `indicator--ID DATE` lines, with `--ids-file`.
    ids: Vec<String>,
}

/// Posts one envelope; all of its `count` objects must be reported stored.
async fn post_envelope(
    target: &Target,
    sender: &mut TaxiiSender,
    path: &str,
    body: String,
    count: u64,
) -> Result<(), String> {
    let request = target.taxii_request(Method::POST, path, Some(body))?;
    let body = exchange(sender, request, StatusCode::ACCEPTED).await?;
    let status: StatusResource =
        serde_json::from_slice(&body).map_err(|e| format!("status resource: {e}"))?;
    if status.success_count != count || status.failure_count != 0 {
        let first = status
            .failures
            .into_iter()
            .find_map(|f| f.message)
            .unwrap_or_default();
        return Err(format!(
            "{} of {count} stored, {} refused (first: {first})",
            status.success_count, status.failure_count
        ));
    }
    Ok(())
}

async fn ingest_worker(
    target: Target,
    plan: Arc<IngestPlan>,
    mut sender: Option<TaxiiSender>,
) -> IngestTally {
    let mut tally = IngestTally::default();
    loop {
        let batch = plan.next_batch.fetch_add(1, Ordering::Relaxed);
        let from = batch.saturating_mul(plan.batch);
        if from >= plan.objects {
            break;
        }
        let to = (from + plan.batch).min(plan.objects);
        let (body, ids) = plan.generator.envelope(from, to);
        let size = body.len() as u64;
        let sent = timestamp(OffsetDateTime::now_utc(), true);
        let mut current = match sender.take() {
            Some(s) => s,
            None => match timed(open_keepalive(&target)).await {
                Ok((s, _)) => s,
                Err(e) => {
                    tally.envelopes.error(e);
                    tally.failed += to - from;
                    tokio::time::sleep(ERROR_BACKOFF).await;
                    continue;
                }
            },
        };
        let post = post_envelope(&target, &mut current, &plan.path, body, to - from);
        match timed_for(TAXII_TIMEOUT, post).await {
            Ok(((), took)) => {
                tally.envelopes.ok(took);
                tally.stored += to - from;
                tally.bytes += size;
                if plan.record_ids {
                    tally
                        .ids
                        .extend(ids.iter().map(|id| format!("indicator--{id} {sent}")));
                }
                sender = Some(current);
            }
            Err(e) => {
                tally.envelopes.error(e);
                tally.failed += to - from;
            }
        }
    }
    tally
}

/// Opens `n` kept-alive connections before any clock starts.
async fn open_many(target: &Target, n: usize) -> Result<Vec<TaxiiSender>, CliError> {
    let mut opening = JoinSet::new();
    for _ in 0..n {
        let target = target.clone();
        opening.spawn(async move { timed(open_keepalive::<Full<Bytes>>(&target)).await });
    }
    let mut senders = Vec::with_capacity(n);
    while let Some(opened) = opening.join_next().await {
        let (sender, _) = opened
            .map_err(|e| CliError::Usage(format!("bench task failed: {e}")))?
            .map_err(|e| CliError::Usage(format!("cannot open a connection: {e}")))?;
        senders.push(sender);
    }
    Ok(senders)
}

fn print_latencies(label: &str, tally: &Tally) {
    let mut sorted = tally.latencies_us.clone();
    sorted.sort_unstable();
    println!(
        "{label:<12} p50 {:.2} ms, p99 {:.2} ms, max {:.2} ms",
        percentile_ms(&sorted, 0.50),
        percentile_ms(&sorted, 0.99),
        percentile_ms(&sorted, 1.0)
    );
}

async fn run_ingest(args: &BenchArgs, target: &Target, peer: &str) -> Result<(), CliError> {
    let plan = Arc::new(IngestPlan {
        generator: Generator::new(),
        path: objects_path(&args.collection),
        objects: args.objects,
        batch: args.batch,
        next_batch: AtomicU64::new(0),
        record_ids: args.ids_file.is_some(),
    });
    let senders = open_many(target, args.connections).await?;
    let started = Instant::now();
    let mut workers = JoinSet::new();
    for sender in senders {
        workers.spawn(ingest_worker(target.clone(), plan.clone(), Some(sender)));
    }
    let mut tally = IngestTally::default();
    while let Some(done) = workers.join_next().await {
        let done = done.map_err(|e| CliError::Usage(format!("bench task failed: {e}")))?;
        tally.envelopes.merge(done.envelopes);
        tally.stored += done.stored;
        tally.failed += done.failed;
        tally.bytes += done.bytes;
        tally.ids.extend(done.ids);
    }
    let elapsed = started.elapsed().as_secs_f64();
    if let Some(path) = &args.ids_file {
        use std::io::Write as _;
        let mut text = tally.ids.join("\n");
        if !text.is_empty() {
            text.push('\n');
        }
        std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(path)
            .and_then(|mut f| f.write_all(text.as_bytes()))
            .map_err(|e| CliError::Usage(format!("{}: {e}", path.display())))?;
    }
    println!("mode         ingest (POST TAXII envelopes of generated indicators)");
    println!("target       {peer}");
    println!("collection   {}", args.collection);
    println!("connections  {}", args.connections);
    println!("batch        {} objects per envelope", args.batch);
    println!("duration     {elapsed:.2} s");
    println!(
        "envelopes    {} ok, {} failed",
        tally.envelopes.latencies_us.len(),
        tally.envelopes.errors
    );
    println!(
        "objects      {} stored, {} in failed envelopes",
        tally.stored, tally.failed
    );
    println!(
        "rate         {:.1} objects/s",
        tally.stored as f64 / elapsed
    );
    println!(
        "throughput   {:.1} MB/s of envelopes",
        tally.bytes as f64 / elapsed / 1e6
    );
    print_latencies("envelope", &tally.envelopes);
    if let Some(e) = tally.envelopes.first_error {
        println!("first error  {e}");
    }
    Ok(())
}

async fn run_read(args: &BenchArgs, target: &Target, peer: &str) -> Result<(), CliError> {
    let mut sender = open_many(target, 1)
        .await?
        .pop()
        .ok_or_else(|| CliError::Usage("no connection".into()))?;
    let base = format!("{}?limit={}", objects_path(&args.collection), args.page);
    let mut pages = Tally::default();
    let mut objects = 0u64;
    let mut bytes = 0u64;
    let mut next: Option<String> = None;
    let started = Instant::now();
    loop {
        let path = match &next {
            Some(n) => format!("{base}&next={}", encode(n)),
            None => base.clone(),
        };
        let request = target
            .taxii_request(Method::GET, &path, None)
            .map_err(CliError::Usage)?;
        let (body, took) = timed_for(
            TAXII_TIMEOUT,
            exchange(&mut sender, request, StatusCode::OK),
        )
        .await
        .map_err(|e| CliError::Usage(format!("page {}: {e}", pages.latencies_us.len() + 1)))?;
        pages.ok(took);
        bytes += body.len() as u64;
        let page: ObjectsPage = serde_json::from_slice(&body)
            .map_err(|e| CliError::Usage(format!("objects page: {e}")))?;
        objects += page.objects.len() as u64;
        match (page.more, page.next) {
            (true, Some(n)) => next = Some(n),
            _ => break,
        }
    }
    let elapsed = started.elapsed().as_secs_f64();
    println!(
        "mode         read (GET objects, limit {}, then next)",
        args.page
    );
    println!("target       {peer}");
    println!("collection   {}", args.collection);
    println!("duration     {elapsed:.2} s");
    println!("pages        {}", pages.latencies_us.len());
    println!("objects      {objects}");
    println!("rate         {:.1} objects/s", objects as f64 / elapsed);
    println!(
        "throughput   {:.1} MB/s of pages",
        bytes as f64 / elapsed / 1e6
    );
    print_latencies("page", &pages);
    Ok(())
}

/// Ids and date range of a collection, from its manifest.
struct Sample {
    ids: Vec<String>,
    first: OffsetDateTime,
    last: OffsetDateTime,
}

async fn walk_manifest(args: &BenchArgs, target: &Target) -> Result<Sample, CliError> {
    let mut sender = open_many(target, 1)
        .await?
        .pop()
        .ok_or_else(|| CliError::Usage("no connection".into()))?;
    let base = format!(
        "/taxii2/api/collections/{}/manifest/?limit={}",
        encode(&args.collection),
        args.page
    );
    let mut ids = Vec::new();
    let mut range: Option<(OffsetDateTime, OffsetDateTime)> = None;
    let mut next: Option<String> = None;
    let started = Instant::now();
    let mut pages = 0u64;
    loop {
        let path = match &next {
            Some(n) => format!("{base}&next={}", encode(n)),
            None => base.clone(),
        };
        let request = target
            .taxii_request(Method::GET, &path, None)
            .map_err(CliError::Usage)?;
        let (body, _) = timed_for(
            TAXII_TIMEOUT,
            exchange(&mut sender, request, StatusCode::OK),
        )
        .await
        .map_err(|e| CliError::Usage(format!("manifest: {e}")))?;
        pages += 1;
        let page: ManifestPage = serde_json::from_slice(&body)
            .map_err(|e| CliError::Usage(format!("manifest page: {e}")))?;
        for record in page.objects {
            let at = OffsetDateTime::parse(&record.date_added, &Rfc3339)
                .map_err(|e| CliError::Usage(format!("manifest date_added: {e}")))?;
            range = Some(match range {
                None => (at, at),
                Some((a, b)) => (a.min(at), b.max(at)),
            });
            ids.push(record.id);
        }
        match (page.more, page.next) {
            (true, Some(n)) => next = Some(n),
            _ => break,
        }
    }
    let (first, last) =
        range.ok_or_else(|| CliError::Usage("the collection is empty: nothing to query".into()))?;
    println!(
        "manifest     {} ids in {pages} pages, walked in {:.2} s (not timed below)",
        ids.len(),
        started.elapsed().as_secs_f64()
    );
    Ok(Sample { ids, first, last })
}

#[derive(Default)]
struct QueryTally {
    requests: Tally,
    objects: u64,
    empty: u64,
}

async fn query_worker(
    target: Target,
    sample: Arc<Sample>,
    path: String,
    kind: QueryKind,
    limit: u32,
    remaining: Arc<AtomicU64>,
    mut sender: TaxiiSender,
) -> QueryTally {
    let mut tally = QueryTally::default();
    let mut rng = SplitMix::seeded();
    let span = (sample.last - sample.first).whole_microseconds().max(1) as u64;
    while remaining
        .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |n| n.checked_sub(1))
        .is_ok()
    {
        let (query, id) = match kind {
            QueryKind::Id => {
                let index = rng.below(sample.ids.len() as u64) as usize;
                let id = sample.ids.get(index).cloned().unwrap_or_default();
                (format!("match%5Bid%5D={}", encode(&id)), Some(id))
            }
            QueryKind::AddedAfter => {
                let offset = time::Duration::microseconds(rng.below(span) as i64);
                let at = timestamp(sample.first + offset, true);
                (format!("added_after={}&limit={limit}", encode(&at)), None)
            }
        };
        let request = match target.taxii_request(Method::GET, &format!("{path}?{query}"), None) {
            Ok(r) => r,
            Err(e) => {
                tally.requests.error(e);
                continue;
            }
        };
        let result = timed_for(
            TAXII_TIMEOUT,
            exchange(&mut sender, request, StatusCode::OK),
        )
        .await;
        match result {
            Ok((body, took)) => {
                let page = serde_json::from_slice::<ObjectsPage>(&body);
                match (page, id) {
                    (Ok(page), Some(id)) if page.objects.len() != 1 => tally.requests.error(
                        format!("match[id]={id} returned {} objects", page.objects.len()),
                    ),
                    (Ok(page), _) => {
                        tally.requests.ok(took);
                        tally.objects += page.objects.len() as u64;
                        if page.objects.is_empty() {
                            tally.empty += 1;
                        }
                    }
                    (Err(e), _) => tally.requests.error(format!("objects page: {e}")),
                }
            }
            Err(e) => {
                tally.requests.error(e);
                match timed(open_keepalive(&target)).await {
                    Ok((s, _)) => sender = s,
                    Err(e) => {
                        tally.requests.error(e);
                        break;
                    }
                }
            }
        }
    }
    tally
}

/// Ids and date range from an `--ids-file` written by `ingest`.
fn read_ids_file(path: &Path) -> Result<Sample, CliError> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| CliError::Usage(format!("{}: {e}", path.display())))?;
    let mut ids = Vec::new();
    let mut range: Option<(OffsetDateTime, OffsetDateTime)> = None;
    for line in text.lines().filter(|l| !l.trim().is_empty()) {
        let (id, at) = line
            .split_once(' ')
            .ok_or_else(|| CliError::Usage(format!("{}: bad line {line:?}", path.display())))?;
        let at = OffsetDateTime::parse(at.trim(), &Rfc3339)
            .map_err(|e| CliError::Usage(format!("{}: {e}", path.display())))?;
        range = Some(match range {
            None => (at, at),
            Some((a, b)) => (a.min(at), b.max(at)),
        });
        ids.push(id.to_owned());
    }
    let (first, last) =
        range.ok_or_else(|| CliError::Usage(format!("{} has no ids", path.display())))?;
    println!(
        "ids file     {} ids from {} (no manifest walk)",
        ids.len(),
        path.display()
    );
    Ok(Sample { ids, first, last })
}

async fn run_query(args: &BenchArgs, target: &Target, peer: &str) -> Result<(), CliError> {
    let sample = match &args.ids_file {
        Some(path) => read_ids_file(path)?,
        None => walk_manifest(args, target).await?,
    };
    let sample = Arc::new(sample);
    let senders = open_many(target, args.connections).await?;
    let remaining = Arc::new(AtomicU64::new(args.requests));
    let path = objects_path(&args.collection);
    let started = Instant::now();
    let mut workers = JoinSet::new();
    for sender in senders {
        workers.spawn(query_worker(
            target.clone(),
            sample.clone(),
            path.clone(),
            args.kind,
            args.query_limit,
            remaining.clone(),
            sender,
        ));
    }
    let mut tally = QueryTally::default();
    while let Some(done) = workers.join_next().await {
        let done = done.map_err(|e| CliError::Usage(format!("bench task failed: {e}")))?;
        tally.requests.merge(done.requests);
        tally.objects += done.objects;
        tally.empty += done.empty;
    }
    let elapsed = started.elapsed().as_secs_f64();
    let what = match args.kind {
        QueryKind::Id => "query match[id]=X (X a random stored id)".to_owned(),
        QueryKind::AddedAfter => format!(
            "query added_after=T&limit={} (T random in {} .. {})",
            args.query_limit,
            timestamp(sample.first, true),
            timestamp(sample.last, true)
        ),
    };
    let completed = tally.requests.latencies_us.len();
    println!("mode         {what}");
    println!("target       {peer}");
    println!(
        "collection   {} ({} objects)",
        args.collection,
        sample.ids.len()
    );
    println!("connections  {}", args.connections);
    println!("duration     {elapsed:.2} s");
    println!("completed    {completed}");
    println!("errors       {}", tally.requests.errors);
    println!(
        "objects      {} returned ({} empty responses)",
        tally.objects, tally.empty
    );
    println!("rate         {:.1} requests/s", completed as f64 / elapsed);
    print_latencies("latency", &tally.requests);
    if let Some(e) = tally.requests.first_error {
        println!("first error  {e}");
    }
    Ok(())
}

/// CPU time (clock ticks) and memory (kB) of a local process.
#[derive(Debug, Clone, Copy)]
struct HubStats {
    cpu_ticks: u64,
    rss_kb: u64,
    hwm_kb: u64,
}

fn hub_stats(pid: u32) -> Option<HubStats> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // Fields after the command name: state is field 3, utime 14, stime 15.
    let rest = stat.rsplit_once(')')?.1;
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let ticks = |i: usize| fields.get(i).and_then(|f| f.parse::<u64>().ok());
    let cpu_ticks = ticks(11)? + ticks(12)?;
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let kb = |name: &str| {
        status
            .lines()
            .find_map(|l| l.strip_prefix(name))
            .and_then(|v| v.split_whitespace().next())
            .and_then(|v| v.parse::<u64>().ok())
    };
    Some(HubStats {
        cpu_ticks,
        rss_kb: kb("VmRSS:")?,
        hwm_kb: kb("VmHWM:")?,
    })
}

fn print_hub(pid: u32, before: Option<HubStats>) {
    match hub_stats(pid) {
        Some(after) => {
            if let Some(before) = before {
                // USER_HZ is 100 on Linux.
                let cpu = after.cpu_ticks.saturating_sub(before.cpu_ticks) as f64 / 100.0;
                println!("hub cpu      {cpu:.2} s (user + system, during this run)");
            }
            println!(
                "hub memory   VmRSS {:.1} MB, VmHWM {:.1} MB",
                after.rss_kb as f64 / 1024.0,
                after.hwm_kb as f64 / 1024.0
            );
        }
        None => println!("hub          /proc/{pid} not readable"),
    }
}

#[cfg(test)]
mod tests {
    use super::{Generator, percentile_ms};

    #[test]
    fn generated_indicators_are_valid_and_distinct() {
        let generator = Generator::new();
        let (envelope, generated) = generator.envelope(0, 30);
        assert_eq!(generated.len(), 30);
        let value: serde_json::Value = serde_json::from_str(&envelope).unwrap();
        let objects = value["objects"].as_array().unwrap();
        assert_eq!(objects.len(), 30);
        let mut ids = std::collections::HashSet::new();
        for object in objects {
            let raw = object.to_string();
            let stix = crate::domain::stix::validate::validate(&raw, object)
                .unwrap_or_else(|e| panic!("{raw}: {e:?}"));
            assert!(ids.insert(stix.id.as_str().to_owned()));
        }
    }

    #[test]
    fn nearest_rank_percentiles() {
        let v: Vec<u64> = (1..=100).map(|i| i * 1000).collect();
        assert!((percentile_ms(&v, 0.50) - 50.0).abs() < f64::EPSILON);
        assert!((percentile_ms(&v, 0.99) - 99.0).abs() < f64::EPSILON);
        assert!((percentile_ms(&v, 1.0) - 100.0).abs() < f64::EPSILON);
        assert!(percentile_ms(&[], 0.5).abs() < f64::EPSILON);
    }
}
