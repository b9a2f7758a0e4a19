//! Storefront registration, password sign-in, lockout and password changes.

use chrono::Duration;
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

use crate::{each_app, read, Answer, PASSWORD};

#[tokio::test]
async fn registration_that_needs_verification_stays_pending() {
    each_app(|app| async move {
        let body = json!({"email": "asha@example.com", "password": PASSWORD, "phone": {"country_code": "91", "mobile": "9876543210"}});
        let answer = app.shop(Method::POST, "/authentication/v1.0/register/form", Some(body), None).await;
        assert_eq!(answer.status, StatusCode::OK, "{}", answer.body);
        assert_eq!((answer.body["verify_mobile_otp"].as_bool(), answer.body["verify_email_otp"].as_bool()), (Some(true), Some(false)));
        assert_eq!(answer.body["register_token"].as_str().unwrap().len(), 64);
        assert!(answer.token.is_none(), "not signed in yet");
        let (_, list) = app.list(&[]).await;
        assert_eq!(list["page"]["item_total"], 0, "no account until verified");
        app
    })
    .await;
}

#[tokio::test]
async fn registration_creates_and_signs_in() {
    each_app(|app| async move {
        let answer = app.register("Asha@Example.com", "9876543210").await;
        assert_eq!(answer.status, StatusCode::OK, "{}", answer.body);
        assert_eq!(answer.body["verify_mobile_otp"], false);
        let token = answer.token.expect("signed in");
        let (status, me, _) = app.whoami(&token).await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(me["user"]["emails"][0]["email"], "asha@example.com");
        assert_eq!(
            me["user"]["emails"][0]["verified"], false,
            "self-registered contacts are unverified"
        );
        let has = app
            .shop(
                Method::GET,
                "/authentication/v1.0/has-password",
                None,
                Some(&token),
            )
            .await;
        assert_eq!(has.body, json!({"result": 1}));

        // Contacts held unproven are not refused: the registrant must prove them first
        // (the proof then moves them), so a stranger cannot shut their owner out.
        let again = app.register("asha@example.com", "9876543219").await;
        assert_eq!(again.status, StatusCode::OK, "{}", again.body);
        assert_eq!(
            (
                &again.body["verify_email_otp"],
                &again.body["verify_mobile_otp"]
            ),
            (&json!(true), &json!(false))
        );
        assert!(
            again.token.is_none(),
            "no account until the email is proven"
        );
        let again = app.register("other@example.com", "+91 98765 43210").await;
        assert_eq!(
            (
                &again.body["verify_email_otp"],
                &again.body["verify_mobile_otp"]
            ),
            (&json!(false), &json!(true)),
            "{}",
            again.body
        );
        crate::execute_sql(&app, "UPDATE customer_emails SET verified = TRUE").await;
        let again = app.register("asha@example.com", "9876543218").await;
        assert_eq!(
            (again.status, again.body["code"].as_str()),
            (StatusCode::BAD_REQUEST, Some("EMAIL_ALREADY_EXISTS")),
            "a proven email is taken"
        );
        let (_, list) = app.list(&[]).await;
        assert_eq!(list["page"]["item_total"], 1);

        let exists = app
            .shop(
                Method::GET,
                "/authentication/v1.0/user-exists?q=ASHA@example.com",
                None,
                None,
            )
            .await;
        assert_eq!(exists.body, json!({"user_exists": true}));
        let exists = app
            .shop(
                Method::GET,
                "/authentication/v1.0/user-exists?q=919876543210",
                None,
                None,
            )
            .await;
        assert_eq!(exists.body, json!({"user_exists": true}));
        let exists = app
            .shop(
                Method::GET,
                "/authentication/v1.0/user-exists?q=nobody@example.com",
                None,
                None,
            )
            .await;
        assert_eq!(exists.body, json!({"user_exists": false}));
        // An application can turn the account oracle off.
        app.configure(json!({"user_exists_enabled": false})).await;
        let refused = app
            .shop(
                Method::GET,
                "/authentication/v1.0/user-exists?q=ASHA@example.com",
                None,
                None,
            )
            .await;
        assert_eq!(
            (refused.status, refused.body["code"].as_str()),
            (StatusCode::FORBIDDEN, Some("USER_EXISTS_DISABLED"))
        );
        app
    })
    .await;
}

