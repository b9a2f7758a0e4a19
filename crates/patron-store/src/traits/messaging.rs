//! One-time password challenges, the message outbox and lifecycle events.

use super::prelude::*;

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
    /// Whether the unexpired device `token_digest` of `application_id` belongs to a live
    /// customer who proved `target` (the device's owner asks for a code to their own
    /// contact; an unproven one earns the device nothing).
    async fn device_holds_target(
        &self,
        application_id: &ObjectId,
        token_digest: &str,
        target: &OtpTarget,
        now: DateTime<Utc>,
    ) -> Result<bool, StoreError>;
    /// Takes back one use recorded at `at` under each of `keys` (a counted answer that
    /// turned out right is no wrong guess).
    async fn refund_sends(&self, keys: &[String], at: DateTime<Utc>) -> Result<(), StoreError>;
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
    /// Writes a message as [`OutboxStore::enqueue`] does, in a transaction that is kept
    /// only when `keep`: a message for no one (an unknown account) runs the same
    /// statements and leaves nothing behind.
    async fn enqueue_or_discard(
        &self,
        application_id: &ObjectId,
        message: &Message,
        keep: bool,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError>;
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
