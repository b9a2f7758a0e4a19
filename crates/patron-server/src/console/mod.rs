//! The admin console at `/console/`: server-rendered pages for support staff, signed in
//! with a platform client's credentials and scoped to that client's company.
//!
//! Every page and action calls the same use cases as the platform API; this module only
//! reads forms, checks the operator's scopes and renders templates. The session is a
//! console session of the client (its own table, never a bearer token) kept in an
//! `HttpOnly`, `SameSite=Strict` cookie; every form also carries a token derived from it
//! and must come from the console's own origin.

mod attributes;
mod customers;
mod forms;
mod groups;
mod render;
mod settings;
mod views;

use axum::extract::{FromRequest, FromRequestParts, RawPathParams, State};
use axum::http::header::{CACHE_CONTROL, CONTENT_TYPE, HOST, LOCATION, ORIGIN, SET_COOKIE};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;
use patron_domain::ids::{CompanyId, ObjectId};
use patron_domain::scope::Scope;
use patron_domain::secret;
use patron_store::Application;
use serde::Serialize;

use crate::app::AppState;
use crate::error::ApiError;
use patron_service::{ServiceError, OPERATOR_SESSION_LIFETIME};

pub(crate) use forms::Form;
pub(crate) use render::{page, Notice};

/// The console cookie's name when it is `Secure`: the `__Host-` prefix makes browsers
/// refuse one set by another host (a sibling subdomain) or for another path.
const SECURE_COOKIE_NAME: &str = "__Host-patron_console";
/// Its name over plain HTTP (`cookie_secure = false`, development only).
const PLAIN_COOKIE_NAME: &str = "patron_console";

use patron_domain::link::canonical_origin;

/// The console's routes, under `/console`.
pub(crate) fn router() -> Router<AppState> {
    let app = "/console/apps/{application_id}";
    Router::new()
        .route("/console", get(home))
        .route("/console/", get(home))
        .route("/console/sign-in", get(sign_in_page).post(sign_in))
        .route("/console/sign-out", post(sign_out))
        .route("/console/assets/{name}", get(render::asset))
        .route("/console/apps", get(applications))
        .route(&format!("{app}/customers"), get(customers::list))
        .route(
            &format!("{app}/customers/{{customer_id}}"),
            get(customers::show),
        )
        .route(
            &format!("{app}/customers/{{customer_id}}/{{action}}"),
            post(customers::act),
        )
        .route(
            &format!("{app}/groups"),
            get(groups::list).post(groups::create),
        )
        .route(&format!("{app}/groups/{{group_id}}"), get(groups::show))
        .route(
            &format!("{app}/attributes"),
            get(attributes::list).post(attributes::create),
        )
        .route(
            &format!("{app}/settings"),
            get(settings::show).post(settings::save),
        )
        .layer(middleware::from_fn(page_headers))
}

/// Why a console request ends without its page.
#[derive(Debug)]
pub(crate) enum ConsoleError {
    /// Not signed in (or the session ended): to the sign-in page.
    SignIn,
    /// Anything else: an error page with the status and the message.
    Failed(ApiError),
}

impl From<ApiError> for ConsoleError {
    fn from(error: ApiError) -> Self {
        match error {
            ApiError::Unauthenticated(_) => Self::SignIn,
            other => Self::Failed(other),
        }
    }
}

impl From<ServiceError> for ConsoleError {
    fn from(error: ServiceError) -> Self {
        ApiError::from(error).into()
    }
}

impl From<patron_domain::DomainError> for ConsoleError {
    fn from(error: patron_domain::DomainError) -> Self {
        ApiError::from(error).into()
    }
}

impl IntoResponse for ConsoleError {
    fn into_response(self) -> Response {
        match self {
            Self::SignIn => redirect("/console/sign-in"),
            Self::Failed(error) => {
                let (status, _, message, _) = error.status_code_message_meta();
                if status.is_server_error() {
                    tracing::error!(%error, "console request failed");
                }
                render::error_page(status, &message)
            }
        }
    }
}

/// A `303 See Other` to `to` (after a form, so reloading does not post again).
pub(crate) fn redirect(to: &str) -> Response {
    let mut response = StatusCode::SEE_OTHER.into_response();
    if let Ok(location) = HeaderValue::from_str(to) {
        response.headers_mut().insert(LOCATION, location);
    }
    response
}

/// A signed-in operator: the platform client, its company and scopes.
pub(crate) struct Operator {
    client_id: String,
    company_id: CompanyId,
    scopes: Vec<Scope>,
    /// The token forms must echo (derived from the session secret).
    form_token: String,
}

