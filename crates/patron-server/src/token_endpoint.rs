//! `POST /service/panel/authentication/v1.0/company/{company_id}/oauth/token`: platform
//! clients trade their id and secret (HTTP Basic) for bearer tokens.

use axum::extract::{Request, State};
use axum::http::header::AUTHORIZATION;
use axum::http::HeaderMap;
use axum::Json;
use base64::Engine;
use patron_domain::ids::CompanyId;
use patron_domain::scope::Scope;
use patron_store::ApiClient;
use serde::{Deserialize, Serialize};

use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::app::AppState;
use crate::error::ApiError;
use crate::extract::body_bytes;
use crate::extract::PathParams;
use crate::wire::path::CompanyPath;
use patron_service::IssuedTokens;

pub(crate) fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(token))
}

/// The form fields of a token request.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub(crate) struct TokenForm {
    /// `client_credentials` or `refresh_token`.
    grant_type: Option<String>,
    /// Space-separated scopes (at most the client's).
    scope: Option<String>,
    /// With `grant_type=refresh_token`.
    refresh_token: Option<String>,
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

/// Issues a platform client's tokens: the client credentials grant (client id and secret
/// as HTTP Basic) or a refresh token's rotation.
#[utoipa::path(
    post,
    path = "/service/panel/authentication/v1.0/company/{company_id}/oauth/token",
    operation_id = "getAccessToken",
    tag = "oauth",
    request_body(content = TokenForm, content_type = "application/x-www-form-urlencoded"),
    params(CompanyPath),
    responses(
        (status = 200, description = "The tokens.", body = TokenOut),
        (status = 400, description = "The grant is invalid (`error` names it).", body = crate::error::ErrorBody),
        (status = 401, description = "The client id or secret is wrong.", body = crate::error::ErrorBody),
    ),
    security(("client" = []))
)]
pub(crate) async fn token(
    State(state): State<AppState>,
    PathParams(CompanyPath { company_id }): PathParams<CompanyPath>,
    request: Request,
) -> Result<Json<TokenOut>, ApiError> {
    let client = authenticate_client(&state, request.headers(), &company_id).await?;
    let bytes = body_bytes(request, &state).await?;
    let form: TokenForm = serde_urlencoded::from_bytes(&bytes).map_err(|error| {
        ApiError::MalformedBody(format!("token request must be form-encoded: {error}"))
    })?;
    let tokens = &state.services.tokens;
    let issued = match form.grant_type.as_deref().map(str::trim) {
        Some("client_credentials") => {
            tokens
                .client_credentials(&client, form.scope.as_deref())
                .await?
        }
        Some("refresh_token") => {
            let refresh = form
                .refresh_token
                .as_deref()
                .filter(|token| !token.is_empty())
                .ok_or_else(|| oauth_error("invalid_request", "refresh_token is required"))?;
            tokens.refresh(&client, refresh).await?
        }
        Some(other) => {
            return Err(oauth_error(
                "unsupported_grant_type",
                &format!("grant_type '{other}' is not supported"),
            ))
        }
        None => return Err(oauth_error("invalid_request", "grant_type is required")),
    };
    Ok(Json(issued.into()))
}

/// Reads the HTTP Basic credentials and has the use case check them.
async fn authenticate_client(
    state: &AppState,
    headers: &HeaderMap,
    company: &CompanyId,
) -> Result<ApiClient, ApiError> {
    let invalid = || ApiError::Unauthenticated("invalid client credentials".to_owned());
    let header = headers
        .get(AUTHORIZATION)
        .and_then(|value| value.to_str().ok())
        .ok_or_else(invalid)?;
    let (scheme, encoded) = header.split_once(' ').ok_or_else(invalid)?;
    if !scheme.eq_ignore_ascii_case("basic") {
        return Err(invalid());
    }
    let decoded = base64::engine::general_purpose::STANDARD
        .decode(encoded.trim())
        .map_err(|_| invalid())?;
    let decoded = String::from_utf8(decoded).map_err(|_| invalid())?;
    let (client_id, client_secret) = decoded.split_once(':').ok_or_else(invalid)?;
    Ok(state
        .services
        .tokens
        .authenticate_client(company, client_id, client_secret)
        .await?)
}

fn oauth_error(error: &'static str, message: &str) -> ApiError {
    ApiError::OAuth {
        error,
        message: message.to_owned(),
    }
}
