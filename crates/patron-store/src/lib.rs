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

use std::sync::Arc;

use async_trait::async_trait;
use chrono::{DateTime, Duration, Utc};
use patron_domain::contacts::ContactEdit;
use patron_domain::csv_list::Identifier;
use patron_domain::customer::{Customer, CustomerChanges, NewCustomer};
use patron_domain::email::Email;
use patron_domain::ids::ObjectId;
use patron_domain::notification::Message;
use patron_domain::otp::OtpPurpose;
use patron_domain::page::PageRequest;
use patron_domain::phone::Phone;
use patron_domain::query::CustomerFilter;
use patron_domain::scope::Scope;

pub use error::{Conflict, Entity, StoreError};
pub use events::LifecycleEvent;
pub use jobs::{Checkpoint, Job, JobFailure, JobKind, JobStatus};
pub use otp::{AttemptOutcome, BudgetCharge, OtpChallenge, ResendOutcome, SendOutcome};
pub use postgres::PostgresStore;
pub use records::{
    Actor, ApiClient, Application, AttemptClaim, AuditRecord, LoginRecord, LoginSubject,
    NewResetCode, OutboxMessage, OutboxStatus, PasswordChange, PendingRegistration, PurgeBefore,
    Purged, Rotation, Session, StoredAuthConfig, TokenGrant, TokenKind,
};
pub use sealed::{SealedKind, SealedRecord, SealedStore};
pub use segments::{
    AttributeDefinition, AttributeValue, CustomerValues, DefinitionFilter, Group, GroupCondition,
    GroupFilter, GroupKind, GroupStatus, MemberChanges, Membership, MembershipRule, ValueWrite,
};
pub use sqlite::SqliteStore;

/// Sales-channel applications.
#[async_trait]
pub trait ApplicationStore: Send + Sync {
    /// Registers an application; fails with a conflict when the id is taken.
    async fn create_application(&self, application: &Application) -> Result<(), StoreError>;
    /// Reads an application by id.
    async fn find_application(&self, id: &ObjectId) -> Result<Option<Application>, StoreError>;
    /// Replaces the digest of an application's storefront token; false when there is no
    /// such application.
    async fn set_application_token(
        &self,
        id: &ObjectId,
        token_digest: &str,
    ) -> Result<bool, StoreError>;
}

/// Platform API clients (OAuth client id and secret digest).
#[async_trait]
pub trait ClientStore: Send + Sync {
    /// Registers a client.
    async fn create_client(&self, client: &ApiClient) -> Result<(), StoreError>;
    /// Reads a client by its id.
    async fn find_client(&self, client_id: &str) -> Result<Option<ApiClient>, StoreError>;
    /// Deletes a client and every token issued to it; false when there was none.
    async fn revoke_client(&self, client_id: &str) -> Result<bool, StoreError>;
    /// Sets the scopes a client may be granted. Its access tokens end at once; its refresh
    /// tokens keep only the new scopes when they rotate. False when there is no such client.
    async fn set_client_scopes(
        &self,
        client_id: &str,
        scopes: &[Scope],
    ) -> Result<bool, StoreError>;
}

/// OAuth access and refresh tokens, kept as digests.
#[async_trait]
pub trait TokenStore: Send + Sync {
    /// Stores freshly issued tokens.
    async fn insert_tokens(&self, grants: &[TokenGrant]) -> Result<(), StoreError>;
    /// Finds an unexpired token of `kind` by digest.
    async fn find_token(
        &self,
        digest: &str,
        kind: TokenKind,
        now: DateTime<Utc>,
    ) -> Result<Option<TokenGrant>, StoreError>;
    /// Spends an unexpired refresh token of `client_id` and stores its replacements, in one
    /// transaction: of two concurrent rotations of one token, only one succeeds. The
    /// replacements join the spent token's family and keep only the spent token's scopes
    /// that they were also given (the client's current ones). A token presented again after
    /// it was spent is a replay: every token of its family, access tokens included, is
    /// deleted.
    async fn rotate_refresh_token(
        &self,
        digest: &str,
        client_id: &str,
        replacements: &[TokenGrant],
        now: DateTime<Utc>,
    ) -> Result<Rotation, StoreError>;
    /// Deletes expired tokens; returns how many.
    async fn purge_expired_tokens(&self, now: DateTime<Utc>) -> Result<u64, StoreError>;
}

