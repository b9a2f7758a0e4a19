//! One-time passwords on the storefront: `loginWithOTP`, `sendOTPOnMobile`,
//! `verifyMobileOTP`, `sendOTPOnEmail`, `verifyEmailOTP` and the four forgot-password calls.

use axum::extract::State;
use axum::http::HeaderMap;
use axum::Json;
use patron_domain::email::Email;
use patron_domain::otp::OtpTarget;
use patron_domain::phone::Phone;
use patron_store::Application;

use super::{parse_mobile, present, Visitor};
use crate::app::AppState;
use crate::cookies::cookie_headers;
use crate::error::ApiError;
use crate::extract::JsonBody;
use crate::wire::customer::CustomerOut;
use crate::wire::otp::{
    EmailOtpOut, EmailSendBody, EmailVerifyBody, MobileSendBody, MobileVerifyBody, SendOtpOut,
    VerifyForgotOut, VerifyOtpOut,
};
use patron_service::{CodeAnswer, CodeClient, Sender, SentCode, Verified};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub(super) fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(login_with_otp))
        .routes(routes!(send_mobile))
        .routes(routes!(verify_mobile))
        .routes(routes!(send_email))
        .routes(routes!(verify_email))
        .routes(routes!(send_forgot_mobile))
        .routes(routes!(verify_forgot_mobile))
        .routes(routes!(send_forgot_email))
        .routes(routes!(verify_forgot_email))
}

#[utoipa::path(
    post,
    path = "/authentication/v1.0/login/otp",
    operation_id = "loginWithOTP",
    tag = "storefront",
    request_body = MobileSendBody,
    params(
        ("platform" = Option<String>, Query, description = "platform."),
    ),
    responses(
        (status = 200, description = "Done.", body = SendOtpOut),
        crate::openapi::StorefrontErrors,
    ),
    security(("application" = []))
)]
/// `loginWithOTP`: a sign-in code to a mobile; the answer does not say whether anyone has
/// the number.
pub(crate) async fn login_with_otp(
    State(state): State<AppState>,
    visitor: Visitor,
    JsonBody(body): JsonBody<MobileSendBody>,
) -> Result<Json<SendOtpOut>, ApiError> {
    let phone = required_mobile(&body, &visitor.application)?;
    let hash = android_hash(body.android_hash.as_deref())?;
    let sent = state
        .services
        .otp
        .send_login_code(
            &visitor.application,
            OtpTarget::Mobile(phone.clone()),
            sender(&visitor, hash),
        )
        .await?;
    Ok(Json(mobile_sent(&phone, sent)))
}

#[utoipa::path(
    post,
    path = "/authentication/v1.0/otp/mobile/send",
    operation_id = "sendOTPOnMobile",
    tag = "storefront",
    request_body = MobileSendBody,
    params(
        ("platform" = Option<String>, Query, description = "platform."),
    ),
    responses(
        (status = 200, description = "Done.", body = SendOtpOut),
        crate::openapi::StorefrontErrors,
    ),
    security(("application" = []))
)]
/// `sendOTPOnMobile`: resends a code (`action: "resend"` with its `token`); otherwise sends
/// a code proving the number to a signed-in shopper, or a sign-in code.
pub(crate) async fn send_mobile(
    State(state): State<AppState>,
    visitor: Visitor,
    JsonBody(body): JsonBody<MobileSendBody>,
) -> Result<(HeaderMap, Json<SendOtpOut>), ApiError> {
    let phone = required_mobile(&body, &visitor.application)?;
    let hash = android_hash(body.android_hash.as_deref())?;
    let target = OtpTarget::Mobile(phone.clone());
    let otp = &state.services.otp;
    let application = &visitor.application;
    let sent = match (
        resend_token(body.action.as_deref(), body.token.as_deref())?,
        &visitor.current,
    ) {
        (Some(token), _) => {
            otp.resend(application, &target, token, sender(&visitor, hash))
                .await?
        }
        (None, Some(current)) => {
            otp.send_contact_code(
                application,
                &current.customer,
                target,
                sender(&visitor, hash),
            )
            .await?
        }
        (None, None) => {
            otp.send_login_code(application, target, sender(&visitor, hash))
                .await?
        }
    };
    Ok((visitor.response_headers(), Json(mobile_sent(&phone, sent))))
}

