//! `getLoggedInUser`, `getListOfActiveSessions` and `logout`.

use axum::extract::State;
use axum::http::HeaderMap;
use axum::routing::get;
use axum::{Json, Router};
use patron_store::Actor;

use super::Shopper;
use crate::app::AppState;
use crate::error::ApiError;
use crate::service::customer_actor;
use crate::sessions;
use crate::wire::customer::UserOut;
use crate::wire::storefront::{LogoutOut, SessionIdsOut};

pub(super) fn router() -> Router<AppState> {
    Router::new()
        .route("/authentication/v1.0/session", get(logged_in_user))
        .route("/authentication/v1.0/sessions", get(active_sessions))
        .route("/authentication/v1.0/logout", get(logout).post(logout))
}

async fn logged_in_user(shopper: Shopper) -> (HeaderMap, Json<UserOut>) {
    let headers = shopper.response_headers();
    (headers, Json(shopper.current.customer.into()))
}

async fn active_sessions(
    State(state): State<AppState>,
    shopper: Shopper,
) -> Result<(HeaderMap, Json<SessionIdsOut>), ApiError> {
    let sessions = state
        .services
        .sessions
        .list(&shopper.application.id, &shopper.current.customer.id)
        .await?;
    let sessions = sessions
        .iter()
        .map(|session| session.id.to_string())
        .collect();
    Ok((shopper.response_headers(), Json(SessionIdsOut { sessions })))
}

async fn logout(
    State(state): State<AppState>,
    shopper: Shopper,
) -> Result<(HeaderMap, Json<LogoutOut>), ApiError> {
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
    Ok((headers, Json(LogoutOut { logout: true })))
}
