//! `registerWithForm` and `userExists`.

use std::net::SocketAddr;

use axum::extract::{ConnectInfo, State};
use axum::http::HeaderMap;
use axum::Json;
use patron_domain::customer::{validate_text, Profile};
use patron_domain::email::Email;
use patron_store::Application;

use super::{parse_mobile, present, Storefront};
use crate::app::AppState;
use crate::cookies::{cookie_headers, origin_of_request};
use crate::error::ApiError;
use crate::extract::{JsonBody, QueryPairs};
use crate::telemetry::current_request_id;
use crate::wire::customer::CustomerOut;
use crate::wire::register::{RegisterBody, RegisterFormOut};
use crate::wire::storefront::UserExistsOut;
use patron_service::{Registered, RegistrationForm};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub(super) fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(register))
        .routes(routes!(user_exists))
}

#[utoipa::path(
    post,
    path = "/authentication/v1.0/register/form",
    operation_id = "registerWithForm",
    tag = "storefront",
    request_body = RegisterBody,
    params(
        ("platform" = Option<String>, Query, description = "platform."),
    ),
    responses(
        (status = 200, description = "Done.", body = RegisterFormOut),
        crate::openapi::StorefrontErrors,
    ),
    security(("application" = []))
)]
pub(crate) async fn register(
    State(state): State<AppState>,
    Storefront { application }: Storefront,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    JsonBody(body): JsonBody<RegisterBody>,
) -> Result<(HeaderMap, Json<RegisterFormOut>), ApiError> {
    let form = registration_form(body, &application)?;
    let mut answer = RegisterFormOut {
        success: true,
        request_id: current_request_id().unwrap_or_default(),
        message: "registered",
        email: form
            .email
            .as_ref()
            .map(ToString::to_string)
            .unwrap_or_default(),
        mobile: form
            .phone
            .as_ref()
            .map(|p| p.national().to_owned())
            .unwrap_or_default(),
        country_code: form
            .phone
            .as_ref()
            .map(|p| p.country_code().to_string())
            .unwrap_or_default(),
        verify_email_otp: false,
        verify_mobile_otp: false,
        user_exists: false,
        resend_timer: 0,
        resend_token: None,
        resend_email_token: None,
        register_token: String::new(),
        user: None,
    };
    let origin = origin_of_request(&headers, Some(peer), &state.trusted_proxies);
    match state
        .services
        .registration
        .register(&application, form, origin)
        .await?
    {
        Registered::Pending {
            register_token,
            email_code,
            mobile_code,
        } => {
            answer.message = "verify the account with the one-time passwords sent to it";
            answer.register_token = register_token;
            answer.verify_email_otp = email_code.is_some();
            answer.verify_mobile_otp = mobile_code.is_some();
            if let Some(code) = mobile_code {
                answer.request_id = code.request_id;
                answer.resend_timer = code.resend_timer;
                answer.resend_token = Some(code.resend_token);
            }
            answer.resend_email_token = email_code.map(|code| code.resend_token);
            Ok((HeaderMap::new(), Json(answer)))
        }
        Registered::SignedIn { customer, session } => {
            answer.user = Some(CustomerOut::from(*customer));
            Ok((cookie_headers(&state, &session), Json(answer)))
        }
    }
}

/// Parses the form's fields (the configuration's rules are the use case's to apply).
fn registration_form(
    body: RegisterBody,
    application: &Application,
) -> Result<RegistrationForm, ApiError> {
    let email = present(body.email.as_deref())
        .map(|email| Email::parse("email", email))
        .transpose()?;
    let phone = match &body.phone {
        Some(phone) => parse_mobile(
            "phone.mobile",
            phone.mobile.as_deref(),
            "phone.country_code",
            phone.country_code.as_deref(),
            application.default_region,
        )?,
        None => None,
    };
    let text = |field: &str, value: Option<&str>| {
        value
            .map(|value| validate_text(field, value))
            .transpose()
            .map_err(ApiError::from)
    };
    Ok(RegistrationForm {
        profile: Profile {
            first_name: text("first_name", body.first_name.as_deref())?,
            last_name: text("last_name", body.last_name.as_deref())?,
            gender: text("gender", body.gender.as_deref())?,
            ..Profile::default()
        },
        email,
        phone,
        password: body.password.filter(|p| !p.is_empty()),
        consent: body.consent.unwrap_or(false),
    })
}

#[utoipa::path(
    get,
    path = "/authentication/v1.0/user-exists",
    operation_id = "userExists",
    tag = "storefront",
    params(
        ("q" = String, Query, description = "q."),
    ),
    responses(
        (status = 200, description = "Done.", body = UserExistsOut),
        crate::openapi::StorefrontErrors,
    ),
    security(("application" = []))
)]
pub(crate) async fn user_exists(
    State(state): State<AppState>,
    Storefront { application }: Storefront,
    query: QueryPairs,
) -> Result<Json<UserExistsOut>, ApiError> {
    let q = present(query.get("q")).ok_or_else(|| ApiError::required("q"))?;
    let exists = state
        .services
        .registration
        .user_exists(&application, q)
        .await?;
    Ok(Json(UserExistsOut {
        user_exists: exists,
    }))
}
