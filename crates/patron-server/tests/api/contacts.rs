//! A signed-in shopper's contacts over HTTP: adding and proving by link, primary and
//! removal rules, the v2.0 change of the primary contact by codes, the reset link by text
//! message, and the shopper's own attributes.

use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

use crate::each_app;

#[tokio::test]
async fn emails_are_added_unverified_proven_by_link_and_only_then_primary() {
    each_app(|app| async move {
        app.configure(json!({"verify_email_url": "https://shop.example.com/auth/verify-email"}))
            .await;
        let token = app.register("asha@example.com", "9876543210").await.token.unwrap();
        app.create_customer("bela@example.com", "9876543219").await;

        let added = app
            .call(Method::PUT, "/profile/v1.0/email", Some(json!({"email": "work@example.com"})), &token)
            .await;
        assert_eq!(added.status, StatusCode::OK, "{}", added.body);
        assert_eq!(added.body["verify_email_link"], true);
        let emails = added.body["user"]["emails"].as_array().unwrap();
        assert_eq!(emails.len(), 2);
        assert_eq!((emails[1]["verified"].as_bool(), emails[1]["primary"].as_bool()), (Some(false), Some(false)));
        let data = app.data_sent_to("work@example.com").await;
        let code = data["code"].as_str().unwrap().to_owned();
        assert_eq!(data["link"], format!("https://shop.example.com/auth/verify-email?code={code}"));

        let early = app
            .call(Method::POST, "/profile/v1.0/email/primary", Some(json!({"email": "work@example.com"})), &token)
            .await;
        assert_eq!(early.body["meta"]["field"], "email", "unverified: {}", early.body);
        let taken = app
            .call(Method::PUT, "/profile/v1.0/email", Some(json!({"email": "bela@example.com"})), &token)
            .await;
        assert_eq!(taken.body["code"], "EMAIL_ALREADY_EXISTS");

        let verified = app
            .shop(Method::POST, "/authentication/v1.0/verify/email", Some(json!({"code": code})), None)
            .await;
        assert_eq!(verified.body, json!({"message": "verified"}));
        let again = app
            .shop(Method::POST, "/authentication/v1.0/verify/email", Some(json!({"code": code})), None)
            .await;
        assert_eq!(again.body["code"], "INVALID_LINK", "a link works once");
        let primary = app
            .call(Method::POST, "/profile/v1.0/email/primary", Some(json!({"email": "work@example.com"})), &token)
            .await;
        assert_eq!(primary.status, StatusCode::OK, "{}", primary.body);
        let emails = primary.body["user"]["emails"].as_array().unwrap();
        assert_eq!(emails[0]["email"], "work@example.com");
        assert_eq!(emails.iter().filter(|e| e["primary"] == true).count(), 1);

        let primary_delete = app
            .call(Method::DELETE, "/profile/v1.0/email?active=true&primary=true&verified=true&email=work%40example.com", None, &token)
            .await;
        assert_eq!(primary_delete.status, StatusCode::BAD_REQUEST, "{}", primary_delete.body);
        let deleted = app
            .call(Method::DELETE, "/profile/v1.0/email?active=true&primary=false&verified=false&email=asha%40example.com", None, &token)
            .await;
        assert_eq!(deleted.status, StatusCode::OK, "{}", deleted.body);
        assert_eq!(deleted.body["user"]["emails"].as_array().unwrap().len(), 1);
        app
    })
    .await;
}