#[tokio::test]
async fn registration_follows_the_configuration() {
    each_app(|app| async move {
        app.configure(json!({"register_required_fields": {"mobile": {"level": "soft"}, "email": {"is_required": true, "level": "soft"}}, "password_settings": {"configs": {"length": 12, "require_special_character": true}}})).await;
        let register = |body: Value| app.shop(Method::POST, "/authentication/v1.0/register/form", Some(body), None);
        let answer = register(json!({"password": "Long-enough-1", "phone": {"country_code": "91", "mobile": "9876543210"}})).await;
        assert_eq!((answer.status, answer.body["message"].as_str()), (StatusCode::BAD_REQUEST, Some("email: is required")));
        let answer = register(json!({"email": "a@example.com", "password": "short-1", "phone": {"country_code": "91", "mobile": "9876543210"}})).await;
        assert_eq!(answer.status, StatusCode::BAD_REQUEST);
        assert!(answer.body["message"].as_str().unwrap().starts_with("password: must be at least 12"), "{}", answer.body);
        let answer = register(json!({"email": "a@example.com", "password": "Long-enough-1", "phone": {"country_code": "91", "mobile": "12"}})).await;
        assert_eq!(answer.body["meta"]["field"], "phone.mobile");
        app.configure(json!({"register": false})).await;
        let answer = register(json!({"email": "a@example.com", "password": "Long-enough-1"})).await;
        assert_eq!((answer.status, answer.body["code"].as_str()), (StatusCode::FORBIDDEN, Some("REGISTRATION_DISABLED")));
        let (_, list) = app.list(&[]).await;
        assert_eq!(list["page"]["item_total"], 0);
        app
    })
    .await;
}

#[tokio::test]
async fn password_login_by_email_or_phone() {
    each_app(|app| async move {
        app.register("asha@example.com", "9876543210").await;
        for username in [
            "asha@example.com",
            "ASHA@example.com",
            "919876543210",
            "9876543210",
            "+91 98765 43210",
        ] {
            let answer = app.login(username, PASSWORD).await;
            assert_eq!(answer.status, StatusCode::OK, "{username}: {}", answer.body);
            assert_eq!(
                app.whoami(answer.token.as_deref().unwrap()).await.0,
                StatusCode::OK
            );
        }
        let wrong = app.login("asha@example.com", "Wrong-pass-1").await;
        let unknown = app.login("nobody@example.com", PASSWORD).await;
        assert_eq!(
            (wrong.status, unknown.status),
            (StatusCode::BAD_REQUEST, StatusCode::BAD_REQUEST)
        );
        assert_eq!(
            wrong.body["message"], unknown.body["message"],
            "unknown and wrong look the same"
        );
        assert_eq!(wrong.body["code"], "INVALID_CREDENTIALS");
        assert!(wrong.token.is_none());

        app.configure(json!({"login": {"password": false}})).await;
        let off = app.login("asha@example.com", PASSWORD).await;
        assert_eq!(off.body["code"], "PASSWORD_LOGIN_DISABLED");
        app
    })
    .await;
}

#[tokio::test]
async fn blocked_and_archived_customers_cannot_sign_in() {
    each_app(|app| async move {
        let answer = app.register("asha@example.com", "9876543210").await;
        let id = answer.body["user"]["_id"].as_str().unwrap().to_owned();
        app.send(
            Method::PUT,
            "/customers/activation",
            Some(json!({"status": false, "user_id": [id], "reason": "fraud"})),
        )
        .await;
        let blocked = app.login("asha@example.com", PASSWORD).await;
        assert_eq!(
            (blocked.status, blocked.body["code"].as_str()),
            (StatusCode::FORBIDDEN, Some("USER_BLOCKED"))
        );
        let wrong = app.login("asha@example.com", "Wrong-pass-1").await;
        assert_eq!(
            wrong.body["code"], "INVALID_CREDENTIALS",
            "the block is only revealed with the right password"
        );
        app.send(
            Method::PUT,
            "/customers/archive",
            Some(json!({"user_id": id})),
        )
        .await;
        let archived = app.login("asha@example.com", PASSWORD).await;
        assert_eq!(
            archived.body["code"], "INVALID_CREDENTIALS",
            "archived customers are unknown"
        );
        app
    })
    .await;
}

