//! Seed operations 26–29: administrators mint, list and end a customer's storefront sessions;
//! and Patron's own `POST …/customers/{user_id}/login_token` (a single-use sign-in token for
//! the storefront's `loginWithToken`).

use std::collections::BTreeMap;

use axum::extract::State;
use axum::Json;
use chrono::Duration;
use patron_domain::customer::validate_text;
use patron_domain::ids::ObjectId;
use patron_store::Actor;

use super::{scoped, Platform};
use crate::app::AppState;
use crate::cookies::COOKIE_NAME;
use crate::error::{ApiError, ErrorBody as ErrorSchema};
use crate::extract::PathParams;
use crate::extract::{JsonBody, QueryPairs};
use crate::wire::path::UserPath;
use crate::wire::session::{
    CreateSessionBody, EndedSessionOut, EndedSessionsOut, LoginTokenOut, MintedSessionOut,
    SessionOut, SessionsOut,
};
use patron_domain::scope::Scope;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

/// Longest session an administrator may mint: one year.
const MAX_AGE_LIMIT_SECS: i64 = 365 * 24 * 3600;

pub(super) fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(scoped(Scope::CustomersWrite, routes!(create, end_one)))
        .routes(scoped(Scope::CustomersRead, routes!(list)))
        .routes(scoped(Scope::CustomersWrite, routes!(end_all)))
        .routes(scoped(Scope::CustomersWrite, routes!(login_token)))
}

#[utoipa::path(
    post,
    path = "/customers/session",
    operation_id = "createUserSession",
    tag = "sessions",
    summary = "Starts a storefront session for a customer (for a server that signed them in elsewhere).",
    request_body = CreateSessionBody,
    params(
        crate::openapi::ApplicationPath,
    ),
    responses(
        (status = 200, description = "The session and its cookie.", body = MintedSessionOut),
        (status = 404, description = "No such customer.", body = ErrorSchema),
        crate::openapi::PlatformErrors,
    )
)]
pub(crate) async fn create(
    State(state): State<AppState>,
    caller: Platform,
    JsonBody(body): JsonBody<CreateSessionBody>,
) -> Result<Json<MintedSessionOut>, ApiError> {
    let domain = required("domain", body.domain.as_deref())?;
    let user_id = ObjectId::parse(
        "user_id",
        body.user_id
            .as_deref()
            .ok_or_else(|| ApiError::required("user_id"))?,
    )?;
    let lifetime = match body.max_age {
        Some(seconds)
            if seconds.fract() == 0.0 && (1.0..=MAX_AGE_LIMIT_SECS as f64).contains(&seconds) =>
        {
            Some(Duration::seconds(seconds as i64))
        }
        Some(_) => {
            return Err(ApiError::validation(
                "max_age",
                format!("must be a whole number of seconds from 1 to {MAX_AGE_LIMIT_SECS}"),
            ))
        }
        None => None,
    };
    let session = state
        .services
        .sessions
        .start_for_administrator(
            &caller.application,
            &user_id,
            domain.clone(),
            lifetime,
            &Actor::new(&caller.client_id).with_reason("session minted by an administrator", None),
        )
        .await?;
    Ok(Json(MintedSessionOut {
        domain,
        max_age: session.lifetime.num_seconds(),
        secure: state.config.cookie_secure,
        http_only: true,
        cookie: BTreeMap::from([(COOKIE_NAME, session.token)]),
    }))
}

#[utoipa::path(
    post,
    path = "/customers/{user_id}/login_token",
    operation_id = "createLoginToken",
    tag = "sessions",
    summary = "Issues a single-use sign-in token for a customer (Patron).",
    params(
        crate::openapi::ApplicationPath,
        UserPath,
    ),
    responses(
        (status = 200, description = "The token.", body = LoginTokenOut),
        (status = 404, description = "No such customer.", body = ErrorSchema),
        crate::openapi::PlatformErrors,
    )
)]
/// Patron's extension: a single-use sign-in token (5 minutes) for a live, active customer,
/// audited; the storefront spends it with `loginWithToken`.
pub(crate) async fn login_token(
    State(state): State<AppState>,
    caller: Platform,
    PathParams(UserPath { user_id }): PathParams<UserPath>,
) -> Result<Json<LoginTokenOut>, ApiError> {
    let actor = Actor::new(&caller.client_id).with_reason("sign-in token minted", None);
    let (token, lifetime) = state
        .services
        .login_tokens
        .mint(&caller.application, &user_id, &actor)
        .await?;
    Ok(Json(LoginTokenOut {
        token,
        expires_in: lifetime.num_seconds(),
    }))
}

