//! Attribute values: upsert, read, list, delete, refusals.

use super::*;

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
            .delete_value(&f.application, &tier.id, &shopper, &actor(), t0())
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
            .delete_value(&f.application, &tier.id, &shopper, &actor(), t0())
            .await;
        assert!(
            matches!(
                again,
                Err(StoreError::NotFound {
                    entity: Entity::AttributeValue,
                    ..
                })
            ),
            "{again:?}"
        );
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
                matches!(result, Err(StoreError::NotFound { .. })),
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
        let deleted = attributes
            .delete_value(&other, &tier.id, &shopper, &actor(), t0())
            .await;
        assert!(
            matches!(
                deleted,
                Err(StoreError::NotFound {
                    entity: Entity::AttributeValue,
                    ..
                })
            ),
            "{deleted:?}"
        );
        assert_eq!(
            value(&f, &tier, &shopper).await.as_deref(),
            Some("\"gold\""),
            "still there"
        );
    })
    .await;
}