#[utoipa::path(
    post,
    path = "/authentication/v1.0/otp/mobile/verify",
    operation_id = "verifyMobileOTP",
    tag = "storefront",
    request_body = MobileVerifyBody,
    params(
        ("platform" = Option<String>, Query, description = "platform."),
    ),
    responses(
        (status = 200, description = "Done.", body = VerifyOtpOut),
        crate::openapi::StorefrontErrors,
    ),
    security(("application" = []))
)]
/// `verifyMobileOTP`: signs in (or starts a sign-up), completes a registration
/// (`register_token`), or proves a signed-in shopper's number.
pub(crate) async fn verify_mobile(
    State(state): State<AppState>,
    visitor: Visitor,
    JsonBody(body): JsonBody<MobileVerifyBody>,
) -> Result<(HeaderMap, Json<VerifyOtpOut>), ApiError> {
    let answer = CodeAnswer::ById {
        request_id: required(body.request_id.as_deref(), "request_id")?.to_owned(),
        code: required(body.otp.as_deref(), "otp")?.to_owned(),
    };
    verified(&state, visitor, answer, body.register_token.as_deref()).await
}

#[utoipa::path(
    post,
    path = "/authentication/v1.0/otp/email/send",
    operation_id = "sendOTPOnEmail",
    tag = "storefront",
    request_body = EmailSendBody,
    params(
        ("platform" = Option<String>, Query, description = "platform."),
    ),
    responses(
        (status = 200, description = "Done.", body = EmailOtpOut),
        crate::openapi::StorefrontErrors,
    ),
    security(("application" = []))
)]
/// `sendOTPOnEmail`: resends a code; sends one for a pending registration's email
/// (`register_token`), one proving a signed-in shopper's email, or a sign-in code.
pub(crate) async fn send_email(
    State(state): State<AppState>,
    visitor: Visitor,
    JsonBody(body): JsonBody<EmailSendBody>,
) -> Result<(HeaderMap, Json<EmailOtpOut>), ApiError> {
    let email = required_email(body.email.as_deref())?;
    let target = OtpTarget::Email(email);
    let otp = &state.services.otp;
    let application = &visitor.application;
    let register_token = present(body.register_token.as_deref());
    let sender = sender(&visitor, None);
    let sent = match (
        resend_token(body.action.as_deref(), body.token.as_deref())?,
        register_token,
        &visitor.current,
    ) {
        (Some(token), _, _) => otp.resend(application, &target, token, sender).await?,
        (None, Some(register_token), _) => {
            otp.send_registration_code(application, target, register_token, sender)
                .await?
        }
        (None, None, Some(current)) => {
            otp.send_contact_code(application, &current.customer, target, sender)
                .await?
        }
        (None, None, None) => otp.send_login_code(application, target, sender).await?,
    };
    Ok((visitor.response_headers(), Json(email_sent(sent))))
}

#[utoipa::path(
    post,
    path = "/authentication/v1.0/otp/email/verify",
    operation_id = "verifyEmailOTP",
    tag = "storefront",
    request_body = EmailVerifyBody,
    params(
        ("platform" = Option<String>, Query, description = "platform."),
    ),
    responses(
        (status = 200, description = "Done.", body = VerifyOtpOut),
        crate::openapi::StorefrontErrors,
    ),
    security(("application" = []))
)]
/// `verifyEmailOTP`: as `verifyMobileOTP`, for the newest code sent to the email.
pub(crate) async fn verify_email(
    State(state): State<AppState>,
    visitor: Visitor,
    JsonBody(body): JsonBody<EmailVerifyBody>,
) -> Result<(HeaderMap, Json<VerifyOtpOut>), ApiError> {
    let answer = CodeAnswer::ByTarget {
        target: OtpTarget::Email(required_email(body.email.as_deref())?),
        code: required(body.otp.as_deref(), "otp")?.to_owned(),
    };
    verified(&state, visitor, answer, body.register_token.as_deref()).await
}

