//! The scale-out backend: PostgreSQL, shared by any number of stateless Patron nodes.

use std::str::FromStr;
use std::time::Duration;

use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::{PgPool, Postgres};

use crate::error::StoreError;
use crate::sql::{Dialect, WriteTransaction};

/// Every store concern over one PostgreSQL database.
#[derive(Clone)]
pub struct PostgresStore {
    pool: PgPool,
}

impl PostgresStore {
    const DIALECT: Dialect = Dialect::Postgres;
    /// Row lock taken by read-modify-write transactions.
    const LOCK_ROW: &'static str = " FOR UPDATE";
    /// Lets concurrent workers on several nodes claim different rows without waiting.
    const SKIP_LOCKED: &'static str = " FOR UPDATE SKIP LOCKED";

    /// Connects to `url` (`postgres://…`) and applies migrations. Concurrent nodes starting
    /// together are safe: sqlx serialises migrations with an advisory lock.
    pub async fn connect(url: &str) -> Result<Self, StoreError> {
        let options = PgConnectOptions::from_str(url)
            .map_err(|error| StoreError::Configuration(format!("bad PostgreSQL URL: {error}")))?;
        // No ping before each use (a round trip per query otherwise): a broken connection
        // fails its query and is replaced.
        let pool = PgPoolOptions::new()
            .max_connections(16)
            .test_before_acquire(false)
            .acquire_timeout(Duration::from_secs(10))
            .connect_with(options)
            .await?;
        sqlx::migrate!("./migrations/postgres").run(&pool).await?;
        Ok(Self { pool })
    }

    /// A read-committed transaction; writers lock the rows they change.
    async fn begin_write(&self) -> Result<WriteTransaction<Postgres>, sqlx::Error> {
        Ok(WriteTransaction::new(self.pool.begin().await?, None))
    }
}

crate::sql::stores::impl_stores!(PostgresStore, sqlx::Postgres);
