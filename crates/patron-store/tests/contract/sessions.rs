//! Storefront sessions: found by digest only while valid, in their application, for a live
//! customer; listed newest first; ended one by one or all but one.

use chrono::{DateTime, Duration, Utc};
use patron_domain::ids::ObjectId;
use patron_store::{Actor, Entity, Session, StoreError};

use crate::{actor, each_backend, t0};

#[tokio::test]
async fn a_session_is_found_only_while_valid_and_in_its_application() {
    each_backend(|f| async move {
        let customer = f.stored_customer("asha@example.com").await;
        let session = f
            .session_for(&customer.id, t0() + Duration::hours(1))
            .await
            .unwrap();
        let sessions = &f.stores.sessions;

        let (found, owner) = sessions
            .find_session(&f.application, &session.token_digest, t0())
            .await
            .unwrap()
            .expect("a fresh session is found");
        assert_eq!(
            (found.id.clone(), owner.id.clone()),
            (session.id.clone(), customer.id.clone())
        );
        let other = ObjectId::parse("id", "000000000000000000000009").unwrap();
        assert!(sessions
            .find_session(&other, &session.token_digest, t0())
            .await
            .unwrap()
            .is_none());
        let later = t0() + Duration::hours(2);
        assert!(sessions
            .find_session(&f.application, &session.token_digest, later)
            .await
            .unwrap()
            .is_none());

        sessions
            .extend_session(&session.id, t0() + Duration::hours(3), t0())
            .await
            .unwrap();
        assert!(sessions
            .find_session(&f.application, &session.token_digest, later)
            .await
            .unwrap()
            .is_some());
    })
    .await;
}

#[tokio::test]
async fn blocked_and_archived_customers_have_no_sessions() {
    each_backend(|f| async move {
        let customer = f.stored_customer("asha@example.com").await;
        let session = f
            .session_for(&customer.id, t0() + Duration::days(1))
            .await
            .unwrap();
        let customers = &f.stores.customers;
        customers
            .set_active(
                &f.application,
                std::slice::from_ref(&customer.id),
                false,
                &actor(),
                t0(),
            )
            .await
            .unwrap();
        let found = f
            .stores
            .sessions
            .find_session(&f.application, &session.token_digest, t0())
            .await;
        assert!(found.unwrap().is_none(), "a block ends the session at once");
        let refused = f.session_for(&customer.id, t0() + Duration::days(1)).await;
        assert!(matches!(refused, Err(StoreError::Blocked)), "{refused:?}");

        customers
            .set_active(
                &f.application,
                std::slice::from_ref(&customer.id),
                true,
                &actor(),
                t0(),
            )
            .await
            .unwrap();
        customers
            .archive_customer(&f.application, &customer.id, &actor(), t0())
            .await
            .unwrap();
        let refused = f.session_for(&customer.id, t0() + Duration::days(1)).await;
        assert!(
            matches!(refused, Err(StoreError::ArchiveState(true))),
            "{refused:?}"
        );
        let unknown = ObjectId::parse("id", "0000000000000000000000ff").unwrap();
        let refused = f.session_for(&unknown, t0() + Duration::days(1)).await;
        assert!(
            matches!(
                refused,
                Err(StoreError::NotFound {
                    entity: Entity::Customer,
                    ..
                })
            ),
            "{refused:?}"
        );
    })
    .await;
}

#[tokio::test]
async fn sessions_are_listed_newest_first_and_ended_one_or_all_but_one() {
    each_backend(|f| async move {
        let customer = f.stored_customer("asha@example.com").await;
        let mut ids = Vec::new();
        for hours in [1, 2, 3] {
            ids.push(
                f.session_for(&customer.id, t0() + Duration::hours(hours))
                    .await
                    .unwrap()
                    .id,
            );
        }
        f.session_for(&customer.id, t0() - Duration::hours(1))
            .await
            .unwrap();
        let sessions = &f.stores.sessions;
        let listed: Vec<ObjectId> = sessions
            .list_sessions(&f.application, &customer.id, t0())
            .await
            .unwrap()
            .into_iter()
            .map(|s| s.id)
            .collect();
        let newest_first: Vec<ObjectId> = ids.iter().rev().cloned().collect();
        assert_eq!(listed, newest_first, "expired sessions are not listed");

        sessions
            .end_session(&f.application, &customer.id, &ids[0], &actor(), t0())
            .await
            .unwrap();
        let again = sessions
            .end_session(&f.application, &customer.id, &ids[0], &actor(), t0())
            .await;
        assert!(
            matches!(
                again,
                Err(StoreError::NotFound {
                    entity: Entity::Session,
                    ..
                })
            ),
            "{again:?}"
        );

        let ended = sessions
            .end_sessions(&f.application, &customer.id, Some(&ids[2]), &actor(), t0())
            .await
            .unwrap();
        assert!(
            ended.contains(&ids[1]) && !ended.contains(&ids[2]),
            "{ended:?}"
        );
        let left = sessions
            .list_sessions(&f.application, &customer.id, t0())
            .await
            .unwrap();
        assert_eq!(
            left.iter().map(|s| s.id.clone()).collect::<Vec<_>>(),
            [ids[2].clone()]
        );
    })
    .await;
}

