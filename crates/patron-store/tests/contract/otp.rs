//! OTP challenges (single use, attempts that survive resends, resend timing), send budgets
//! under concurrent sends, pending registrations, and a customer's own contact edits.

use chrono::{DateTime, Duration, Utc};
use patron_domain::contacts::{Contact, ContactEdit};
use patron_domain::otp::{BudgetScope, OtpPurpose};
use patron_store::{
    AttemptOutcome, BudgetCharge, Conflict, OtpChallenge, PendingRegistration, ResendOutcome,
    SendOutcome, StoreError,
};
use serde_json::json;

use crate::{actor, each_backend, email, phone, t0, Fixture};

/// A login challenge `id` to `target`, sent at `at`, live for ten minutes.
pub fn challenge(f: &Fixture, id: &str, target: &str, at: DateTime<Utc>) -> OtpChallenge {
    OtpChallenge {
        id: id.into(),
        application_id: f.application.clone(),
        purpose: OtpPurpose::Login,
        target: target.into(),
        customer_id: None,
        context: None,
        code_hash: format!("hash-of-{id}"),
        resend_digest: Some(format!("resend-{id}")),
        attempts: 0,
        sends: 1,
        last_sent_at: at,
        created_at: at,
        expires_at: at + Duration::minutes(10),
        used_at: None,
    }
}

/// A budget of `limit` sends an hour under `key`.
pub fn charge(key: &str, limit: u32) -> BudgetCharge {
    BudgetCharge {
        scope: BudgetScope::Target,
        key: key.into(),
        limit,
        window: Duration::hours(1),
    }
}

fn seconds(n: i64) -> DateTime<Utc> {
    t0() + Duration::seconds(n)
}

#[tokio::test]
async fn concurrent_sends_to_one_target_let_exactly_the_budget_through() {
    each_backend(|f| async move {
        let sends = (0..20).map(|i| {
            let otp = f.stores.otp.clone();
            let challenge = challenge(&f, &format!("c{i}"), "+919876543210", t0());
            tokio::spawn(async move {
                otp.create_challenge(
                    &challenge,
                    &[charge("t:phone", 5), charge("p:app", 1000)],
                    t0(),
                )
                .await
                .unwrap()
            })
        });
        let mut sent = 0;
        for send in sends {
            match send.await.unwrap() {
                SendOutcome::Sent => sent += 1,
                SendOutcome::OverBudget { scope, retry_at } => {
                    assert_eq!(scope, BudgetScope::Target);
                    assert_eq!(retry_at, t0() + Duration::hours(1));
                }
            }
        }
        assert_eq!(sent, 5, "{:?}", f.backend);
        let (challenges,): (i64,) = f.fetch_one("SELECT COUNT(*) FROM otp_challenges").await;
        assert_eq!(challenges, 5, "a refused send records no challenge");
        let (app_sends,): (i64,) = f
            .fetch_one("SELECT COUNT(*) FROM otp_sends WHERE budget_key = 'p:app'")
            .await;
        assert_eq!(app_sends, 5, "a refused send charges no other budget");
    })
    .await;
}

#[tokio::test]
async fn budgets_slide_with_time() {
    each_backend(|f| async move {
        let otp = &f.stores.otp;
        for (i, at) in [0, 600, 1200].into_iter().enumerate() {
            let outcome = otp
                .create_challenge(
                    &challenge(&f, &format!("c{i}"), "t", seconds(at)),
                    &[charge("k", 3)],
                    seconds(at),
                )
                .await
                .unwrap();
            assert_eq!(outcome, SendOutcome::Sent);
        }
        let refused = otp
            .create_challenge(
                &challenge(&f, "c3", "t", seconds(1800)),
                &[charge("k", 3)],
                seconds(1800),
            )
            .await
            .unwrap();
        assert_eq!(
            refused,
            SendOutcome::OverBudget {
                scope: BudgetScope::Target,
                retry_at: seconds(3600)
            }
        );
        let later = otp
            .create_challenge(
                &challenge(&f, "c4", "t", seconds(3601)),
                &[charge("k", 3)],
                seconds(3601),
            )
            .await
            .unwrap();
        assert_eq!(later, SendOutcome::Sent, "the first send left the window");
    })
    .await;
}

