//! The scale-out backend: PostgreSQL, shared by any number of stateless Patron nodes.

use std::str::FromStr;
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::{PgPool, Postgres};

use crate::error::StoreError;
use crate::sql::{Dialect, WriteTransaction};

/// Every store concern over one PostgreSQL database.
#[derive(Clone)]
pub struct PostgresStore {
    pool: PgPool,
    /// Attribute index rows written since the table's statistics were last refreshed.
    index_rows_pending: Arc<AtomicU64>,
    /// When (epoch seconds) the statistics were last refreshed by this node.
    analyzed_at: Arc<AtomicI64>,
}

impl PostgresStore {
    const DIALECT: Dialect = Dialect::Postgres;
    /// Row lock taken by read-modify-write transactions.
    const LOCK_ROW: &'static str = " FOR UPDATE";
    /// Lets concurrent workers on several nodes claim different rows without waiting.
    const SKIP_LOCKED: &'static str = " FOR UPDATE SKIP LOCKED";
    /// Index rows written before the planner's statistics are refreshed.
    const ANALYZE_AFTER_ROWS: u64 = 20_000;
    /// Least time between two refreshes by one node.
    const ANALYZE_INTERVAL_SECS: i64 = 30;

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
        Ok(Self {
            pool,
            index_rows_pending: Arc::new(AtomicU64::new(0)),
            analyzed_at: Arc::new(AtomicI64::new(0)),
        })
    }

    /// Counts attribute index rows just written and, after a large load, refreshes the
    /// planner's statistics of the attribute tables. Without them PostgreSQL estimates a
    /// new definition at one row and rewrites of its values scan every row of it (measured:
    /// 309 ms against 13 ms per 400-value statement at a million values); autovacuum would
    /// catch up eventually, but not during the load, and it may be off.
    async fn note_index_rows(&self, rows: usize, now: chrono::DateTime<chrono::Utc>) {
        let pending = self
            .index_rows_pending
            .fetch_add(rows as u64, Ordering::Relaxed)
            + rows as u64;
        let last = self.analyzed_at.load(Ordering::Relaxed);
        let now = now.timestamp();
        if pending < Self::ANALYZE_AFTER_ROWS || now - last < Self::ANALYZE_INTERVAL_SECS {
            return;
        }
        if self
            .analyzed_at
            .compare_exchange(last, now, Ordering::Relaxed, Ordering::Relaxed)
            .is_err()
        {
            return;
        }
        self.index_rows_pending.store(0, Ordering::Relaxed);
        if let Err(error) = sqlx::query("ANALYZE attribute_index, attribute_values")
            .execute(&self.pool)
            .await
        {
            tracing::warn!(%error, "refreshing attribute statistics failed");
        }
    }

    /// A read-committed transaction; writers lock the rows they change.
    async fn begin_write(&self) -> Result<WriteTransaction<Postgres>, sqlx::Error> {
        Ok(WriteTransaction::new(self.pool.begin().await?, None))
    }
}

/// The backend the shared store code is compiled for in this module.
type Db = sqlx::Postgres;
/// The type the shared store code implements every store trait for.
type Store = PostgresStore;

/// Every store trait, implemented for [`PostgresStore`] by the shared code in `sql/stores`.
#[path = "sql/stores/mod.rs"]
#[allow(clippy::duplicate_mod)] // compiled once per backend, on purpose
mod stores;
