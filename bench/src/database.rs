//! Scratch databases: a temporary SQLite file, or a fresh PostgreSQL database created and
//! dropped with the `psql` CLI (so the benchmark needs no database driver of its own).

use std::path::PathBuf;
use std::process::Command;

use crate::{BackendChoice, BenchResult};

/// One scratch database the benchmark owns for its whole run.
#[derive(Debug)]
pub enum BenchDatabase {
    /// A SQLite file in its own temporary directory.
    Sqlite {
        /// The directory holding the file and its WAL.
        dir: PathBuf,
        /// `sqlite:///abs/path.db`.
        url: String,
    },
    /// A database `patron_bench_<pid>` on the server of `admin_url`.
    Postgres {
        /// Where `CREATE DATABASE` and `DROP DATABASE` are run.
        admin_url: String,
        /// The scratch database's name.
        name: String,
        /// URL of the scratch database.
        url: String,
    },
}

impl BenchDatabase {
    /// Creates a fresh, empty database for `backend` (never `Both`).
    pub fn create(backend: BackendChoice, postgres_url: &str) -> BenchResult<Self> {
        let pid = std::process::id();
        match backend {
            BackendChoice::Sqlite | BackendChoice::Both => {
                let dir = std::env::temp_dir().join(format!("patron_bench_{pid}"));
                if dir.exists() {
                    std::fs::remove_dir_all(&dir)?;
                }
                std::fs::create_dir_all(&dir)?;
                let path = dir.join("patron.db");
                let url = format!("sqlite://{}", path.display());
                Ok(Self::Sqlite { dir, url })
            }
            BackendChoice::Postgres => {
                let name = format!("patron_bench_{pid}");
                psql(
                    postgres_url,
                    &format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"),
                )?;
                psql(postgres_url, &format!("CREATE DATABASE {name}"))?;
                let url = with_database(postgres_url, &name)?;
                Ok(Self::Postgres {
                    admin_url: postgres_url.to_owned(),
                    name,
                    url,
                })
            }
        }
    }

    /// The backend's name for tables: `sqlite` or `postgres`.
    pub fn name(&self) -> &'static str {
        match self {
            Self::Sqlite { .. } => "sqlite",
            Self::Postgres { .. } => "postgres",
        }
    }

    /// The database URL Patron is given.
    pub fn url(&self) -> &str {
        match self {
            Self::Sqlite { url, .. } | Self::Postgres { url, .. } => url,
        }
    }

    /// Where the database lives, for humans (no credentials).
    pub fn display_location(&self) -> String {
        match self {
            Self::Sqlite { url, .. } => url.clone(),
            Self::Postgres { name, .. } => format!("PostgreSQL database {name}"),
        }
    }

    /// What [`analyze`](Self::analyze) runs: PostgreSQL also vacuums, which sets the
    /// visibility map as autovacuum eventually would (index-only scans need it) and keeps
    /// autovacuum from starting on the fresh rows in the middle of the measurements.
    pub fn analyze_command(&self) -> &'static str {
        match self {
            Self::Sqlite { .. } => "ANALYZE",
            Self::Postgres { .. } => "VACUUM (ANALYZE)",
        }
    }

    /// Refreshes planner statistics. Returns `false` when that was not possible (SQLite
    /// without the `sqlite3` CLI).
    pub fn analyze(&self) -> BenchResult<bool> {
        match self {
            Self::Postgres { url, .. } => {
                psql(url, "VACUUM (ANALYZE)")?;
                Ok(true)
            }
            Self::Sqlite { dir, .. } => {
                let path = dir.join("patron.db");
                // The seeding pool's connections close in the background: wait for them.
                let output = match Command::new("sqlite3")
                    .args(["-cmd", ".timeout 30000"])
                    .arg(&path)
                    .arg("ANALYZE;")
                    .output()
                {
                    Ok(output) => output,
                    Err(error) if error.kind() == std::io::ErrorKind::NotFound => return Ok(false),
                    Err(error) => return Err(error.into()),
                };
                if !output.status.success() {
                    return Err(format!(
                        "sqlite3 ANALYZE failed: {}",
                        String::from_utf8_lossy(&output.stderr)
                    )
                    .into());
                }
                Ok(true)
            }
        }
    }

    /// At the end of a backend's run: keeps the database when `keep` (printing where it
    /// is), else deletes it (a failure to delete is reported, not fatal).
    pub fn finish(&self, keep: bool) {
        if keep {
            crate::say(&format!("kept database: {}", self.url()));
        } else if let Err(error) = self.drop_database() {
            eprintln!("patron-bench: could not remove the scratch database: {error}");
        }
    }

    /// Deletes the database (the SQLite directory, or `DROP DATABASE`).
    pub fn drop_database(&self) -> BenchResult<()> {
        match self {
            Self::Sqlite { dir, .. } => Ok(std::fs::remove_dir_all(dir)?),
            Self::Postgres {
                admin_url, name, ..
            } => psql(
                admin_url,
                &format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"),
            ),
        }
    }
}

/// Runs one SQL command with `psql`, failing on any error.
pub fn psql(url: &str, sql: &str) -> BenchResult<()> {
    let output = Command::new("psql")
        .args(["-X", "-q", "-v", "ON_ERROR_STOP=1", "-d", url, "-c", sql])
        .output()
        .map_err(|error| {
            format!("cannot run psql (is the PostgreSQL client installed?): {error}")
        })?;
    if output.status.success() {
        Ok(())
    } else {
        Err(format!(
            "psql -c '{sql}' failed: {}",
            String::from_utf8_lossy(&output.stderr).trim()
        )
        .into())
    }
}

/// `url` with its database path replaced by `database`, keeping any `?query`.
pub fn with_database(url: &str, database: &str) -> BenchResult<String> {
    let (base, query) = match url.split_once('?') {
        Some((base, query)) => (base, Some(query)),
        None => (url, None),
    };
    let authority_start = base
        .find("://")
        .map(|i| i + 3)
        .ok_or_else(|| format!("not a postgres:// URL: {url}"))?;
    let authority_end = base[authority_start..]
        .find('/')
        .map_or(base.len(), |i| authority_start + i);
    let mut result = format!("{}/{database}", &base[..authority_end]);
    if let Some(query) = query {
        result.push('?');
        result.push_str(query);
    }
    Ok(result)
}

#[cfg(test)]
mod tests {
    use super::with_database;

    #[test]
    fn replaces_the_database_path() {
        assert_eq!(
            with_database("postgres://u@h:5432/postgres", "x").expect("valid URL"),
            "postgres://u@h:5432/x"
        );
        assert_eq!(
            with_database("postgres://u:p@h/db?sslmode=disable", "x").expect("valid URL"),
            "postgres://u:p@h/x?sslmode=disable"
        );
        assert_eq!(
            with_database("postgresql://h", "x").expect("valid URL"),
            "postgresql://h/x"
        );
        assert!(with_database("nonsense", "x").is_err());
    }
}
