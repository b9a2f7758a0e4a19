//! Customers: uniqueness, archive/restore, block, update, listing and the q language.

use chrono::Duration;
use patron_domain::customer::{CustomerChanges, EmailEntry, PhoneEntry};
use patron_domain::page::PageRequest;
use patron_domain::phone::Region;
use patron_domain::query::parse_query;
use patron_store::{Conflict, StoreError};
use sqlx::Connection;

use crate::{actor, each_backend, email, phone, t0};

#[tokio::test]
async fn created_customers_read_back_with_contacts() {
    each_backend(|f| async move {
        let new = f.new_customer(Some("asha@example.com"), Some("9876543210"));
        let created = f
            .stores
            .customers
            .create_customer(&new, &actor())
            .await
            .unwrap();
        let found = f
            .stores
            .customers
            .find_customer(&f.application, &new.id)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(found, created);
        assert_eq!(found.emails[0].email.as_str(), "asha@example.com");
        assert_eq!(
            (
                found.phones[0].phone.country_code(),
                found.phones[0].phone.national()
            ),
            (91, "9876543210")
        );
        assert!(found.active && !found.archived);
    })
    .await;
}

#[tokio::test]
async fn email_phone_and_username_are_unique_per_application() {
    each_backend(|f| async move {
        let first = f.new_customer(Some("asha@example.com"), Some("9876543210"));
        f.stores.customers.create_customer(&first, &actor()).await.unwrap();

        let same_email = f.new_customer(Some("asha@example.com"), Some("9876543211"));
        let error = f.stores.customers.create_customer(&same_email, &actor()).await.unwrap_err();
        assert!(matches!(error, StoreError::Conflict(Conflict::Email(ref e)) if e == "asha@example.com"), "{error:?}");

        let same_phone = f.new_customer(Some("other@example.com"), Some("+91 98765 43210"));
        let error = f.stores.customers.create_customer(&same_phone, &actor()).await.unwrap_err();
        assert!(matches!(error, StoreError::Conflict(Conflict::Phone(_))), "{error:?}");

        let mut same_username = f.new_customer(Some("third@example.com"), None);
        same_username.username = first.username.clone();
        let error = f.stores.customers.create_customer(&same_username, &actor()).await.unwrap_err();
        assert!(matches!(error, StoreError::Conflict(Conflict::Username(_))), "{error:?}");

        let (all, total) = f.stores.customers.list_customers(&f.application, None, PageRequest::default()).await.unwrap();
        assert_eq!((all.len(), total), (1, 1), "failed creates wrote nothing");
    })
    .await;
}

#[tokio::test]
async fn concurrent_creates_with_one_email_make_one_customer() {
    each_backend(|f| async move {
        let attempts: Vec<_> = (0..8)
            .map(|i| {
                let stores = f.stores.clone();
                let new =
                    f.new_customer(Some("race@example.com"), Some(&format!("98765000{i:02}")));
                tokio::spawn(async move { stores.customers.create_customer(&new, &actor()).await })
            })
            .collect();
        let mut created = 0;
        for attempt in attempts {
            match attempt.await.unwrap() {
                Ok(_) => created += 1,
                Err(StoreError::Conflict(Conflict::Email(_))) => {}
                Err(other) => panic!("unexpected error: {other:?}"),
            }
        }
        assert_eq!(created, 1);
        let (_, total) = f
            .stores
            .customers
            .list_customers(&f.application, None, PageRequest::default())
            .await
            .unwrap();
        assert_eq!(total, 1);
    })
    .await;
}

