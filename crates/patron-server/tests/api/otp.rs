//! One-time passwords over HTTP: sign-up and sign-in with the default configuration,
//! attempts that survive resends, resend timing, send budgets (also under concurrent sends),
//! registration codes, forgot-password codes, profile contacts, and refusals.

use chrono::Duration;
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

use crate::{each_app, TestApp, PASSWORD};

const NEW_PASSWORD: &str = "Fr3sh-secret";

#[tokio::test]
async fn the_default_configuration_signs_up_a_new_shopper_by_otp() {
    each_app(|app| async move {
        let sent = app.login_code("9136425497").await;
        assert_eq!(sent.status, StatusCode::OK, "{}", sent.body);
        assert_eq!(sent.body["mobile"], "9136425497");
        assert_eq!(sent.body["country_code"], "91");
        assert_eq!(sent.body["resend_timer"], 30);
        assert!(
            sent.body.get("user_exists").is_none(),
            "the send reveals nothing"
        );
        let request_id = sent.body["request_id"].as_str().unwrap().to_owned();
        let (code, _) = app.code_sent_to("+919136425497").await;
        assert_eq!(code.len(), 4, "four digits by default");
        let stored = crate::text_rows(&app, "SELECT code_hash FROM otp_challenges").await;
        // A 64-digit hex digest contains a given 4-digit string now and then (about 0.6%),
        // so the check is that what is kept is a digest, not the code or its plain hash.
        assert!(
            stored[0].len() == 64
                && stored[0].bytes().all(|b| b.is_ascii_hexdigit())
                && stored[0] != patron_domain::secret::digest(&code),
            "only a keyed hash is kept"
        );

        let verified = app.verify_mobile(&request_id, &code, None).await;
        assert_eq!(verified.status, StatusCode::OK, "{}", verified.body);
        assert_eq!(verified.body["user_exists"], false);
        assert!(verified.token.is_none());
        let register_token = verified.body["register_token"].as_str().unwrap().to_owned();
        let again = app.verify_mobile(&request_id, &code, None).await;
        assert_eq!(again.body["code"], "INVALID_OTP", "a code works once");

        let profile = app
            .post(
                "/profile/v1.0/detail",
                json!({"first_name": "Asha", "last_name": "Rao", "gender": "female",
                       "email": "asha@example.com", "register_token": register_token}),
                None,
            )
            .await;
        assert_eq!(profile.status, StatusCode::OK, "{}", profile.body);
        let session = profile
            .token
            .clone()
            .expect("the completed sign-up signs in");
        let user = &profile.body["user"];
        assert_eq!(user["first_name"], "Asha");
        assert_eq!(user["phone_numbers"][0]["phone"], "9136425497");
        assert_eq!(user["phone_numbers"][0]["verified"], true);
        assert_eq!(user["phone_numbers"][0]["primary"], true);
        assert_eq!(
            user["emails"][0]["verified"], false,
            "a new email waits for its code"
        );
        assert_eq!(profile.body["verify_email_otp"], true);
        let reused = app
            .post(
                "/profile/v1.0/detail",
                json!({"first_name": "Eve", "register_token": register_token}),
                None,
            )
            .await;
        assert_eq!(
            reused.body["code"], "INVALID_REGISTER_TOKEN",
            "the token works once"
        );

        let (email_code, _) = app.code_sent_to("asha@example.com").await;
        let proven = app
            .post(
                "/authentication/v1.0/otp/email/verify",
                json!({"email": "asha@example.com", "otp": email_code}),
                Some(&session),
            )
            .await;
        assert_eq!(proven.status, StatusCode::OK, "{}", proven.body);
        assert_eq!(proven.body["user"]["emails"][0]["verified"], true);
        assert_eq!(proven.body["user"]["emails"][0]["primary"], true);

        app.clock.advance(Duration::seconds(31));
        let second = app.login_code("9136425497").await;
        let (code, _) = app.code_sent_to("+919136425497").await;
        let signed_in = app
            .verify_mobile(second.body["request_id"].as_str().unwrap(), &code, None)
            .await;
        assert_eq!(signed_in.body["user_exists"], true, "{}", signed_in.body);
        assert_eq!(signed_in.body["user"]["first_name"], "Asha");
        let token = signed_in.token.expect("signed in");
        let (status, me, _) = app.whoami(&token).await;
        assert_eq!(
            (status, &me["user"]["last_name"]),
            (StatusCode::OK, &json!("Rao"))
        );
        let (_, list) = app.list(&[]).await;
        assert_eq!(list["page"]["item_total"], 1);
        app
    })
    .await;
}

