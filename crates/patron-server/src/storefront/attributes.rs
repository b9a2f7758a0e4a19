//! A signed-in shopper's own attributes: `getUserAttributes` and `updateUserAttributes`,
//! limited to the definitions marked `customer_editable`.

use axum::extract::State;
use axum::http::HeaderMap;
use axum::Json;

use super::{present, Shopper};
use crate::app::AppState;
use crate::error::ApiError;
use crate::extract::{JsonBody, QueryPairs};
use crate::wire::attribute::{AttributesBody, AttributesOut};
use patron_service::customer_actor;
use patron_store::Actor;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

/// Most values one `updateUserAttributes` call may set.
const MAX_VALUES: usize = 200;

pub(super) fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(read_attributes, update_attributes))
}

#[utoipa::path(
    get,
    path = "/profile/v1.0/user-attributes",
    operation_id = "getUserAttributes",
    tag = "storefront",
    params(
        ("slug" = Option<String>, Query, description = "slug."),
    ),
    responses(
        (status = 200, description = "Done.", body = AttributesOut),
        crate::openapi::StorefrontErrors,
    ),
    security(("application" = [], "session" = []))
)]
pub(crate) async fn read_attributes(
    State(state): State<AppState>,
    shopper: Shopper,
    query: QueryPairs,
) -> Result<(HeaderMap, Json<AttributesOut>), ApiError> {
    let values = state
        .services
        .attributes
        .customer_view(
            &shopper.application.id,
            &shopper.current.customer.id,
            present(query.get("slug")),
        )
        .await?;
    Ok((
        shopper.response_headers(),
        Json(AttributesOut {
            attributes: values.into_iter().collect(),
        }),
    ))
}

#[utoipa::path(
    patch,
    path = "/profile/v1.0/user-attributes",
    operation_id = "applicationUpdateUserAttributes",
    tag = "storefront",
    request_body = AttributesBody,
    responses(
        (status = 200, description = "Done.", body = AttributesOut),
        crate::openapi::StorefrontErrors,
    ),
    security(("application" = [], "session" = []))
)]
pub(crate) async fn update_attributes(
    State(state): State<AppState>,
    shopper: Shopper,
    JsonBody(body): JsonBody<AttributesBody>,
) -> Result<(HeaderMap, Json<AttributesOut>), ApiError> {
    let entries = body
        .attributes
        .ok_or_else(|| ApiError::required("attributes"))?;
    if entries.is_empty() || entries.len() > MAX_VALUES {
        return Err(ApiError::validation(
            "attributes",
            format!("must hold 1 to {MAX_VALUES} values"),
        ));
    }
    let customer_id = &shopper.current.customer.id;
    let actor = Actor::new(customer_actor(customer_id));
    let written = state
        .services
        .attributes
        .customer_update(
            &shopper.application.id,
            customer_id,
            &entries.into_iter().collect::<Vec<_>>(),
            &actor,
        )
        .await?;
    Ok((
        shopper.response_headers(),
        Json(AttributesOut {
            attributes: written.into_iter().collect(),
        }),
    ))
}
