//! TLS refusals of the main listener into the audit log, off the accept path.
//!
//! A connection whose handshake was refused hands its refusal to a [`RefusalReporter`],
//! which never waits: the queue holds [`QUEUE`] refusals, and one that finds it full is
//! counted as dropped. One writer task drains the queue through the
//! [`RefusalBudget`](crate::domain::audit::refusal_budget), looks the presented key up in the
//! registry (the organisation a key is bound to may read the entry) and appends the entries.
//! A slow database therefore slows the writer only; under a flood the queue fills and
//! refusals are counted instead of recorded.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;
use tracing::Instrument as _;

use crate::clock::SharedClock;
use crate::domain::audit::record::AuditRecord;
use crate::domain::audit::refusal_budget::{Admission, RefusalBudget};
use crate::domain::audit::tls_refusal::{TlsRefusal, unrecorded_record};
use crate::store::SharedStore;

/// Refusals waiting for the writer.
pub const QUEUE: usize = 256;
/// How often the writer looks for a window to close when no refusal comes.
const TICK: Duration = Duration::from_secs(5);

/// Where connection tasks report refusals. Cheap to clone; never blocks.
#[derive(Debug, Clone)]
pub struct RefusalReporter {
    tx: mpsc::Sender<TlsRefusal>,
    dropped: Arc<AtomicU64>,
}

impl RefusalReporter {
    pub fn report(&self, refusal: TlsRefusal) {
        if self.tx.try_send(refusal).is_err() {
            self.dropped.fetch_add(1, Ordering::Relaxed);
        }
    }
}

/// The writer's end of the queue.
#[derive(Debug)]
pub struct RefusalWriter {
    rx: mpsc::Receiver<TlsRefusal>,
    dropped: Arc<AtomicU64>,
}

pub fn queue() -> (RefusalReporter, RefusalWriter) {
    let (tx, rx) = mpsc::channel(QUEUE);
    let dropped = Arc::new(AtomicU64::new(0));
    (
        RefusalReporter {
            tx,
            dropped: Arc::clone(&dropped),
        },
        RefusalWriter { rx, dropped },
    )
}

impl RefusalWriter {
    /// Runs until `shutdown`; then whatever is still queued or counted goes into one last
    /// summary entry.
    pub fn spawn(
        self,
        store: SharedStore,
        clock: SharedClock,
        shutdown: CancellationToken,
        jobs: &tokio_util::task::TaskTracker,
    ) {
        jobs.spawn(
            self.run(store, clock, shutdown)
                .instrument(tracing::info_span!("job", name = "tls_refusals")),
        );
    }

    async fn run(mut self, store: SharedStore, clock: SharedClock, shutdown: CancellationToken) {
        let mut budget = RefusalBudget::default();
        let mut tick = tokio::time::interval(TICK);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            let refusal = tokio::select! {
                () = shutdown.cancelled() => break,
                _ = tick.tick() => None,
                got = self.rx.recv() => match got {
                    Some(refusal) => Some(refusal),
                    None => break,
                },
            };
            let now = clock.now();
            budget.dropped(self.dropped.swap(0, Ordering::Relaxed), now);
            if let Some(count) = budget.roll(now) {
                append(&store, &unrecorded_record(count, now)).await;
            }
            let Some(refusal) = refusal else { continue };
            if let Admission::Record { unrecorded_before } = budget.admit(refusal.source, now) {
                let known = match &refusal.certificate {
                    Some(c) => store
                        .registry_record(&c.fingerprint)
                        .await
                        .unwrap_or_else(|e| {
                            tracing::warn!(error = %e, "registry lookup of a refused key failed");
                            None
                        }),
                    None => None,
                };
                append(
                    &store,
                    &refusal.record(known.as_ref(), unrecorded_before, now),
                )
                .await;
            }
        }
        self.rx.close();
        let mut queued = 0u64;
        while self.rx.try_recv().is_ok() {
            queued += 1;
        }
        let left = budget.drain() + queued + self.dropped.swap(0, Ordering::Relaxed);
        if left > 0 {
            append(&store, &unrecorded_record(left, clock.now())).await;
        }
    }
}

async fn append(store: &SharedStore, record: &AuditRecord) {
    // The refusal stands and the service log has it; a database outage loses the entry, and
    // must not stop the writer.
    if let Err(e) = store.append_audit(record).await {
        tracing::error!(error = %e, action = %record.action, "cannot record a TLS refusal in the audit log");
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::audit::tls_refusal::RefusalReason;

    #[test]
    fn a_full_queue_counts_instead_of_waiting() {
        let (reporter, writer) = queue();
        let refusal = TlsRefusal {
            source: "192.0.2.1".parse().unwrap(),
            reason: RefusalReason::NoCertificate,
            certificate: None,
        };
        for _ in 0..QUEUE + 7 {
            reporter.report(refusal.clone());
        }
        assert_eq!(writer.dropped.load(Ordering::Relaxed), 7);
        drop(writer);
        // A writer gone (the hub stopping) is the same: counted, never an error.
        reporter.report(refusal);
        assert_eq!(reporter.dropped.load(Ordering::Relaxed), 8);
    }
}
