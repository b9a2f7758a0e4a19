//! A signed-in shopper's emails and mobiles: `addEmail`, `deleteEmail`, `setEmailAsPrimary`,
//! `sendVerificationLinkToEmail`, `verifyEmail`, and their mobile twins; and the v2.0 change
//! of the primary contact by one-time passwords (`sendOTPOnPrimary`, `verifyOTPonPrimary`,
//! `sendOTPForUpdate`, `verifyOTPForUpdate`).

use axum::extract::State;
use axum::http::HeaderMap;
use axum::Json;
use patron_domain::contacts::Contact;
use patron_domain::email::Email;
use patron_domain::otp::OtpTarget;
use patron_domain::phone::Phone;

use super::otp::{mobile_sent, required, required_email, sender};
use super::{parse_mobile, Shopper, Storefront, Visitor};
use crate::app::AppState;
use crate::cookies::Current;
use crate::error::ApiError;
use crate::extract::PathParams;
use crate::extract::{JsonBody, QueryPairs};
use crate::wire::contacts::{
    EditMobileBody, EmailAddedOut, EmailBody, EmailLinkOut, MobileAddedOut, MobileLinkOut,
    PrimaryEmailBody, PrimaryMobileBody,
};
use crate::wire::customer::{login_success, LoginSuccessOut};
use crate::wire::otp::{
    ForUpdateBody, LinkCodeBody, PrimaryProvenOut, PrimaryVerifyBody, SendOtpOut, VerifyOtpOut,
};
use crate::wire::path::EntityPath;
use crate::wire::storefront::MessageOut;
use patron_service::{ContactKind, OtpAnswer, PrimaryProof};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub(super) fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(add_email, delete_email))
        .routes(routes!(email_primary))
        .routes(routes!(email_link))
        .routes(routes!(verify_link))
        .routes(routes!(add_mobile, delete_mobile))
        .routes(routes!(mobile_primary))
        .routes(routes!(mobile_link))
        .routes(routes!(verify_mobile_link))
        .routes(routes!(send_to_primary))
        .routes(routes!(prove_primary))
        .routes(routes!(send_to_new))
        .routes(routes!(prove_new))
}

type Answer<T> = Result<(HeaderMap, Json<T>), ApiError>;

#[utoipa::path(
    put,
    path = "/profile/v1.0/email",
    operation_id = "addEmail",
    tag = "storefront",
    request_body = EmailBody,
    params(
        ("platform" = Option<String>, Query, description = "platform."),
    ),
    responses(
        (status = 200, description = "Done.", body = EmailAddedOut),
        crate::openapi::StorefrontErrors,
    ),
    security(("application" = [], "session" = []))
)]
pub(crate) async fn add_email(
    State(state): State<AppState>,
    visitor: Visitor,
    JsonBody(body): JsonBody<EmailBody>,
) -> Answer<EmailAddedOut> {
    let current = signed_in(&visitor)?;
    let email = required_email(body.email.as_deref())?;
    let (customer, sent) = state
        .services
        .contacts
        .add(
            &visitor.application,
            &current.customer,
            OtpTarget::Email(email),
            &visitor.origin.ip,
        )
        .await?;
    Ok((
        visitor.response_headers(),
        Json(EmailAddedOut {
            user: customer.into(),
            verify_email_link: sent,
        }),
    ))
}

#[utoipa::path(
    put,
    path = "/profile/v1.0/mobile",
    operation_id = "addMobileNumber",
    tag = "storefront",
    request_body = EditMobileBody,
    params(
        ("platform" = Option<String>, Query, description = "platform."),
    ),
    responses(
        (status = 200, description = "Done.", body = MobileAddedOut),
        crate::openapi::StorefrontErrors,
    ),
    security(("application" = [], "session" = []))
)]
pub(crate) async fn add_mobile(
    State(state): State<AppState>,
    visitor: Visitor,
    JsonBody(body): JsonBody<EditMobileBody>,
) -> Answer<MobileAddedOut> {
    let current = signed_in(&visitor)?;
    let phone = mobile_of(&body, &visitor)?;
    let (customer, sent) = state
        .services
        .contacts
        .add(
            &visitor.application,
            &current.customer,
            OtpTarget::Mobile(phone),
            &visitor.origin.ip,
        )
        .await?;
    Ok((
        visitor.response_headers(),
        Json(MobileAddedOut {
            user: customer.into(),
            verify_mobile_link: sent,
        }),
    ))
}

