//! The storefront (application) API under `/service/application/user/…`, and the
//! application authentication every call of it passes first.

pub(crate) mod attributes;
pub(crate) mod config;
pub(crate) mod contacts;
pub(crate) mod otp;
pub(crate) mod password;
pub(crate) mod profile;
pub(crate) mod register;
pub(crate) mod reset;
pub(crate) mod session;
pub(crate) mod social;

use std::net::SocketAddr;

use axum::extract::{ConnectInfo, FromRequestParts};
use axum::http::header::{AUTHORIZATION, ORIGIN};
use axum::http::request::Parts;
use axum::http::HeaderMap;
use base64::Engine;
use patron_domain::ids::ObjectId;
use patron_domain::link::canonical_origin;
use patron_domain::phone::{Phone, Region};
use patron_domain::secret;
use patron_store::Application;

use utoipa_axum::router::OpenApiRouter;

use crate::app::AppState;
use crate::cookies::{self, origin_of_request, Current};
use crate::error::ApiError;
use patron_service::Origin;

/// The routes of the storefront API.
pub(crate) fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().nest(
        "/service/application/user",
        config::router()
            .merge(session::router())
            .merge(password::router())
            .merge(register::router())
            .merge(reset::router())
            .merge(otp::router())
            .merge(profile::router())
            .merge(attributes::router())
            .merge(contacts::router())
            .merge(social::router()),
    )
}

/// The calling storefront's application, authenticated by
/// `Authorization: Bearer base64(application_id:application_token)`.
pub(crate) struct Storefront {
    /// The application.
    pub(crate) application: Application,
}

impl FromRequestParts<AppState> for Storefront {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let invalid = || ApiError::Unauthenticated("invalid application credentials".to_owned());
        let header = parts
            .headers
            .get(AUTHORIZATION)
            .and_then(|value| value.to_str().ok())
            .ok_or_else(invalid)?;
        let (scheme, encoded) = header.split_once(' ').ok_or_else(invalid)?;
        if !scheme.eq_ignore_ascii_case("bearer") {
            return Err(invalid());
        }
        let decoded = base64::engine::general_purpose::STANDARD
            .decode(encoded.trim())
            .map_err(|_| invalid())?;
        let decoded = String::from_utf8(decoded).map_err(|_| invalid())?;
        let (application_id, token) = decoded.split_once(':').ok_or_else(invalid)?;
        let application_id =
            ObjectId::parse("application_id", application_id).map_err(|_| invalid())?;
        let application = state.application(&application_id).await?;
        let expected = application.as_ref().map_or_else(
            || secret::digest("unknown-application"),
            |a| a.token_digest.clone(),
        );
        let token_ok = secret::matches(token, &expected);
        match application {
            Some(application) if token_ok => Ok(Self { application }),
            _ => Err(invalid()),
        }
    }
}

/// A signed-in shopper: the storefront's application plus the session its `f.session`
/// cookie names (401 when there is none, it expired, or the customer is blocked or archived).
pub(crate) struct Shopper {
    /// The application.
    pub(crate) application: Application,
    /// The session and its customer.
    pub(crate) current: Current,
    /// Host, user agent and client address.
    pub(crate) origin: Origin,
}

impl Shopper {
    /// Headers every answer to this shopper carries: the renewed cookie of a rolling session.
    pub(crate) fn response_headers(&self) -> HeaderMap {
        let mut headers = HeaderMap::new();
        if let Some(cookie) = &self.current.renewed_cookie {
            cookies::set_cookie(&mut headers, cookie.clone());
        }
        headers
    }
}

impl FromRequestParts<AppState> for Shopper {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let Storefront { application } = Storefront::from_request_parts(parts, state).await?;
        refuse_cross_site_write(parts, state, &application).await?;
        let current = cookies::current(state, &application, &parts.headers).await?;
        let peer = parts
            .extensions
            .get::<ConnectInfo<SocketAddr>>()
            .map(|ConnectInfo(peer)| *peer);
        let origin = origin_of_request(&parts.headers, peer, &state.trusted_proxies);
        Ok(Self {
            application,
            current,
            origin,
        })
    }
}

