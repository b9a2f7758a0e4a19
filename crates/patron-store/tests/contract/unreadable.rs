//! Stored data that cannot be read is an error naming the table and record, never a default.

use chrono::Duration;
use patron_domain::ids::CompanyId;
use patron_domain::notification::{Channel, Message};
use patron_domain::scope::Scope;
use patron_store::{ApiClient, StoreError};
use serde_json::Map;

use crate::{each_backend, t0};

/// Whether `result` failed because the record `id` of `table` is unreadable.
fn is_unreadable<T: std::fmt::Debug>(result: Result<T, StoreError>, table: &str, id: &str) -> bool {
    matches!(result, Err(StoreError::Corrupt { table: t, id: ref i, .. }) if t == table && i == id)
}

#[tokio::test]
async fn an_unreadable_customer_is_an_error_naming_it() {
    each_backend(|f| async move {
        let customer = f.stored_customer("asha@example.com").await;
        f.execute(&format!(
            "UPDATE customers SET meta = 'not json' WHERE id = '{}'",
            customer.id
        ))
        .await;
        let read = f
            .stores
            .customers
            .find_customer(&f.application, &customer.id)
            .await;
        assert!(
            is_unreadable(read, "customers", customer.id.as_str()),
            "{:?}",
            f.backend
        );
    })
    .await;
}

#[tokio::test]
async fn unreadable_scopes_are_not_read_as_none() {
    each_backend(|f| async move {
        let client = ApiClient {
            client_id: "client-1".into(),
            company_id: CompanyId::parse("559").unwrap(),
            name: "test".into(),
            secret_digest: "digest".into(),
            scopes: vec![Scope::CustomersRead],
            created_at: t0(),
        };
        f.stores.clients.create_client(&client).await.unwrap();
        f.execute(
            "UPDATE api_clients SET scopes = 'application/nonsense' WHERE client_id = 'client-1'",
        )
        .await;
        let read = f.stores.clients.find_client("client-1").await;
        assert!(
            is_unreadable(read, "api_clients", "client-1"),
            "{:?}",
            f.backend
        );
    })
    .await;
}

#[tokio::test]
async fn an_unreadable_auth_config_is_not_replaced_by_the_defaults() {
    each_backend(|f| async move {
        let document = Map::from_iter([("login".to_owned(), serde_json::json!({"otp": true}))]);
        f.stores
            .auth_configs
            .save_auth_config(&f.application, None, &document, None, t0())
            .await
            .unwrap()
            .unwrap();
        f.execute("UPDATE auth_configs SET document = '{truncated'")
            .await;
        let read = f.stores.auth_configs.find_auth_config(&f.application).await;
        assert!(
            is_unreadable(read, "auth_configs", f.application.as_str()),
            "{:?}",
            f.backend
        );
    })
    .await;
}

#[tokio::test]
async fn an_unreadable_message_is_given_up_without_holding_up_the_others() {
    each_backend(|f| async move {
        let message = |to: &str| Message {
            channel: Channel::Email,
            to: to.into(),
            template: "reset_password".into(),
            subject: "Reset".into(),
            text: "Reset your password".into(),
            data: Map::new(),
        };
        let outbox = &f.stores.outbox;
        let bad = outbox
            .enqueue(&f.application, &message("a@example.com"), t0())
            .await
            .unwrap();
        let good = outbox
            .enqueue(&f.application, &message("b@example.com"), t0())
            .await
            .unwrap();
        f.execute(&format!(
            "UPDATE outbox SET channel = 'pigeon' WHERE id = '{bad}'"
        ))
        .await;

        let claimed = outbox
            .claim_due(t0(), Duration::minutes(1), 10)
            .await
            .unwrap();
        let ids: Vec<_> = claimed.iter().map(|m| m.id.clone()).collect();
        assert_eq!(ids, [good], "{:?}", f.backend);
        let later = outbox
            .claim_due(t0() + Duration::hours(1), Duration::minutes(1), 10)
            .await;
        assert!(
            later.unwrap().iter().all(|m| m.id != bad),
            "the unreadable message stays given up"
        );
        let (status, error): (String, Option<String>) = f
            .fetch_one(&format!(
                "SELECT status, last_error FROM outbox WHERE id = '{bad}'"
            ))
            .await;
        assert_eq!(status, "failed");
        assert!(error.unwrap_or_default().contains("pigeon"));
    })
    .await;
}
