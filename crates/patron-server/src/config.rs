//! Configuration: defaults, then an optional TOML file, then `PATRON_*` environment
//! variables, then command-line flags, layered by `figment` into one [`Config`]. Unknown
//! keys are errors that name the key; a bad variable is an error that names the variable.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use figment::providers::{Format, Serialized, Toml};
use figment::Figment;
use patron_domain::link::check_link_base;
use serde::Deserialize;

use crate::fetch::{Fetcher, IpBlock};
use crate::notify::{
    ByChannel, Delivery, LogDelivery, SmtpDelivery, TwilioDelivery, WebhookDelivery, WebhookEvents,
};
use patron_service::hasher::PasswordHasher;
use patron_service::secrets::SecretBox;
use patron_service::{EventSink, ServiceSettings, TokenLifetimes};

mod env;
mod tables;

pub use tables::{
    EventsSettings, FetchSettings, MetricsSettings, RetentionSettings, SmsSettings, SmtpSettings,
    SmtpTls, WebhookSettings,
};

/// Everything the service can be configured with. See the README's configuration table.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Config {
    /// Address to listen on (`PATRON_LISTEN`).
    pub listen: SocketAddr,
    /// Proxies (addresses or CIDR blocks) whose `X-Forwarded-For` is believed
    /// (`PATRON_TRUSTED_PROXIES`, comma-separated). Empty: the peer is the client.
    pub trusted_proxies: Vec<String>,
    /// Where customers reach links the service sends, e.g. `https://accounts.example.com`
    /// (`PATRON_PUBLIC_URL`): the base of reset links when an application configures no
    /// `password_reset_url`. `https` unless on a loopback host. Unset: the listen address.
    pub public_url: Option<String>,
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
    /// Log line format (`PATRON_LOG_FORMAT`): `text` for people, `json` (one object a
    /// line, with the request's id on every line of a request) for log pipelines.
    pub log_format: String,
    /// Base64 32-byte key encrypting secrets at rest (`PATRON_SECRET_KEY`). Every node of a
    /// PostgreSQL deployment needs the same key. When unset, `secret_key_file` is used.
    pub secret_key: Option<Redacted>,
    /// How customer messages are delivered (`PATRON_NOTIFIER`): `log` keeps them in the
    /// outbox (`patron outbox list`) and logs that they are ready; `smtp` and `webhook` send
    /// them with the `[smtp]` / `[webhook]` settings.
    pub notifier: String,
    /// SMTP server settings (`PATRON_SMTP_*`).
    pub smtp: SmtpSettings,
    /// Webhook settings (`PATRON_WEBHOOK_*`).
    pub webhook: WebhookSettings,
    /// A text-message provider beside an `smtp` or `log` notifier (`PATRON_SMS_*`).
    pub sms: SmsSettings,
    /// Where Google's signing keys are published (`PATRON_GOOGLE_JWKS_URL`).
    pub google_jwks_url: String,
    /// Where Apple's signing keys are published (`PATRON_APPLE_JWKS_URL`).
    pub apple_jwks_url: String,
    /// Facebook's Graph API (`PATRON_FACEBOOK_GRAPH_URL`).
    pub facebook_graph_url: String,
    /// How long one call to a social provider may take, seconds
    /// (`PATRON_PROVIDER_TIMEOUT_SECS`; 1 to 120).
    pub provider_timeout_secs: u64,
    /// argon2id memory cost in KiB (`PATRON_ARGON2_MEMORY_KIB`; OWASP: 19456).
    pub argon2_memory_kib: u32,
    /// argon2id iterations (`PATRON_ARGON2_ITERATIONS`; OWASP: 2).
    pub argon2_iterations: u32,
    /// argon2id lanes (`PATRON_ARGON2_PARALLELISM`; OWASP: 1).
    pub argon2_parallelism: u32,
    /// The longest a rolling session lives after sign-in, however active, in days
    /// (`PATRON_ROLLING_SESSION_MAX_DAYS`; 1 to 3650).
    pub rolling_session_max_days: u32,
    /// Failed password sign-ins a client address may make per minute, across all nodes;
    /// past it sign-in answers 429 with `Retry-After` (`PATRON_SIGN_IN_FAILURES_PER_MINUTE`;
    /// 0 turns the budget off).
    pub sign_in_failures_per_minute: u32,
    /// Longest wait, seconds, for a free password hashing slot; past it the request gets
    /// 503 with `Retry-After` (`PATRON_ARGON2_QUEUE_TIMEOUT_SECS`).
    pub argon2_queue_timeout_secs: u64,
    /// Whether the `f.session` cookie is marked `Secure` (`PATRON_COOKIE_SECURE`); turn off
    /// only for local plain-HTTP development.
    pub cookie_secure: bool,
    /// Earlier values of `secret_key`, newest first, still accepted for decrypting values
    /// sealed before a key rotation (`PATRON_PREVIOUS_SECRET_KEYS`, comma-separated).
    pub previous_secret_keys: Vec<Redacted>,
    /// File holding the key when `secret_key` is unset; created (mode 0600) if missing
    /// (`PATRON_SECRET_KEY_FILE`).
    pub secret_key_file: PathBuf,
    /// Limits for downloading files named by clients, e.g. CSV imports by URL
    /// (`PATRON_FETCH_*`).
    pub fetch: FetchSettings,
    /// Largest bulk attribute update done within the request; larger ones become
    /// background jobs (`PATRON_BULK_SYNC_LIMIT`).
    pub bulk_sync_limit: usize,
    /// Directory keeping exported customer files (`PATRON_EXPORT_DIR`); PostgreSQL
    /// deployments with several nodes point every node at one shared volume.
    pub export_dir: PathBuf,
    /// How long a download link of an exported file stays valid, seconds
    /// (`PATRON_EXPORT_LINK_TTL_SECS`).
    pub export_link_ttl_secs: u64,
    /// How long finished records are kept, and how often they are purged
    /// (`PATRON_RETENTION_*`).
    pub retention: RetentionSettings,
    /// Where lifecycle events are delivered (`PATRON_EVENTS_URL`, `PATRON_EVENTS_SECRET`).
    pub events: EventsSettings,
    /// Where Prometheus metrics are served (`PATRON_METRICS_LISTEN`).
    pub metrics: MetricsSettings,
}

