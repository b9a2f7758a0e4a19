//! Seed operations 30–31: read and update the application's authentication configuration.

use axum::extract::State;
use axum::Json;
use serde_json::{Map, Value};

use super::{scoped, Platform};
use crate::app::AppState;
use crate::error::ApiError;
use crate::extract::JsonBody;
use crate::wire::auth_config::render;
use patron_domain::scope::Scope;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub(super) fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(scoped(Scope::CustomersRead, routes!(read)))
        .routes(scoped(Scope::SettingsWrite, routes!(update)))
}

#[utoipa::path(
    get,
    path = "/platform/config",
    operation_id = "getPlatformConfig",
    tag = "configuration",
    summary = "Reads the application's authentication configuration (secrets left out).",
    params(
        crate::openapi::ApplicationPath,
    ),
    responses(
        (status = 200, description = "The configuration (`PlatformSchema`).", body = Object),
        crate::openapi::PlatformErrors,
    )
)]
/// Answers a JSON object: the configuration is an open document (unknown keys are kept and
/// returned), so it has no fixed struct.
pub(crate) async fn read(
    State(state): State<AppState>,
    caller: Platform,
) -> Result<Json<Map<String, Value>>, ApiError> {
    let current = state
        .services
        .auth_configs
        .load(&caller.application)
        .await?;
    Ok(Json(render(&caller.application, &current)))
}

#[utoipa::path(
    post,
    path = "/platform/config",
    operation_id = "updatePlatformConfig",
    tag = "configuration",
    summary = "Changes the application's authentication configuration: login methods, registration, lockout, password policy, sessions, OTP limits and budgets, links and templates.",
    request_body = Object,
    params(
        crate::openapi::ApplicationPath,
    ),
    responses(
        (status = 200, description = "The configuration (`PlatformSchema`).", body = Object),
        crate::openapi::PlatformErrors,
    )
)]
/// Answers the saved document, as [`read`] does.
pub(crate) async fn update(
    State(state): State<AppState>,
    caller: Platform,
    JsonBody(body): JsonBody<Map<String, Value>>,
) -> Result<Json<Map<String, Value>>, ApiError> {
    let current = state
        .services
        .auth_configs
        .update(&caller.application, &body)
        .await?;
    Ok(Json(render(&caller.application, &current)))
}
