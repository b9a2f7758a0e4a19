//! Seed operations 9–20: attribute definitions, per-customer values, and bulk updates.

use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use patron_domain::ids::ObjectId;
use patron_domain::page::PageRequest;
use patron_store::{Actor, DefinitionFilter};
use serde_json::Value;

use super::{scoped, Platform};
use crate::app::AppState;
use crate::error::{ApiError, ErrorBody as ErrorSchema};
use crate::extract::PathParams;
use crate::extract::{JsonBody, QueryPairs};
use crate::wire::attribute::{
    BulkAnswer, BulkPerUserBody, BulkSameBody, DefinitionBody, DefinitionOut, DeleteValuesBody,
    KeyValue, UserAttributesBody, ValueBody, ValueOut, ValuesSetOut,
};
use crate::wire::path::{DefinitionPath, DefinitionUserPath, UserPath, ValuePath};
use crate::wire::{Paged, SuccessText, SUCCESS_TEXT};
use patron_domain::scope::Scope;
use patron_service::BulkRow;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub(super) fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(scoped(Scope::CustomersRead, routes!(list_definitions)))
        .routes(scoped(Scope::CustomersWrite, routes!(create_definition)))
        .routes(scoped(Scope::CustomersRead, routes!(get_definition)))
        .routes(scoped(
            Scope::CustomersWrite,
            routes!(update_definition, delete_definition),
        ))
        .routes(scoped(Scope::CustomersRead, routes!(get_value)))
        .routes(scoped(
            Scope::CustomersWrite,
            routes!(upsert_value, delete_value),
        ))
        .routes(scoped(Scope::CustomersRead, routes!(list_values)))
        .routes(scoped(
            Scope::CustomersWrite,
            routes!(set_values, delete_values),
        ))
        .routes(scoped(Scope::CustomersRead, routes!(get_value_by_id)))
        .routes(scoped(Scope::CustomersWrite, routes!(bulk_same)))
        .routes(scoped(Scope::CustomersWrite, routes!(bulk_per_user)))
}

#[utoipa::path(
    post,
    path = "/user_attribute/definition",
    operation_id = "createUserAttributeDefinition",
    tag = "attributes",
    summary = "Defines a typed customer attribute.",
    request_body = DefinitionBody,
    params(
        crate::openapi::ApplicationPath,
    ),
    responses(
        (status = 201, description = "The definition.", body = DefinitionOut),
        (status = 409, description = "The slug is taken.", body = ErrorSchema),
        crate::openapi::PlatformErrors,
    )
)]
pub(crate) async fn create_definition(
    State(state): State<AppState>,
    caller: Platform,
    JsonBody(body): JsonBody<DefinitionBody>,
) -> Result<(StatusCode, Json<DefinitionOut>), ApiError> {
    let is_locked = body.is_locked.unwrap_or(false);
    let definition = state
        .services
        .attributes
        .create_definition(
            &caller.application.id,
            &caller.client_id,
            body.into_input(),
            is_locked,
        )
        .await?;
    Ok((StatusCode::CREATED, Json(DefinitionOut::from(&definition))))
}

#[utoipa::path(
    get,
    path = "/user_attribute/definition",
    operation_id = "getUserAttributeDefinitions",
    tag = "attributes",
    summary = "Lists the application's attribute definitions.",
    params(
        crate::openapi::ApplicationPath,
        ("page_no" = Option<String>, Query, description = "Page, from 1."),
        ("page_size" = Option<String>, Query, description = "Items per page, 1 to 100."),
        ("excluding_ids" = Option<Vec<String>>, Query, description = "Definitions to leave out."),
        ("slug" = Option<String>, Query, description = "Exact slug."),
        ("type" = Option<String>, Query, description = "Exact type name."),
        ("customer_editable" = Option<bool>, Query, description = "Customer-editable or not."),
        ("encrypted" = Option<bool>, Query, description = "Encrypted or not."),
        ("pinned" = Option<bool>, Query, description = "Pinned or not."),
        ("is_locked" = Option<bool>, Query, description = "Locked or not."),
        ("name" = Option<String>, Query, description = "Text the name contains."),
    ),
    responses(
        (status = 200, description = "One page of definitions.", body = Paged<DefinitionOut>),
        crate::openapi::PlatformErrors,
    )
)]
pub(crate) async fn list_definitions(
    State(state): State<AppState>,
    caller: Platform,
    query: QueryPairs,
) -> Result<Json<Paged<DefinitionOut>>, ApiError> {
    let page = PageRequest::parse(query.get("page_no"), query.get("page_size"))?;
    let mut excluding_ids = Vec::new();
    for raw in query.all("excluding_ids") {
        for id in raw.split(',').map(str::trim).filter(|id| !id.is_empty()) {
            excluding_ids.push(ObjectId::parse("excluding_ids", id)?);
        }
    }
    let filter = DefinitionFilter {
        excluding_ids,
        slug: text_query(&query, "slug"),
        attribute_type: text_query(&query, "type"),
        customer_editable: flag(&query, "customer_editable")?,
        encrypted: flag(&query, "encrypted")?,
        pinned: flag(&query, "pinned")?,
        pin_order: query
            .get("pin_order")
            .map(|raw| {
                raw.trim().parse::<i64>().map_err(|_| {
                    ApiError::validation(
                        "pin_order",
                        format!("must be a whole number, got '{raw}'"),
                    )
                })
            })
            .transpose()?,
        is_locked: flag(&query, "is_locked")?,
        name: text_query(&query, "name"),
    };
    let (definitions, total) = state
        .services
        .attributes
        .list_definitions(&caller.application.id, &filter, page)
        .await?;
    let items = definitions.iter().map(DefinitionOut::from).collect();
    Ok(Json(Paged::new(items, page.info(total))))
}