/// Customers of an application, with their contacts and audit trail.
#[async_trait]
pub trait CustomerStore: Send + Sync {
    /// Inserts a customer. Fails with [`StoreError::Conflict`] naming the email, phone or
    /// username another live customer holds.
    async fn create_customer(
        &self,
        customer: &NewCustomer,
        actor: &Actor,
    ) -> Result<Customer, StoreError>;
    /// Inserts many customers in one transaction with multi-row statements (imports and
    /// benchmark seeding); all or none. Contacts must not collide with each other or with
    /// stored live customers, or the whole batch fails with the conflict.
    async fn import_customers(
        &self,
        customers: &[NewCustomer],
        actor: &Actor,
    ) -> Result<(), StoreError>;
    /// The customer's audit trail, newest first, up to `limit` records.
    async fn audit_trail(
        &self,
        application_id: &ObjectId,
        customer_id: &ObjectId,
        limit: usize,
    ) -> Result<Vec<AuditRecord>, StoreError>;
    /// Reads a customer (archived or not) of `application_id`.
    async fn find_customer(
        &self,
        application_id: &ObjectId,
        id: &ObjectId,
    ) -> Result<Option<Customer>, StoreError>;
    /// One page of customers matching `filter`, newest first, and the total count. Archived
    /// customers are left out unless the filter asks about `archive`.
    async fn list_customers(
        &self,
        application_id: &ObjectId,
        filter: Option<&CustomerFilter>,
        page: PageRequest,
    ) -> Result<(Vec<Customer>, u64), StoreError>;
    /// Live customers holding any of `emails` or `phones` (exact match on the canonical
    /// email, or on country code and national number).
    async fn search_customers(
        &self,
        application_id: &ObjectId,
        emails: &[Email],
        phones: &[Phone],
    ) -> Result<Vec<Customer>, StoreError>;
    /// Applies `changes` to a live customer; bumps `version` and `updated_at`.
    async fn update_customer(
        &self,
        application_id: &ObjectId,
        id: &ObjectId,
        changes: &CustomerChanges,
        actor: &Actor,
        now: DateTime<Utc>,
    ) -> Result<Customer, StoreError>;
    /// Blocks (`active = false`) or unblocks every listed customer, all or none: unknown ids
    /// fail the whole call with [`StoreError::UnknownCustomers`].
    async fn set_active(
        &self,
        application_id: &ObjectId,
        ids: &[ObjectId],
        active: bool,
        actor: &Actor,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError>;
    /// Archives a customer: hidden from lists, its contacts freed.
    async fn archive_customer(
        &self,
        application_id: &ObjectId,
        id: &ObjectId,
        actor: &Actor,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError>;
    /// Restores an archived customer, unless another live customer took its email or phone.
    async fn restore_customer(
        &self,
        application_id: &ObjectId,
        id: &ObjectId,
        actor: &Actor,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError>;
    /// The customer linked to `subject` at `provider`, if any (archived ones included, so
    /// the caller can refuse them).
    async fn find_by_identity(
        &self,
        application_id: &ObjectId,
        provider: &str,
        subject: &str,
    ) -> Result<Option<Customer>, StoreError>;
    /// Links `subject` at `provider` to a customer (`Conflict::Id` when another customer
    /// has it).
    async fn link_identity(
        &self,
        application_id: &ObjectId,
        customer_id: &ObjectId,
        provider: &str,
        subject: &str,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError>;
    /// Records a customer's own deletion request: sign-in ends now (every session is
    /// deleted), the account is anonymised after `purge_at` unless an administrator undoes
    /// it first; audited as `delete_request` with the actor's reason.
    async fn request_deletion(
        &self,
        application_id: &ObjectId,
        id: &ObjectId,
        purge_at: DateTime<Utc>,
        actor: &Actor,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError>;
    /// Undoes a deletion request whose grace window is still open (`Deleted` once the
    /// account was anonymised, `ArchiveState(false)` when there is none); audited as
    /// `undelete`.
    async fn cancel_deletion(
        &self,
        application_id: &ObjectId,
        id: &ObjectId,
        actor: &Actor,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError>;
    /// Anonymises up to `limit` customers whose grace window ended by `now`: names,
    /// contacts, attribute values, credentials, sessions and tokens go, the username
    /// becomes `deleted_<id>`, the contacts become free; the id and an `anonymise` audit
    /// entry stay. Returns the ids.
    async fn anonymise_due(
        &self,
        now: DateTime<Utc>,
        limit: usize,
    ) -> Result<Vec<ObjectId>, StoreError>;
    /// Applies a customer's own change to one of their contacts, in the transaction that
    /// reads the current lists (the edit's rules see what is stored); a contact another
    /// live customer holds is a conflict. Returns the customer as it now is.
    async fn edit_contacts(
        &self,
        application_id: &ObjectId,
        id: &ObjectId,
        edit: &ContactEdit,
        actor: &Actor,
        now: DateTime<Utc>,
    ) -> Result<Customer, StoreError>;
}

/// Per-application authentication configuration documents.
#[async_trait]
pub trait AuthConfigStore: Send + Sync {
    /// The stored configuration of `application_id`, if it was ever saved.
    async fn find_auth_config(
        &self,
        application_id: &ObjectId,
    ) -> Result<Option<StoredAuthConfig>, StoreError>;
    /// Saves a new version if the stored version is still `expected_version` (`None`: nothing
    /// stored yet; the first save keeps the application's creation time as `created_at`,
    /// which is what the defaults showed). Returns `None` when another writer saved first;
    /// the caller re-reads, re-applies its update and tries again, so concurrent updates
    /// never lose each other.
    async fn save_auth_config(
        &self,
        application_id: &ObjectId,
        expected_version: Option<i64>,
        document: &serde_json::Map<String, serde_json::Value>,
        secrets: Option<&str>,
        now: DateTime<Utc>,
    ) -> Result<Option<StoredAuthConfig>, StoreError>;
}

/// Storefront login sessions. A session only counts while unexpired and while its customer
/// is active and not archived, so blocking or archiving ends it at once on every node.
#[async_trait]
pub trait SessionStore: Send + Sync {
    /// Starts a session; refuses (`NotFound`, `Blocked`, `ArchiveState(true)`) when the
    /// customer is unknown, blocked or archived. With an `actor` (an administrator minting
    /// it) the session is also recorded in the audit trail, in the same transaction.
    async fn create_session(
        &self,
        session: &Session,
        actor: Option<&Actor>,
    ) -> Result<(), StoreError>;
    /// The valid session with this token digest in `application_id`, and its customer.
    async fn find_session(
        &self,
        application_id: &ObjectId,
        token_digest: &str,
        now: DateTime<Utc>,
    ) -> Result<Option<(Session, Customer)>, StoreError>;
    /// Moves a rolling session's expiry (and its last-seen time to `now`).
    async fn extend_session(
        &self,
        id: &ObjectId,
        expires_at: DateTime<Utc>,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError>;
    /// The customer's unexpired sessions, newest first; `NotFound` for an unknown customer.
    async fn list_sessions(
        &self,
        application_id: &ObjectId,
        customer_id: &ObjectId,
        now: DateTime<Utc>,
    ) -> Result<Vec<Session>, StoreError>;
    /// Ends one session of the customer; `NotFound` when there is no such session.
    async fn end_session(
        &self,
        application_id: &ObjectId,
        customer_id: &ObjectId,
        session_id: &ObjectId,
        actor: &Actor,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError>;
    /// Ends every session of the customer, except `keep` if given; returns the ended ids.
    async fn end_sessions(
        &self,
        application_id: &ObjectId,
        customer_id: &ObjectId,
        keep: Option<&ObjectId>,
        actor: &Actor,
        now: DateTime<Utc>,
    ) -> Result<Vec<ObjectId>, StoreError>;
}

/// Passwords, their history, login lockout and pending self-registrations.
#[async_trait]
pub trait CredentialStore: Send + Sync {
    /// Inserts a self-registered customer and its password hash in one transaction.
    async fn register_customer(
        &self,
        customer: &NewCustomer,
        password_hash: Option<&str>,
        actor: &Actor,
    ) -> Result<Customer, StoreError>;
    /// The non-archived customer holding `email` or `phone`, with its password, for sign-in.
    async fn find_login(
        &self,
        application_id: &ObjectId,
        email: Option<&Email>,
        phone: Option<&Phone>,
    ) -> Result<Option<LoginRecord>, StoreError>;
    /// Counts a password attempt against `subject` before it is checked, atomically: of any
    /// number of concurrent attempts at most `attempts` get through before the subject locks
    /// for `lock_for`. `attempts: None` disables lockout (nothing is counted).
    async fn claim_login_attempt(
        &self,
        application_id: &ObjectId,
        subject: LoginSubject<'_>,
        attempts: Option<u32>,
        lock_for: Duration,
        now: DateTime<Utc>,
    ) -> Result<AttemptClaim, StoreError>;
    /// Clears the failure count after a successful sign-in.
    async fn reset_login_failures(
        &self,
        application_id: &ObjectId,
        subject: LoginSubject<'_>,
    ) -> Result<(), StoreError>;
    /// Takes one of the `limit` failed-sign-in slots a client `address` has per `window`,
    /// before the password is checked, atomically across nodes: when every slot of the
    /// current window is taken the answer is `Locked` until the window ends.
    async fn claim_address_attempt(
        &self,
        address: &str,
        limit: u32,
        window: Duration,
        now: DateTime<Utc>,
    ) -> Result<AttemptClaim, StoreError>;
    /// Gives back a slot taken by [`CredentialStore::claim_address_attempt`] (the password
    /// was right, so the attempt was no failure).
    async fn release_address_attempt(&self, address: &str) -> Result<(), StoreError>;
    /// Replaces the customer's password hash by another of the same password (an imported
    /// format upgraded to argon2id at sign-in), only if it is still `old_hash`: the change
    /// time, history and sessions stay. True when replaced.
    async fn upgrade_password_hash(
        &self,
        customer_id: &ObjectId,
        old_hash: &str,
        new_hash: &str,
    ) -> Result<bool, StoreError>;
    /// The current password hash and up to `history` previous ones, newest first.
    async fn password_hashes(
        &self,
        customer_id: &ObjectId,
        history: usize,
    ) -> Result<Vec<String>, StoreError>;
    /// Sets a new password: the old one joins the history (trimmed to `history_limit`), the
    /// lockout is cleared, and every session but `keep_session` ends.
    async fn set_password(
        &self,
        application_id: &ObjectId,
        customer_id: &ObjectId,
        change: &PasswordChange<'_>,
        actor: &Actor,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError>;
    /// Stores a single-use password reset code (digest) for the customer.
    async fn create_reset_code(
        &self,
        application_id: &ObjectId,
        customer_id: &ObjectId,
        code_digest: &str,
        now: DateTime<Utc>,
        expires_at: DateTime<Utc>,
    ) -> Result<(), StoreError>;
    /// Stores a reset code for `customer_id` and queues the `message` carrying it, in one
    /// transaction. With no customer (the address matches no one) the same statements run
    /// and the transaction is rolled back: a request for an unknown address does the same
    /// work as one for a customer, and leaves nothing behind.
    async fn issue_reset_link(
        &self,
        application_id: &ObjectId,
        customer_id: Option<&ObjectId>,
        code: &NewResetCode<'_>,
        message: &Message,
    ) -> Result<(), StoreError>;
    /// The customer a valid (unused, unexpired) reset code belongs to, without using it.
    async fn find_reset_code(
        &self,
        application_id: &ObjectId,
        code_digest: &str,
        now: DateTime<Utc>,
    ) -> Result<Option<ObjectId>, StoreError>;
    /// Uses a valid reset code and sets the password in one transaction: every reset code
    /// of the customer is spent, the lockout cleared, and every session ended (except
    /// `change.keep_session`). `NotFound` when the code is unknown, used or expired.
    async fn reset_password(
        &self,
        application_id: &ObjectId,
        code_digest: &str,
        change: &PasswordChange<'_>,
        actor: &Actor,
        now: DateTime<Utc>,
    ) -> Result<ObjectId, StoreError>;
    /// Keeps a registration that waits for OTP verification.
    async fn save_pending_registration(
        &self,
        pending: &PendingRegistration,
    ) -> Result<(), StoreError>;
    /// Stores a single-use sign-in token (its digest) for a live, active customer, audited
    /// as `login_token` by `actor`, in one transaction.
    async fn create_login_token(
        &self,
        application_id: &ObjectId,
        customer_id: &ObjectId,
        token_digest: &str,
        expires_at: DateTime<Utc>,
        actor: &Actor,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError>;
    /// Spends an unexpired, unused sign-in token; returns its customer (once, however many
    /// requests race for it).
    async fn use_login_token(
        &self,
        application_id: &ObjectId,
        token_digest: &str,
        now: DateTime<Utc>,
    ) -> Result<Option<ObjectId>, StoreError>;
    /// The unexpired pending registration with this token digest.
    async fn find_pending_registration(
        &self,
        application_id: &ObjectId,
        token_digest: &str,
        now: DateTime<Utc>,
    ) -> Result<Option<PendingRegistration>, StoreError>;
    /// Records that the registration's email (`email`) or mobile was proven; returns the
    /// registration as it now is, `None` when it is gone or expired.
    async fn mark_pending_verified(
        &self,
        application_id: &ObjectId,
        token_digest: &str,
        email: bool,
        now: DateTime<Utc>,
    ) -> Result<Option<PendingRegistration>, StoreError>;
    /// Removes and returns the unexpired pending registration (a token completes one
    /// registration, however many requests race for it).
    async fn take_pending_registration(
        &self,
        application_id: &ObjectId,
        token_digest: &str,
        now: DateTime<Utc>,
    ) -> Result<Option<PendingRegistration>, StoreError>;
}

/// One-time password challenges and their send budgets.
#[async_trait]
pub trait OtpStore: Send + Sync {
    /// Records a new challenge and one send against every budget of `charges`, all or
    /// nothing: when any budget is spent nothing is recorded.
    async fn create_challenge(
        &self,
        challenge: &OtpChallenge,
        charges: &[BudgetCharge],
        now: DateTime<Utc>,
    ) -> Result<SendOutcome, StoreError>;
    /// Records one send against every budget of `charges` (a message that is no challenge,
    /// such as a reset link by text message), all or nothing.
    async fn record_send(
        &self,
        charges: &[BudgetCharge],
        now: DateTime<Utc>,
    ) -> Result<SendOutcome, StoreError>;
    /// Gives the live challenge of `target` whose resend token has `resend_digest` a new
    /// code and expiry, keeping its id and attempts, once `resend_after` has passed since
    /// its last send and every budget has room (then charged).
    #[allow(clippy::too_many_arguments)]
    async fn resend_challenge(
        &self,
        application_id: &ObjectId,
        resend_digest: &str,
        target: &str,
        code_hash: &str,
        resend_after: Duration,
        expires_at: DateTime<Utc>,
        charges: &[BudgetCharge],
        now: DateTime<Utc>,
    ) -> Result<ResendOutcome, StoreError>;
    /// Counts one answer at the live challenge `id`, unless it already had
    /// `max_attempts`; the caller then compares the code.
    async fn claim_attempt(
        &self,
        application_id: &ObjectId,
        id: &str,
        max_attempts: u32,
        now: DateTime<Utc>,
    ) -> Result<AttemptOutcome, StoreError>;
    /// Marks the live challenge used; false when another answer used it first.
    async fn consume_challenge(
        &self,
        application_id: &ObjectId,
        id: &str,
        now: DateTime<Utc>,
    ) -> Result<bool, StoreError>;
    /// The newest live challenge of `target` for one of `purposes`.
    async fn latest_challenge(
        &self,
        application_id: &ObjectId,
        target: &str,
        purposes: &[OtpPurpose],
        now: DateTime<Utc>,
    ) -> Result<Option<OtpChallenge>, StoreError>;
}

/// The persisted outbox of customer messages.
#[async_trait]
pub trait OutboxStore: Send + Sync {
    /// Queues a message for delivery now.
    async fn enqueue(
        &self,
        application_id: &ObjectId,
        message: &Message,
        now: DateTime<Utc>,
    ) -> Result<ObjectId, StoreError>;
    /// Takes up to `limit` due messages and leases them for `lease` (their next attempt moves
    /// to `now + lease`), so concurrent workers never take the same message and a crashed
    /// worker's messages come due again.
    async fn claim_due(
        &self,
        now: DateTime<Utc>,
        lease: Duration,
        limit: usize,
    ) -> Result<Vec<OutboxMessage>, StoreError>;
    /// Records a delivery; with `scrub`, the body and data (which may hold codes) are erased.
    async fn mark_sent(
        &self,
        id: &ObjectId,
        now: DateTime<Utc>,
        scrub: bool,
    ) -> Result<(), StoreError>;
    /// Records a failed attempt: retried at `retry_at`, or given up (`None`: its subject,
    /// text and values are scrubbed).
    async fn mark_failed(
        &self,
        id: &ObjectId,
        error: &str,
        retry_at: Option<DateTime<Utc>>,
    ) -> Result<(), StoreError>;
    /// The newest messages, newest first.
    async fn list_outbox(&self, limit: usize) -> Result<Vec<OutboxMessage>, StoreError>;
}

/// Customer attribute definitions and values.
#[async_trait]
pub trait AttributeStore: Send + Sync {
    /// Inserts a definition; [`Conflict::Slug`] when the application has the slug already.
    async fn create_definition(&self, definition: &AttributeDefinition) -> Result<(), StoreError>;
    /// Reads a definition of `application_id`.
    async fn find_definition(
        &self,
        application_id: &ObjectId,
        id: &ObjectId,
    ) -> Result<Option<AttributeDefinition>, StoreError>;
    /// The definitions of `application_id` with these slugs (unknown slugs are left out).
    async fn find_definitions_by_slug(
        &self,
        application_id: &ObjectId,
        slugs: &[String],
    ) -> Result<Vec<AttributeDefinition>, StoreError>;
    /// The definitions of `application_id` with these ids (unknown ids are left out).
    async fn find_definitions(
        &self,
        application_id: &ObjectId,
        ids: &[ObjectId],
    ) -> Result<Vec<AttributeDefinition>, StoreError>;
    /// One page of definitions matching `filter`, newest first, and the total count.
    async fn list_definitions(
        &self,
        application_id: &ObjectId,
        filter: &DefinitionFilter,
        page: PageRequest,
    ) -> Result<(Vec<AttributeDefinition>, u64), StoreError>;
    /// Saves `definition` (matched by id and application) if its stored version is still
    /// `definition.version - 1` and it is not locked: `Locked`, `NotFound`, `Conflict::Slug`,
    /// or `Conflict::Version` when another writer saved first.
    async fn update_definition(&self, definition: &AttributeDefinition) -> Result<(), StoreError>;
    /// Deletes a definition and every value of it; `Locked`, `NotFound`, or `InUse` naming
    /// the groups whose conditions use it.
    async fn delete_definition(
        &self,
        application_id: &ObjectId,
        id: &ObjectId,
    ) -> Result<(), StoreError>;
    /// Writes one value of a live customer; returns it and whether it was created.
    /// `NotFound` for an unknown definition or customer, `ArchiveState(true)` if archived.
    async fn upsert_value(
        &self,
        application_id: &ObjectId,
        customer_id: &ObjectId,
        value: &ValueWrite,
        actor: &Actor,
        now: DateTime<Utc>,
    ) -> Result<(AttributeValue, bool), StoreError>;
    /// Writes the values of many customers; each customer's values are written all or
    /// none. Returns the ids of customers that are unknown or archived (nothing written for
    /// them); everyone else's values are written. With a `checkpoint` (at most 500
    /// customers), the writes, the job's progress and its failures (the given ones and
    /// the refused customers) commit in one transaction, or none of them does
    /// (`Conflict::Version` when the runner lost its lease).
    async fn bulk_upsert_values(
        &self,
        application_id: &ObjectId,
        customers: &[CustomerValues],
        actor: &Actor,
        now: DateTime<Utc>,
        checkpoint: Option<&Checkpoint>,
    ) -> Result<Vec<ObjectId>, StoreError>;
    /// A customer's value of a definition.
    async fn find_value(
        &self,
        application_id: &ObjectId,
        definition_id: &ObjectId,
        customer_id: &ObjectId,
    ) -> Result<Option<AttributeValue>, StoreError>;
    /// A value by its own id.
    async fn find_value_by_id(
        &self,
        application_id: &ObjectId,
        id: &ObjectId,
    ) -> Result<Option<AttributeValue>, StoreError>;
    /// Deletes a customer's value of a definition; `NotFound` when there is none.
    async fn delete_value(
        &self,
        application_id: &ObjectId,
        definition_id: &ObjectId,
        customer_id: &ObjectId,
    ) -> Result<(), StoreError>;
    /// The values of these customers for these definitions (all definitions when
    /// `definition_ids` is empty), in customer then value order.
    async fn values_of(
        &self,
        application_id: &ObjectId,
        customer_ids: &[ObjectId],
        definition_ids: &[ObjectId],
    ) -> Result<Vec<AttributeValue>, StoreError>;
    /// Deletes a customer's values of these definitions, in one transaction; returns how
    /// many existed.
    async fn delete_values(
        &self,
        application_id: &ObjectId,
        customer_id: &ObjectId,
        definition_ids: &[ObjectId],
    ) -> Result<u64, StoreError>;
    /// One page of a customer's values, newest first, and their count.
    async fn list_values(
        &self,
        application_id: &ObjectId,
        customer_id: &ObjectId,
        page: PageRequest,
    ) -> Result<(Vec<AttributeValue>, u64), StoreError>;
}

/// Customer groups and their membership.
#[async_trait]
pub trait GroupStore: Send + Sync {
    /// Inserts a group under the application's next uid (the `uid` given is ignored) and
    /// applies `changes`, in one transaction; `UnknownCustomers` (nothing written) when a
    /// change names a customer the application does not have.
    async fn create_group(
        &self,
        group: &Group,
        changes: &MemberChanges,
    ) -> Result<Group, StoreError>;
    /// Reads a group of `application_id`.
    async fn find_group(
        &self,
        application_id: &ObjectId,
        id: &ObjectId,
    ) -> Result<Option<Group>, StoreError>;
    /// One page of groups matching `filter`, newest first, and the total count.
    async fn list_groups(
        &self,
        application_id: &ObjectId,
        filter: &GroupFilter,
        page: PageRequest,
    ) -> Result<(Vec<Group>, u64), StoreError>;
    /// Saves a group's fields and applies `changes`, in one transaction (`NotFound`,
    /// `UnknownCustomers`); returns the saved group with its version bumped.
    async fn update_group(
        &self,
        group: &Group,
        changes: &MemberChanges,
    ) -> Result<Group, StoreError>;
    /// Applies a job batch's member changes (ids resolved already) together with the
    /// job's progress, in one transaction (`Conflict::Version` when the lease was lost).
    async fn apply_member_batch(
        &self,
        group_id: &ObjectId,
        changes: &MemberChanges,
        checkpoint: &Checkpoint,
    ) -> Result<(), StoreError>;
    /// Records the outcome of building a group's members.
    async fn set_group_status(
        &self,
        group_id: &ObjectId,
        status: GroupStatus,
        error_count: Option<i64>,
        error_file_url: Option<&str>,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError>;
    /// The live customers holding each email / phone / id, in order (`None`: no such
    /// customer).
    async fn resolve_customers(
        &self,
        application_id: &ObjectId,
        identifiers: &[Identifier],
    ) -> Result<Vec<Option<ObjectId>>, StoreError>;
    /// One page of a group's live members, newest first, and their count.
    async fn list_members(
        &self,
        application_id: &ObjectId,
        membership: &Membership,
        page: PageRequest,
    ) -> Result<(Vec<Customer>, u64), StoreError>;
    /// Whether a customer is a live member of the group, answered from indexes.
    async fn is_member(
        &self,
        application_id: &ObjectId,
        membership: &Membership,
        customer_id: &ObjectId,
    ) -> Result<bool, StoreError>;
}

/// Background jobs, leased by runners on any node.
#[async_trait]
pub trait JobStore: Send + Sync {
    /// Stores a new pending job and the rows refused before it started.
    async fn create_job(&self, job: &Job, failures: &[JobFailure]) -> Result<(), StoreError>;
    /// Reads a job of `application_id`.
    async fn find_job(
        &self,
        application_id: &ObjectId,
        id: &ObjectId,
    ) -> Result<Option<Job>, StoreError>;
    /// Leases the oldest job that is pending, or running under an expired lease, to
    /// `owner` until `now + lease` (skipping rows other runners are claiming).
    async fn claim_job(
        &self,
        owner: &str,
        now: DateTime<Utc>,
        lease: Duration,
    ) -> Result<Option<Job>, StoreError>;
    /// Commits a batch's progress that wrote nothing else (`Conflict::Version` when the
    /// lease was lost).
    async fn checkpoint(&self, checkpoint: &Checkpoint) -> Result<(), StoreError>;
    /// Ends a job `owner` holds: `Done`, or `Failed` with `error`. False when the lease
    /// was lost.
    async fn finish_job(
        &self,
        id: &ObjectId,
        owner: &str,
        status: JobStatus,
        error: Option<&str>,
        now: DateTime<Utc>,
    ) -> Result<bool, StoreError>;
    /// The job's refused rows after row `after` in input order, up to `limit` (a page of
    /// the error report: start with `i64::MIN`, continue after the last row read).
    async fn job_failures(
        &self,
        id: &ObjectId,
        after: i64,
        limit: usize,
    ) -> Result<Vec<JobFailure>, StoreError>;
    /// How many rows were refused for each reason.
    async fn failure_summary(&self, id: &ObjectId) -> Result<Vec<(String, i64)>, StoreError>;
}

/// Liveness of the database.
#[async_trait]
pub trait HealthStore: Send + Sync {
    /// Runs a trivial query.
    async fn ping(&self) -> Result<(), StoreError>;
}

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

/// Lifecycle events: written with the changes they announce (by the other stores), claimed
/// for delivery here.
#[async_trait]
pub trait EventStore: Send + Sync {
    /// Up to `limit` pending events due at `now`, oldest first, each leased for `lease`
    /// (a crashed worker's events come due again) with its attempt counted.
    async fn claim_due_events(
        &self,
        now: DateTime<Utc>,
        lease: Duration,
        limit: usize,
    ) -> Result<Vec<LifecycleEvent>, StoreError>;
    /// Records a delivery.
    async fn mark_event_delivered(&self, id: i64, now: DateTime<Utc>) -> Result<(), StoreError>;
    /// Records a failed attempt: retried at `retry_at`, or given up (`None`).
    async fn mark_event_failed(
        &self,
        id: i64,
        error: &str,
        retry_at: Option<DateTime<Utc>>,
    ) -> Result<(), StoreError>;
    /// Makes every event that occurred at or after `since` due again at `now` (delivered,
    /// given up or pending alike); returns how many.
    async fn replay_events(
        &self,
        since: DateTime<Utc>,
        now: DateTime<Utc>,
    ) -> Result<u64, StoreError>;
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
