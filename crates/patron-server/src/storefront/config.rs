//! `getPlatformConfig`: the storefront reads the configuration that drives its login UI
//! (secrets are never part of it).

use axum::extract::State;
use axum::Json;
use serde_json::{Map, Value};

use super::Storefront;
use crate::app::AppState;
use crate::error::ApiError;
use crate::wire::auth_config::render;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub(super) fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(read))
}

#[utoipa::path(
    get,
    path = "/platform/v1.0/config",
    operation_id = "applicationGetPlatformConfig",
    tag = "storefront",
    params(
        ("name" = Option<String>, Query, description = "name."),
    ),
    responses(
        (status = 200, description = "Done.", body = Object),
        crate::openapi::StorefrontErrors,
    ),
    security(("application" = []))
)]
/// Answers a JSON object: the configuration is an open document (unknown keys are kept and
/// returned), so it has no fixed struct.
pub(crate) async fn read(
    State(state): State<AppState>,
    caller: Storefront,
) -> Result<Json<Map<String, Value>>, ApiError> {
    let current = state
        .services
        .auth_configs
        .load(&caller.application)
        .await?;
    Ok(Json(render(&caller.application, &current)))
}