/// A non-empty query value.
pub(super) fn text_query(query: &QueryPairs, key: &str) -> Option<String> {
    query
        .get(key)
        .map(str::trim)
        .filter(|value| !value.is_empty())
        .map(str::to_owned)
}

fn flag(query: &QueryPairs, key: &str) -> Result<Option<bool>, ApiError> {
    match query.get(key).map(str::trim) {
        None | Some("") => Ok(None),
        Some("true") => Ok(Some(true)),
        Some("false") => Ok(Some(false)),
        Some(other) => Err(ApiError::validation(
            key,
            format!("must be true or false, got '{other}'"),
        )),
    }
}

#[utoipa::path(
    get,
    path = "/user_attribute/definition/{attribute_def_id}",
    operation_id = "getUserAttributeDefinitionById",
    tag = "attributes",
    summary = "Reads a definition.",
    params(
        crate::openapi::ApplicationPath,
        DefinitionPath,
    ),
    responses(
        (status = 200, description = "The definition.", body = DefinitionOut),
        (status = 404, description = "No such definition.", body = ErrorSchema),
        crate::openapi::PlatformErrors,
    )
)]
pub(crate) async fn get_definition(
    State(state): State<AppState>,
    caller: Platform,
    PathParams(DefinitionPath {
        attribute_def_id: id,
    }): PathParams<DefinitionPath>,
) -> Result<Json<DefinitionOut>, ApiError> {
    let definition = state
        .services
        .attributes
        .definition(&caller.application.id, &id)
        .await?;
    Ok(Json(DefinitionOut::from(&definition)))
}

#[utoipa::path(
    put,
    path = "/user_attribute/definition/{attribute_def_id}",
    operation_id = "updateUserAttributeDefinition",
    tag = "attributes",
    summary = "Changes a definition.",
    request_body = DefinitionBody,
    params(
        crate::openapi::ApplicationPath,
        DefinitionPath,
    ),
    responses(
        (status = 200, description = "The definition.", body = DefinitionOut),
        (status = 404, description = "No such definition.", body = ErrorSchema),
        crate::openapi::PlatformErrors,
    )
)]
pub(crate) async fn update_definition(
    State(state): State<AppState>,
    caller: Platform,
    PathParams(DefinitionPath {
        attribute_def_id: id,
    }): PathParams<DefinitionPath>,
    JsonBody(body): JsonBody<DefinitionBody>,
) -> Result<Json<DefinitionOut>, ApiError> {
    let lock = body.is_locked;
    let updated = state
        .services
        .attributes
        .update_definition(
            &caller.application.id,
            &id,
            &caller.client_id,
            body.into_input(),
            lock,
        )
        .await?;
    Ok(Json(DefinitionOut::from(&updated)))
}

#[utoipa::path(
    delete,
    path = "/user_attribute/definition/{attribute_def_id}",
    operation_id = "deleteUserAttributeDefinitionById",
    tag = "attributes",
    summary = "Deletes a definition and every value of it.",
    params(
        crate::openapi::ApplicationPath,
        DefinitionPath,
    ),
    responses(
        (status = 200, description = "Done.", body = SuccessText),
        (status = 404, description = "No such definition.", body = ErrorSchema),
        crate::openapi::PlatformErrors,
    )
)]
pub(crate) async fn delete_definition(
    State(state): State<AppState>,
    caller: Platform,
    PathParams(DefinitionPath {
        attribute_def_id: id,
    }): PathParams<DefinitionPath>,
) -> Result<Json<SuccessText>, ApiError> {
    state
        .services
        .attributes
        .delete_definition(&caller.application.id, &id)
        .await?;
    Ok(Json(SUCCESS_TEXT))
}

