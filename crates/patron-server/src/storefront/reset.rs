//! Password reset by link: `sendResetPasswordEmail`, `sendResetPasswordMobile`, `sendResetToken`,
//! `forgotPassword` (resets and signs in) and `resetForgotPassword` (resets only).

use std::net::SocketAddr;

use axum::extract::{ConnectInfo, State};
use axum::http::HeaderMap;
use axum::Json;
use patron_domain::email::Email;

use super::{parse_mobile, Storefront, Visitor};
use crate::app::AppState;
use crate::cookies::{cookie_headers, origin_of_request};
use crate::error::ApiError;
use crate::extract::JsonBody;
use crate::wire::contacts::EmailBody;
use crate::wire::customer::{login_success, LoginSuccessOut};
use crate::wire::reset::{CodeBody, MobileBody};
use crate::wire::{Status, Success, SUCCESS};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub(super) fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(send_reset_email))
        .routes(routes!(send_reset_sms))
        .routes(routes!(check_code))
        .routes(routes!(reset_and_sign_in))
        .routes(routes!(reset_only))
}

#[utoipa::path(
    post,
    path = "/authentication/v1.0/login/password/reset",
    operation_id = "sendResetPasswordEmail",
    tag = "storefront",
    request_body = EmailBody,
    params(
        ("platform" = Option<String>, Query, description = "platform."),
    ),
    responses(
        (status = 200, description = "Done.", body = Status),
        crate::openapi::StorefrontErrors,
    ),
    security(("application" = []))
)]
/// Sends a reset link when the email belongs to an active customer, and answers the same
/// either way so the call cannot be used to discover accounts.
pub(crate) async fn send_reset_email(
    State(state): State<AppState>,
    visitor: Visitor,
    JsonBody(body): JsonBody<EmailBody>,
) -> Result<Json<Status>, ApiError> {
    let raw = body
        .email
        .as_deref()
        .map(str::trim)
        .filter(|e| !e.is_empty())
        .ok_or_else(|| ApiError::required("email"))?;
    let email = Email::parse("email", raw)?;
    state
        .services
        .password_resets
        .send_link(&visitor.application, &email, &visitor.origin.ip)
        .await?;
    Ok(Json(Status { status: "sent" }))
}

#[utoipa::path(
    post,
    path = "/authentication/v1.0/login/password/mobile/reset",
    operation_id = "sendResetPasswordMobile",
    tag = "storefront",
    request_body = MobileBody,
    params(
        ("platform" = Option<String>, Query, description = "platform."),
    ),
    responses(
        (status = 200, description = "Done.", body = Status),
        crate::openapi::StorefrontErrors,
    ),
    security(("application" = []))
)]
/// `sendResetPasswordMobile`: the reset link by text message, for an active customer's
/// number; the same answer either way, and the send counts against the OTP send budgets.
pub(crate) async fn send_reset_sms(
    State(state): State<AppState>,
    visitor: Visitor,
    JsonBody(body): JsonBody<MobileBody>,
) -> Result<Json<Status>, ApiError> {
    let phone = parse_mobile(
        "mobile",
        body.mobile.as_deref(),
        "country_code",
        body.country_code.as_deref(),
        visitor.application.default_region,
    )?
    .ok_or_else(|| ApiError::required("mobile"))?;
    state
        .services
        .password_resets
        .send_sms_link(&visitor.application, &phone, &visitor.origin.ip)
        .await?;
    Ok(Json(Status { status: "sent" }))
}

#[utoipa::path(
    post,
    path = "/authentication/v1.0/login/password/reset/token",
    operation_id = "sendResetToken",
    tag = "storefront",
    request_body = CodeBody,
    responses(
        (status = 200, description = "Done.", body = Status),
        crate::openapi::StorefrontErrors,
    ),
    security(("application" = []))
)]
/// Checks a code without using it.
pub(crate) async fn check_code(
    State(state): State<AppState>,
    Storefront { application }: Storefront,
    JsonBody(body): JsonBody<CodeBody>,
) -> Result<Json<Status>, ApiError> {
    let code = required_code(body.code.as_deref())?;
    state
        .services
        .password_resets
        .check(&application, code)
        .await?;
    Ok(Json(Status { status: "success" }))
}

#[utoipa::path(
    post,
    path = "/authentication/v1.0/login/password/reset/forgot",
    operation_id = "forgotPassword",
    tag = "storefront",
    request_body = CodeBody,
    responses(
        (status = 200, description = "Done.", body = LoginSuccessOut),
        crate::openapi::StorefrontErrors,
    ),
    security(("application" = []))
)]
pub(crate) async fn reset_and_sign_in(
    State(state): State<AppState>,
    Storefront { application }: Storefront,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    JsonBody(body): JsonBody<CodeBody>,
) -> Result<(HeaderMap, Json<LoginSuccessOut>), ApiError> {
    let (code, password) = code_and_password(&body)?;
    let signed_in = state
        .services
        .password_resets
        .reset_and_sign_in(
            &application,
            code,
            password,
            origin_of_request(&headers, Some(peer), &state.trusted_proxies),
        )
        .await?;
    Ok((
        cookie_headers(&state, &signed_in.session),
        Json(login_success(signed_in.customer)),
    ))
}

#[utoipa::path(
    post,
    path = "/authentication/v1.0/login/password/forgot",
    operation_id = "resetForgotPassword",
    tag = "storefront",
    request_body = CodeBody,
    responses(
        (status = 200, description = "Done.", body = Success),
        crate::openapi::StorefrontErrors,
    ),
    security(("application" = []))
)]
pub(crate) async fn reset_only(
    State(state): State<AppState>,
    Storefront { application }: Storefront,
    JsonBody(body): JsonBody<CodeBody>,
) -> Result<Json<Success>, ApiError> {
    let (code, password) = code_and_password(&body)?;
    state
        .services
        .password_resets
        .reset(&application, code, password)
        .await?;
    Ok(Json(SUCCESS))
}

/// The code and the new password of a reset body, both required.
fn code_and_password(body: &CodeBody) -> Result<(&str, String), ApiError> {
    let code = required_code(body.code.as_deref())?;
    let password = body
        .password
        .clone()
        .filter(|p| !p.is_empty())
        .ok_or_else(|| ApiError::required("password"))?;
    Ok((code, password))
}

fn required_code(code: Option<&str>) -> Result<&str, ApiError> {
    code.map(str::trim)
        .filter(|c| !c.is_empty())
        .ok_or_else(|| ApiError::required("code"))
}
