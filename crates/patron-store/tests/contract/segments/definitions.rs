//! Attribute definitions: slugs, filters, versions, locks, deletion.

use super::*;

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
            Err(StoreError::NotFound {
                entity: Entity::AttributeDefinition,
                ..
            })
        ));
        let other = other_application(&f).await;
        let foreign = AttributeDefinition {
            application_id: other,
            version: 2,
            ..renamed.clone()
        };
        assert!(matches!(
            attributes.update_definition(&foreign).await,
            Err(StoreError::NotFound {
                entity: Entity::AttributeDefinition,
                ..
            })
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
            Err(StoreError::Locked {
                entity: Entity::AttributeDefinition,
                ..
            })
        ));
        let unlocked = AttributeDefinition {
            is_locked: false,
            ..after
        };
        assert!(matches!(
            attributes.update_definition(&unlocked).await,
            Err(StoreError::Locked {
                entity: Entity::AttributeDefinition,
                ..
            })
        ));
        let deleted = attributes.delete_definition(&f.application, &tier.id).await;
        assert!(
            matches!(
                deleted,
                Err(StoreError::Locked {
                    entity: Entity::AttributeDefinition,
                    ..
                })
            ),
            "{deleted:?}"
        );
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
        assert!(matches!(error, StoreError::NotFound { entity: Entity::AttributeDefinition, .. }), "{error:?}");
        let other = other_application(&f).await;
        for (application, id) in [
            (&f.application, &tier.id),
            (&f.application, &unknown_id()),
            (&other, &points.id),
        ] {
            let deleted = attributes.delete_definition(application, id).await;
            assert!(matches!(deleted, Err(StoreError::NotFound { entity: Entity::AttributeDefinition, .. })), "{deleted:?}");
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
            matches!(error, StoreError::InUse { users: ref names, .. } if names == &["Big spenders", "Savers"]),
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
