//! PostgreSQL backend, for deployments with several hub instances sharing one database.

use std::str::FromStr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use sqlx::postgres::{PgConnectOptions, PgPool, PgPoolOptions, PgRow};

use super::StoreError;

static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("migrations/postgres");

#[derive(Debug, Clone)]
pub struct PgStore {
    pool: PgPool,
    statistics: Arc<Statistics>,
}

/// Keeps `stix_objects` analysed whatever the server's autovacuum setting. Without statistics
/// the planner guessed that a lookup of 500 ids matched most of the table and scanned all of
/// it per envelope: ingest fell from 19,000 to 1,000 objects/s at 100,000 objects on a server
/// with `autovacuum = off` (BENCHMARKS.md). The rule is autovacuum's own (analyse once 10 %
/// of the table is new), counted per instance, so several instances only analyse more often.
#[derive(Debug, Default)]
struct Statistics {
    written_since: AtomicU64,
    rows_at_last: AtomicU64,
}

impl Statistics {
    /// Whether `rows` more rows make the statistics stale; if so the count starts again.
    fn stale_after(&self, rows: u64) -> bool {
        let written = self.written_since.fetch_add(rows, Ordering::Relaxed) + rows;
        let threshold = 1_000 + self.rows_at_last.load(Ordering::Relaxed) / 10;
        if written < threshold {
            return false;
        }
        // One caller wins the reset; the others see a small count again.
        self.written_since
            .compare_exchange(written, 0, Ordering::Relaxed, Ordering::Relaxed)
            .is_ok()
    }
}

impl PgStore {
    const BACKEND: super::Backend = super::Backend::Postgres;

    pub async fn open(url: &str, max_connections: u32) -> Result<Self, StoreError> {
        // No JIT: the planner's cost for a page of a million-row collection (LIMIT over a
        // filtered index walk) looks large enough to compile, and compiling took 390 ms of a
        // query that runs in 3 ms (BENCHMARKS.md). Every query here is short.
        let options = PgConnectOptions::from_str(url)?.options([("jit", "off")]);
        let pool = PgPoolOptions::new()
            .max_connections(max_connections.max(1))
            .acquire_timeout(Duration::from_secs(10))
            .connect_with(options)
            .await?;
        // Instances starting together race to migrate; sqlx takes an advisory lock so that one
        // applies the migrations and the others wait.
        MIGRATOR.run(&pool).await?;
        Ok(Self {
            pool,
            statistics: Arc::default(),
        })
    }
}

/// Key of the advisory lock that serialises object writes across instances.
const OBJECT_WRITER_LOCK: i64 = 0x7265_6c61_6973_0001;

impl PgStore {
    /// A write transaction holding the object-writer lock until it ends, so that sequence
    /// numbers are committed in order and never appear to a reader out of order.
    async fn begin_write(&self) -> Result<sqlx::Transaction<'static, sqlx::Postgres>, StoreError> {
        let mut tx = self.pool.begin().await?;
        sqlx::query("SELECT pg_advisory_xact_lock($1)")
            .bind(OBJECT_WRITER_LOCK)
            .execute(&mut *tx)
            .await?;
        Ok(tx)
    }

    /// Analyses `stix_objects` in the background once enough rows were written.
    fn objects_written(&self, rows: usize) {
        if !self.statistics.stale_after(rows as u64) {
            return;
        }
        let pool = self.pool.clone();
        let statistics = Arc::clone(&self.statistics);
        tokio::spawn(tracing::Instrument::instrument(
            async move {
                if let Err(e) = sqlx::query("ANALYZE stix_objects").execute(&pool).await {
                    // Typically a role that does not own the table: leave statistics to the
                    // server's autovacuum rather than fail and warn every thousand rows.
                    tracing::warn!(error = %e, "analysing stix_objects failed; not retried");
                    statistics
                        .rows_at_last
                        .store(u64::MAX / 20, Ordering::Relaxed);
                    return;
                }
                let rows: Result<f32, _> = sqlx::query_scalar(
                    "SELECT reltuples FROM pg_class WHERE oid = 'stix_objects'::regclass",
                )
                .fetch_one(&pool)
                .await;
                if let Ok(rows) = rows {
                    statistics
                        .rows_at_last
                        .store(rows.max(0.0) as u64, Ordering::Relaxed);
                }
                tracing::debug!("analysed stix_objects");
            },
            tracing::info_span!("job", name = "analyse_objects"),
        ));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statistics_go_stale_after_a_tenth_of_the_table() {
        let s = Statistics::default();
        assert!(!s.stale_after(999));
        assert!(s.stale_after(1));
        s.rows_at_last.store(100_000, Ordering::Relaxed);
        assert!(!s.stale_after(10_999));
        assert!(s.stale_after(1));
        assert!(!s.stale_after(1));
    }
}

super::audit::audit_sql!(PgStore, PgRow);
super::registry::registry_sql!(PgStore, PgRow);
super::portable::portable_store!(PgStore, PgRow);
super::submissions::submission_sql!(PgStore, PgRow);
super::cases::case_sql!(PgStore, PgRow);
super::reports::report_sql!(PgStore, PgRow);
super::federation::federation_sql!(PgStore, PgRow);
super::sla::sla_sql!(PgStore, PgRow);