/// The default database: an SQLite file under `./data/`.
pub const DEFAULT_DATABASE_URL: &str = "sqlite://data/patron.db";

impl Default for Config {
    fn default() -> Self {
        Self {
            listen: SocketAddr::from(([127, 0, 0, 1], 8080)),
            public_url: None,
            trusted_proxies: Vec::new(),
            database_url: DEFAULT_DATABASE_URL.to_owned(),
            access_token_ttl_secs: 3600,
            refresh_token_ttl_secs: 30 * 24 * 3600,
            max_body_bytes: 1024 * 1024,
            log: "info".to_owned(),
            log_format: "text".to_owned(),
            secret_key: None,
            cookie_secure: true,
            notifier: "log".to_owned(),
            smtp: SmtpSettings::default(),
            webhook: WebhookSettings::default(),
            sms: SmsSettings::default(),
            google_jwks_url: "https://www.googleapis.com/oauth2/v3/certs".to_owned(),
            apple_jwks_url: "https://appleid.apple.com/auth/keys".to_owned(),
            facebook_graph_url: "https://graph.facebook.com".to_owned(),
            provider_timeout_secs: 10,
            argon2_memory_kib: 19_456,
            argon2_iterations: 2,
            argon2_parallelism: 1,
            argon2_queue_timeout_secs: 10,
            rolling_session_max_days: 30,
            sign_in_failures_per_minute: 60,
            secret_key_file: PathBuf::from("data/secret.key"),
            previous_secret_keys: Vec::new(),
            fetch: FetchSettings::default(),
            bulk_sync_limit: 1000,
            export_dir: PathBuf::from("data/exports"),
            export_link_ttl_secs: 3600,
            retention: RetentionSettings::default(),
            events: EventsSettings::default(),
            metrics: MetricsSettings::default(),
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
    /// A setting, from the file or the environment, has an unusable value.
    #[error("invalid setting {key}: {message}")]
    Setting {
        /// The TOML key and its variable, e.g. `[fetch] allow / PATRON_FETCH_ALLOW`.
        key: String,
        /// What is wrong, naming the value.
        message: String,
    },
}

const ENV_PREFIX: &str = "PATRON_";

/// Settings given as command-line flags: the last layer, over the environment.
#[derive(Debug, Clone, Default)]
pub struct Flags {
    /// `--database`.
    pub database_url: Option<String>,
    /// `serve --listen`.
    pub listen: Option<SocketAddr>,
}

impl Config {
    /// Loads defaults, then `file` if given, then the `PATRON_*` variables of `env`.
    pub fn load(file: Option<&Path>, env: &HashMap<String, String>) -> Result<Self, ConfigError> {
        Self::load_with(file, env, &Flags::default())
    }

    /// Loads defaults, then `file` if given, then the `PATRON_*` variables of `env`, then
    /// `flags`, layered by figment; then checks what needs the whole.
    pub fn load_with(
        file: Option<&Path>,
        env: &HashMap<String, String>,
        flags: &Flags,
    ) -> Result<Self, ConfigError> {
        let mut layers = Figment::new();
        let shown = file.map(|path| path.display().to_string());
        if let (Some(path), Some(shown)) = (file, &shown) {
            let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
                path: shown.clone(),
                source,
            })?;
            layers = layers.merge(Toml::string(&text));
        }
        layers = layers.merge(env::EnvLayer::new(env));
        if let Some(database_url) = &flags.database_url {
            layers = layers.merge(Serialized::default("database_url", database_url));
        }
        if let Some(listen) = flags.listen {
            layers = layers.merge(Serialized::default("listen", listen.to_string()));
        }
        let mut config: Config = layers
            .extract_lossy()
            .map_err(|error| ConfigError::from_layers(error, shown))?;
        config.log_format = config.log_format.trim().to_ascii_lowercase();
        // Unusable `[fetch]` settings stop the start, not the first download.
        config.fetcher()?;
        config.retention.check()?;
        config.events.check()?;
        config.trusted_proxy_blocks()?;
        if !["text", "json"].contains(&config.log_format.as_str()) {
            return Err(ConfigError::Setting {
                key: "log_format / PATRON_LOG_FORMAT".to_owned(),
                message: format!("'{}' is not text or json", config.log_format),
            });
        }
        if let Some(url) = &config.public_url {
            check_link_base("public_url", url).map_err(|error| ConfigError::Setting {
                key: "public_url / PATRON_PUBLIC_URL".to_owned(),
                message: error.to_string(),
            })?;
        }
        Ok(config)
    }
}

