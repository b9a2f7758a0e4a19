//! `POST /service/panel/authentication/v1.0/company/{company_id}/oauth/token`: platform
//! clients trade their id and secret (HTTP Basic) for bearer tokens.

use axum::extract::{Path, Request, State};
use axum::http::header::AUTHORIZATION;
use axum::http::HeaderMap;
use axum::routing::post;
use axum::{Json, Router};
use base64::Engine;
use chrono::Duration;
use patron_domain::ids::CompanyId;
use patron_domain::scope::Scope;
use patron_domain::secret;
use patron_store::{ApiClient, TokenGrant, TokenKind};
use serde::Deserialize;
use serde_json::{json, Value};

use crate::app::AppState;
use crate::error::ApiError;
use crate::extract::body_bytes;

pub(crate) fn router() -> Router<AppState> {
    Router::new().route(
        "/service/panel/authentication/v1.0/company/{company_id}/oauth/token",
        post(token),
    )
}

/// The form fields of a token request.
#[derive(Debug, Deserialize)]
struct TokenForm {
    grant_type: Option<String>,
    scope: Option<String>,
    refresh_token: Option<String>,
}

async fn token(
    State(state): State<AppState>,
    Path(company_id): Path<String>,
    request: Request,
) -> Result<Json<Value>, ApiError> {
    let client = authenticate_client(&state, request.headers(), &company_id).await?;
    let bytes = body_bytes(request, &state).await?;
    let form: TokenForm = serde_urlencoded::from_bytes(&bytes).map_err(|error| {
        ApiError::MalformedBody(format!("token request must be form-encoded: {error}"))
    })?;
    let now = state.clock.now();
    let scopes = match form.grant_type.as_deref().map(str::trim) {
        Some("client_credentials") => granted_scopes(&client, form.scope.as_deref())?,
        Some("refresh_token") => {
            let refresh = form
                .refresh_token
                .as_deref()
                .filter(|token| !token.is_empty())
                .ok_or_else(|| oauth_error("invalid_request", "refresh_token is required"))?;
            let (grants, issued) = issue(&state, &client, None, now);
            let consumed = state
                .stores
                .tokens
                .rotate_refresh_token(&secret::digest(refresh), &client.client_id, &grants, now)
                .await?
                .ok_or_else(|| {
                    oauth_error(
                        "invalid_grant",
                        "the refresh token is invalid, expired or already used",
                    )
                })?;
            return Ok(Json(token_response(&state, issued, &consumed.scopes)));
        }
        Some(other) => {
            return Err(oauth_error(
                "unsupported_grant_type",
                &format!("grant_type '{other}' is not supported"),
            ))
        }
        None => return Err(oauth_error("invalid_request", "grant_type is required")),
    };
    let (grants, issued) = issue(&state, &client, Some(&scopes), now);
    state.stores.tokens.insert_tokens(&grants).await?;
    Ok(Json(token_response(&state, issued, &scopes)))
}

/// Checks HTTP Basic credentials against the stored secret digest, in constant time.
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
    let client = state.stores.clients.find_client(client_id).await?;
    // Hash even for unknown clients so both failures take the same time.
    let expected = client.as_ref().map_or_else(
        || secret::digest("unknown-client"),
        |c| c.secret_digest.clone(),
    );
    let secret_ok = secret::matches(client_secret, &expected);
    match client {
        Some(client) if secret_ok && client.company_id == company => Ok(client),
        _ => Err(invalid()),
    }
}

/// The client's scopes, narrowed to those requested (comma- or space-separated).
fn granted_scopes(client: &ApiClient, requested: Option<&str>) -> Result<Vec<Scope>, ApiError> {
    let Some(requested) = requested.filter(|r| !r.trim().is_empty()) else {
        return Ok(client.scopes.clone());
    };
    let requested = Scope::parse_list(requested)
        .map_err(|error| oauth_error("invalid_scope", &error.to_string()))?;
    if let Some(missing) = requested
        .iter()
        .find(|scope| !client.scopes.contains(scope))
    {
        return Err(oauth_error(
            "invalid_scope",
            &format!("the client may not be granted {missing}"),
        ));
    }
    Ok(requested)
}

/// Fresh access and refresh tokens: the grants to store and the plain tokens to answer.
/// With `scopes` `None` (a refresh), the scopes are those of the consumed refresh token,
/// which the store fills in when it rotates.
fn issue(
    state: &AppState,
    client: &ApiClient,
    scopes: Option<&[Scope]>,
    now: chrono::DateTime<chrono::Utc>,
) -> (Vec<TokenGrant>, IssuedTokens) {
    let access = secret::generate_secret();
    let refresh = secret::generate_secret();
    let grant = |token: &str, kind, ttl: u64| TokenGrant {
        digest: secret::digest(token),
        kind,
        client_id: client.client_id.clone(),
        company_id: client.company_id.clone(),
        scopes: scopes.map_or_else(Vec::new, <[Scope]>::to_vec),
        created_at: now,
        expires_at: now + Duration::seconds(i64::try_from(ttl).unwrap_or(i64::MAX / 1000)),
    };
    let grants = vec![
        grant(
            &access,
            TokenKind::Access,
            state.config.access_token_ttl_secs,
        ),
        grant(
            &refresh,
            TokenKind::Refresh,
            state.config.refresh_token_ttl_secs,
        ),
    ];
    (grants, IssuedTokens { access, refresh })
}

struct IssuedTokens {
    access: String,
    refresh: String,
}

fn token_response(state: &AppState, issued: IssuedTokens, scopes: &[Scope]) -> Value {
    json!({
        "access_token": issued.access,
        "token_type": "Bearer",
        "expires_in": state.config.access_token_ttl_secs,
        "refresh_token": issued.refresh,
        "scope": scopes.iter().map(Scope::as_str).collect::<Vec<_>>(),
    })
}

fn oauth_error(error: &'static str, message: &str) -> ApiError {
    ApiError::OAuth {
        error,
        message: message.to_owned(),
    }
}