impl Operator {
    /// `Forbidden` unless the operator's client holds `scope`.
    pub(crate) fn require(&self, scope: Scope) -> Result<(), ConsoleError> {
        if self.scopes.contains(&scope) {
            Ok(())
        } else {
            Err(ApiError::Forbidden(format!(
                "your client lacks the scope {scope} needed for this"
            ))
            .into())
        }
    }

    /// Whether the operator's client holds `scope` (to show or hide an action).
    pub(crate) fn may(&self, scope: Scope) -> bool {
        self.scopes.contains(&scope)
    }

    /// Refuses a form that does not carry this session's form token.
    pub(crate) fn check_form(&self, form: &Form) -> Result<(), ConsoleError> {
        let sent = form.get("form_token").unwrap_or_default();
        if secret::matches(sent, &secret::digest(&self.form_token)) {
            Ok(())
        } else {
            Err(ApiError::Forbidden(
                "the form is stale or was not sent from this console; reload the page".to_owned(),
            )
            .into())
        }
    }

    /// The audit trail's actor for the operator's changes.
    pub(crate) fn actor(&self) -> patron_store::Actor {
        patron_store::Actor::new(format!("console:{}", self.client_id))
    }
}

/// The token a session's forms carry: a digest of the session secret under its own
/// label, so the page never holds the secret or the stored digest.
fn form_token(session: &str) -> String {
    secret::digest(&format!("console-form:{session}"))
}

impl FromRequestParts<AppState> for Operator {
    type Rejection = ConsoleError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let token = session_in(state, &parts.headers).ok_or(ConsoleError::SignIn)?;
        if parts.method != Method::GET && parts.method != Method::HEAD {
            refuse_cross_site(state, parts)?;
        }
        let client = state
            .services
            .tokens
            .operator(&token)
            .await?
            .ok_or(ConsoleError::SignIn)?;
        Ok(Self {
            client_id: client.client_id,
            company_id: client.company_id,
            scopes: client.scopes,
            form_token: form_token(&token),
        })
    }
}

/// An operator working in one application of their company (the path's
/// `application_id`).
pub(crate) struct Console {
    /// Who.
    pub(crate) operator: Operator,
    /// Where.
    pub(crate) application: Application,
}

impl FromRequestParts<AppState> for Console {
    type Rejection = ConsoleError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let operator = Operator::from_request_parts(parts, state).await?;
        let params = RawPathParams::from_request_parts(parts, state)
            .await
            .map_err(|_| ApiError::Internal("console route without path parameters".into()))?;
        let raw = params
            .iter()
            .find(|(key, _)| *key == "application_id")
            .map(|(_, value)| value.to_owned())
            .unwrap_or_default();
        let id = ObjectId::parse("application_id", &raw)?;
        let application = state
            .services
            .applications
            .of_company_by_id(&operator.company_id, &id)
            .await?;
        Ok(Self {
            operator,
            application,
        })
    }
}

impl Console {
    /// The page's frame: the operator, the application and the navigation.
    pub(crate) fn frame(&self, section: &'static str) -> views::Frame {
        views::Frame {
            company_id: self.operator.company_id.to_string(),
            client_id: self.operator.client_id.clone(),
            application: Some(views::AppLink::from(&self.application)),
            section,
            form_token: self.operator.form_token.clone(),
        }
    }

    /// The path of a page of this application, e.g. `customers`.
    pub(crate) fn path(&self, rest: &str) -> String {
        format!("/console/apps/{}/{rest}", self.application.id)
    }

    /// The pager of a table on the page `rest`, its links keeping `query`.
    pub(crate) fn pager(
        &self,
        rest: &str,
        query: &[(&str, &str)],
        info: &patron_domain::page::PageInfo,
    ) -> views::Pager {
        let path = self.path(rest);
        let kept = serde_urlencoded::to_string(query).unwrap_or_default();
        let kept = if kept.is_empty() {
            kept
        } else {
            format!("{kept}&")
        };
        views::Pager::new(info, |number| format!("{path}?{kept}page_no={number}"))
    }
}

/// Refuses a write that a browser did not send from the console's own pages.
fn refuse_cross_site(state: &AppState, parts: &Parts) -> Result<(), ConsoleError> {
    let host = parts
        .uri
        .authority()
        .map(|authority| authority.as_str())
        .or_else(|| parts.headers.get(HOST).and_then(|host| host.to_str().ok()));
    let origin = parts
        .headers
        .get(ORIGIN)
        .and_then(|origin| origin.to_str().ok());
    let public_url = state.config.public_url.as_deref();
    if same_origin(origin, host, public_url, state.config.cookie_secure) {
        Ok(())
    } else {
        Err(ApiError::Forbidden(
            "cross-site request refused: console forms must come from the console".to_owned(),
        )
        .into())
    }
}

