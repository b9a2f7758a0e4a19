//! Password reset by email link, and the outbox that carries the link.

use std::sync::atomic::{AtomicUsize, Ordering};

use async_trait::async_trait;
use chrono::Duration;
use patron_server::notify::{Delivery, LogDelivery};
use patron_store::{OutboxMessage, OutboxStatus};
use reqwest::{Method, StatusCode};
use serde_json::json;

use crate::{each_app, PASSWORD};

#[tokio::test]
async fn reset_link_flow_signs_in_with_the_new_password() {
    each_app(|app| async move {
        app.register_proven("asha@example.com", "9876543210").await;
        let old_session = app.login("asha@example.com", PASSWORD).await.token.unwrap();
        app.configure(json!({"password_reset_url": "https://shop.example.com/auth/set-password"}))
            .await;

        let known = app.ask_reset("asha@example.com").await;
        let unknown = app.ask_reset("nobody@example.com").await;
        assert_eq!(
            (known.status, &known.body),
            (StatusCode::OK, &json!({"status": "sent"}))
        );
        assert_eq!(
            unknown.body, known.body,
            "unknown emails get the same answer"
        );
        let outbox = app.outbox(10).await.unwrap();
        assert_eq!(outbox.len(), 1, "only the known email gets a message");
        let message = &outbox[0].message;
        let at_rest = crate::text_rows(&app, "SELECT subject || body || data FROM outbox").await;
        assert_eq!(at_rest.len(), 1);
        assert!(
            !at_rest[0].contains(message.data["code"].as_str().unwrap())
                && !at_rest[0].contains("set-password"),
            "the code and link are sealed at rest: {}",
            at_rest[0]
        );
        let concealed = app
            .state
            .services
            .notifications
            .list(10, false)
            .await
            .unwrap();
        assert!(
            concealed[0].message.text.contains("--reveal"),
            "{:?}",
            concealed[0].message
        );
        let codes = crate::text_rows(&app, "SELECT customer_id FROM password_reset_codes").await;
        assert_eq!(
            codes.len(),
            1,
            "the unknown email's rehearsal left no code: {codes:?}"
        );
        assert_eq!(message.to, "asha@example.com");
        let code = message.data["code"].as_str().unwrap().to_owned();
        assert!(
            message.text.contains(&format!(
                "https://shop.example.com/auth/set-password?code={code}"
            )),
            "{}",
            message.text
        );
        assert!(message.text.starts_with("Hello Asha,"));

        let check = app
            .shop(
                Method::POST,
                "/authentication/v1.0/login/password/reset/token",
                Some(json!({"code": code})),
                None,
            )
            .await;
        assert_eq!(check.body, json!({"status": "success"}));
        let check = app
            .shop(
                Method::POST,
                "/authentication/v1.0/login/password/reset/token",
                Some(json!({"code": code})),
                None,
            )
            .await;
        assert_eq!(
            check.status,
            StatusCode::OK,
            "checking does not use the code"
        );

        // A missing or weak password is refused without spending the code.
        for body in [
            json!({"code": code}),
            json!({"code": code, "password": ""}),
            json!({"code": code, "password": null}),
            json!({"code": code, "password": "weak"}),
        ] {
            let refused = app
                .shop(
                    Method::POST,
                    "/authentication/v1.0/login/password/reset/forgot",
                    Some(body.clone()),
                    None,
                )
                .await;
            assert_eq!(
                (refused.status, refused.body["meta"]["field"].as_str()),
                (StatusCode::BAD_REQUEST, Some("password")),
                "{body}: {}",
                refused.body
            );
            assert!(refused.token.is_none(), "not signed in");
        }
        let reset = app
            .shop(
                Method::POST,
                "/authentication/v1.0/login/password/reset/forgot",
                Some(json!({"code": code, "password": "Brand-new-1"})),
                None,
            )
            .await;
        assert_eq!(reset.status, StatusCode::OK, "{}", reset.body);
        assert_eq!(reset.body["user"]["emails"][0]["email"], "asha@example.com");
        let new_session = reset.token.expect("signed in");
        assert_eq!(app.whoami(&new_session).await.0, StatusCode::OK);
        assert_eq!(
            app.whoami(&old_session).await.0,
            StatusCode::UNAUTHORIZED,
            "older sessions end"
        );
        assert_eq!(
            app.login("asha@example.com", PASSWORD).await.status,
            StatusCode::BAD_REQUEST
        );
        assert_eq!(
            app.login("asha@example.com", "Brand-new-1").await.status,
            StatusCode::OK
        );

        let again = app
            .shop(
                Method::POST,
                "/authentication/v1.0/login/password/reset/forgot",
                Some(json!({"code": code, "password": "Other-new-2"})),
                None,
            )
            .await;
        assert_eq!(
            (again.status, again.body["code"].as_str()),
            (StatusCode::BAD_REQUEST, Some("INVALID_RESET_CODE"))
        );
        app
    })
    .await;
}

