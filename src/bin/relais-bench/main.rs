//! `relais-bench`: a small load generator against a running hub's main (mTLS) listener. It is
//! not the hub: a binary of its own, built on the `relais` library's TLS client.
//!
//! - `handshakes`: each of N tasks loops on a new TCP connection, a full TLS handshake with the
//!   client certificate (session resumption disabled), one `GET /api/v1/whoami` with
//!   `Connection: close`, the whole response read, then close.
//! - `whoami`: N kept-alive HTTP/1.1 connections, each sending `GET /api/v1/whoami` one after
//!   the other.
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
//! `audit-verify` connects to nothing: see `audit_verify`. Nor does `mirror`, which watches a
//! hub pulling from a peer through its database and /proc: see `mirror`.

mod audit_verify;
mod client;
mod generator;
mod host;
mod ingest;
mod load;
mod mirror;
mod query;
mod read;
mod tally;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, ValueEnum};

use client::{OP_TIMEOUT, Target};

/// The community collection, which the CSIRT analyst may read and write.
const COMMUNITY: &str = "9cfa669c-ee94-4ece-afd2-f8edac37d8fd";

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Mode {
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
    /// Watches a hub pulling from a peer (its database, /proc) until `--expect` objects are in.
    Mirror,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum QueryKind {
    /// `match[id]=X` for ids sampled from the collection.
    Id,
    /// `added_after=T&limit=--query-limit` for T drawn in the collection's date range.
    AddedAfter,
}

/// Generate load against a running hub's mTLS listener: full handshakes per second, whoami
/// requests per second on kept-alive connections, TAXII ingest, reads and queries; or time the
/// offline audit log verifier.
#[derive(Debug, Parser)]
#[command(name = "relais-bench", version)]
pub struct Args {
    /// What to measure.
    #[arg(value_enum)]
    pub mode: Mode,
    /// The hub's data directory, where the demo certificates are found.
    #[arg(long, env = "RELAIS_DATA", default_value = "relais-data")]
    pub data: PathBuf,
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
    /// mirror: data directory of the pulling hub (B), whose database and federation policy
    /// are read. (`--data`, if it names a data directory, is the peer's: its database size
    /// is printed.)
    #[arg(long)]
    pub peer_data: Option<PathBuf>,
    /// mirror: the entry of B's federation policy to watch ("organisation/principal").
    #[arg(long)]
    pub peer_entry: Option<String>,
    /// mirror: stop when the entry's objects_in has grown by this many.
    #[arg(long)]
    pub expect: Option<u64>,
    /// mirror: process id of the hub pulled from (A), for its CPU time and memory.
    #[arg(long)]
    pub pid_a: Option<u32>,
    /// mirror: process id of the pulling hub (B).
    #[arg(long)]
    pub pid_b: Option<u32>,
    /// mirror: milliseconds between two looks at B's state.
    #[arg(long, default_value_t = 500)]
    pub interval_ms: u64,
    /// mirror: seconds between two progress lines.
    #[arg(long, default_value_t = 10)]
    pub report_every: u64,
    /// mirror: give up (and fail) after this many seconds.
    #[arg(long, default_value_t = 7200)]
    pub max_wait: u64,
}

fn check_args(args: &Args) -> Result<(), String> {
    let usage = |m: &str| Err(m.to_owned());
    if args.connections == 0 {
        return usage("--connections must be above 0");
    }
    match args.mode {
        Mode::Handshakes | Mode::Whoami if args.duration == 0 => {
            usage("--duration must be above 0")
        }
        Mode::Ingest if args.objects == 0 || args.batch == 0 => {
            usage("--objects and --batch must be above 0")
        }
        Mode::Read | Mode::Query if args.page == 0 || args.page > 1000 => {
            usage("--page must be between 1 and 1000")
        }
        Mode::Query if args.requests == 0 || args.query_limit == 0 => {
            usage("--requests and --query-limit must be above 0")
        }
        _ => Ok(()),
    }
}

/// Failures of the tasks a mode spawns, as one line.
fn task_failed(e: tokio::task::JoinError) -> String {
    format!("bench task failed: {e}")
}

async fn run(args: Args) -> Result<(), String> {
    if args.mode == Mode::AuditVerify {
        return audit_verify::run(args.entries).await;
    }
    if args.mode == Mode::Mirror {
        return mirror::run(&args).await;
    }
    check_args(&args)?;
    let demo = relais::services::bootstrap::demo_dir(&args.data);
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
        .unwrap_or_else(|| args.data.join("certs").join("ca.pem"));
    let target = Target::new(args.target, &cert, &key, &ca)?;

    // One probe before the load: a clear error if the hub is not there or refuses us, and the
    // negotiated parameters for the record.
    let (parameters, principal) = tokio::time::timeout(OP_TIMEOUT, target.probe())
        .await
        .map_err(|_| format!("probe of {} timed out", args.target))?
        .map_err(|e| format!("probe of {} failed: {e}", args.target))?;

    let hub_before = args.hub_pid.and_then(host::hub_stats);
    let peer = format!("{} ({parameters}, as {principal})", args.target);
    match args.mode {
        Mode::Handshakes | Mode::Whoami => load::run(&args, target, &peer).await?,
        Mode::Ingest => ingest::run(&args, &target, &peer).await?,
        Mode::Read => read::run(&args, &target, &peer).await?,
        Mode::Query => query::run(&args, &target, &peer).await?,
        Mode::AuditVerify | Mode::Mirror => {}
    }
    if let Some(pid) = args.hub_pid {
        host::print_hub(pid, hub_before);
    }
    Ok(())
}

#[tokio::main]
async fn main() -> ExitCode {
    match run(Args::parse()).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("relais-bench: {e}");
            ExitCode::FAILURE
        }
    }
}