#[tokio::test]
async fn a_challenge_dies_after_five_wrong_codes_however_often_it_is_resent() {
    each_app(|app| async move {
        let sent = app.login_code("9876543210").await;
        let request_id = sent.body["request_id"].as_str().unwrap().to_owned();
        let resend_token = sent.body["resend_token"].as_str().unwrap().to_owned();
        let (code, _) = app.code_sent_to("+919876543210").await;
        for _ in 0..2 {
            let wrong = app.verify_mobile(&request_id, &TestApp::wrong(&code), None).await;
            assert_eq!((wrong.status, wrong.body["code"].as_str()), (StatusCode::BAD_REQUEST, Some("INVALID_OTP")));
        }
        let resend = json!({"mobile": "9876543210", "country_code": "91", "action": "resend", "token": resend_token});
        app.clock.advance(Duration::seconds(10));
        let early = app.post("/authentication/v1.0/otp/mobile/send", resend.clone(), None).await;
        assert_eq!(early.status, StatusCode::TOO_MANY_REQUESTS, "{}", early.body);
        assert_eq!(early.body["code"], "OTP_RESEND_TOO_EARLY");
        assert_eq!(early.retry_after, Some(20));
        assert!(early.body["message"].as_str().unwrap().contains("20 seconds"));
        assert_eq!(app.messages_to("+919876543210").await, 1, "nothing sent");

        app.clock.advance(Duration::seconds(20));
        let resent = app.post("/authentication/v1.0/otp/mobile/send", resend.clone(), None).await;
        assert_eq!(resent.status, StatusCode::OK, "{}", resent.body);
        assert_eq!(resent.body["request_id"], request_id.as_str(), "a resend keeps the request_id");
        let (new_code, count) = app.code_sent_to("+919876543210").await;
        assert_eq!(count, 2);
        for _ in 0..3 {
            let wrong = app.verify_mobile(&request_id, &TestApp::wrong(&new_code), None).await;
            assert_eq!(wrong.body["code"], "INVALID_OTP");
        }
        let dead = app.verify_mobile(&request_id, &new_code, None).await;
        assert_eq!(
            (dead.status, dead.body["code"].as_str()),
            (StatusCode::BAD_REQUEST, Some("OTP_ATTEMPTS_EXCEEDED")),
            "five wrong answers in all, across the resend"
        );
        assert!(dead.token.is_none());
        app
    })
    .await;
}

#[tokio::test]
async fn codes_expire_and_malformed_answers_are_refused() {
    each_app(|app| async move {
        let sent = app.login_code("9876543210").await;
        let request_id = sent.body["request_id"].as_str().unwrap().to_owned();
        let (code, _) = app.code_sent_to("+919876543210").await;
        for (request_id, otp) in [
            ("", code.as_str()),
            (request_id.as_str(), ""),
            (request_id.as_str(), "12ab"),
            ("nope", code.as_str()),
        ] {
            let answer = app.verify_mobile(request_id, otp, None).await;
            assert_eq!(answer.status, StatusCode::BAD_REQUEST, "{}", answer.body);
        }
        app.clock.advance(Duration::minutes(11));
        let late = app.verify_mobile(&request_id, &code, None).await;
        assert_eq!(
            late.body["code"], "INVALID_OTP",
            "expired after ten minutes"
        );
        let bad = app
            .post(
                "/authentication/v1.0/login/otp",
                json!({"mobile": "12345", "country_code": "91"}),
                None,
            )
            .await;
        assert_eq!(
            (bad.status, bad.body["code"].as_str()),
            (StatusCode::BAD_REQUEST, Some("VALIDATION_ERROR"))
        );
        let bad = app
            .post(
                "/authentication/v1.0/otp/mobile/send",
                json!({"mobile": "9876543210", "country_code": "91", "action": "again"}),
                None,
            )
            .await;
        assert_eq!(bad.body["meta"]["field"], "action");
        app
    })
    .await;
}

