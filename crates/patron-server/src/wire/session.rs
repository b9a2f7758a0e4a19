//! Admin-managed sessions: the request that mints one, the seed's
//! `SessionListResponseSchema` and the answers of creating and ending sessions.

use std::collections::BTreeMap;

use patron_domain::time::to_wire;
use patron_store::Session;
use serde::{Deserialize, Serialize};

/// `CreateUserSessionRequestSchema`; `max_age` is in seconds.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub(crate) struct CreateSessionBody {
    #[schema(required = true)]
    pub(crate) domain: Option<String>,
    #[schema(required = true)]
    pub(crate) user_id: Option<String>,
    pub(crate) max_age: Option<f64>,
}

/// `SessionListResponseInfo`.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub(crate) struct SessionOut {
    session_id: String,
    user_agent: String,
    ip: String,
    domain: String,
    expire_in: String,
    location: &'static str,
}

impl From<&Session> for SessionOut {
    fn from(session: &Session) -> Self {
        Self {
            session_id: session.id.to_string(),
            user_agent: session.user_agent.clone(),
            ip: session.ip.clone(),
            domain: session.domain.clone(),
            expire_in: to_wire(session.expires_at),
            location: "",
        }
    }
}

/// `{"items": [SessionListResponseInfo]}`.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub(crate) struct SessionsOut {
    /// The customer's sessions.
    pub(crate) items: Vec<SessionOut>,
}

/// `SessionListResponseSchema`-like answer of minting a session: the cookie to set.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub(crate) struct MintedSessionOut {
    /// The domain the cookie is for.
    pub(crate) domain: String,
    /// Its lifetime in seconds.
    pub(crate) max_age: i64,
    /// Whether it is `Secure`.
    pub(crate) secure: bool,
    /// Always true.
    pub(crate) http_only: bool,
    /// `{"f.session": <token>}`.
    pub(crate) cookie: BTreeMap<&'static str, String>,
}

/// `SessionDeleteResponseSchema`.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub(crate) struct EndedSessionOut {
    /// The customer.
    pub(crate) user_id: String,
    /// The ended session.
    pub(crate) session_id: String,
}

/// `SessionsDeleteResponseSchema`.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub(crate) struct EndedSessionsOut {
    /// The customer.
    pub(crate) user_id: String,
    /// The ended sessions.
    pub(crate) session_ids: Vec<String>,
}

/// A sign-in token for `loginWithToken`.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub(crate) struct LoginTokenOut {
    /// The token (shown once).
    pub(crate) token: String,
    /// Seconds it can be used.
    pub(crate) expires_in: i64,
}
