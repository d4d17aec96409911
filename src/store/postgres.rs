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

super::portable::portable_store!(PgStore, PgRow);