#[tokio::test]
async fn send_budgets_hold_under_concurrent_sends_and_say_when_to_retry() {
    each_app(|app| async move {
        let sends = (0..20).map(|_| {
            let request = app
                .storefront(Method::POST, "/authentication/v1.0/login/otp")
                .json(&json!({"mobile": "9876543210", "country_code": "91"}));
            tokio::spawn(async move { request.send().await.unwrap().status() })
        });
        let mut statuses = Vec::new();
        for send in sends {
            statuses.push(send.await.unwrap());
        }
        let sent = statuses.iter().filter(|s| **s == StatusCode::OK).count();
        let refused = statuses
            .iter()
            .filter(|s| **s == StatusCode::TOO_MANY_REQUESTS)
            .count();
        assert_eq!((sent, refused), (5, 15), "five sends an hour per number");
        assert_eq!(
            app.messages_to("+919876543210").await,
            5,
            "refused sends send nothing"
        );

        let over = app.login_code("9876543210").await;
        assert_eq!(over.body["code"], "OTP_LIMIT_REACHED");
        assert_eq!(over.body["meta"]["limit"], "target");
        assert_eq!(over.retry_after, Some(3600));

        app.configure(json!({"otp": {"country_codes": [44]}})).await;
        let refused = app.login_code("9876543299").await;
        assert_eq!(
            (refused.status, refused.body["meta"]["field"].as_str()),
            (StatusCode::BAD_REQUEST, Some("country_code"))
        );
        app.configure(json!({"otp": {"country_codes": [], "per_address": 7, "per_target": 100}}))
            .await;
        let mut answers = Vec::new();
        for i in 0..4 {
            answers.push(app.login_code(&format!("98765432{i:02}")).await);
        }
        let sent = answers
            .iter()
            .filter(|a| a.status == StatusCode::OK)
            .count();
        assert_eq!(sent, 2, "one address: seven sends an hour, five used");
        assert_eq!(answers[3].body["meta"]["limit"], "address");

        app.clock.advance(Duration::minutes(61));
        assert_eq!(
            app.login_code("9876543210").await.status,
            StatusCode::OK,
            "the window slid"
        );
        app
    })
    .await;
}

