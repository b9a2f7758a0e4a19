//! The HTTP side of storefront sessions: the `f.session` cookie, where a request comes
//! from, and resolving the session a request carries (the sessions themselves are
//! `service::Sessions`).

use axum::http::header::{COOKIE, SET_COOKIE};
use axum::http::{HeaderMap, HeaderValue};
use chrono::Duration;
use std::net::IpAddr;

use patron_store::Application;

use crate::app::AppState;
use crate::error::ApiError;
use crate::fetch::IpBlock;
use patron_service::{CurrentSession, DeviceToken, Origin, StartedSession, DEVICE_LIFETIME};

/// The storefront session cookie's name, as Fynd's storefronts expect it.
pub(crate) const COOKIE_NAME: &str = "f.session";
/// The cookie of a device a shopper signed in on (it outlives sign-out).
pub(crate) const DEVICE_COOKIE_NAME: &str = "patron_device";

/// The origin of a storefront request: its host, user agent and client address. The
/// address is the peer's, unless the peer is one of the `trusted` proxies: then it is the
/// nearest `X-Forwarded-For` hop that is not itself a trusted proxy (a client cannot forge
/// its address by sending the header itself).
pub(crate) fn origin_of_request(
    headers: &HeaderMap,
    peer: Option<std::net::SocketAddr>,
    trusted: &[IpBlock],
) -> Origin {
    let header = |name: &str| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_owned()
    };
    let is_trusted = |ip: IpAddr| trusted.iter().any(|block| block.contains(ip));
    let mut client = peer.map(|peer| peer.ip());
    if trusted.is_empty() {
        warn_once_if_proxied(client);
    }
    if client.is_some_and(is_trusted) {
        let forwarded = header("x-forwarded-for");
        for hop in forwarded.rsplit(',').map(str::trim) {
            match hop.parse::<IpAddr>() {
                Ok(ip) => {
                    client = Some(ip);
                    if !is_trusted(ip) {
                        break;
                    }
                }
                Err(_) => break,
            }
        }
    }
    Origin {
        domain: header("host"),
        user_agent: header("user-agent"),
        ip: client.map(|ip| ip.to_string()).unwrap_or_default(),
        device: cookie_named(headers, DEVICE_COOKIE_NAME)
            .filter(|token| token.len() <= 128)
            .map(DeviceToken),
    }
}

/// Logs once per process when a request comes from a private or loopback address while no
/// proxy is trusted: behind a proxy every client then shares the proxy's address, and
/// with it every per-address budget.
fn warn_once_if_proxied(peer: Option<IpAddr>) {
    static WARNED: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);
    let private = peer.is_some_and(is_private);
    if private && !WARNED.swap(true, std::sync::atomic::Ordering::Relaxed) {
        tracing::warn!(
            peer = %peer.map(|ip| ip.to_string()).unwrap_or_default(),
            "requests come from a private address and trusted_proxies is empty: if a proxy \
             forwards them, every client shares its address and its budgets; set \
             PATRON_TRUSTED_PROXIES"
        );
    }
}

/// Whether `ip` is a loopback, private, unique-local or link-local address: where proxies,
/// not clients, usually connect from.
fn is_private(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => v4.is_private() || v4.is_loopback() || v4.is_link_local(),
        IpAddr::V6(v6) => {
            v6.is_loopback() || (v6.segments()[0] & 0xfe00) == 0xfc00 || v6.is_unicast_link_local()
        }
    }
}

/// The headers that set the cookie of a session just started, and its device's cookie.
pub(crate) fn cookie_headers(state: &AppState, session: &StartedSession) -> HeaderMap {
    let mut headers = HeaderMap::new();
    set_cookie(
        &mut headers,
        cookie(state, &session.token, session.lifetime),
    );
    if let Some(device) = &session.device {
        set_cookie(
            &mut headers,
            named_cookie(state, DEVICE_COOKIE_NAME, &device.0, DEVICE_LIFETIME),
        );
    }
    headers
}

/// The `Set-Cookie` value carrying `token` for `max_age`.
pub(crate) fn cookie(state: &AppState, token: &str, max_age: Duration) -> HeaderValue {
    named_cookie(state, COOKIE_NAME, token, max_age)
}

/// An `HttpOnly; SameSite=Lax` cookie `name` carrying `token` for `max_age` (`Secure`
/// unless `cookie_secure` is off).
fn named_cookie(state: &AppState, name: &str, token: &str, max_age: Duration) -> HeaderValue {
    let secure = if state.config.cookie_secure {
        "; Secure"
    } else {
        ""
    };
    let value = format!(
        "{name}={token}; Path=/; HttpOnly; SameSite=Lax; Max-Age={}{secure}",
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
    cookie_named(headers, COOKIE_NAME)
}

/// The non-empty value of the cookie `name` in the request's `Cookie` headers, if any.
pub(crate) fn cookie_named(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(COOKIE)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(found, _)| *found == name)
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn proxies_usually_connect_from_private_addresses() {
        for private in [
            "10.1.2.3",
            "192.168.0.9",
            "172.20.0.1",
            "127.0.0.1",
            "::1",
            "fd00::7",
            "fe80::1",
        ] {
            assert!(is_private(private.parse().unwrap()), "{private}");
        }
        for public in ["203.0.113.9", "8.8.8.8", "2001:db8::1"] {
            assert!(!is_private(public.parse().unwrap()), "{public}");
        }
    }

    fn origin(forwarded: Option<&str>, peer: &str, trusted: &[&str]) -> String {
        let mut headers = HeaderMap::new();
        if let Some(forwarded) = forwarded {
            headers.insert("x-forwarded-for", HeaderValue::from_str(forwarded).unwrap());
        }
        let trusted: Vec<IpBlock> = trusted.iter().map(|block| block.parse().unwrap()).collect();
        origin_of_request(&headers, Some(peer.parse().unwrap()), &trusted).ip
    }

    #[test]
    fn forwarded_addresses_count_only_from_trusted_proxies() {
        assert_eq!(
            origin(Some("203.0.113.9"), "198.51.100.7:4000", &[]),
            "198.51.100.7"
        );
        assert_eq!(
            origin(Some("203.0.113.9"), "198.51.100.7:4000", &["10.0.0.0/8"]),
            "198.51.100.7",
            "the peer is not a proxy of ours"
        );
        assert_eq!(
            origin(Some("203.0.113.9"), "10.0.0.2:4000", &["10.0.0.0/8"]),
            "203.0.113.9"
        );
        assert_eq!(
            origin(
                Some("6.6.6.6, 203.0.113.9, 10.0.0.5"),
                "10.0.0.2:4000",
                &["10.0.0.0/8"]
            ),
            "203.0.113.9",
            "the nearest untrusted hop, not what the client wrote first"
        );
        assert_eq!(origin(None, "10.0.0.2:4000", &["10.0.0.0/8"]), "10.0.0.2");
        assert_eq!(
            origin(Some("not-an-ip"), "10.0.0.2:4000", &["10.0.0.0/8"]),
            "10.0.0.2"
        );
    }
}