/// `forgotPassword` without a password is refused before the code is looked at, so the
/// code stays good for the request that brings one.
#[tokio::test]
async fn reset_codes_expire_and_reset_only_does_not_sign_in() {
    each_app(|app| async move {
        app.register_proven("asha@example.com", "9876543210").await;
        app.ask_reset("asha@example.com").await;
        let expired = app.latest_reset_code().await;
        app.clock.advance(Duration::minutes(31));
        let check = app
            .shop(
                Method::POST,
                "/authentication/v1.0/login/password/reset/token",
                Some(json!({"code": expired})),
                None,
            )
            .await;
        assert_eq!(check.body["code"], "INVALID_RESET_CODE");

        app.ask_reset("asha@example.com").await;
        let code = app.latest_reset_code().await;
        let reset = app
            .shop(
                Method::POST,
                "/authentication/v1.0/login/password/forgot",
                Some(json!({"code": code, "password": "Brand-new-1"})),
                None,
            )
            .await;
        assert_eq!(
            (reset.status, &reset.body),
            (StatusCode::OK, &json!({"success": true}))
        );
        assert!(reset.token.is_none());
        assert_eq!(
            app.login("asha@example.com", "Brand-new-1").await.status,
            StatusCode::OK
        );

        app.configure(json!({"forgot_password": false})).await;
        assert_eq!(
            app.ask_reset("asha@example.com").await.body["code"],
            "FORGOT_PASSWORD_DISABLED"
        );
        app
    })
    .await;
}

#[tokio::test]
async fn templates_can_be_overridden_per_application() {
    each_app(|app| async move {
        app.register_proven("asha@example.com", "9876543210").await;
        app.configure(json!({"notification_templates": {"reset_password": {"subject": "Forgot it, {{first_name}}?", "text": "Go to {{link}}"}}})).await;
        app.ask_reset("asha@example.com").await;
        let message = app.outbox(1).await.unwrap().remove(0).message;
        assert_eq!(message.subject, "Forgot it, Asha?");
        assert!(message.text.starts_with("Go to http://127.0.0.1:8080/auth/set-password?code="), "{}", message.text);
        app
    })
    .await;
}

/// A delivery that fails a set number of times, then succeeds.
struct Flaky {
    failures_left: AtomicUsize,
}

#[async_trait]
impl Delivery for Flaky {
    async fn deliver(&self, _message: &OutboxMessage) -> Result<(), String> {
        if self.failures_left.load(Ordering::SeqCst) > 0 {
            self.failures_left.fetch_sub(1, Ordering::SeqCst);
            return Err("mail server unavailable".to_owned());
        }
        Ok(())
    }

    fn scrubs_delivered(&self, _message: &OutboxMessage) -> bool {
        true
    }
}

#[tokio::test]
async fn the_outbox_retries_with_backoff_and_scrubs_what_it_sent() {
    each_app(|app| async move {
        app.register_proven("asha@example.com", "9876543210").await;
        app.ask_reset("asha@example.com").await;
        let flaky = Flaky {
            failures_left: AtomicUsize::new(2),
        };
        let now = patron_service::Clock::now(app.clock.as_ref());
        assert_eq!(
            app.state
                .services
                .notifications
                .deliver_due(&flaky, now)
                .await
                .unwrap(),
            0
        );
        let message = app.outbox(1).await.unwrap().remove(0);
        assert_eq!(
            (message.status, message.attempts),
            (OutboxStatus::Pending, 1)
        );
        assert_eq!(
            message.last_error.as_deref(),
            Some("mail server unavailable")
        );
        assert_eq!(message.next_attempt_at, now + Duration::seconds(5));
        assert_eq!(
            app.state
                .services
                .notifications
                .deliver_due(&flaky, now + Duration::seconds(4))
                .await
                .unwrap(),
            0,
            "not due yet"
        );
        assert_eq!(
            app.state
                .services
                .notifications
                .deliver_due(&flaky, now + Duration::seconds(5))
                .await
                .unwrap(),
            0
        );
        assert_eq!(
            app.state
                .services
                .notifications
                .deliver_due(&flaky, now + Duration::seconds(15))
                .await
                .unwrap(),
            1
        );
        let message = app.outbox(1).await.unwrap().remove(0);
        assert_eq!((message.status, message.attempts), (OutboxStatus::Sent, 3));
        assert!(
            message.message.text.is_empty() && message.message.data.is_empty(),
            "delivered codes are erased"
        );

        app.ask_reset("asha@example.com").await;
        assert_eq!(
            app.state
                .services
                .notifications
                .deliver_due(&LogDelivery, now + Duration::seconds(20))
                .await
                .unwrap(),
            1
        );
        let logged = app.outbox(1).await.unwrap().remove(0);
        assert_eq!(logged.status, OutboxStatus::Sent);
        assert!(
            !logged.message.text.is_empty(),
            "the log notifier keeps the message readable in the outbox"
        );
        app
    })
    .await;
}

/// Reset links come from configuration only: a poisoned `Host` or `X-Forwarded-Host` never
/// becomes the origin of a link, and an insecure per-application URL is refused.
#[tokio::test]
async fn reset_links_never_follow_the_host_header() {
    each_app(|app| async move {
        app.register_proven("asha@example.com", "9876543210").await;
        let response = app
            .storefront(Method::POST, "/authentication/v1.0/login/password/reset")
            .header("host", "evil.example")
            .header("x-forwarded-host", "evil.example")
            .json(&json!({"email": "asha@example.com"}))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::OK);
        let messages = app.outbox(1).await.unwrap();
        let link = messages[0].message.data["link"]
            .as_str()
            .unwrap()
            .to_owned();
        assert!(!link.contains("evil"), "{link}");
        assert!(
            link.starts_with("http://127.0.0.1:8080/auth/set-password?code="),
            "without a configured URL the server's public URL is the base: {link}"
        );

        let (status, body) = app
            .send(
                Method::POST,
                "/platform/config",
                Some(json!({"password_reset_url": "http://shop.example.com/reset"})),
            )
            .await;
        assert_eq!(
            (status, body["meta"]["field"].as_str()),
            (StatusCode::BAD_REQUEST, Some("password_reset_url")),
            "{body}"
        );
        app
    })
    .await;
}
