//! `ingest`: envelopes of generated indicators posted over kept-alive connections; every
//! status resource must report all of its objects stored.

use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

use hyper::{Method, StatusCode};
use relais::domain::stix::stored::utc_timestamp;
use serde::Deserialize;
use time::OffsetDateTime;
use tokio::task::JoinSet;

use crate::client::{
    ERROR_BACKOFF, TAXII_TIMEOUT, Target, TaxiiSender, exchange, objects_path, open_keepalive,
    open_many, timed, timed_for,
};
use crate::generator::Generator;
use crate::tally::{Tally, print_latencies};
use crate::{Args, task_failed};

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
        let sent = utc_timestamp(OffsetDateTime::now_utc(), 6);
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

/// Appends the `ID DATE` lines to `path`.
fn append_ids(path: &Path, ids: &[String]) -> Result<(), String> {
    use std::io::Write as _;
    let mut text = ids.join("\n");
    if !text.is_empty() {
        text.push('\n');
    }
    std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
        .and_then(|mut f| f.write_all(text.as_bytes()))
        .map_err(|e| format!("{}: {e}", path.display()))
}

pub async fn run(args: &Args, target: &Target, peer: &str) -> Result<(), String> {
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
        let done = done.map_err(task_failed)?;
        tally.envelopes.merge(done.envelopes);
        tally.stored += done.stored;
        tally.failed += done.failed;
        tally.bytes += done.bytes;
        tally.ids.extend(done.ids);
    }
    let elapsed = started.elapsed().as_secs_f64();
    if let Some(path) = &args.ids_file {
        append_ids(path, &tally.ids)?;
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
