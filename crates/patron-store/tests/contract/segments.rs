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
    DefinitionFilter, Group, GroupFilter, GroupKind, MemberChanges, Membership, MembershipRule,
    StoreError, ValueWrite,
};
use rand::rngs::StdRng;
use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};
use serde_json::{json, Value};

use crate::{actor, each_backend, email, phone, t0, Fixture};

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
    }
}

/// A group condition as clients save it.
fn condition(definition: &AttributeDefinition, operator: &str, operand: Value) -> Value {
    json!({
        "user_attribute_definition_id": definition.id.as_str(),
        "type": operator,
        "value": operand,
        "key": definition.spec.slug,
    })
}

fn new_group(application: &ObjectId, name: &str, kind: GroupKind, conditions: Vec<Value>) -> Group {
    Group {
        id: ObjectId::generate(t0()),
        application_id: application.clone(),
        uid: 0,
        name: name.into(),
        description: String::new(),
        kind,
        status: "completed".into(),
        is_active: true,
        conditions,
        file_url: None,
        error_count: None,
        error_file_url: None,
        tags: Vec::new(),
        created_at: t0(),
        updated_at: t0(),
        version: 0,
    }
}

async fn create_group(
    f: &Fixture,
    name: &str,
    kind: GroupKind,
    conditions: Vec<Value>,
    changes: MemberChanges,
) -> Group {
    let group = new_group(&f.application, name, kind, conditions);
    f.stores
        .groups
        .create_group(&group, &changes)
        .await
        .unwrap()
}

async fn bulk_group(f: &Fixture, name: &str) -> Group {
    create_group(f, name, GroupKind::Bulk, vec![], MemberChanges::default()).await
}

