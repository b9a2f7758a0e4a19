//! The token endpoint's form and answer (OAuth 2.0 client credentials and refresh).

use patron_domain::scope::Scope;
use patron_service::IssuedTokens;
use serde::{Deserialize, Serialize};

/// The form fields of a token request.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub(crate) struct TokenForm {
    /// `client_credentials` or `refresh_token`.
    pub(crate) grant_type: Option<String>,
    /// Space-separated scopes (at most the client's).
    pub(crate) scope: Option<String>,
    /// With `grant_type=refresh_token`.
    pub(crate) refresh_token: Option<String>,
}

/// The token response (RFC 6749 §5.1), scopes as a list.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub(crate) struct TokenOut {
    access_token: String,
    token_type: &'static str,
    expires_in: i64,
    refresh_token: String,
    scope: Vec<&'static str>,
}

impl From<IssuedTokens> for TokenOut {
    fn from(issued: IssuedTokens) -> Self {
        Self {
            access_token: issued.access_token,
            token_type: "Bearer",
            expires_in: issued.expires_in,
            refresh_token: issued.refresh_token,
            scope: issued.scopes.iter().map(Scope::as_str).collect(),
        }
    }
}
