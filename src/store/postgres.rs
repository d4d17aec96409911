//! PostgreSQL backend, for deployments with several hub instances sharing one database.

use std::time::Duration;

use sqlx::postgres::{PgPool, PgPoolOptions, PgRow};

use super::StoreError;

static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("migrations/postgres");

#[derive(Debug, Clone)]
pub struct PgStore {
    pool: PgPool,
}

impl PgStore {
    const BACKEND: super::Backend = super::Backend::Postgres;

    pub async fn open(url: &str, max_connections: u32) -> Result<Self, StoreError> {
        let pool = PgPoolOptions::new()
            .max_connections(max_connections.max(1))
            .acquire_timeout(Duration::from_secs(10))
            .connect(url)
            .await?;
        // Instances starting together race to migrate; sqlx takes an advisory lock so that one
        // applies the migrations and the others wait.
        MIGRATOR.run(&pool).await?;
        Ok(Self { pool })
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
}

super::portable::portable_store!(PgStore, PgRow);
