//! `relais bench`: a small load generator against a running hub's main (mTLS) listener.
//!
//! - `handshakes`: each of N tasks loops on a new TCP connection, a full TLS handshake with the
//!   client certificate (session resumption disabled), one `GET /api/v1/whoami` with
//!   `Connection: close`, the whole response read, then close.
//! - `whoami`: N kept-alive HTTP/1.1 connections, each sending `GET /api/v1/whoami` one after
//!   the other.
//!
//! It stops after `--duration` seconds and only ever connects to `--target`.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use clap::{Args, ValueEnum};
use http_body_util::{BodyExt, Empty};
use hyper::body::{Bytes, Incoming};
use hyper::client::conn::http1::{self, SendRequest};
use hyper::{Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use rustls_pki_types::ServerName;
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

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum BenchMode {
    /// A new mTLS connection (full handshake) per authenticated request.
    Handshakes,
    /// Sequential requests on kept-alive HTTP/1.1 connections.
    Whoami,
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
    /// How long to generate load, in seconds.
    #[arg(long, default_value_t = 10)]
    pub duration: u64,
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
async fn open_keepalive(target: &Target) -> Result<SendRequest<Empty<Bytes>>, String> {
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
    let start = Instant::now();
    match tokio::time::timeout(OP_TIMEOUT, op).await {
        Ok(Ok(value)) => Ok((value, start.elapsed())),
        Ok(Err(e)) => Err(e),
        Err(_) => Err(format!("timed out after {} s", OP_TIMEOUT.as_secs())),
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

pub async fn run(args: BenchArgs, data: &Path) -> Result<(), CliError> {
    if args.connections == 0 || args.duration == 0 {
        return Err(CliError::Usage(
            "--connections and --duration must be above 0".into(),
        ));
    }
    let demo = crate::services::bootstrap::demo_dir(data);
    let cert = args.cert.unwrap_or_else(|| demo.join("csirt-analyst.pem"));
    let key = args
        .key
        .unwrap_or_else(|| demo.join("csirt-analyst-key.pem"));
    let ca = args.ca.unwrap_or_else(|| data.join("certs").join("ca.pem"));
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
                opening.spawn(async move { timed(open_keepalive(&target)).await });
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
    };
    println!("mode         {what}");
    println!(
        "target       {} ({parameters}, as {principal})",
        args.target
    );
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

#[cfg(test)]
mod tests {
    use super::percentile_ms;

    #[test]
    fn nearest_rank_percentiles() {
        let v: Vec<u64> = (1..=100).map(|i| i * 1000).collect();
        assert!((percentile_ms(&v, 0.50) - 50.0).abs() < f64::EPSILON);
        assert!((percentile_ms(&v, 0.99) - 99.0).abs() < f64::EPSILON);
        assert!((percentile_ms(&v, 1.0) - 100.0).abs() < f64::EPSILON);
        assert!(percentile_ms(&[], 0.5).abs() < f64::EPSILON);
    }
}
