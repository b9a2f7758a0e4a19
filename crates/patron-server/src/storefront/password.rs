//! Password sign-in and password changes: `loginWithEmailAndPassword`, `hasPassword`,
//! `updatePassword`.

use std::net::SocketAddr;

use axum::extract::{ConnectInfo, State};
use axum::http::HeaderMap;
use axum::routing::{get, post};
use axum::{Json, Router};
use patron_domain::email::Email;
use patron_domain::password::{LockoutPolicy, PasswordPolicy};
use patron_domain::phone::Phone;
use patron_domain::time::to_wire;
use patron_store::{Actor, Application, AttemptClaim, PasswordChange};
use serde::Deserialize;
use serde_json::{json, Value};

use super::session::customer_actor;
use super::{Shopper, Storefront};
use crate::app::AppState;
use crate::auth_config;
use crate::error::{ApiError, ErrorCode};
use crate::extract::JsonBody;
use crate::sessions::{self, Origin};
use crate::wire::customer::login_success;

pub(super) fn router() -> Router<AppState> {
    Router::new()
        .route("/authentication/v1.0/login/password", post(login))
        .route("/authentication/v1.0/has-password", get(has_password))
        .route("/authentication/v1.0/password", post(update_password))
}

/// `PasswordLoginRequestSchema`: `username` is an email or a phone number.
#[derive(Debug, Deserialize)]
struct LoginBody {
    username: Option<String>,
    password: Option<String>,
}

/// The one answer for an unknown customer and a wrong password alike.
fn invalid_credentials() -> ApiError {
    ApiError::Rule {
        code: ErrorCode::InvalidCredentials,
        message: "the email, phone number or password is wrong".to_owned(),
    }
}

async fn login(
    State(state): State<AppState>,
    Storefront { application }: Storefront,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    JsonBody(body): JsonBody<LoginBody>,
) -> Result<(HeaderMap, Json<Value>), ApiError> {
    let username = body
        .username
        .as_deref()
        .map(str::trim)
        .filter(|u| !u.is_empty())
        .ok_or_else(|| ApiError::required("username"))?;
    let password = body
        .password
        .filter(|p| !p.is_empty())
        .ok_or_else(|| ApiError::required("password"))?;
    let config = auth_config::load(&state, &application).await?.config;
    if !config.password_login_enabled() {
        return Err(ApiError::Rule {
            code: ErrorCode::PasswordLoginDisabled,
            message: "password sign-in is turned off for this store".to_owned(),
        });
    }
    let record = find_login(&state, &application, username).await?;
    let Some(record) = record else {
        state.passwords.verify(password, None).await?;
        return Err(invalid_credentials());
    };
    let customer_id = record.customer.id.clone();
    let lockout = LockoutPolicy::from_config(&config);
    let now = state.clock.now();
    if let AttemptClaim::Locked { until } = state
        .stores
        .credentials
        .claim_login_attempt(&customer_id, lockout.attempts, lockout.duration, now)
        .await?
    {
        return Err(ApiError::Locked {
            message: format!(
                "too many failed attempts: try again after {}",
                to_wire(until)
            ),
            retry_after: until,
        });
    }
    if !state
        .passwords
        .verify(password, record.password_hash.clone())
        .await?
    {
        return Err(invalid_credentials());
    }
    state
        .stores
        .credentials
        .reset_login_failures(&customer_id)
        .await?;
    if !record.customer.active {
        return Err(ApiError::Denied {
            code: ErrorCode::UserBlocked,
            message: "this account is blocked".to_owned(),
        });
    }
    let policy = PasswordPolicy::from_config(&config);
    if record
        .password_changed_at
        .is_some_and(|changed| policy.is_expired(changed, now))
    {
        return Err(ApiError::Denied {
            code: ErrorCode::PasswordExpired,
            message: "the password has expired: reset it to sign in".to_owned(),
        });
    }
    let lifetime = config.session().lifetime;
    let response_headers = sessions::sign_in(
        &state,
        &application,
        &customer_id,
        Origin::of_request(&headers, Some(peer)),
        lifetime,
    )
    .await?;
    Ok((response_headers, Json(login_success(record.customer))))
}

