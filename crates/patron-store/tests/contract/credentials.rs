//! Passwords, lockout and reset codes: the lockout is counted by the database, so
//! concurrent guesses cannot exceed it.

use chrono::Duration;
use patron_store::{AttemptClaim, Entity, LoginSubject, PasswordChange, StoreError};

use crate::{actor, each_backend, email, phone, t0};

#[tokio::test]
async fn registered_customers_sign_in_by_email_or_phone_and_keep_a_history() {
    each_backend(|f| async move {
        let new = f.new_customer(Some("asha@example.com"), Some("9876543210"));
        let credentials = &f.stores.credentials;
        let customer = credentials
            .register_customer(&new, Some("hash-1"), &actor())
            .await
            .unwrap();
        for (by_email, by_phone) in [
            (Some(email("ASHA@example.com")), None),
            (None, Some(phone("9876543210"))),
        ] {
            let record = credentials
                .find_login(&f.application, by_email.as_ref(), by_phone.as_ref())
                .await
                .unwrap()
                .expect("found");
            assert_eq!(
                (record.customer.id.clone(), record.password_hash.as_deref()),
                (customer.id.clone(), Some("hash-1"))
            );
        }
        let kept = f
            .session_for(&customer.id, t0() + Duration::days(1))
            .await
            .unwrap();
        let other = f
            .session_for(&customer.id, t0() + Duration::days(1))
            .await
            .unwrap();
        for (hash, limit) in [("hash-2", 1), ("hash-3", 1)] {
            let change = PasswordChange {
                password_hash: hash,
                history_limit: limit,
                keep_session: Some(&kept.id),
            };
            credentials
                .set_password(&f.application, &customer.id, &change, &actor(), t0())
                .await
                .unwrap();
        }
        let hashes = credentials.password_hashes(&customer.id, 5).await.unwrap();
        assert_eq!(
            hashes,
            ["hash-3", "hash-2"],
            "the history is trimmed to its limit"
        );
        let sessions = f
            .stores
            .sessions
            .list_sessions(&f.application, &customer.id, t0())
            .await
            .unwrap();
        let ids: Vec<_> = sessions.iter().map(|s| &s.id).collect();
        assert_eq!(ids, [&kept.id]);
        assert_ne!(kept.id, other.id);
    })
    .await;
}

#[tokio::test]
async fn concurrent_guesses_never_pass_the_lockout_threshold() {
    each_backend(|f| async move {
        let new = f.new_customer(Some("asha@example.com"), None);
        let credentials = f.stores.credentials.clone();
        let customer = credentials
            .register_customer(&new, Some("hash"), &actor())
            .await
            .unwrap();
        let app = f.application.clone();
        let lock_for = Duration::minutes(15);
        // A customer and a name that matches no one lock alike.
        for stranger in [false, true] {
            let claims = (0..12).map(|_| {
                let credentials = credentials.clone();
                let app = app.clone();
                let customer_id = customer.id.clone();
                tokio::spawn(async move {
                    let subject = if stranger {
                        LoginSubject::Unknown("digest-of-a-stranger")
                    } else {
                        LoginSubject::Customer(&customer_id)
                    };
                    credentials
                        .claim_login_attempt(&app, subject, Some(5), lock_for, t0())
                        .await
                })
            });
            let mut allowed = 0;
            for claim in claims {
                match claim.await.unwrap().unwrap() {
                    AttemptClaim::Allowed => allowed += 1,
                    AttemptClaim::Locked { until } => assert_eq!(until, t0() + lock_for),
                }
            }
            assert_eq!(allowed, 5, "{:?} stranger: {stranger}", f.backend);
        }
        let me = LoginSubject::Customer(&customer.id);
        let after = t0() + lock_for + Duration::seconds(1);
        assert_eq!(
            credentials
                .claim_login_attempt(&app, me, Some(5), lock_for, after)
                .await
                .unwrap(),
            AttemptClaim::Allowed
        );
        credentials.reset_login_failures(&app, me).await.unwrap();
        for _ in 0..4 {
            assert_eq!(
                credentials
                    .claim_login_attempt(&app, me, Some(5), lock_for, after)
                    .await
                    .unwrap(),
                AttemptClaim::Allowed
            );
        }
        let no_lockout = credentials
            .claim_login_attempt(&app, me, None, lock_for, after)
            .await
            .unwrap();
        assert_eq!(no_lockout, AttemptClaim::Allowed);
    })
    .await;
}

#[tokio::test]
async fn a_new_password_clears_the_lockout() {
    each_backend(|f| async move {
        let new = f.new_customer(Some("asha@example.com"), None);
        let credentials = f.stores.credentials.clone();
        let customer = credentials
            .register_customer(&new, Some("hash"), &actor())
            .await
            .unwrap();
        let me = LoginSubject::Customer(&customer.id);
        let lock_for = Duration::minutes(15);
        let claim = || credentials.claim_login_attempt(&f.application, me, Some(1), lock_for, t0());
        assert_eq!(claim().await.unwrap(), AttemptClaim::Allowed);
        assert!(matches!(
            claim().await.unwrap(),
            AttemptClaim::Locked { .. }
        ));
        let change = PasswordChange {
            password_hash: "new-hash",
            history_limit: 0,
            keep_session: None,
        };
        credentials
            .set_password(&f.application, &customer.id, &change, &actor(), t0())
            .await
            .unwrap();
        assert_eq!(claim().await.unwrap(), AttemptClaim::Allowed);
    })
    .await;
}

