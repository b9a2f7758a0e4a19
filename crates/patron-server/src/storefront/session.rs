//! `getLoggedInUser`, `getListOfActiveSessions` and `logout`.

use axum::extract::State;
use axum::http::HeaderMap;
use axum::routing::get;
use axum::{Json, Router};
use patron_store::Actor;
use serde_json::{json, Value};

use super::Shopper;
use crate::app::AppState;
use crate::error::ApiError;
use crate::service::customer_actor;
use crate::sessions;
use crate::wire::customer::CustomerOut;

pub(super) fn router() -> Router<AppState> {
    Router::new()
        .route("/authentication/v1.0/session", get(logged_in_user))
        .route("/authentication/v1.0/sessions", get(active_sessions))
        .route("/authentication/v1.0/logout", get(logout))
}

async fn logged_in_user(shopper: Shopper) -> (HeaderMap, Json<Value>) {
    let headers = shopper.response_headers();
    (
        headers,
        Json(json!({ "user": CustomerOut::from(shopper.current.customer) })),
    )
}

async fn active_sessions(
    State(state): State<AppState>,
    shopper: Shopper,
) -> Result<(HeaderMap, Json<Value>), ApiError> {
    let sessions = state
        .services
        .sessions
        .list(&shopper.application.id, &shopper.current.customer.id)
        .await?;
    let ids: Vec<&str> = sessions.iter().map(|session| session.id.as_str()).collect();
    Ok((shopper.response_headers(), Json(json!({ "sessions": ids }))))
}

async fn logout(
    State(state): State<AppState>,
    shopper: Shopper,
) -> Result<(HeaderMap, Json<Value>), ApiError> {
    let current = &shopper.current;
    let actor = Actor::new(customer_actor(&current.customer.id)).with_reason("logout", None);
    state
        .services
        .sessions
        .end(
            &shopper.application.id,
            &current.customer.id,
            &current.session.id,
            &actor,
        )
        .await?;
    let mut headers = HeaderMap::new();
    sessions::set_cookie(&mut headers, sessions::expired_cookie(&state));
    Ok((headers, Json(json!({ "logout": true }))))
}