#[tokio::test]
async fn repeated_failures_lock_the_account() {
    each_app(|app| async move {
        app.register("asha@example.com", "9876543210").await;
        app.configure(json!({"account_lockout": {"enable": true, "attempts": 3, "duration": 10}}))
            .await;
        for _ in 0..2 {
            assert_eq!(
                app.login("asha@example.com", "Wrong-pass-1").await.body["code"],
                "INVALID_CREDENTIALS"
            );
        }
        assert_eq!(
            app.login("asha@example.com", PASSWORD).await.status,
            StatusCode::OK,
            "success resets the count"
        );
        for _ in 0..3 {
            assert_eq!(
                app.login("asha@example.com", "Wrong-pass-1").await.body["code"],
                "INVALID_CREDENTIALS"
            );
        }
        let locked = app.login("asha@example.com", PASSWORD).await;
        assert_eq!(
            (locked.status, locked.body["code"].as_str()),
            (StatusCode::FORBIDDEN, Some("ACCOUNT_LOCKED"))
        );
        assert!(locked.body["meta"]["retry_after"].is_string());
        app.clock.advance(Duration::minutes(10));
        assert_eq!(
            app.login("asha@example.com", PASSWORD).await.status,
            StatusCode::OK,
            "the lock lasts `duration` minutes"
        );
        app
    })
    .await;
}

/// The lock belongs to the account, not to the name it was reached by: failures through
/// the email (default policy: 5 failures lock for 15 minutes) lock sign-ins through the
/// phone number too, while a session opened before the lock keeps working.
#[tokio::test]
async fn a_lock_through_the_email_holds_for_the_phone_and_spares_open_sessions() {
    each_app(|app| async move {
        app.register("asha@example.com", "9876543210").await;
        assert_eq!(
            app.login("9876543210", PASSWORD).await.status,
            StatusCode::OK,
            "the phone number signs in before the lock"
        );
        let session = app
            .login("asha@example.com", PASSWORD)
            .await
            .token
            .expect("signed in");
        for _ in 0..5 {
            assert_eq!(
                app.login("asha@example.com", "Wrong-pass-1").await.body["code"],
                "INVALID_CREDENTIALS"
            );
        }
        for name in ["9876543210", "+919876543210", "asha@example.com"] {
            let locked = app.login(name, PASSWORD).await;
            assert_eq!(
                (locked.status, locked.body["code"].as_str()),
                (StatusCode::FORBIDDEN, Some("ACCOUNT_LOCKED")),
                "{name}: {}",
                locked.body
            );
            assert!(locked.token.is_none(), "{name}: no session while locked");
        }
        let (status, me, _) = app.whoami(&session).await;
        assert_eq!(status, StatusCode::OK, "the open session still works: {me}");
        assert_eq!(me["user"]["emails"][0]["email"], "asha@example.com");
        app.clock.advance(Duration::minutes(14));
        assert_eq!(
            app.login("9876543210", PASSWORD).await.body["code"],
            "ACCOUNT_LOCKED",
            "the default lock lasts 15 minutes"
        );
        app.clock.advance(Duration::minutes(1));
        assert_eq!(
            app.login("9876543210", PASSWORD).await.status,
            StatusCode::OK,
            "the lock ends for the phone number too"
        );
        app
    })
    .await;
}

/// An answer as a script probing for accounts sees it: status and body, less the request id.
fn seen(answer: &Answer) -> (StatusCode, String) {
    let mut body = answer.body.clone();
    body.as_object_mut().unwrap().remove("request_id");
    (answer.status, body.to_string())
}

#[tokio::test]
async fn names_with_and_without_an_account_answer_alike_through_the_lockout() {
    each_app(|app| async move {
        app.register("asha@example.com", "9876543210").await;
        app.register("ravi@example.com", "9812345678").await;
        app.configure(json!({"account_lockout": {"enable": true, "attempts": 3, "duration": 10}}))
            .await;
        let mut answers = Vec::new();
        for name in [
            "asha@example.com",
            "nobody@example.com",
            "9812345678",
            "9123456780",
        ] {
            let mut seen_for_name = Vec::new();
            for _ in 0..5 {
                seen_for_name.push(seen(&app.login(name, "Wrong-pass-1").await));
            }
            answers.push(seen_for_name);
        }
        assert_eq!(answers[0][3].0, StatusCode::FORBIDDEN, "{:?}", answers[0]);
        assert!(answers[0][3].1.contains("ACCOUNT_LOCKED"));
        for other in &answers[1..] {
            assert_eq!(
                other, &answers[0],
                "an unknown name answers like a known one"
            );
        }
        // The lock of a name that matches no one lasts as long, and ends alike.
        app.clock.advance(Duration::minutes(10));
        assert_eq!(
            app.login("nobody@example.com", "Wrong-pass-1").await.body["code"],
            "INVALID_CREDENTIALS"
        );
        assert_eq!(
            app.login("asha@example.com", PASSWORD).await.status,
            StatusCode::OK
        );
        app
    })
    .await;
}