#[tokio::test]
async fn concurrent_proofs_of_a_contact_held_unproven_move_it_once() {
    each_backend(|f| async move {
        let stranger = f.new_customer(Some("olga@example.com"), Some("9000000001"));
        f.stores
            .customers
            .create_customer(&stranger, &actor())
            .await
            .unwrap();
        let attempts: Vec<_> = (0..6)
            .map(|i| {
                let stores = f.stores.clone();
                let new = f
                    .new_customer(Some("olga@example.com"), Some(&format!("91000000{i:02}")))
                    .with_verified(true, false)
                    .proven_by_shopper();
                tokio::spawn(async move { stores.customers.create_customer(&new, &actor()).await })
            })
            .collect();
        let mut created = Vec::new();
        for attempt in attempts {
            match attempt.await.unwrap() {
                Ok(customer) => created.push(customer),
                Err(StoreError::Conflict(Conflict::Email(_))) => {}
                Err(other) => panic!("unexpected error: {other:?}"),
            }
        }
        assert_eq!(created.len(), 1, "the database decides one winner");
        assert!(created[0].emails[0].verified);
        let holder = f
            .stores
            .customers
            .find_customer(&f.application, &stranger.id)
            .await
            .unwrap()
            .unwrap();
        assert!(holder.emails.is_empty(), "the stranger lost the email");
        assert_eq!(holder.phones.len(), 1, "and kept their own number");
        let trail = f
            .stores
            .customers
            .audit_trail(&f.application, &stranger.id, 10)
            .await
            .unwrap();
        let releases = trail
            .iter()
            .filter(|record| record.action == "contact_release")
            .count();
        assert_eq!(releases, 1, "released once");

        // A proven holder keeps it: a later proof elsewhere is a conflict.
        let late = f
            .new_customer(Some("olga@example.com"), Some("9200000000"))
            .with_verified(true, false)
            .proven_by_shopper();
        let refused = f
            .stores
            .customers
            .create_customer(&late, &actor())
            .await
            .unwrap_err();
        assert!(
            matches!(refused, StoreError::Conflict(Conflict::Email(_))),
            "{refused:?}"
        );
        // Without a proof by the shopper nothing moves.
        let unproven = f.new_customer(Some("free@example.com"), Some("9300000000"));
        f.stores
            .customers
            .create_customer(&unproven, &actor())
            .await
            .unwrap();
        let vouched = f
            .new_customer(Some("free@example.com"), Some("9300000001"))
            .with_verified(true, true);
        let refused = f
            .stores
            .customers
            .create_customer(&vouched, &actor())
            .await
            .unwrap_err();
        assert!(
            matches!(refused, StoreError::Conflict(Conflict::Email(_))),
            "{refused:?}"
        );
    })
    .await;
}

