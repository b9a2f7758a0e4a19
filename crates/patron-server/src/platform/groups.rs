//! Seed operations 21–25 and 8: customer groups and their members.

use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use patron_domain::ids::ObjectId;
use patron_domain::page::PageRequest;
use patron_store::{Group, GroupFilter};

use super::attributes::text_query;
use super::{scoped, Platform};
use crate::app::AppState;
use crate::error::{ApiError, ErrorBody as ErrorSchema};
use crate::extract::PathParams;
use crate::extract::{JsonBody, QueryPairs};
use crate::wire::customer::CustomerOut;
use crate::wire::group::{GroupBody, GroupOut, PatchGroupBody};
use crate::wire::path::GroupPath;
use crate::wire::Paged;
use patron_domain::scope::Scope;
use patron_service::group_text;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub(super) fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(scoped(Scope::CustomersRead, routes!(list)))
        .routes(scoped(Scope::CustomersWrite, routes!(create)))
        .routes(scoped(Scope::CustomersRead, routes!(read)))
        .routes(scoped(Scope::CustomersWrite, routes!(update, patch)))
        .routes(scoped(Scope::CustomersRead, routes!(members)))
}

#[utoipa::path(
    post,
    path = "/user_group",
    operation_id = "createUserGroup",
    tag = "groups",
    summary = "Creates a conditional or bulk group.",
    request_body = GroupBody,
    params(
        crate::openapi::ApplicationPath,
    ),
    responses(
        (status = 201, description = "The group.", body = GroupOut),
        crate::openapi::PlatformErrors,
    )
)]
pub(crate) async fn create(
    State(state): State<AppState>,
    caller: Platform,
    JsonBody(body): JsonBody<GroupBody>,
) -> Result<(StatusCode, Json<GroupOut>), ApiError> {
    // Fynd's schema requires both texts, not blank.
    group_text("name", body.name.clone(), true)?;
    group_text("description", body.description.clone(), true)?;
    let created = state
        .services
        .groups
        .create(caller.requester(), body.draft())
        .await?;
    Ok((StatusCode::CREATED, Json(GroupOut::from(&created))))
}

async fn load(
    state: &AppState,
    application_id: &ObjectId,
    id: &ObjectId,
) -> Result<Group, ApiError> {
    Ok(state.services.groups.find(application_id, id).await?)
}

#[utoipa::path(
    get,
    path = "/user_group/{group_id}",
    operation_id = "getUserGroupById",
    tag = "groups",
    summary = "Reads a group.",
    params(
        crate::openapi::ApplicationPath,
        GroupPath,
    ),
    responses(
        (status = 200, description = "The group.", body = GroupOut),
        (status = 404, description = "No such group.", body = ErrorSchema),
        crate::openapi::PlatformErrors,
    )
)]
pub(crate) async fn read(
    State(state): State<AppState>,
    caller: Platform,
    PathParams(GroupPath { group_id }): PathParams<GroupPath>,
) -> Result<Json<GroupOut>, ApiError> {
    let group = load(&state, &caller.application.id, &group_id).await?;
    Ok(Json(GroupOut::from(&group)))
}

#[utoipa::path(
    get,
    path = "/user_group",
    operation_id = "getUserGroups",
    tag = "groups",
    summary = "Lists the application's groups.",
    params(
        crate::openapi::ApplicationPath,
        ("page_no" = Option<String>, Query, description = "Page, from 1."),
        ("page_size" = Option<String>, Query, description = "Items per page, 1 to 100."),
        ("name" = Option<String>, Query, description = "Text the name contains."),
        ("type" = Option<String>, Query, description = "`bulk` or `conditional`."),
        ("status" = Option<String>, Query, description = "`pending`, `completed` or `failed`."),
        ("group_uid" = Option<String>, Query, description = "The group's number."),
    ),
    responses(
        (status = 200, description = "One page of groups.", body = Paged<GroupOut>),
        crate::openapi::PlatformErrors,
    )
)]
pub(crate) async fn list(
    State(state): State<AppState>,
    caller: Platform,
    query: QueryPairs,
) -> Result<Json<Paged<GroupOut>>, ApiError> {
    let page = PageRequest::parse(query.get("page_no"), query.get("page_size"))?;
    let filter = GroupFilter {
        name: text_query(&query, "name"),
        kind: text_query(&query, "type"),
        status: text_query(&query, "status"),
        uid: text_query(&query, "group_uid")
            .map(|raw| {
                raw.parse::<i64>().map_err(|_| {
                    ApiError::validation(
                        "group_uid",
                        format!("must be a whole number, got '{raw}'"),
                    )
                })
            })
            .transpose()?,
    };
    let (groups, total) = state
        .services
        .groups
        .list(&caller.application.id, &filter, page)
        .await?;
    let items = groups.iter().map(GroupOut::from).collect();
    Ok(Json(Paged::new(items, page.info(total))))
}