#[tokio::test]
async fn an_address_has_a_budget_of_failed_sign_ins_per_minute() {
    each_app(|app| async move {
        app.register("asha@example.com", "9876543210").await;
        // Right passwords cost nothing from the budget.
        for _ in 0..3 {
            assert_eq!(
                app.login("asha@example.com", PASSWORD).await.status,
                StatusCode::OK
            );
        }
        for i in 0..60 {
            let answer = app
                .login(&format!("guess{i}@example.com"), "Wrong-pass-1")
                .await;
            assert_eq!(answer.body["code"], "INVALID_CREDENTIALS", "attempt {i}");
        }
        let refused = app.login("asha@example.com", PASSWORD).await;
        assert_eq!(
            (refused.status, refused.body["code"].as_str()),
            (StatusCode::TOO_MANY_REQUESTS, Some("SIGN_IN_LIMIT_REACHED"))
        );
        assert_eq!(refused.retry_after, Some(60));
        // A forged X-Forwarded-For from an untrusted peer changes nothing.
        let forged = app
            .storefront(Method::POST, "/authentication/v1.0/login/password")
            .header("x-forwarded-for", "198.51.100.23")
            .json(&json!({"username": "asha@example.com", "password": PASSWORD}))
            .send()
            .await
            .unwrap();
        assert_eq!(forged.status(), StatusCode::TOO_MANY_REQUESTS);
        app.clock.advance(Duration::minutes(1));
        assert_eq!(
            app.login("asha@example.com", PASSWORD).await.status,
            StatusCode::OK
        );
        app
    })
    .await;
}

#[tokio::test]
async fn concurrent_guesses_cannot_exceed_the_limit() {
    each_app(|app| async move {
        app.register("asha@example.com", "9876543210").await;
        app.configure(json!({"account_lockout": {"enable": true, "attempts": 3, "duration": 10}})).await;
        let guesses: Vec<_> = (0..10)
            .map(|i| {
                app.storefront(Method::POST, "/authentication/v1.0/login/password")
                    .json(&json!({"username": "asha@example.com", "password": format!("Wrong-pass-{i}")}))
                    .send()
            })
            .map(tokio::spawn)
            .collect();
        let mut codes = Vec::new();
        for guess in guesses {
            let (_, body) = read(guess.await.unwrap().unwrap()).await;
            codes.push(body["code"].as_str().unwrap().to_owned());
        }
        let checked = codes.iter().filter(|c| *c == "INVALID_CREDENTIALS").count();
        let locked = codes.iter().filter(|c| *c == "ACCOUNT_LOCKED").count();
        assert_eq!((checked, locked), (3, 7), "{codes:?}");
        app
    })
    .await;
}

#[tokio::test]
async fn expired_passwords_must_be_reset() {
    each_app(|app| async move {
        app.register("asha@example.com", "9876543210").await;
        app.configure(json!({"password_settings": {"expiry": {"required": true, "duration": 30}}}))
            .await;
        assert_eq!(
            app.login("asha@example.com", PASSWORD).await.status,
            StatusCode::OK
        );
        app.clock.advance(Duration::days(30));
        let expired = app.login("asha@example.com", PASSWORD).await;
        assert_eq!(
            (expired.status, expired.body["code"].as_str()),
            (StatusCode::FORBIDDEN, Some("PASSWORD_EXPIRED"))
        );
        app
    })
    .await;
}