#[tokio::test]
async fn archive_frees_contacts_and_restore_refuses_a_taken_one() {
    each_backend(|f| async move {
        let old = f.new_customer(Some("asha@example.com"), Some("9876543210"));
        f.stores.customers.create_customer(&old, &actor()).await.unwrap();
        f.stores.customers.archive_customer(&f.application, &old.id, &actor(), t0()).await.unwrap();
        let again = f.stores.customers.archive_customer(&f.application, &old.id, &actor(), t0()).await.unwrap_err();
        assert!(matches!(again, StoreError::ArchiveState(true)));

        let (live, total) = f.stores.customers.list_customers(&f.application, None, PageRequest::default()).await.unwrap();
        assert_eq!((live.len(), total), (0, 0), "archived customers are not listed by default");
        let archived_filter = parse_query(r#"{"archive": true}"#, Region::INDIA).unwrap();
        let (archived, _) = f.stores.customers.list_customers(&f.application, archived_filter.as_ref(), PageRequest::default()).await.unwrap();
        assert_eq!(archived.len(), 1);
        assert!(archived[0].archived);
        assert!(f.stores.customers.search_customers(&f.application, &[email("asha@example.com")], &[]).await.unwrap().is_empty());

        let newer = f.new_customer(Some("asha@example.com"), None);
        f.stores.customers.create_customer(&newer, &actor()).await.expect("archived email is free again");

        let refused = f.stores.customers.restore_customer(&f.application, &old.id, &actor(), t0()).await.unwrap_err();
        assert!(matches!(refused, StoreError::Conflict(Conflict::Email(ref e)) if e == "asha@example.com"), "{refused:?}");
        assert!(f.stores.customers.find_customer(&f.application, &old.id).await.unwrap().unwrap().archived, "refusal changed nothing");

        f.stores.customers.archive_customer(&f.application, &newer.id, &actor(), t0()).await.unwrap();
        f.stores.customers.restore_customer(&f.application, &old.id, &actor(), t0()).await.unwrap();
        let restored = f.stores.customers.find_customer(&f.application, &old.id).await.unwrap().unwrap();
        assert!(!restored.archived);
        let (live, total) = f.stores.customers.list_customers(&f.application, None, PageRequest::default()).await.unwrap();
        assert_eq!((live.len(), total), (1, 1), "the live count follows archive and restore");
        let not_archived = f.stores.customers.restore_customer(&f.application, &old.id, &actor(), t0()).await.unwrap_err();
        assert!(matches!(not_archived, StoreError::ArchiveState(false)));
    })
    .await;
}

#[tokio::test]
async fn blocking_is_all_or_nothing() {
    each_backend(|f| async move {
        let known = f.new_customer(Some("a@example.com"), None);
        f.stores.customers.create_customer(&known, &actor()).await.unwrap();
        let unknown = patron_domain::ids::ObjectId::parse("id", "0000000000000000000000ff").unwrap();
        let error = f
            .stores
            .customers
            .set_active(&f.application, &[known.id.clone(), unknown.clone()], false, &actor(), t0())
            .await
            .unwrap_err();
        assert!(matches!(error, StoreError::UnknownCustomers(ref ids) if ids == &vec![unknown.to_string()]));
        assert!(f.stores.customers.find_customer(&f.application, &known.id).await.unwrap().unwrap().active);

        f.stores.customers.set_active(&f.application, std::slice::from_ref(&known.id), false, &actor(), t0()).await.unwrap();
        let blocked = f.stores.customers.find_customer(&f.application, &known.id).await.unwrap().unwrap();
        assert!(!blocked.active);
        assert_eq!(blocked.version, 1);
    })
    .await;
}

#[tokio::test]
async fn updates_replace_contacts_and_bump_the_version() {
    each_backend(|f| async move {
        let other = f.new_customer(Some("taken@example.com"), Some("9876500000"));
        f.stores
            .customers
            .create_customer(&other, &actor())
            .await
            .unwrap();
        let mine = f.new_customer(Some("mine@example.com"), None);
        f.stores
            .customers
            .create_customer(&mine, &actor())
            .await
            .unwrap();

        let later = t0() + Duration::minutes(5);
        let changes = CustomerChanges {
            first_name: Some("Asha".into()),
            emails: Some(vec![
                EmailEntry {
                    email: email("new@example.com"),
                    primary: true,
                    verified: true,
                    active: true,
                },
                EmailEntry {
                    email: email("second@example.com"),
                    primary: false,
                    verified: false,
                    active: true,
                },
            ]),
            phones: Some(vec![PhoneEntry {
                phone: phone("9876511111"),
                primary: true,
                verified: false,
                active: true,
            }]),
            ..CustomerChanges::default()
        };
        let updated = f
            .stores
            .customers
            .update_customer(&f.application, &mine.id, &changes, &actor(), later)
            .await
            .unwrap();
        assert_eq!(updated.profile.first_name.as_deref(), Some("Asha"));
        assert_eq!(updated.emails.len(), 2);
        assert_eq!(updated.phones[0].phone.national(), "9876511111");
        assert_eq!(updated.version, 1);
        assert_eq!(updated.updated_at, later);
        let freed = f
            .stores
            .customers
            .search_customers(&f.application, &[email("mine@example.com")], &[])
            .await
            .unwrap();
        assert!(freed.is_empty(), "replaced email no longer matches");

        let steal = CustomerChanges {
            emails: Some(vec![EmailEntry {
                email: email("taken@example.com"),
                primary: true,
                verified: false,
                active: true,
            }]),
            ..CustomerChanges::default()
        };
        let error = f
            .stores
            .customers
            .update_customer(&f.application, &mine.id, &steal, &actor(), later)
            .await
            .unwrap_err();
        assert!(matches!(error, StoreError::Conflict(Conflict::Email(_))));
        let unchanged = f
            .stores
            .customers
            .find_customer(&f.application, &mine.id)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(unchanged.version, 1, "refused update wrote nothing");
        assert_eq!(unchanged.emails.len(), 2);
    })
    .await;
}

#[tokio::test]
async fn list_filters_match_the_query_language() {
    each_backend(|f| async move {
        let mut ids = Vec::new();
        for (i, (address, national, first)) in [
            ("asha.rao@example.com", "9876543210", "Asha"),
            ("ashwin@example.com", "9876543211", "Ashwin"),
            ("bela@other.org", "9812345678", "Bela"),
        ]
        .into_iter()
        .enumerate()
        {
            let mut new = f.new_customer(Some(address), Some(national));
            new.profile.first_name = Some(first.into());
            new.created_at = t0() + Duration::days(i64::try_from(i).unwrap());
            f.stores.customers.create_customer(&new, &actor()).await.unwrap();
            ids.push(new.id.to_string());
        }
        let count = |q: String| {
            let stores = f.stores.clone();
            let application = f.application.clone();
            async move {
                let filter = parse_query(&q, Region::INDIA).unwrap();
                let (items, total) = stores.customers.list_customers(&application, filter.as_ref(), PageRequest::default()).await.unwrap();
                assert_eq!(items.len() as u64, total);
                total
            }
        };
        assert_eq!(count(r#"{"$or":[{"emails.email":"ASHA.RAO@example.com"},{"phoneNumbers.phone":"ASHA.RAO@example.com"}]}"#.into()).await, 1);
        assert_eq!(count(r#"{"phoneNumbers.phone":"+91 98123 45678"}"#.into()).await, 1);
        assert_eq!(count(r#"{"emails.email":{"$regex":"^ash","$options":"i"}}"#.into()).await, 2);
        assert_eq!(count(r#"{"emails.email":{"$regex":"example\\.com$"}}"#.into()).await, 2);
        assert_eq!(count(r#"{"first_name":{"$regex":"^ASH","$options":"i"}}"#.into()).await, 2);
        assert_eq!(count(r#"{"first_name":{"$regex":"^ASH"}}"#.into()).await, 0);
        assert_eq!(count(r#"{"first_name":{"$regex":"win"}}"#.into()).await, 1);
        assert_eq!(count(format!(r#"{{"_id":{{"$in":["{}","{}"]}}}}"#, ids[0], ids[2])).await, 2);
        assert_eq!(count(r#"{"created_at":{"$gte":"2026-01-02T00:00:00Z"}}"#.into()).await, 2);
        assert_eq!(count(r#"{"$and":[{"created_at":{"$lt":"2026-01-03T00:00:00Z"}},{"first_name":"Bela"}]}"#.into()).await, 0);
        assert_eq!(count("98765".into()).await, 2);
        assert_eq!(count("bela@".into()).await, 1);
        assert_eq!(count(r#"{"first_name":{"$regex":"100%"}}"#.into()).await, 0);

        let page = PageRequest::parse(Some("2"), Some("2")).unwrap();
        let (second, total) = f.stores.customers.list_customers(&f.application, None, page).await.unwrap();
        assert_eq!((second.len(), total), (1, 3));
        assert_eq!(second[0].id.to_string(), ids[0], "newest first");
    })
    .await;
}

#[tokio::test]
async fn search_matches_exact_emails_and_phones() {
    each_backend(|f| async move {
        let a = f.new_customer(Some("a@example.com"), Some("9876543210"));
        let b = f.new_customer(Some("b@example.com"), Some("9876543212"));
        f.stores
            .customers
            .create_customer(&a, &actor())
            .await
            .unwrap();
        f.stores
            .customers
            .create_customer(&b, &actor())
            .await
            .unwrap();
        let found = f
            .stores
            .customers
            .search_customers(
                &f.application,
                &[email("A@example.com")],
                &[phone("919876543212")],
            )
            .await
            .unwrap();
        assert_eq!(found.len(), 2);
        let none = f
            .stores
            .customers
            .search_customers(&f.application, &[email("a@example.co")], &[])
            .await
            .unwrap();
        assert!(none.is_empty());
    })
    .await;
}

#[tokio::test]
async fn batch_import_is_all_or_nothing() {
    each_backend(|f| async move {
        let batch: Vec<_> = (0..1200)
            .map(|i| {
                f.new_customer(
                    Some(&format!("u{i}@bulk.example")),
                    Some(&format!("98{i:08}")),
                )
            })
            .collect();
        f.stores
            .customers
            .import_customers(&batch, &actor())
            .await
            .unwrap();
        let (_, total) = f
            .stores
            .customers
            .list_customers(&f.application, None, PageRequest::default())
            .await
            .unwrap();
        assert_eq!(total, 1200);
        let clash = vec![
            f.new_customer(Some("fresh@bulk.example"), None),
            f.new_customer(Some("u5@bulk.example"), None),
        ];
        assert!(matches!(
            f.stores.customers.import_customers(&clash, &actor()).await,
            Err(StoreError::Conflict(_))
        ));
        let (_, total) = f
            .stores
            .customers
            .list_customers(&f.application, None, PageRequest::default())
            .await
            .unwrap();
        assert_eq!(total, 1200);
    })
    .await;
}

#[tokio::test]
async fn every_change_is_audited_and_the_audit_is_append_only() {
    each_backend(|f| async move {
        let new = f.new_customer(Some("a@example.com"), None);
        f.stores
            .customers
            .create_customer(&new, &actor())
            .await
            .unwrap();
        f.stores
            .customers
            .set_active(
                &f.application,
                std::slice::from_ref(&new.id),
                false,
                &actor().with_reason("fraud", None),
                t0(),
            )
            .await
            .unwrap();
        f.stores
            .customers
            .archive_customer(&f.application, &new.id, &actor(), t0())
            .await
            .unwrap();
        f.stores
            .customers
            .restore_customer(
                &f.application,
                &new.id,
                &actor().with_reason("asked", Some("r1".into())),
                t0(),
            )
            .await
            .unwrap();
        let rows: Vec<(String, String, Option<String>)> = match f.backend {
            patron_store::Backend::Sqlite => {
                let mut conn = sqlx::SqliteConnection::connect(&f.url).await.unwrap();
                let rows =
                    sqlx::query_as("SELECT action, actor, reason FROM audit_events ORDER BY id")
                        .fetch_all(&mut conn)
                        .await
                        .unwrap();
                assert!(
                    sqlx::query("DELETE FROM audit_events")
                        .execute(&mut conn)
                        .await
                        .is_err(),
                    "audit rows cannot be deleted"
                );
                rows
            }
            patron_store::Backend::Postgres => {
                let mut conn = sqlx::PgConnection::connect(&f.url).await.unwrap();
                let rows =
                    sqlx::query_as("SELECT action, actor, reason FROM audit_events ORDER BY id")
                        .fetch_all(&mut conn)
                        .await
                        .unwrap();
                assert!(
                    sqlx::query("UPDATE audit_events SET actor = 'x'")
                        .execute(&mut conn)
                        .await
                        .is_err(),
                    "audit rows cannot be changed"
                );
                rows
            }
        };
        let actions: Vec<&str> = rows.iter().map(|(action, _, _)| action.as_str()).collect();
        assert_eq!(actions, ["create", "block", "archive", "restore"]);
        assert_eq!(rows[1].2.as_deref(), Some("fraud"));
        assert!(rows.iter().all(|(_, actor, _)| actor == "client-1"));
    })
    .await;
}
