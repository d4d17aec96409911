//! `handshakes` and `whoami`: authenticated requests for `--duration` seconds, with a full
//! mTLS handshake each, or on kept-alive connections.

use std::time::{Duration, Instant};

use http_body_util::Empty;
use hyper::body::Bytes;
use hyper::client::conn::http1::SendRequest;
use tokio::task::JoinSet;

use crate::client::{
    ERROR_BACKOFF, Target, keepalive_whoami, open_keepalive, open_many, request_and_close, timed,
};
use crate::tally::{Tally, percentile_ms};
use crate::{Args, Mode, task_failed};

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
        match timed(keepalive_whoami(&target, &mut current)).await {
            Ok(((), took)) => {
                tally.ok(took);
                sender = Some(current);
            }
            Err(e) => tally.error(e),
        }
    }
    tally
}

/// `handshakes` and `whoami`.
pub async fn run(args: &Args, target: Target, peer: &str) -> Result<(), String> {
    let mut workers = JoinSet::new();
    let started = match args.mode {
        Mode::Handshakes => {
            let started = Instant::now();
            let deadline = started + Duration::from_secs(args.duration);
            for _ in 0..args.connections {
                workers.spawn(handshakes_worker(target.clone(), deadline));
            }
            started
        }
        Mode::Whoami => {
            // Handshakes happen before the clock starts.
            let senders = open_many::<Empty<Bytes>>(&target, args.connections).await?;
            let started = Instant::now();
            let deadline = started + Duration::from_secs(args.duration);
            for sender in senders {
                workers.spawn(whoami_worker(target.clone(), Some(sender), deadline));
            }
            started
        }
        _ => return Err("not a duration-bound mode".into()),
    };
    let mut tally = Tally::default();
    while let Some(done) = workers.join_next().await {
        tally.merge(done.map_err(task_failed)?);
    }
    let elapsed = started.elapsed();

    let sorted = tally.sorted();
    let completed = sorted.len();
    let rate = completed as f64 / elapsed.as_secs_f64();
    let (what, unit) = match args.mode {
        Mode::Handshakes => (
            "handshakes (new connection, full mTLS handshake, GET /api/v1/whoami, close)",
            "connections/s",
        ),
        Mode::Whoami => (
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
