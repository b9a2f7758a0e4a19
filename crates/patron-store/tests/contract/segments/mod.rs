//! Customer attributes and groups: definitions (slugs, filters, versions, locks), values
//! and their index, bulk writes, group uids and member changes, and membership queries,
//! whose SQL must agree with the domain's `Predicate::matches` for every operator.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::atomic::{AtomicU32, Ordering};

use chrono::Duration;
use patron_domain::attribute::{DefinitionInput, DefinitionSpec, IndexEntry, ValueKind};
use patron_domain::csv_list::Identifier;
use patron_domain::customer::{NewCustomer, Profile};
use patron_domain::ids::{CompanyId, ObjectId};
use patron_domain::page::PageRequest;
use patron_domain::phone::Region;
use patron_domain::segment::{Operator, Predicate, Test};
use patron_store::{
    Actor, Application, AttributeDefinition, AttributeValue, Conflict, CustomerValues,
    DefinitionFilter, Entity, Group, GroupCondition, GroupFilter, GroupKind, GroupStatus,
    MemberChanges, Membership, MembershipRule, StoreError, ValueWrite,
};
use rand::rngs::StdRng;
use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};
use serde_json::{json, Value};

use crate::{actor, each_backend, email, phone, t0, Fixture};

mod bulk;
mod definitions;
mod groups;
mod membership;
mod resolving;
mod values;

// ---------------------------------------------------------------------------------------
// Helpers

fn page(number: u32, size: u32) -> PageRequest {
    PageRequest::parse(Some(&number.to_string()), Some(&size.to_string())).unwrap()
}

fn everything() -> PageRequest {
    page(1, 100)
}

fn unknown_id() -> ObjectId {
    ObjectId::generate(t0())
}

fn strings(names: &[&str]) -> Vec<String> {
    names.iter().map(|name| (*name).to_owned()).collect()
}

fn sorted<'a>(ids: impl IntoIterator<Item = &'a ObjectId>) -> Vec<ObjectId> {
    let mut ids: Vec<ObjectId> = ids.into_iter().cloned().collect();
    ids.sort();
    ids
}

/// A second application of the same company.
async fn other_application(f: &Fixture) -> ObjectId {
    let id = ObjectId::parse("id", "000000000000000000000002").unwrap();
    let application = Application {
        id: id.clone(),
        company_id: CompanyId::parse("559").unwrap(),
        name: "Other shop".into(),
        token_digest: "digest-2".into(),
        default_region: Region::INDIA,
        created_at: t0(),
    };
    f.stores
        .applications
        .create_application(&application)
        .await
        .unwrap();
    id
}

/// A new customer of `application` with a unique email (and `national` as its phone).
fn shopper(application: &ObjectId, national: Option<&str>) -> NewCustomer {
    static NEXT: AtomicU32 = AtomicU32::new(700_000);
    let n = NEXT.fetch_add(1, Ordering::Relaxed);
    let address = email(&format!("shopper{n}@example.com"));
    let profile = Profile::default();
    NewCustomer::new(
        application.clone(),
        None,
        profile,
        Some(address),
        national.map(phone),
        n,
        t0(),
    )
    .unwrap()
}

async fn customer_in(f: &Fixture, application: &ObjectId) -> ObjectId {
    let new = shopper(application, None);
    f.stores
        .customers
        .create_customer(&new, &actor())
        .await
        .unwrap();
    new.id
}

async fn customer(f: &Fixture) -> ObjectId {
    customer_in(f, &f.application).await
}

async fn archive(f: &Fixture, id: &ObjectId) {
    let customers = &f.stores.customers;
    customers
        .archive_customer(&f.application, id, &actor(), t0())
        .await
        .unwrap();
}

fn definition_from(application: &ObjectId, input: DefinitionInput) -> AttributeDefinition {
    AttributeDefinition {
        id: ObjectId::generate(t0()),
        application_id: application.clone(),
        spec: DefinitionSpec::create(input).unwrap(),
        is_locked: false,
        created_by: "client-1".into(),
        updated_by: "client-1".into(),
        created_at: t0(),
        updated_at: t0(),
        version: 0,
    }
}

