//! `getLoggedInUser`, `getListOfActiveSessions`, `logout`, and `deleteUser` (the
//! customer deletes their own account).

use axum::extract::State;
use axum::http::HeaderMap;
use axum::Json;
use patron_store::Actor;

use super::Shopper;
use crate::app::AppState;
use crate::cookies;
use crate::error::ApiError;
use crate::extract::JsonBody;
use crate::wire::customer::UserOut;
use crate::wire::storefront::{DeleteBody, LogoutOut, SessionIdsOut};
use crate::wire::{Success, SUCCESS};
use patron_service::{customer_actor, DeletionRequest};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub(super) fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(logged_in_user))
        .routes(routes!(active_sessions))
        .routes(routes!(logout, logout_post))
        .routes(routes!(delete_user))
}

#[utoipa::path(
    get,
    path = "/authentication/v1.0/session",
    operation_id = "getLoggedInUser",
    tag = "storefront",
    responses(
        (status = 200, description = "Done.", body = UserOut),
        crate::openapi::StorefrontErrors,
    ),
    security(("application" = [], "session" = []))
)]
pub(crate) async fn logged_in_user(shopper: Shopper) -> (HeaderMap, Json<UserOut>) {
    let headers = shopper.response_headers();
    (headers, Json(shopper.current.customer.into()))
}

#[utoipa::path(
    get,
    path = "/authentication/v1.0/sessions",
    operation_id = "getListOfActiveSessions",
    tag = "storefront",
    responses(
        (status = 200, description = "Done.", body = SessionIdsOut),
        crate::openapi::StorefrontErrors,
    ),
    security(("application" = [], "session" = []))
)]
pub(crate) async fn active_sessions(
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

#[utoipa::path(
    get,
    path = "/authentication/v1.0/logout",
    operation_id = "logout",
    tag = "storefront",
    responses(
        (status = 200, description = "Done.", body = LogoutOut),
        crate::openapi::StorefrontErrors,
    ),
    security(("application" = [], "session" = []))
)]
pub(crate) async fn logout(
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
    cookies::set_cookie(&mut headers, cookies::expired_cookie(&state));
    Ok((headers, Json(LogoutOut { logout: true })))
}

#[utoipa::path(
    post,
    path = "/authentication/v1.0/logout",
    operation_id = "logoutPost",
    tag = "storefront",
    responses(
        (status = 200, description = "Done.", body = LogoutOut),
        crate::openapi::StorefrontErrors,
    ),
    security(("application" = [], "session" = []))
)]
/// `logout` by `POST`, for clients that will not sign out with a `GET`.
pub(crate) async fn logout_post(
    state: State<AppState>,
    shopper: Shopper,
) -> Result<(HeaderMap, Json<LogoutOut>), ApiError> {
    logout(state, shopper).await
}

#[utoipa::path(
    post,
    path = "/authentication/v1.0/delete",
    operation_id = "deleteUser",
    tag = "storefront",
    request_body = DeleteBody,
    responses(
        (status = 200, description = "Done.", body = Success),
        crate::openapi::StorefrontErrors,
    ),
    security(("application" = [], "session" = []))
)]
/// `deleteUser`: the signed-in customer deletes their account, confirmed by a code sent to
/// one of their verified contacts; they are signed out everywhere.
pub(crate) async fn delete_user(
    State(state): State<AppState>,
    shopper: Shopper,
    JsonBody(body): JsonBody<DeleteBody>,
) -> Result<(HeaderMap, Json<Success>), ApiError> {
    let required = |field: &str, value: &Option<String>| {
        value
            .as_deref()
            .map(str::trim)
            .filter(|v| !v.is_empty())
            .map(str::to_owned)
            .ok_or_else(|| ApiError::required(field))
    };
    let user_id = required("user_id", &body.user_id)?;
    let reason = required("reason", &body.reason)?;
    let reason_id = required("reason_id", &body.reason_id)?;
    let request_id = required("request_id", &body.request_id)?;
    let otp = required("otp", &body.otp)?;
    state
        .services
        .account_deletion
        .delete(
            &shopper.application,
            &shopper.current.customer,
            DeletionRequest {
                user_id: &user_id,
                reason_id: &reason_id,
                reason: &reason,
                request_id: &request_id,
                otp: &otp,
                client_address: &shopper.origin.ip,
                device: shopper.origin.device.as_ref(),
            },
        )
        .await?;
    let mut headers = HeaderMap::new();
    cookies::set_cookie(&mut headers, cookies::expired_cookie(&state));
    Ok((headers, Json(SUCCESS)))
}
