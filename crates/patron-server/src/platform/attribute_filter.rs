//! SDK `filterUsersByAttributes` (`POST …/user_attribute/users`): customers whose attribute
//! values satisfy all (`and`) or any (`or`) of a list of conditions, with their values.

use axum::extract::State;
use axum::Json;
use patron_domain::customer::Customer;
use patron_domain::page::PageRequest;
use serde_json::{json, Value};

use super::{scoped, Platform};
use crate::app::AppState;
use crate::error::ApiError;
use crate::extract::JsonBody;
use crate::wire::attribute::{FilterBody, ValueOut};
use crate::wire::customer::CustomerOut;
use crate::wire::page::PageOut;
use patron_domain::scope::Scope;
use patron_service::{AttributeFilter, ConditionInput, FilteredCustomers, OpenedValue};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub(super) fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(scoped(Scope::CustomersRead, routes!(filter)))
}

#[utoipa::path(
    post,
    path = "/user_attribute/users",
    operation_id = "filterUsersByAttributes",
    tag = "attributes",
    summary = "Finds customers by attribute values (`UserAttributeFilter`).",
    request_body = Object,
    params(
        crate::openapi::ApplicationPath,
    ),
    responses(
        (status = 200, description = "One page of customers.", body = Object),
        crate::openapi::PlatformErrors,
    )
)]
/// Answers `Value`: this model alone types a phone's `country_code` as a string, so each
/// customer is rendered as everywhere else and then adjusted.
pub(crate) async fn filter(
    State(state): State<AppState>,
    caller: Platform,
    JsonBody(body): JsonBody<FilterBody>,
) -> Result<Json<Value>, ApiError> {
    let query = body.query.ok_or_else(|| ApiError::required("query"))?;
    let any = match query
        .combinator
        .as_deref()
        .map(str::to_ascii_lowercase)
        .as_deref()
    {
        Some("and") => false,
        Some("or") => true,
        Some(other) => {
            return Err(ApiError::validation(
                "query.type",
                format!("must be and or or, got '{other}'"),
            ))
        }
        None => return Err(ApiError::required("query.type")),
    };
    let page = PageRequest::parse(
        Some(&query.page.unwrap_or(1).to_string()),
        Some(&query.limit.unwrap_or(10).to_string()),
    )?;
    let conditions = query
        .conditions
        .ok_or_else(|| ApiError::required("query.conditions"))?;
    let filter = AttributeFilter {
        any,
        conditions: conditions
            .iter()
            .map(|condition| ConditionInput {
                definition_id: condition.definition_id.as_deref(),
                operator: condition.operator.as_deref(),
                value: &condition.value,
            })
            .collect(),
        definition_ids: query.definition_ids.as_deref(),
        email: query.email.as_deref(),
        phone: query.phone.as_deref(),
        page,
    };
    let FilteredCustomers {
        customers,
        values,
        total,
    } = state
        .services
        .groups
        .filter_by_attributes(&caller.application, filter)
        .await?;
    let items = customers
        .into_iter()
        .map(|customer| filtered_item(customer, &values))
        .collect::<Result<Vec<Value>, ApiError>>()?;
    Ok(Json(
        json!({ "items": items, "page": PageOut::from(page.info(total)) }),
    ))
}

/// The customer named by `email` or `phone`, if either is given.
/// `UserAttributeFilteredList`: the customer (phone `country_code` as a string, as this
/// model has it) with its values.
fn filtered_item(customer: Customer, values: &[OpenedValue]) -> Result<Value, ApiError> {
    let id = customer.id.clone();
    let mut item = serde_json::to_value(CustomerOut::from(customer))
        .map_err(|error| ApiError::Internal(format!("cannot encode a customer: {error}")))?;
    if let Some(phones) = item.get_mut("phone_numbers").and_then(Value::as_array_mut) {
        for phone in phones {
            if let Some(code) = phone.get("country_code").and_then(Value::as_u64) {
                phone["country_code"] = json!(code.to_string());
            }
        }
    }
    let attributes: Vec<ValueOut> = values
        .iter()
        .filter(|value| value.stored.customer_id == id)
        .map(|value| ValueOut::from(value.clone()))
        .collect();
    item["attributes"] = json!(attributes);
    item["is_encrypted"] = json!(false);
    Ok(item)
}
