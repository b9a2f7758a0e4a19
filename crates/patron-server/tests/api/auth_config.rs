//! The authentication configuration over both APIs.

use chrono::Duration;
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

use crate::{each_app, read};

#[tokio::test]
async fn defaults_are_served_until_the_first_save() {
    each_app(|app| async move {
        let (status, body) = app.send(Method::GET, "/platform/config", None).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        assert_eq!(body["__v"], 0);
        assert_eq!(
            body["session_config"],
            json!({"duration": 30, "type": "Days", "is_rolling": false})
        );
        assert_eq!(body["account_lockout"]["attempts"], 5);
        assert_eq!(body["_id"], app.application_id.as_str());
        assert!(
            body.as_object().unwrap().values().all(|v| !v.is_null()),
            "no nulls: {body}"
        );
        app
    })
    .await;
}

#[tokio::test]
async fn updates_merge_validate_and_version() {
    each_app(|app| async move {
        let (_, defaults) = app.send(Method::GET, "/platform/config", None).await;
        app.clock.advance(Duration::minutes(1));
        let update = json!({"login": {"otp": false}, "session_config": {"type": "hours", "duration": 12}, "custom": {"kept": true}, "__v": 42});
        let (status, body) = app.send(Method::POST, "/platform/config", Some(update)).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        assert_eq!(body["__v"], 1);
        assert_eq!(body["created_at"], defaults["created_at"], "the first save keeps the creation time");
        assert_ne!(body["updated_at"], defaults["updated_at"]);
        assert_eq!(body["login"], json!({"password": true, "otp": false, "via": "mobile"}));
        assert_eq!(body["session_config"]["type"], "Hours");
        assert_eq!(body["custom"], json!({"kept": true}));
        let first_update = body["updated_at"].clone();
        assert_ne!(body["created_at"], Value::Null);

        app.clock.advance(Duration::minutes(1));
        let (_, body) = app.send(Method::POST, "/platform/config", Some(json!({"register": false}))).await;
        assert_eq!(body["__v"], 2);
        assert_ne!(body["updated_at"], first_update);
        let (_, read_back) = app.send(Method::GET, "/platform/config", None).await;
        assert_eq!(read_back, body);

        for (bad, field) in [
            (json!({"account_lockout": {"attempts": 0}}), "account_lockout.attempts"),
            (json!({"password_settings": {"configs": {"length": 200}}}), "password_settings.configs.length"),
            (json!({"session_config": {"type": "Weeks"}}), "session_config.type"),
            (json!({"register": "yes"}), "register"),
        ] {
            let (status, error) = app.send(Method::POST, "/platform/config", Some(bad)).await;
            assert_eq!((status, error["code"].as_str()), (StatusCode::BAD_REQUEST, Some("VALIDATION_ERROR")));
            assert!(error["message"].as_str().unwrap().starts_with(field), "{error}");
        }
        let (_, unchanged) = app.send(Method::GET, "/platform/config", None).await;
        assert_eq!(unchanged["__v"], 2, "refused updates wrote nothing");
        app
    })
    .await;
}

#[tokio::test]
async fn updating_needs_the_settings_scope() {
    each_app(|app| async move {
        let response = app
            .http
            .post(app.platform("/platform/config"))
            .bearer_auth(&app.reader.token)
            .json(&json!({}))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::FORBIDDEN);
        let response = app
            .http
            .get(app.platform("/platform/config"))
            .bearer_auth(&app.reader.token)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::OK);
        app
    })
    .await;
}

#[tokio::test]
async fn social_secrets_are_write_only_and_encrypted() {
    each_app(|app| async move {
        let update = json!({"social_tokens": {"google": {"app_id": "g-id", "app_secret": "g-secret-123"}, "accountkit": {"app_id": "ak-id", "app_secret": "ak-secret-456"}}});
        let (status, body) = app.send(Method::POST, "/platform/config", Some(update)).await;
        assert_eq!(status, StatusCode::OK);
        let (_, platform_view) = app.send(Method::GET, "/platform/config", None).await;
        let (status, storefront_view) = read(app.storefront(Method::GET, "/platform/v1.0/config").send().await.unwrap()).await;
        assert_eq!(status, StatusCode::OK);
        for view in [&body, &platform_view, &storefront_view] {
            let text = view.to_string();
            assert!(!text.contains("g-secret-123") && !text.contains("ak-secret-456") && !text.contains("app_secret"), "{text}");
            assert_eq!(view["social_tokens"]["google"]["app_id"], "g-id");
            assert_eq!(view["social_tokens"]["account_kit"]["app_id"], "ak-id");
            assert_eq!(view["social_tokens"]["accountkit"]["app_id"], "ak-id");
        }
        let application = patron_domain::ids::ObjectId::parse("id", &app.application_id).unwrap();
        let stored = app.stores.auth_configs.find_auth_config(&application).await.unwrap().unwrap();
        let sealed = stored.secrets.unwrap();
        assert!(sealed.starts_with("v2:") && !sealed.contains("g-secret-123"));
        app
    })
    .await;
}

#[tokio::test]
async fn concurrent_updates_are_both_kept() {
    each_app(|app| async move {
        let one = app
            .request(Method::POST, "/platform/config")
            .json(&json!({"first_key": 1}))
            .send();
        let two = app
            .request(Method::POST, "/platform/config")
            .json(&json!({"second_key": 2}))
            .send();
        let (one, two) = tokio::join!(one, two);
        assert_eq!(
            (one.unwrap().status(), two.unwrap().status()),
            (StatusCode::OK, StatusCode::OK)
        );
        let (_, body) = app.send(Method::GET, "/platform/config", None).await;
        assert_eq!(
            (
                body["first_key"].as_i64(),
                body["second_key"].as_i64(),
                body["__v"].as_i64()
            ),
            (Some(1), Some(2), Some(2))
        );
        app
    })
    .await;
}

#[tokio::test]
async fn storefront_calls_need_the_application_token() {
    each_app(|app| async move {
        let url = format!("{}/service/application/user/platform/v1.0/config", app.base);
        let (status, body) = read(app.http.get(&url).send().await.unwrap()).await;
        assert_eq!(
            (status, body["authenticated"].as_bool()),
            (StatusCode::UNAUTHORIZED, Some(false))
        );
        use base64::Engine;
        let wrong = base64::engine::general_purpose::STANDARD
            .encode(format!("{}:wrong", app.application_id));
        let response = app.http.get(&url).bearer_auth(wrong).send().await.unwrap();
        assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
        let response = app
            .http
            .get(&url)
            .bearer_auth("not-base64!")
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
        app
    })
    .await;
}