#[utoipa::path(
    put,
    path = "/user_attribute/definition/{attribute_def_id}/user/{user_id}",
    operation_id = "updateUserAttribute",
    tag = "attributes",
    summary = "Sets a customer's value of a definition.",
    request_body = ValueBody,
    params(
        crate::openapi::ApplicationPath,
        DefinitionUserPath,
    ),
    responses(
        (status = 200, description = "The value.", body = ValueOut),
        (status = 404, description = "No such definition or customer.", body = ErrorSchema),
        crate::openapi::PlatformErrors,
    )
)]
pub(crate) async fn upsert_value(
    State(state): State<AppState>,
    caller: Platform,
    PathParams(DefinitionUserPath {
        attribute_def_id: definition_id,
        user_id: customer_id,
    }): PathParams<DefinitionUserPath>,
    JsonBody(body): JsonBody<ValueBody>,
) -> Result<(StatusCode, Json<ValueOut>), ApiError> {
    let attribute = body
        .attribute
        .ok_or_else(|| ApiError::required("attribute"))?;
    let value = attribute
        .get("value")
        .ok_or_else(|| ApiError::validation("attribute.value", "is required"))?;
    let overridden = body
        .customer_overridden
        .or(body.customer_overriden)
        .unwrap_or(false);
    let (value, created) = state
        .services
        .attributes
        .set_value(
            &caller.application.id,
            &definition_id,
            &customer_id,
            value,
            overridden,
            &Actor::new(&caller.client_id),
        )
        .await?;
    let status = if created {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    Ok((status, Json(ValueOut::from(value))))
}

#[utoipa::path(
    get,
    path = "/user_attribute/definition/{attribute_def_id}/user/{user_id}",
    operation_id = "getUserAttribute",
    tag = "attributes",
    summary = "Reads a customer's value of a definition.",
    params(
        crate::openapi::ApplicationPath,
        DefinitionUserPath,
    ),
    responses(
        (status = 200, description = "The value.", body = ValueOut),
        (status = 404, description = "No such value.", body = ErrorSchema),
        crate::openapi::PlatformErrors,
    )
)]
pub(crate) async fn get_value(
    State(state): State<AppState>,
    caller: Platform,
    PathParams(DefinitionUserPath {
        attribute_def_id: definition_id,
        user_id: customer_id,
    }): PathParams<DefinitionUserPath>,
) -> Result<Json<ValueOut>, ApiError> {
    let value = state
        .services
        .attributes
        .value(&caller.application.id, &definition_id, &customer_id)
        .await?;
    Ok(Json(ValueOut::from(value)))
}

#[utoipa::path(
    delete,
    path = "/user_attribute/definition/{attribute_def_id}/user/{user_id}",
    operation_id = "deleteUserAttribute",
    tag = "attributes",
    summary = "Removes a customer's value of a definition.",
    params(
        crate::openapi::ApplicationPath,
        DefinitionUserPath,
    ),
    responses(
        (status = 200, description = "Done.", body = SuccessText),
        (status = 404, description = "No such value.", body = ErrorSchema),
        crate::openapi::PlatformErrors,
    )
)]
pub(crate) async fn delete_value(
    State(state): State<AppState>,
    caller: Platform,
    PathParams(DefinitionUserPath {
        attribute_def_id: definition_id,
        user_id: customer_id,
    }): PathParams<DefinitionUserPath>,
) -> Result<Json<SuccessText>, ApiError> {
    state
        .services
        .attributes
        .delete_value(
            &caller.application.id,
            &definition_id,
            &customer_id,
            &Actor::new(&caller.client_id),
        )
        .await?;
    Ok(Json(SUCCESS_TEXT))
}

