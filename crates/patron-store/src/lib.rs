//! Patron's persistence: one narrow async trait per concern, implemented for SQLite (the
//! embedded default) and PostgreSQL (many stateless nodes, one database).
//!
//! Each method is one transaction shaped to its use case, so invariants such as "an email
//! belongs to at most one live customer per application" hold in SQL under concurrency,
//! not in Rust memory.

mod error;
mod events;
mod jobs;
mod otp;
mod postgres;
mod records;
mod sealed;
mod segments;
mod sql;
mod sqlite;
#[cfg(feature = "testing")]
pub mod testing;
mod traits;

use std::sync::Arc;

use async_trait::async_trait;

pub use error::{Conflict, Entity, StoreError};
pub use events::LifecycleEvent;
pub use jobs::{
    Checkpoint, ImportedCustomer, Job, JobFailure, JobFilter, JobKind, JobOutcome, JobStatus,
    NewJob,
};
pub use otp::{AttemptOutcome, BudgetCharge, OtpChallenge, ResendOutcome, SendOutcome};
pub use postgres::PostgresStore;
pub use records::{
    Actor, ApiClient, Application, AttemptClaim, AuditRecord, Backlogs, KnownDevice, LoginRecord,
    LoginSubject, NewResetCode, OutboxMessage, OutboxStatus, PasswordChange, PendingRegistration,
    PurgeBefore, Purged, Rotation, Session, StoredAuthConfig, TokenGrant, TokenKind,
};
pub use sealed::{SealedKind, SealedRecord, SealedStore};
pub use segments::{
    AttributeDefinition, AttributeValue, CustomerValues, DefinitionFilter, Group, GroupCondition,
    GroupFilter, GroupKind, GroupStatus, MemberChanges, Membership, MembershipRule, ValueWrite,
};
pub use sqlite::SqliteStore;
pub use traits::{
    ApplicationStore, AttributeStore, AuthConfigStore, ClientStore, CredentialStore, CustomerStore,
    EventStore, GroupStore, HealthStore, JobStore, OtpStore, OutboxStore, SessionStore, TokenStore,
};

/// Every store concern behind one handle, as the server holds it.
#[derive(Clone)]
pub struct Stores {
    /// Applications.
    pub applications: Arc<dyn ApplicationStore>,
    /// Platform API clients.
    pub clients: Arc<dyn ClientStore>,
    /// OAuth tokens.
    pub tokens: Arc<dyn TokenStore>,
    /// Customers.
    pub customers: Arc<dyn CustomerStore>,
    /// Authentication configurations.
    pub auth_configs: Arc<dyn AuthConfigStore>,
    /// Storefront sessions.
    pub sessions: Arc<dyn SessionStore>,
    /// Passwords, lockout and pending registrations.
    pub credentials: Arc<dyn CredentialStore>,
    /// One-time password challenges.
    pub otp: Arc<dyn OtpStore>,
    /// The message outbox.
    pub outbox: Arc<dyn OutboxStore>,
    /// Attribute definitions and values.
    pub attributes: Arc<dyn AttributeStore>,
    /// Customer groups.
    pub groups: Arc<dyn GroupStore>,
    /// Background jobs.
    pub jobs: Arc<dyn JobStore>,
    /// The purge of old records.
    pub retention: Arc<dyn RetentionStore>,
    /// Sealed values, for key rotation.
    pub sealed: Arc<dyn SealedStore>,
    /// Lifecycle events.
    pub events: Arc<dyn EventStore>,
    /// Health checks.
    pub health: Arc<dyn HealthStore>,
}

/// The scheduled purge of records that have served their purpose.
#[async_trait]
pub trait RetentionStore: Send + Sync {
    /// Deletes, in small batches, what [`PurgeBefore`] says is old enough; returns how
    /// many rows of each kind went.
    async fn purge(&self, before: &PurgeBefore) -> Result<Purged, StoreError>;
}

impl Stores {
    /// Bundles one backend that implements every concern.
    pub fn from_backend<B>(backend: B) -> Self
    where
        B: ApplicationStore
            + ClientStore
            + TokenStore
            + CustomerStore
            + AuthConfigStore
            + SessionStore
            + CredentialStore
            + OtpStore
            + OutboxStore
            + AttributeStore
            + GroupStore
            + JobStore
            + RetentionStore
            + SealedStore
            + EventStore
            + HealthStore
            + 'static,
    {
        let backend = Arc::new(backend);
        Self {
            applications: backend.clone(),
            clients: backend.clone(),
            tokens: backend.clone(),
            customers: backend.clone(),
            auth_configs: backend.clone(),
            sessions: backend.clone(),
            credentials: backend.clone(),
            otp: backend.clone(),
            outbox: backend.clone(),
            attributes: backend.clone(),
            groups: backend.clone(),
            jobs: backend.clone(),
            retention: backend.clone(),
            sealed: backend.clone(),
            events: backend.clone(),
            health: backend,
        }
    }
}

/// Which database a URL selects.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    /// `sqlite:` URLs (and plain file paths).
    Sqlite,
    /// `postgres://` or `postgresql://` URLs.
    Postgres,
}

impl Backend {
    /// Picks the backend for `url`.
    pub fn for_url(url: &str) -> Self {
        if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            Backend::Postgres
        } else {
            Backend::Sqlite
        }
    }
}

/// Opens the database at `url` (creating an SQLite file if missing), applies pending
/// migrations, and returns every store over it.
pub async fn connect(url: &str) -> Result<Stores, StoreError> {
    Ok(match Backend::for_url(url) {
        Backend::Sqlite => Stores::from_backend(SqliteStore::connect(url).await?),
        Backend::Postgres => Stores::from_backend(PostgresStore::connect(url).await?),
    })
}
