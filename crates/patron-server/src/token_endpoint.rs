//! `POST /service/panel/authentication/v1.0/company/{company_id}/oauth/token`: platform
//! clients trade their id and secret (HTTP Basic) for bearer tokens.

use axum::extract::{Request, State};
use axum::http::header::AUTHORIZATION;
use axum::http::HeaderMap;
use axum::Json;
use base64::Engine;
use patron_domain::ids::CompanyId;
use patron_store::ApiClient;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::app::AppState;
use crate::error::ApiError;
use crate::extract::body_bytes;
use crate::extract::PathParams;
use crate::wire::path::CompanyPath;
use crate::wire::token::{TokenForm, TokenOut};

pub(crate) fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(token))
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
    company_id: &str,
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
    let company = CompanyId::parse(company_id)?;
    Ok(state
        .services
        .tokens
        .authenticate_client(&company, client_id, client_secret)
        .await?)
}

fn oauth_error(error: &'static str, message: &str) -> ApiError {
    ApiError::OAuth {
        error,
        message: message.to_owned(),
    }
}
