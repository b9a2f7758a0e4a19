//! The HTTP side of storefront sessions: the `f.session` cookie, where a request comes
//! from, and resolving the session a request carries (the sessions themselves are
//! `service::Sessions`).

use axum::http::header::{COOKIE, SET_COOKIE};
use axum::http::{HeaderMap, HeaderValue};
use chrono::Duration;
use patron_store::Application;

use crate::app::AppState;
use crate::error::ApiError;
use crate::service::{CurrentSession, Origin, StartedSession};

/// The storefront session cookie's name, as Fynd's storefronts expect it.
pub(crate) const COOKIE_NAME: &str = "f.session";

/// The origin of a storefront request: its host, user agent and client address (the first
/// `X-Forwarded-For` hop when behind a proxy, else the peer).
pub(crate) fn origin_of_request(headers: &HeaderMap, peer: Option<std::net::SocketAddr>) -> Origin {
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
    Origin {
        domain: header("host"),
        user_agent: header("user-agent"),
        ip,
    }
}

/// The headers that set the cookie of a session just started.
pub(crate) fn cookie_headers(state: &AppState, session: &StartedSession) -> HeaderMap {
    let mut headers = HeaderMap::new();
    set_cookie(
        &mut headers,
        cookie(state, &session.token, session.lifetime),
    );
    headers
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
    pub(crate) session: patron_store::Session,
    pub(crate) customer: patron_domain::customer::Customer,
    pub(crate) renewed_cookie: Option<HeaderValue>,
}

/// Resolves the session a request carries: 401 when there is none, or it is expired, or its
/// customer is blocked or archived.
pub(crate) async fn current(
    state: &AppState,
    application: &Application,
    headers: &HeaderMap,
) -> Result<Current, ApiError> {
    let unauthenticated =
        || ApiError::Unauthenticated("sign in first: no valid session".to_owned());
    let token = token_in(headers).ok_or_else(unauthenticated)?;
    let CurrentSession {
        session,
        customer,
        extended_for,
    } = state
        .services
        .sessions
        .resolve(application, &token)
        .await?
        .ok_or_else(unauthenticated)?;
    Ok(Current {
        session,
        customer,
        renewed_cookie: extended_for.map(|lifetime| cookie(state, &token, lifetime)),
    })
}

/// Adds a `Set-Cookie` header to `headers`.
pub(crate) fn set_cookie(headers: &mut HeaderMap, value: HeaderValue) {
    headers.append(SET_COOKIE, value);
}
