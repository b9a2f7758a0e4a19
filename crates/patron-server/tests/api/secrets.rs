//! Secrets at rest under a new key: `patron secrets rotate` rewrites every sealed value.

use patron_domain::ids::ObjectId;
use patron_service::secrets::SecretBox;
use patron_service::{reveal_message, SecretRotation};
use reqwest::{Method, StatusCode};
use serde_json::json;

use crate::{define, each_app, set_value};

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

/// A value sealed in the first format: `v1:` + base64(nonce ‖ AES-256-GCM ciphertext),
/// bound to nothing.
fn first_format(key: &str, plain: &str) -> String {
    use aes_gcm::aead::{Aead, AeadCore, KeyInit, OsRng};
    use aes_gcm::{Aes256Gcm, Key};
    use base64::engine::general_purpose::STANDARD;
    use base64::Engine;
    let raw = STANDARD.decode(key).unwrap();
    let cipher = Aes256Gcm::new(Key::<Aes256Gcm>::from_slice(&raw));
    let nonce = Aes256Gcm::generate_nonce(&mut OsRng);
    let mut bytes = nonce.to_vec();
    bytes.extend(cipher.encrypt(&nonce, plain.as_bytes()).unwrap());
    format!("v1:{}", STANDARD.encode(bytes))
}

#[tokio::test]
async fn values_of_the_first_format_never_open_in_service_and_are_rewritten_at_start() {
    each_app(|app| async move {
        let key = app.state.config.secret_key.clone().unwrap().0;
        // A database writer plants an unbound value (say, copied from another record).
        let planted = first_format(&key, r#"{"facebook":"fb-planted"}"#);
        app.configure(
            json!({"social_tokens": {"facebook": {"app_id": "fb-app", "app_secret": "fb-secret"}}}),
        )
        .await;
        crate::execute_sql(
            &app,
            &format!(
                "UPDATE auth_configs SET secrets = '{planted}' WHERE application_id = '{}'",
                app.application_id
            ),
        )
        .await;
        let id = ObjectId::parse("id", &app.application_id).unwrap();
        let application = app
            .stores
            .applications
            .find_application(&id)
            .await
            .unwrap()
            .unwrap();
        let configs = &app.state.services.auth_configs;
        assert!(
            configs
                .social_secret(&application, "facebook")
                .await
                .is_err(),
            "an unbound value does not open"
        );
        let report = SecretRotation::new(app.stores.sealed.clone(), app.state.secrets.clone())
            .upgrade_legacy()
            .await
            .unwrap();
        assert_eq!(report.provider_secrets, 1);
        assert_eq!(
            configs
                .social_secret(&application, "facebook")
                .await
                .unwrap()
                .as_deref(),
            Some("fb-planted"),
            "rewritten in the current format, bound to its record"
        );
        let stored = crate::text_rows(
            &app,
            "SELECT secrets FROM auth_configs WHERE secrets IS NOT NULL",
        )
        .await;
        assert!(stored.iter().all(|s| s.starts_with("v2:")), "{stored:?}");
        app
    })
    .await;
}