#[utoipa::path(
    get,
    path = "/user_attribute/user/{user_id}",
    operation_id = "getUserAttributesForUser",
    tag = "attributes",
    summary = "Lists a customer's values, newest first.",
    params(
        crate::openapi::ApplicationPath,
        UserPath,
        ("page_no" = Option<String>, Query, description = "Page, from 1."),
        ("page_size" = Option<String>, Query, description = "Items per page, 1 to 100."),
    ),
    responses(
        (status = 200, description = "One page of values.", body = Paged<ValueOut>),
        (status = 404, description = "No such customer.", body = ErrorSchema),
        crate::openapi::PlatformErrors,
    )
)]
pub(crate) async fn list_values(
    State(state): State<AppState>,
    caller: Platform,
    PathParams(UserPath {
        user_id: customer_id,
    }): PathParams<UserPath>,
    query: QueryPairs,
) -> Result<Json<Paged<ValueOut>>, ApiError> {
    let page = PageRequest::parse(query.get("page_no"), query.get("page_size"))?;
    let (values, total) = state
        .services
        .attributes
        .list_values(&caller.application.id, &customer_id, page)
        .await?;
    let items = values.into_iter().map(ValueOut::from).collect();
    Ok(Json(Paged::new(items, page.info(total))))
}

/// Most values one `updateUserAttributes` / `deleteUserAttributesInBulk` call may name.
const MAX_VALUES_PER_CUSTOMER: usize = 200;

#[utoipa::path(
    post,
    path = "/user_attribute/user/{user_id}",
    operation_id = "updateUserAttributes",
    tag = "attributes",
    summary = "Sets several values of a customer, all or none.",
    request_body = UserAttributesBody,
    params(
        crate::openapi::ApplicationPath,
        UserPath,
    ),
    responses(
        (status = 200, description = "The values.", body = ValuesSetOut),
        (status = 404, description = "No such customer or definition.", body = ErrorSchema),
        crate::openapi::PlatformErrors,
    )
)]
/// SDK `updateUserAttributes`: several values of one customer, addressed by definition id,
/// written all or none.
pub(crate) async fn set_values(
    State(state): State<AppState>,
    caller: Platform,
    PathParams(UserPath {
        user_id: customer_id,
    }): PathParams<UserPath>,
    JsonBody(body): JsonBody<UserAttributesBody>,
) -> Result<Json<ValuesSetOut>, ApiError> {
    let entries = body
        .attributes
        .ok_or_else(|| ApiError::required("attributes"))?;
    if entries.is_empty() || entries.len() > MAX_VALUES_PER_CUSTOMER {
        return Err(ApiError::validation(
            "attributes",
            format!("must hold 1 to {MAX_VALUES_PER_CUSTOMER} values"),
        ));
    }
    let mut ids = Vec::with_capacity(entries.len());
    for (index, entry) in entries.iter().enumerate() {
        let raw = entry
            .definition_id
            .as_deref()
            .ok_or_else(|| ApiError::required(&format!("attributes[{index}].definition_id")))?;
        ids.push(ObjectId::parse(
            &format!("attributes[{index}].definition_id"),
            raw,
        )?);
    }
    let entries: Vec<(ObjectId, Value)> = ids
        .into_iter()
        .zip(entries)
        .map(|(id, entry)| (id, entry.value))
        .collect();
    let stored = state
        .services
        .attributes
        .set_values(
            &caller.application.id,
            &customer_id,
            "attributes",
            &entries,
            &Actor::new(&caller.client_id),
        )
        .await?;
    Ok(Json(stored.into()))
}

#[utoipa::path(
    delete,
    path = "/user_attribute/user/{user_id}",
    operation_id = "deleteUserAttributesInBulk",
    tag = "attributes",
    summary = "Removes a customer's values of several definitions.",
    request_body = DeleteValuesBody,
    params(
        crate::openapi::ApplicationPath,
        UserPath,
    ),
    responses(
        (status = 200, description = "Done.", body = SuccessText),
        (status = 404, description = "No such customer.", body = ErrorSchema),
        crate::openapi::PlatformErrors,
    )
)]
/// SDK `deleteUserAttributesInBulk`: removes a customer's values of the listed definitions.
pub(crate) async fn delete_values(
    State(state): State<AppState>,
    caller: Platform,
    PathParams(UserPath {
        user_id: customer_id,
    }): PathParams<UserPath>,
    JsonBody(body): JsonBody<DeleteValuesBody>,
) -> Result<Json<SuccessText>, ApiError> {
    let raw = body
        .definition_ids
        .ok_or_else(|| ApiError::required("definition_ids"))?;
    let ids = ObjectId::parse_list(
        "definition_ids",
        &raw,
        MAX_VALUES_PER_CUSTOMER,
        "definitions",
    )?;
    state
        .services
        .attributes
        .delete_values(
            &caller.application.id,
            &customer_id,
            &ids,
            &Actor::new(&caller.client_id),
        )
        .await?;
    Ok(Json(SUCCESS_TEXT))
}