#[tokio::test]
async fn a_registration_needing_both_contacts_completes_after_both_codes() {
    each_app(|app| async move {
        app.configure(json!({"register_required_fields": {"email": {"is_required": true, "level": "hard"}}}))
            .await;
        let registered = app
            .post(
                "/authentication/v1.0/register/form",
                json!({"first_name": "Meera", "email": "meera@example.com", "password": PASSWORD,
                       "phone": {"country_code": "91", "mobile": "9876500001"}, "register_token": ""}),
                None,
            )
            .await;
        assert_eq!(registered.status, StatusCode::OK, "{}", registered.body);
        assert_eq!((registered.body["verify_mobile_otp"].as_bool(), registered.body["verify_email_otp"].as_bool()), (Some(true), Some(true)));
        let register_token = registered.body["register_token"].as_str().unwrap().to_owned();
        let request_id = registered.body["request_id"].as_str().unwrap().to_owned();
        assert!(registered.body["resend_email_token"].as_str().is_some());
        let (mobile_code, _) = app.code_sent_to("+919876500001").await;
        let (email_code, _) = app.code_sent_to("meera@example.com").await;

        let skipped = app
            .post(
                "/profile/v1.0/detail",
                json!({"first_name": "Meera", "register_token": register_token}),
                None,
            )
            .await;
        assert_eq!(
            skipped.body["code"], "INVALID_REGISTER_TOKEN",
            "a form registration cannot skip its codes through updateProfile"
        );
        let wrong_token = app
            .post(
                "/authentication/v1.0/otp/mobile/verify",
                json!({"request_id": request_id, "otp": mobile_code, "register_token": "0".repeat(64)}),
                None,
            )
            .await;
        assert_eq!(
            wrong_token.body["code"], "INVALID_OTP",
            "a code bound to another registration is refused, and stays usable"
        );
        app.clock.advance(Duration::seconds(31));
        let resent = app
            .post(
                "/authentication/v1.0/otp/mobile/send",
                json!({"mobile": "9876500001", "country_code": "91", "action": "resend",
                       "token": registered.body["resend_token"]}),
                None,
            )
            .await;
        assert_eq!(resent.status, StatusCode::OK, "{}", resent.body);
        let (mobile_code, _) = app.code_sent_to("+919876500001").await;
        let first = app
            .post(
                "/authentication/v1.0/otp/mobile/verify",
                json!({"request_id": request_id, "otp": mobile_code, "register_token": register_token}),
                None,
            )
            .await;
        assert_eq!(first.status, StatusCode::OK, "{}", first.body);
        assert_eq!(first.body["user_exists"], false, "the email is still to be proven");
        assert!(first.token.is_none());
        let second = app
            .post(
                "/authentication/v1.0/otp/email/verify",
                json!({"email": "meera@example.com", "otp": email_code, "action": "register", "register_token": register_token}),
                None,
            )
            .await;
        assert_eq!(second.status, StatusCode::OK, "{}", second.body);
        assert_eq!(second.body["user_exists"], true);
        assert!(second.token.is_some(), "the completed registration signs in");
        let user = &second.body["user"];
        assert_eq!((user["emails"][0]["verified"].as_bool(), user["phone_numbers"][0]["verified"].as_bool()), (Some(true), Some(true)));
        assert_eq!(app.login("meera@example.com", PASSWORD).await.status, StatusCode::OK, "the form's password works");
        app
    })
    .await;
}

#[tokio::test]
async fn a_forgotten_password_is_reset_with_a_code_and_unknown_numbers_learn_nothing() {
    each_app(|app| async move {
        app.register_proven("asha@example.com", "9876543210").await;
        let send = |mobile: &'static str| {
            app.post(
                "/authentication/v1.0/otp/forgot/mobile/send",
                json!({"mobile": mobile, "country_code": "91", "action": "send", "token": "", "android_hash": "FA+9qCX9VSu"}),
                None,
            )
        };
        let known = send("9876543210").await;
        let unknown = send("9876543219").await;
        assert_eq!(known.status, StatusCode::OK, "{}", known.body);
        assert_eq!(unknown.status, StatusCode::OK);
        let keys = |body: &Value| body.as_object().unwrap().keys().cloned().collect::<Vec<_>>();
        assert_eq!(keys(&known.body), keys(&unknown.body), "the same answer for unknown numbers");
        assert_eq!(app.messages_to("+919876543219").await, 0);
        let (code, _) = app.code_sent_to("+919876543210").await;
        let messages = app.outbox(1).await.unwrap();
        assert!(messages[0].message.text.ends_with("\nFA+9qCX9VSu"), "{}", messages[0].message.text);

        let verify = |request_id: Value, otp: String| {
            app.post(
                "/authentication/v1.0/otp/forgot/mobile/verify",
                json!({"request_id": request_id, "otp": otp}),
                None,
            )
        };
        let nothing = verify(unknown.body["request_id"].clone(), code.clone()).await;
        assert_eq!(nothing.body["code"], "INVALID_OTP");
        let proven = verify(known.body["request_id"].clone(), code).await;
        assert_eq!(proven.status, StatusCode::OK, "{}", proven.body);
        let forgot_token = proven.body["forgot_token"].as_str().unwrap().to_owned();
        let reset = app
            .post("/authentication/v1.0/login/password/forgot", json!({"code": forgot_token, "password": NEW_PASSWORD}), None)
            .await;
        assert_eq!(reset.body, json!({"success": true}));
        assert_eq!(app.login("asha@example.com", NEW_PASSWORD).await.status, StatusCode::OK);

        let by_email = app
            .post("/authentication/v1.0/otp/forgot/email/send", json!({"email": "asha@example.com", "action": "send"}), None)
            .await;
        assert!(by_email.body["resend_email_token"].as_str().is_some(), "{}", by_email.body);
        let (code, _) = app.code_sent_to("asha@example.com").await;
        let proven = app
            .post("/authentication/v1.0/otp/forgot/email/verify", json!({"email": "asha@example.com", "otp": code}), None)
            .await;
        assert!(proven.body["forgot_token"].as_str().is_some(), "{}", proven.body);
        app
    })
    .await;
}

