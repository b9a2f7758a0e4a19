//! The embedded default: one SQLite file in WAL mode.

use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::{Sqlite, SqlitePool};
use tokio::sync::Mutex;

use crate::error::StoreError;
use crate::sql::{Dialect, WriteTransaction};

/// Every store concern over one SQLite database.
#[derive(Clone)]
pub struct SqliteStore {
    pool: SqlitePool,
    /// Serialises this process's writers: SQLite allows one writer at a time, and waiting
    /// here is fair and prompt where SQLite's busy handler sleeps up to 100 ms per retry.
    writer: Arc<Mutex<()>>,
}

impl SqliteStore {
    const DIALECT: Dialect = Dialect::Sqlite;
    /// SQLite has no row locks; write transactions start with `BEGIN IMMEDIATE` instead.
    const LOCK_ROW: &'static str = "";
    /// SQLite has no row locks; `BEGIN IMMEDIATE` already makes claims exclusive.
    const SKIP_LOCKED: &'static str = "";

    /// Opens (creating if missing) the database at `url` — `sqlite://path`, `sqlite:path` or
    /// a plain path — with WAL, foreign keys and a busy timeout, and applies migrations.
    pub async fn connect(url: &str) -> Result<Self, StoreError> {
        let url = if url.starts_with("sqlite:") {
            url.to_owned()
        } else {
            format!("sqlite://{url}")
        };
        let options = SqliteConnectOptions::from_str(&url)
            .map_err(|error| StoreError::Configuration(format!("bad SQLite URL '{url}': {error}")))?
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Normal)
            .foreign_keys(true)
            .busy_timeout(Duration::from_secs(10))
            // 64 MiB page cache and memory-mapped reads per connection: list and count
            // queries over a million customers stay in memory.
            .pragma("cache_size", "-65536")
            .pragma("mmap_size", "268435456");
        if let Some(parent) = std::path::Path::new(options.get_filename()).parent() {
            if !parent.as_os_str().is_empty() {
                std::fs::create_dir_all(parent).map_err(|error| {
                    StoreError::Configuration(format!(
                        "cannot create {}: {error}",
                        parent.display()
                    ))
                })?;
            }
        }
        // No ping before each use: a broken connection fails its query and is replaced.
        let pool = SqlitePoolOptions::new()
            .max_connections(8)
            .test_before_acquire(false)
            .connect_with(options)
            .await?;
        sqlx::migrate!("./migrations/sqlite").run(&pool).await?;
        Ok(Self {
            pool,
            writer: Arc::new(Mutex::new(())),
        })
    }

    /// SQLite plans these queries well without statistics: nothing to do.
    async fn note_index_rows(&self, _rows: usize, _now: chrono::DateTime<chrono::Utc>) {}

    /// A transaction holding SQLite's write lock from the start, so that two writers never
    /// deadlock upgrading from a read lock; writers of this process queue on `writer` first.
    async fn begin_write(&self) -> Result<WriteTransaction<Sqlite>, sqlx::Error> {
        let writer = self.writer.clone().lock_owned().await;
        let tx = self.pool.begin_with("BEGIN IMMEDIATE").await?;
        Ok(WriteTransaction::new(tx, Some(writer)))
    }
}

/// The backend the shared store code is compiled for in this module.
type Db = sqlx::Sqlite;
/// The type the shared store code implements every store trait for.
type Store = SqliteStore;

/// Every store trait, implemented for [`SqliteStore`] by the shared code in `sql/stores`.
#[path = "sql/stores/mod.rs"]
#[allow(clippy::duplicate_mod)] // compiled once per backend, on purpose
mod stores;
