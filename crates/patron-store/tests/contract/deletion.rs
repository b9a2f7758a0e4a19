//! A customer's own deletion on both backends: sessions end with the request, sessions no
//! longer resolve, the request can be undone inside the window, and anonymisation after it
//! removes the customer's data, frees the contacts and keeps the id.

use chrono::Duration;
use patron_store::StoreError;

use crate::{actor, each_backend, t0};

#[tokio::test]
async fn a_deletion_ends_sessions_can_be_undone_and_is_anonymised_after_its_window() {
    each_backend(|f| async move {
        let customers = &f.stores.customers;
        let app = &f.application;
        let asha = f.stored_customer("asha@example.com").await;
        let session = f
            .session_for(&asha.id, t0() + Duration::days(30))
            .await
            .unwrap();
        customers
            .link_identity(app, &asha.id, "google", "g-1", t0())
            .await
            .unwrap();
        let purge_at = t0() + Duration::days(7);
        customers
            .request_deletion(app, &asha.id, purge_at, &actor(), t0())
            .await
            .unwrap();
        assert!(matches!(
            customers
                .request_deletion(app, &asha.id, purge_at, &actor(), t0())
                .await,
            Err(StoreError::Deleted)
        ));
        let found = customers
            .find_customer(app, &asha.id)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(found.deletion.map(|d| d.purge_at), Some(purge_at));
        assert!(
            f.stores
                .sessions
                .find_session(app, &session.token_digest, t0())
                .await
                .unwrap()
                .is_none(),
            "{:?}: signed out everywhere",
            f.backend
        );

        customers
            .cancel_deletion(app, &asha.id, &actor(), t0() + Duration::days(6))
            .await
            .unwrap();
        let found = customers
            .find_customer(app, &asha.id)
            .await
            .unwrap()
            .unwrap();
        assert!(found.deletion.is_none());
        assert!(matches!(
            customers
                .cancel_deletion(app, &asha.id, &actor(), t0() + Duration::days(6))
                .await,
            Err(StoreError::ArchiveState(false))
        ));

        customers
            .request_deletion(app, &asha.id, purge_at, &actor(), t0())
            .await
            .unwrap();
        let early = customers
            .anonymise_due(t0() + Duration::days(6), 10)
            .await
            .unwrap();
        assert!(early.is_empty(), "still inside the window");
        let done = customers
            .anonymise_due(t0() + Duration::days(8), 10)
            .await
            .unwrap();
        assert_eq!(done, vec![asha.id.clone()]);
        assert!(customers
            .anonymise_due(t0() + Duration::days(9), 10)
            .await
            .unwrap()
            .is_empty());
        let husk = customers
            .find_customer(app, &asha.id)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(husk.username, format!("deleted_{}", asha.id));
        assert!(husk.archived && husk.emails.is_empty() && husk.phones.is_empty());
        assert!(husk.profile.first_name.is_none());
        assert!(customers
            .find_by_identity(app, "google", "g-1")
            .await
            .unwrap()
            .is_none());
        assert!(matches!(
            customers
                .cancel_deletion(app, &asha.id, &actor(), t0() + Duration::days(9))
                .await,
            Err(StoreError::Deleted)
        ));
        assert!(matches!(
            customers
                .restore_customer(app, &asha.id, &actor(), t0() + Duration::days(9))
                .await,
            Err(StoreError::Deleted)
        ));
        f.stored_customer("asha@example.com").await;
    })
    .await;
}
