//! Records the store keeps that are not domain types of their own.

use chrono::{DateTime, Utc};
use patron_domain::ids::{CompanyId, ObjectId};
use patron_domain::phone::Region;
use patron_domain::scope::Scope;

/// A sales channel (Fynd "application") that owns customers.
#[derive(Debug, Clone, PartialEq)]
pub struct Application {
    /// 24-hex id.
    pub id: ObjectId,
    /// Owning company.
    pub company_id: CompanyId,
    /// Display name.
    pub name: String,
    /// Digest of the storefront application token.
    pub token_digest: String,
    /// Region of phone numbers written without a country code.
    pub default_region: Region,
    /// Registration time.
    pub created_at: DateTime<Utc>,
}

/// A platform API client: who may obtain tokens for a company, with which scopes.
#[derive(Debug, Clone, PartialEq)]
pub struct ApiClient {
    /// Public client id.
    pub client_id: String,
    /// Company the client acts for.
    pub company_id: CompanyId,
    /// Display name.
    pub name: String,
    /// Digest of the client secret.
    pub secret_digest: String,
    /// Scopes the client may be granted.
    pub scopes: Vec<Scope>,
    /// Registration time.
    pub created_at: DateTime<Utc>,
}

/// Access or refresh.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenKind {
    /// Authenticates API calls.
    Access,
    /// Obtains new tokens.
    Refresh,
}

impl TokenKind {
    /// The kind's name in storage.
    pub fn as_str(&self) -> &'static str {
        match self {
            TokenKind::Access => "access",
            TokenKind::Refresh => "refresh",
        }
    }
}

/// A stored token: its digest and what it grants until when.
#[derive(Debug, Clone, PartialEq)]
pub struct TokenGrant {
    /// SHA-256 digest of the token.
    pub digest: String,
    /// Access or refresh.
    pub kind: TokenKind,
    /// Client it was issued to.
    pub client_id: String,
    /// Company it acts for.
    pub company_id: CompanyId,
    /// Scopes granted.
    pub scopes: Vec<Scope>,
    /// The grant this token descends from: a client-credentials grant starts a family, and
    /// every rotation of its refresh token stays in it.
    pub family_id: String,
    /// Issue time.
    pub created_at: DateTime<Utc>,
    /// Expiry.
    pub expires_at: DateTime<Utc>,
}

/// What presenting a refresh token came to.
#[derive(Debug, Clone, PartialEq)]
pub enum Rotation {
    /// The token was spent and its replacements stored; this is the spent grant.
    Rotated(TokenGrant),
    /// The token had been used already: every token of its family is now revoked.
    Replayed,
    /// Unknown, expired, or another client's.
    Invalid,
}

/// One recorded change of a customer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditRecord {
    /// What happened (`create`, `block`, `password_change`, …).
    pub action: String,
    /// Who did it (`cli`, a platform client id, `customer:<id>`, `retention`).
    pub actor: String,
    /// Why, when recorded.
    pub reason: Option<String>,
    /// When.
    pub at: DateTime<Utc>,
}

/// Who made a change, for the audit trail, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Actor {
    /// Platform client id (or `cli` for the admin commands).
    pub id: String,
    /// Reason given with the change, if any.
    pub reason: Option<String>,
    /// Reason identifier given with the change, if any.
    pub reason_id: Option<String>,
}

impl Actor {
    /// An actor giving no reason.
    pub fn new(id: impl Into<String>) -> Self {
        Self {
            id: id.into(),
            reason: None,
            reason_id: None,
        }
    }

    /// The same actor with a reason.
    pub fn with_reason(mut self, reason: impl Into<String>, reason_id: Option<String>) -> Self {
        self.reason = Some(reason.into());
        self.reason_id = reason_id;
        self
    }
}

/// A saved authentication configuration.
#[derive(Debug, Clone, PartialEq)]
pub struct StoredAuthConfig {
    /// The configuration document, without secrets.
    pub document: serde_json::Map<String, serde_json::Value>,
    /// The encrypted social secrets, if any were set.
    pub secrets: Option<String>,
    /// Document version (`__v`), 1 after the first save.
    pub version: i64,
    /// First save.
    pub created_at: DateTime<Utc>,
    /// Last save.
    pub updated_at: DateTime<Utc>,
}

