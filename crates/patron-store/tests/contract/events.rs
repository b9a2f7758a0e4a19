//! Lifecycle events: written in the transaction of the change they announce, claimed once
//! under concurrency, retried, delivered, and replayed.

use std::collections::HashSet;

use chrono::Duration;
use patron_store::Actor;

use crate::{each_backend, t0};

#[tokio::test]
async fn changes_are_announced_in_order_and_delivered_once_each() {
    each_backend(|f| async move {
        let customer = f.stored_customer("asha@example.com").await;
        let actor = Actor::new("client-1").with_reason("fraud review", Some("r1".into()));
        f.stores
            .customers
            .set_active(
                &f.application,
                std::slice::from_ref(&customer.id),
                false,
                &actor,
                t0(),
            )
            .await
            .unwrap();
        let events = &f.stores.events;
        let lease = Duration::minutes(1);
        let claimed = events.claim_due_events(t0(), lease, 10).await.unwrap();
        let kinds: Vec<&str> = claimed.iter().map(|e| e.kind.as_str()).collect();
        assert_eq!(
            kinds,
            ["customer.created", "customer.blocked"],
            "{:?}",
            f.backend
        );
        let blocked = &claimed[1];
        assert_eq!(blocked.company_id, "559");
        assert_eq!(blocked.customer_id.as_deref(), Some(customer.id.as_str()));
        assert_eq!(
            (
                blocked.actor.as_str(),
                blocked.reason.as_deref(),
                blocked.attempts
            ),
            ("client-1", Some("fraud review"), 1)
        );
        assert!(
            events
                .claim_due_events(t0(), lease, 10)
                .await
                .unwrap()
                .is_empty(),
            "leased"
        );

        // The receiver failed the first: it comes back after its retry time, with attempt 2.
        events
            .mark_event_delivered(claimed[1].id, t0())
            .await
            .unwrap();
        events
            .mark_event_failed(claimed[0].id, "503", Some(t0() + Duration::seconds(5)))
            .await
            .unwrap();
        let retried = events
            .claim_due_events(t0() + Duration::seconds(5), lease, 10)
            .await
            .unwrap();
        assert_eq!(retried.len(), 1);
        assert_eq!((retried[0].id, retried[0].attempts), (claimed[0].id, 2));
        events
            .mark_event_failed(retried[0].id, "gone", None)
            .await
            .unwrap();
        let later = t0() + Duration::hours(1);
        assert!(events
            .claim_due_events(later, lease, 10)
            .await
            .unwrap()
            .is_empty());

        // A replay sends everything since a time again, given up or delivered.
        assert_eq!(events.replay_events(t0(), later).await.unwrap(), 2);
        let again = events.claim_due_events(later, lease, 10).await.unwrap();
        assert_eq!(again.len(), 2);
        assert_eq!(again[0].attempts, 1, "a replay starts the attempts over");
    })
    .await;
}

#[tokio::test]
async fn concurrent_workers_never_claim_the_same_event() {
    each_backend(|f| async move {
        for n in 0..12 {
            f.stored_customer(&format!("shopper{n}@example.com")).await;
        }
        let claims = (0..4).map(|_| {
            let events = f.stores.events.clone();
            tokio::spawn(
                async move { events.claim_due_events(t0(), Duration::minutes(1), 5).await },
            )
        });
        let mut seen = HashSet::new();
        for claim in claims {
            for event in claim.await.unwrap().unwrap() {
                assert!(
                    seen.insert(event.id),
                    "{} claimed twice ({:?})",
                    event.id,
                    f.backend
                );
            }
        }
        assert_eq!(seen.len(), 12);
    })
    .await;
}