#[tokio::test]
async fn a_challenge_works_once_and_dies_after_its_attempts_even_across_resends() {
    each_backend(|f| async move {
        let otp = &f.stores.otp;
        let app = &f.application;
        otp.create_challenge(&challenge(&f, "c1", "t", t0()), &[], t0())
            .await
            .unwrap();
        for expected in 1..=2 {
            match otp.claim_attempt(app, "c1", 3, seconds(1)).await.unwrap() {
                AttemptOutcome::Claimed(c) => assert_eq!(c.attempts, expected),
                other => panic!("{other:?}"),
            }
        }
        let too_early = otp
            .resend_challenge(
                app,
                "resend-c1",
                "t",
                "new-hash",
                Duration::seconds(30),
                seconds(600),
                &[],
                seconds(10),
            )
            .await
            .unwrap();
        assert_eq!(
            too_early,
            ResendOutcome::TooEarly {
                retry_at: seconds(30)
            }
        );
        let wrong_target = otp
            .resend_challenge(
                app,
                "resend-c1",
                "other",
                "new-hash",
                Duration::seconds(30),
                seconds(600),
                &[],
                seconds(40),
            )
            .await
            .unwrap();
        assert_eq!(wrong_target, ResendOutcome::Unknown);
        let ResendOutcome::Resent(resent) = otp
            .resend_challenge(
                app,
                "resend-c1",
                "t",
                "new-hash",
                Duration::seconds(30),
                seconds(640),
                &[],
                seconds(40),
            )
            .await
            .unwrap()
        else {
            panic!("resend refused")
        };
        assert_eq!(
            (resent.id.as_str(), resent.attempts, resent.sends),
            ("c1", 2, 2)
        );
        assert_eq!(resent.code_hash, "new-hash");
        assert_eq!(resent.expires_at, seconds(640));

        match otp.claim_attempt(app, "c1", 3, seconds(41)).await.unwrap() {
            AttemptOutcome::Claimed(c) => assert_eq!(c.attempts, 3),
            other => panic!("{other:?}"),
        }
        assert_eq!(
            otp.claim_attempt(app, "c1", 3, seconds(42)).await.unwrap(),
            AttemptOutcome::Exhausted,
            "a resend did not reset the attempts"
        );

        otp.create_challenge(&challenge(&f, "c2", "t", t0()), &[], t0())
            .await
            .unwrap();
        assert!(otp.consume_challenge(app, "c2", seconds(1)).await.unwrap());
        assert!(
            !otp.consume_challenge(app, "c2", seconds(2)).await.unwrap(),
            "single use"
        );
        assert_eq!(
            otp.claim_attempt(app, "c2", 3, seconds(3)).await.unwrap(),
            AttemptOutcome::Unknown
        );
        otp.create_challenge(&challenge(&f, "c3", "t", t0()), &[], t0())
            .await
            .unwrap();
        assert_eq!(
            otp.claim_attempt(app, "c3", 3, seconds(601)).await.unwrap(),
            AttemptOutcome::Unknown,
            "expired"
        );
    })
    .await;
}

#[tokio::test]
async fn concurrent_answers_use_a_challenge_once_and_claim_at_most_its_attempts() {
    each_backend(|f| async move {
        f.stores
            .otp
            .create_challenge(&challenge(&f, "c1", "t", t0()), &[], t0())
            .await
            .unwrap();
        let claims = (0..12).map(|_| {
            let otp = f.stores.otp.clone();
            let app = f.application.clone();
            tokio::spawn(async move { otp.claim_attempt(&app, "c1", 5, seconds(1)).await.unwrap() })
        });
        let mut claimed = 0;
        for claim in claims {
            if matches!(claim.await.unwrap(), AttemptOutcome::Claimed(_)) {
                claimed += 1;
            }
        }
        assert_eq!(claimed, 5, "{:?}", f.backend);
        f.stores
            .otp
            .create_challenge(&challenge(&f, "c2", "t", t0()), &[], t0())
            .await
            .unwrap();
        let uses = (0..8).map(|_| {
            let otp = f.stores.otp.clone();
            let app = f.application.clone();
            tokio::spawn(
                async move { otp.consume_challenge(&app, "c2", seconds(1)).await.unwrap() },
            )
        });
        let mut used = 0;
        for done in uses {
            used += usize::from(done.await.unwrap());
        }
        assert_eq!(used, 1);
    })
    .await;
}

