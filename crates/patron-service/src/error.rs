//! What a use case can fail with, in its own terms; the server's error layer turns each into a status,
//! a code and a message.

use chrono::{DateTime, Utc};
use patron_domain::otp::BudgetScope;
use patron_domain::DomainError;
use patron_store::StoreError;

use crate::hasher::HashError;

/// A storefront feature an application can turn off.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Feature {
    /// Self-registration.
    Registration,
    /// Sign-in with a password.
    PasswordLogin,
    /// Password reset.
    ForgotPassword,
    /// Sign-in with a one-time password.
    OtpLogin,
    /// Sign-in with a social provider.
    Social,
    /// `userExists`, which tells whether an email or phone has an account.
    UserExists,
}

/// Why a use case refused or failed.
#[derive(Debug, thiserror::Error)]
pub enum ServiceError {
    /// An input breaks a domain rule (a field is missing, malformed or out of range).
    #[error(transparent)]
    Domain(#[from] DomainError),
    /// The store refused or failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// Unknown customer or wrong password: one answer for both.
    #[error("the email, phone number or password is wrong")]
    InvalidCredentials,
    /// Too many failed sign-ins.
    #[error("too many failed attempts")]
    AccountLocked {
        /// When sign-in is possible again.
        until: DateTime<Utc>,
    },
    /// The client's address spent its budget of failed sign-ins for the minute.
    #[error("too many failed sign-ins: try again in {retry_after_secs} s")]
    SignInLimit {
        /// Seconds until the budget has room.
        retry_after_secs: u64,
    },
    /// The customer is blocked and may not sign in.
    #[error("this account is blocked")]
    AccountBlocked,
    /// The customer deleted their account (sign-in answers carry `meta.is_deleted`).
    #[error("this account was deleted")]
    AccountDeleted,
    /// The password is older than the configured expiry.
    #[error("the password has expired")]
    PasswordExpired,
    /// The application has turned the feature off.
    #[error("{0:?} is turned off")]
    Disabled(Feature),
    /// No valid credentials.
    #[error("{0}")]
    Unauthenticated(String),
    /// An OAuth request the token endpoint cannot honour.
    #[error("{message}")]
    OAuth {
        /// RFC 6749 error name, e.g. `invalid_grant`.
        error: &'static str,
        /// What is wrong.
        message: String,
    },
    /// The one-time password is wrong, expired, used, or was never sent.
    #[error("the code is wrong or has expired")]
    InvalidOtp,
    /// The challenge had its last wrong answer: a new code must be sent.
    #[error("too many wrong codes")]
    OtpAttemptsExhausted,
    /// A resend before the resend timer ran out.
    #[error("a new code can be sent in {retry_after_secs} s")]
    ResendTooEarly {
        /// Seconds to wait.
        retry_after_secs: u64,
    },
    /// Too many wrong codes for this target (from this client network, or in all) within
    /// the guessing window; its codes are refused until then.
    #[error("too many wrong codes for this contact: try again in {retry_after_secs} s")]
    GuessLimit {
        /// Seconds until a code may be answered again.
        retry_after_secs: u64,
    },
    /// A send budget is spent; nothing was sent.
    #[error("too many codes sent ({}): try again in {retry_after_secs} s", scope.as_str())]
    SendLimit {
        /// Which budget.
        scope: BudgetScope,
        /// Seconds until it has room.
        retry_after_secs: u64,
    },
    /// A social provider's credential is forged, expired, for another application or user,
    /// or malformed.
    #[error("{0}")]
    SocialCredential(String),
    /// A social provider could not be asked.
    #[error("{0}")]
    ProviderUnavailable(String),
    /// A sign-in token is unknown, expired or used, or its customer is gone.
    #[error("the sign-in token is invalid or has expired")]
    InvalidLoginToken,
    /// A verification link's code is unknown, expired or used.
    #[error("the verification link is invalid or has expired")]
    InvalidLink,
    /// The `register_token` is unknown, expired or used, or does not fit the request.
    #[error("the registration token is invalid or has expired")]
    InvalidRegisterToken,
    /// A shared resource (download slots) is exhausted for now.
    #[error("busy: try again in {retry_after_secs} s")]
    Busy {
        /// Seconds to wait.
        retry_after_secs: u64,
    },
    /// Hashing a password failed.
    #[error(transparent)]
    Hashing(#[from] HashError),
    /// Something that should not happen (an invariant broke, retries ran out).
    #[error("{0}")]
    Internal(String),
}

impl ServiceError {
    /// A field that is missing or wrong.
    pub fn invalid(field: &str, message: impl Into<String>) -> Self {
        ServiceError::Domain(DomainError::invalid(field, message))
    }
}