/// Whether a request with this `Origin` comes from the console's own pages: the origin of
/// the configured public address (behind a proxy that rewrites `Host`), or the address the
/// request was sent to (its authority, or `Host`) — over `https` when the console is
/// (`secure`), unless on a loopback host. A request without `Origin` is refused: browsers
/// send it with every form they post.
fn same_origin(
    origin: Option<&str>,
    host: Option<&str>,
    public_url: Option<&str>,
    secure: bool,
) -> bool {
    let Some(origin) = origin.and_then(canonical_origin) else {
        return false;
    };
    if secure && origin.starts_with("http://") && !is_loopback(&origin["http://".len()..]) {
        return false;
    }
    let public = public_url.and_then(|url| {
        let (scheme, rest) = url.split_once("://")?;
        let authority = rest.split(['/', '?', '#']).next()?;
        canonical_origin(&format!("{scheme}://{authority}"))
    });
    let origin_host = origin.split_once("://").map(|(_, rest)| rest);
    public.as_deref() == Some(origin.as_str())
        || matches!((origin_host, host), (Some(origin_host), Some(host)) if origin_host.eq_ignore_ascii_case(host))
}

/// Whether `authority` (`host[:port]`) names this machine.
fn is_loopback(authority: &str) -> bool {
    let host = match authority.strip_prefix('[') {
        Some(bracketed) => bracketed.split(']').next().unwrap_or_default(),
        None => authority.split(':').next().unwrap_or_default(),
    };
    host == "localhost"
        || host
            .parse::<std::net::IpAddr>()
            .is_ok_and(|address| address.is_loopback())
}

/// The console session secret in the request's cookies.
fn session_in(state: &AppState, headers: &HeaderMap) -> Option<String> {
    crate::cookies::cookie_named(headers, cookie_name(state))
}

fn cookie_name(state: &AppState) -> &'static str {
    if state.config.cookie_secure {
        SECURE_COOKIE_NAME
    } else {
        PLAIN_COOKIE_NAME
    }
}

/// The `Set-Cookie` value holding `token` for `max_age_secs` (0 removes it): `Secure`
/// with the `__Host-` prefix (which requires `Path=/`), else scoped to `/console`.
fn session_cookie(state: &AppState, token: &str, max_age_secs: i64) -> HeaderValue {
    let name = cookie_name(state);
    let scope = if state.config.cookie_secure {
        "Path=/; Secure"
    } else {
        "Path=/console"
    };
    let value =
        format!("{name}={token}; {scope}; HttpOnly; SameSite=Strict; Max-Age={max_age_secs}");
    HeaderValue::from_str(&value).unwrap_or_else(|_| HeaderValue::from_static("patron_console="))
}

/// Headers every console answer carries: no caching of customer data, no framing, no
/// script or style from anywhere but the console itself.
async fn page_headers(request: axum::extract::Request, next: Next) -> Response {
    let mut response = next.run(request).await;
    let headers = response.headers_mut();
    let is_asset = headers
        .get(CONTENT_TYPE)
        .and_then(|value| value.to_str().ok())
        .is_some_and(|value| value.starts_with("text/css") || value.contains("javascript"));
    if !is_asset {
        headers.insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
    }
    headers.insert(
        "content-security-policy",
        HeaderValue::from_static(
            "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; \
             form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
        ),
    );
    headers.insert("x-frame-options", HeaderValue::from_static("DENY"));
    headers.insert("referrer-policy", HeaderValue::from_static("same-origin"));
    headers.insert(
        "x-content-type-options",
        HeaderValue::from_static("nosniff"),
    );
    response
}

/// `/console/`: the application picker when signed in, else the sign-in page.
async fn home(State(state): State<AppState>, headers: HeaderMap) -> Response {
    match session_in(&state, &headers) {
        Some(token) if matches!(state.services.tokens.operator(&token).await, Ok(Some(_))) => {
            redirect("/console/apps")
        }
        _ => redirect("/console/sign-in"),
    }
}

#[derive(Serialize)]
struct SignInPage {
    client_id: String,
}

async fn sign_in_page() -> Result<Response, ConsoleError> {
    page(
        "sign_in.html",
        &SignInPage {
            client_id: String::new(),
        },
        Notice::None,
    )
}

