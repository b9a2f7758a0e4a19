//! The tables of the configuration file: `[smtp]`, `[webhook]`, `[sms]`, `[fetch]`,
//! `[retention]` and `[metrics]`.

use serde::Deserialize;

use super::ConfigError;
use patron_service::RetentionAges;

/// How to reach the SMTP server of the `smtp` notifier.
#[derive(Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct SmtpSettings {
    /// Server host name.
    pub host: String,
    /// Server port (587 for STARTTLS, 465 for TLS, 25 plain).
    pub port: u16,
    /// Transport security.
    pub tls: SmtpTls,
    /// Login name, if the server needs one.
    pub username: Option<String>,
    /// Password, if the server needs one (never logged).
    pub password: Option<String>,
    /// Sender, e.g. `Shop <no-reply@shop.example>`.
    pub from: String,
}

impl Default for SmtpSettings {
    fn default() -> Self {
        Self {
            host: String::new(),
            port: 587,
            tls: SmtpTls::Starttls,
            username: None,
            password: None,
            from: String::new(),
        }
    }
}

impl std::fmt::Debug for SmtpSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SmtpSettings")
            .field("host", &self.host)
            .field("port", &self.port)
            .field("tls", &self.tls)
            .field("username", &self.username)
            .field("password", &self.password.as_ref().map(|_| "***"))
            .field("from", &self.from)
            .finish()
    }
}

/// SMTP transport security.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SmtpTls {
    /// Plain text (local relays and tests only).
    None,
    /// Upgrade with STARTTLS (required).
    Starttls,
    /// TLS from the first byte (SMTPS).
    Tls,
}

/// Where the `webhook` notifier posts, and the secret that signs each post.
#[derive(Clone, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct WebhookSettings {
    /// The receiver's URL.
    pub url: String,
    /// Shared HMAC-SHA256 key (at least 16 characters; never logged).
    pub secret: String,
}

impl std::fmt::Debug for WebhookSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WebhookSettings")
            .field("url", &self.url)
            .field("secret", &"***")
            .finish()
    }
}

/// A text-message provider beside the `notifier` (the `[sms]` table): with
/// `provider = "twilio"`, text messages go to a Twilio-compatible API while other messages go
/// to the notifier. Unused when `notifier = "webhook"`, which delivers every channel.
#[derive(Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct SmsSettings {
    /// `""` (text messages go to the notifier) or `twilio`.
    pub provider: String,
    /// The API's base URL (`https://api.twilio.com`, or a compatible provider's).
    pub base_url: String,
    /// Account SID (the Basic-auth user).
    pub account_sid: String,
    /// Auth token (never logged).
    pub auth_token: super::Redacted,
    /// Sender number or id.
    pub from: String,
}

impl Default for SmsSettings {
    fn default() -> Self {
        Self {
            provider: String::new(),
            base_url: "https://api.twilio.com".to_owned(),
            account_sid: String::new(),
            auth_token: super::Redacted(String::new()),
            from: String::new(),
        }
    }
}

impl std::fmt::Debug for SmsSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SmsSettings")
            .field("provider", &self.provider)
            .field("base_url", &self.base_url)
            .field("account_sid", &self.account_sid)
            .field("auth_token", &self.auth_token)
            .field("from", &self.from)
            .finish()
    }
}

/// Limits for downloading files named by clients (the `[fetch]` table).
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct FetchSettings {
    /// Largest file accepted, bytes.
    pub max_bytes: u64,
    /// Longest wait for a connection, seconds.
    pub connect_timeout_secs: u64,
    /// Longest time for the whole download, redirects included, seconds.
    pub timeout_secs: u64,
    /// Most redirects followed.
    pub max_redirects: u32,
    /// Downloads running at once on this node; more wait (within `timeout_secs`).
    pub max_concurrent: u32,
    /// CIDR blocks or single addresses (`10.0.0.0/8`, `::1/128`, `127.0.0.1`) that may be
    /// fetched from although they are private, loopback or otherwise refused, and on any
    /// port (other hosts only on 80 and 443).
    pub allow: Vec<String>,
}

impl Default for FetchSettings {
    fn default() -> Self {
        Self {
            max_bytes: 50 * 1024 * 1024,
            connect_timeout_secs: 10,
            timeout_secs: 60,
            max_redirects: 5,
            max_concurrent: 4,
            allow: Vec::new(),
        }
    }
}

/// Where lifecycle events go (the `[events]` table); no URL: events wait in the database.
#[derive(Clone, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct EventsSettings {
    /// The receiver, `https://…` (or `http://` to loopback).
    pub url: String,
    /// The shared secret signing each body (at least 16 characters; never logged).
    pub secret: String,
}