#[tokio::test]
async fn changing_the_password_applies_the_rules_and_ends_other_sessions() {
    each_app(|app| async move {
        let registered = app.register("asha@example.com", "9876543210").await;
        let current = registered.token.unwrap();
        let other = app.login("asha@example.com", PASSWORD).await.token.unwrap();
        app.configure(json!({"password_settings": {"history": {"required": true, "count": 2}}}))
            .await;
        let change = |old: &str, new: &str| {
            app.shop(
                Method::POST,
                "/authentication/v1.0/password",
                Some(json!({"old_password": old, "new_password": new})),
                Some(&current),
            )
        };
        assert_eq!(
            change("Wrong-pass-1", "Brand-new-1").await.body["meta"]["field"],
            "old_password"
        );
        assert_eq!(
            change(PASSWORD, "weak").await.body["meta"]["field"],
            "new_password"
        );
        let reuse = change(PASSWORD, PASSWORD).await;
        assert_eq!(reuse.status, StatusCode::BAD_REQUEST);
        assert!(
            reuse.body["message"].as_str().unwrap().contains("last 2"),
            "{}",
            reuse.body
        );
        let changed = change(PASSWORD, "Brand-new-1").await;
        assert_eq!(
            (changed.status, changed.body["message"].as_str()),
            (StatusCode::OK, Some("success"))
        );
        assert_eq!(
            app.whoami(&current).await.0,
            StatusCode::OK,
            "the current session stays"
        );
        assert_eq!(
            app.whoami(&other).await.0,
            StatusCode::UNAUTHORIZED,
            "other sessions end"
        );
        assert_eq!(
            app.login("asha@example.com", PASSWORD).await.status,
            StatusCode::BAD_REQUEST
        );
        assert_eq!(
            app.login("asha@example.com", "Brand-new-1").await.status,
            StatusCode::OK
        );
        let back = change("Brand-new-1", PASSWORD).await;
        assert_eq!(
            back.status,
            StatusCode::BAD_REQUEST,
            "the previous password is in the history"
        );
        app
    })
    .await;
}

#[tokio::test]
async fn admin_created_customers_have_no_password() {
    each_app(|app| async move {
        let id = app.create_customer("asha@example.com", "9876543210").await;
        let token = app.admin_session(&id, None).await;
        let has = app
            .shop(
                Method::GET,
                "/authentication/v1.0/has-password",
                None,
                Some(&token),
            )
            .await;
        assert_eq!(has.body, json!({"result": 0}));
        assert_eq!(
            app.login("asha@example.com", "anything-1").await.body["code"],
            "INVALID_CREDENTIALS"
        );
        let set = app
            .shop(
                Method::POST,
                "/authentication/v1.0/password",
                Some(json!({"new_password": "First-pass-1"})),
                Some(&token),
            )
            .await;
        assert_eq!(set.status, StatusCode::OK, "{}", set.body);
        assert_eq!(
            app.login("asha@example.com", "First-pass-1").await.status,
            StatusCode::OK
        );
        app
    })
    .await;
}

#[tokio::test]
async fn imported_hashes_sign_in_with_the_old_password_and_become_argon2id() {
    each_app(|app| async move {
        app.register("asha@example.com", "9876543210").await;
        let id = app.list(&[]).await.1["items"][0]["_id"].as_str().unwrap().to_owned();
        // `Migrated-1` as other systems hashed it (Python's bcrypt and hashlib).
        for imported in [
            "$2b$04$84We4RugYbRxft8iPfcru.FEu2fWsJxhEBknAO8YN3ZVbhGnbZh2S",
            "$2y$04$84We4RugYbRxft8iPfcru.FEu2fWsJxhEBknAO8YN3ZVbhGnbZh2S",
            "$pbkdf2-sha256$i=1000,l=32$cGF0cm9uLXNhbHQtMTIzNA$xRMvPn1Yr87LxixdIRrKUNd01+hYJXYhnYvLERxLjFE",
            "$pbkdf2-sha512$i=1000,l=64$cGF0cm9uLXNhbHQtMTIzNA$gMzFkhkxtaBiFq2gyzwC9wR9OBv434UnLKB/ui5UkIizmSbnOIk5LwPdqyT6KpW4KL4oaHv/A9OcJfo8OtZbbQ",
            "$scrypt$ln=10,r=8,p=1$cGF0cm9uLXNhbHQtMTIzNA$exwQZ2GvidpUUH5Aca6xeVDDSHwLLdrDQrisrkWzzXA",
        ] {
            crate::execute_sql(
                &app,
                &format!(
                    "UPDATE customer_credentials SET password_hash = '{imported}' WHERE \
                     customer_id = '{id}'"
                ),
            )
            .await;
            let wrong = app.login("asha@example.com", PASSWORD).await;
            assert_eq!(wrong.body["code"], "INVALID_CREDENTIALS", "{imported}");
            let signed_in = app.login("asha@example.com", "Migrated-1").await;
            assert_eq!(signed_in.status, StatusCode::OK, "{imported}: {}", signed_in.body);
            let stored = crate::text_rows(
                &app,
                &format!("SELECT password_hash FROM customer_credentials WHERE customer_id = '{id}'"),
            )
            .await;
            assert!(stored[0].starts_with("$argon2id$"), "rehashed: {}", stored[0]);
            let again = app.login("asha@example.com", "Migrated-1").await;
            assert_eq!(again.status, StatusCode::OK, "the new hash holds the same password");
        }
        app
    })
    .await;
}
