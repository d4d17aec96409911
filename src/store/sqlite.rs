//! SQLite backend: one file in the data directory, WAL journal so that the CLI can write
//! (issue, revoke) while a hub reads.

use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Duration;

use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteRow,
    SqliteSynchronous,
};

use super::StoreError;

static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("migrations/sqlite");

#[derive(Debug, Clone)]
pub struct SqliteStore {
    pool: SqlitePool,
    wal: Arc<WalReset>,
}

#[derive(Debug, Default)]
struct WalReset {
    written_since: AtomicU64,
    resetting: AtomicBool,
}

impl SqliteStore {
    const BACKEND: super::Backend = super::Backend::Sqlite;

    /// Opens (creating if needed) the database named by a `sqlite:` URL. A relative path is
    /// resolved against `data_dir`, so the same config works wherever the hub is started from.
    pub async fn open(
        url: &str,
        data_dir: &Path,
        max_connections: u32,
    ) -> Result<Self, StoreError> {
        let path = sqlite_path(url, data_dir)?;
        let options = SqliteConnectOptions::from_str("sqlite:")
            .map_err(StoreError::Database)?
            .filename(&path)
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Normal)
            .foreign_keys(true)
            .busy_timeout(Duration::from_secs(10))
            // 16 MiB of page cache per connection (the default is 2 MiB): the hot index pages
            // of a million-object table stay in memory, and eight connections stay well under
            // the hub's memory budget (BENCHMARKS.md).
            .pragma("cache_size", "-16384")
            .pragma("temp_store", "memory")
            // SQLite runs on a worker thread per connection that hands rows over a channel;
            // with room for a whole TAXII page the worker is not parked and woken every 50
            // rows (context switches were a fifth of a paged read's CPU).
            .row_buffer_size(1024);
        let pool = SqlitePoolOptions::new()
            .max_connections(max_connections.max(1))
            .connect_with(options)
            .await?;
        MIGRATOR.run(&pool).await?;
        Ok(Self {
            pool,
            wal: Arc::default(),
        })
    }
}

/// The file path of a `sqlite:` URL (`sqlite://relais.db`, `sqlite:relais.db`,
/// `sqlite:///abs/path.db`); query parameters are not accepted, the store sets its own.
fn sqlite_path(url: &str, data_dir: &Path) -> Result<PathBuf, StoreError> {
    let rest = url
        .strip_prefix("sqlite://")
        .or_else(|| url.strip_prefix("sqlite:"))
        .ok_or_else(|| StoreError::UnsupportedUrl(url.to_owned()))?;
    if rest.is_empty() || rest.contains('?') || rest == ":memory:" {
        return Err(StoreError::UnsupportedUrl(format!(
            "{url} (give a file path, without query parameters)"
        )));
    }
    let path = PathBuf::from(rest);
    Ok(if path.is_absolute() {
        path
    } else {
        data_dir.join(path)
    })
}

impl SqliteStore {
    /// A write transaction that holds SQLite's write lock from its first statement, so that
    /// what it reads before writing cannot change under it.
    async fn begin_write(&self) -> Result<sqlx::Transaction<'static, sqlx::Sqlite>, StoreError> {
        Ok(self.pool.begin_with("BEGIN IMMEDIATE").await?)
    }

    /// Resets the WAL once enough has been written. SQLite's automatic checkpoint copies
    /// pages back but cannot restart the log while any reader is open, and under steady
    /// ingest one always is: the WAL grew to 4 GB over a million objects and reads slowed by
    /// a quarter (BENCHMARKS.md). A TRUNCATE checkpoint waits (up to the busy timeout) for
    /// the readers of the moment to finish, then starts the log again from zero. SQLite's
    /// planner needs no statistics for these queries, so nothing else is maintained.
    fn objects_written(&self, rows: usize) {
        const ROWS_PER_RESET: u64 = 20_000;
        let written = self
            .wal
            .written_since
            .fetch_add(rows as u64, Ordering::Relaxed)
            + rows as u64;
        if written < ROWS_PER_RESET || self.wal.resetting.swap(true, Ordering::AcqRel) {
            return;
        }
        self.wal.written_since.store(0, Ordering::Relaxed);
        let pool = self.pool.clone();
        let wal = Arc::clone(&self.wal);
        tokio::spawn(tracing::Instrument::instrument(
            async move {
                if let Err(e) = reset_wal(&pool).await {
                    tracing::warn!(error = %e, "WAL checkpoint failed");
                }
                wal.resetting.store(false, Ordering::Release);
            },
            tracing::info_span!("job", name = "wal_checkpoint"),
        ));
    }
}

/// How long the reset waits for readers. A TRUNCATE checkpoint holds off writers while it
/// waits, so it gives up quickly (and tries again after the next rows) rather than stall
/// ingest behind a long paged read for the connection's whole 10 s busy timeout.
const WAL_RESET_WAIT_MS: u32 = 250;

async fn reset_wal(pool: &SqlitePool) -> Result<(), sqlx::Error> {
    let mut conn = pool.acquire().await?;
    sqlx::query(sqlx::AssertSqlSafe(format!(
        "PRAGMA busy_timeout = {WAL_RESET_WAIT_MS}"
    )))
    .execute(&mut *conn)
    .await?;
    let outcome = sqlx::query_as::<_, (i64, i64, i64)>("PRAGMA wal_checkpoint(TRUNCATE)")
        .fetch_one(&mut *conn)
        .await;
    // The connection goes back to the pool with the timeout every other statement expects.
    sqlx::query("PRAGMA busy_timeout = 10000")
        .execute(&mut *conn)
        .await?;
    match outcome {
        Ok((0, _, _)) => tracing::debug!("WAL reset"),
        Ok(_) | Err(sqlx::Error::Database(_)) => {
            tracing::debug!("WAL still in use; reset after the next rows");
        }
        Err(e) => return Err(e),
    }
    Ok(())
}

super::audit::audit_sql!(SqliteStore, SqliteRow);
super::registry::registry_sql!(SqliteStore, SqliteRow);
super::portable::portable_store!(SqliteStore, SqliteRow);
super::submissions::submission_sql!(SqliteStore, SqliteRow);
super::cases::case_sql!(SqliteStore, SqliteRow);
super::reports::report_sql!(SqliteStore, SqliteRow);
super::federation::federation_sql!(SqliteStore, SqliteRow);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn relative_paths_live_in_the_data_dir() {
        let dir = Path::new("/srv/relais");
        assert_eq!(
            sqlite_path("sqlite://relais.db", dir).unwrap(),
            PathBuf::from("/srv/relais/relais.db")
        );
        assert_eq!(
            sqlite_path("sqlite:///var/lib/r.db", dir).unwrap(),
            PathBuf::from("/var/lib/r.db")
        );
        assert!(sqlite_path("sqlite::memory:", dir).is_err());
        assert!(sqlite_path("sqlite://x.db?mode=ro", dir).is_err());
    }
}
super::sla::sla_sql!(SqliteStore, SqliteRow);