impl ConfigError {
    /// The first of figment's errors in our terms: a value from the environment names its
    /// variable, one from the file names the file and the key.
    fn from_layers(errors: figment::Error, file: Option<String>) -> Self {
        let Some(error) = errors.into_iter().next() else {
            return ConfigError::Setting {
                key: String::new(),
                message: "unreadable configuration".to_owned(),
            };
        };
        let key = error.path.join(".");
        let from_env = error
            .metadata
            .as_ref()
            .is_some_and(|metadata| metadata.name == env::SOURCE);
        match file {
            _ if from_env => ConfigError::Env {
                name: env::variable(&key),
                message: error.kind.to_string(),
            },
            Some(path) if !key.is_empty() => ConfigError::Parse {
                path,
                message: format!("{} (at {key})", error.kind),
            },
            Some(path) => ConfigError::Parse {
                path,
                message: error.kind.to_string(),
            },
            None => ConfigError::Setting {
                key,
                message: error.kind.to_string(),
            },
        }
    }
}

impl Config {
    /// The key box for secrets at rest: from `secret_key`, else from `secret_key_file`
    /// (generated on first use); it also opens values sealed under `previous_secret_keys`.
    pub fn secret_box(&self) -> Result<SecretBox, ConfigError> {
        let previous: Vec<&str> = self
            .previous_secret_keys
            .iter()
            .map(|Redacted(key)| key.as_str())
            .collect();
        self.current_secret_box()?
            .with_previous_keys(&previous)
            .map_err(|message| ConfigError::Env {
                name: "PATRON_PREVIOUS_SECRET_KEYS".to_owned(),
                message,
            })
    }

