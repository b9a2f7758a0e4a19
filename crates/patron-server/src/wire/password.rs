//! Password sign-in and change requests (`PasswordLoginRequestSchema`,
//! `TokenRequestBodySchema`, `UpdatePasswordRequestSchema`).

use serde::Deserialize;

/// `PasswordLoginRequestSchema`: `username` is an email or a phone number.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub(crate) struct LoginBody {
    pub(crate) username: Option<String>,
    pub(crate) password: Option<String>,
}

/// `TokenRequestBodySchema`.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub(crate) struct TokenBody {
    pub(crate) token: Option<String>,
}

/// `UpdatePasswordRequestSchema`.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub(crate) struct UpdatePasswordBody {
    pub(crate) old_password: Option<String>,
    pub(crate) new_password: Option<String>,
}