fn input(name: &str, slug: &str, type_name: &str) -> DefinitionInput {
    DefinitionInput {
        name: Some(name.into()),
        slug: Some(slug.into()),
        attribute_type: Some(type_name.into()),
        ..DefinitionInput::default()
    }
}

/// A definition of `application`, not yet stored.
fn definition_in(application: &ObjectId, slug: &str, type_name: &str) -> AttributeDefinition {
    definition_from(application, input(slug, slug, type_name))
}

/// Stores a definition of the fixture's application, named like its slug.
async fn define(f: &Fixture, slug: &str, type_name: &str) -> AttributeDefinition {
    let definition = definition_in(&f.application, slug, type_name);
    f.stores
        .attributes
        .create_definition(&definition)
        .await
        .unwrap();
    definition
}

async fn find_definition(f: &Fixture, id: &ObjectId) -> Option<AttributeDefinition> {
    f.stores
        .attributes
        .find_definition(&f.application, id)
        .await
        .unwrap()
}

/// A value of `definition` checked by the domain's rules, as the server writes it.
fn value_of(definition: &AttributeDefinition, value: Value) -> ValueWrite {
    let rules = definition.spec.rules().unwrap();
    let checked = rules.check("value", &value).unwrap();
    ValueWrite {
        definition_id: definition.id.clone(),
        stored: checked.json.to_string(),
        index: checked.index,
        customer_overridden: false,
    }
}

async fn set(
    f: &Fixture,
    definition: &AttributeDefinition,
    customer: &ObjectId,
    value: Value,
) -> AttributeValue {
    let write = value_of(definition, value);
    let attributes = &f.stores.attributes;
    let (stored, _) = attributes
        .upsert_value(&f.application, customer, &write, &actor(), t0())
        .await
        .unwrap();
    stored
}

/// The stored text of a customer's value, if any.
async fn value(
    f: &Fixture,
    definition: &AttributeDefinition,
    customer: &ObjectId,
) -> Option<String> {
    let attributes = &f.stores.attributes;
    let found = attributes
        .find_value(&f.application, &definition.id, customer)
        .await
        .unwrap();
    found.map(|value| value.stored)
}

async fn value_count(f: &Fixture, application: &ObjectId, customer: &ObjectId) -> u64 {
    let attributes = &f.stores.attributes;
    attributes
        .list_values(application, customer, everything())
        .await
        .unwrap()
        .1
}

fn entry(customer: &ObjectId, values: Vec<ValueWrite>) -> CustomerValues {
    CustomerValues {
        customer_id: customer.clone(),
        values,
    }
}

/// Writes many customers' values; returns the refused ids, sorted.
async fn bulk(f: &Fixture, customers: &[CustomerValues]) -> Result<Vec<ObjectId>, StoreError> {
    let attributes = &f.stores.attributes;
    let mut refused = attributes
        .bulk_upsert_values(&f.application, customers, &actor(), t0(), None)
        .await?;
    refused.sort();
    Ok(refused)
}

fn predicate(definition: &AttributeDefinition, operator: &str, operand: &Value) -> Predicate {
    let rules = definition.spec.rules().unwrap();
    let operator = Operator::parse("type", operator).unwrap();
    Predicate::compile("conditions[0]", &rules, operator, operand).unwrap()
}

/// The membership of a conditional group with these conditions (all must hold).
fn conditions(group_id: &ObjectId, tests: &[(&AttributeDefinition, &str, Value)]) -> Membership {
    let multi_valued = tests
        .iter()
        .any(|(definition, _, _)| definition.spec.multi_value);
    let compiled = tests
        .iter()
        .map(|(definition, operator, operand)| {
            (
                definition.id.clone(),
                predicate(definition, operator, operand),
            )
        })
        .collect();
    Membership {
        group_id: group_id.clone(),
        rule: MembershipRule::Conditions(compiled),
        multi_valued,
    }
}

