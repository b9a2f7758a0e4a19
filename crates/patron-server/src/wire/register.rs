//! `registerWithForm`'s request (`FormRegisterRequestSchema`) and answer
//! (`RegisterFormSuccess`).

use serde::{Deserialize, Serialize};

use super::customer::CustomerOut;

/// `FormRegisterRequestSchema`.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub(crate) struct RegisterBody {
    pub(crate) first_name: Option<String>,
    pub(crate) last_name: Option<String>,
    pub(crate) gender: Option<String>,
    pub(crate) email: Option<String>,
    pub(crate) password: Option<String>,
    pub(crate) phone: Option<PhoneBody>,
    pub(crate) consent: Option<bool>,
}

/// `{country_code, mobile}` of a registration.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub(crate) struct PhoneBody {
    pub(crate) country_code: Option<String>,
    pub(crate) mobile: Option<String>,
}

/// `RegisterFormSuccess`.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub(crate) struct RegisterFormOut {
    pub(crate) success: bool,
    pub(crate) request_id: String,
    pub(crate) message: &'static str,
    pub(crate) email: String,
    pub(crate) mobile: String,
    pub(crate) country_code: String,
    pub(crate) verify_email_otp: bool,
    pub(crate) verify_mobile_otp: bool,
    pub(crate) user_exists: bool,
    pub(crate) resend_timer: u32,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) resend_token: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) resend_email_token: Option<String>,
    pub(crate) register_token: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) user: Option<CustomerOut>,
}
