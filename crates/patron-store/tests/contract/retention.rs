//! The retention purge, with a moved clock: old enough records go, everything else stays.

use chrono::{DateTime, Duration, Utc};
use patron_domain::ids::ObjectId;
use patron_store::{
    Job, JobFailure, JobKind, JobStatus, LoginSubject, PendingRegistration, PurgeBefore, Purged,
};
use serde_json::json;

use crate::{each_backend, t0, Fixture};

fn days(n: i64) -> DateTime<Utc> {
    t0() + Duration::days(n)
}

async fn count(f: &Fixture, table: &str) -> i64 {
    let (n,): (i64,) = f.fetch_one(&format!("SELECT COUNT(*) FROM {table}")).await;
    n
}

async fn job(f: &Fixture, finished_at: Option<DateTime<Utc>>) -> ObjectId {
    let id = ObjectId::generate(t0());
    let job = Job {
        id: id.clone(),
        application_id: f.application.clone(),
        company_id: "559".into(),
        kind: JobKind::AttributeUpdate,
        status: JobStatus::Pending,
        payload: "{}".into(),
        file_name: "bulk.json".into(),
        file_format: String::new(),
        result_file: None,
        created_by: "client".into(),
        cursor: 0,
        total: 2,
        succeeded: 0,
        failed: 1,
        error: None,
        created_at: t0(),
        updated_at: t0(),
        finished_at: None,
    };
    let refused = JobFailure {
        row_index: 0,
        user_id: "x".into(),
        error: "bad id".into(),
        reason: "invalid_user_id".into(),
    };
    f.stores.jobs.create_job(&job, &[refused]).await.unwrap();
    if let Some(at) = finished_at {
        let millis = at.timestamp_millis();
        f.execute(&format!(
            "UPDATE jobs SET status = 'done', finished_at = {millis} WHERE id = '{id}'"
        ))
        .await;
    }
    id
}

#[tokio::test]
async fn the_purge_deletes_only_what_is_old_enough() {
    each_backend(|f| async move {
        let customer = f.stored_customer("asha@example.com").await;
        f.session_for(&customer.id, days(1)).await.unwrap();
        f.session_for(&customer.id, days(20)).await.unwrap();

        let credentials = &f.stores.credentials;
        credentials
            .create_reset_code(&f.application, &customer.id, "old", t0(), days(1))
            .await
            .unwrap();
        credentials
            .create_reset_code(&f.application, &customer.id, "fresh", days(9), days(11))
            .await
            .unwrap();
        for (digest, expires_at) in [("old", days(1)), ("fresh", days(11))] {
            let pending = PendingRegistration {
                token_digest: digest.into(),
                application_id: f.application.clone(),
                payload: json!({}),
                created_at: t0(),
                expires_at,
                email_verified: false,
                mobile_verified: false,
            };
            credentials
                .save_pending_registration(&pending)
                .await
                .unwrap();
        }

        let outbox = &f.stores.outbox;
        let sent = f.queue_message("a@example.com").await;
        outbox.mark_sent(&sent, days(1), false).await.unwrap();
        let given_up = f.queue_message("b@example.com").await;
        outbox
            .mark_failed(&given_up, "refused", None)
            .await
            .unwrap();
        let waiting = f.queue_message("c@example.com").await;
        outbox
            .mark_failed(&waiting, "busy", Some(days(1)))
            .await
            .unwrap();
        let recent = f.queue_message("d@example.com").await;
        outbox.mark_sent(&recent, days(12), false).await.unwrap();

        for (id, expires_at) in [("old-otp", days(1)), ("fresh-otp", days(11))] {
            let challenge = crate::otp::challenge(&f, id, "+919876543210", t0());
            let challenge = patron_store::OtpChallenge {
                expires_at,
                ..challenge
            };
            f.stores
                .otp
                .create_challenge(&challenge, &[crate::otp::charge("t:1", 5)], t0())
                .await
                .unwrap();
        }
        f.stores
            .otp
            .create_challenge(
                &patron_store::OtpChallenge {
                    expires_at: days(12),
                    ..crate::otp::challenge(&f, "late-otp", "+919876543211", days(9))
                },
                &[crate::otp::charge("t:1", 5)],
                days(9),
            )
            .await
            .unwrap();

        f.stores
            .otp
            .record_send(&[crate::otp::charge("t:gone", 5)], t0())
            .await
            .unwrap();

        let lock = Duration::days(30);
        for (subject, at) in [("stale", days(1)), ("recent", days(11))] {
            credentials
                .claim_login_attempt(
                    &f.application,
                    LoginSubject::Unknown(subject),
                    Some(9),
                    lock,
                    at,
                )
                .await
                .unwrap();
        }
        // Locked for a month from day 1: kept while the lock lasts.
        credentials
            .claim_login_attempt(
                &f.application,
                LoginSubject::Unknown("locked"),
                Some(1),
                lock,
                days(1),
            )
            .await
            .unwrap();
        for (address, at) in [("192.0.2.1", days(1)), ("192.0.2.2", days(11))] {
            credentials
                .claim_address_attempt(address, 60, Duration::minutes(1), at)
                .await
                .unwrap();
        }

        let old_job = job(&f, Some(days(1))).await;
        job(&f, Some(days(12))).await;
        job(&f, None).await;

        let before = PurgeBefore {
            sessions: days(10),
            reset_codes: days(10),
            pending_registrations: days(10),
            outbox: days(10),
            outbox_secrets: days(10),
            jobs: days(10),
            otp_challenges: days(10),
            otp_sends: days(5),
            login_failures: days(10),
            events_done: days(10),
            events_waiting: days(20),
        };
        // Every event here occurred on day 0 or 9: all go (waiting ones after 20 days).
        let events = u64::try_from(count(&f, "lifecycle_events").await).unwrap();
        assert!(events >= 1, "the customer's creation was announced");
        let purged = f.stores.retention.purge(&before).await.unwrap();
        assert_eq!(
            purged,
            Purged {
                sessions: 1,
                reset_codes: 1,
                pending_registrations: 1,
                outbox: 2,
                outbox_scrubbed: 2,
                jobs: 1,
                otp_challenges: 1,
                otp_sends: 4,
                login_failures: 2,
                events,
            },
            "{:?}",
            f.backend
        );
        assert_eq!(count(&f, "customer_sessions").await, 1);
        assert_eq!(count(&f, "password_reset_codes").await, 1);
        assert_eq!(count(&f, "pending_registrations").await, 1);
        assert_eq!(count(&f, "otp_challenges").await, 2);
        assert_eq!(
            count(&f, "login_failures").await,
            2,
            "recent and locked stay"
        );
        assert_eq!(count(&f, "sign_in_address_failures").await, 1);
        assert_eq!(
            count(&f, "otp_sends").await,
            1,
            "sends inside the window stay"
        );
        let (left,): (i64,) = f
            .fetch_one(&format!(
                "SELECT COUNT(*) FROM outbox WHERE id IN ('{waiting}', '{recent}')"
            ))
            .await;
        assert_eq!(
            (count(&f, "outbox").await, left),
            (2, 2),
            "a message still to be retried stays"
        );
        assert_eq!(
            count(&f, "jobs").await,
            2,
            "running and recently finished jobs stay"
        );
        let (failures,): (i64,) = f
            .fetch_one(&format!(
                "SELECT COUNT(*) FROM job_failures WHERE job_id = '{old_job}'"
            ))
            .await;
        assert_eq!(failures, 0, "a purged job's refused rows go with it");
        assert_eq!(
            f.stores.retention.purge(&before).await.unwrap(),
            Purged::default()
        );
    })
    .await;
}