#[utoipa::path(
    post,
    path = "/authentication/v1.0/otp/forgot/mobile/send",
    operation_id = "sendForgotOTPOnMobile",
    tag = "storefront",
    request_body = MobileSendBody,
    params(
        ("platform" = Option<String>, Query, description = "platform."),
    ),
    responses(
        (status = 200, description = "Done.", body = SendOtpOut),
        crate::openapi::StorefrontErrors,
    ),
    security(("application" = []))
)]
/// `sendForgotOTPOnMobile`: a reset code when an active customer has the number; the
/// answer is the same either way.
pub(crate) async fn send_forgot_mobile(
    State(state): State<AppState>,
    visitor: Visitor,
    JsonBody(body): JsonBody<MobileSendBody>,
) -> Result<Json<SendOtpOut>, ApiError> {
    let phone = required_mobile(&body, &visitor.application)?;
    let hash = android_hash(body.android_hash.as_deref())?;
    let target = OtpTarget::Mobile(phone.clone());
    let otp = &state.services.otp;
    let sent = match resend_token(body.action.as_deref(), body.token.as_deref())? {
        Some(token) => {
            otp.resend(&visitor.application, &target, token, sender(&visitor, hash))
                .await?
        }
        None => {
            otp.send_forgot_code(&visitor.application, target, sender(&visitor, hash))
                .await?
        }
    };
    Ok(Json(mobile_sent(&phone, sent)))
}

#[utoipa::path(
    post,
    path = "/authentication/v1.0/otp/forgot/mobile/verify",
    operation_id = "verifyMobileForgotOTP",
    tag = "storefront",
    request_body = MobileVerifyBody,
    params(
        ("platform" = Option<String>, Query, description = "platform."),
    ),
    responses(
        (status = 200, description = "Done.", body = VerifyForgotOut),
        crate::openapi::StorefrontErrors,
    ),
    security(("application" = []))
)]
/// `verifyMobileForgotOTP`: the `forgot_token` for `resetForgotPassword`.
pub(crate) async fn verify_forgot_mobile(
    State(state): State<AppState>,
    visitor: Visitor,
    JsonBody(body): JsonBody<MobileVerifyBody>,
) -> Result<Json<VerifyForgotOut>, ApiError> {
    let answer = CodeAnswer::ById {
        request_id: required(body.request_id.as_deref(), "request_id")?.to_owned(),
        code: required(body.otp.as_deref(), "otp")?.to_owned(),
    };
    forgot_token(&state, &visitor, answer).await
}

#[utoipa::path(
    post,
    path = "/authentication/v1.0/otp/forgot/email/send",
    operation_id = "sendForgotOTPOnEmail",
    tag = "storefront",
    request_body = EmailSendBody,
    params(
        ("platform" = Option<String>, Query, description = "platform."),
    ),
    responses(
        (status = 200, description = "Done.", body = EmailOtpOut),
        crate::openapi::StorefrontErrors,
    ),
    security(("application" = []))
)]
/// `sendForgotOTPOnEmail`.
pub(crate) async fn send_forgot_email(
    State(state): State<AppState>,
    visitor: Visitor,
    JsonBody(body): JsonBody<EmailSendBody>,
) -> Result<Json<EmailOtpOut>, ApiError> {
    let target = OtpTarget::Email(required_email(body.email.as_deref())?);
    let otp = &state.services.otp;
    let sent = match resend_token(body.action.as_deref(), body.token.as_deref())? {
        Some(token) => {
            otp.resend(&visitor.application, &target, token, sender(&visitor, None))
                .await?
        }
        None => {
            otp.send_forgot_code(&visitor.application, target, sender(&visitor, None))
                .await?
        }
    };
    Ok(Json(email_sent(sent)))
}

#[utoipa::path(
    post,
    path = "/authentication/v1.0/otp/forgot/email/verify",
    operation_id = "verifyEmailForgotOTP",
    tag = "storefront",
    request_body = EmailVerifyBody,
    params(
        ("platform" = Option<String>, Query, description = "platform."),
    ),
    responses(
        (status = 200, description = "Done.", body = VerifyForgotOut),
        crate::openapi::StorefrontErrors,
    ),
    security(("application" = []))
)]
/// `verifyEmailForgotOTP`.
pub(crate) async fn verify_forgot_email(
    State(state): State<AppState>,
    visitor: Visitor,
    JsonBody(body): JsonBody<EmailVerifyBody>,
) -> Result<Json<VerifyForgotOut>, ApiError> {
    let answer = CodeAnswer::ByTarget {
        target: OtpTarget::Email(required_email(body.email.as_deref())?),
        code: required(body.otp.as_deref(), "otp")?.to_owned(),
    };
    forgot_token(&state, &visitor, answer).await
}

