//! Customer groups: checking conditions against their definitions, compiling a group's
//! membership rule, and the one question "is customer U in group G" that coupons,
//! promotions and storefront features ask.

use std::sync::Arc;

use patron_domain::csv_list::Identifier;
use patron_domain::customer::Customer;
use patron_domain::ids::ObjectId;
use patron_domain::page::PageRequest;
use patron_domain::segment::{Operator, Predicate, MAX_CONDITIONS};
use patron_store::{
    AttributeStore, CustomerStore, Entity, Group, GroupCondition, GroupFilter, GroupKind,
    GroupStore, Membership, MembershipRule, StoreError,
};
use serde_json::Value;

mod edits;
mod filter;

pub use edits::{GroupDraft, GroupPatch, MemberEntry, MAX_LISTED};
pub use filter::{AttributeFilter, FilteredCustomers};

use super::attributes::{Attributes, Checked};
use super::{Jobs, ServiceError};
use crate::clock::Clock;

/// A condition as a request states it.
#[derive(Debug, Clone, Copy)]
pub struct ConditionInput<'a> {
    /// The definition's id, as sent.
    pub definition_id: Option<&'a str>,
    /// The operator's name, as sent.
    pub operator: Option<&'a str>,
    /// The operand, as sent.
    pub value: &'a Value,
}

/// Group conditions and membership.
#[derive(Clone)]
pub struct Groups {
    groups: Arc<dyn GroupStore>,
    attributes: Arc<dyn AttributeStore>,
    customers: Arc<dyn CustomerStore>,
    attributes_values: Attributes,
    jobs: Jobs,
    clock: Arc<dyn Clock>,
}

/// What [`Groups`] is built from.
pub struct GroupsParts {
    /// Where groups are kept.
    pub groups: Arc<dyn GroupStore>,
    /// The definitions conditions name.
    pub attributes: Arc<dyn AttributeStore>,
    /// The customers members are.
    pub customers: Arc<dyn CustomerStore>,
    /// Customers' values, opened.
    pub attributes_values: Attributes,
    /// The jobs that read member files.
    pub jobs: Jobs,
    /// The source of "now".
    pub clock: Arc<dyn Clock>,
}

/// Longest group name or description, in characters.
pub const MAX_GROUP_TEXT: usize = 500;

/// A group's name or description as sent, trimmed: at most [`MAX_GROUP_TEXT`] characters,
/// and present and not blank when `required`.
pub fn group_text(
    field: &str,
    value: Option<String>,
    required: bool,
) -> Result<Option<String>, ServiceError> {
    match value.map(|v| v.trim().to_owned()) {
        Some(v) if v.is_empty() && required => {
            Err(ServiceError::invalid(field, "must not be empty"))
        }
        Some(v) if v.chars().count() > MAX_GROUP_TEXT => Err(ServiceError::invalid(
            field,
            format!("is longer than {MAX_GROUP_TEXT} characters"),
        )),
        None if required => Err(self::required(field)),
        other => Ok(other),
    }
}

fn required(field: &str) -> ServiceError {
    ServiceError::invalid(field, "is required")
}

/// A condition checked against its definition.
pub struct CompiledCondition {
    /// The definition.
    pub definition_id: ObjectId,
    /// The definition's slug.
    pub slug: String,
    /// The operator.
    pub operator: Operator,
    /// The compiled test.
    pub predicate: Predicate,
    /// Whether the attribute holds lists.
    pub multi_value: bool,
}

impl Groups {
    /// Groups kept in `groups`, conditions over the definitions of `attributes`, members
    /// among `customers`, values read through `attributes_values`, member files read by
    /// `jobs`.
    pub fn new(parts: GroupsParts) -> Self {
        Self {
            groups: parts.groups,
            attributes: parts.attributes,
            customers: parts.customers,
            attributes_values: parts.attributes_values,
            jobs: parts.jobs,
            clock: parts.clock,
        }
    }

    /// One page of the application's groups matching `filter`, and how many match.
    pub async fn list(
        &self,
        application_id: &ObjectId,
        filter: &GroupFilter,
        page: PageRequest,
    ) -> Result<(Vec<Group>, u64), ServiceError> {
        Ok(self
            .groups
            .list_groups(application_id, filter, page)
            .await?)
    }

    /// The live customers the identifiers name, all or nothing: `UnknownCustomers` lists
    /// the identifiers that name no one.
    pub async fn resolve_all(
        &self,
        application_id: &ObjectId,
        identifiers: &[Identifier],
    ) -> Result<Vec<ObjectId>, ServiceError> {
        let resolved = self
            .groups
            .resolve_customers(application_id, identifiers)
            .await?;
        let unknown: Vec<String> = identifiers
            .iter()
            .zip(&resolved)
            .filter(|(_, found)| found.is_none())
            .map(|(identifier, _)| identifier.display())
            .collect();
        if !unknown.is_empty() {
            return Err(StoreError::UnknownCustomers(unknown).into());
        }
        Ok(resolved.into_iter().flatten().collect())
    }

