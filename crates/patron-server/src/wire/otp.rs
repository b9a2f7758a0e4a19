//! The storefront's one-time password requests and answers (SDK 3.4.2 schemas).

use serde::{Deserialize, Serialize};

use super::customer::CustomerOut;

/// `SendOtpRequestSchema`, `SendMobileOtpRequestSchema`, `SendMobileForgotOtpRequestSchema`:
/// a code to a mobile (`action: "resend"` with `token` resends).
#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub(crate) struct MobileSendBody {
    /// National number.
    pub(crate) mobile: Option<String>,
    /// Country calling code, e.g. `"91"`.
    pub(crate) country_code: Option<String>,
    /// `send` (default) or `resend`.
    pub(crate) action: Option<String>,
    /// The `resend_token` of the code to resend.
    pub(crate) token: Option<String>,
    /// Appended to the text message for Android's SMS retriever.
    pub(crate) android_hash: Option<String>,
}

/// `SendEmailOtpRequestSchema`, `SendEmailForgotOtpRequestSchema`.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub(crate) struct EmailSendBody {
    /// The address.
    pub(crate) email: Option<String>,
    /// `send` (default) or `resend`.
    pub(crate) action: Option<String>,
    /// The `resend_email_token` of the code to resend.
    pub(crate) token: Option<String>,
    /// The pending registration the code is for.
    pub(crate) register_token: Option<String>,
}

/// `VerifyOtpRequestSchema`, `VerifyMobileForgotOtpRequestSchema`.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub(crate) struct MobileVerifyBody {
    /// The send's `request_id`.
    pub(crate) request_id: Option<String>,
    /// The code.
    pub(crate) otp: Option<String>,
    /// The pending registration the code is for.
    pub(crate) register_token: Option<String>,
}

/// `VerifyEmailOtpRequestSchema`, `VerifyEmailForgotOtpRequestSchema`.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub(crate) struct EmailVerifyBody {
    /// The address the code went to.
    pub(crate) email: Option<String>,
    /// The code.
    pub(crate) otp: Option<String>,
    /// The pending registration the code is for.
    pub(crate) register_token: Option<String>,
}

/// `SendOtp` / `SendOtpSuccess`: a code went to a mobile (or, on the v2.0 paths, an email).
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub(crate) struct SendOtpOut {
    /// Always true.
    pub(crate) success: bool,
    /// Verify with this.
    pub(crate) request_id: String,
    /// What happened.
    pub(crate) message: &'static str,
    /// National number the code went to.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) mobile: Option<String>,
    /// Its country code.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) country_code: Option<String>,
    /// The email the code went to.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) email: Option<String>,
    /// Seconds before a resend is allowed.
    pub(crate) resend_timer: u32,
    /// Send back as `token` with `action: "resend"`.
    pub(crate) resend_token: String,
}

/// `EmailOtpSuccess`: a code went to an email.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub(crate) struct EmailOtpOut {
    /// Always true.
    pub(crate) success: bool,
    /// Send back as `token` with `action: "resend"`.
    pub(crate) resend_email_token: String,
}

/// `VerifyOtpSuccess`: who the code proved.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub(crate) struct VerifyOtpOut {
    /// The customer signed in (or whose contact was proven).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) user: Option<CustomerOut>,
    /// False when the profile must be completed first (with `register_token`) or a
    /// registration waits for its other code.
    pub(crate) user_exists: bool,
    /// Completes the sign-up or registration.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) register_token: Option<String>,
}

/// `VerifyForgotOtpSuccess`.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub(crate) struct VerifyForgotOut {
    /// Always true.
    pub(crate) success: bool,
    /// The `code` of `resetForgotPassword`.
    pub(crate) forgot_token: String,
}

/// `{code}` of a verification link.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub(crate) struct LinkCodeBody {
    /// The link's code.
    pub(crate) code: Option<String>,
}

/// `{otp, request_id, email?}` of the v2.0 verify calls.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub(crate) struct PrimaryVerifyBody {
    /// The code.
    pub(crate) otp: Option<String>,
    /// The send's `request_id`.
    pub(crate) request_id: Option<String>,
}

/// `SendOTPForUpdateRequestSchema`.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub(crate) struct ForUpdateBody {
    /// The proof from `verifyOTPonPrimary`.
    pub(crate) request_id: Option<String>,
    /// The new mobile.
    pub(crate) mobile: Option<String>,
    /// Its country code.
    pub(crate) country_code: Option<String>,
    /// The new email.
    pub(crate) email: Option<String>,
}

/// `VerifyPrimaryOTPSuccess`.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub(crate) struct PrimaryProvenOut {
    /// Always true.
    pub(crate) success: bool,
    /// The proof `sendOTPForUpdate` takes.
    pub(crate) request_id: String,
    /// `mobile` or `email`.
    pub(crate) entity: &'static str,
}