/// A device a shopper signed in from: the digest of its cookie's token (never the token).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KnownDevice {
    /// SHA-256 of the cookie's token.
    pub token_digest: String,
    /// The application.
    pub application_id: ObjectId,
    /// The customer who signed in on it.
    pub customer_id: ObjectId,
    /// When it was signed in on (first, or now again).
    pub created_at: DateTime<Utc>,
    /// When it is forgotten.
    pub expires_at: DateTime<Utc>,
}

/// A storefront login session (the secret token itself is never stored).
#[derive(Debug, Clone, PartialEq)]
pub struct Session {
    /// Public handle, shown to administrators as `session_id`.
    pub id: ObjectId,
    /// Digest of the cookie token.
    pub token_digest: String,
    /// Application the session belongs to.
    pub application_id: ObjectId,
    /// The signed-in customer.
    pub customer_id: ObjectId,
    /// Storefront domain it was issued for.
    pub domain: String,
    /// Client's user agent at sign-in.
    pub user_agent: String,
    /// Client's address at sign-in.
    pub ip: String,
    /// Sign-in time.
    pub created_at: DateTime<Utc>,
    /// When it stops being valid.
    pub expires_at: DateTime<Utc>,
    /// Last time its expiry was extended (rolling sessions).
    pub last_seen_at: DateTime<Utc>,
}

/// A customer found for sign-in, with what the password check needs.
#[derive(Debug, Clone, PartialEq)]
pub struct LoginRecord {
    /// The customer (possibly blocked; never archived).
    pub customer: patron_domain::customer::Customer,
    /// The argon2id hash, when the customer has a password.
    pub password_hash: Option<String>,
    /// When the password was last set.
    pub password_changed_at: Option<DateTime<Utc>>,
}

/// A password reset code about to be stored (only its digest).
#[derive(Debug, Clone, Copy)]
pub struct NewResetCode<'a> {
    /// SHA-256 digest of the code.
    pub code_digest: &'a str,
    /// When it was issued.
    pub created_at: DateTime<Utc>,
    /// When it stops working.
    pub expires_at: DateTime<Utc>,
}

/// Whose failed password sign-ins a count belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LoginSubject<'a> {
    /// The customer a sign-in name matched.
    Customer(&'a ObjectId),
    /// A sign-in name that matched no one, as a keyed digest (never the name itself).
    Unknown(&'a str),
}

impl LoginSubject<'_> {
    /// How the subject is keyed in storage.
    pub fn key(&self) -> String {
        match self {
            LoginSubject::Customer(id) => format!("customer:{id}"),
            LoginSubject::Unknown(digest) => format!("unknown:{digest}"),
        }
    }
}

/// Whether a password attempt may proceed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AttemptClaim {
    /// Check the password.
    Allowed,
    /// Too many failures: try again at `until`.
    Locked {
        /// When the lock ends.
        until: DateTime<Utc>,
    },
}

/// A registration waiting for its email or mobile to be verified by OTP.
#[derive(Debug, Clone, PartialEq)]
pub struct PendingRegistration {
    /// Digest of the `register_token` handed to the storefront.
    pub token_digest: String,
    /// The application registered with.
    pub application_id: ObjectId,
    /// What to create once verified (profile, contacts, password hash).
    pub payload: serde_json::Value,
    /// When it was started.
    pub created_at: DateTime<Utc>,
    /// When it is discarded if not completed.
    pub expires_at: DateTime<Utc>,
    /// Whether its email was proven by OTP.
    pub email_verified: bool,
    /// Whether its mobile was proven by OTP.
    pub mobile_verified: bool,
}

/// A new password and what setting it keeps.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PasswordChange<'a> {
    /// The new argon2id hash.
    pub password_hash: &'a str,
    /// How many previous hashes the history keeps.
    pub history_limit: usize,
    /// The session that stays signed in (the one changing the password), if any.
    pub keep_session: Option<&'a ObjectId>,
}

