//! `PATRON_*` environment variables over the file's settings.

use std::collections::HashMap;
use std::path::PathBuf;

use super::{Config, ConfigError, Redacted, SmtpTls, ENV_PREFIX};

impl Config {
    /// Applies `PATRON_<KEY>` overrides. Variables the service does not own (such as
    /// `PATRON_TEST_POSTGRES_URL` or `PATRON_BIN`) are left alone.
    pub(super) fn apply_env(&mut self, env: &HashMap<String, String>) -> Result<(), ConfigError> {
        let get = |key: &str| {
            env.get(&format!("{ENV_PREFIX}{key}"))
                .map(|v| (format!("{ENV_PREFIX}{key}"), v.trim()))
        };
        if let Some((_, value)) = get("TRUSTED_PROXIES") {
            self.trusted_proxies = value
                .split(',')
                .map(str::trim)
                .filter(|entry| !entry.is_empty())
                .map(str::to_owned)
                .collect();
        }
        if let Some((_, value)) = get("PUBLIC_URL") {
            self.public_url = Some(value.to_owned()).filter(|url| !url.is_empty());
        }
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
        if let Some((_, value)) = get("LOG_FORMAT") {
            self.log_format = value.trim().to_ascii_lowercase();
        }
        if let Some((name, value)) = get("ARGON2_MEMORY_KIB") {
            self.argon2_memory_kib = parse_env(&name, value)?;
        }
        if let Some((name, value)) = get("ARGON2_ITERATIONS") {
            self.argon2_iterations = parse_env(&name, value)?;
        }
        if let Some((name, value)) = get("ARGON2_PARALLELISM") {
            self.argon2_parallelism = parse_env(&name, value)?;
        }
        if let Some((name, value)) = get("ROLLING_SESSION_MAX_DAYS") {
            self.rolling_session_max_days = parse_env(&name, value)?;
        }
        if let Some((name, value)) = get("SIGN_IN_FAILURES_PER_MINUTE") {
            self.sign_in_failures_per_minute = parse_env(&name, value)?;
        }
        if let Some((name, value)) = get("ARGON2_QUEUE_TIMEOUT_SECS") {
            self.argon2_queue_timeout_secs = parse_env(&name, value)?;
        }
        if let Some((_, value)) = get("NOTIFIER") {
            self.notifier = value.to_owned();
        }
        if let Some((_, value)) = get("GOOGLE_JWKS_URL") {
            self.google_jwks_url = value.to_owned();
        }
        if let Some((_, value)) = get("APPLE_JWKS_URL") {
            self.apple_jwks_url = value.to_owned();
        }
        if let Some((_, value)) = get("FACEBOOK_GRAPH_URL") {
            self.facebook_graph_url = value.to_owned();
        }
        if let Some((name, value)) = get("PROVIDER_TIMEOUT_SECS") {
            self.provider_timeout_secs = parse_env(&name, value)?;
        }
        if let Some((_, value)) = get("SMS_PROVIDER") {
            self.sms.provider = value.to_owned();
        }
        if let Some((_, value)) = get("SMS_BASE_URL") {
            self.sms.base_url = value.to_owned();
        }
        if let Some((_, value)) = get("SMS_ACCOUNT_SID") {
            self.sms.account_sid = value.to_owned();
        }
        if let Some((_, value)) = get("SMS_AUTH_TOKEN") {
            self.sms.auth_token = Redacted(value.to_owned());
        }
        if let Some((_, value)) = get("SMS_FROM") {
            self.sms.from = value.to_owned();
        }
        if let Some((_, value)) = get("SMTP_HOST") {
            self.smtp.host = value.to_owned();
        }
        if let Some((name, value)) = get("SMTP_PORT") {
            self.smtp.port = parse_env(&name, value)?;
        }
        if let Some((name, value)) = get("SMTP_TLS") {
            self.smtp.tls = match value {
                "none" => SmtpTls::None,
                "starttls" => SmtpTls::Starttls,
                "tls" => SmtpTls::Tls,
                other => {
                    return Err(ConfigError::Env {
                        name,
                        message: format!("'{other}' is not one of none, starttls, tls"),
                    })
                }
            };
        }
        if let Some((_, value)) = get("SMTP_USERNAME") {
            self.smtp.username = Some(value.to_owned());
        }
        if let Some((_, value)) = get("SMTP_PASSWORD") {
            self.smtp.password = Some(value.to_owned());
        }
        if let Some((_, value)) = get("SMTP_FROM") {
            self.smtp.from = value.to_owned();
        }
        if let Some((_, value)) = get("METRICS_LISTEN") {
            self.metrics.listen = value.to_owned();
        }
        if let Some((_, value)) = get("EVENTS_URL") {
            self.events.url = value.to_owned();
        }
        if let Some((_, value)) = get("EVENTS_SECRET") {
            self.events.secret = value.to_owned();
        }
        if let Some((_, value)) = get("WEBHOOK_URL") {
            self.webhook.url = value.to_owned();
        }
        if let Some((_, value)) = get("WEBHOOK_SECRET") {
            self.webhook.secret = value.to_owned();
        }
        if let Some((name, value)) = get("COOKIE_SECURE") {
            self.cookie_secure = parse_env(&name, value)?;
        }
        if let Some((_, value)) = get("SECRET_KEY") {
            self.secret_key = Some(Redacted(value.to_owned()));
        }
        if let Some((_, value)) = get("PREVIOUS_SECRET_KEYS") {
            self.previous_secret_keys = value
                .split(',')
                .map(str::trim)
                .filter(|key| !key.is_empty())
                .map(|key| Redacted(key.to_owned()))
                .collect();
        }
        if let Some((_, value)) = get("SECRET_KEY_FILE") {
            self.secret_key_file = PathBuf::from(value);
        }
        if let Some((name, value)) = get("FETCH_MAX_BYTES") {
            self.fetch.max_bytes = parse_env(&name, value)?;
        }
        if let Some((name, value)) = get("FETCH_TIMEOUT_SECS") {
            self.fetch.timeout_secs = parse_env(&name, value)?;
        }
        if let Some((name, value)) = get("FETCH_CONNECT_TIMEOUT_SECS") {
            self.fetch.connect_timeout_secs = parse_env(&name, value)?;
        }
        if let Some((name, value)) = get("FETCH_MAX_REDIRECTS") {
            self.fetch.max_redirects = parse_env(&name, value)?;
        }
        if let Some((name, value)) = get("FETCH_MAX_CONCURRENT") {
            self.fetch.max_concurrent = parse_env(&name, value)?;
        }
        if let Some((_, value)) = get("FETCH_ALLOW") {
            self.fetch.allow = value
                .split(',')
                .map(str::trim)
                .filter(|entry| !entry.is_empty())
                .map(str::to_owned)
                .collect();
        }
        if let Some((name, value)) = get("BULK_SYNC_LIMIT") {
            self.bulk_sync_limit = parse_env(&name, value)?;
        }
        if let Some((_, value)) = get("EXPORT_DIR") {
            self.export_dir = value.into();
        }
        if let Some((name, value)) = get("EXPORT_LINK_TTL_SECS") {
            self.export_link_ttl_secs = parse_env(&name, value)?;
        }
        let retention = &mut self.retention;
        for (key, field) in [
            ("RETENTION_INTERVAL_SECS", &mut retention.interval_secs),
            ("RETENTION_SESSIONS_DAYS", &mut retention.sessions_days),
            (
                "RETENTION_RESET_CODES_DAYS",
                &mut retention.reset_codes_days,
            ),
            (
                "RETENTION_PENDING_REGISTRATIONS_DAYS",
                &mut retention.pending_registrations_days,
            ),
            ("RETENTION_OUTBOX_DAYS", &mut retention.outbox_days),
            ("RETENTION_JOBS_DAYS", &mut retention.jobs_days),
        ] {
            if let Some((name, value)) = get(key) {
                *field = parse_env(&name, value)?;
            }
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
