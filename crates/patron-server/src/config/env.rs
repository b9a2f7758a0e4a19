//! `PATRON_*` environment variables as a configuration layer over the file: each variable
//! sets the setting its name spells (`PATRON_SMTP_PORT` → `[smtp] port`), given as text;
//! figment's lossy extraction reads the text as the setting's number or flag, and a value
//! that does not fit is an error naming the variable. Variables the service does not own
//! (`PATRON_TEST_POSTGRES_URL`, `PATRON_BIN`) are left alone.

use std::collections::HashMap;

use figment::value::{Dict, Empty, Map, Tag, Value};
use figment::{Error, Metadata, Profile, Provider};

use super::ENV_PREFIX;

/// The layer's name in figment's metadata (and how its errors are told apart).
pub(super) const SOURCE: &str = "PATRON_* environment variables";

/// How a variable's text is read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Reading {
    /// As it is (trimmed).
    Text,
    /// Comma-separated, blank entries dropped.
    List,
    /// As it is; empty unsets the setting.
    Optional,
}

/// Every setting a variable may set, by its key path; the variable's name is
/// [`variable`] of the path.
pub(super) const SETTINGS: &[(&str, Reading)] = &[
    ("listen", Reading::Text),
    ("trusted_proxies", Reading::List),
    ("public_url", Reading::Optional),
    ("database_url", Reading::Text),
    ("access_token_ttl_secs", Reading::Text),
    ("refresh_token_ttl_secs", Reading::Text),
    ("max_body_bytes", Reading::Text),
    ("log", Reading::Text),
    ("log_format", Reading::Text),
    ("secret_key", Reading::Text),
    ("previous_secret_keys", Reading::List),
    ("secret_key_file", Reading::Text),
    ("cookie_secure", Reading::Text),
    ("argon2_memory_kib", Reading::Text),
    ("argon2_iterations", Reading::Text),
    ("argon2_parallelism", Reading::Text),
    ("argon2_queue_timeout_secs", Reading::Text),
    ("rolling_session_max_days", Reading::Text),
    ("sign_in_failures_per_minute", Reading::Text),
    ("notifier", Reading::Text),
    ("google_jwks_url", Reading::Text),
    ("apple_jwks_url", Reading::Text),
    ("facebook_graph_url", Reading::Text),
    ("provider_timeout_secs", Reading::Text),
    ("bulk_sync_limit", Reading::Text),
    ("export_dir", Reading::Text),
    ("export_link_ttl_secs", Reading::Text),
    ("smtp.host", Reading::Text),
    ("smtp.port", Reading::Text),
    ("smtp.tls", Reading::Text),
    ("smtp.username", Reading::Text),
    ("smtp.password", Reading::Text),
    ("smtp.from", Reading::Text),
    ("webhook.url", Reading::Text),
    ("webhook.secret", Reading::Text),
    ("sms.provider", Reading::Text),
    ("sms.base_url", Reading::Text),
    ("sms.account_sid", Reading::Text),
    ("sms.auth_token", Reading::Text),
    ("sms.from", Reading::Text),
    ("events.url", Reading::Text),
    ("events.secret", Reading::Text),
    ("metrics.listen", Reading::Text),
    ("fetch.max_bytes", Reading::Text),
    ("fetch.timeout_secs", Reading::Text),
    ("fetch.connect_timeout_secs", Reading::Text),
    ("fetch.max_redirects", Reading::Text),
    ("fetch.max_concurrent", Reading::Text),
    ("fetch.allow", Reading::List),
    ("retention.interval_secs", Reading::Text),
    ("retention.sessions_days", Reading::Text),
    ("retention.reset_codes_days", Reading::Text),
    ("retention.pending_registrations_days", Reading::Text),
    ("retention.outbox_days", Reading::Text),
    ("retention.jobs_days", Reading::Text),
];

/// The variable that sets the setting at `key` (`smtp.port` → `PATRON_SMTP_PORT`).
pub(super) fn variable(key: &str) -> String {
    format!("{ENV_PREFIX}{}", key.replace('.', "_").to_ascii_uppercase())
}

/// The `PATRON_*` variables of one environment that name a setting.
pub(super) struct EnvLayer {
    values: Vec<(&'static str, Value)>,
}

impl EnvLayer {
    /// The settings `env` sets.
    pub(super) fn new(env: &HashMap<String, String>) -> Self {
        let values = SETTINGS
            .iter()
            .filter_map(|&(key, reading)| {
                let text = env.get(&variable(key))?.trim();
                Some((key, read(reading, text)))
            })
            .collect();
        Self { values }
    }
}

fn read(reading: Reading, text: &str) -> Value {
    match reading {
        Reading::Text => Value::from(text.to_owned()),
        Reading::List => Value::from(
            text.split(',')
                .map(str::trim)
                .filter(|entry| !entry.is_empty())
                .map(|entry| Value::from(entry.to_owned()))
                .collect::<Vec<_>>(),
        ),
        Reading::Optional if text.is_empty() => Value::Empty(Tag::Default, Empty::None),
        Reading::Optional => Value::from(text.to_owned()),
    }
}

impl Provider for EnvLayer {
    fn metadata(&self) -> Metadata {
        Metadata::named(SOURCE).interpolater(|_: &Profile, keys: &[&str]| variable(&keys.join(".")))
    }

    fn data(&self) -> Result<Map<Profile, Dict>, Error> {
        let mut settings = Dict::new();
        for (key, value) in &self.values {
            match key.split_once('.') {
                None => {
                    settings.insert((*key).to_owned(), value.clone());
                }
                Some((section, name)) => {
                    let table = settings
                        .entry(section.to_owned())
                        .or_insert_with(|| Value::from(Dict::new()));
                    if let Value::Dict(_, table) = table {
                        table.insert(name.to_owned(), value.clone());
                    }
                }
            }
        }
        Ok(Profile::Default.collect(settings))
    }
}
