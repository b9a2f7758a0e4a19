//! Seed operations 30–31: read and update the application's authentication configuration.

use axum::extract::State;
use axum::routing::get;
use axum::{Json, Router};
use serde_json::{Map, Value};

use super::{CustomersRead, Platform, SettingsWrite};
use crate::app::AppState;
use crate::error::ApiError;
use crate::extract::JsonBody;
use crate::wire::auth_config::render;

pub(super) fn router() -> Router<AppState> {
    Router::new().route("/platform/config", get(read).post(update))
}

/// Answers a JSON object: the configuration is an open document (unknown keys are kept and
/// returned), so it has no fixed struct.
async fn read(
    State(state): State<AppState>,
    caller: Platform<CustomersRead>,
) -> Result<Json<Map<String, Value>>, ApiError> {
    let current = state
        .services
        .auth_configs
        .load(&caller.application)
        .await?;
    Ok(Json(render(&caller.application, &current)))
}

/// Answers the saved document, as [`read`] does.
async fn update(
    State(state): State<AppState>,
    caller: Platform<SettingsWrite>,
    JsonBody(body): JsonBody<Map<String, Value>>,
) -> Result<Json<Map<String, Value>>, ApiError> {
    let current = state
        .services
        .auth_configs
        .update(&caller.application, &body)
        .await?;
    Ok(Json(render(&caller.application, &current)))
}
