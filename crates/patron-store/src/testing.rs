//! Fresh, isolated databases for tests: one SQLite file or one PostgreSQL database per
//! test, so tests run in parallel without seeing each other's rows.
//!
//! PostgreSQL tests need `PATRON_TEST_POSTGRES_URL` (a server URL whose user may create
//! databases). Without it they are skipped with a message, unless
//! `PATRON_REQUIRE_POSTGRES=1` (set by `.ci/run`), which turns the skip into a failure.

use rand::RngCore;
use sqlx::{Connection, PgConnection};

use crate::Backend;

/// The variable naming the PostgreSQL server for tests.
pub const POSTGRES_URL_VAR: &str = "PATRON_TEST_POSTGRES_URL";
/// The variable that makes a missing PostgreSQL a failure rather than a skip.
pub const REQUIRE_POSTGRES_VAR: &str = "PATRON_REQUIRE_POSTGRES";

/// A database created for one test; call [`TestDatabase::drop_database`] when done. A test
/// that panics first still has its database removed, when the value is dropped.
#[derive(Debug)]
pub struct TestDatabase {
    /// URL to connect to.
    pub url: String,
    /// Which backend.
    pub backend: Backend,
    /// What removes the database; taken by whichever of `drop_database` and `Drop` runs.
    cleanup: Option<Cleanup>,
}

/// How a test database is removed.
#[derive(Debug)]
enum Cleanup {
    File(std::path::PathBuf),
    Postgres { server_url: String, name: String },
}

/// The backends a test should run against: SQLite always, PostgreSQL when configured.
///
/// # Panics
/// When PostgreSQL is required but not configured.
pub fn backends() -> Vec<Backend> {
    if std::env::var(POSTGRES_URL_VAR).is_ok_and(|url| !url.is_empty()) {
        return vec![Backend::Sqlite, Backend::Postgres];
    }
    assert!(
        std::env::var(REQUIRE_POSTGRES_VAR).map_or(true, |value| value != "1"),
        "{REQUIRE_POSTGRES_VAR}=1 but {POSTGRES_URL_VAR} is not set: PostgreSQL tests would be \
         skipped"
    );
    eprintln!("SKIPPED: PostgreSQL variant of this test ({POSTGRES_URL_VAR} is not set)");
    vec![Backend::Sqlite]
}

fn random_name() -> String {
    let mut bytes = [0u8; 8];
    rand::thread_rng().fill_bytes(&mut bytes);
    format!(
        "patron_test_{}",
        bytes.iter().map(|b| format!("{b:02x}")).collect::<String>()
    )
}

impl TestDatabase {
    /// Creates an empty database for `backend`.
    ///
    /// # Panics
    /// When the database cannot be created: a test cannot run without it.
    pub async fn create(backend: Backend) -> Self {
        let name = random_name();
        match backend {
            Backend::Sqlite => {
                let path = std::env::temp_dir().join(format!("{name}.db"));
                Self {
                    url: format!("sqlite://{}", path.display()),
                    backend,
                    cleanup: Some(Cleanup::File(path)),
                }
            }
            Backend::Postgres => {
                let server_url =
                    std::env::var(POSTGRES_URL_VAR).expect("PATRON_TEST_POSTGRES_URL is set");
                let mut admin = PgConnection::connect(&server_url)
                    .await
                    .expect("connect to the test PostgreSQL server");
                sqlx::query(&format!("CREATE DATABASE {name}"))
                    .execute(&mut admin)
                    .await
                    .expect("create test database");
                let url = postgres_url(&server_url, &name);
                Self {
                    url,
                    backend,
                    cleanup: Some(Cleanup::Postgres { server_url, name }),
                }
            }
        }
    }

    /// Removes the database (its files, or the PostgreSQL database).
    pub async fn drop_database(mut self) {
        if let Some(cleanup) = self.cleanup.take() {
            cleanup.run().await;
        }
    }
}

impl Drop for TestDatabase {
    /// Removes the database of a test that ended without [`TestDatabase::drop_database`]
    /// (it panicked). Runs on a thread of its own, since a test's runtime may be the one
    /// unwinding.
    fn drop(&mut self) {
        let Some(cleanup) = self.cleanup.take() else {
            return;
        };
        let _ = std::thread::spawn(move || {
            if let Ok(runtime) = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
            {
                runtime.block_on(cleanup.run());
            }
        })
        .join();
    }
}

impl Cleanup {
    async fn run(self) {
        match self {
            Cleanup::File(path) => {
                for suffix in ["", "-wal", "-shm"] {
                    let _ = std::fs::remove_file(format!("{}{suffix}", path.display()));
                }
            }
            Cleanup::Postgres { server_url, name } => {
                // A busy server may refuse a connection for a moment: try a few times.
                let drop = format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)");
                let mut last_error = None;
                for attempt in 0..5u64 {
                    if attempt > 0 {
                        tokio::time::sleep(std::time::Duration::from_millis(200 * attempt)).await;
                    }
                    match PgConnection::connect(&server_url).await {
                        Ok(mut admin) => match sqlx::query(&drop).execute(&mut admin).await {
                            Ok(_) => return,
                            Err(error) => last_error = Some(error),
                        },
                        Err(error) => last_error = Some(error),
                    }
                }
                if let Some(error) = last_error {
                    eprintln!("could not drop the test database {name}: {error}");
                }
            }
        }
    }
}

/// The server URL with its database path replaced by `name`.
fn postgres_url(server_url: &str, name: &str) -> String {
    let (base, query) = server_url
        .split_once('?')
        .map_or((server_url, None), |(b, q)| (b, Some(q)));
    let scheme_end = base.find("://").map_or(0, |i| i + 3);
    let host_end = base[scheme_end..]
        .find('/')
        .map_or(base.len(), |i| scheme_end + i);
    let mut url = format!("{}/{name}", &base[..host_end]);
    if let Some(query) = query {
        url.push('?');
        url.push_str(query);
    }
    url
}