async fn forgot_token(
    state: &AppState,
    visitor: &Visitor,
    answer: CodeAnswer,
) -> Result<Json<VerifyForgotOut>, ApiError> {
    let forgot_token = state
        .services
        .otp
        .verify_forgot(
            &visitor.application,
            answer,
            CodeClient {
                address: &visitor.origin.ip,
                device: visitor.origin.device.as_ref(),
            },
        )
        .await?;
    Ok(Json(VerifyForgotOut {
        success: true,
        forgot_token,
    }))
}

/// Verifies `answer` and answers `VerifyOtpSuccess`, with the session cookie when the code
/// signed someone in.
async fn verified(
    state: &AppState,
    visitor: Visitor,
    answer: CodeAnswer,
    register_token: Option<&str>,
) -> Result<(HeaderMap, Json<VerifyOtpOut>), ApiError> {
    let register_token = present(register_token);
    let shopper = visitor.current.as_ref().map(|current| &current.customer);
    let outcome = state
        .services
        .otp
        .verify(
            &visitor.application,
            answer,
            register_token,
            shopper,
            visitor.origin.clone(),
        )
        .await?;
    Ok(match outcome {
        Verified::SignedIn(signed_in) => (
            cookie_headers(state, &signed_in.session),
            Json(VerifyOtpOut {
                user: Some(CustomerOut::from(signed_in.customer.clone())),
                user_exists: true,
                register_token: None,
            }),
        ),
        Verified::SignUp { register_token } => (
            HeaderMap::new(),
            Json(VerifyOtpOut {
                user: None,
                user_exists: false,
                register_token: Some(register_token),
            }),
        ),
        Verified::RegistrationWaiting => (
            HeaderMap::new(),
            Json(VerifyOtpOut {
                user: None,
                user_exists: false,
                register_token: register_token.map(str::to_owned),
            }),
        ),
        Verified::ContactProven(customer) => (
            visitor.response_headers(),
            Json(VerifyOtpOut {
                user: Some(CustomerOut::from(*customer)),
                user_exists: true,
                register_token: None,
            }),
        ),
    })
}

/// `SendOtpSuccess` for a code sent to `phone`.
pub(super) fn mobile_sent(phone: &Phone, sent: SentCode) -> SendOtpOut {
    SendOtpOut {
        success: true,
        request_id: sent.request_id,
        message: "OTP sent",
        mobile: Some(phone.national().to_owned()),
        country_code: Some(phone.country_code().to_string()),
        email: None,
        resend_timer: sent.resend_timer,
        resend_token: sent.resend_token,
    }
}

fn email_sent(sent: SentCode) -> EmailOtpOut {
    EmailOtpOut {
        success: true,
        resend_email_token: sent.resend_token,
    }
}

pub(super) fn sender<'a>(visitor: &'a Visitor, android_hash: Option<&'a str>) -> Sender<'a> {
    Sender {
        client_address: &visitor.origin.ip,
        android_hash,
        device: visitor.origin.device.as_ref(),
    }
}

/// The resend token when `action` asks for a resend (then `token` is required); `None`
/// for a fresh send.
fn resend_token<'a>(
    action: Option<&str>,
    token: Option<&'a str>,
) -> Result<Option<&'a str>, ApiError> {
    match present(action) {
        None | Some("send") => Ok(None),
        Some("resend") => required(token, "token").map(Some),
        Some(_) => Err(ApiError::validation("action", "must be send or resend")),
    }
}

/// An Android SMS retriever hash: short, of base64 characters.
fn android_hash(hash: Option<&str>) -> Result<Option<&str>, ApiError> {
    match present(hash) {
        None => Ok(None),
        Some(hash)
            if hash.len() <= 32
                && hash
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || "+/=_-".contains(c)) =>
        {
            Ok(Some(hash))
        }
        Some(_) => Err(ApiError::validation(
            "android_hash",
            "must be at most 32 characters of letters, digits and + / = _ -",
        )),
    }
}

pub(super) fn required<'a>(value: Option<&'a str>, field: &str) -> Result<&'a str, ApiError> {
    present(value).ok_or_else(|| ApiError::required(field))
}

pub(super) fn required_email(email: Option<&str>) -> Result<Email, ApiError> {
    Ok(Email::parse("email", required(email, "email")?)?)
}

fn required_mobile(body: &MobileSendBody, application: &Application) -> Result<Phone, ApiError> {
    parse_mobile(
        "mobile",
        body.mobile.as_deref(),
        "country_code",
        body.country_code.as_deref(),
        application.default_region,
    )?
    .ok_or_else(|| ApiError::required("mobile"))
}