/// The membership of a conditional group that no stored group shares overrides with.
fn condition_alone(definition: &AttributeDefinition, operator: &str, operand: Value) -> Membership {
    conditions(&unknown_id(), &[(definition, operator, operand)])
}

fn listed(group: &Group) -> Membership {
    Membership {
        group_id: group.id.clone(),
        rule: MembershipRule::Listed,
        multi_valued: false,
    }
}

/// A group condition as clients save it.
fn condition(definition: &AttributeDefinition, operator: &str, operand: Value) -> GroupCondition {
    GroupCondition {
        definition_id: definition.id.to_string(),
        operator: operator.to_owned(),
        value: operand,
        key: definition.spec.slug.clone(),
    }
}

pub(crate) fn new_group(
    application: &ObjectId,
    name: &str,
    kind: GroupKind,
    conditions: Vec<GroupCondition>,
) -> Group {
    Group {
        id: ObjectId::generate(t0()),
        application_id: application.clone(),
        uid: 0,
        name: name.into(),
        description: String::new(),
        kind,
        status: GroupStatus::Completed,
        is_active: true,
        conditions,
        file_url: None,
        error_count: None,
        error_file_url: None,
        tags: Vec::new(),
        blacklisted: Vec::new(),
        created_at: t0(),
        updated_at: t0(),
        version: 0,
    }
}

async fn create_group(
    f: &Fixture,
    name: &str,
    kind: GroupKind,
    conditions: Vec<GroupCondition>,
    changes: MemberChanges,
) -> Group {
    let group = new_group(&f.application, name, kind, conditions);
    f.stores
        .groups
        .create_group(&group, &changes, None)
        .await
        .unwrap()
}

async fn bulk_group(f: &Fixture, name: &str) -> Group {
    create_group(f, name, GroupKind::Bulk, vec![], MemberChanges::default()).await
}

async fn change(f: &Fixture, group: &Group, changes: MemberChanges) -> Group {
    f.stores
        .groups
        .update_group(group, &changes, None)
        .await
        .unwrap()
}

async fn find_group(f: &Fixture, id: &ObjectId) -> Option<Group> {
    f.stores
        .groups
        .find_group(&f.application, id)
        .await
        .unwrap()
}

fn adding(ids: &[&ObjectId]) -> MemberChanges {
    MemberChanges {
        add: sorted(ids.iter().copied()),
        ..MemberChanges::default()
    }
}

/// Every live member, read page by page; checks the total on the way.
async fn members(f: &Fixture, membership: &Membership) -> BTreeSet<ObjectId> {
    let mut ids = BTreeSet::new();
    let mut number = 1;
    loop {
        let groups = &f.stores.groups;
        let (customers, total) = groups
            .list_members(&f.application, membership, page(number, 100))
            .await
            .unwrap();
        let last = customers.len() < 100;
        ids.extend(customers.into_iter().map(|customer| customer.id));
        if last {
            assert_eq!(ids.len() as u64, total, "list_members total");
            return ids;
        }
        number += 1;
    }
}

async fn is_member(f: &Fixture, membership: &Membership, customer: &ObjectId) -> bool {
    f.stores
        .groups
        .is_member(&f.application, membership, customer)
        .await
        .unwrap()
}

/// Checks `list_members`, and `is_member` for each of `everyone`, against `expected`.
async fn assert_members(
    f: &Fixture,
    membership: &Membership,
    everyone: &[&ObjectId],
    expected: &[&ObjectId],
) {
    let expected: BTreeSet<ObjectId> = expected.iter().map(|id| (*id).clone()).collect();
    assert_eq!(members(f, membership).await, expected, "list_members");
    for id in everyone {
        assert_eq!(
            is_member(f, membership, id).await,
            expected.contains(*id),
            "is_member({id})"
        );
    }
}