async fn change(f: &Fixture, group: &Group, changes: MemberChanges) -> Group {
    f.stores.groups.update_group(group, &changes).await.unwrap()
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

// ---------------------------------------------------------------------------------------
// Definitions

#[tokio::test]
async fn definitions_read_back_and_slugs_are_unique_per_application() {
    each_backend(|f| async move {
        let attributes = &f.stores.attributes;
        let extras = json!({"icon": "star", "registration": {"enabled": true}});
        let tier = definition_from(
            &f.application,
            DefinitionInput {
                description: Some("The shopper's tier".into()),
                customer_editable: Some(true),
                pinned: Some(true),
                pin_order: Some(3),
                default_value: Some(json!("gold")),
                validations: Some(vec![json!({"type": "max", "value": 10})]),
                extras: extras.as_object().cloned().unwrap(),
                ..input("Loyalty tier", "tier", "string")
            },
        );
        attributes.create_definition(&tier).await.unwrap();
        assert_eq!(find_definition(&f, &tier.id).await, Some(tier.clone()));
        let by_id = attributes
            .find_definitions(&f.application, &[unknown_id(), tier.id.clone()])
            .await;
        assert_eq!(by_id.unwrap(), vec![tier.clone()]);
        let by_slug = attributes
            .find_definitions_by_slug(&f.application, &strings(&["no", "tier"]))
            .await;
        assert_eq!(by_slug.unwrap(), vec![tier.clone()]);

        let twin = definition_from(&f.application, input("Tier again", "tier", "number"));
        let error = attributes.create_definition(&twin).await.unwrap_err();
        assert!(
            matches!(error, StoreError::Conflict(Conflict::Slug(ref s)) if s == "tier"),
            "{error:?}"
        );
        assert_eq!(find_definition(&f, &twin.id).await, None);

        let other = other_application(&f).await;
        let elsewhere = definition_in(&other, "tier", "string");
        attributes
            .create_definition(&elsewhere)
            .await
            .expect("the slug is free in another application");
        assert_eq!(find_definition(&f, &elsewhere.id).await, None);
        assert_eq!(
            attributes.find_definition(&other, &tier.id).await.unwrap(),
            None
        );
        let by_id = attributes
            .find_definitions(&f.application, std::slice::from_ref(&elsewhere.id))
            .await;
        assert_eq!(by_id.unwrap(), vec![]);
        let listed = attributes
            .list_definitions(&f.application, &DefinitionFilter::default(), everything())
            .await;
        assert_eq!(listed.unwrap(), (vec![tier], 1));
    })
    .await;
}

#[tokio::test]
async fn concurrent_creates_with_one_slug_make_one_definition() {
    each_backend(|f| async move {
        let attempts: Vec<_> = (0..8)
            .map(|i| {
                let stores = f.stores.clone();
                let definition = definition_from(
                    &f.application,
                    input(&format!("Tier {i}"), "tier", "string"),
                );
                tokio::spawn(async move { stores.attributes.create_definition(&definition).await })
            })
            .collect();
        let (mut created, mut conflicts) = (0, 0);
        for attempt in attempts {
            match attempt.await.unwrap() {
                Ok(()) => created += 1,
                Err(StoreError::Conflict(Conflict::Slug(slug))) if slug == "tier" => conflicts += 1,
                Err(other) => panic!("unexpected error: {other:?}"),
            }
        }
        assert_eq!((created, conflicts), (1, 7));
        assert_eq!(
            definition_slugs(&f, DefinitionFilter::default(), everything())
                .await
                .1,
            1
        );
    })
    .await;
}

async fn definition_slugs(
    f: &Fixture,
    filter: DefinitionFilter,
    page: PageRequest,
) -> (Vec<String>, u64) {
    let (found, total) = f
        .stores
        .attributes
        .list_definitions(&f.application, &filter, page)
        .await
        .unwrap();
    (
        found
            .into_iter()
            .map(|definition| definition.spec.slug)
            .collect(),
        total,
    )
}

fn definitions_where(edit: impl FnOnce(&mut DefinitionFilter)) -> DefinitionFilter {
    let mut filter = DefinitionFilter::default();
    edit(&mut filter);
    filter
}

#[tokio::test]
async fn definition_lists_filter_literally_and_page() {
    each_backend(|f| async move {
        let attributes = &f.stores.attributes;
        let loyal = definition_from(
            &f.application,
            DefinitionInput {
                customer_editable: Some(true),
                pinned: Some(true),
                pin_order: Some(1),
                ..input("100% Loyal", "loyal", "string")
            },
        );
        let first_name =
            definition_from(&f.application, input("first_name", "first-name", "string"));
        let pattern = definition_from(
            &f.application,
            DefinitionInput {
                pinned: Some(true),
                pin_order: Some(2),
                ..input("A.*B", "a-b", "number")
            },
        );
        let secret = definition_from(&f.application, input("Plain", "plain", "encrypted_string"));
        let mut tags =
            definition_from(&f.application, input("Locked tags", "tags", "string_array"));
        tags.is_locked = true;
        let points = definition_from(&f.application, input("loyalty points", "points", "number"));
        for definition in [&loyal, &first_name, &pattern, &secret, &tags, &points] {
            attributes.create_definition(definition).await.unwrap();
        }
        let other = other_application(&f).await;
        attributes
            .create_definition(&definition_in(&other, "loyalty", "string"))
            .await
            .unwrap();

        let newest_first = ["points", "tags", "plain", "a-b", "first-name", "loyal"];
        let excluded = vec![loyal.id.clone(), pattern.id.clone()];
        let cases: Vec<(DefinitionFilter, &[&str])> = vec![
            (DefinitionFilter::default(), &newest_first),
            (
                definitions_where(|w| w.excluding_ids = excluded),
                &["points", "tags", "plain", "first-name"],
            ),
            (
                definitions_where(|w| w.slug = Some("points".into())),
                &["points"],
            ),
            (definitions_where(|w| w.slug = Some("loyalty".into())), &[]),
            (
                definitions_where(|w| w.attribute_type = Some("number".into())),
                &["points", "a-b"],
            ),
            (
                definitions_where(|w| w.customer_editable = Some(true)),
                &["loyal"],
            ),
            (
                definitions_where(|w| w.customer_editable = Some(false)),
                &newest_first[..5],
            ),
            (definitions_where(|w| w.encrypted = Some(true)), &["plain"]),
            (
                definitions_where(|w| w.pinned = Some(true)),
                &["a-b", "loyal"],
            ),
            (definitions_where(|w| w.pin_order = Some(2)), &["a-b"]),
            (definitions_where(|w| w.is_locked = Some(true)), &["tags"]),
            (
                definitions_where(|w| {
                    w.is_locked = Some(false);
                    w.attribute_type = Some("string".into());
                    w.pinned = Some(true);
                }),
                &["loyal"],
            ),
        ];
        for (filter, expected) in cases {
            let described = format!("{filter:?}");
            let total = expected.len() as u64;
            assert_eq!(
                definition_slugs(&f, filter, everything()).await,
                (strings(expected), total),
                "{described}"
            );
        }
        // Names match case-insensitively and literally: LIKE and regex characters are text.
        let names: [(&str, &[&str]); 9] = [
            ("LOYAL", &["points", "loyal"]),
            ("%", &["loyal"]),
            ("%loyal", &[]),
            ("_", &["first-name"]),
            ("t_n", &["first-name"]),
            ("t_p", &[]),
            (".*", &["a-b"]),
            ("a.*b", &["a-b"]),
            ("a.b", &[]),
        ];
        for (name, expected) in names {
            let filter = definitions_where(|w| w.name = Some(name.into()));
            let total = expected.len() as u64;
            assert_eq!(
                definition_slugs(&f, filter, everything()).await,
                (strings(expected), total),
                "name {name}"
            );
        }

        let pages: [(u32, &[&str]); 3] =
            [(1, &newest_first[..4]), (2, &newest_first[4..]), (3, &[])];
        for (number, expected) in pages {
            let found = definition_slugs(&f, DefinitionFilter::default(), page(number, 4)).await;
            assert_eq!(found, (strings(expected), 6), "page {number}");
        }
        let text_only = definitions_where(|w| w.attribute_type = Some("string".into()));
        assert_eq!(
            definition_slugs(&f, text_only, page(2, 1)).await,
            (strings(&["loyal"]), 2)
        );
    })
    .await;
}

#[tokio::test]
async fn definition_updates_check_version_lock_and_slug() {
    each_backend(|f| async move {
        let attributes = &f.stores.attributes;
        let tier = define(&f, "tier", "string").await;
        define(&f, "points", "number").await;

        let mut renamed = tier.clone();
        renamed.spec.name = "Tier (renamed)".into();
        renamed.spec.description = "new words".into();
        renamed.spec.pinned = true;
        renamed.spec.pin_order = Some(4);
        renamed.spec.default_value = Some(json!("silver"));
        renamed.updated_by = "client-2".into();
        renamed.updated_at = t0() + Duration::hours(1);
        renamed.version = 1;
        attributes.update_definition(&renamed).await.unwrap();
        assert_eq!(find_definition(&f, &tier.id).await, Some(renamed.clone()));

        let stale = AttributeDefinition {
            version: 1,
            ..tier.clone()
        };
        let error = attributes.update_definition(&stale).await.unwrap_err();
        assert!(
            matches!(error, StoreError::Conflict(Conflict::Version)),
            "{error:?}"
        );

        let mut clash = AttributeDefinition {
            version: 2,
            ..renamed.clone()
        };
        clash.spec.slug = "points".into();
        let error = attributes.update_definition(&clash).await.unwrap_err();
        assert!(
            matches!(error, StoreError::Conflict(Conflict::Slug(ref s)) if s == "points"),
            "{error:?}"
        );
        assert_eq!(
            find_definition(&f, &tier.id).await,
            Some(renamed.clone()),
            "refusals change nothing"
        );

        let unknown = AttributeDefinition {
            version: 1,
            ..definition_in(&f.application, "ghost", "string")
        };
        assert!(matches!(
            attributes.update_definition(&unknown).await,
            Err(StoreError::NotFound)
        ));
        let other = other_application(&f).await;
        let foreign = AttributeDefinition {
            application_id: other,
            version: 2,
            ..renamed.clone()
        };
        assert!(matches!(
            attributes.update_definition(&foreign).await,
            Err(StoreError::NotFound)
        ));

        let locked = AttributeDefinition {
            is_locked: true,
            version: 2,
            ..renamed.clone()
        };
        attributes.update_definition(&locked).await.unwrap();
        let mut after = AttributeDefinition {
            version: 3,
            ..locked.clone()
        };
        after.spec.name = "Not allowed".into();
        assert!(matches!(
            attributes.update_definition(&after).await,
            Err(StoreError::Locked)
        ));
        let unlocked = AttributeDefinition {
            is_locked: false,
            ..after
        };
        assert!(matches!(
            attributes.update_definition(&unlocked).await,
            Err(StoreError::Locked)
        ));
        let deleted = attributes.delete_definition(&f.application, &tier.id).await;
        assert!(matches!(deleted, Err(StoreError::Locked)), "{deleted:?}");
        assert_eq!(find_definition(&f, &tier.id).await, Some(locked));
    })
    .await;
}

#[tokio::test]
async fn deleting_a_definition_removes_its_values_unless_groups_use_it() {
    each_backend(|f| async move {
        let attributes = &f.stores.attributes;
        let tier = define(&f, "tier", "string").await;
        let points = define(&f, "points", "number").await;
        let shopper = customer(&f).await;
        let gold = set(&f, &tier, &shopper, json!("gold")).await;
        set(&f, &points, &shopper, json!(5)).await;
        let golden = condition_alone(&tier, "eq", json!("gold"));
        assert!(is_member(&f, &golden, &shopper).await);

        attributes
            .delete_definition(&f.application, &tier.id)
            .await
            .unwrap();
        assert_eq!(find_definition(&f, &tier.id).await, None);
        assert_eq!(value(&f, &tier, &shopper).await, None);
        assert_eq!(
            attributes
                .find_value_by_id(&f.application, &gold.id)
                .await
                .unwrap(),
            None
        );
        let (left, total) = attributes
            .list_values(&f.application, &shopper, everything())
            .await
            .unwrap();
        assert_eq!((left.len(), total), (1, 1));
        assert_eq!(left[0].definition_id, points.id);
        assert!(
            !is_member(&f, &golden, &shopper).await,
            "the deleted values' index entries are gone"
        );
        assert!(members(&f, &golden).await.is_empty());
        let write = value_of(&tier, json!("gold"));
        let error = attributes
            .upsert_value(&f.application, &shopper, &write, &actor(), t0())
            .await
            .unwrap_err();
        assert!(matches!(error, StoreError::NotFound), "{error:?}");
        let other = other_application(&f).await;
        for (application, id) in [
            (&f.application, &tier.id),
            (&f.application, &unknown_id()),
            (&other, &points.id),
        ] {
            let deleted = attributes.delete_definition(application, id).await;
            assert!(matches!(deleted, Err(StoreError::NotFound)), "{deleted:?}");
        }

        let big = vec![condition(&points, "gt", json!(100))];
        let spenders = create_group(
            &f,
            "Big spenders",
            GroupKind::Conditional,
            big,
            MemberChanges::default(),
        )
        .await;
        let small = vec![condition(&points, "lt", json!(10))];
        let savers = create_group(
            &f,
            "Savers",
            GroupKind::Conditional,
            small,
            MemberChanges::default(),
        )
        .await;
        let error = attributes
            .delete_definition(&f.application, &points.id)
            .await
            .unwrap_err();
        assert!(
            matches!(error, StoreError::InUse(ref names) if names == &["Big spenders", "Savers"]),
            "{error:?}"
        );
        assert_eq!(
            value(&f, &points, &shopper).await.as_deref(),
            Some("5"),
            "a refused delete keeps the values"
        );

        for group in [&spenders, &savers] {
            change(
                &f,
                &Group {
                    conditions: vec![],
                    ..group.clone()
                },
                MemberChanges::default(),
            )
            .await;
        }
        attributes
            .delete_definition(&f.application, &points.id)
            .await
            .expect("no group uses it any more");
        assert_eq!(value(&f, &points, &shopper).await, None);
    })
    .await;
}

// ---------------------------------------------------------------------------------------
// Values

#[tokio::test]
async fn values_upsert_read_list_and_delete() {
    each_backend(|f| async move {
        let attributes = &f.stores.attributes;
        let tier = define(&f, "tier", "string").await;
        let points = define(&f, "points", "number").await;
        let tags = define(&f, "tags", "string_array").await;
        let shopper = customer(&f).await;
        let bystander = customer(&f).await;

        let gold = value_of(&tier, json!("gold"));
        let (first, created) = attributes
            .upsert_value(&f.application, &shopper, &gold, &actor(), t0())
            .await
            .unwrap();
        assert!(created);
        let expected = AttributeValue {
            id: first.id.clone(),
            application_id: f.application.clone(),
            definition_id: tier.id.clone(),
            customer_id: shopper.clone(),
            stored: "\"gold\"".into(),
            customer_overridden: false,
            updated_by: "client-1".into(),
            created_at: t0(),
            updated_at: t0(),
            definition_name: "tier".into(),
            definition_type: "string".into(),
            encrypted: false,
        };
        assert_eq!(first, expected);

        let later = t0() + Duration::hours(1);
        let silver = ValueWrite {
            customer_overridden: true,
            ..value_of(&tier, json!("silver"))
        };
        let (second, created) = attributes
            .upsert_value(
                &f.application,
                &shopper,
                &silver,
                &Actor::new("client-2"),
                later,
            )
            .await
            .unwrap();
        assert!(!created);
        let expected = AttributeValue {
            stored: "\"silver\"".into(),
            customer_overridden: true,
            updated_by: "client-2".into(),
            updated_at: later,
            ..expected
        };
        assert_eq!(
            second, expected,
            "an update keeps the value's id and creation time"
        );
        assert_eq!(
            attributes
                .find_value(&f.application, &tier.id, &shopper)
                .await
                .unwrap(),
            Some(second.clone())
        );
        assert_eq!(
            attributes
                .find_value_by_id(&f.application, &second.id)
                .await
                .unwrap(),
            Some(second.clone())
        );
        assert_eq!(value(&f, &tier, &bystander).await, None);
        assert_eq!(
            attributes
                .find_value_by_id(&f.application, &unknown_id())
                .await
                .unwrap(),
            None
        );

        let points_value = set(&f, &points, &shopper, json!(12.5)).await;
        let tags_value = set(&f, &tags, &shopper, json!(["vip", "new"])).await;
        assert_eq!(
            (points_value.stored.as_str(), tags_value.stored.as_str()),
            ("12.5", r#"["vip","new"]"#)
        );
        let (first_page, total) = attributes
            .list_values(&f.application, &shopper, page(1, 2))
            .await
            .unwrap();
        assert_eq!(total, 3);
        assert_eq!(first_page, vec![tags_value, points_value], "newest first");
        let second_page = attributes
            .list_values(&f.application, &shopper, page(2, 2))
            .await
            .unwrap();
        assert_eq!(second_page, (vec![second.clone()], 3));
        assert_eq!(
            attributes
                .list_values(&f.application, &bystander, everything())
                .await
                .unwrap(),
            (vec![], 0)
        );

        let silver_members = condition_alone(&tier, "eq", json!("silver"));
        assert!(is_member(&f, &silver_members, &shopper).await);
        attributes
            .delete_value(&f.application, &tier.id, &shopper)
            .await
            .unwrap();
        assert_eq!(value(&f, &tier, &shopper).await, None);
        assert_eq!(
            attributes
                .find_value_by_id(&f.application, &second.id)
                .await
                .unwrap(),
            None
        );
        assert!(
            !is_member(&f, &silver_members, &shopper).await,
            "deleting a value drops its index entries"
        );
        let again = attributes
            .delete_value(&f.application, &tier.id, &shopper)
            .await;
        assert!(matches!(again, Err(StoreError::NotFound)), "{again:?}");
        assert_eq!(value_count(&f, &f.application, &shopper).await, 2);
    })
    .await;
}

#[tokio::test]
async fn values_refuse_unknown_archived_and_foreign_records() {
    each_backend(|f| async move {
        let attributes = &f.stores.attributes;
        let tier = define(&f, "tier", "string").await;
        let shopper = customer(&f).await;
        let gone = customer(&f).await;
        archive(&f, &gone).await;
        let other = other_application(&f).await;
        let foreign_tier = definition_in(&other, "tier", "string");
        attributes.create_definition(&foreign_tier).await.unwrap();
        let foreign_shopper = customer_in(&f, &other).await;
        let gold = value_of(&tier, json!("gold"));
        let never_stored = value_of(&definition_in(&f.application, "x", "string"), json!("a"));

        let cases = [
            ("an unknown customer", &f.application, &unknown_id(), &gold),
            (
                "an unknown definition",
                &f.application,
                &shopper,
                &never_stored,
            ),
            (
                "another application's definition",
                &f.application,
                &shopper,
                &value_of(&foreign_tier, json!("a")),
            ),
            (
                "another application's customer",
                &f.application,
                &foreign_shopper,
                &gold,
            ),
            (
                "the definition's application is not the customer's",
                &other,
                &foreign_shopper,
                &gold,
            ),
        ];
        for (case, application, customer, write) in cases {
            let result = attributes
                .upsert_value(application, customer, write, &actor(), t0())
                .await;
            assert!(
                matches!(result, Err(StoreError::NotFound)),
                "{case}: {result:?}"
            );
        }
        let archived = attributes
            .upsert_value(&f.application, &gone, &gold, &actor(), t0())
            .await;
        assert!(
            matches!(archived, Err(StoreError::ArchiveState(true))),
            "{archived:?}"
        );
        assert_eq!(value(&f, &tier, &gone).await, None);
        assert_eq!(value_count(&f, &other, &foreign_shopper).await, 0);

        let stored = set(&f, &tier, &shopper, json!("gold")).await;
        assert_eq!(
            attributes
                .find_value(&other, &tier.id, &shopper)
                .await
                .unwrap(),
            None
        );
        assert_eq!(
            attributes
                .find_value_by_id(&other, &stored.id)
                .await
                .unwrap(),
            None
        );
        assert_eq!(value_count(&f, &other, &shopper).await, 0);
        let deleted = attributes.delete_value(&other, &tier.id, &shopper).await;
        assert!(matches!(deleted, Err(StoreError::NotFound)), "{deleted:?}");
        assert_eq!(
            value(&f, &tier, &shopper).await.as_deref(),
            Some("\"gold\""),
            "still there"
        );
    })
    .await;
}

// ---------------------------------------------------------------------------------------
// Bulk writes

#[tokio::test]
async fn bulk_writes_skip_unknown_and_archived_customers() {
    each_backend(|f| async move {
        let tier = define(&f, "tier", "string").await;
        let points = define(&f, "points", "number").await;
        let tags = define(&f, "tags", "string_array").await;
        let (first, second, idle) = (customer(&f).await, customer(&f).await, customer(&f).await);
        let gone = customer(&f).await;
        archive(&f, &gone).await;
        let unknown = unknown_id();
        let other = other_application(&f).await;
        let foreign = customer_in(&f, &other).await;

        let writes = [
            entry(
                &first,
                vec![
                    value_of(&tier, json!("gold")),
                    value_of(&points, json!(7)),
                    value_of(&tags, json!(["vip"])),
                ],
            ),
            entry(&unknown, vec![value_of(&tier, json!("x"))]),
            entry(&second, vec![value_of(&points, json!(3))]),
            entry(&gone, vec![value_of(&tier, json!("y"))]),
            entry(&foreign, vec![value_of(&tier, json!("z"))]),
            entry(&idle, vec![]),
        ];
        assert_eq!(
            bulk(&f, &writes).await.unwrap(),
            sorted([&unknown, &gone, &foreign])
        );
        assert_eq!(value(&f, &tier, &first).await.as_deref(), Some("\"gold\""));
        assert_eq!(value(&f, &points, &first).await.as_deref(), Some("7"));
        assert_eq!(
            value(&f, &tags, &first).await.as_deref(),
            Some(r#"["vip"]"#)
        );
        assert_eq!(value(&f, &points, &second).await.as_deref(), Some("3"));
        assert_eq!(value(&f, &tier, &second).await, None);
        assert_eq!(value(&f, &tier, &gone).await, None);
        assert_eq!(value_count(&f, &other, &foreign).await, 0);

        let everyone = [&first, &second, &idle];
        assert_members(
            &f,
            &condition_alone(&tags, "eq", json!("vip")),
            &everyone,
            &[&first],
        )
        .await;
        assert_members(
            &f,
            &condition_alone(&points, "eq", json!(7)),
            &everyone,
            &[&first],
        )
        .await;
        assert_members(
            &f,
            &condition_alone(&points, "lt", json!(7)),
            &everyone,
            &[&second],
        )
        .await;

        // Rewriting a value replaces its index entries.
        let rewrite = [entry(
            &first,
            vec![
                value_of(&tags, json!(["old", "new"])),
                value_of(&points, json!(8)),
            ],
        )];
        assert_eq!(bulk(&f, &rewrite).await.unwrap(), vec![]);
        assert_eq!(
            value(&f, &tags, &first).await.as_deref(),
            Some(r#"["old","new"]"#)
        );
        assert_eq!(
            value(&f, &tier, &first).await.as_deref(),
            Some("\"gold\""),
            "values not named are kept"
        );
        assert_members(
            &f,
            &condition_alone(&tags, "eq", json!("vip")),
            &everyone,
            &[],
        )
        .await;
        assert_members(
            &f,
            &condition_alone(&tags, "eq", json!("new")),
            &everyone,
            &[&first],
        )
        .await;
        assert_members(
            &f,
            &condition_alone(&points, "eq", json!(7)),
            &everyone,
            &[],
        )
        .await;
        assert_members(
            &f,
            &condition_alone(&points, "eq", json!(8)),
            &everyone,
            &[&first],
        )
        .await;

        // An empty list is a value without elements: it satisfies no condition.
        set(&f, &tags, &first, json!([])).await;
        assert_members(
            &f,
            &condition_alone(&tags, "eq", json!("new")),
            &everyone,
            &[],
        )
        .await;
        assert_members(
            &f,
            &condition_alone(&tags, "nin", json!(["zzz"])),
            &everyone,
            &[],
        )
        .await;
    })
    .await;
}

#[tokio::test]
async fn bulk_writes_cross_batches() {
    each_backend(|f| async move {
        let points = define(&f, "points", "number").await;
        let news: Vec<NewCustomer> = (0..1100).map(|_| shopper(&f.application, None)).collect();
        f.stores
            .customers
            .import_customers(&news, &actor())
            .await
            .unwrap();
        let mut writes: Vec<CustomerValues> = news
            .iter()
            .enumerate()
            .map(|(i, new)| entry(&new.id, vec![value_of(&points, json!(i))]))
            .collect();
        // Unknown customers at the start of the first, second and third batch of 500.
        let unknown = [unknown_id(), unknown_id(), unknown_id()];
        for (position, id) in [0, 500, 1000].into_iter().zip(&unknown) {
            writes.insert(position, entry(id, vec![value_of(&points, json!(-1))]));
        }

        assert_eq!(bulk(&f, &writes).await.unwrap(), sorted(&unknown));
        let groups = &f.stores.groups;
        let everyone = condition_alone(&points, "gte", json!(0));
        let (_, total) = groups
            .list_members(&f.application, &everyone, page(1, 1))
            .await
            .unwrap();
        assert_eq!(total, 1100);
        for i in [0, 498, 499, 500, 997, 998, 999, 1000, 1099] {
            assert_eq!(
                value(&f, &points, &news[i].id).await,
                Some(i.to_string()),
                "customer {i}"
            );
        }
        let seam: Vec<&ObjectId> = (497..=500).map(|i| &news[i].id).collect();
        assert_members(
            &f,
            &condition_alone(&points, "btw", json!([497, 500])),
            &seam,
            &seam,
        )
        .await;
    })
    .await;
}

/// One customer in two entries of a batch: the last value is kept, and only its index
/// entries (PostgreSQL cannot upsert one row twice in a statement, so the store must
/// deduplicate; the index must not keep the overwritten value).
#[tokio::test]
async fn bulk_writes_naming_a_customer_twice_keep_the_last_value() {
    each_backend(|f| async move {
        let tags = define(&f, "tags", "string_array").await;
        let shopper = customer(&f).await;
        let writes = [
            entry(&shopper, vec![value_of(&tags, json!(["old"]))]),
            entry(&shopper, vec![value_of(&tags, json!(["new"]))]),
        ];
        let refused = bulk(&f, &writes).await;
        assert!(
            matches!(refused.as_deref(), Ok([])),
            "{:?}: {refused:?}",
            f.backend
        );
        assert_eq!(
            value(&f, &tags, &shopper).await.as_deref(),
            Some(r#"["new"]"#)
        );
        let old = condition_alone(&tags, "eq", json!("old"));
        assert!(
            !is_member(&f, &old, &shopper).await,
            "{:?}: the overwritten value still matches",
            f.backend
        );
    })
    .await;
}

// ---------------------------------------------------------------------------------------
// Membership queries against the domain's predicates

const TEXT_OPERATORS: [&str; 10] = [
    "eq", "ne", "cnt", "nct", "is", "nis", "sw", "ew", "in", "nin",
];
const NUMBER_OPERATORS: [&str; 9] = ["eq", "ne", "gt", "lt", "gte", "lte", "btw", "in", "nin"];
const BOOLEAN_OPERATORS: [&str; 4] = ["eq", "ne", "is", "nis"];
const NUMBERS: [f64; 10] = [-2.0, -1.0, 0.0, 0.1, 0.5, 1.0, 2.0, 2.5, 3.0, 1e12];

/// Random values and operands for one definition, from small pools so that values collide
/// with operands and include empty text, empty lists, `%`, `_` and non-ASCII letters.
struct Draw<'a>(&'a AttributeDefinition);

impl Draw<'_> {
    fn type_name(&self) -> &'static str {
        self.0.spec.attribute_type.as_str()
    }

    fn operators(&self) -> &'static [&'static str] {
        match self.0.spec.attribute_type.kind() {
            ValueKind::Text => &TEXT_OPERATORS,
            ValueKind::Boolean => &BOOLEAN_OPERATORS,
            _ => &NUMBER_OPERATORS,
        }
    }

    fn text(rng: &mut StdRng, pool: &[&str], max_len: usize) -> String {
        let len = rng.gen_range(0..=max_len);
        (0..len).map(|_| *pool.choose(rng).unwrap()).collect()
    }

    fn number(rng: &mut StdRng) -> Value {
        json!(NUMBERS.choose(rng).unwrap())
    }

    fn date(rng: &mut StdRng) -> String {
        let day = rng.gen_range(1..=9);
        match rng.gen_range(0..3) {
            0 => format!("2024-01-0{day}T{:02}:30:00Z", rng.gen_range(0..24)),
            1 => format!("2024-01-0{day}T03:00:00+05:30"),
            _ => format!("2024-01-0{day}"),
        }
    }

    fn list(rng: &mut StdRng, item: impl Fn(&mut StdRng) -> Value) -> Value {
        let len = rng.gen_range(0..=3);
        Value::Array((0..len).map(|_| item(rng)).collect())
    }

    /// A stored value.
    fn value(&self, rng: &mut StdRng) -> Value {
        match self.type_name() {
            "number" => Self::number(rng),
            "string" => json!(Self::text(rng, &["a", "b", "%", "_", "é", "A"], 3)),
            "date" => json!(Self::date(rng)),
            "boolean" => json!(rng.gen_bool(0.5)),
            "number_array" => Self::list(rng, Self::number),
            "string_array" => Self::list(rng, |rng| {
                json!(["vip", "new", "old", "v", "VIP", ""].choose(rng).unwrap())
            }),
            other => panic!("no values drawn for {other}"),
        }
    }

    /// A single operand, or one item of a list operand.
    fn scalar(&self, rng: &mut StdRng) -> Value {
        match self.type_name() {
            "number" | "number_array" => match rng.gen_range(0..5) {
                0 => json!("2"),
                1 => json!(1.5),
                _ => Self::number(rng),
            },
            "string" => json!(Self::text(rng, &["a", "b", "%", "_", "é"], 2)),
            "date" => json!(Self::date(rng)),
            "boolean" => json!([json!(true), json!(false), json!("true"), json!("false")]
                .choose(rng)
                .unwrap()),
            _ => json!(["vip", "new", "old", "v", "i", "ip", "VIP", ""]
                .choose(rng)
                .unwrap()),
        }
    }

    fn operand(&self, rng: &mut StdRng, operator: &str) -> Value {
        match operator {
            "btw" => {
                let position = |operand: &Value| match predicate(self.0, "eq", operand).test {
                    Test::Compare(_, number) => number,
                    other => panic!("{other:?}"),
                };
                let (low, high) = (self.scalar(rng), self.scalar(rng));
                if position(&low) <= position(&high) {
                    json!([low, high])
                } else {
                    json!([high, low])
                }
            }
            "in" | "nin" => {
                let items: Vec<Value> = (0..rng.gen_range(1..=3))
                    .map(|_| self.scalar(rng))
                    .collect();
                let texts: Option<Vec<&str>> = items.iter().map(Value::as_str).collect();
                match texts {
                    // Clients whose models type the value as a string send "a,b".
                    Some(texts) if rng.gen_bool(0.3) => json!(texts.join(",")),
                    _ => Value::Array(items),
                }
            }
            _ => self.scalar(rng),
        }
    }
}

/// Customers with random values, and what the domain computes for them.
struct Population {
    live: Vec<ObjectId>,
    archived: Vec<ObjectId>,
    /// Index entries and the value as written, per (definition, customer).
    values: BTreeMap<(ObjectId, ObjectId), (Vec<IndexEntry>, Value)>,
}

impl Population {
    async fn create(
        f: &Fixture,
        rng: &mut StdRng,
        definitions: &[&AttributeDefinition],
        size: usize,
    ) -> Self {
        let mut population = Population {
            live: Vec::new(),
            archived: Vec::new(),
            values: BTreeMap::new(),
        };
        for position in 0..size {
            let id = customer(f).await;
            for definition in definitions {
                if rng.gen_bool(0.2) {
                    continue;
                }
                let value = Draw(definition).value(rng);
                let stored = set(f, definition, &id, value.clone()).await;
                assert_eq!(stored.stored, value.to_string());
                let index = value_of(definition, value.clone()).index;
                population
                    .values
                    .insert((definition.id.clone(), id.clone()), (index, value));
            }
            if position % 8 == 7 {
                archive(f, &id).await;
                population.archived.push(id);
            } else {
                population.live.push(id);
            }
        }
        population
    }

    fn holds(&self, customer: &ObjectId, tests: &[(&AttributeDefinition, Predicate)]) -> bool {
        tests.iter().all(|(definition, predicate)| {
            let found = self.values.get(&(definition.id.clone(), customer.clone()));
            predicate.matches(found.map_or(&[], |(index, _)| index.as_slice()))
        })
    }

    /// Checks `list_members` and `is_member` for every customer against
    /// `Predicate::matches`; returns how many live customers are members.
    async fn check(&self, f: &Fixture, tests: &[(&AttributeDefinition, &str, Value)]) -> usize {
        let membership = conditions(&unknown_id(), tests);
        let compiled: Vec<(&AttributeDefinition, Predicate)> = tests
            .iter()
            .map(|(definition, operator, operand)| {
                (*definition, predicate(definition, operator, operand))
            })
            .collect();
        let expected: BTreeSet<ObjectId> = self
            .live
            .iter()
            .filter(|c| self.holds(c, &compiled))
            .cloned()
            .collect();
        let described: Vec<String> = tests
            .iter()
            .map(|(d, op, operand)| format!("{} {op} {operand}", d.spec.slug))
            .collect();
        let described = format!("{:?}: {}", f.backend, described.join(" AND "));
        let found = members(f, &membership).await;
        if found != expected {
            let differing: Vec<String> = found
                .symmetric_difference(&expected)
                .map(|customer| {
                    let values: Vec<String> = tests
                        .iter()
                        .map(|(d, _, _)| {
                            let value = self
                                .values
                                .get(&(d.id.clone(), customer.clone()))
                                .map(|(_, value)| value);
                            format!("{}={value:?}", d.spec.slug)
                        })
                        .collect();
                    format!(
                        "  {customer}: sql {}, rust {}; {}",
                        found.contains(customer),
                        expected.contains(customer),
                        values.join(" ")
                    )
                })
                .collect();
            panic!(
                "{described}: list_members disagrees with Predicate::matches:\n{}",
                differing.join("\n")
            );
        }
        for customer in self.live.iter().chain(&self.archived) {
            assert_eq!(
                is_member(f, &membership, customer).await,
                expected.contains(customer),
                "{described}: is_member({customer})"
            );
        }
        expected.len()
    }
}

#[tokio::test]
async fn membership_queries_agree_with_the_domain_predicates() {
    each_backend(|f| async move {
        let mut rng = StdRng::seed_from_u64(20_260_101);
        let mut definitions = Vec::new();
        for (slug, type_name) in [
            ("points", "number"),
            ("tier", "string"),
            ("joined", "date"),
            ("tags", "string_array"),
            ("subscribed", "boolean"),
            ("scores", "number_array"),
        ] {
            definitions.push(define(&f, slug, type_name).await);
        }
        let definitions: Vec<&AttributeDefinition> = definitions.iter().collect();
        let population = Population::create(&f, &mut rng, &definitions, 32).await;
        let live = population.live.len();

        let (mut checks, mut informative) = (0, 0);
        for definition in &definitions {
            let draw = Draw(definition);
            for operator in draw.operators() {
                for _ in 0..4 {
                    let operand = draw.operand(&mut rng, operator);
                    let matched = population
                        .check(&f, &[(definition, operator, operand)])
                        .await;
                    checks += 1;
                    informative += usize::from(matched > 0 && matched < live);
                }
            }
        }
        assert!(
            informative * 2 > checks,
            "only {informative} of {checks} conditions split the customers"
        );

        // Two conditions: both must hold.
        for _ in 0..24 {
            let pair: Vec<&AttributeDefinition> =
                definitions.choose_multiple(&mut rng, 2).copied().collect();
            let tests: Vec<(&AttributeDefinition, &str, Value)> = pair
                .into_iter()
                .map(|definition| {
                    let draw = Draw(definition);
                    let operator = *draw.operators().choose(&mut rng).unwrap();
                    (definition, operator, draw.operand(&mut rng, operator))
                })
                .collect();
            population.check(&f, &tests).await;
        }
    })
    .await;
}

// ---------------------------------------------------------------------------------------
// Groups

#[tokio::test]
async fn group_uids_count_per_application_even_concurrently() {
    each_backend(|f| async move {
        let mut uids = Vec::new();
        for name in ["one", "two", "three"] {
            let created = bulk_group(&f, name).await;
            assert_eq!(find_group(&f, &created.id).await.as_ref(), Some(&created));
            uids.push(created.uid);
        }
        assert_eq!(uids, vec![1, 2, 3]);
        let other = other_application(&f).await;
        let elsewhere = new_group(&other, "one", GroupKind::Bulk, vec![]);
        let elsewhere = f
            .stores
            .groups
            .create_group(&elsewhere, &MemberChanges::default())
            .await
            .unwrap();
        assert_eq!(elsewhere.uid, 1, "uids count per application");
        assert_eq!(find_group(&f, &elsewhere.id).await, None);

        let attempts: Vec<_> = (0..8)
            .map(|i| {
                let stores = f.stores.clone();
                let group = new_group(
                    &f.application,
                    &format!("racer {i}"),
                    GroupKind::Bulk,
                    vec![],
                );
                tokio::spawn(async move {
                    stores
                        .groups
                        .create_group(&group, &MemberChanges::default())
                        .await
                })
            })
            .collect();
        let mut raced = BTreeSet::new();
        for attempt in attempts {
            raced.insert(attempt.await.unwrap().unwrap().uid);
        }
        assert_eq!(raced, (4..=11).collect::<BTreeSet<i64>>());
        assert_eq!(bulk_group(&f, "last").await.uid, 12);
    })
    .await;
}

async fn group_names(f: &Fixture, filter: GroupFilter, page: PageRequest) -> (Vec<String>, u64) {
    let (found, total) = f
        .stores
        .groups
        .list_groups(&f.application, &filter, page)
        .await
        .unwrap();
    (found.into_iter().map(|group| group.name).collect(), total)
}

fn groups_where(edit: impl FnOnce(&mut GroupFilter)) -> GroupFilter {
    let mut filter = GroupFilter::default();
    edit(&mut filter);
    filter
}

#[tokio::test]
async fn group_lists_filter_literally_and_page() {
    each_backend(|f| async move {
        for (name, kind, status) in [
            ("VIP shoppers", GroupKind::Bulk, "pending"),
            ("Lapsed vip", GroupKind::Conditional, "completed"),
            ("100% club", GroupKind::Bulk, "completed"),
            ("new_users", GroupKind::Conditional, "failed"),
        ] {
            let group = Group {
                status: status.into(),
                ..new_group(&f.application, name, kind, vec![])
            };
            f.stores
                .groups
                .create_group(&group, &MemberChanges::default())
                .await
                .unwrap();
        }
        let other = other_application(&f).await;
        let elsewhere = new_group(&other, "vip elsewhere", GroupKind::Bulk, vec![]);
        f.stores
            .groups
            .create_group(&elsewhere, &MemberChanges::default())
            .await
            .unwrap();

        let newest_first = ["new_users", "100% club", "Lapsed vip", "VIP shoppers"];
        let cases: Vec<(GroupFilter, &[&str])> = vec![
            (GroupFilter::default(), &newest_first),
            (
                groups_where(|w| w.name = Some("vip".into())),
                &["Lapsed vip", "VIP shoppers"],
            ),
            (groups_where(|w| w.name = Some("%".into())), &["100% club"]),
            (groups_where(|w| w.name = Some("_".into())), &["new_users"]),
            (
                groups_where(|w| w.name = Some("w_u".into())),
                &["new_users"],
            ),
            (groups_where(|w| w.name = Some("p.*s".into())), &[]),
            (
                groups_where(|w| w.kind = Some("conditional".into())),
                &["new_users", "Lapsed vip"],
            ),
            (
                groups_where(|w| w.status = Some("completed".into())),
                &["100% club", "Lapsed vip"],
            ),
            (groups_where(|w| w.uid = Some(3)), &["100% club"]),
            (groups_where(|w| w.uid = Some(5)), &[]),
            (
                groups_where(|w| {
                    w.kind = Some("bulk".into());
                    w.status = Some("completed".into());
                }),
                &["100% club"],
            ),
        ];
        for (filter, expected) in cases {
            let described = format!("{filter:?}");
            let total = expected.len() as u64;
            assert_eq!(
                group_names(&f, filter, everything()).await,
                (strings(expected), total),
                "{described}"
            );
        }
        let second_page = group_names(&f, GroupFilter::default(), page(2, 3)).await;
        assert_eq!(second_page, (strings(&["VIP shoppers"]), 4));
    })
    .await;
}

#[tokio::test]
async fn group_updates_save_fields_and_bump_the_version() {
    each_backend(|f| async move {
        let groups = &f.stores.groups;
        let points = define(&f, "points", "number").await;
        let created = bulk_group(&f, "Draft").await;
        assert_eq!(created.version, 0);

        let edited = Group {
            name: "Big spenders".into(),
            description: "Over a hundred points".into(),
            kind: GroupKind::Conditional,
            status: "pending".into(),
            is_active: false,
            conditions: vec![condition(&points, "gt", json!("100"))],
            file_url: Some("https://files.example.com/members.csv".into()),
            error_count: Some(2),
            error_file_url: Some("https://files.example.com/errors.csv".into()),
            tags: strings(&["promo", "q1"]),
            updated_at: t0() + Duration::hours(2),
            ..created.clone()
        };
        let saved = change(&f, &edited, MemberChanges::default()).await;
        assert_eq!(
            saved,
            Group {
                version: 1,
                ..edited.clone()
            }
        );
        assert_eq!(find_group(&f, &created.id).await, Some(saved.clone()));
        let again = change(&f, &saved, MemberChanges::default()).await;
        assert_eq!(again.version, 2);
        let error = f
            .stores
            .attributes
            .delete_definition(&f.application, &points.id)
            .await
            .unwrap_err();
        assert!(
            matches!(error, StoreError::InUse(ref names) if names == &["Big spenders"]),
            "{error:?}"
        );

        let ghost = new_group(&f.application, "ghost", GroupKind::Bulk, vec![]);
        let result = groups.update_group(&ghost, &MemberChanges::default()).await;
        assert!(matches!(result, Err(StoreError::NotFound)), "{result:?}");
        assert_eq!(find_group(&f, &ghost.id).await, None);
        let other = other_application(&f).await;
        let foreign = Group {
            application_id: other.clone(),
            name: "hijacked".into(),
            ..again.clone()
        };
        let result = groups
            .update_group(&foreign, &MemberChanges::default())
            .await;
        assert!(matches!(result, Err(StoreError::NotFound)), "{result:?}");
        assert_eq!(groups.find_group(&other, &created.id).await.unwrap(), None);
        assert_eq!(find_group(&f, &created.id).await, Some(again));
    })
    .await;
}

#[tokio::test]
async fn member_changes_list_unlist_and_override() {
    each_backend(|f| async move {
        let [a, b, c, d, e] = [
            customer(&f).await,
            customer(&f).await,
            customer(&f).await,
            customer(&f).await,
            customer(&f).await,
        ];
        let everyone = [&a, &b, &c, &d, &e];
        let group =
            create_group(&f, "Listed", GroupKind::Bulk, vec![], adding(&[&a, &b, &c])).await;
        let membership = listed(&group);
        assert_members(&f, &membership, &everyone, &[&a, &b, &c]).await;

        change(
            &f,
            &group,
            MemberChanges {
                remove: vec![b.clone()],
                ..Default::default()
            },
        )
        .await;
        assert_members(&f, &membership, &everyone, &[&a, &c]).await;
        change(&f, &group, adding(&[&a])).await;
        assert_members(&f, &membership, &everyone, &[&a, &c]).await;

        // A blacklist excludes even listed customers, and a later add does not undo it.
        change(
            &f,
            &group,
            MemberChanges {
                blacklist: vec![c.clone()],
                ..Default::default()
            },
        )
        .await;
        assert_members(&f, &membership, &everyone, &[&a]).await;
        change(&f, &group, adding(&[&c])).await;
        assert_members(&f, &membership, &everyone, &[&a]).await;

        // A whitelist includes customers never listed.
        change(
            &f,
            &group,
            MemberChanges {
                whitelist: vec![d.clone()],
                ..Default::default()
            },
        )
        .await;
        assert_members(&f, &membership, &everyone, &[&a, &d]).await;

        // In one change, the blacklist wins over the whitelist (and the add).
        let both = MemberChanges {
            add: vec![e.clone()],
            whitelist: vec![e.clone()],
            blacklist: vec![e.clone()],
            ..Default::default()
        };
        change(&f, &group, both).await;
        assert_members(&f, &membership, &everyone, &[&a, &d]).await;

        // A later whitelist of a blacklisted customer makes them a member.
        change(
            &f,
            &group,
            MemberChanges {
                whitelist: vec![e.clone(), c.clone()],
                ..Default::default()
            },
        )
        .await;
        assert_members(&f, &membership, &everyone, &[&a, &c, &d, &e]).await;

        // Archived customers are never members, listed or whitelisted.
        archive(&f, &a).await;
        archive(&f, &d).await;
        assert_members(&f, &membership, &everyone, &[&c, &e]).await;
        change(
            &f,
            &group,
            MemberChanges {
                add: vec![a.clone()],
                whitelist: vec![d.clone()],
                ..Default::default()
            },
        )
        .await;
        assert_members(&f, &membership, &everyone, &[&c, &e]).await;
    })
    .await;
}

#[tokio::test]
async fn overrides_apply_to_conditional_groups() {
    each_backend(|f| async move {
        let points = define(&f, "points", "number").await;
        let [high, low, none, gone] = [
            customer(&f).await,
            customer(&f).await,
            customer(&f).await,
            customer(&f).await,
        ];
        set(&f, &points, &high, json!(10)).await;
        set(&f, &points, &low, json!(1)).await;
        set(&f, &points, &gone, json!(50)).await;
        archive(&f, &gone).await;
        let everyone = [&high, &low, &none, &gone];
        let rule = vec![condition(&points, "gte", json!(5))];
        let group = create_group(
            &f,
            "High",
            GroupKind::Conditional,
            rule,
            MemberChanges::default(),
        )
        .await;
        let membership = conditions(&group.id, &[(&points, "gte", json!(5))]);
        assert_members(&f, &membership, &everyone, &[&high]).await;

        let overrides = MemberChanges {
            blacklist: vec![high.clone()],
            whitelist: vec![low.clone(), none.clone(), gone.clone()],
            ..Default::default()
        };
        change(&f, &group, overrides).await;
        assert_members(&f, &membership, &everyone, &[&low, &none]).await;
        let no_conditions = Membership {
            group_id: group.id.clone(),
            rule: MembershipRule::Conditions(vec![]),
        };
        assert_members(&f, &no_conditions, &everyone, &[&low, &none]).await;
        let other_group = condition_alone(&points, "gte", json!(5));
        assert_members(&f, &other_group, &everyone, &[&high]).await;
    })
    .await;
}

#[tokio::test]
async fn member_changes_naming_unknown_customers_write_nothing() {
    each_backend(|f| async move {
        let groups = &f.stores.groups;
        let [a, b] = [customer(&f).await, customer(&f).await];
        let unknown = unknown_id();
        let other = other_application(&f).await;
        let foreign = customer_in(&f, &other).await;
        let group = create_group(&f, "Listed", GroupKind::Bulk, vec![], adding(&[&a])).await;

        for (changes, culprit) in [
            (MemberChanges { add: vec![b.clone(), unknown.clone()], ..Default::default() }, &unknown),
            (MemberChanges { remove: vec![a.clone()], whitelist: vec![unknown.clone()], ..Default::default() }, &unknown),
            (MemberChanges { blacklist: vec![a.clone(), unknown.clone()], ..Default::default() }, &unknown),
            (MemberChanges { add: vec![b.clone()], whitelist: vec![foreign.clone()], ..Default::default() }, &foreign),
        ] {
            let renamed = Group { name: "Renamed".into(), ..group.clone() };
            let error = groups.update_group(&renamed, &changes).await.unwrap_err();
            assert!(matches!(error, StoreError::UnknownCustomers(ref ids) if ids == &[culprit.to_string()]), "{changes:?}: {error:?}");
            assert_members(&f, &listed(&group), &[&a, &b], &[&a]).await;
            assert_eq!(find_group(&f, &group.id).await, Some(group.clone()), "the group is unchanged");
        }

        let refused = new_group(&f.application, "Refused", GroupKind::Bulk, vec![]);
        let error = groups.create_group(&refused, &adding(&[&a, &unknown])).await.unwrap_err();
        assert!(matches!(error, StoreError::UnknownCustomers(ref ids) if ids == &[unknown.to_string()]), "{error:?}");
        assert_eq!(find_group(&f, &refused.id).await, None);
        assert_eq!(group_names(&f, GroupFilter::default(), everything()).await.1, 1);
        assert_eq!(bulk_group(&f, "Next").await.uid, 2, "a refused create uses no uid");
    })
    .await;
}

/// A customer named twice in one change (e.g. `blacklisted_users: [id, id]`) is harmless on
/// both backends.
#[tokio::test]
async fn repeated_ids_in_one_change_are_harmless() {
    each_backend(|f| async move {
        let [a, b] = [customer(&f).await, customer(&f).await];
        let twice = MemberChanges {
            add: vec![a.clone(), a.clone()],
            whitelist: vec![b.clone(), b.clone()],
            blacklist: vec![a.clone(), a.clone()],
            ..Default::default()
        };
        let group = new_group(&f.application, "Twice", GroupKind::Bulk, vec![]);
        let created = f.stores.groups.create_group(&group, &twice).await;
        let created = created.unwrap_or_else(|error| {
            panic!("{:?}: naming a customer twice fails: {error:?}", f.backend)
        });
        assert_members(&f, &listed(&created), &[&a, &b], &[&b]).await;
    })
    .await;
}

// ---------------------------------------------------------------------------------------
// Resolving file rows to customers

/// Also the regression test for phone lookups on PostgreSQL, which once decoded the INT4
/// `country_code` into an `i64` and failed.
#[tokio::test]
async fn customers_resolve_by_id_email_and_phone_in_order() {
    each_backend(|f| async move {
        let create = |new: NewCustomer| {
            let stores = f.stores.clone();
            async move {
                stores
                    .customers
                    .create_customer(&new, &actor())
                    .await
                    .unwrap();
                new
            }
        };
        let a = create(shopper(&f.application, Some("9876500001"))).await;
        let b = create(shopper(&f.application, None)).await;
        let c = create(shopper(&f.application, Some("9876500003"))).await;
        archive(&f, &c.id).await;
        let other = other_application(&f).await;
        let foreign = create(shopper(&other, Some("9876500004"))).await;
        let email_of = |new: &NewCustomer| Identifier::Email(new.emails[0].email.clone());
        let phone_of = |new: &NewCustomer| Identifier::Phone(new.phones[0].phone.clone());
        let id_of = |new: &NewCustomer| Identifier::UserId(new.id.clone());
        let (found_a, found_b) = (Some(a.id.clone()), Some(b.id.clone()));

        let cases = [
            (email_of(&b), &found_b),
            (id_of(&a), &found_a),
            (phone_of(&a), &found_a),
            (Identifier::UserId(unknown_id()), &None),
            (Identifier::Email(email("nobody@example.com")), &None),
            (Identifier::Phone(phone("9876509999")), &None),
            (phone_of(&c), &None),
            (email_of(&c), &None),
            (id_of(&c), &None),
            (
                Identifier::Email(email(&a.emails[0].email.as_str().to_uppercase())),
                &found_a,
            ),
            (phone_of(&foreign), &None),
            (email_of(&foreign), &None),
            (id_of(&foreign), &None),
            (Identifier::Phone(phone("+91 98765 00001")), &found_a),
            (email_of(&b), &found_b),
        ];
        let identifiers: Vec<Identifier> = cases
            .iter()
            .map(|(identifier, _)| identifier.clone())
            .collect();
        let expected: Vec<Option<ObjectId>> = cases.iter().map(|(_, id)| (*id).clone()).collect();
        let resolved = f
            .stores
            .groups
            .resolve_customers(&f.application, &identifiers)
            .await;
        let resolved = resolved.unwrap_or_else(|error| panic!("{:?}: {error:?}", f.backend));
        assert_eq!(resolved, expected);
        assert_eq!(
            f.stores
                .groups
                .resolve_customers(&f.application, &[])
                .await
                .unwrap(),
            vec![]
        );
    })
    .await;
}
