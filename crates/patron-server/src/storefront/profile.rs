//! `updateProfile`: a signed-in shopper's profile, or the completion of a sign-up that a
//! one-time password started (`register_token`, no session yet).

use axum::extract::State;
use axum::http::HeaderMap;
use axum::Json;
use patron_domain::customer::validate_text;
use patron_domain::email::Email;
use patron_store::Application;

use super::{parse_mobile, present, Visitor};
use crate::app::AppState;
use crate::cookies::{cookie_headers, set_cookie};
use crate::error::ApiError;
use crate::extract::JsonBody;
use crate::wire::customer::CustomerOut;
use crate::wire::profile::{EditProfileBody, ProfileEditOut};
use patron_service::{ProfileForm, ProfileSaved, Sender};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub(super) fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(update_profile))
}

#[utoipa::path(
    post,
    path = "/profile/v1.0/detail",
    operation_id = "updateProfile",
    tag = "storefront",
    request_body = EditProfileBody,
    params(
        ("platform" = Option<String>, Query, description = "platform."),
    ),
    responses(
        (status = 200, description = "Done.", body = ProfileEditOut),
        crate::openapi::StorefrontErrors,
    ),
    security(("application" = [], "session" = []))
)]
pub(crate) async fn update_profile(
    State(state): State<AppState>,
    visitor: Visitor,
    JsonBody(body): JsonBody<EditProfileBody>,
) -> Result<(HeaderMap, Json<ProfileEditOut>), ApiError> {
    let form = profile_form(&body, &visitor.application)?;
    let android_hash = present(body.android_hash.as_deref());
    let profiles = &state.services.profiles;
    let (saved, mut headers) = match (present(body.register_token.as_deref()), &visitor.current) {
        (Some(register_token), _) => {
            let saved = profiles
                .complete_sign_up(
                    &visitor.application,
                    register_token,
                    form,
                    visitor.origin.clone(),
                    android_hash,
                )
                .await?;
            (saved, HeaderMap::new())
        }
        (None, Some(current)) => {
            let sender = Sender {
                client_address: &visitor.origin.ip,
                android_hash,
                device: visitor.origin.device.as_ref(),
            };
            let saved = profiles
                .update(&visitor.application, &current.customer, form, sender)
                .await?;
            (saved, visitor.response_headers())
        }
        (None, None) => {
            return Err(ApiError::Unauthenticated(
                "sign in first, or complete a sign-up with its register_token".to_owned(),
            ))
        }
    };
    if let Some(session) = &saved.session {
        for value in cookie_headers(&state, session).get_all(axum::http::header::SET_COOKIE) {
            set_cookie(&mut headers, value.clone());
        }
    }
    Ok((headers, Json(profile_edited(saved))))
}

fn profile_edited(saved: ProfileSaved) -> ProfileEditOut {
    let ProfileSaved {
        customer,
        email_code,
        mobile_code,
        ..
    } = saved;
    ProfileEditOut {
        success: true,
        message: if email_code.is_some() || mobile_code.is_some() {
            "verify the new contact with the code sent to it"
        } else {
            "profile saved"
        },
        user_exists: true,
        verify_email_otp: email_code.is_some(),
        verify_mobile_otp: mobile_code.is_some(),
        verify_email_link: false,
        email: email_code.as_ref().map(|(email, _)| email.to_string()),
        mobile: mobile_code
            .as_ref()
            .map(|(phone, _)| phone.national().to_owned()),
        country_code: mobile_code
            .as_ref()
            .map(|(phone, _)| phone.country_code().to_string()),
        resend_timer: mobile_code
            .as_ref()
            .map(|(_, code)| code.resend_timer)
            .or(email_code.as_ref().map(|(_, code)| code.resend_timer)),
        request_id: mobile_code
            .as_ref()
            .map(|(_, code)| code.request_id.clone()),
        resend_token: mobile_code.map(|(_, code)| code.resend_token),
        resend_email_token: email_code.map(|(_, code)| code.resend_token),
        user: CustomerOut::from(customer),
    }
}

fn profile_form(
    body: &EditProfileBody,
    application: &Application,
) -> Result<ProfileForm, ApiError> {
    let text = |field: &str, value: Option<&str>| {
        present(value)
            .map(|value| validate_text(field, value))
            .transpose()
            .map_err(ApiError::from)
    };
    let email = present(body.email.as_deref())
        .map(|email| Email::parse("email", email))
        .transpose()?;
    let phone = match &body.mobile {
        Some(mobile) => parse_mobile(
            "mobile.phone",
            mobile.phone.as_deref(),
            "mobile.country_code",
            mobile
                .country_code
                .as_deref()
                .or(body.country_code.as_deref()),
            application.default_region,
        )?,
        None => None,
    };
    Ok(ProfileForm {
        first_name: text("first_name", body.first_name.as_deref())?,
        last_name: text("last_name", body.last_name.as_deref())?,
        gender: text("gender", body.gender.as_deref())?,
        dob: text("dob", body.dob.as_deref())?,
        profile_pic_url: text("profile_pic_url", body.profile_pic_url.as_deref())?,
        email,
        phone,
    })
}
