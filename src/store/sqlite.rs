//! SQLite backend: one file in the data directory, WAL journal so that the CLI can write
//! (issue, revoke) while a hub reads.

use std::path::{Path, PathBuf};
use std::str::FromStr;
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
            .pragma("temp_store", "memory");
        let pool = SqlitePoolOptions::new()
            .max_connections(max_connections.max(1))
            .connect_with(options)
            .await?;
        MIGRATOR.run(&pool).await?;
        Ok(Self { pool })
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

    /// SQLite's planner needs no statistics for these queries (measured to 1,000,000 objects).
    fn objects_written(&self, _rows: usize) {}
}

super::portable::portable_store!(SqliteStore, SqliteRow);

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