/// Signs an operator in with a platform client's id and secret.
async fn sign_in(State(state): State<AppState>, request: axum::extract::Request) -> Response {
    let (parts, body) = request.into_parts();
    if let Err(error) = refuse_cross_site(&state, &parts) {
        return error.into_response();
    }
    let request = axum::extract::Request::from_parts(parts.clone(), body);
    let form = match Form::from_request(request, &state).await {
        Ok(form) => form,
        Err(error) => return error.into_response(),
    };
    let client_id = form.get("client_id").unwrap_or_default().trim().to_owned();
    let client_secret = form.get("client_secret").unwrap_or_default();
    let replacing = session_in(&state, &parts.headers);
    match state
        .services
        .tokens
        .sign_in_operator(&client_id, client_secret, replacing.as_deref())
        .await
    {
        Ok(session) => {
            tracing::info!(client_id = %session.client.client_id, "console sign-in");
            let mut response = redirect("/console/apps");
            response.headers_mut().insert(
                SET_COOKIE,
                session_cookie(
                    &state,
                    &session.token,
                    OPERATOR_SESSION_LIFETIME.num_seconds(),
                ),
            );
            response
        }
        Err(ServiceError::Unauthenticated(_)) => {
            let notice = Notice::Error("The client id or secret is not right.".to_owned());
            let mut response = page("sign_in.html", &SignInPage { client_id }, notice)
                .unwrap_or_else(IntoResponse::into_response);
            *response.status_mut() = StatusCode::UNAUTHORIZED;
            response
        }
        Err(error) => ConsoleError::from(error).into_response(),
    }
}

/// Ends the operator's session: its token stops working at once.
async fn sign_out(
    State(state): State<AppState>,
    operator: Operator,
    headers: HeaderMap,
    form: Form,
) -> Result<Response, ConsoleError> {
    operator.check_form(&form)?;
    if let Some(token) = session_in(&state, &headers) {
        state.services.tokens.sign_out(&token).await?;
    }
    let mut response = redirect("/console/sign-in");
    response
        .headers_mut()
        .insert(SET_COOKIE, session_cookie(&state, "", 0));
    Ok(response)
}

#[derive(Serialize)]
struct ApplicationsPage {
    frame: views::Frame,
    applications: Vec<views::AppLink>,
}

/// The operator's company's applications.
async fn applications(
    State(state): State<AppState>,
    operator: Operator,
) -> Result<Response, ConsoleError> {
    let applications = state
        .services
        .applications
        .of_company(&operator.company_id)
        .await?;
    let frame = views::Frame {
        company_id: operator.company_id.to_string(),
        client_id: operator.client_id.clone(),
        application: None,
        section: "applications",
        form_token: operator.form_token.clone(),
    };
    page(
        "applications.html",
        &ApplicationsPage {
            frame,
            applications: applications.iter().map(views::AppLink::from).collect(),
        },
        Notice::None,
    )
}

#[cfg(test)]
mod tests {
    use super::same_origin;

    #[test]
    fn a_form_comes_from_the_console_when_its_origin_is_the_address_it_was_sent_to() {
        let host = Some("console.example.com:8443");
        let from = |origin| same_origin(origin, host, None, true);
        assert!(from(Some("https://console.example.com:8443")));
        assert!(from(Some("https://CONSOLE.example.com:8443/")));
        assert!(!from(Some("http://console.example.com:8443")), "plain http");
        assert!(!from(Some("https://evil.example")));
        assert!(!from(Some("https://console.example.com")));
        assert!(!from(Some("null")));
        assert!(!from(None));
        let origin = Some("https://console.example.com:8443");
        assert!(!same_origin(origin, None, None, true));
        // Without Secure cookies (development), and on loopback, plain http is the console.
        let plain = Some("http://console.example.com:8443");
        assert!(same_origin(plain, host, None, false));
        for local in ["127.0.0.1:8080", "[::1]:8080", "localhost:8080"] {
            let origin = format!("http://{local}");
            assert!(
                same_origin(Some(&origin), Some(local), None, true),
                "{local}"
            );
        }
    }

    #[test]
    fn behind_a_proxy_the_public_address_is_the_console_origin() {
        let upstream = Some("10.0.0.7:8080");
        let public = Some("https://accounts.example.com/");
        let from = |origin| same_origin(Some(origin), upstream, public, true);
        assert!(from("https://accounts.example.com"));
        assert!(!from("http://accounts.example.com"));
        assert!(!from("https://other.example.com"));
        let with_path = Some("https://accounts.example.com:443/base/path");
        assert!(same_origin(
            Some("https://accounts.example.com"),
            None,
            with_path,
            true
        ));
    }
}
