//! Password sign-in and password changes: `loginWithEmailAndPassword`, `hasPassword`,
//! `updatePassword`; and `loginWithToken` (a single-use token an administrator minted).

use std::net::SocketAddr;

use axum::extract::{ConnectInfo, State};
use axum::http::HeaderMap;
use axum::Json;

use super::{Shopper, Storefront, Visitor};
use crate::app::AppState;
use crate::cookies::{cookie_headers, origin_of_request};
use crate::error::ApiError;
use crate::extract::JsonBody;
use crate::wire::customer::{login_success, LoginSuccessOut};
use crate::wire::password::{LoginBody, TokenBody, UpdatePasswordBody};
use crate::wire::storefront::{HasPasswordOut, MessageOut};
use patron_service::PasswordUpdate;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub(super) fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(login))
        .routes(routes!(login_with_token))
        .routes(routes!(has_password))
        .routes(routes!(update_password))
}

#[utoipa::path(
    post,
    path = "/authentication/v1.0/login/token",
    operation_id = "loginWithToken",
    tag = "storefront",
    request_body = TokenBody,
    responses(
        (status = 200, description = "Done.", body = LoginSuccessOut),
        crate::openapi::StorefrontErrors,
    ),
    security(("application" = []))
)]
/// `loginWithToken`: spends a sign-in token minted by the platform's
/// `POST …/customers/{user_id}/login_token`.
pub(crate) async fn login_with_token(
    State(state): State<AppState>,
    Visitor {
        application,
        origin,
        ..
    }: Visitor,
    JsonBody(body): JsonBody<TokenBody>,
) -> Result<(HeaderMap, Json<LoginSuccessOut>), ApiError> {
    let token = body
        .token
        .as_deref()
        .map(str::trim)
        .filter(|t| !t.is_empty())
        .ok_or_else(|| ApiError::required("token"))?;
    let signed_in = state
        .services
        .login_tokens
        .sign_in(&application, token, origin)
        .await?;
    Ok((
        cookie_headers(&state, &signed_in.session),
        Json(login_success(signed_in.customer)),
    ))
}

#[utoipa::path(
    post,
    path = "/authentication/v1.0/login/password",
    operation_id = "loginWithEmailAndPassword",
    tag = "storefront",
    request_body = LoginBody,
    responses(
        (status = 200, description = "Done.", body = LoginSuccessOut),
        crate::openapi::StorefrontErrors,
    ),
    security(("application" = []))
)]
pub(crate) async fn login(
    State(state): State<AppState>,
    Storefront { application }: Storefront,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    JsonBody(body): JsonBody<LoginBody>,
) -> Result<(HeaderMap, Json<LoginSuccessOut>), ApiError> {
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
    let origin = origin_of_request(&headers, Some(peer), &state.trusted_proxies);
    let signed_in = state
        .services
        .passwords
        .sign_in(&application, username, password, origin)
        .await?;
    Ok((
        cookie_headers(&state, &signed_in.session),
        Json(login_success(signed_in.customer)),
    ))
}

#[utoipa::path(
    get,
    path = "/authentication/v1.0/has-password",
    operation_id = "hasPassword",
    tag = "storefront",
    responses(
        (status = 200, description = "Done.", body = HasPasswordOut),
        crate::openapi::StorefrontErrors,
    ),
    security(("application" = [], "session" = []))
)]
pub(crate) async fn has_password(
    State(state): State<AppState>,
    shopper: Shopper,
) -> Result<(HeaderMap, Json<HasPasswordOut>), ApiError> {
    let has = state
        .services
        .passwords
        .has_password(&shopper.current.customer.id)
        .await?;
    Ok((
        shopper.response_headers(),
        Json(HasPasswordOut {
            result: i32::from(has),
        }),
    ))
}

#[utoipa::path(
    post,
    path = "/authentication/v1.0/password",
    operation_id = "updatePassword",
    tag = "storefront",
    request_body = UpdatePasswordBody,
    responses(
        (status = 200, description = "Done.", body = MessageOut),
        crate::openapi::StorefrontErrors,
    ),
    security(("application" = [], "session" = []))
)]
pub(crate) async fn update_password(
    State(state): State<AppState>,
    shopper: Shopper,
    JsonBody(body): JsonBody<UpdatePasswordBody>,
) -> Result<(HeaderMap, Json<MessageOut>), ApiError> {
    let new_password = body
        .new_password
        .filter(|p| !p.is_empty())
        .ok_or_else(|| ApiError::required("new_password"))?;
    state
        .services
        .passwords
        .change(
            &shopper.application,
            &shopper.current.customer.id,
            &shopper.current.session.id,
            PasswordUpdate {
                old_password: body.old_password,
                new_password,
            },
            &shopper.origin.ip,
        )
        .await?;
    Ok((
        shopper.response_headers(),
        Json(MessageOut { message: "success" }),
    ))
}