#[utoipa::path(
    delete,
    path = "/profile/v1.0/email",
    operation_id = "deleteEmail",
    tag = "storefront",
    params(
        ("platform" = Option<String>, Query, description = "platform."),
        ("active" = String, Query, description = "active."),
        ("primary" = String, Query, description = "primary."),
        ("verified" = String, Query, description = "verified."),
        ("email" = String, Query, description = "email."),
    ),
    responses(
        (status = 200, description = "Done.", body = LoginSuccessOut),
        crate::openapi::StorefrontErrors,
    ),
    security(("application" = [], "session" = []))
)]
pub(crate) async fn delete_email(
    State(state): State<AppState>,
    shopper: Shopper,
    query: QueryPairs,
) -> Answer<LoginSuccessOut> {
    let email = required_email(query.get("email"))?;
    let customer = state
        .services
        .contacts
        .remove(
            &shopper.application,
            &shopper.current.customer,
            Contact::Email(email),
        )
        .await?;
    Ok((shopper.response_headers(), Json(login_success(customer))))
}

#[utoipa::path(
    delete,
    path = "/profile/v1.0/mobile",
    operation_id = "deleteMobileNumber",
    tag = "storefront",
    params(
        ("platform" = Option<String>, Query, description = "platform."),
        ("active" = String, Query, description = "active."),
        ("primary" = String, Query, description = "primary."),
        ("verified" = String, Query, description = "verified."),
        ("country_code" = String, Query, description = "country_code."),
        ("phone" = String, Query, description = "phone."),
    ),
    responses(
        (status = 200, description = "Done.", body = LoginSuccessOut),
        crate::openapi::StorefrontErrors,
    ),
    security(("application" = [], "session" = []))
)]
pub(crate) async fn delete_mobile(
    State(state): State<AppState>,
    shopper: Shopper,
    query: QueryPairs,
) -> Answer<LoginSuccessOut> {
    let phone = parse_mobile(
        "phone",
        query.get("phone"),
        "country_code",
        query.get("country_code"),
        shopper.application.default_region,
    )?
    .ok_or_else(|| ApiError::required("phone"))?;
    let customer = state
        .services
        .contacts
        .remove(
            &shopper.application,
            &shopper.current.customer,
            Contact::Phone(phone),
        )
        .await?;
    Ok((shopper.response_headers(), Json(login_success(customer))))
}

#[utoipa::path(
    post,
    path = "/profile/v1.0/email/primary",
    operation_id = "setEmailAsPrimary",
    tag = "storefront",
    request_body = PrimaryEmailBody,
    responses(
        (status = 200, description = "Done.", body = LoginSuccessOut),
        crate::openapi::StorefrontErrors,
    ),
    security(("application" = [], "session" = []))
)]
pub(crate) async fn email_primary(
    State(state): State<AppState>,
    shopper: Shopper,
    JsonBody(body): JsonBody<PrimaryEmailBody>,
) -> Answer<LoginSuccessOut> {
    let email = required_email(body.email.as_deref())?;
    let customer = state
        .services
        .contacts
        .make_primary(
            &shopper.application,
            &shopper.current.customer,
            Contact::Email(email),
            PrimaryProof {
                grant: body.request_id.as_deref().filter(|id| !id.is_empty()),
                signed_in_at: shopper.current.session.created_at,
            },
        )
        .await?;
    Ok((shopper.response_headers(), Json(login_success(customer))))
}

