//! Storefront sessions: minting them (random 256-bit tokens, stored as digests), the
//! `f.session` cookie, and reading the session a request carries.

use axum::http::header::{COOKIE, SET_COOKIE};
use axum::http::{HeaderMap, HeaderValue};
use chrono::Duration;
use patron_domain::customer::Customer;
use patron_domain::ids::ObjectId;
use patron_domain::secret;
use patron_store::{Application, Session, StoreError};

use crate::app::AppState;
use crate::auth_config;
use crate::error::ApiError;

/// The storefront session cookie's name, as Fynd's storefronts expect it.
pub(crate) const COOKIE_NAME: &str = "f.session";

/// How often a rolling session's new expiry is written: at most once a minute.
const EXTEND_EVERY: Duration = Duration::minutes(1);

/// Where a session was started from.
#[derive(Debug, Clone, Default)]
pub(crate) struct Origin {
    pub(crate) domain: String,
    pub(crate) user_agent: String,
    pub(crate) ip: String,
}

impl Origin {
    /// The origin of a storefront request: its host, user agent and client address (the
    /// first `X-Forwarded-For` hop when behind a proxy, else the peer).
    pub(crate) fn of_request(headers: &HeaderMap, peer: Option<std::net::SocketAddr>) -> Self {
        let header = |name: &str| {
            headers
                .get(name)
                .and_then(|v| v.to_str().ok())
                .unwrap_or_default()
                .to_owned()
        };
        let ip = header("x-forwarded-for")
            .split(',')
            .next()
            .map(str::trim)
            .filter(|ip| !ip.is_empty())
            .map(str::to_owned)
            .or_else(|| peer.map(|peer| peer.ip().to_string()))
            .unwrap_or_default();
        Self {
            domain: header("host"),
            user_agent: header("user-agent"),
            ip,
        }
    }
}

/// Starts a session for `customer_id` lasting `lifetime`; returns the secret token for the
/// cookie (only its digest is stored).
pub(crate) async fn start(
    state: &AppState,
    application: &Application,
    customer_id: &ObjectId,
    origin: Origin,
    lifetime: Duration,
) -> Result<String, StoreError> {
    let now = state.clock.now();
    let token = secret::generate_secret();
    let session = Session {
        id: ObjectId::generate(now),
        token_digest: secret::digest(&token),
        application_id: application.id.clone(),
        customer_id: customer_id.clone(),
        domain: origin.domain,
        user_agent: origin.user_agent,
        ip: origin.ip,
        created_at: now,
        expires_at: now + lifetime,
        last_seen_at: now,
    };
    state.stores.sessions.create_session(&session).await?;
    Ok(token)
}

/// Starts a session for a customer who just proved who they are, and returns the headers
/// that set its cookie.
pub(crate) async fn sign_in(
    state: &AppState,
    application: &Application,
    customer_id: &ObjectId,
    origin: Origin,
    lifetime: Duration,
) -> Result<HeaderMap, ApiError> {
    let token = start(state, application, customer_id, origin, lifetime).await?;
    let mut headers = HeaderMap::new();
    set_cookie(&mut headers, cookie(state, &token, lifetime));
    Ok(headers)
}

/// The `Set-Cookie` value carrying `token` for `max_age`.
pub(crate) fn cookie(state: &AppState, token: &str, max_age: Duration) -> HeaderValue {
    let secure = if state.config.cookie_secure {
        "; Secure"
    } else {
        ""
    };
    let value = format!(
        "{COOKIE_NAME}={token}; Path=/; HttpOnly; SameSite=Lax; Max-Age={}{secure}",
        max_age.num_seconds().max(0)
    );
    HeaderValue::from_str(&value)
        .unwrap_or_else(|_| HeaderValue::from_static("f.session=; Max-Age=0"))
}

/// A `Set-Cookie` value that removes the session cookie.
pub(crate) fn expired_cookie(state: &AppState) -> HeaderValue {
    cookie(state, "", Duration::zero())
}

/// The session token in the request's `Cookie` header, if any.
pub(crate) fn token_in(headers: &HeaderMap) -> Option<String> {
    headers
        .get_all(COOKIE)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(name, _)| *name == COOKIE_NAME)
        .map(|(_, value)| value.trim().to_owned())
        .filter(|value| !value.is_empty())
}

/// A request's valid session and customer, and the cookie to re-send when a rolling
/// session was extended.
pub(crate) struct Current {
    pub(crate) session: Session,
    pub(crate) customer: Customer,
    pub(crate) renewed_cookie: Option<HeaderValue>,
}

/// Resolves the session a request carries: 401 when there is none, or it is expired, or its
/// customer is blocked or archived. Rolling sessions are extended (written at most once a
/// minute).
pub(crate) async fn current(
    state: &AppState,
    application: &Application,
    headers: &HeaderMap,
) -> Result<Current, ApiError> {
    let unauthenticated =
        || ApiError::Unauthenticated("sign in first: no valid session".to_owned());
    let token = token_in(headers).ok_or_else(unauthenticated)?;
    let now = state.clock.now();
    let (session, customer) = state
        .stores
        .sessions
        .find_session(&application.id, &secret::digest(&token), now)
        .await?
        .ok_or_else(unauthenticated)?;
    let policy = auth_config::load(state, application)
        .await?
        .config
        .session();
    let mut renewed_cookie = None;
    if policy.rolling && now - session.last_seen_at >= EXTEND_EVERY {
        state
            .stores
            .sessions
            .extend_session(&session.id, now + policy.lifetime, now)
            .await?;
        renewed_cookie = Some(cookie(state, &token, policy.lifetime));
    }
    Ok(Current {
        session,
        customer,
        renewed_cookie,
    })
}

/// Adds a `Set-Cookie` header to `headers`.
pub(crate) fn set_cookie(headers: &mut HeaderMap, value: HeaderValue) {
    headers.append(SET_COOKIE, value);
}
