//! Records of one-time password challenges and the send budgets they count against.

use chrono::{DateTime, Duration, Utc};
use patron_domain::ids::ObjectId;
use patron_domain::otp::{BudgetScope, OtpPurpose};

/// One OTP challenge: a code sent to a target for a purpose, kept only as a keyed hash.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OtpChallenge {
    /// The `request_id` storefronts verify with (for proofs handed back to the storefront,
    /// the digest of that proof).
    pub id: String,
    /// The application.
    pub application_id: ObjectId,
    /// What answering it proves.
    pub purpose: OtpPurpose,
    /// The canonical target (`+919876543210`, `asha@example.com`).
    pub target: String,
    /// The customer it concerns, when known.
    pub customer_id: Option<ObjectId>,
    /// What else it is bound to (the digest of a registration's token).
    pub context: Option<String>,
    /// Keyed hash of the code.
    pub code_hash: String,
    /// Digest of the token that allows a resend.
    pub resend_digest: Option<String>,
    /// Answers tried so far (resends do not reset them).
    pub attempts: u32,
    /// Times the code was sent.
    pub sends: u32,
    /// When it was last sent.
    pub last_sent_at: DateTime<Utc>,
    /// When it was created.
    pub created_at: DateTime<Utc>,
    /// When it stops working.
    pub expires_at: DateTime<Utc>,
    /// When it was answered correctly (it works once).
    pub used_at: Option<DateTime<Utc>>,
}

/// One budget a send counts against.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BudgetCharge {
    /// What the budget counts by (for the refusal's reason).
    pub scope: BudgetScope,
    /// The key it is counted under.
    pub key: String,
    /// Sends allowed inside the window.
    pub limit: u32,
    /// The sliding window.
    pub window: Duration,
}

/// What a send came to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SendOutcome {
    /// Recorded: the code may go out.
    Sent,
    /// A budget is spent; nothing was recorded.
    OverBudget {
        /// Which budget.
        scope: BudgetScope,
        /// When it has room again.
        retry_at: DateTime<Utc>,
    },
}

/// What a resend came to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ResendOutcome {
    /// The challenge has a new code (same `request_id`, same attempts).
    Resent(Box<OtpChallenge>),
    /// The resend timer has not run out.
    TooEarly {
        /// When a resend is allowed.
        retry_at: DateTime<Utc>,
    },
    /// A budget is spent; nothing changed.
    OverBudget {
        /// Which budget.
        scope: BudgetScope,
        /// When it has room again.
        retry_at: DateTime<Utc>,
    },
    /// No live challenge has that resend token for that target.
    Unknown,
}

/// What claiming an attempt at a challenge came to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AttemptOutcome {
    /// The attempt is counted; the caller compares the code.
    Claimed(Box<OtpChallenge>),
    /// The challenge has had its last wrong answer.
    Exhausted,
    /// No live challenge has that id (unknown, expired or used).
    Unknown,
}