#[tokio::test]
async fn an_address_gets_its_failed_sign_in_budget_and_no_more_under_concurrency() {
    each_backend(|f| async move {
        let credentials = f.stores.credentials.clone();
        let window = Duration::minutes(1);
        let claims = (0..20).map(|_| {
            let credentials = credentials.clone();
            tokio::spawn(async move {
                credentials
                    .claim_address_attempt("203.0.113.9", 8, window, t0())
                    .await
            })
        });
        let mut allowed = 0;
        for claim in claims {
            match claim.await.unwrap().unwrap() {
                AttemptClaim::Allowed => allowed += 1,
                AttemptClaim::Locked { until } => assert_eq!(until, t0() + window),
            }
        }
        assert_eq!(allowed, 8, "{:?}", f.backend);
        // Another address has its own budget; a right password gives its slot back.
        let other = credentials
            .claim_address_attempt("198.51.100.7", 8, window, t0())
            .await
            .unwrap();
        assert_eq!(other, AttemptClaim::Allowed);
        credentials
            .release_address_attempt("203.0.113.9")
            .await
            .unwrap();
        let claim = |at| credentials.claim_address_attempt("203.0.113.9", 8, window, at);
        assert_eq!(claim(t0()).await.unwrap(), AttemptClaim::Allowed);
        assert!(matches!(
            claim(t0()).await.unwrap(),
            AttemptClaim::Locked { .. }
        ));
        // The next window starts over.
        assert_eq!(claim(t0() + window).await.unwrap(), AttemptClaim::Allowed);
    })
    .await;
}

#[tokio::test]
async fn a_reset_code_works_once_before_it_expires_and_spends_the_others() {
    each_backend(|f| async move {
        let new = f.new_customer(Some("asha@example.com"), None);
        let credentials = &f.stores.credentials;
        let customer = credentials
            .register_customer(&new, Some("old"), &actor())
            .await
            .unwrap();
        let expires = t0() + Duration::minutes(30);
        credentials
            .create_reset_code(&f.application, &customer.id, "code-a", t0(), expires)
            .await
            .unwrap();
        credentials
            .create_reset_code(&f.application, &customer.id, "code-b", t0(), expires)
            .await
            .unwrap();
        assert_eq!(
            credentials
                .find_reset_code(&f.application, "code-a", t0())
                .await
                .unwrap(),
            Some(customer.id.clone())
        );
        assert_eq!(
            credentials
                .find_reset_code(&f.application, "code-a", expires)
                .await
                .unwrap(),
            None,
            "expired"
        );
        f.session_for(&customer.id, t0() + Duration::days(1))
            .await
            .unwrap();

        let change = PasswordChange {
            password_hash: "new",
            history_limit: 0,
            keep_session: None,
        };
        let reset = credentials
            .reset_password(&f.application, "code-a", &change, &actor(), t0())
            .await
            .unwrap();
        assert_eq!(reset, customer.id);
        assert_eq!(
            credentials.password_hashes(&customer.id, 0).await.unwrap(),
            ["new"]
        );
        for code in ["code-a", "code-b"] {
            let again = credentials
                .reset_password(&f.application, code, &change, &actor(), t0())
                .await;
            assert!(
                matches!(
                    again,
                    Err(StoreError::NotFound {
                        entity: Entity::ResetCode,
                        ..
                    })
                ),
                "{code}: {again:?}"
            );
        }
        let sessions = f
            .stores
            .sessions
            .list_sessions(&f.application, &customer.id, t0())
            .await
            .unwrap();
        assert!(sessions.is_empty(), "a reset ends every session");
    })
    .await;
}

#[tokio::test]
async fn an_upgraded_hash_replaces_only_the_hash_it_was_made_from() {
    each_backend(|f| async move {
        let new = f.new_customer(Some("asha@example.com"), None);
        let credentials = &f.stores.credentials;
        let customer = credentials
            .register_customer(&new, Some("$2b$04$imported"), &actor())
            .await
            .unwrap();
        assert!(!credentials
            .upgrade_password_hash(&customer.id, "$2b$04$other", "$argon2id$new")
            .await
            .unwrap());
        assert!(credentials
            .upgrade_password_hash(&customer.id, "$2b$04$imported", "$argon2id$new")
            .await
            .unwrap());
        let hashes = credentials.password_hashes(&customer.id, 5).await.unwrap();
        assert_eq!(
            hashes,
            ["$argon2id$new"],
            "no history entry for the same password"
        );
    })
    .await;
}
