//! The outbox: leased claims, retries, delivery with scrubbing, and no message claimed twice
//! by concurrent workers.

use std::collections::HashSet;

use chrono::Duration;
use patron_store::OutboxStatus;

use crate::{each_backend, t0};

#[tokio::test]
async fn a_claim_leases_messages_until_they_are_sent_or_retried() {
    each_backend(|f| async move {
        let outbox = &f.stores.outbox;
        let id = f.queue_message("asha@example.com").await;
        let lease = Duration::minutes(1);
        let claimed = outbox.claim_due(t0(), lease, 10).await.unwrap();
        let ids: Vec<_> = claimed.iter().map(|m| &m.id).collect();
        assert_eq!(ids, [&id]);
        assert_eq!(claimed[0].attempts, 1);
        assert!(
            outbox.claim_due(t0(), lease, 10).await.unwrap().is_empty(),
            "leased"
        );
        let after_lease = outbox.claim_due(t0() + lease, lease, 10).await.unwrap();
        assert_eq!(
            after_lease.len(),
            1,
            "a crashed worker's message comes due again"
        );

        outbox
            .mark_failed(&id, "mailbox full", Some(t0() + Duration::hours(1)))
            .await
            .unwrap();
        assert!(outbox
            .claim_due(t0() + Duration::minutes(30), lease, 10)
            .await
            .unwrap()
            .is_empty());
        let retried = outbox
            .claim_due(t0() + Duration::hours(1), lease, 10)
            .await
            .unwrap();
        assert_eq!((retried.len(), retried[0].attempts), (1, 3));

        outbox
            .mark_sent(&id, t0() + Duration::hours(1), true)
            .await
            .unwrap();
        let listed = outbox.list_outbox(10).await.unwrap();
        assert_eq!(listed[0].status, OutboxStatus::Sent);
        let scrubbed = &listed[0].message;
        assert!(
            scrubbed.subject.is_empty() && scrubbed.text.is_empty() && scrubbed.data.is_empty(),
            "scrubbed"
        );
        assert!(outbox
            .claim_due(t0() + Duration::days(1), lease, 10)
            .await
            .unwrap()
            .is_empty());
    })
    .await;
}

#[tokio::test]
async fn a_message_given_up_is_scrubbed_and_one_to_retry_is_not() {
    each_backend(|f| async move {
        let outbox = &f.stores.outbox;
        let retried = f.queue_message("ravi@example.com").await;
        outbox
            .mark_failed(&retried, "busy", Some(t0() + Duration::minutes(5)))
            .await
            .unwrap();
        let given_up = f.queue_message("asha@example.com").await;
        outbox
            .mark_failed(&given_up, "refused", None)
            .await
            .unwrap();
        for listed in outbox.list_outbox(10).await.unwrap() {
            let message = &listed.message;
            if listed.id == given_up {
                assert_eq!(listed.status, OutboxStatus::Failed);
                assert!(message.subject.is_empty() && message.text.is_empty());
                assert!(message.data.is_empty(), "{:?}", f.backend);
            } else {
                assert!(
                    message.text.contains("Reset your password"),
                    "kept to retry"
                );
            }
        }
    })
    .await;
}

#[tokio::test]
async fn concurrent_claims_never_take_the_same_message() {
    each_backend(|f| async move {
        for n in 0..20 {
            f.queue_message(&format!("shopper{n}@example.com")).await;
        }
        let claims = (0..4).map(|_| {
            let outbox = f.stores.outbox.clone();
            tokio::spawn(async move { outbox.claim_due(t0(), Duration::minutes(1), 8).await })
        });
        let mut seen = HashSet::new();
        for claim in claims {
            for message in claim.await.unwrap().unwrap() {
                assert!(
                    seen.insert(message.id.clone()),
                    "{} claimed twice ({:?})",
                    message.id,
                    f.backend
                );
            }
        }
        assert_eq!(seen.len(), 20);
    })
    .await;
}
