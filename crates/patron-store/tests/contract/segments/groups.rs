//! Groups: uids, lists, updates and member changes.

use super::*;

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
            .create_group(&elsewhere, &MemberChanges::default(), None)
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
                        .create_group(&group, &MemberChanges::default(), None)
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
            ("VIP shoppers", GroupKind::Bulk, GroupStatus::Pending),
            ("Lapsed vip", GroupKind::Conditional, GroupStatus::Completed),
            ("100% club", GroupKind::Bulk, GroupStatus::Completed),
            ("new_users", GroupKind::Conditional, GroupStatus::Failed),
        ] {
            let group = Group {
                status,
                ..new_group(&f.application, name, kind, vec![])
            };
            f.stores
                .groups
                .create_group(&group, &MemberChanges::default(), None)
                .await
                .unwrap();
        }
        let other = other_application(&f).await;
        let elsewhere = new_group(&other, "vip elsewhere", GroupKind::Bulk, vec![]);
        f.stores
            .groups
            .create_group(&elsewhere, &MemberChanges::default(), None)
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
            status: GroupStatus::Pending,
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
            matches!(error, StoreError::InUse { users: ref names, .. } if names == &["Big spenders"]),
            "{error:?}"
        );

        let ghost = new_group(&f.application, "ghost", GroupKind::Bulk, vec![]);
        let result = groups.update_group(&ghost, &MemberChanges::default(), None).await;
        assert!(matches!(result, Err(StoreError::NotFound { entity: Entity::Group, .. })), "{result:?}");
        assert_eq!(find_group(&f, &ghost.id).await, None);
        let other = other_application(&f).await;
        let foreign = Group {
            application_id: other.clone(),
            name: "hijacked".into(),
            ..again.clone()
        };
        let result = groups
            .update_group(&foreign, &MemberChanges::default(), None)
            .await;
        assert!(matches!(result, Err(StoreError::NotFound { entity: Entity::Group, .. })), "{result:?}");
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
            multi_valued: false,
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
            let error = groups.update_group(&renamed, &changes, None).await.unwrap_err();
            assert!(matches!(error, StoreError::UnknownCustomers(ref ids) if ids == &[culprit.to_string()]), "{changes:?}: {error:?}");
            assert_members(&f, &listed(&group), &[&a, &b], &[&a]).await;
            assert_eq!(find_group(&f, &group.id).await, Some(group.clone()), "the group is unchanged");
        }

        let refused = new_group(&f.application, "Refused", GroupKind::Bulk, vec![]);
        let error = groups.create_group(&refused, &adding(&[&a, &unknown]), None).await.unwrap_err();
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
        let created = f.stores.groups.create_group(&group, &twice, None).await;
        let created = created.unwrap_or_else(|error| {
            panic!("{:?}: naming a customer twice fails: {error:?}", f.backend)
        });
        assert_members(&f, &listed(&created), &[&a, &b], &[&b]).await;
    })
    .await;
}