    fn current_secret_box(&self) -> Result<SecretBox, ConfigError> {
        let invalid = |message: String| ConfigError::Env {
            name: "PATRON_SECRET_KEY".to_owned(),
            message,
        };
        if let Some(Redacted(key)) = &self.secret_key {
            return SecretBox::from_base64(key).map_err(invalid);
        }
        // Nodes sharing a PostgreSQL database must seal with one key; a key file of each
        // node's own would make every node unable to open the others' values.
        if patron_store::Backend::for_url(&self.database_url) == patron_store::Backend::Postgres {
            return Err(ConfigError::Setting {
                key: "secret_key / PATRON_SECRET_KEY".to_owned(),
                message: "a PostgreSQL deployment needs an explicit key, the same on every node \
                          (generate one with `openssl rand -base64 32`)"
                    .to_owned(),
            });
        }
        let path = &self.secret_key_file;
        let shown = path.display().to_string();
        let key = match std::fs::read_to_string(path) {
            Ok(key) => key,
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => {
                let key = SecretBox::generate_key();
                write_private(path, &key).map_err(|source| ConfigError::Read {
                    path: shown.clone(),
                    source,
                })?;
                key
            }
            Err(source) => {
                return Err(ConfigError::Read {
                    path: shown,
                    source,
                })
            }
        };
        SecretBox::from_base64(&key).map_err(|message| ConfigError::Parse {
            path: shown,
            message,
        })
    }
}

impl Config {
    /// The trusted proxies, parsed.
    pub fn trusted_proxy_blocks(&self) -> Result<Vec<IpBlock>, ConfigError> {
        self.trusted_proxies
            .iter()
            .map(|entry| {
                entry
                    .parse::<IpBlock>()
                    .map_err(|message| ConfigError::Setting {
                        key: "trusted_proxies / PATRON_TRUSTED_PROXIES".to_owned(),
                        message,
                    })
            })
            .collect()
    }

    /// What the use cases take from the configuration. Token lifetimes beyond a century
    /// are cut to a century.
    pub fn service_settings(&self) -> ServiceSettings {
        const CENTURY_SECS: u64 = 100 * 365 * 24 * 3600;
        let seconds =
            |n: u64| chrono::Duration::seconds(i64::try_from(n.min(CENTURY_SECS)).unwrap_or(0));
        ServiceSettings {
            public_url: self
                .public_url
                .clone()
                .unwrap_or_else(|| format!("http://{}", self.listen))
                .trim_end_matches('/')
                .to_owned(),
            retention: self.retention.ages(),
            sign_in_failures_per_minute: self.sign_in_failures_per_minute,
            rolling_session_cap: chrono::Duration::days(i64::from(
                self.rolling_session_max_days.clamp(1, 3650),
            )),
            bulk_sync_limit: self.bulk_sync_limit,
            export_dir: self.export_dir.clone(),
            export_link_ttl: seconds(self.export_link_ttl_secs),
            social: patron_service::social::SocialEndpoints {
                google_jwks_url: self.google_jwks_url.clone(),
                apple_jwks_url: self.apple_jwks_url.clone(),
                facebook_graph_url: self.facebook_graph_url.clone(),
                timeout: std::time::Duration::from_secs(self.provider_timeout_secs.clamp(1, 120)),
            },
            token_lifetimes: TokenLifetimes {
                access: seconds(self.access_token_ttl_secs),
                refresh: seconds(self.refresh_token_ttl_secs),
            },
        }
    }

