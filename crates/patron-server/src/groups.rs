//! Customer groups between the wire and the store: checking conditions against their
//! definitions, compiling a group's membership rule, and the one function that answers
//! "is customer U in group G" (coupons, promotions and storefront features call it).

use patron_domain::ids::ObjectId;
use patron_domain::segment::{Operator, Predicate, MAX_CONDITIONS};
use patron_store::{Group, GroupKind, Membership, MembershipRule};
use serde_json::{json, Value};

use crate::app::AppState;
use crate::attributes::Checked;
use crate::error::{ApiError, ErrorCode};
use crate::wire::group::ConditionIn;

/// A condition checked against its definition.
pub(crate) struct CompiledCondition {
    /// The definition.
    pub(crate) definition_id: ObjectId,
    /// The definition's slug.
    pub(crate) slug: String,
    /// The operator.
    pub(crate) operator: Operator,
    /// The compiled test.
    pub(crate) predicate: Predicate,
    /// Whether the attribute holds lists.
    pub(crate) multi_value: bool,
}

/// Checks one condition of a request: `field` names it in errors (e.g. `conditions[0]`),
/// `id_key` is the key of its definition id (`user_attribute_definition_id` on groups,
/// `definition_id` on the attribute filter).
pub(crate) async fn compile_condition(
    state: &AppState,
    application_id: &ObjectId,
    field: &str,
    id_key: &str,
    raw_id: Option<&str>,
    operator: Option<&str>,
    value: &Value,
) -> Result<CompiledCondition, ApiError> {
    let id_field = format!("{field}.{id_key}");
    let raw_id = raw_id.ok_or_else(|| ApiError::required(&id_field))?;
    let id = ObjectId::parse(&id_field, raw_id)?;
    let operator_name = operator.ok_or_else(|| ApiError::required(&format!("{field}.type")))?;
    let operator = Operator::parse(&format!("{field}.type"), operator_name)?;
    if value.is_null() {
        return Err(ApiError::required(&format!("{field}.value")));
    }
    let definition = state
        .stores
        .attributes
        .find_definition(application_id, &id)
        .await?
        .ok_or_else(|| {
            ApiError::validation(
                &id_field,
                format!("no attribute definition has the id {id}"),
            )
        })?;
    let checked = Checked::new(definition)?;
    let predicate = Predicate::compile(field, &checked.rules, operator, value)?;
    Ok(CompiledCondition {
        definition_id: id,
        multi_value: checked.rules.multi_value(),
        slug: checked.definition.spec.slug,
        operator,
        predicate,
    })
}

/// Checks conditions from a request against their definitions and returns them as they are
/// stored: `{user_attribute_definition_id, type, value, key}`, `value` as sent.
pub(crate) async fn check_conditions(
    state: &AppState,
    application_id: &ObjectId,
    conditions: &[ConditionIn],
) -> Result<Vec<Value>, ApiError> {
    if conditions.len() > MAX_CONDITIONS {
        return Err(ApiError::validation(
            "conditions",
            format!("at most {MAX_CONDITIONS} conditions are allowed"),
        ));
    }
    let mut stored = Vec::with_capacity(conditions.len());
    for (index, condition) in conditions.iter().enumerate() {
        let compiled = compile_condition(
            state,
            application_id,
            &format!("conditions[{index}]"),
            "user_attribute_definition_id",
            condition.user_attribute_definition_id.as_deref(),
            condition.operator.as_deref(),
            &condition.value,
        )
        .await?;
        stored.push(json!({
            "user_attribute_definition_id": compiled.definition_id.as_str(),
            "type": compiled.operator.as_str(),
            "value": condition.value,
            "key": compiled.slug,
        }));
    }
    Ok(stored)
}

/// A group's membership rule, compiled for the store.
pub(crate) async fn membership(state: &AppState, group: &Group) -> Result<Membership, ApiError> {
    let mut multi_valued = false;
    let rule = match group.kind {
        GroupKind::Bulk => MembershipRule::Listed,
        GroupKind::Conditional => {
            let ids: Vec<ObjectId> = group
                .condition_definitions()
                .into_iter()
                .map(ObjectId::from_trusted)
                .collect();
            let definitions = state
                .stores
                .attributes
                .find_definitions(&group.application_id, &ids)
                .await?;
            let mut predicates = Vec::with_capacity(group.conditions.len());
            for (index, condition) in group.conditions.iter().enumerate() {
                let id = condition
                    .get("user_attribute_definition_id")
                    .and_then(Value::as_str)
                    .unwrap_or_default();
                let definition = definitions
                    .iter()
                    .find(|definition| definition.id.as_str() == id)
                    .cloned()
                    .ok_or_else(|| {
                        ApiError::Internal(format!(
                            "group {} uses a missing definition {id}",
                            group.id
                        ))
                    })?;
                multi_valued |= definition.spec.multi_value;
                let checked = Checked::new(definition)?;
                let operator = Operator::parse(
                    "type",
                    condition
                        .get("type")
                        .and_then(Value::as_str)
                        .unwrap_or_default(),
                )?;
                let value = condition.get("value").unwrap_or(&Value::Null);
                let predicate = Predicate::compile(
                    &format!("conditions[{index}]"),
                    &checked.rules,
                    operator,
                    value,
                )?;
                predicates.push((checked.definition.id.clone(), predicate));
            }
            MembershipRule::Conditions(predicates)
        }
    };
    Ok(Membership {
        group_id: group.id.clone(),
        rule,
        multi_valued,
    })
}

/// Whether customer `customer_id` is, right now, a member of group `group_id` of the
/// application: not archived, not blacklisted, and whitelisted or satisfying the group's
/// rule. Answered from indexes, without scanning the group. `NotFound` for an unknown group.
pub async fn is_member(
    state: &AppState,
    application_id: &ObjectId,
    group_id: &ObjectId,
    customer_id: &ObjectId,
) -> Result<bool, ApiError> {
    let group = state
        .stores
        .groups
        .find_group(application_id, group_id)
        .await?
        .ok_or_else(|| group_not_found(group_id))?;
    let membership = membership(state, &group).await?;
    Ok(state
        .stores
        .groups
        .is_member(application_id, &membership, customer_id)
        .await?)
}

/// 404 for an unknown group.
pub(crate) fn group_not_found(id: &ObjectId) -> ApiError {
    ApiError::NotFound {
        code: ErrorCode::UserGroupNotFound,
        message: format!("user group {id} not found"),
    }
}
