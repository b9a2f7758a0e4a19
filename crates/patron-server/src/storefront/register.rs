//! `registerWithForm` and `userExists`.

use std::net::SocketAddr;

use axum::extract::{ConnectInfo, State};
use axum::http::HeaderMap;
use axum::routing::{get, post};
use axum::{Json, Router};
use chrono::Duration;
use patron_domain::customer::{validate_text, NewCustomer, Profile};
use patron_domain::email::Email;
use patron_domain::password::PasswordPolicy;
use patron_domain::phone::Phone;
use patron_domain::secret;
use patron_store::{Actor, Conflict, PendingRegistration, StoreError};
use rand::Rng;
use serde::Deserialize;
use serde_json::{json, Value};

use super::Storefront;
use crate::app::AppState;
use crate::auth_config;
use crate::error::{ApiError, ErrorCode};
use crate::extract::{JsonBody, QueryPairs};
use crate::sessions::{self, Origin};
use crate::telemetry::current_request_id;
use crate::wire::customer::CustomerOut;

/// How long a registration may wait for its OTP verification.
const PENDING_LIFETIME: Duration = Duration::minutes(30);
/// Seconds a storefront waits before offering to resend an OTP.
const RESEND_TIMER_SECS: u32 = 30;

pub(super) fn router() -> Router<AppState> {
    Router::new()
        .route("/authentication/v1.0/register/form", post(register))
        .route("/authentication/v1.0/user-exists", get(user_exists))
}

/// `FormRegisterRequestSchema`.
#[derive(Debug, Deserialize)]
struct RegisterBody {
    first_name: Option<String>,
    last_name: Option<String>,
    gender: Option<String>,
    email: Option<String>,
    password: Option<String>,
    phone: Option<PhoneBody>,
    consent: Option<bool>,
}

/// `{country_code, mobile}` of a registration.
#[derive(Debug, Deserialize)]
struct PhoneBody {
    country_code: Option<String>,
    mobile: Option<String>,
}