#[tokio::test]
async fn the_last_verified_mobile_the_application_requires_stays() {
    each_app(|app| async move {
        let token = app.register("asha@example.com", "9876543210").await.token.unwrap();
        let added = app
            .call(Method::PUT, "/profile/v1.0/mobile", Some(json!({"phone": "9876543211", "country_code": "91"})), &token)
            .await;
        assert_eq!(added.body["verify_mobile_link"], true, "{}", added.body);
        let code = app.data_sent_to("+919876543211").await["code"].as_str().unwrap().to_owned();
        let verified = app
            .shop(Method::POST, "/authentication/v1.0/verify/mobile", Some(json!({"code": code})), None)
            .await;
        assert_eq!(verified.body, json!({"message": "verified"}));
        let (status, me, _) = app.whoami(&token).await;
        assert_eq!(status, StatusCode::OK);
        let phones = me["user"]["phone_numbers"].as_array().unwrap();
        assert_eq!(phones[0]["phone"], "9876543211", "the first verified number became primary");
        // The registered number was never verified; the new one is the only verified one.
        let refused = app
            .call(Method::DELETE, "/profile/v1.0/mobile?active=true&primary=true&verified=true&country_code=91&phone=9876543211", None, &token)
            .await;
        assert_eq!(refused.status, StatusCode::BAD_REQUEST, "{}", refused.body);
        let removed = app
            .call(Method::DELETE, "/profile/v1.0/mobile?active=true&primary=false&verified=false&country_code=91&phone=9876543210", None, &token)
            .await;
        assert_eq!(removed.status, StatusCode::OK, "{}", removed.body);
        let last = app
            .call(Method::DELETE, "/profile/v1.0/mobile?active=true&primary=true&verified=true&country_code=91&phone=9876543211", None, &token)
            .await;
        assert!(
            last.body["message"].as_str().unwrap().contains("last verified"),
            "required_fields.mobile keeps the last verified number: {}",
            last.body
        );
        let primary = app
            .call(Method::POST, "/profile/v1.0/mobile/primary", Some(json!({"country_code": "91", "phone": "9876543211", "active": true, "primary": false, "verified": true})), &token)
            .await;
        assert_eq!(primary.status, StatusCode::OK, "{}", primary.body);
        let linked = app
            .call(Method::POST, "/profile/v1.0/mobile/link/send", Some(json!({"country_code": "91", "phone": "9876543211"})), &token)
            .await;
        assert_eq!(linked.body, json!({"verify_mobile_link": false}), "already verified");
        app
    })
    .await;
}

#[tokio::test]
async fn the_primary_mobile_changes_with_a_code_to_the_old_and_one_to_the_new() {
    each_app(|app| async move {
        let id = app.create_customer("asha@example.com", "9876543210").await;
        let (status, session) = app
            .send(
                Method::POST,
                "/customers/session",
                Some(json!({"domain": "shop.example.com", "user_id": id, "reason": "test"})),
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{}", session);
        let token = session["cookie"]["f.session"].as_str().unwrap().to_owned();

        let sent = app
            .call(Method::POST, "/profile/v2.0/mobile/primary/otp/send", Some(json!({"encrypt_otp": false})), &token)
            .await;
        assert_eq!(sent.status, StatusCode::OK, "{}", sent.body);
        assert_eq!(sent.body["mobile"], "9876543210");
        let code = app.data_sent_to("+919876543210").await["otp"].as_str().unwrap().to_owned();
        let skipped = app
            .call(Method::POST, "/profile/v2.0/mobile/otp/send", Some(json!({"request_id": sent.body["request_id"], "mobile": "9876543211", "country_code": "91"})), &token)
            .await;
        assert_eq!(skipped.body["meta"]["field"], "request_id", "a code's request_id is no proof: {}", skipped.body);
        let proven = app
            .call(Method::POST, "/profile/v2.0/mobile/primary/otp/verify", Some(json!({"otp": code, "request_id": sent.body["request_id"]})), &token)
            .await;
        assert_eq!(proven.status, StatusCode::OK, "{}", proven.body);
        assert_eq!(proven.body["entity"], "mobile");
        let grant = proven.body["request_id"].as_str().unwrap().to_owned();
        let wrong_entity = app
            .call(Method::POST, "/profile/v2.0/email/otp/send", Some(json!({"request_id": grant, "email": "new@example.com"})), &token)
            .await;
        assert_eq!(wrong_entity.body["meta"]["field"], "request_id");

        let new_sent = app
            .call(Method::POST, "/profile/v2.0/mobile/otp/send", Some(json!({"request_id": grant, "mobile": "9876543211", "country_code": "91"})), &token)
            .await;
        assert_eq!(new_sent.status, StatusCode::OK, "a refused call leaves the proof: {}", new_sent.body);
        let replay = app
            .call(Method::POST, "/profile/v2.0/mobile/otp/send", Some(json!({"request_id": grant, "mobile": "9876543212", "country_code": "91"})), &token)
            .await;
        assert_eq!(replay.body["meta"]["field"], "request_id", "a proof works once");
        let code = app.data_sent_to("+919876543211").await["otp"].as_str().unwrap().to_owned();
        let changed = app
            .call(Method::POST, "/profile/v2.0/mobile/otp/verify", Some(json!({"otp": code, "request_id": new_sent.body["request_id"]})), &token)
            .await;
        assert_eq!(changed.status, StatusCode::OK, "{}", changed.body);
        let phones = changed.body["user"]["phone_numbers"].as_array().unwrap();
        assert_eq!(phones[0]["phone"], "9876543211");
        assert_eq!((phones[0]["primary"].as_bool(), phones[0]["verified"].as_bool()), (Some(true), Some(true)));
        assert_eq!(phones[1]["primary"], false);
        let bad_entity = app
            .call(Method::POST, "/profile/v2.0/fax/primary/otp/send", Some(json!({})), &token)
            .await;
        assert_eq!(bad_entity.body["meta"]["field"], "entity");
        app
    })
    .await;
}

#[tokio::test]
async fn the_reset_link_goes_by_text_message_within_the_send_budgets() {
    each_app(|app| async move {
        app.register_proven("asha@example.com", "9876543210").await;
        let send = |mobile: &'static str| {
            app.shop(
                Method::POST,
                "/authentication/v1.0/login/password/mobile/reset",
                Some(json!({"country_code": "91", "mobile": mobile})),
                None,
            )
        };
        assert_eq!(send("9876543210").await.body, json!({"status": "sent"}));
        assert_eq!(
            send("9876543219").await.body,
            json!({"status": "sent"}),
            "unknown numbers alike"
        );
        let data = app.data_sent_to("+919876543210").await;
        let code = data["code"].as_str().unwrap().to_owned();
        let reset = app
            .shop(
                Method::POST,
                "/authentication/v1.0/login/password/forgot",
                Some(json!({"code": code, "password": "Fr3sh-secret"})),
                None,
            )
            .await;
        assert_eq!(reset.body, json!({"success": true}));
        for _ in 0..4 {
            send("9876543210").await;
        }
        let spent = send("9876543210").await;
        assert_eq!(
            (spent.status, spent.body["code"].as_str()),
            (StatusCode::TOO_MANY_REQUESTS, Some("OTP_LIMIT_REACHED"))
        );
        app
    })
    .await;
}