#[tokio::test]
async fn a_session_minted_by_an_administrator_is_audited() {
    each_backend(|f| async move {
        let customer = f.stored_customer("asha@example.com").await;
        f.session_for(&customer.id, t0() + Duration::days(1))
            .await
            .unwrap();
        let id = ObjectId::generate(t0());
        let minted = Session {
            token_digest: format!("digest-minted-{id}"),
            id,
            application_id: f.application.clone(),
            customer_id: customer.id.clone(),
            domain: "shop".into(),
            user_agent: String::new(),
            ip: String::new(),
            created_at: t0(),
            expires_at: t0() + Duration::days(1),
            last_seen_at: t0(),
        };
        let admin = Actor::new("client-7").with_reason("support call", None);
        f.stores
            .sessions
            .create_session(&minted, Some(&admin), None)
            .await
            .unwrap();
        let (count, actor, reason): (i64, String, Option<String>) = f
            .fetch_one(&format!(
                "SELECT COUNT(*), MAX(actor), MAX(reason) FROM audit_events \
                 WHERE action = 'session_create' AND customer_id = '{}'",
                customer.id
            ))
            .await;
        assert_eq!(
            (count, actor.as_str(), reason.as_deref()),
            (1, "client-7", Some("support call")),
            "only the minted session is audited ({:?})",
            f.backend
        );
    })
    .await;
}

/// A session of `customer` started at `at` on the device `digest`, remembered with it.
async fn signed_in_on(f: &crate::Fixture, customer: &ObjectId, digest: &str, at: DateTime<Utc>) {
    let id = ObjectId::generate(at);
    let session = Session {
        token_digest: format!("session-{id}-{digest}"),
        id,
        application_id: f.application.clone(),
        customer_id: customer.clone(),
        domain: "shop".into(),
        user_agent: "test".into(),
        ip: "127.0.0.1".into(),
        created_at: at,
        expires_at: at + Duration::hours(1),
        last_seen_at: at,
    };
    let device = patron_store::KnownDevice {
        token_digest: digest.to_owned(),
        application_id: f.application.clone(),
        customer_id: customer.clone(),
        created_at: at,
        expires_at: at + Duration::days(400),
    };
    f.stores
        .sessions
        .create_session(&session, None, Some(&device))
        .await
        .unwrap();
}

#[tokio::test]
async fn devices_are_found_while_unexpired_capped_per_customer_and_forgotten_with_every_session() {
    each_backend(|f| async move {
        let customer = f.stored_customer("asha@example.com").await;
        let unproven = f.stored_customer("una@example.com").await;
        let proven = f
            .new_customer(Some("pia@example.com"), None)
            .with_verified(true, true);
        f.stores
            .customers
            .create_customer(&proven, &actor())
            .await
            .unwrap();
        let sessions = &f.stores.sessions;
        for n in 0..25 {
            signed_in_on(
                &f,
                &customer.id,
                &format!("device-{n:02}"),
                t0() + Duration::seconds(n),
            )
            .await;
        }
        let application = f.application.clone();
        let owner = |digest: &'static str, at| {
            let sessions = f.stores.sessions.clone();
            let application = application.clone();
            async move {
                sessions
                    .device_owner(&application, digest, at)
                    .await
                    .unwrap()
            }
        };
        assert_eq!(owner("device-24", t0()).await, Some(customer.id.clone()));
        assert_eq!(
            owner("device-04", t0()).await,
            None,
            "only the newest 20 are kept"
        );
        assert_eq!(owner("device-05", t0()).await, Some(customer.id.clone()));
        assert_eq!(
            owner("device-24", t0() + Duration::days(401)).await,
            None,
            "expired"
        );
        let otp = &f.stores.otp;
        let email = |address| patron_domain::otp::OtpTarget::Email(crate::email(address));
        for (owner, digest) in [(&unproven.id, "device-una"), (&proven.id, "device-pia")] {
            signed_in_on(&f, owner, digest, t0()).await;
        }
        let holds = |digest: &'static str, address: &'static str| {
            let otp = otp.clone();
            let application = f.application.clone();
            async move {
                otp.device_holds_target(&application, digest, &email(address), t0())
                    .await
                    .unwrap()
            }
        };
        assert!(
            holds("device-pia", "pia@example.com").await,
            "its customer proved it"
        );
        assert!(
            !holds("device-una", "una@example.com").await,
            "held, never proved"
        );
        assert!(
            !holds("device-pia", "una@example.com").await,
            "another's contact"
        );
        assert!(!holds("nobody", "pia@example.com").await, "no such device");

        sessions
            .end_sessions(&f.application, &customer.id, None, &actor(), t0())
            .await
            .unwrap();
        assert_eq!(
            owner("device-24", t0()).await,
            None,
            "signing out everywhere forgets them"
        );
    })
    .await;
}
