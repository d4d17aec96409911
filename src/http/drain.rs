//! What becomes of a request body the hub answered without reading to its end: a refusal made
//! before the body was needed (413 past `limits.body_bytes`, 403, 404, 405, 415…), or a request
//! cut by its timeout.
//!
//! Many clients send their whole body before they read the answer: Python `requests` (and so
//! the OASIS `taxii2-client`). A client still sending when the connection is closed meets a
//! reset that loses the answer. Others fail on the `RST_STREAM(NO_ERROR)` that RFC 9113 §8.1
//! lets a server send once it has answered, which h2 sends when a response completes before
//! the request body (curl 7.88 over HTTP/2). So the answer is sent at once, and the rest of the
//! body is read and discarded afterwards, frame by frame (never held), within
//! `limits.refused_body_drain_bytes` and `limits.refused_body_drain_secs`. Read to its end, the
//! exchange ends as any other: the HTTP/2 stream closes normally, and the HTTP/1.1 connection
//! stays open for the next request.
//!
//! Past either bound the body is dropped: hyper closes an HTTP/1.1 connection after the answer,
//! and h2 resets an HTTP/2 stream with `NO_ERROR`, the connection staying up. An HTTP/1.1 body
//! whose declared length already shows it will not fit is not read at all, and its answer says
//! `Connection: close`. An HTTP/2 one is read up to the bound all the same: a client that reads
//! the answer while it sends (curl) stops on its own meanwhile, and never meets the reset.
//!
//! A client that asked for `100 Continue` and was answered first has sent nothing: its body is
//! never polled, so hyper never sends the `100`, and the connection is closed after the answer.

use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::task::{Context, Poll};
use std::time::Duration;

use axum::body::{Body, Bytes, HttpBody};
use axum::extract::Request;
use axum::http::{Version, header};
use http_body_util::BodyExt as _;
use hyper::body::{Frame, SizeHint};
use tracing::Instrument as _;

use crate::config::Limits;

/// How much of an unread body is still read after the answer, and for how long.
#[derive(Debug, Clone, Copy)]
pub(super) struct DrainLimits {
    bytes: u64,
    time: Duration,
}

impl From<&Limits> for DrainLimits {
    fn from(limits: &Limits) -> Self {
        Self {
            bytes: limits.refused_body_drain_bytes,
            time: Duration::from_secs(limits.refused_body_drain_secs),
        }
    }
}

/// Set when a request's body is left unread, so that an HTTP/1.1 answer can say the
/// connection will close.
#[derive(Debug, Clone, Default)]
pub(super) struct Unread(Arc<AtomicBool>);

impl Unread {
    pub(super) fn left(&self) -> bool {
        self.0.load(Ordering::Relaxed)
    }
}

/// Wraps the body of `req` so that, dropped before its end, it is drained within `limits`.
pub(super) fn watch(req: Request, limits: DrainLimits) -> (Request, Unread) {
    let unread = Unread::default();
    let http1 = req.version() < Version::HTTP_2;
    let headers = req.headers();
    let expects_continue = headers
        .get(header::EXPECT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.trim().eq_ignore_ascii_case("100-continue"));
    let declared = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<u64>().ok());
    let flag = unread.clone();
    let req = req.map(|body| {
        Body::new(Watched {
            body: Some(body),
            read: 0,
            polled: false,
            ended: false,
            expects_continue,
            declared,
            http1,
            limits,
            unread: flag,
        })
    });
    (req, unread)
}

struct Watched {
    /// `None` once handed to the drain.
    body: Option<Body>,
    read: u64,
    polled: bool,
    ended: bool,
    expects_continue: bool,
    declared: Option<u64>,
    http1: bool,
    limits: DrainLimits,
    unread: Unread,
}

