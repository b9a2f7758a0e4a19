//! A signed-in shopper's emails and mobiles: the bodies that add, verify or make primary a
//! contact, and their answers.

use serde::{Deserialize, Serialize};

use super::customer::CustomerOut;

/// `EditEmailRequestSchema`; also the body of `sendResetPasswordEmail`.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub(crate) struct EmailBody {
    pub(crate) email: Option<String>,
}

/// `EditEmailRequestSchema` of a primary change, with Patron's optional proof of the
/// current primary (`verifyOTPonPrimary`'s `request_id`).
#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub(crate) struct PrimaryEmailBody {
    pub(crate) email: Option<String>,
    pub(crate) request_id: Option<String>,
}

/// `EditMobileRequestSchema` of a primary change, with the same optional proof.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub(crate) struct PrimaryMobileBody {
    #[serde(flatten)]
    pub(crate) mobile: EditMobileBody,
    pub(crate) request_id: Option<String>,
}

/// `EditMobileRequestSchema` / `SendVerificationLinkMobileRequestSchema`, and the `mobile`
/// of `EditProfileRequestSchema`: `{phone, country_code}`.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub(crate) struct EditMobileBody {
    pub(crate) phone: Option<String>,
    pub(crate) country_code: Option<String>,
}

/// `VerifyEmailOTPSuccess`.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub(crate) struct EmailAddedOut {
    pub(crate) user: CustomerOut,
    pub(crate) verify_email_link: bool,
}

/// `VerifyMobileOTPSuccess`.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub(crate) struct MobileAddedOut {
    pub(crate) user: CustomerOut,
    pub(crate) verify_mobile_link: bool,
}

/// `SendEmailVerifyLinkSuccess`.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub(crate) struct EmailLinkOut {
    pub(crate) verify_email_link: bool,
}

/// `SendMobileVerifyLinkSuccess`.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub(crate) struct MobileLinkOut {
    pub(crate) verify_mobile_link: bool,
}
