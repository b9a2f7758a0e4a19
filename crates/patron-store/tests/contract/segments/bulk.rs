//! Bulk value writes: refused customers, batches, repeats.

use super::*;

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
