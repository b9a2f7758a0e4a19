//! Storefront sessions, passwords, lockout and pending registrations.

use super::prelude::*;

/// Storefront login sessions. A session only counts while unexpired and while its customer
/// is active and not archived, so blocking or archiving ends it at once on every node.
#[async_trait]
pub trait SessionStore: Send + Sync {
    /// Starts a session; refuses (`NotFound`, `Blocked`, `ArchiveState(true)`) when the
    /// customer is unknown, blocked or archived. With an `actor` (an administrator minting
    /// it) the session is also recorded in the audit trail, in the same transaction. With a
    /// `device` (the customer signing in themselves), the device is remembered in it too —
    /// or, when it is that customer's already, its last use and expiry move — and the
    /// customer keeps the 20 devices used last.
    async fn create_session(
        &self,
        session: &Session,
        actor: Option<&Actor>,
        device: Option<&KnownDevice>,
    ) -> Result<(), StoreError>;
    /// The customer an unexpired device of `application_id` belongs to, if any.
    async fn device_owner(
        &self,
        application_id: &ObjectId,
        token_digest: &str,
        now: DateTime<Utc>,
    ) -> Result<Option<ObjectId>, StoreError>;
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
