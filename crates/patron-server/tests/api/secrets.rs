//! Secrets at rest under a new key: `patron secrets rotate` rewrites every sealed value.

use patron_domain::ids::ObjectId;
use patron_server::secrets::SecretBox;
use patron_server::service::{reveal_message, SecretRotation};
use reqwest::{Method, StatusCode};
use serde_json::json;

use crate::attributes::{define, set_value};
use crate::each_app;

#[tokio::test]
async fn a_rotation_rewrites_every_secret_under_the_new_key() {
    each_app(|app| async move {
        app.configure(
            json!({"social_tokens": {"google": {"app_id": "g-id", "app_secret": "g-secret-123"}}}),
        )
        .await;
        let user = app.create_customer("asha@example.com", "9876543210").await;
        let pin = define(&app, json!({"name": "Pin", "type": "encrypted_number"})).await;
        assert_eq!(
            set_value(&app, &pin, &user, json!(4321)).await.0,
            StatusCode::CREATED
        );
        let reset = app
            .shop(
                Method::POST,
                "/authentication/v1.0/login/password/reset",
                Some(json!({"email": "asha@example.com"})),
                None,
            )
            .await;
        assert_eq!(reset.status, StatusCode::OK);
        let queued = app.outbox(100).await.unwrap().len() as u64;
        assert!(queued >= 1);

        let old_key = app.state.config.secret_key.clone().unwrap().0;
        let new_key = SecretBox::generate_key();
        let rotated = SecretBox::from_base64(&new_key)
            .unwrap()
            .with_previous_keys(&[&old_key])
            .unwrap();
        let rotation = SecretRotation::new(app.stores.sealed.clone(), rotated);
        let report = rotation.rotate().await.unwrap();
        assert_eq!(
            (
                report.provider_secrets,
                report.attribute_values,
                report.outbox_messages
            ),
            (1, 1, queued)
        );
        let again = rotation.rotate().await.unwrap();
        assert_eq!(
            again.already_current,
            2 + queued,
            "a second run has nothing to do"
        );

        // The new key alone now opens everything; the old one nothing.
        let new_only = SecretBox::from_base64(&new_key).unwrap();
        let old_only = SecretBox::from_base64(&old_key).unwrap();
        for message in app.stores.outbox.list_outbox(100).await.unwrap() {
            assert!(reveal_message(&old_only, message.clone()).is_err());
            let opened = reveal_message(&new_only, message).unwrap();
            assert!(
                opened.message.data.contains_key("code"),
                "{:?}",
                opened.message
            );
        }
        let application = ObjectId::parse("id", &app.application_id).unwrap();
        let stored = app
            .stores
            .auth_configs
            .find_auth_config(&application)
            .await
            .unwrap();
        let sealed = stored.unwrap().secrets.unwrap();
        let binding = ["auth config secrets", app.application_id.as_str()];
        assert!(new_only
            .open(&sealed, &binding)
            .unwrap()
            .contains("g-secret-123"));
        let values = crate::text_rows(&app, "SELECT value FROM attribute_values").await;
        let binding = [
            "attribute value",
            pin["_id"].as_str().unwrap(),
            user.as_str(),
        ];
        assert_eq!(new_only.open(&values[0], &binding).unwrap(), "4321");
        app
    })
    .await;
}
