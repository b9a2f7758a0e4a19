//! Finding customers by attribute values (the platform's `filterUsersByAttributes`): the
//! conditions compiled as a group's are, run as a membership rule of no stored group, and
//! the values asked for read beside each customer found.

use patron_domain::csv_list::Identifier;
use patron_domain::customer::Customer;
use patron_domain::email::Email;
use patron_domain::ids::ObjectId;
use patron_domain::page::PageRequest;
use patron_domain::phone::{Phone, Region};
use patron_domain::segment::MAX_CONDITIONS;
use patron_domain::DomainError;
use patron_store::{Application, Membership, MembershipRule};

use super::{ConditionInput, Groups};
use crate::{OpenedValue, ServiceError};

/// A search by attribute values.
#[derive(Debug, Clone)]
pub struct AttributeFilter<'a> {
    /// Whether any condition admits a customer (`or`) rather than all of them (`and`).
    pub any: bool,
    /// The conditions, named `query.conditions[i]` in errors.
    pub conditions: Vec<ConditionInput<'a>>,
    /// The ids of the definitions whose values are shown, as sent (those of the conditions
    /// when absent).
    pub definition_ids: Option<&'a [String]>,
    /// Just the customer with this email, when admitted.
    pub email: Option<&'a str>,
    /// Just the customer with this phone (in the application's region unless it has a
    /// country code), when admitted; `email` wins when both are given.
    pub phone: Option<&'a str>,
    /// The page wanted.
    pub page: PageRequest,
}

/// One page of customers an [`AttributeFilter`] admits, with the values shown.
#[derive(Debug, Clone)]
pub struct FilteredCustomers {
    /// The customers, newest first.
    pub customers: Vec<Customer>,
    /// Their values of the definitions shown.
    pub values: Vec<OpenedValue>,
    /// How many customers the filter admits in all.
    pub total: u64,
}

impl Groups {
    /// The customers of `application` whose values pass `filter`. The conditions are
    /// checked first, then the definitions shown, then the contact.
    pub async fn filter_by_attributes(
        &self,
        application: &Application,
        filter: AttributeFilter<'_>,
    ) -> Result<FilteredCustomers, ServiceError> {
        let application_id = &application.id;
        if filter.conditions.is_empty() || filter.conditions.len() > MAX_CONDITIONS {
            return Err(ServiceError::invalid(
                "query.conditions",
                format!("must hold 1 to {MAX_CONDITIONS} conditions"),
            ));
        }
        let mut predicates = Vec::with_capacity(filter.conditions.len());
        let mut multi_valued = false;
        for (index, condition) in filter.conditions.into_iter().enumerate() {
            let compiled = self
                .compile_condition(
                    application_id,
                    &format!("query.conditions[{index}]"),
                    "definition_id",
                    condition,
                )
                .await?;
            multi_valued |= compiled.multi_value;
            predicates.push((compiled.definition_id, compiled.predicate));
        }
        let shown = match filter.definition_ids {
            Some(ids) => ids
                .iter()
                .enumerate()
                .map(|(index, id)| ObjectId::parse(&format!("query.definition_ids[{index}]"), id))
                .collect::<Result<Vec<_>, _>>()?,
            None => predicates.iter().map(|(id, _)| id.clone()).collect(),
        };
        let only = contact(application.default_region, filter.email, filter.phone)?;
        let membership = Membership {
            group_id: ObjectId::generate(self.clock.now()),
            rule: if filter.any {
                MembershipRule::AnyCondition(predicates)
            } else {
                MembershipRule::Conditions(predicates)
            },
            multi_valued,
        };
        let (customers, total) = self
            .members(application_id, &membership, only, filter.page)
            .await?;
        let ids: Vec<ObjectId> = customers.iter().map(|c| c.id.clone()).collect();
        let values = self
            .attributes_values
            .values_of(application_id, &ids, &shown)
            .await?;
        Ok(FilteredCustomers {
            customers,
            values,
            total,
        })
    }
}

/// The one customer a search is narrowed to: by email, else by phone.
fn contact(
    region: Region,
    email: Option<&str>,
    phone: Option<&str>,
) -> Result<Option<Identifier>, DomainError> {
    if let Some(email) = email.map(str::trim).filter(|e| !e.is_empty()) {
        return Ok(Some(Identifier::Email(Email::parse("query.email", email)?)));
    }
    if let Some(phone) = phone.map(str::trim).filter(|p| !p.is_empty()) {
        return Ok(Some(Identifier::Phone(Phone::parse(
            "query.phone",
            phone,
            None,
            region,
        )?)));
    }
    Ok(None)
}
