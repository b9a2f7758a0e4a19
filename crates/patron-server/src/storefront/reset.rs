//! Password reset by email link: `sendResetPasswordEmail`, `sendResetToken`,
//! `forgotPassword` (resets and signs in) and `resetForgotPassword` (resets only).

use std::net::SocketAddr;

use axum::extract::{ConnectInfo, State};
use axum::http::HeaderMap;
use axum::routing::post;
use axum::{Json, Router};
use chrono::Duration;
use patron_domain::email::Email;
use patron_domain::notification::Channel;
use patron_domain::password::PasswordPolicy;
use patron_domain::secret;
use patron_store::{Actor, Application, PasswordChange};
use serde::Deserialize;
use serde_json::{json, Value};

use super::password::ensure_not_reused;
use super::Storefront;
use crate::app::AppState;
use crate::auth_config;
use crate::error::{ApiError, ErrorCode};
use crate::extract::JsonBody;
use crate::notify;
use crate::sessions::{self, Origin};
use crate::wire::customer::login_success;

/// How long a reset code stays valid.
const CODE_LIFETIME: Duration = Duration::minutes(30);

pub(super) fn router() -> Router<AppState> {
    Router::new()
        .route(
            "/authentication/v1.0/login/password/reset",
            post(send_reset_email),
        )
        .route(
            "/authentication/v1.0/login/password/reset/token",
            post(check_code),
        )
        .route(
            "/authentication/v1.0/login/password/reset/forgot",
            post(reset_and_sign_in),
        )
        .route(
            "/authentication/v1.0/login/password/forgot",
            post(reset_only),
        )
}

#[derive(Debug, Deserialize)]
struct EmailBody {
    email: Option<String>,
}

#[derive(Debug, Deserialize)]
struct CodeBody {
    code: Option<String>,
    password: Option<String>,
}

/// Sends a reset link when the email belongs to an active customer, and answers the same
/// either way so the call cannot be used to discover accounts.
async fn send_reset_email(
    State(state): State<AppState>,
    Storefront { application }: Storefront,
    headers: HeaderMap,
    JsonBody(body): JsonBody<EmailBody>,
) -> Result<Json<Value>, ApiError> {
    let config = auth_config::load(&state, &application).await?.config;
    ensure_forgot_password_enabled(config.forgot_password_enabled())?;
    let raw = body
        .email
        .as_deref()
        .map(str::trim)
        .filter(|e| !e.is_empty())
        .ok_or_else(|| ApiError::required("email"))?;
    let email = Email::parse("email", raw)?;
    let found = state
        .stores
        .credentials
        .find_login(&application.id, Some(&email), None)
        .await?;
    if let Some(record) = found.filter(|record| record.customer.active) {
        let code = secret::generate_secret();
        let now = state.clock.now();
        state
            .stores
            .credentials
            .create_reset_code(
                &application.id,
                &record.customer.id,
                &secret::digest(&code),
                now,
                now + CODE_LIFETIME,
            )
            .await?;
        let base = config
            .password_reset_url()
            .map_or_else(|| default_reset_url(&headers), str::to_owned);
        let separator = if base.contains('?') { '&' } else { '?' };
        let data = json!({
            "first_name": record.customer.profile.first_name.clone().unwrap_or_default(),
            "link": format!("{base}{separator}code={code}"),
            "code": code,
            "minutes": CODE_LIFETIME.num_minutes(),
        });
        let data = data.as_object().cloned().unwrap_or_default();
        notify::enqueue(
            &state,
            &application,
            Channel::Email,
            email.as_str(),
            "reset_password",
            data,
        )
        .await?;
    }
    Ok(Json(json!({ "status": "sent" })))
}

/// The storefront's set-password page on the host the request came from.
fn default_reset_url(headers: &HeaderMap) -> String {
    let host = headers
        .get("host")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("localhost");
    format!("https://{host}/auth/set-password")
}

