//! Social sign-in requests (`OAuthRequestSchema`, `OAuthRequestAppleSchema`) and their
//! answer (`AuthSuccess`).

use serde::{Deserialize, Serialize};

use super::customer::CustomerOut;

/// `OAuthRequestSchema`.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub(crate) struct OAuthBody {
    pub(crate) oauth2: Option<OAuth2>,
    pub(crate) profile: Option<ProfileBody>,
}

/// `oauth2` of `OAuthRequestSchema`: Google web sends the ID token as `access_token`.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub(crate) struct OAuth2 {
    pub(crate) access_token: Option<String>,
}

/// `profile` of the social requests.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub(crate) struct ProfileBody {
    pub(crate) id: Option<String>,
    pub(crate) first_name: Option<String>,
    pub(crate) last_name: Option<String>,
}

/// `OAuthRequestAppleSchema`.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub(crate) struct AppleBody {
    pub(crate) user_identifier: Option<String>,
    pub(crate) oauth: Option<AppleOAuth>,
    pub(crate) profile: Option<ProfileBody>,
}

/// `oauth` of `OAuthRequestAppleSchema`.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub(crate) struct AppleOAuth {
    pub(crate) identity_token: Option<String>,
}

/// `AuthSuccess`.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub(crate) struct AuthSuccessOut {
    pub(crate) user_exists: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) register_token: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) user: Option<CustomerOut>,
}