impl std::fmt::Debug for EventsSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EventsSettings")
            .field("url", &self.url)
            .field("secret", &"***")
            .finish()
    }
}

impl EventsSettings {
    /// Checks a configured receiver: an http(s) URL and a secret of 16 characters or more.
    pub fn check(&self) -> Result<(), ConfigError> {
        if self.url.is_empty() {
            return Ok(());
        }
        let setting = |key: &str, message: &str| ConfigError::Setting {
            key: key.to_owned(),
            message: message.to_owned(),
        };
        if !(self.url.starts_with("https://") || self.url.starts_with("http://")) {
            return Err(setting(
                "[events] url / PATRON_EVENTS_URL",
                "must be an http:// or https:// URL",
            ));
        }
        if self.secret.len() < 16 {
            return Err(setting(
                "[events] secret / PATRON_EVENTS_SECRET",
                "must be at least 16 characters when [events] url is set",
            ));
        }
        Ok(())
    }
}

/// How long finished records are kept, in days after they served their purpose, and how
/// often the purge runs (the `[retention]` table).
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RetentionSettings {
    /// Seconds between purges.
    pub interval_secs: u64,
    /// Days a session is kept after it expired.
    pub sessions_days: u64,
    /// Days a reset code is kept after it was used or expired.
    pub reset_codes_days: u64,
    /// Days a pending registration is kept after it expired.
    pub pending_registrations_days: u64,
    /// Days a delivered or given-up message is kept.
    pub outbox_days: u64,
    /// Days a finished job and its error report are kept.
    pub jobs_days: u64,
}

impl Default for RetentionSettings {
    fn default() -> Self {
        Self {
            interval_secs: 3600,
            sessions_days: 7,
            reset_codes_days: 1,
            pending_registrations_days: 1,
            outbox_days: 7,
            jobs_days: 30,
        }
    }
}

impl RetentionSettings {
    /// Longest age accepted: a hundred years.
    const MAX_DAYS: u64 = 36_500;

    /// Refuses a zero interval (the purge would never rest) and ages over a century.
    pub(super) fn check(&self) -> Result<(), ConfigError> {
        let setting = |key: &str, message: &str| ConfigError::Setting {
            key: format!(
                "[retention] {key} / PATRON_RETENTION_{}",
                key.to_ascii_uppercase()
            ),
            message: message.to_owned(),
        };
        if self.interval_secs == 0 {
            return Err(setting("interval_secs", "must be at least 1"));
        }
        for (key, days) in [
            ("sessions_days", self.sessions_days),
            ("reset_codes_days", self.reset_codes_days),
            (
                "pending_registrations_days",
                self.pending_registrations_days,
            ),
            ("outbox_days", self.outbox_days),
            ("jobs_days", self.jobs_days),
        ] {
            if days > Self::MAX_DAYS {
                return Err(setting(key, "must be at most 36500 days"));
            }
        }
        Ok(())
    }

    /// The ages the purge keeps records for (each at most a hundred years).
    pub fn ages(&self) -> RetentionAges {
        let days =
            |n: u64| chrono::Duration::days(i64::try_from(n.min(Self::MAX_DAYS)).unwrap_or(0));
        RetentionAges {
            sessions: days(self.sessions_days),
            reset_codes: days(self.reset_codes_days),
            pending_registrations: days(self.pending_registrations_days),
            outbox: days(self.outbox_days),
            jobs: days(self.jobs_days),
        }
    }
}

/// Where Prometheus metrics are served: a listener of their own, never the public port.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct MetricsSettings {
    /// `host:port` of the metrics listener (`PATRON_METRICS_LISTEN`), a loopback port by
    /// default; `off` serves no metrics.
    pub listen: String,
}

impl Default for MetricsSettings {
    fn default() -> Self {
        Self {
            listen: "127.0.0.1:9464".to_owned(),
        }
    }
}

impl MetricsSettings {
    /// The address to serve metrics on, `None` when they are `off`.
    pub fn address(&self) -> Result<Option<std::net::SocketAddr>, ConfigError> {
        let listen = self.listen.trim();
        if listen.eq_ignore_ascii_case("off") {
            return Ok(None);
        }
        listen.parse().map(Some).map_err(|_| ConfigError::Setting {
            key: "[metrics] listen / PATRON_METRICS_LISTEN".to_owned(),
            message: format!("'{listen}' is neither host:port nor off"),
        })
    }
}