/// Looks a sign-in name up as an email, or as a phone number with or without country code.
async fn find_login(
    state: &AppState,
    application: &Application,
    username: &str,
) -> Result<Option<patron_store::LoginRecord>, ApiError> {
    let (email, phone) = if username.contains('@') {
        (Email::parse("username", username).ok(), None)
    } else {
        (
            None,
            Phone::parse("username", username, None, application.default_region).ok(),
        )
    };
    if email.is_none() && phone.is_none() {
        return Ok(None);
    }
    Ok(state
        .stores
        .credentials
        .find_login(&application.id, email.as_ref(), phone.as_ref())
        .await?)
}

async fn has_password(
    State(state): State<AppState>,
    shopper: Shopper,
) -> Result<(HeaderMap, Json<Value>), ApiError> {
    let hashes = state
        .stores
        .credentials
        .password_hashes(&shopper.current.customer.id, 0)
        .await?;
    Ok((
        shopper.response_headers(),
        Json(json!({ "result": i32::from(!hashes.is_empty()) })),
    ))
}

/// `UpdatePasswordRequestSchema`.
#[derive(Debug, Deserialize)]
struct UpdatePasswordBody {
    old_password: Option<String>,
    new_password: Option<String>,
}

async fn update_password(
    State(state): State<AppState>,
    shopper: Shopper,
    JsonBody(body): JsonBody<UpdatePasswordBody>,
) -> Result<(HeaderMap, Json<Value>), ApiError> {
    let new_password = body
        .new_password
        .filter(|p| !p.is_empty())
        .ok_or_else(|| ApiError::required("new_password"))?;
    let config = auth_config::load(&state, &shopper.application)
        .await?
        .config;
    let policy = PasswordPolicy::from_config(&config);
    policy.check(&new_password).map_err(|error| match error {
        patron_domain::DomainError::InvalidField { message, .. } => {
            ApiError::validation("new_password", message)
        }
        other => other.into(),
    })?;
    let customer_id = &shopper.current.customer.id;
    let hashes = state
        .stores
        .credentials
        .password_hashes(customer_id, policy.history)
        .await?;
    if let Some(current) = hashes.first() {
        let old_password = body.old_password.unwrap_or_default();
        if !state
            .passwords
            .verify(old_password, Some(current.clone()))
            .await?
        {
            return Err(ApiError::validation("old_password", "is wrong"));
        }
    }
    ensure_not_reused(&state, &new_password, &hashes, policy.history).await?;
    let hash = state.passwords.hash(new_password).await?;
    let actor = Actor::new(customer_actor(customer_id))
        .with_reason("password changed by the customer", None);
    let change = PasswordChange {
        password_hash: &hash,
        history_limit: policy.history,
        keep_session: Some(&shopper.current.session.id),
    };
    state
        .stores
        .credentials
        .set_password(
            &shopper.application.id,
            customer_id,
            &change,
            &actor,
            state.clock.now(),
        )
        .await?;
    Ok((
        shopper.response_headers(),
        Json(json!({ "message": "success" })),
    ))
}

/// Refuses a password equal to the current one or one of the last `history` ones (when
/// the configuration keeps a history).
pub(super) async fn ensure_not_reused(
    state: &AppState,
    password: &str,
    hashes: &[String],
    history: usize,
) -> Result<(), ApiError> {
    if history == 0 {
        return Ok(());
    }
    for hash in hashes.iter().take(history + 1) {
        if state
            .passwords
            .verify(password.to_owned(), Some(hash.clone()))
            .await?
        {
            return Err(ApiError::validation(
                "new_password",
                format!("must differ from the last {history} passwords"),
            ));
        }
    }
    Ok(())
}
