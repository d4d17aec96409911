//! The hub's periodic background jobs, in one loop shape: a tick every `every` (missed ticks
//! delayed, never bunched), each run inside the job's span, stopped by the shutdown token and
//! joined by the task tracker. A job's round is an ordinary async function of the service,
//! which tests call and await directly; this module only decides when it runs.

use std::future::Future;
use std::time::Duration;

use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;
use tracing::Instrument as _;

/// A job that runs a round every `every` until shutdown.
#[derive(Debug, Clone, Copy)]
pub struct Periodic {
    /// The `name` of the job's tracing span.
    pub name: &'static str,
    pub every: Duration,
}

impl Periodic {
    pub fn new(name: &'static str, every: Duration) -> Self {
        Self { name, every }
    }

    /// Runs `round` at once, then every `every`, until `shutdown`.
    pub fn spawn<R, F>(self, shutdown: CancellationToken, jobs: &TaskTracker, round: R)
    where
        R: FnMut() -> F + Send + 'static,
        F: Future<Output = ()> + Send,
    {
        self.spawn_then(shutdown, jobs, round, async {});
    }

    /// As `spawn`, and `last` once after shutdown (a final checkpoint, say), in the same span.
    pub fn spawn_then<R, F, L>(
        self,
        shutdown: CancellationToken,
        jobs: &TaskTracker,
        mut round: R,
        last: L,
    ) where
        R: FnMut() -> F + Send + 'static,
        F: Future<Output = ()> + Send,
        L: Future<Output = ()> + Send + 'static,
    {
        let every = self.every.max(Duration::from_millis(1));
        jobs.spawn(
            async move {
                let mut tick = tokio::time::interval(every);
                tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
                loop {
                    tokio::select! {
                        () = shutdown.cancelled() => break,
                        _ = tick.tick() => round().await,
                    }
                }
                last.await;
            }
            .instrument(tracing::info_span!("job", name = self.name)),
        );
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicU32, Ordering};

    use super::*;

    #[tokio::test(start_paused = true)]
    async fn rounds_run_until_shutdown_then_the_last_step() {
        let rounds = Arc::new(AtomicU32::new(0));
        let finished = Arc::new(AtomicU32::new(0));
        let shutdown = CancellationToken::new();
        let jobs = TaskTracker::new();
        let counted = Arc::clone(&rounds);
        let last = Arc::clone(&finished);
        Periodic::new("test", Duration::from_secs(10)).spawn_then(
            shutdown.clone(),
            &jobs,
            move || {
                let counted = Arc::clone(&counted);
                async move {
                    counted.fetch_add(1, Ordering::SeqCst);
                }
            },
            async move {
                last.fetch_add(1, Ordering::SeqCst);
            },
        );
        // The first round at once, then one per period.
        tokio::time::sleep(Duration::from_secs(25)).await;
        assert_eq!(rounds.load(Ordering::SeqCst), 3);
        assert_eq!(finished.load(Ordering::SeqCst), 0);
        shutdown.cancel();
        jobs.close();
        jobs.wait().await;
        assert_eq!(finished.load(Ordering::SeqCst), 1);
        assert_eq!(rounds.load(Ordering::SeqCst), 3);
    }
}