#[utoipa::path(
    post,
    path = "/profile/v1.0/mobile/primary",
    operation_id = "setMobileNumberAsPrimary",
    tag = "storefront",
    request_body = PrimaryMobileBody,
    responses(
        (status = 200, description = "Done.", body = LoginSuccessOut),
        crate::openapi::StorefrontErrors,
    ),
    security(("application" = [], "session" = []))
)]
pub(crate) async fn mobile_primary(
    State(state): State<AppState>,
    visitor: Visitor,
    JsonBody(body): JsonBody<PrimaryMobileBody>,
) -> Answer<LoginSuccessOut> {
    let current = signed_in(&visitor)?;
    let phone = mobile_of(&body.mobile, &visitor)?;
    let customer = state
        .services
        .contacts
        .make_primary(
            &visitor.application,
            &current.customer,
            Contact::Phone(phone),
            PrimaryProof {
                grant: body.request_id.as_deref().filter(|id| !id.is_empty()),
                signed_in_at: current.session.created_at,
            },
        )
        .await?;
    Ok((visitor.response_headers(), Json(login_success(customer))))
}

#[utoipa::path(
    post,
    path = "/profile/v1.0/email/link/send",
    operation_id = "sendVerificationLinkToEmail",
    tag = "storefront",
    request_body = EmailBody,
    params(
        ("platform" = Option<String>, Query, description = "platform."),
    ),
    responses(
        (status = 200, description = "Done.", body = EmailLinkOut),
        crate::openapi::StorefrontErrors,
    ),
    security(("application" = [], "session" = []))
)]
pub(crate) async fn email_link(
    State(state): State<AppState>,
    visitor: Visitor,
    JsonBody(body): JsonBody<EmailBody>,
) -> Answer<EmailLinkOut> {
    let current = signed_in(&visitor)?;
    let email = required_email(body.email.as_deref())?;
    let sent = state
        .services
        .contacts
        .send_link(
            &visitor.application,
            &current.customer,
            OtpTarget::Email(email),
            &visitor.origin.ip,
        )
        .await?;
    Ok((
        visitor.response_headers(),
        Json(EmailLinkOut {
            verify_email_link: sent,
        }),
    ))
}

#[utoipa::path(
    post,
    path = "/profile/v1.0/mobile/link/send",
    operation_id = "sendVerificationLinkToMobile",
    tag = "storefront",
    request_body = EditMobileBody,
    params(
        ("platform" = Option<String>, Query, description = "platform."),
    ),
    responses(
        (status = 200, description = "Done.", body = MobileLinkOut),
        crate::openapi::StorefrontErrors,
    ),
    security(("application" = [], "session" = []))
)]
pub(crate) async fn mobile_link(
    State(state): State<AppState>,
    visitor: Visitor,
    JsonBody(body): JsonBody<EditMobileBody>,
) -> Answer<MobileLinkOut> {
    let current = signed_in(&visitor)?;
    let phone = mobile_of(&body, &visitor)?;
    let sent = state
        .services
        .contacts
        .send_link(
            &visitor.application,
            &current.customer,
            OtpTarget::Mobile(phone),
            &visitor.origin.ip,
        )
        .await?;
    Ok((
        visitor.response_headers(),
        Json(MobileLinkOut {
            verify_mobile_link: sent,
        }),
    ))
}

#[utoipa::path(
    post,
    path = "/authentication/v1.0/verify/email",
    operation_id = "verifyEmail",
    tag = "storefront",
    request_body = LinkCodeBody,
    responses(
        (status = 200, description = "Done.", body = MessageOut),
        crate::openapi::StorefrontErrors,
    ),
    security(("application" = []))
)]
/// `verifyEmail`: spends a verification link's code (no session needed: the link may be
/// opened on another device).
pub(crate) async fn verify_link(
    State(state): State<AppState>,
    Storefront { application }: Storefront,
    JsonBody(body): JsonBody<LinkCodeBody>,
) -> Result<Json<MessageOut>, ApiError> {
    let code = required(body.code.as_deref(), "code")?;
    state
        .services
        .contacts
        .verify_link(&application, code)
        .await?;
    Ok(Json(MessageOut {
        message: "verified",
    }))
}