#[utoipa::path(
    get,
    path = "/customers/sessions",
    operation_id = "getActiveSessions",
    tag = "sessions",
    summary = "Lists a customer's live sessions.",
    params(
        crate::openapi::ApplicationPath,
        ("id" = String, Query, description = "The customer's id."),
    ),
    responses(
        (status = 200, description = "The sessions.", body = SessionsOut),
        (status = 404, description = "No such customer.", body = ErrorSchema),
        crate::openapi::PlatformErrors,
    )
)]
pub(crate) async fn list(
    State(state): State<AppState>,
    caller: Platform,
    query: QueryPairs,
) -> Result<Json<SessionsOut>, ApiError> {
    let user_id = required_id(&query, "id")?;
    let sessions = state
        .services
        .sessions
        .list(&caller.application.id, &user_id)
        .await?;
    let items = sessions.iter().map(SessionOut::from).collect();
    Ok(Json(SessionsOut { items }))
}

#[utoipa::path(
    delete,
    path = "/customers/session",
    operation_id = "deleteSession",
    tag = "sessions",
    summary = "Ends one of a customer's sessions, with a reason.",
    params(
        crate::openapi::ApplicationPath,
        ("id" = String, Query, description = "The customer's id."),
        ("session_id" = String, Query, description = "The session's id."),
        ("reason" = String, Query, description = "Why."),
    ),
    responses(
        (status = 200, description = "The session ended.", body = EndedSessionOut),
        (status = 404, description = "No such customer.", body = ErrorSchema),
        crate::openapi::PlatformErrors,
    )
)]
pub(crate) async fn end_one(
    State(state): State<AppState>,
    caller: Platform,
    query: QueryPairs,
) -> Result<Json<EndedSessionOut>, ApiError> {
    let user_id = required_id(&query, "id")?;
    let session_id = required_id(&query, "session_id")?;
    let reason = required("reason", query.get("reason"))?;
    let actor = Actor::new(&caller.client_id).with_reason(reason, None);
    state
        .services
        .sessions
        .end(&caller.application.id, &user_id, &session_id, &actor)
        .await?;
    Ok(Json(EndedSessionOut {
        user_id: user_id.to_string(),
        session_id: session_id.to_string(),
    }))
}

#[utoipa::path(
    delete,
    path = "/customers/sessions",
    operation_id = "deleteActiveSessions",
    tag = "sessions",
    summary = "Ends every session of a customer, with a reason.",
    params(
        crate::openapi::ApplicationPath,
        ("id" = String, Query, description = "The customer's id."),
        ("reason" = String, Query, description = "Why."),
    ),
    responses(
        (status = 200, description = "The sessions ended.", body = EndedSessionsOut),
        (status = 404, description = "No such customer.", body = ErrorSchema),
        crate::openapi::PlatformErrors,
    )
)]
pub(crate) async fn end_all(
    State(state): State<AppState>,
    caller: Platform,
    query: QueryPairs,
) -> Result<Json<EndedSessionsOut>, ApiError> {
    let user_id = required_id(&query, "id")?;
    let reason = required("reason", query.get("reason"))?;
    let actor = Actor::new(&caller.client_id).with_reason(reason, None);
    let ended = state
        .services
        .sessions
        .end_all(&caller.application.id, &user_id, &actor)
        .await?;
    Ok(Json(EndedSessionsOut {
        user_id: user_id.to_string(),
        session_ids: ended.iter().map(ToString::to_string).collect(),
    }))
}

/// A required id from the query string.
fn required_id(query: &QueryPairs, field: &str) -> Result<ObjectId, ApiError> {
    Ok(ObjectId::parse(
        field,
        query.get(field).ok_or_else(|| ApiError::required(field))?,
    )?)
}

fn required(field: &str, value: Option<&str>) -> Result<String, ApiError> {
    let value = value
        .map(str::trim)
        .filter(|v| !v.is_empty())
        .ok_or_else(|| ApiError::required(field))?;
    Ok(validate_text(field, value)?)
}