async fn register(
    State(state): State<AppState>,
    Storefront { application }: Storefront,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    JsonBody(body): JsonBody<RegisterBody>,
) -> Result<(HeaderMap, Json<Value>), ApiError> {
    let config = auth_config::load(&state, &application).await?.config;
    if !config.registration_enabled() {
        return Err(ApiError::Denied {
            code: ErrorCode::RegistrationDisabled,
            message: "registration is turned off for this store".to_owned(),
        });
    }
    let rules = config.registration_rules();
    let email = present(body.email.as_deref())
        .map(|email| Email::parse("email", email))
        .transpose()?;
    let phone = match &body.phone {
        Some(PhoneBody {
            mobile: Some(mobile),
            country_code,
        }) if !mobile.trim().is_empty() => {
            let code = present(country_code.as_deref())
                .map(|code| {
                    code.trim_start_matches('+').parse::<u16>().map_err(|_| {
                        ApiError::validation("phone.country_code", "is not a country code")
                    })
                })
                .transpose()?;
            Some(Phone::parse(
                "phone.mobile",
                mobile,
                code,
                application.default_region,
            )?)
        }
        _ => None,
    };
    if rules.email.required && email.is_none() {
        return Err(ApiError::required("email"));
    }
    if rules.mobile.required && phone.is_none() {
        return Err(ApiError::required("phone.mobile"));
    }
    let password = body.password.filter(|p| !p.is_empty());
    if rules.password && password.is_none() {
        return Err(ApiError::required("password"));
    }
    if let Some(password) = &password {
        PasswordPolicy::from_config(&config).check(password)?;
    }
    let profile = Profile {
        first_name: body
            .first_name
            .as_deref()
            .map(|v| validate_text("first_name", v))
            .transpose()?,
        last_name: body
            .last_name
            .as_deref()
            .map(|v| validate_text("last_name", v))
            .transpose()?,
        gender: body
            .gender
            .as_deref()
            .map(|v| validate_text("gender", v))
            .transpose()?,
        ..Profile::default()
    };
    let taken = state
        .stores
        .customers
        .search_customers(&application.id, email.as_slice(), phone.as_slice())
        .await?;
    if let Some(holder) = taken.first() {
        let email_taken = email
            .as_ref()
            .is_some_and(|e| holder.emails.iter().any(|entry| entry.email == *e));
        return Err(ApiError::Conflict(match (&email, &phone) {
            (Some(email), _) if email_taken => Conflict::Email(email.to_string()),
            (_, Some(phone)) => Conflict::Phone(phone.to_string()),
            _ => Conflict::Email(email.map(|e| e.to_string()).unwrap_or_default()),
        }));
    }
    let password_hash = match password {
        Some(password) => Some(state.passwords.hash(password).await?),
        None => None,
    };
    let verify_email = rules.email.verified && email.is_some();
    let verify_mobile = rules.mobile.verified && phone.is_some();
    let mut answer = json!({
        "success": true,
        "request_id": current_request_id().unwrap_or_default(),
        "email": email.as_ref().map(ToString::to_string).unwrap_or_default(),
        "mobile": phone.as_ref().map(|p| p.national().to_owned()).unwrap_or_default(),
        "country_code": phone.as_ref().map(|p| p.country_code().to_string()).unwrap_or_default(),
        "verify_email_otp": verify_email,
        "verify_mobile_otp": verify_mobile,
        "user_exists": false,
        "resend_timer": RESEND_TIMER_SECS,
    });
    let now = state.clock.now();
    if verify_email || verify_mobile {
        let register_token = secret::generate_secret();
        let payload = json!({
            "profile": { "first_name": profile.first_name, "last_name": profile.last_name, "gender": profile.gender },
            "email": email.as_ref().map(ToString::to_string),
            "phone": phone.as_ref().map(|p| json!({ "country_code": p.country_code(), "national": p.national() })),
            "password_hash": password_hash,
            "consent": body.consent.unwrap_or(false),
        });
        let pending = PendingRegistration {
            token_digest: secret::digest(&register_token),
            application_id: application.id.clone(),
            payload,
            created_at: now,
            expires_at: now + PENDING_LIFETIME,
        };
        state
            .stores
            .credentials
            .save_pending_registration(&pending)
            .await?;
        answer["register_token"] = json!(register_token);
        answer["message"] = json!("verify the account with the one-time passwords sent to it");
        return Ok((HeaderMap::new(), Json(answer)));
    }
    let actor = Actor::new("storefront").with_reason("self-registration", None);
    let customer = loop {
        let suffix = rand::thread_rng().gen_range(10_000..100_000_000);
        let new = NewCustomer::new(
            application.id.clone(),
            None,
            profile.clone(),
            email.clone(),
            phone.clone(),
            suffix,
            now,
        )?;
        match state
            .stores
            .credentials
            .register_customer(&new, password_hash.as_deref(), &actor)
            .await
        {
            Err(StoreError::Conflict(Conflict::Username(_))) => continue,
            result => break result?,
        }
    };
    let lifetime = config.session().lifetime;
    let response_headers = sessions::sign_in(
        &state,
        &application,
        &customer.id,
        Origin::of_request(&headers, Some(peer)),
        lifetime,
    )
    .await?;
    answer["message"] = json!("registered");
    answer["register_token"] = json!("");
    answer["user"] = json!(CustomerOut::from(customer));
    Ok((response_headers, Json(answer)))
}

async fn user_exists(
    State(state): State<AppState>,
    Storefront { application }: Storefront,
    query: QueryPairs,
) -> Result<Json<Value>, ApiError> {
    let q = present(query.get("q")).ok_or_else(|| ApiError::required("q"))?;
    let (emails, phones): (Vec<Email>, Vec<Phone>) = if q.contains('@') {
        (Email::parse("q", q).ok().into_iter().collect(), Vec::new())
    } else {
        (
            Vec::new(),
            Phone::parse("q", q, None, application.default_region)
                .ok()
                .into_iter()
                .collect(),
        )
    };
    let found = state
        .stores
        .customers
        .search_customers(&application.id, &emails, &phones)
        .await?;
    Ok(Json(json!({ "user_exists": !found.is_empty() })))
}

fn present(value: Option<&str>) -> Option<&str> {
    value.map(str::trim).filter(|v| !v.is_empty())
}