#[tokio::test]
async fn otp_sign_in_refuses_when_turned_off_and_for_blocked_customers() {
    each_app(|app| async move {
        let id = app.create_customer("asha@example.com", "9876543210").await;
        let (status, _) = app
            .send(
                Method::PUT,
                "/customers/activation",
                Some(json!({"user_id": [id], "status": false, "reason": "fraud"})),
            )
            .await;
        assert_eq!(status, StatusCode::OK);
        let sent = app.login_code("9876543210").await;
        let (code, _) = app.code_sent_to("+919876543210").await;
        let refused = app
            .verify_mobile(sent.body["request_id"].as_str().unwrap(), &code, None)
            .await;
        assert_eq!(
            (refused.status, refused.body["code"].as_str()),
            (StatusCode::FORBIDDEN, Some("USER_BLOCKED"))
        );
        assert!(refused.token.is_none());

        app.configure(json!({"login": {"otp": false}})).await;
        let off = app.login_code("9876543211").await;
        assert_eq!(
            (off.status, off.body["code"].as_str()),
            (StatusCode::BAD_REQUEST, Some("OTP_LOGIN_DISABLED"))
        );
        app
    })
    .await;
}

#[tokio::test]
async fn a_signed_in_shopper_adds_and_proves_a_new_mobile() {
    each_app(|app| async move {
        let token = app.register("asha@example.com", "9876543210").await.token.unwrap();
        app.create_customer("bela@example.com", "9876543219").await;
        let edited = app
            .post(
                "/profile/v1.0/detail",
                json!({"first_name": "Asha", "dob": "1990-04-01", "mobile": {"phone": "9876543211", "country_code": "91"}}),
                Some(&token),
            )
            .await;
        assert_eq!(edited.status, StatusCode::OK, "{}", edited.body);
        assert_eq!(edited.body["verify_mobile_otp"], true);
        assert_eq!(edited.body["mobile"], "9876543211");
        assert_eq!(edited.body["user"]["dob"], "1990-04-01");
        let phones = edited.body["user"]["phone_numbers"].as_array().unwrap().clone();
        assert_eq!(phones.len(), 2);
        assert_eq!((phones[1]["verified"].as_bool(), phones[1]["primary"].as_bool()), (Some(false), Some(false)));
        let (code, _) = app.code_sent_to("+919876543211").await;
        let proven = app
            .verify_mobile(edited.body["request_id"].as_str().unwrap(), &code, Some(&token))
            .await;
        assert_eq!(proven.status, StatusCode::OK, "{}", proven.body);
        let phones = proven.body["user"]["phone_numbers"].as_array().unwrap().clone();
        assert!(phones.iter().any(|p| p["phone"] == "9876543211" && p["verified"] == true));

        let taken = app
            .post("/profile/v1.0/detail", json!({"email": "bela@example.com"}), Some(&token))
            .await;
        assert_eq!((taken.status, taken.body["code"].as_str()), (StatusCode::BAD_REQUEST, Some("EMAIL_ALREADY_EXISTS")));
        let taken = app
            .post("/authentication/v1.0/otp/mobile/send", json!({"mobile": "9876543219", "country_code": "91"}), Some(&token))
            .await;
        assert_eq!(taken.body["code"], "PHONE_ALREADY_EXISTS");
        let anonymous = app.post("/profile/v1.0/detail", json!({"first_name": "X"}), None).await;
        assert_eq!(anonymous.status, StatusCode::UNAUTHORIZED);
        app
    })
    .await;
}