/// Checks a code without using it.
async fn check_code(
    State(state): State<AppState>,
    Storefront { application }: Storefront,
    JsonBody(body): JsonBody<CodeBody>,
) -> Result<Json<Value>, ApiError> {
    let code = required_code(body.code.as_deref())?;
    state
        .stores
        .credentials
        .find_reset_code(&application.id, &secret::digest(code), state.clock.now())
        .await?
        .ok_or_else(invalid_code)?;
    Ok(Json(json!({ "status": "success" })))
}

async fn reset_and_sign_in(
    State(state): State<AppState>,
    Storefront { application }: Storefront,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    JsonBody(body): JsonBody<CodeBody>,
) -> Result<(HeaderMap, Json<Value>), ApiError> {
    let customer_id = reset(&state, &application, body).await?;
    let lifetime = auth_config::load(&state, &application)
        .await?
        .config
        .session()
        .lifetime;
    let response_headers = sessions::sign_in(
        &state,
        &application,
        &customer_id,
        Origin::of_request(&headers, Some(peer)),
        lifetime,
    )
    .await?;
    let customer = state
        .stores
        .customers
        .find_customer(&application.id, &customer_id)
        .await?
        .ok_or_else(invalid_code)?;
    Ok((response_headers, Json(login_success(customer))))
}

async fn reset_only(
    State(state): State<AppState>,
    Storefront { application }: Storefront,
    JsonBody(body): JsonBody<CodeBody>,
) -> Result<Json<Value>, ApiError> {
    reset(&state, &application, body).await?;
    Ok(Json(json!({ "success": true })))
}

/// Validates the new password and spends the code, all sessions ending.
async fn reset(
    state: &AppState,
    application: &Application,
    body: CodeBody,
) -> Result<patron_domain::ids::ObjectId, ApiError> {
    let config = auth_config::load(state, application).await?.config;
    ensure_forgot_password_enabled(config.forgot_password_enabled())?;
    let code = required_code(body.code.as_deref())?;
    let password = body
        .password
        .filter(|p| !p.is_empty())
        .ok_or_else(|| ApiError::required("password"))?;
    let now = state.clock.now();
    let digest = secret::digest(code);
    let customer_id = state
        .stores
        .credentials
        .find_reset_code(&application.id, &digest, now)
        .await?
        .ok_or_else(invalid_code)?;
    let policy = PasswordPolicy::from_config(&config);
    policy.check(&password)?;
    let hashes = state
        .stores
        .credentials
        .password_hashes(&customer_id, policy.history)
        .await?;
    ensure_not_reused(state, &password, &hashes, policy.history)
        .await
        .map_err(|error| match error {
            ApiError::Validation { message, .. } => ApiError::validation("password", message),
            other => other,
        })?;
    let hash = state.passwords.hash(password).await?;
    let change = PasswordChange {
        password_hash: &hash,
        history_limit: policy.history,
        keep_session: None,
    };
    let actor = Actor::new(format!("customer:{customer_id}"))
        .with_reason("password reset by email link", None);
    state
        .stores
        .credentials
        .reset_password(&application.id, &digest, &change, &actor, now)
        .await
        .map_err(ApiError::from)
}

fn required_code(code: Option<&str>) -> Result<&str, ApiError> {
    code.map(str::trim)
        .filter(|c| !c.is_empty())
        .ok_or_else(|| ApiError::required("code"))
}

fn invalid_code() -> ApiError {
    ApiError::Rule {
        code: ErrorCode::InvalidResetCode,
        message: "the reset link is invalid, expired or already used".to_owned(),
    }
}

fn ensure_forgot_password_enabled(enabled: bool) -> Result<(), ApiError> {
    if enabled {
        Ok(())
    } else {
        Err(ApiError::Denied {
            code: ErrorCode::ForgotPasswordDisabled,
            message: "password reset is turned off for this store".to_owned(),
        })
    }
}
