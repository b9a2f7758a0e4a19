//! The platform (admin) API under
//! `/service/platform/user/v1.0/company/{company_id}/application/{application_id}/…`, and the
//! guard every route of it passes first.

pub(crate) mod attribute_filter;
pub(crate) mod attributes;
pub(crate) mod auth_config;
pub(crate) mod customers;
pub(crate) mod groups;
pub(crate) mod jobs;
pub(crate) mod sessions;

use std::marker::PhantomData;

use axum::extract::{FromRequestParts, RawPathParams};
use axum::http::header::AUTHORIZATION;
use axum::http::request::Parts;
use axum::Router;
use patron_domain::csv_list::{self, ListFormat, ParsedList};
use patron_domain::ids::{CompanyId, ObjectId};
use patron_domain::phone::Region;
use patron_domain::scope::Scope;
use patron_store::Application;

use crate::app::AppState;
use crate::error::{ApiError, ErrorCode};

/// The routes of the platform API.
pub(crate) fn router() -> Router<AppState> {
    Router::new().nest(
        "/service/platform/user/v1.0/company/{company_id}/application/{application_id}",
        customers::router()
            .merge(auth_config::router())
            .merge(sessions::router())
            .merge(attributes::router())
            .merge(attribute_filter::router())
            .merge(groups::router())
            .merge(jobs::router()),
    )
}

/// The scope an operation needs, as a type so the guard can be the first extractor.
pub(crate) trait RequiredScope: Send + Sync + 'static {
    /// The scope.
    const SCOPE: Scope;
}

/// Operations that need `application/customers/read`.
pub(crate) struct CustomersRead;
impl RequiredScope for CustomersRead {
    const SCOPE: Scope = Scope::CustomersRead;
}

/// Operations that need `application/customers/write`.
pub(crate) struct CustomersWrite;
impl RequiredScope for CustomersWrite {
    const SCOPE: Scope = Scope::CustomersWrite;
}

/// Operations that need `company/settings/write`.
pub(crate) struct SettingsWrite;
impl RequiredScope for SettingsWrite {
    const SCOPE: Scope = Scope::SettingsWrite;
}

/// An authenticated, authorised platform caller, for the application in the path. Checks,
/// in this order: a valid unexpired bearer token (401); the token's company is the path's
/// (403); the application exists in that company (404); the token holds `S::SCOPE` (403).
pub(crate) struct Platform<S> {
    /// The client the token was issued to (the audit trail's actor).
    pub(crate) client_id: String,
    /// The application addressed.
    pub(crate) application: Application,
    scope: PhantomData<S>,
}

impl<S> Platform<S> {
    /// The caller as the author of a job or bulk change.
    pub(crate) fn requester(&self) -> patron_service::Requester<'_> {
        patron_service::Requester {
            application: &self.application,
            client_id: &self.client_id,
        }
    }
}

impl<S: RequiredScope> FromRequestParts<AppState> for Platform<S> {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let token = bearer_token(parts)
            .ok_or_else(|| ApiError::Unauthenticated("a bearer token is required".to_owned()))?;
        let grant = state
            .services
            .tokens
            .access_grant(token)
            .await?
            .ok_or_else(|| {
                ApiError::Unauthenticated("the access token is invalid or expired".to_owned())
            })?;
        let params = RawPathParams::from_request_parts(parts, state)
            .await
            .map_err(|_| ApiError::Internal("platform route without path parameters".to_owned()))?;
        let param = |name: &str| {
            params
                .iter()
                .find(|(key, _)| *key == name)
                .map(|(_, value)| value.to_owned())
        };
        let company = CompanyId::parse(&param("company_id").unwrap_or_default())?;
        if company != grant.company_id {
            return Err(ApiError::Forbidden(format!(
                "the access token is not valid for company {company}"
            )));
        }
        let application_id = ObjectId::parse(
            "application_id",
            &param("application_id").unwrap_or_default(),
        )?;
        let application = state
            .application(&application_id)
            .await?
            .filter(|application| application.company_id == company)
            .ok_or_else(|| ApiError::NotFound {
                code: ErrorCode::ApplicationNotFound,
                message: format!("application {application_id} not found in company {company}"),
            })?;
        if !grant.scopes.contains(&S::SCOPE) {
            return Err(ApiError::Forbidden(format!(
                "the access token lacks the scope {}",
                S::SCOPE
            )));
        }
        Ok(Self {
            client_id: grant.client_id,
            application,
            scope: PhantomData,
        })
    }
}

/// Parses a request's list of ids: at most `max` (`noun` names them in the error), each
/// error naming the item's index.
pub(crate) fn id_list(
    field: &str,
    raw: &[String],
    max: usize,
    noun: &str,
) -> Result<Vec<ObjectId>, ApiError> {
    if raw.len() > max {
        return Err(ApiError::validation(
            field,
            format!("may name at most {max} {noun}"),
        ));
    }
    raw.iter()
        .enumerate()
        .map(|(index, id)| {
            ObjectId::parse(&format!("{field}[{index}]"), id.trim()).map_err(ApiError::from)
        })
        .collect()
}

/// Downloads the CSV list at `url` (named by request field `field`) and parses it on the
/// blocking pool, so a large file does not hold up the requests sharing its worker thread.
pub(crate) async fn fetch_list(
    state: &AppState,
    field: &str,
    url: &str,
    format: ListFormat,
    region: Region,
) -> Result<ParsedList, ApiError> {
    let bytes = state
        .fetcher
        .fetch(url)
        .await
        .map_err(|error| error.to_api_error(field))?;
    tokio::task::spawn_blocking(move || csv_list::parse(&bytes, format, region))
        .await
        .map_err(|error| ApiError::Internal(format!("parsing {field}: {error}")))?
        .map_err(|error| ApiError::validation(field, error.to_string()))
}

fn bearer_token(parts: &Parts) -> Option<&str> {
    let value = parts.headers.get(AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.split_once(' ')?;
    let token = token.trim();
    (scheme.eq_ignore_ascii_case("bearer") && !token.is_empty()).then_some(token)
}
