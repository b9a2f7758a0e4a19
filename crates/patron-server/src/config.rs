//! Configuration: defaults, then an optional TOML file, then `PATRON_*` environment
//! variables, then command-line flags (applied by the binary). Unknown keys are errors that
//! name the key.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::path::Path;

use serde::Deserialize;

/// Everything the service can be configured with. See the README's configuration table.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Config {
    /// Address to listen on (`PATRON_LISTEN`).
    pub listen: SocketAddr,
    /// Database URL: `sqlite://path` or `postgres://…` (`PATRON_DATABASE_URL`).
    pub database_url: String,
    /// Lifetime of platform access tokens, seconds (`PATRON_ACCESS_TOKEN_TTL_SECS`).
    pub access_token_ttl_secs: u64,
    /// Lifetime of platform refresh tokens, seconds (`PATRON_REFRESH_TOKEN_TTL_SECS`).
    pub refresh_token_ttl_secs: u64,
    /// Largest request body accepted, bytes (`PATRON_MAX_BODY_BYTES`).
    pub max_body_bytes: usize,
    /// Log filter in `tracing` syntax, e.g. `info,patron_server=debug` (`PATRON_LOG`).
    pub log: String,
}

/// The default database: an SQLite file under `./data/`.
pub const DEFAULT_DATABASE_URL: &str = "sqlite://data/patron.db";

impl Default for Config {
    fn default() -> Self {
        Self {
            listen: SocketAddr::from(([127, 0, 0, 1], 8080)),
            database_url: DEFAULT_DATABASE_URL.to_owned(),
            access_token_ttl_secs: 3600,
            refresh_token_ttl_secs: 30 * 24 * 3600,
            max_body_bytes: 1024 * 1024,
            log: "info".to_owned(),
        }
    }
}

/// Why configuration could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// The file could not be read.
    #[error("cannot read config file {path}: {source}")]
    Read {
        /// The file.
        path: String,
        /// The I/O error.
        source: std::io::Error,
    },
    /// The file is not valid, or has an unknown key or a wrong type.
    #[error("invalid config file {path}: {message}")]
    Parse {
        /// The file.
        path: String,
        /// What `toml` reported, naming the key.
        message: String,
    },
    /// An environment variable has an unusable value.
    #[error("invalid environment variable {name}: {message}")]
    Env {
        /// The variable.
        name: String,
        /// What is wrong.
        message: String,
    },
}

const ENV_PREFIX: &str = "PATRON_";

impl Config {
    /// Loads defaults, then `file` if given, then the `PATRON_*` variables of `env`.
    pub fn load(file: Option<&Path>, env: &HashMap<String, String>) -> Result<Self, ConfigError> {
        let mut config = match file {
            Some(path) => {
                let shown = path.display().to_string();
                let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
                    path: shown.clone(),
                    source,
                })?;
                toml::from_str(&text).map_err(|error| ConfigError::Parse {
                    path: shown,
                    message: error.to_string(),
                })?
            }
            None => Config::default(),
        };
        config.apply_env(env)?;
        Ok(config)
    }

    /// Applies `PATRON_<KEY>` overrides. Variables the service does not own (such as
    /// `PATRON_TEST_POSTGRES_URL` or `PATRON_BIN`) are left alone.
    fn apply_env(&mut self, env: &HashMap<String, String>) -> Result<(), ConfigError> {
        let get = |key: &str| {
            env.get(&format!("{ENV_PREFIX}{key}"))
                .map(|v| (format!("{ENV_PREFIX}{key}"), v.trim()))
        };
        if let Some((name, value)) = get("LISTEN") {
            self.listen = parse_env(&name, value)?;
        }
        if let Some((_, value)) = get("DATABASE_URL") {
            self.database_url = value.to_owned();
        }
        if let Some((name, value)) = get("ACCESS_TOKEN_TTL_SECS") {
            self.access_token_ttl_secs = parse_env(&name, value)?;
        }
        if let Some((name, value)) = get("REFRESH_TOKEN_TTL_SECS") {
            self.refresh_token_ttl_secs = parse_env(&name, value)?;
        }
        if let Some((name, value)) = get("MAX_BODY_BYTES") {
            self.max_body_bytes = parse_env(&name, value)?;
        }
        if let Some((_, value)) = get("LOG") {
            self.log = value.to_owned();
        }
        Ok(())
    }
}

fn parse_env<T: std::str::FromStr>(name: &str, value: &str) -> Result<T, ConfigError>
where
    T::Err: std::fmt::Display,
{
    value.parse().map_err(|error: T::Err| ConfigError::Env {
        name: name.to_owned(),
        message: error.to_string(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn env_overrides_file_and_defaults() {
        let dir = std::env::temp_dir().join(format!("patron-config-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let file = dir.join("patron.toml");
        std::fs::write(
            &file,
            "listen = \"0.0.0.0:9000\"\naccess_token_ttl_secs = 60\n",
        )
        .unwrap();
        let env = HashMap::from([("PATRON_ACCESS_TOKEN_TTL_SECS".to_owned(), "120".to_owned())]);
        let config = Config::load(Some(&file), &env).unwrap();
        assert_eq!(config.listen.port(), 9000);
        assert_eq!(config.access_token_ttl_secs, 120);
        assert_eq!(config.database_url, DEFAULT_DATABASE_URL);
    }

    #[test]
    fn unknown_keys_are_named() {
        let dir = std::env::temp_dir().join(format!("patron-config-bad-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let file = dir.join("patron.toml");
        std::fs::write(&file, "listne = \"0.0.0.0:9000\"\n").unwrap();
        let error = Config::load(Some(&file), &HashMap::new())
            .unwrap_err()
            .to_string();
        assert!(error.contains("listne"), "{error}");
        let env = HashMap::from([("PATRON_LISTEN".to_owned(), "nowhere".to_owned())]);
        assert!(Config::load(None, &env)
            .unwrap_err()
            .to_string()
            .contains("PATRON_LISTEN"));
    }
}
