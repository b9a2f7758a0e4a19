//! Social sign-in: `loginWithGoogle`, `loginWithGoogleAndroid`, `loginWithGoogleIOS`,
//! `loginWithAppleIOS` and `loginWithFacebook`.

use axum::extract::State;
use axum::http::HeaderMap;
use axum::Json;

use super::{present, Visitor};
use crate::app::AppState;
use crate::cookies::cookie_headers;
use crate::error::ApiError;
use crate::extract::JsonBody;
use crate::wire::customer::CustomerOut;
use crate::wire::social::{AppleBody, AuthSuccessOut, OAuthBody, ProfileBody};
use patron_service::{Provider, SocialCredential, SocialOutcome};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub(super) fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(google))
        .routes(routes!(google_android))
        .routes(routes!(google_ios))
        .routes(routes!(facebook))
        .routes(routes!(apple))
}

#[utoipa::path(
    post,
    path = "/authentication/v1.0/login/google-token",
    operation_id = "loginWithGoogle",
    tag = "storefront",
    request_body = OAuthBody,
    params(
        ("platform" = Option<String>, Query, description = "platform."),
    ),
    responses(
        (status = 200, description = "Done.", body = AuthSuccessOut),
        crate::openapi::StorefrontErrors,
    ),
    security(("application" = []))
)]
pub(crate) async fn google(
    state: State<AppState>,
    visitor: Visitor,
    JsonBody(body): JsonBody<OAuthBody>,
) -> Result<(HeaderMap, Json<AuthSuccessOut>), ApiError> {
    let token = required(
        body.oauth2.and_then(|o| o.access_token),
        "oauth2.access_token",
    )?;
    let credential = credential(Provider::Google, token, None, body.profile);
    sign_in(state, visitor, credential).await
}

#[utoipa::path(
    post,
    path = "/authentication/v1.0/login/google-android",
    operation_id = "loginWithGoogleAndroid",
    tag = "storefront",
    request_body = OAuthBody,
    params(
        ("platform" = Option<String>, Query, description = "platform."),
    ),
    responses(
        (status = 200, description = "Done.", body = AuthSuccessOut),
        crate::openapi::StorefrontErrors,
    ),
    security(("application" = []))
)]
/// `loginWithGoogleAndroid`: Google sign-in from an Android app, as `loginWithGoogle`.
pub(crate) async fn google_android(
    state: State<AppState>,
    visitor: Visitor,
    body: JsonBody<OAuthBody>,
) -> Result<(HeaderMap, Json<AuthSuccessOut>), ApiError> {
    google(state, visitor, body).await
}

#[utoipa::path(
    post,
    path = "/authentication/v1.0/login/google-ios",
    operation_id = "loginWithGoogleIOS",
    tag = "storefront",
    request_body = OAuthBody,
    params(
        ("platform" = Option<String>, Query, description = "platform."),
    ),
    responses(
        (status = 200, description = "Done.", body = AuthSuccessOut),
        crate::openapi::StorefrontErrors,
    ),
    security(("application" = []))
)]
/// `loginWithGoogleIOS`: Google sign-in from an iOS app, as `loginWithGoogle`.
pub(crate) async fn google_ios(
    state: State<AppState>,
    visitor: Visitor,
    body: JsonBody<OAuthBody>,
) -> Result<(HeaderMap, Json<AuthSuccessOut>), ApiError> {
    google(state, visitor, body).await
}

#[utoipa::path(
    post,
    path = "/authentication/v1.0/login/facebook-token",
    operation_id = "loginWithFacebook",
    tag = "storefront",
    request_body = OAuthBody,
    params(
        ("platform" = Option<String>, Query, description = "platform."),
    ),
    responses(
        (status = 200, description = "Done.", body = AuthSuccessOut),
        crate::openapi::StorefrontErrors,
    ),
    security(("application" = []))
)]
pub(crate) async fn facebook(
    state: State<AppState>,
    visitor: Visitor,
    JsonBody(body): JsonBody<OAuthBody>,
) -> Result<(HeaderMap, Json<AuthSuccessOut>), ApiError> {
    let token = required(
        body.oauth2.and_then(|o| o.access_token),
        "oauth2.access_token",
    )?;
    let user_id = required(
        body.profile.as_ref().and_then(|p| p.id.clone()),
        "profile.id",
    )?;
    let credential = credential(Provider::Facebook, token, Some(user_id), body.profile);
    sign_in(state, visitor, credential).await
}

#[utoipa::path(
    post,
    path = "/authentication/v1.0/login/apple-ios",
    operation_id = "loginWithAppleIOS",
    tag = "storefront",
    request_body = AppleBody,
    params(
        ("platform" = Option<String>, Query, description = "platform."),
    ),
    responses(
        (status = 200, description = "Done.", body = AuthSuccessOut),
        crate::openapi::StorefrontErrors,
    ),
    security(("application" = []))
)]
pub(crate) async fn apple(
    state: State<AppState>,
    visitor: Visitor,
    JsonBody(body): JsonBody<AppleBody>,
) -> Result<(HeaderMap, Json<AuthSuccessOut>), ApiError> {
    let token = required(
        body.oauth.and_then(|o| o.identity_token),
        "oauth.identity_token",
    )?;
    let user_identifier = required(body.user_identifier, "user_identifier")?;
    let credential = credential(Provider::Apple, token, Some(user_identifier), body.profile);
    sign_in(state, visitor, credential).await
}

fn credential(
    provider: Provider,
    token: String,
    user_id: Option<String>,
    profile: Option<ProfileBody>,
) -> SocialCredential {
    let (first_name, last_name) = profile
        .map(|p| (p.first_name, p.last_name))
        .unwrap_or_default();
    let name = |value: Option<String>| {
        value
            .map(|v| v.trim().chars().take(256).collect::<String>())
            .filter(|v| !v.is_empty())
    };
    SocialCredential {
        provider,
        token,
        user_id,
        first_name: name(first_name),
        last_name: name(last_name),
    }
}

async fn sign_in(
    State(state): State<AppState>,
    visitor: Visitor,
    credential: SocialCredential,
) -> Result<(HeaderMap, Json<AuthSuccessOut>), ApiError> {
    let outcome = state
        .services
        .social
        .sign_in(&visitor.application, credential, visitor.origin.clone())
        .await?;
    Ok(match outcome {
        SocialOutcome::SignedIn(signed_in) => (
            cookie_headers(&state, &signed_in.session),
            Json(AuthSuccessOut {
                user_exists: true,
                register_token: None,
                user: Some(CustomerOut::from(signed_in.customer.clone())),
            }),
        ),
        SocialOutcome::SignUp { register_token } => (
            HeaderMap::new(),
            Json(AuthSuccessOut {
                user_exists: false,
                register_token: Some(register_token),
                user: None,
            }),
        ),
    })
}

fn required(value: Option<String>, field: &str) -> Result<String, ApiError> {
    present(value.as_deref())
        .filter(|v| v.len() <= 16 * 1024)
        .map(str::to_owned)
        .ok_or_else(|| ApiError::required(field))
}
