//! `query`: filtered TAXII reads against stored objects. The ids and the date range come from
//! the collection's manifest (walked first, untimed) or from an `--ids-file` written by
//! `ingest`; then `--requests` requests over `--connections` connections are timed:
//! `match[id]=X` for random stored ids, or `added_after=T&limit=--query-limit` for random T in
//! the range.

use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

use hyper::{Method, StatusCode};
use relais::domain::stix::stored::utc_timestamp;
use serde::Deserialize;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;
use tokio::task::JoinSet;

use crate::client::{
    TAXII_TIMEOUT, Target, TaxiiSender, encode, exchange, objects_path, open_keepalive, open_many,
    timed, timed_for,
};
use crate::generator::SplitMix;
use crate::read::{ObjectsPage, Page, follow_pages};
use crate::tally::{Tally, print_latencies};
use crate::{Args, QueryKind, task_failed};

#[derive(Deserialize)]
struct ManifestRecord {
    id: String,
    date_added: String,
}

/// Ids and date range of a collection.
struct Sample {
    ids: Vec<String>,
    first: OffsetDateTime,
    last: OffsetDateTime,
}

/// Collects ids and the range of their dates.
#[derive(Default)]
struct SampleBuilder {
    ids: Vec<String>,
    range: Option<(OffsetDateTime, OffsetDateTime)>,
}

impl SampleBuilder {
    fn add(&mut self, id: String, at: &str) -> Result<(), time::error::Parse> {
        let at = OffsetDateTime::parse(at, &Rfc3339)?;
        self.range = Some(match self.range {
            None => (at, at),
            Some((a, b)) => (a.min(at), b.max(at)),
        });
        self.ids.push(id);
        Ok(())
    }

    /// The sample; `empty` is the error when there are no ids.
    fn finish(self, empty: impl FnOnce() -> String) -> Result<Sample, String> {
        let (first, last) = self.range.ok_or_else(empty)?;
        Ok(Sample {
            ids: self.ids,
            first,
            last,
        })
    }
}

async fn walk_manifest(args: &Args, target: &Target) -> Result<Sample, String> {
    let base = format!(
        "/taxii2/api/collections/{}/manifest/?limit={}",
        encode(&args.collection),
        args.page
    );
    let mut sample = SampleBuilder::default();
    let mut pages = 0u64;
    let started = Instant::now();
    follow_pages(target, "manifest", &base, |body, _| {
        pages += 1;
        let page: Page<ManifestRecord> =
            serde_json::from_slice(&body).map_err(|e| format!("manifest page: {e}"))?;
        let next = page.follow();
        for record in page.objects {
            sample
                .add(record.id, &record.date_added)
                .map_err(|e| format!("manifest date_added: {e}"))?;
        }
        Ok(next)
    })
    .await?;
    let sample = sample.finish(|| "the collection is empty: nothing to query".into())?;
    println!(
        "manifest     {} ids in {pages} pages, walked in {:.2} s (not timed below)",
        sample.ids.len(),
        started.elapsed().as_secs_f64()
    );
    Ok(sample)
}

/// Ids and date range from an `--ids-file` written by `ingest`.
fn read_ids_file(path: &Path) -> Result<Sample, String> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
    let mut sample = SampleBuilder::default();
    for line in text.lines().filter(|l| !l.trim().is_empty()) {
        let (id, at) = line
            .split_once(' ')
            .ok_or_else(|| format!("{}: bad line {line:?}", path.display()))?;
        sample
            .add(id.to_owned(), at.trim())
            .map_err(|e| format!("{}: {e}", path.display()))?;
    }
    let sample = sample.finish(|| format!("{} has no ids", path.display()))?;
    println!(
        "ids file     {} ids from {} (no manifest walk)",
        sample.ids.len(),
        path.display()
    );
    Ok(sample)
}

#[derive(Default)]
struct QueryTally {
    requests: Tally,
    objects: u64,
    empty: u64,
}

/// What every query task shares.
struct QueryPlan {
    sample: Sample,
    path: String,
    kind: QueryKind,
    limit: u32,
    remaining: AtomicU64,
}

impl QueryPlan {
    /// A random query string, and the id it must find (`match[id]`).
    fn query(&self, rng: &mut SplitMix) -> (String, Option<String>) {
        match self.kind {
            QueryKind::Id => {
                let index = rng.below(self.sample.ids.len() as u64) as usize;
                let id = self.sample.ids.get(index).cloned().unwrap_or_default();
                (format!("match%5Bid%5D={}", encode(&id)), Some(id))
            }
            QueryKind::AddedAfter => {
                let span = (self.sample.last - self.sample.first)
                    .whole_microseconds()
                    .max(1) as u64;
                let offset = time::Duration::microseconds(rng.below(span) as i64);
                let at = utc_timestamp(self.sample.first + offset, 6);
                let limit = self.limit;
                (format!("added_after={}&limit={limit}", encode(&at)), None)
            }
        }
    }
}

async fn query_worker(target: Target, plan: Arc<QueryPlan>, mut sender: TaxiiSender) -> QueryTally {
    let mut tally = QueryTally::default();
    let mut rng = SplitMix::seeded();
    while plan
        .remaining
        .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |n| n.checked_sub(1))
        .is_ok()
    {
        let (query, id) = plan.query(&mut rng);
        let path = format!("{}?{query}", plan.path);
        let request = match target.taxii_request(Method::GET, &path, None) {
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

pub async fn run(args: &Args, target: &Target, peer: &str) -> Result<(), String> {
    let sample = match &args.ids_file {
        Some(path) => read_ids_file(path)?,
        None => walk_manifest(args, target).await?,
    };
    let plan = Arc::new(QueryPlan {
        sample,
        path: objects_path(&args.collection),
        kind: args.kind,
        limit: args.query_limit,
        remaining: AtomicU64::new(args.requests),
    });
    let senders = open_many(target, args.connections).await?;
    let started = Instant::now();
    let mut workers = JoinSet::new();
    for sender in senders {
        workers.spawn(query_worker(target.clone(), plan.clone(), sender));
    }
    let mut tally = QueryTally::default();
    while let Some(done) = workers.join_next().await {
        let done = done.map_err(task_failed)?;
        tally.requests.merge(done.requests);
        tally.objects += done.objects;
        tally.empty += done.empty;
    }
    let elapsed = started.elapsed().as_secs_f64();
    let sample = &plan.sample;
    let what = match args.kind {
        QueryKind::Id => "query match[id]=X (X a random stored id)".to_owned(),
        QueryKind::AddedAfter => format!(
            "query added_after=T&limit={} (T random in {} .. {})",
            args.query_limit,
            utc_timestamp(sample.first, 6),
            utc_timestamp(sample.last, 6)
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
