//! `read`: one connection pages through a whole collection (`limit=--page`, then `next`); and
//! the page walk that `query` uses on the manifest.

use std::time::{Duration, Instant};

use hyper::body::Bytes;
use hyper::{Method, StatusCode};
use serde::Deserialize;
use serde::de::IgnoredAny;

use crate::Args;
use crate::client::{
    TAXII_TIMEOUT, Target, TaxiiSender, encode, exchange, objects_path, open_many, timed_for,
};
use crate::tally::{Tally, print_latencies};

/// A page of a TAXII listing (objects or manifest).
#[derive(Deserialize)]
pub struct Page<T> {
    #[serde(default)]
    pub more: bool,
    #[serde(default)]
    pub next: Option<String>,
    #[serde(default = "Vec::new")]
    pub objects: Vec<T>,
}

/// A page of objects, counted but not kept.
pub type ObjectsPage = Page<IgnoredAny>;

impl<T> Page<T> {
    /// The `next` to follow, if there are more pages.
    pub fn follow(&self) -> Option<String> {
        match (self.more, &self.next) {
            (true, Some(n)) => Some(n.clone()),
            _ => None,
        }
    }
}

/// Follows a TAXII listing, `base` (a path with a query string) then `&next=…`, to its end on
/// one new connection. `page` is given each body and how long its request took, and returns
/// the `next` to follow (none: the end). A failed request is an error named after `what`.
pub async fn follow_pages(
    target: &Target,
    what: &str,
    base: &str,
    mut page: impl FnMut(Bytes, Duration) -> Result<Option<String>, String>,
) -> Result<(), String> {
    let mut sender: TaxiiSender = open_many(target, 1)
        .await?
        .pop()
        .ok_or_else(|| "no connection".to_owned())?;
    let mut next: Option<String> = None;
    for number in 1u64.. {
        let path = match &next {
            Some(n) => format!("{base}&next={}", encode(n)),
            None => base.to_owned(),
        };
        let request = target.taxii_request(Method::GET, &path, None)?;
        let (body, took) = timed_for(
            TAXII_TIMEOUT,
            exchange(&mut sender, request, StatusCode::OK),
        )
        .await
        .map_err(|e| format!("{what} page {number}: {e}"))?;
        match page(body, took)? {
            Some(n) => next = Some(n),
            None => break,
        }
    }
    Ok(())
}

pub async fn run(args: &Args, target: &Target, peer: &str) -> Result<(), String> {
    let base = format!("{}?limit={}", objects_path(&args.collection), args.page);
    let mut pages = Tally::default();
    let mut objects = 0u64;
    let mut bytes = 0u64;
    let started = Instant::now();
    follow_pages(target, "objects", &base, |body, took| {
        pages.ok(took);
        bytes += body.len() as u64;
        let page: ObjectsPage =
            serde_json::from_slice(&body).map_err(|e| format!("objects page: {e}"))?;
        objects += page.objects.len() as u64;
        Ok(page.follow())
    })
    .await?;
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