    /// One page of the customers `membership` admits, and how many it admits; with
    /// `only`, just that customer when it is admitted.
    pub async fn members(
        &self,
        application_id: &ObjectId,
        membership: &Membership,
        only: Option<Identifier>,
        page: PageRequest,
    ) -> Result<(Vec<Customer>, u64), ServiceError> {
        let Some(identifier) = only else {
            return Ok(self
                .groups
                .list_members(application_id, membership, page)
                .await?);
        };
        let found = self
            .groups
            .resolve_customers(application_id, &[identifier])
            .await?;
        let Some(id) = found.into_iter().flatten().next() else {
            return Ok((Vec::new(), 0));
        };
        if !self
            .groups
            .is_member(application_id, membership, &id)
            .await?
        {
            return Ok((Vec::new(), 0));
        }
        let customers: Vec<Customer> = self
            .customers
            .find_customer(application_id, &id)
            .await?
            .into_iter()
            .collect();
        let total = customers.len() as u64;
        Ok((customers, total))
    }

    /// Checks one condition of a request: `field` names it in errors (e.g. `conditions[0]`),
    /// `id_key` is the key of its definition id (`user_attribute_definition_id` on groups,
    /// `definition_id` on the attribute filter).
    pub async fn compile_condition(
        &self,
        application_id: &ObjectId,
        field: &str,
        id_key: &str,
        condition: ConditionInput<'_>,
    ) -> Result<CompiledCondition, ServiceError> {
        let id_field = format!("{field}.{id_key}");
        let raw_id = condition.definition_id.ok_or_else(|| required(&id_field))?;
        let id = ObjectId::parse(&id_field, raw_id)?;
        let operator_name = condition
            .operator
            .ok_or_else(|| required(&format!("{field}.type")))?;
        let operator = Operator::parse(&format!("{field}.type"), operator_name)?;
        let value = condition.value;
        if value.is_null() {
            return Err(required(&format!("{field}.value")));
        }
        let definition = self
            .attributes
            .find_definition(application_id, &id)
            .await?
            .ok_or_else(|| {
                ServiceError::invalid(
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
    pub async fn check_conditions(
        &self,
        application_id: &ObjectId,
        conditions: &[ConditionInput<'_>],
    ) -> Result<Vec<GroupCondition>, ServiceError> {
        if conditions.len() > MAX_CONDITIONS {
            return Err(ServiceError::invalid(
                "conditions",
                format!("at most {MAX_CONDITIONS} conditions are allowed"),
            ));
        }
        let mut stored = Vec::with_capacity(conditions.len());
        for (index, condition) in conditions.iter().enumerate() {
            let compiled = self
                .compile_condition(
                    application_id,
                    &format!("conditions[{index}]"),
                    "user_attribute_definition_id",
                    *condition,
                )
                .await?;
            stored.push(GroupCondition {
                definition_id: compiled.definition_id.to_string(),
                operator: compiled.operator.as_str().to_owned(),
                value: condition.value.clone(),
                key: compiled.slug,
            });
        }
        Ok(stored)
    }

    /// A group's membership rule, compiled for the store.
    pub async fn membership(&self, group: &Group) -> Result<Membership, ServiceError> {
        let mut multi_valued = false;
        let rule = match group.kind {
            GroupKind::Bulk => MembershipRule::Listed,
            GroupKind::Conditional => {
                let ids: Vec<ObjectId> = group
                    .condition_definitions()
                    .into_iter()
                    .map(ObjectId::from_trusted)
                    .collect();
                let definitions = self
                    .attributes
                    .find_definitions(&group.application_id, &ids)
                    .await?;
                let mut predicates = Vec::with_capacity(group.conditions.len());
                for (index, condition) in group.conditions.iter().enumerate() {
                    let id = condition.definition_id.as_str();
                    let definition = definitions
                        .iter()
                        .find(|definition| definition.id.as_str() == id)
                        .cloned()
                        .ok_or_else(|| {
                            ServiceError::Internal(format!(
                                "group {} uses a missing definition {id}",
                                group.id
                            ))
                        })?;
                    multi_valued |= definition.spec.multi_value;
                    let checked = Checked::new(definition)?;
                    let operator = Operator::parse("type", &condition.operator)?;
                    let predicate = Predicate::compile(
                        &format!("conditions[{index}]"),
                        &checked.rules,
                        operator,
                        &condition.value,
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
        &self,
        application_id: &ObjectId,
        group_id: &ObjectId,
        customer_id: &ObjectId,
    ) -> Result<bool, ServiceError> {
        let group = self.find(application_id, group_id).await?;
        let membership = self.membership(&group).await?;
        Ok(self
            .groups
            .is_member(application_id, &membership, customer_id)
            .await?)
    }

    /// The group `id` of the application; `NotFound` when there is none.
    pub async fn find(
        &self,
        application_id: &ObjectId,
        id: &ObjectId,
    ) -> Result<Group, ServiceError> {
        Ok(self
            .groups
            .find_group(application_id, id)
            .await?
            .ok_or_else(|| StoreError::not_found(Entity::Group, id))?)
    }
}
