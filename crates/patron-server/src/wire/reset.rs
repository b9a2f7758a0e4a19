//! Password reset requests. The email of `sendResetPasswordEmail` is
//! [`EmailBody`](super::contacts::EmailBody), the same shape as `addEmail`'s.

use serde::Deserialize;

// A reset link's code, and the new password where the call sets one. (No doc comment: it
// would become the schema's description, which the document has never had.)
#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub(crate) struct CodeBody {
    pub(crate) code: Option<String>,
    pub(crate) password: Option<String>,
}

/// `sendResetPasswordMobileRequestSchema`.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub(crate) struct MobileBody {
    pub(crate) country_code: Option<String>,
    pub(crate) mobile: Option<String>,
}