impl Watched {
    /// Whether what is left of the body is worth reading: the client is sending it, and it
    /// may end within the bounds.
    fn worth_draining(&self) -> bool {
        // Polling would make hyper invite the body with `100 Continue`.
        let waiting_for_continue = self.expects_continue && !self.polled;
        let left = self.declared.map(|n| n.saturating_sub(self.read));
        let known_too_long = self.http1 && left.is_some_and(|n| n > self.limits.bytes);
        !waiting_for_continue
            && !known_too_long
            && self.limits.bytes > 0
            && !self.limits.time.is_zero()
    }
}

impl HttpBody for Watched {
    type Data = Bytes;
    type Error = axum::Error;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, axum::Error>>> {
        let this = self.get_mut();
        let Some(body) = this.body.as_mut() else {
            return Poll::Ready(None);
        };
        this.polled = true;
        let polled = Pin::new(body).poll_frame(cx);
        match &polled {
            Poll::Ready(None) => this.ended = true,
            Poll::Ready(Some(Ok(frame))) => {
                if let Some(data) = frame.data_ref() {
                    this.read += data.len() as u64;
                }
            }
            _ => {}
        }
        polled
    }

    fn is_end_stream(&self) -> bool {
        self.ended || self.body.as_ref().is_none_or(HttpBody::is_end_stream)
    }

    fn size_hint(&self) -> SizeHint {
        self.body
            .as_ref()
            .map_or_else(|| SizeHint::with_exact(0), HttpBody::size_hint)
    }
}

impl Drop for Watched {
    fn drop(&mut self) {
        let Some(body) = self.body.take() else {
            return;
        };
        if self.ended || body.is_end_stream() {
            return;
        }
        if self.worth_draining()
            && let Ok(runtime) = tokio::runtime::Handle::try_current()
        {
            runtime.spawn(drain(body, self.limits).instrument(tracing::Span::current()));
            return;
        }
        tracing::debug!(read = self.read, "request body left unread");
        self.unread.0.store(true, Ordering::Relaxed);
    }
}

/// How a drain ended.
#[derive(Debug, PartialEq, Eq)]
enum Drained {
    /// The body ended: the exchange ends normally.
    Whole,
    /// The client stopped sending (h2 refuses a body shorter than its declared length).
    Broken,
    PastBytes,
    PastTime,
}