#[tokio::test]
async fn the_latest_live_challenge_of_a_target_is_found_by_purpose() {
    each_backend(|f| async move {
        let otp = &f.stores.otp;
        let app = &f.application;
        otp.create_challenge(&challenge(&f, "old", "a@example.com", t0()), &[], t0())
            .await
            .unwrap();
        let forgot = OtpChallenge {
            purpose: OtpPurpose::ForgotPassword,
            ..challenge(&f, "forgot", "a@example.com", seconds(5))
        };
        otp.create_challenge(&forgot, &[], seconds(5))
            .await
            .unwrap();
        otp.create_challenge(
            &challenge(&f, "new", "a@example.com", seconds(10)),
            &[],
            seconds(10),
        )
        .await
        .unwrap();
        let latest = otp
            .latest_challenge(app, "a@example.com", &[OtpPurpose::Login], seconds(20))
            .await
            .unwrap()
            .unwrap();
        assert_eq!(latest.id, "new");
        let latest = otp
            .latest_challenge(
                app,
                "a@example.com",
                &[OtpPurpose::ForgotPassword],
                seconds(20),
            )
            .await
            .unwrap()
            .unwrap();
        assert_eq!(latest.id, "forgot");
        assert!(otp
            .latest_challenge(app, "a@example.com", &[OtpPurpose::Login], seconds(700))
            .await
            .unwrap()
            .is_none());
    })
    .await;
}

#[tokio::test]
async fn pending_registrations_record_proofs_and_complete_once() {
    each_backend(|f| async move {
        let credentials = &f.stores.credentials;
        let app = &f.application;
        credentials
            .save_pending_registration(&PendingRegistration {
                token_digest: "token".into(),
                application_id: app.clone(),
                payload: json!({"email": "a@example.com"}),
                created_at: t0(),
                expires_at: t0() + Duration::minutes(30),
                email_verified: false,
                mobile_verified: true,
            })
            .await
            .unwrap();
        let found = credentials
            .find_pending_registration(app, "token", seconds(1))
            .await
            .unwrap()
            .unwrap();
        assert_eq!((found.email_verified, found.mobile_verified), (false, true));
        assert_eq!(found.payload, json!({"email": "a@example.com"}));
        let marked = credentials
            .mark_pending_verified(app, "token", true, seconds(2))
            .await
            .unwrap()
            .unwrap();
        assert!(marked.email_verified && marked.mobile_verified);
        let takes = (0..6).map(|_| {
            let credentials = f.stores.credentials.clone();
            let app = app.clone();
            tokio::spawn(async move {
                credentials
                    .take_pending_registration(&app, "token", seconds(3))
                    .await
                    .unwrap()
                    .is_some()
            })
        });
        let mut taken = 0;
        for take in takes {
            taken += usize::from(take.await.unwrap());
        }
        assert_eq!(taken, 1);
        assert!(credentials
            .find_pending_registration(app, "token", seconds(4))
            .await
            .unwrap()
            .is_none());
        assert!(credentials
            .mark_pending_verified(app, "token", false, seconds(4))
            .await
            .unwrap()
            .is_none());
    })
    .await;
}

#[tokio::test]
async fn contact_edits_apply_their_rules_in_the_store() {
    each_backend(|f| async move {
        let customers = &f.stores.customers;
        let app = &f.application;
        let asha = customers
            .create_customer(&f.new_customer(Some("asha@example.com"), Some("9876543210")), &actor())
            .await
            .unwrap();
        customers
            .create_customer(&f.new_customer(Some("bela@example.com"), None), &actor())
            .await
            .unwrap();
        let add = ContactEdit::Add(Contact::Email(email("second@example.com")));
        let after = customers
            .edit_contacts(app, &asha.id, &add, &actor(), seconds(1))
            .await
            .unwrap();
        assert_eq!(after.emails.len(), 2);
        assert!(!after.emails[1].verified && !after.emails[1].primary);
        assert_eq!(after.version, asha.version + 1);
        let verify = ContactEdit::VerifyAsPrimary(Contact::Email(email("second@example.com")));
        let after = customers
            .edit_contacts(app, &asha.id, &verify, &actor(), seconds(2))
            .await
            .unwrap();
        assert_eq!(after.emails[0].email, email("second@example.com"));
        assert!(after.emails[0].primary && after.emails[0].verified);
        assert!(!after.emails[1].primary);

        let taken = ContactEdit::Add(Contact::Email(email("bela@example.com")));
        let refused = customers
            .edit_contacts(app, &asha.id, &taken, &actor(), seconds(3))
            .await;
        assert!(
            matches!(refused, Err(StoreError::Conflict(Conflict::Email(ref e))) if e == "bela@example.com"),
            "{refused:?}"
        );
        let primary_phone = ContactEdit::MakePrimary(Contact::Phone(phone("9876543210")));
        let refused = customers
            .edit_contacts(app, &asha.id, &primary_phone, &actor(), seconds(3))
            .await;
        assert!(matches!(refused, Err(StoreError::Rule(_))), "unverified: {refused:?}");
        let unchanged = customers.find_customer(app, &asha.id).await.unwrap().unwrap();
        assert_eq!(unchanged.version, after.version, "a refused edit writes nothing");
    })
    .await;
}