#[utoipa::path(
    put,
    path = "/user_group/{group_id}",
    operation_id = "updateUserGroup",
    tag = "groups",
    summary = "Replaces a group's definition.",
    request_body = GroupBody,
    params(
        crate::openapi::ApplicationPath,
        GroupPath,
    ),
    responses(
        (status = 200, description = "The group.", body = GroupOut),
        (status = 404, description = "No such group.", body = ErrorSchema),
        crate::openapi::PlatformErrors,
    )
)]
pub(crate) async fn update(
    State(state): State<AppState>,
    caller: Platform,
    PathParams(GroupPath { group_id }): PathParams<GroupPath>,
    JsonBody(body): JsonBody<GroupBody>,
) -> Result<Json<GroupOut>, ApiError> {
    let saved = state
        .services
        .groups
        .replace(caller.requester(), &group_id, body.draft())
        .await?;
    Ok(Json(GroupOut::from(&saved)))
}

#[utoipa::path(
    patch,
    path = "/user_group/{group_id}",
    operation_id = "updateUserGroupPartially",
    tag = "groups",
    summary = "Adds or removes members of a bulk group, or changes white- and blacklists.",
    request_body = PatchGroupBody,
    params(
        crate::openapi::ApplicationPath,
        GroupPath,
    ),
    responses(
        (status = 200, description = "The group.", body = GroupOut),
        (status = 404, description = "No such group.", body = ErrorSchema),
        crate::openapi::PlatformErrors,
    )
)]
pub(crate) async fn patch(
    State(state): State<AppState>,
    caller: Platform,
    PathParams(GroupPath { group_id }): PathParams<GroupPath>,
    JsonBody(body): JsonBody<PatchGroupBody>,
) -> Result<Json<GroupOut>, ApiError> {
    let saved = state
        .services
        .groups
        .patch(caller.requester(), &group_id, body.into())
        .await?;
    Ok(Json(GroupOut::from(&saved)))
}

#[utoipa::path(
    get,
    path = "/user_group/{group_id}/users",
    operation_id = "getUsersByByGroupId",
    tag = "groups",
    summary = "Lists a group's members, computed now.",
    params(
        crate::openapi::ApplicationPath,
        GroupPath,
        ("page_no" = Option<String>, Query, description = "Page, from 1."),
        ("page_size" = Option<String>, Query, description = "Items per page, 1 to 100."),
    ),
    responses(
        (status = 200, description = "One page of members.", body = Paged<CustomerOut>),
        (status = 404, description = "No such group.", body = ErrorSchema),
        crate::openapi::PlatformErrors,
    )
)]
pub(crate) async fn members(
    State(state): State<AppState>,
    caller: Platform,
    PathParams(GroupPath { group_id }): PathParams<GroupPath>,
    query: QueryPairs,
) -> Result<Json<Paged<CustomerOut>>, ApiError> {
    let page = PageRequest::parse(query.get("page_no"), query.get("page_size"))?;
    let group = load(&state, &caller.application.id, &group_id).await?;
    let membership = state.services.groups.membership(&group).await?;
    let (customers, total) = state
        .services
        .groups
        .members(&caller.application.id, &membership, None, page)
        .await?;
    let items: Vec<CustomerOut> = customers.into_iter().map(CustomerOut::from).collect();
    Ok(Json(Paged::new(items, page.info(total))))
}
