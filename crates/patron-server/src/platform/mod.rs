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

use axum::extract::FromRequestParts;
use axum::http::header::AUTHORIZATION;
use axum::http::request::Parts;
use axum::Extension;
use patron_domain::ids::{CompanyId, ObjectId};
use patron_domain::scope::Scope;
use patron_store::Application;

use utoipa::openapi::security::SecurityRequirement;
use utoipa_axum::router::{OpenApiRouter, UtoipaMethodRouter};

use crate::app::AppState;
use crate::error::{ApiError, ErrorCode};
use crate::extract::PathParams;
use crate::wire::path::ApplicationPath;

/// Where the platform API's routes are nested.
const PREFIX: &str =
    "/service/platform/user/v1.0/company/{company_id}/application/{application_id}";

/// The routes of the platform API.
pub(crate) fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().nest(
        PREFIX,
        customers::router()
            .merge(auth_config::router())
            .merge(sessions::router())
            .merge(attributes::router())
            .merge(attribute_filter::router())
            .merge(groups::router())
            .merge(jobs::router()),
    )
}

/// The scope a route needs, stated once where the route is declared: the [`Platform`]
/// guard enforces it and the OpenAPI document shows it, so the two cannot disagree.
#[derive(Debug, Clone, Copy)]
struct RouteScope(Scope);

/// `routes` guarded by `scope`: every operation is documented as needing it, and the
/// [`Platform`] extractor of its handlers refuses a token without it.
pub(crate) fn scoped(
    scope: Scope,
    (schemas, mut paths, method_router): UtoipaMethodRouter<AppState>,
) -> UtoipaMethodRouter<AppState> {
    let requirement = SecurityRequirement::new("platform", [scope.as_str()]);
    for item in paths.paths.values_mut() {
        for operation in [
            &mut item.get,
            &mut item.put,
            &mut item.post,
            &mut item.delete,
            &mut item.patch,
        ]
        .into_iter()
        .flatten()
        {
            operation.security = Some(vec![requirement.clone()]);
        }
    }
    (
        schemas,
        paths,
        method_router.layer(Extension(RouteScope(scope))),
    )
}

/// An authenticated, authorised platform caller, for the application in the path. Checks,
/// in this order: a valid unexpired bearer token (401); the token's company is the path's
/// (403); the application exists in that company (404); the token holds the route's scope
/// (403; a route declared without [`scoped`] admits no token).
pub(crate) struct Platform {
    /// The client the token was issued to (the audit trail's actor).
    pub(crate) client_id: String,
    /// The application addressed.
    pub(crate) application: Application,
}

impl Platform {
    /// The caller as the author of a job or bulk change.
    pub(crate) fn requester(&self) -> patron_service::Requester<'_> {
        patron_service::Requester {
            application: &self.application,
            client_id: &self.client_id,
        }
    }
}

impl FromRequestParts<AppState> for Platform {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let RouteScope(scope) = parts
            .extensions
            .get::<RouteScope>()
            .copied()
            .ok_or_else(|| {
                ApiError::Internal("a platform route was declared without its scope".to_owned())
            })?;
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
        let PathParams(path) =
            PathParams::<ApplicationPath>::from_request_parts(parts, state).await?;
        let company = CompanyId::parse(&path.company_id)?;
        if company != grant.company_id {
            return Err(ApiError::Forbidden(format!(
                "the access token is not valid for company {company}"
            )));
        }
        let application_id = ObjectId::parse("application_id", &path.application_id)?;
        let application = state
            .application(&application_id)
            .await?
            .filter(|application| application.company_id == company)
            .ok_or_else(|| ApiError::NotFound {
                code: ErrorCode::ApplicationNotFound,
                message: format!("application {application_id} not found in company {company}"),
            })?;
        if !grant.scopes.contains(&scope) {
            return Err(ApiError::Forbidden(format!(
                "the access token lacks the scope {scope}"
            )));
        }
        Ok(Self {
            client_id: grant.client_id,
            application,
        })
    }
}

fn bearer_token(parts: &Parts) -> Option<&str> {
    let value = parts.headers.get(AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.split_once(' ')?;
    let token = token.trim();
    (scheme.eq_ignore_ascii_case("bearer") && !token.is_empty()).then_some(token)
}