#[utoipa::path(
    post,
    path = "/authentication/v1.0/verify/mobile",
    operation_id = "verifyMobile",
    tag = "storefront",
    request_body = LinkCodeBody,
    responses(
        (status = 200, description = "Done.", body = MessageOut),
        crate::openapi::StorefrontErrors,
    ),
    security(("application" = []))
)]
/// `verifyMobile`: spends a verification link's code, as `verifyEmail` (a link's code
/// names what it proves).
pub(crate) async fn verify_mobile_link(
    state: State<AppState>,
    storefront: Storefront,
    body: JsonBody<LinkCodeBody>,
) -> Result<Json<MessageOut>, ApiError> {
    verify_link(state, storefront, body).await
}

#[utoipa::path(
    post,
    path = "/profile/v2.0/{entity}/primary/otp/send",
    operation_id = "sendOTPOnPrimary",
    tag = "storefront",
    params(
        EntityPath,
        ("mobile`/`email`)" = Option<String>, Query, description = "mobile`/`email`)."),
    ),
    responses(
        (status = 200, description = "Done.", body = SendOtpOut),
        crate::openapi::StorefrontErrors,
    ),
    security(("application" = [], "session" = []))
)]
pub(crate) async fn send_to_primary(
    State(state): State<AppState>,
    visitor: Visitor,
    PathParams(EntityPath { entity }): PathParams<EntityPath>,
) -> Answer<SendOtpOut> {
    let current = signed_in(&visitor)?;
    let kind = ContactKind::parse(&entity)?;
    let (target, sent) = state
        .services
        .contacts
        .send_to_primary(
            &visitor.application,
            &current.customer,
            kind,
            sender(&visitor, None),
        )
        .await?;
    Ok((visitor.response_headers(), Json(code_sent(&target, sent))))
}

#[utoipa::path(
    post,
    path = "/profile/v2.0/{entity}/primary/otp/verify",
    operation_id = "verifyOTPonPrimary",
    tag = "storefront",
    request_body = PrimaryVerifyBody,
    params(
        EntityPath,
    ),
    responses(
        (status = 200, description = "Done.", body = PrimaryProvenOut),
        crate::openapi::StorefrontErrors,
    ),
    security(("application" = [], "session" = []))
)]
pub(crate) async fn prove_primary(
    State(state): State<AppState>,
    visitor: Visitor,
    PathParams(EntityPath { entity }): PathParams<EntityPath>,
    JsonBody(body): JsonBody<PrimaryVerifyBody>,
) -> Answer<PrimaryProvenOut> {
    let current = signed_in(&visitor)?;
    let kind = ContactKind::parse(&entity)?;
    let grant = state
        .services
        .contacts
        .prove_primary(
            &visitor.application,
            &current.customer,
            kind,
            OtpAnswer {
                request_id: required(body.request_id.as_deref(), "request_id")?,
                code: required(body.otp.as_deref(), "otp")?,
                client_address: &visitor.origin.ip,
                device: visitor.origin.device.as_ref(),
            },
        )
        .await?;
    Ok((
        visitor.response_headers(),
        Json(PrimaryProvenOut {
            success: true,
            request_id: grant,
            entity: kind.as_str(),
        }),
    ))
}

