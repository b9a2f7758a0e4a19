//! The storefront's small answers, and the account deletion request.

use serde::{Deserialize, Serialize};

/// `HasPasswordSuccess`: 1 when the customer has a password, else 0.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub(crate) struct HasPasswordOut {
    /// 0 or 1.
    pub(crate) result: i32,
}

/// `VerifyEmailSuccess`-like `{"message": …}` answers.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub(crate) struct MessageOut {
    /// What happened.
    pub(crate) message: &'static str,
}

/// `SessionListSuccess`: the ids of the customer's sessions.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub(crate) struct SessionIdsOut {
    /// Session ids, newest first.
    pub(crate) sessions: Vec<String>,
}

/// `LogoutSuccess`.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub(crate) struct LogoutOut {
    /// Always true.
    pub(crate) logout: bool,
}

/// `UserExistsResponse`.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub(crate) struct UserExistsOut {
    /// Whether a live customer has the email or phone.
    pub(crate) user_exists: bool,
}

/// `DeleteApplicationUserRequestSchema`.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub(crate) struct DeleteBody {
    pub(crate) user_id: Option<String>,
    pub(crate) reason: Option<String>,
    pub(crate) reason_id: Option<String>,
    pub(crate) request_id: Option<String>,
    pub(crate) otp: Option<String>,
}