#[tokio::test]
async fn shoppers_read_and_write_only_their_editable_attributes() {
    each_app(|app| async move {
        let define = |body: Value| app.send(Method::POST, "/user_attribute/definition", Some(body));
        let (status, editable) = define(
            json!({"name": "Shoe size", "type": "number", "customer_editable": true,
            "validations": [{"type": "max", "value": 50}]}),
        )
        .await;
        assert_eq!(status, StatusCode::CREATED, "{editable}");
        let (_, hidden) = define(json!({"name": "Credit limit", "type": "number"})).await;
        let token = app
            .register("asha@example.com", "9876543210")
            .await
            .token
            .unwrap();
        let customer = app.whoami(&token).await.1["user"]["_id"]
            .as_str()
            .unwrap()
            .to_owned();
        app.send(
            Method::PUT,
            &format!(
                "/user_attribute/definition/{}/user/{customer}",
                hidden["_id"].as_str().unwrap()
            ),
            Some(json!({"attribute": {"value": 5000}})),
        )
        .await;

        let empty = app
            .call(Method::GET, "/profile/v1.0/user-attributes", None, &token)
            .await;
        assert_eq!(
            empty.body,
            json!({"attributes": {}}),
            "the hidden value is not shown"
        );
        let set = app
            .call(
                Method::PATCH,
                "/profile/v1.0/user-attributes",
                Some(json!({"attributes": {"shoe_size": 9}})),
                &token,
            )
            .await;
        assert_eq!(
            set.body,
            json!({"attributes": {"shoe_size": 9}}),
            "{}",
            set.body
        );
        let read = app
            .call(
                Method::GET,
                "/profile/v1.0/user-attributes?slug=shoe_size",
                None,
                &token,
            )
            .await;
        assert_eq!(read.body, json!({"attributes": {"shoe_size": 9}}));
        for (body, field) in [
            (
                json!({"attributes": {"shoe_size": 99}}),
                "attributes.shoe_size",
            ),
            (
                json!({"attributes": {"shoe_size": 10, "credit_limit": 1}}),
                "attributes.credit_limit",
            ),
            (json!({"attributes": {"nope": 1}}), "attributes.nope"),
            (json!({"attributes": {}}), "attributes"),
        ] {
            let refused = app
                .call(
                    Method::PATCH,
                    "/profile/v1.0/user-attributes",
                    Some(body),
                    &token,
                )
                .await;
            assert_eq!(
                (refused.status, refused.body["meta"]["field"].as_str()),
                (StatusCode::BAD_REQUEST, Some(field)),
                "{}",
                refused.body
            );
        }
        let read = app
            .call(Method::GET, "/profile/v1.0/user-attributes", None, &token)
            .await;
        assert_eq!(
            read.body,
            json!({"attributes": {"shoe_size": 9}}),
            "a refused update wrote nothing"
        );
        let unknown = app
            .call(
                Method::GET,
                "/profile/v1.0/user-attributes?slug=credit_limit",
                None,
                &token,
            )
            .await;
        assert_eq!(unknown.body["meta"]["field"], "slug");
        let (_, value) = app
            .send(
                Method::GET,
                &format!(
                    "/user_attribute/definition/{}/user/{customer}",
                    hidden["_id"].as_str().unwrap()
                ),
                None,
            )
            .await;
        assert_eq!(value["attribute"]["value"], 5000);
        app
    })
    .await;
}