/// A storefront request that may or may not carry a valid session: the application, where
/// the request comes from, and the signed-in shopper when there is one (an expired or
/// unknown cookie counts as none).
pub(crate) struct Visitor {
    /// The application.
    pub(crate) application: Application,
    /// Host, user agent and client address.
    pub(crate) origin: Origin,
    /// The session and its customer, when signed in.
    pub(crate) current: Option<Current>,
}

impl FromRequestParts<AppState> for Visitor {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let Storefront { application } = Storefront::from_request_parts(parts, state).await?;
        refuse_cross_site_write(parts, state, &application).await?;
        let peer = parts
            .extensions
            .get::<ConnectInfo<SocketAddr>>()
            .map(|ConnectInfo(peer)| *peer);
        let origin = origin_of_request(&parts.headers, peer, &state.trusted_proxies);
        let current = match cookies::token_in(&parts.headers) {
            Some(_) => match cookies::current(state, &application, &parts.headers).await {
                Ok(current) => Some(current),
                Err(ApiError::Unauthenticated(_)) => None,
                Err(other) => return Err(other),
            },
            None => None,
        };
        Ok(Self {
            application,
            origin,
            current,
        })
    }
}

impl Visitor {
    /// Headers every answer carries: the renewed cookie of a rolling session.
    pub(crate) fn response_headers(&self) -> HeaderMap {
        let mut headers = HeaderMap::new();
        if let Some(cookie) = self.current.as_ref().and_then(|c| c.renewed_cookie.clone()) {
            cookies::set_cookie(&mut headers, cookie);
        }
        headers
    }
}

/// Refuses a write (any method but GET, HEAD and OPTIONS) that carries the session cookie
/// and an `Origin` outside the application's `allowed_origins`, when it lists any: a page
/// of another site cannot act with a shopper's cookie. Requests without `Origin` (apps,
/// servers) pass; browsers always send it on such requests.
async fn refuse_cross_site_write(
    parts: &Parts,
    state: &AppState,
    application: &Application,
) -> Result<(), ApiError> {
    if parts.method.is_safe() || cookies::token_in(&parts.headers).is_none() {
        return Ok(());
    }
    let Some(origin) = parts.headers.get(ORIGIN) else {
        return Ok(());
    };
    let allowed = state
        .services
        .auth_configs
        .load(application)
        .await?
        .config
        .allowed_origins();
    let origin = origin.to_str().ok().and_then(canonical_origin);
    if allowed.is_empty() || origin.is_some_and(|origin| allowed.contains(&origin)) {
        return Ok(());
    }
    Err(ApiError::Forbidden(
        "cross-site request refused: its Origin is not one of the application's allowed_origins"
            .to_owned(),
    ))
}

/// Parses a storefront's `{mobile, country_code}` pair (strings; the code with or without
/// `+`), naming `mobile_field` and `code_field` in errors; `None` when no mobile is given.
pub(crate) fn parse_mobile(
    mobile_field: &str,
    mobile: Option<&str>,
    code_field: &str,
    country_code: Option<&str>,
    region: Region,
) -> Result<Option<Phone>, ApiError> {
    let Some(mobile) = present(mobile) else {
        return Ok(None);
    };
    let code = present(country_code)
        .map(|code| {
            code.trim_start_matches('+')
                .parse::<u16>()
                .map_err(|_| ApiError::validation(code_field, "is not a country code"))
        })
        .transpose()?;
    Ok(Some(Phone::parse(mobile_field, mobile, code, region)?))
}

/// The trimmed text, unless it is absent or blank.
pub(crate) fn present(value: Option<&str>) -> Option<&str> {
    value.map(str::trim).filter(|v| !v.is_empty())
}