#[utoipa::path(
    post,
    path = "/profile/v2.0/{entity}/otp/send",
    operation_id = "sendOTPForUpdate",
    tag = "storefront",
    request_body = ForUpdateBody,
    params(
        EntityPath,
    ),
    responses(
        (status = 200, description = "Done.", body = SendOtpOut),
        crate::openapi::StorefrontErrors,
    ),
    security(("application" = [], "session" = []))
)]
pub(crate) async fn send_to_new(
    State(state): State<AppState>,
    visitor: Visitor,
    PathParams(EntityPath { entity }): PathParams<EntityPath>,
    JsonBody(body): JsonBody<ForUpdateBody>,
) -> Answer<SendOtpOut> {
    let current = signed_in(&visitor)?;
    let target = match ContactKind::parse(&entity)? {
        ContactKind::Email => OtpTarget::Email(required_email(body.email.as_deref())?),
        ContactKind::Mobile => OtpTarget::Mobile(
            parse_mobile(
                "mobile",
                body.mobile.as_deref(),
                "country_code",
                body.country_code.as_deref(),
                visitor.application.default_region,
            )?
            .ok_or_else(|| ApiError::required("mobile"))?,
        ),
    };
    let grant = required(body.request_id.as_deref(), "request_id")?;
    let sent = state
        .services
        .contacts
        .send_to_new(
            &visitor.application,
            &current.customer,
            grant,
            target.clone(),
            sender(&visitor, None),
        )
        .await?;
    Ok((visitor.response_headers(), Json(code_sent(&target, sent))))
}

#[utoipa::path(
    post,
    path = "/profile/v2.0/{entity}/otp/verify",
    operation_id = "verifyOTPForUpdate",
    tag = "storefront",
    request_body = PrimaryVerifyBody,
    params(
        EntityPath,
    ),
    responses(
        (status = 200, description = "Done.", body = VerifyOtpOut),
        crate::openapi::StorefrontErrors,
    ),
    security(("application" = [], "session" = []))
)]
pub(crate) async fn prove_new(
    State(state): State<AppState>,
    visitor: Visitor,
    PathParams(EntityPath { entity }): PathParams<EntityPath>,
    JsonBody(body): JsonBody<PrimaryVerifyBody>,
) -> Answer<VerifyOtpOut> {
    let current = signed_in(&visitor)?;
    let kind = ContactKind::parse(&entity)?;
    let customer = state
        .services
        .contacts
        .prove_new(
            &visitor.application,
            &current.customer,
            kind,
            OtpAnswer {
                request_id: required(body.request_id.as_deref(), "request_id")?,
                code: required(body.otp.as_deref(), "otp")?,
                client_address: &visitor.origin.ip,
                device: visitor.origin.device.as_ref(),
            },
        )
        .await?;
    Ok((
        visitor.response_headers(),
        Json(VerifyOtpOut {
            user: Some(customer.into()),
            user_exists: true,
            register_token: None,
        }),
    ))
}

/// The signed-in shopper, or 401.
fn signed_in(visitor: &Visitor) -> Result<&Current, ApiError> {
    visitor
        .current
        .as_ref()
        .ok_or_else(|| ApiError::Unauthenticated("sign in first: no valid session".to_owned()))
}

fn mobile_of(body: &EditMobileBody, visitor: &Visitor) -> Result<Phone, ApiError> {
    parse_mobile(
        "phone",
        body.phone.as_deref(),
        "country_code",
        body.country_code.as_deref(),
        visitor.application.default_region,
    )?
    .ok_or_else(|| ApiError::required("phone"))
}

fn code_sent(target: &OtpTarget, sent: patron_service::SentCode) -> SendOtpOut {
    match target {
        OtpTarget::Mobile(phone) => mobile_sent(phone, sent),
        OtpTarget::Email(email) => email_code_sent(email, sent),
    }
}

fn email_code_sent(email: &Email, sent: patron_service::SentCode) -> SendOtpOut {
    SendOtpOut {
        success: true,
        request_id: sent.request_id,
        message: "OTP sent",
        mobile: None,
        country_code: None,
        email: Some(email.to_string()),
        resend_timer: sent.resend_timer,
        resend_token: sent.resend_token,
    }
}