    /// The password hasher with the configured argon2id cost, one hash per core at a time.
    pub fn password_hasher(&self) -> Result<PasswordHasher, ConfigError> {
        let wait = std::time::Duration::from_secs(self.argon2_queue_timeout_secs.clamp(1, 3600));
        PasswordHasher::new(
            self.argon2_memory_kib,
            self.argon2_iterations,
            self.argon2_parallelism,
            PasswordHasher::default_concurrency(),
        )
        .map(|hasher| hasher.with_queue_timeout(wait))
        .map_err(|message| ConfigError::Env {
            name: "PATRON_ARGON2_*".to_owned(),
            message,
        })
    }
}

impl Config {
    /// The downloader for client-named files, with the `[fetch]` limits and allow-list.
    pub fn fetcher(&self) -> Result<Fetcher, ConfigError> {
        Fetcher::new(&self.fetch)
    }
}

impl Config {
    /// Where lifecycle events go: the signed webhook of `[events]`, when a URL is set.
    pub fn event_sink(&self) -> Result<Option<std::sync::Arc<dyn EventSink>>, ConfigError> {
        if self.events.url.is_empty() {
            return Ok(None);
        }
        let sink = WebhookEvents::new(&self.events).map_err(|message| ConfigError::Setting {
            key: "[events] url / PATRON_EVENTS_URL".to_owned(),
            message,
        })?;
        Ok(Some(std::sync::Arc::new(sink)))
    }

    /// The delivery the `notifier` setting names; with an `[sms]` provider (and a notifier
    /// other than `webhook`, which takes every channel), text messages go to the provider.
    pub fn delivery(&self) -> Result<std::sync::Arc<dyn Delivery>, ConfigError> {
        let notifier: std::sync::Arc<dyn Delivery> = match self.notifier.as_str() {
            "log" => std::sync::Arc::new(LogDelivery),
            "smtp" => std::sync::Arc::new(SmtpDelivery::new(&self.smtp).map_err(invalid_notifier)?),
            "webhook" => {
                return Ok(std::sync::Arc::new(
                    WebhookDelivery::new(&self.webhook).map_err(invalid_notifier)?,
                ))
            }
            other => {
                return Err(invalid_notifier(format!(
                    "unknown notifier '{other}' (available: log, smtp, webhook)"
                )))
            }
        };
        let sms: std::sync::Arc<dyn Delivery> = match self.sms.provider.as_str() {
            "" => return Ok(notifier),
            "twilio" => std::sync::Arc::new(TwilioDelivery::new(&self.sms).map_err(invalid_sms)?),
            other => {
                return Err(invalid_sms(format!(
                    "unknown SMS provider '{other}' (available: twilio)"
                )))
            }
        };
        Ok(std::sync::Arc::new(ByChannel {
            sms,
            other: notifier,
        }))
    }
}

/// A configured secret: usable as a string, shown as `***` by `Debug`.
#[derive(Clone, PartialEq, Eq, Deserialize)]
#[serde(transparent)]
pub struct Redacted(pub String);

impl std::fmt::Debug for Redacted {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("\"***\"")
    }
}

fn invalid_sms(message: String) -> ConfigError {
    ConfigError::Env {
        name: "PATRON_SMS_PROVIDER".to_owned(),
        message,
    }
}

fn invalid_notifier(message: String) -> ConfigError {
    ConfigError::Env {
        name: "PATRON_NOTIFIER".to_owned(),
        message,
    }
}

/// Writes `contents` to a new file readable only by its owner.
fn write_private(path: &Path, contents: &str) -> std::io::Result<()> {
    use std::io::Write;
    if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
        std::fs::create_dir_all(parent)?;
    }
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    options.open(path)?.write_all(contents.as_bytes())
}

#[cfg(test)]
mod tests;