#[tokio::test]
async fn a_v1_primary_change_needs_a_fresh_sign_in_or_a_proof_of_the_current_primary() {
    each_app(|app| async move {
        let token = app
            .register_proven("asha@example.com", "9876543210")
            .await
            .token
            .unwrap();
        let added = app
            .call(
                Method::PUT,
                "/profile/v1.0/mobile",
                Some(json!({"country_code": "91", "phone": "9876543211"})),
                &token,
            )
            .await;
        assert_eq!(added.status, StatusCode::OK, "{}", added.body);
        let code = app.data_sent_to("+919876543211").await["code"]
            .as_str()
            .unwrap()
            .to_owned();
        let verified = app
            .shop(
                Method::POST,
                "/authentication/v1.0/verify/mobile",
                Some(json!({"code": code})),
                None,
            )
            .await;
        assert_eq!(verified.status, StatusCode::OK, "{}", verified.body);

        // A session older than a code's life (say, a stolen one) cannot move the primary.
        app.clock.advance(chrono::Duration::minutes(11));
        let make_primary = |request_id: Option<String>| {
            let mut body = json!({"country_code": "91", "phone": "9876543211"});
            if let Some(id) = request_id {
                body["request_id"] = json!(id);
            }
            app.call(
                Method::POST,
                "/profile/v1.0/mobile/primary",
                Some(body),
                &token,
            )
        };
        let stale = make_primary(None).await;
        assert_eq!(stale.body["meta"]["field"], "request_id", "{}", stale.body);
        let forged = make_primary(Some("not-a-proof".to_owned())).await;
        assert_eq!(
            forged.body["meta"]["field"], "request_id",
            "{}",
            forged.body
        );

        let sent = app
            .call(
                Method::POST,
                "/profile/v2.0/mobile/primary/otp/send",
                Some(json!({"encrypt_otp": false})),
                &token,
            )
            .await;
        let code = app.data_sent_to("+919876543210").await["otp"]
            .as_str()
            .unwrap()
            .to_owned();
        let proven = app
            .call(
                Method::POST,
                "/profile/v2.0/mobile/primary/otp/verify",
                Some(json!({"otp": code, "request_id": sent.body["request_id"]})),
                &token,
            )
            .await;
        assert_eq!(proven.status, StatusCode::OK, "{}", proven.body);
        let grant = proven.body["request_id"].as_str().unwrap().to_owned();
        let changed = make_primary(Some(grant)).await;
        assert_eq!(changed.status, StatusCode::OK, "{}", changed.body);
        assert_eq!(
            changed.body["user"]["phone_numbers"][0]["phone"],
            "9876543211"
        );
        app
    })
    .await;
}