/// Where a queued message stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OutboxStatus {
    /// Waiting for (another) delivery attempt.
    Pending,
    /// Delivered.
    Sent,
    /// Given up after repeated failures.
    Failed,
}

impl OutboxStatus {
    /// The status's name in storage.
    pub fn as_str(&self) -> &'static str {
        match self {
            OutboxStatus::Pending => "pending",
            OutboxStatus::Sent => "sent",
            OutboxStatus::Failed => "failed",
        }
    }
}

/// A message in the outbox.
#[derive(Debug, Clone, PartialEq)]
pub struct OutboxMessage {
    /// Its id.
    pub id: ObjectId,
    /// The application it is sent for.
    pub application_id: ObjectId,
    /// The message.
    pub message: patron_domain::notification::Message,
    /// Delivery state.
    pub status: OutboxStatus,
    /// Delivery attempts so far (claims included).
    pub attempts: u32,
    /// When it is next due.
    pub next_attempt_at: DateTime<Utc>,
    /// The last delivery error.
    pub last_error: Option<String>,
    /// When it was queued.
    pub created_at: DateTime<Utc>,
    /// When it was delivered.
    pub sent_at: Option<DateTime<Utc>>,
}

/// How old a record must be for the retention purge to delete it: each field is the
/// instant before which that kind of record goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PurgeBefore {
    /// Sessions that expired before this.
    pub sessions: DateTime<Utc>,
    /// Reset codes used or expired before this.
    pub reset_codes: DateTime<Utc>,
    /// Pending registrations that expired before this.
    pub pending_registrations: DateTime<Utc>,
    /// Outbox messages delivered or given up before this.
    pub outbox: DateTime<Utc>,
    /// Outbox messages queued before this have outlived any code or link they carry: their
    /// subject, text and values are scrubbed (the message row stays).
    pub outbox_secrets: DateTime<Utc>,
    /// Jobs (and their refused rows) finished before this.
    pub jobs: DateTime<Utc>,
    /// OTP challenges and sign-in tokens used or expired before this.
    pub otp_challenges: DateTime<Utc>,
    /// OTP sends before this (no budget window reaches back that far).
    pub otp_sends: DateTime<Utc>,
    /// Sign-in failure counts last touched before this (and not locked past it).
    pub login_failures: DateTime<Utc>,
    /// Lifecycle events delivered or given up that occurred before this.
    pub events_done: DateTime<Utc>,
    /// Lifecycle events still waiting (no receiver) that occurred before this.
    pub events_waiting: DateTime<Utc>,
}

/// How many records one purge deleted, by kind.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Purged {
    /// Sessions.
    pub sessions: u64,
    /// Reset codes.
    pub reset_codes: u64,
    /// Pending registrations.
    pub pending_registrations: u64,
    /// Outbox messages.
    pub outbox: u64,
    /// Outbox messages scrubbed of their codes and links.
    pub outbox_scrubbed: u64,
    /// Jobs.
    pub jobs: u64,
    /// OTP challenges and sign-in tokens.
    pub otp_challenges: u64,
    /// Recorded OTP sends, and the budget keys left without one.
    pub otp_sends: u64,
    /// Stale sign-in failure counts, per subject and per client address.
    pub login_failures: u64,
    /// Lifecycle events.
    pub events: u64,
}

/// Work waiting in the database, and the connection pool's use, at one moment.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Backlogs {
    /// Messages waiting for delivery (first try or retry).
    pub outbox_pending: i64,
    /// Messages given up on (kept until the retention purge).
    pub outbox_failed: i64,
    /// Jobs waiting for a runner.
    pub jobs_pending: i64,
    /// Jobs leased by a runner.
    pub jobs_running: i64,
    /// Jobs that failed as a whole (kept until the retention purge).
    pub jobs_failed: i64,
    /// Lifecycle events waiting for delivery.
    pub events_pending: i64,
    /// Lifecycle events given up on.
    pub events_failed: i64,
    /// Connections the pool holds.
    pub pool_size: u32,
    /// Of those, idle ones.
    pub pool_idle: u32,
}