#[utoipa::path(
    get,
    path = "/user_attribute/attribute/{attribute_id}",
    operation_id = "getUserAttributeById",
    tag = "attributes",
    summary = "Reads a value by its id.",
    params(
        crate::openapi::ApplicationPath,
        ValuePath,
    ),
    responses(
        (status = 200, description = "The value.", body = ValueOut),
        (status = 404, description = "No such value.", body = ErrorSchema),
        crate::openapi::PlatformErrors,
    )
)]
pub(crate) async fn get_value_by_id(
    State(state): State<AppState>,
    caller: Platform,
    PathParams(ValuePath { attribute_id: id }): PathParams<ValuePath>,
) -> Result<Json<ValueOut>, ApiError> {
    let value = state
        .services
        .attributes
        .value_by_id(&caller.application.id, &id)
        .await?;
    Ok(Json(ValueOut::from(value)))
}

#[utoipa::path(
    put,
    path = "/user_attribute/bulk_update",
    operation_id = "bulkUpdateUserAttributes",
    tag = "attributes",
    summary = "Sets the same values for many customers (a job above the sync limit).",
    request_body = BulkSameBody,
    params(
        crate::openapi::ApplicationPath,
    ),
    responses(
        (status = 200, description = "What was done, or the job.", body = BulkAnswer),
        crate::openapi::PlatformErrors,
    )
)]
pub(crate) async fn bulk_same(
    State(state): State<AppState>,
    caller: Platform,
    JsonBody(body): JsonBody<BulkSameBody>,
) -> Result<Json<BulkAnswer>, ApiError> {
    let attributes = checked_pairs("attribute", body.attribute)?;
    match (body.users, body.user_file_url) {
        (Some(users), None) => {
            let rows = users
                .into_iter()
                .map(|user_id| BulkRow {
                    user_id,
                    attributes: attributes.clone(),
                })
                .collect();
            run(&state, &caller, rows).await
        }
        (None, Some(url)) => {
            let result = state
                .services
                .jobs
                .bulk_update_from_file(caller.requester(), &url, attributes)
                .await?;
            Ok(Json(result.into()))
        }
        _ => Err(ApiError::validation(
            "users",
            "give exactly one of users and user_file_url",
        )),
    }
}

#[utoipa::path(
    put,
    path = "/user_attribute/bulk_update/per_user",
    operation_id = "bulkUpdatePerUserAttributes",
    tag = "attributes",
    summary = "Sets values per customer (a job above the sync limit).",
    request_body = BulkPerUserBody,
    params(
        crate::openapi::ApplicationPath,
    ),
    responses(
        (status = 200, description = "What was done, or the job.", body = BulkAnswer),
        crate::openapi::PlatformErrors,
    )
)]
pub(crate) async fn bulk_per_user(
    State(state): State<AppState>,
    caller: Platform,
    JsonBody(body): JsonBody<BulkPerUserBody>,
) -> Result<Json<BulkAnswer>, ApiError> {
    let entries = body
        .user_detail_attributes
        .ok_or_else(|| ApiError::required("user_detail_attributes"))?;
    let mut rows = Vec::with_capacity(entries.len());
    for (index, entry) in entries.into_iter().enumerate() {
        let field = format!("user_detail_attributes[{index}].attributes");
        rows.push(BulkRow {
            user_id: entry.user_id.unwrap_or_default(),
            attributes: checked_pairs(&field, entry.attributes)?,
        });
    }
    run(&state, &caller, rows).await
}

/// The `{key, value}` list of a request: present, non-empty, every key given.
fn checked_pairs(
    field: &str,
    pairs: Option<Vec<KeyValue>>,
) -> Result<Vec<patron_service::KeyValue>, ApiError> {
    let pairs = pairs.ok_or_else(|| ApiError::required(field))?;
    if pairs.is_empty() {
        return Err(ApiError::validation(
            field,
            "must name at least one attribute",
        ));
    }
    for (index, pair) in pairs.iter().enumerate() {
        if pair.key.as_deref().is_none_or(str::is_empty) {
            return Err(ApiError::required(&format!("{field}[{index}].key")));
        }
    }
    Ok(pairs.into_iter().map(Into::into).collect())
}

/// Runs a bulk update (in the request when small enough, else as a job).
async fn run(
    state: &AppState,
    caller: &Platform,
    rows: Vec<BulkRow>,
) -> Result<Json<BulkAnswer>, ApiError> {
    let result = state
        .services
        .jobs
        .bulk_update(caller.requester(), rows, Vec::new())
        .await?;
    Ok(Json(result.into()))
}
