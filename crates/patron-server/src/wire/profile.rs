//! `updateProfile`'s request (`EditProfileRequestSchema`) and answer (`ProfileEditSuccess`).

use serde::{Deserialize, Serialize};

use super::contacts::EditMobileBody;
use super::customer::CustomerOut;

/// `EditProfileRequestSchema`.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub(crate) struct EditProfileBody {
    pub(crate) first_name: Option<String>,
    pub(crate) last_name: Option<String>,
    pub(crate) gender: Option<String>,
    pub(crate) dob: Option<String>,
    pub(crate) profile_pic_url: Option<String>,
    pub(crate) email: Option<String>,
    pub(crate) mobile: Option<EditMobileBody>,
    pub(crate) country_code: Option<String>,
    pub(crate) register_token: Option<String>,
    pub(crate) android_hash: Option<String>,
}

/// `ProfileEditSuccess`.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub(crate) struct ProfileEditOut {
    pub(crate) success: bool,
    pub(crate) message: &'static str,
    pub(crate) user: CustomerOut,
    pub(crate) user_exists: bool,
    pub(crate) verify_email_otp: bool,
    pub(crate) verify_mobile_otp: bool,
    pub(crate) verify_email_link: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) email: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) request_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) mobile: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) country_code: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) resend_timer: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) resend_token: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) resend_email_token: Option<String>,
}
