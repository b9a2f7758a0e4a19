//! A customer deletes their own account: confirmed by a recent code to a verified contact,
//! signed out everywhere, refused at every sign-in with `meta.is_deleted`, restorable by an
//! administrator within the grace window, anonymised by the retention worker after it.

use chrono::Duration;
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

use crate::{each_app, TestApp};

#[tokio::test]
async fn a_deleted_account_signs_out_refuses_sign_in_and_can_be_restored_in_the_window() {
    each_app(|mut app| async move {
        let (id, token) = app.customer_with_session("asha@example.com", "9876543210").await;
        let (request_id, code) = app.code_to_own_number(&token, "9876543210").await;
        let body = |overrides: Value| {
            let mut body = json!({"user_id": id, "reason_id": "1", "reason": "Too many emails",
                "request_id": request_id, "otp": code});
            for (key, value) in overrides.as_object().unwrap() {
                body[key] = value.clone();
            }
            body
        };
        let wrong_reason = app.delete_account(&token, body(json!({"reason_id": "99"}))).await;
        assert_eq!(wrong_reason.body["meta"]["field"], "reason_id");
        let other_user = app
            .delete_account(&token, body(json!({"user_id": "0000000000000000000000ff"})))
            .await;
        assert_eq!(other_user.body["meta"]["field"], "user_id");
        let wrong_code = app
            .delete_account(&token, body(json!({"otp": TestApp::wrong(&code)})))
            .await;
        assert_eq!(wrong_code.body["code"], "INVALID_OTP");

        let deleted = app.delete_account(&token, body(json!({}))).await;
        assert_eq!(deleted.status, StatusCode::OK, "{}", deleted.body);
        assert_eq!(deleted.body, json!({"success": true}));
        let (status, _, _) = app.whoami(&token).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "signed out everywhere");

        let sent = app
            .shop(Method::POST, "/authentication/v1.0/login/otp", Some(json!({"mobile": "9876543210", "country_code": "91"})), None)
            .await;
        let code = app.outbox(1).await.unwrap()[0].message.data["otp"]
            .as_str()
            .unwrap()
            .to_owned();
        let refused = app
            .shop(
                Method::POST,
                "/authentication/v1.0/otp/mobile/verify",
                Some(json!({"request_id": sent.body["request_id"], "otp": code})),
                None,
            )
            .await;
        assert_eq!((refused.status, refused.body["code"].as_str()), (StatusCode::FORBIDDEN, Some("ACCOUNT_DELETED")));
        assert_eq!(refused.body["meta"]["is_deleted"], true);
        let (status, minted) = app.send(Method::POST, &format!("/customers/{id}/login_token"), None).await;
        assert_eq!((status, minted["code"].as_str()), (StatusCode::BAD_REQUEST, Some("USER_DELETED")));
        let taken = app
            .send(Method::POST, "/customers", Some(json!({"email": "asha@example.com"})))
            .await;
        assert_eq!(taken.1["code"], "EMAIL_ALREADY_EXISTS", "contacts stay held in the window");

        app.clock.advance(Duration::days(6));
        app.renew_writer_token().await;
        let (status, body) = app
            .send(Method::PUT, "/customers/undelete", Some(json!({"user_id": id, "reason": "changed their mind", "reason_id": "r1"})))
            .await;
        assert_eq!(status, StatusCode::OK, "{body}");
        let (_, token) = app.customer_session(&id).await;
        let (status, me, _) = app.whoami(&token).await;
        assert_eq!((status, &me["user"]["_id"]), (StatusCode::OK, &json!(id)));
        let audit = crate::text_rows(&app, "SELECT action FROM audit_events WHERE action IN ('delete_request', 'undelete') ORDER BY id").await;
        assert_eq!(audit, ["delete_request", "undelete"]);
        app
    })
    .await;
}

#[tokio::test]
async fn after_the_grace_window_the_customer_is_anonymised_and_the_contacts_are_free() {
    each_app(|mut app| async move {
        app.configure(json!({"delete_account_day": 2, "otp": {"expiry_secs": 3600}})).await;
        let (id, token) = app.customer_with_session("asha@example.com", "9876543210").await;
        let define = app
            .send(Method::POST, "/user_attribute/definition", Some(json!({"name": "Score", "type": "number"})))
            .await;
        app.send(
            Method::PUT,
            &format!("/user_attribute/definition/{}/user/{id}", define.1["_id"].as_str().unwrap()),
            Some(json!({"attribute": {"value": 5}})),
        )
        .await;
        let (request_id, code) = app.code_to_own_number(&token, "9876543210").await;
        app.clock.advance(Duration::minutes(11));
        let stale = app
            .delete_account(&token, json!({"user_id": id, "reason_id": "1", "reason": "bye", "request_id": request_id, "otp": code}))
            .await;
        assert_eq!(stale.body["code"], "INVALID_OTP", "the code must be from the last ten minutes");
        let (request_id, code) = app.code_to_own_number(&token, "9876543210").await;
        let deleted = app
            .delete_account(&token, json!({"user_id": id, "reason_id": "1", "reason": "bye", "request_id": request_id, "otp": code}))
            .await;
        assert_eq!(deleted.status, StatusCode::OK, "{}", deleted.body);

        app.clock.advance(Duration::days(1));
        let report = app.state.services.retention.purge().await.unwrap();
        assert_eq!(report.anonymised, 0, "still inside the window");
        app.clock.advance(Duration::days(1) + Duration::minutes(1));
        let report = app.state.services.retention.purge().await.unwrap();
        assert_eq!(report.anonymised, 1);
        app.renew_writer_token().await;

        let usernames = crate::text_rows(&app, &format!("SELECT username FROM customers WHERE id = '{id}'")).await;
        assert_eq!(usernames, [format!("deleted_{id}")], "the id stays");
        for table in ["customer_emails", "customer_phones", "attribute_values", "customer_sessions"] {
            let left = crate::text_rows(&app, &format!("SELECT customer_id FROM {table} WHERE customer_id = '{id}'")).await;
            assert!(left.is_empty(), "{table} still holds rows of the anonymised customer");
        }
        let names = crate::text_rows(&app, &format!("SELECT COALESCE(first_name, '-') FROM customers WHERE id = '{id}'")).await;
        assert_eq!(names, ["-"]);
        let audit = crate::text_rows(&app, "SELECT action FROM audit_events WHERE action = 'anonymise'").await;
        assert_eq!(audit.len(), 1);
        let (status, body) = app
            .send(Method::PUT, "/customers/undelete", Some(json!({"user_id": id, "reason": "too late", "reason_id": "r1"})))
            .await;
        assert_eq!((status, body["code"].as_str()), (StatusCode::BAD_REQUEST, Some("USER_DELETED")));
        app.create_customer("asha@example.com", "9876543210").await;
        let (_, list) = app.list(&[]).await;
        assert_eq!(list["page"]["item_total"], 1, "only the new customer is live");
        app
    })
    .await;
}