/// Reads and discards the rest of `body` within `limits`; dropping it past them closes the
/// connection (HTTP/1.1) or resets the stream (HTTP/2).
async fn drain(mut body: Body, limits: DrainLimits) -> Drained {
    let mut read: u64 = 0;
    let outcome = tokio::time::timeout(limits.time, async {
        while let Some(frame) = body.frame().await {
            let Ok(frame) = frame else {
                return Drained::Broken;
            };
            if let Some(data) = frame.data_ref() {
                read += data.len() as u64;
                if read > limits.bytes {
                    return Drained::PastBytes;
                }
            }
        }
        Drained::Whole
    })
    .await
    .unwrap_or(Drained::PastTime);
    match outcome {
        Drained::Whole => tracing::debug!(read, "unread request body drained"),
        Drained::Broken => tracing::debug!(read, "client stopped sending its unread body"),
        Drained::PastBytes => tracing::info!(
            read,
            "unread request body cut past limits.refused_body_drain_bytes"
        ),
        Drained::PastTime => tracing::info!(
            read,
            "unread request body cut past limits.refused_body_drain_secs"
        ),
    }
    outcome
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::AtomicU64;

    use super::*;

    const LIMITS: DrainLimits = DrainLimits {
        bytes: 1000,
        time: Duration::from_secs(5),
    };

    /// `left` frames of 100 bytes, counting what is polled out of it and saying when it is
    /// dropped.
    struct Counted {
        left: usize,
        sent: Arc<AtomicU64>,
        dropped: Option<tokio::sync::oneshot::Sender<()>>,
    }

    impl HttpBody for Counted {
        type Data = Bytes;
        type Error = std::convert::Infallible;

        fn poll_frame(
            self: Pin<&mut Self>,
            _: &mut Context<'_>,
        ) -> Poll<Option<Result<Frame<Bytes>, Self::Error>>> {
            let this = self.get_mut();
            if this.left == 0 {
                return Poll::Ready(None);
            }
            this.left -= 1;
            this.sent.fetch_add(100, Ordering::Relaxed);
            Poll::Ready(Some(Ok(Frame::data(Bytes::from(vec![b'x'; 100])))))
        }
    }

    impl Drop for Counted {
        fn drop(&mut self) {
            if let Some(tx) = self.dropped.take() {
                let _ = tx.send(());
            }
        }
    }

    /// Watches a request of `frames` frames with `headers`, lets `read` frames be read, drops
    /// it, and waits for the body to be dropped: how much was polled out of it, and whether
    /// it was left unread.
    async fn outcome(headers: &[(&str, &str)], frames: usize, read: usize) -> (u64, bool) {
        outcome_over(Version::HTTP_11, headers, frames, read).await
    }

    async fn outcome_over(
        version: Version,
        headers: &[(&str, &str)],
        frames: usize,
        read: usize,
    ) -> (u64, bool) {
        let sent = Arc::new(AtomicU64::new(0));
        let (tx, rx) = tokio::sync::oneshot::channel();
        let body = Body::new(Counted {
            left: frames,
            sent: Arc::clone(&sent),
            dropped: Some(tx),
        });
        let mut builder = Request::builder().method("POST").uri("/x").version(version);
        for (k, v) in headers {
            builder = builder.header(*k, *v);
        }
        let (req, unread) = watch(builder.body(body).unwrap(), LIMITS);
        let mut body = req.into_body();
        for _ in 0..read {
            if body.frame().await.is_none() {
                break;
            }
        }
        drop(body);
        rx.await.unwrap();
        (sent.load(Ordering::Relaxed), unread.left())
    }

    #[tokio::test]
    async fn an_unread_body_is_drained_to_its_end_within_the_bound() {
        assert_eq!(outcome(&[], 10, 0).await, (1000, false));
        assert_eq!(
            outcome(&[("content-length", "1000")], 10, 0).await,
            (1000, false)
        );
        // What was read before counts towards a declared length, not towards the bound.
        assert_eq!(
            outcome(&[("content-length", "1500")], 15, 5).await,
            (1500, false)
        );
    }

    #[tokio::test]
    async fn a_read_body_is_left_alone() {
        assert_eq!(outcome(&[], 3, 4).await, (300, false));
    }

    #[tokio::test]
    async fn a_body_past_the_bound_is_cut() {
        // Unsized: read until the bound shows it, then dropped.
        assert_eq!(outcome(&[], 50, 0).await, (1100, false));
        // Declared past the bound: over HTTP/1.1 not read at all, and the answer says the
        // connection closes; over HTTP/2 read to the bound, as the client may stop before it.
        let declared = [("content-length", "5000")];
        assert_eq!(outcome(&declared, 50, 0).await, (0, true));
        assert_eq!(
            outcome_over(Version::HTTP_2, &declared, 50, 0).await,
            (1100, false)
        );
    }

    /// A body whose client sends nothing more.
    struct Stalled;

    impl HttpBody for Stalled {
        type Data = Bytes;
        type Error = std::convert::Infallible;

        fn poll_frame(
            self: Pin<&mut Self>,
            _: &mut Context<'_>,
        ) -> Poll<Option<Result<Frame<Bytes>, Self::Error>>> {
            Poll::Pending
        }
    }

    #[tokio::test]
    async fn a_stalled_body_is_cut_at_the_time_limit() {
        let limits = DrainLimits {
            time: Duration::from_millis(100),
            ..LIMITS
        };
        let started = std::time::Instant::now();
        assert_eq!(drain(Body::new(Stalled), limits).await, Drained::PastTime);
        assert!(started.elapsed() >= limits.time);
    }

    #[tokio::test]
    async fn a_client_waiting_for_100_continue_is_not_invited() {
        let expect = [("expect", "100-continue"), ("content-length", "500")];
        assert_eq!(outcome(&expect, 5, 0).await, (0, true));
        // Once read, the client was invited and is sending: the rest is drained.
        assert_eq!(outcome(&expect, 5, 1).await, (500, false));
    }
}
