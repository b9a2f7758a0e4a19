//! Budgets under an adversary: wrong codes capped per target across codes and networks,
//! reset mail and registrations budgeted before any mail or hash, wrong old passwords
//! counted, returning shoppers' devices keeping their codes through a flood, per-country
//! budgets, and "is this contact taken" rationed per network.

use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

use crate::{each_app, each_proxied_app, text_rows, Raw, TestApp, PASSWORD};

#[tokio::test]
async fn wrong_codes_are_capped_per_target_across_fresh_codes_and_addresses() {
    each_proxied_app(|app| async move {
        app.register_proven("asha@example.com", "9876543210").await;
        app.configure(json!({"otp": {"per_target": 1000, "per_address": 1000, "resend_timer": 0}}))
            .await;
        let attacker = "203.0.113.7";
        // Nine wrong answers over fresh codes (each code allows five), one right one
        // (not counted), one more wrong: the tenth wrong answer is still heard.
        for _ in 0..3 {
            let (request_id, code) = app.fresh_code(attacker).await;
            for _ in 0..3 {
                let wrong = app
                    .answer_from(attacker, &request_id, &TestApp::wrong(&code))
                    .await;
                assert_eq!(wrong, (StatusCode::BAD_REQUEST, "INVALID_OTP".to_owned()));
            }
        }
        let (request_id, code) = app.fresh_code(attacker).await;
        assert_eq!(
            app.answer_from(attacker, &request_id, &code).await.0,
            StatusCode::OK
        );
        let (request_id, code) = app.fresh_code(attacker).await;
        let tenth = app
            .answer_from(attacker, &request_id, &TestApp::wrong(&code))
            .await;
        assert_eq!(tenth.1, "INVALID_OTP");
        let capped = app.answer_from(attacker, &request_id, &code).await;
        assert_eq!(
            capped,
            (
                StatusCode::TOO_MANY_REQUESTS,
                "OTP_ATTEMPTS_EXCEEDED".to_owned()
            ),
            "past ten wrong answers from one network even the right code is refused"
        );
        // An IPv6 /64 is one network, whichever of its addresses answers.
        let mut wrong_from_network = 0;
        while wrong_from_network < 10 {
            let (request_id, code) = app.fresh_code("2001:db8:7:7::1").await;
            for host in 1..=4 {
                if wrong_from_network == 10 {
                    break;
                }
                let client = format!("2001:db8:7:7:{host}::{wrong_from_network}");
                let wrong = app
                    .answer_from(&client, &request_id, &TestApp::wrong(&code))
                    .await;
                assert_eq!(wrong.1, "INVALID_OTP");
                wrong_from_network += 1;
            }
        }
        let (request_id, code) = app.fresh_code("2001:db8:7:7::1").await;
        assert_eq!(
            app.answer_from("2001:db8:7:7:ffff::9", &request_id, &code)
                .await
                .0,
            StatusCode::TOO_MANY_REQUESTS,
            "an IPv6 /64 is one network"
        );

        // From many networks, thirty wrong answers in all close the target's codes.
        app.answer_wrong_until(20, 30).await;
        let (request_id, code) = app.fresh_code("192.0.2.200").await;
        assert_eq!(
            app.answer_from("192.0.2.200", &request_id, &code).await,
            (
                StatusCode::TOO_MANY_REQUESTS,
                "OTP_ATTEMPTS_EXCEEDED".to_owned()
            ),
            "thirty wrong answers from anywhere close the number's codes"
        );

        app.clock.advance(chrono::Duration::hours(24));
        let (request_id, code) = app.fresh_code(attacker).await;
        assert_eq!(
            app.answer_from(attacker, &request_id, &code).await.0,
            StatusCode::OK,
            "a day later the codes work again"
        );
        app
    })
    .await;
}

#[tokio::test]
async fn reset_mail_is_budgeted_alike_for_known_and_unknown_addresses() {
    each_proxied_app(|app| async move {
        app.register_proven("asha@example.com", "9876543210").await;
        let mut answers = Vec::new();
        for email in ["asha@example.com", "nobody@example.com"] {
            let mut statuses = Vec::new();
            for client in 1..=40 {
                let (status, body) = app
                    .from(
                        &format!("198.51.100.{client}"),
                        "/authentication/v1.0/login/password/reset",
                        json!({"email": email}),
                    )
                    .await;
                if status == StatusCode::TOO_MANY_REQUESTS {
                    assert_eq!(body["code"], "OTP_LIMIT_REACHED", "{body}");
                    assert_eq!(body["meta"]["limit"], "target", "{body}");
                }
                statuses.push(status);
            }
            answers.push(statuses);
        }
        assert_eq!(
            answers[0], answers[1],
            "unknown addresses answer as known ones"
        );
        let sent = answers[0].iter().filter(|s| **s == StatusCode::OK).count();
        assert_eq!(sent, 5, "the default budget of one address is five an hour");
        assert_eq!(
            app.messages_to("asha@example.com").await,
            5,
            "five mails, not forty"
        );
        app
    })
    .await;
}

#[tokio::test]
async fn wrong_old_passwords_count_toward_the_lockout() {
    each_app(|app| async move {
        let registered = app.register("asha@example.com", "9876543210").await;
        let session = registered.token.unwrap();
        app.configure(json!({"account_lockout": {"enable": true, "attempts": 3, "duration": 10}}))
            .await;
        let change = |old: &'static str| {
            app.shop(
                Method::POST,
                "/authentication/v1.0/password",
                Some(json!({"old_password": old, "new_password": "Brand-new-1"})),
                Some(&session),
            )
        };
        for _ in 0..3 {
            let wrong = change("Wrong-pass-1").await;
            assert_eq!(
                wrong.body["meta"]["field"], "old_password",
                "{}",
                wrong.body
            );
        }
        let locked = change(PASSWORD).await;
        assert_eq!(
            (locked.status, locked.body["code"].as_str()),
            (StatusCode::FORBIDDEN, Some("ACCOUNT_LOCKED")),
            "a stolen session cannot guess the old password at leisure: {}",
            locked.body
        );
        assert_eq!(
            app.login("asha@example.com", PASSWORD).await.body["code"],
            "ACCOUNT_LOCKED",
            "the guesses count as failed sign-ins"
        );
        app.clock.advance(chrono::Duration::minutes(10));
        assert_eq!(change(PASSWORD).await.status, StatusCode::OK);
        app
    })
    .await;
}

#[tokio::test]
async fn a_flood_of_registrations_is_refused_before_any_password_is_hashed() {
    each_proxied_app(|app| async move {
        app.configure(
            json!({"register_required_fields": {"mobile": {"level": "soft"}},
                                 "otp": {"per_address": 3}}),
        )
        .await;
        let register = |n: u32| {
            app.from(
                "203.0.113.9",
                "/authentication/v1.0/register/form",
                json!({"first_name": "Bot", "email": format!("bot{n}@example.com"),
                           "password": PASSWORD, "consent": true,
                           "phone": {"country_code": "91", "mobile": format!("90000100{n:02}")}}),
            )
        };
        for n in 0..3 {
            assert_eq!(register(n).await.0, StatusCode::OK);
        }
        let hashed = app.state.hasher.started();
        let refused = register(3).await;
        assert_eq!(refused.0, StatusCode::TOO_MANY_REQUESTS, "{}", refused.1);
        assert_eq!(
            app.state.hasher.started(),
            hashed,
            "the refused registration hashed nothing"
        );
        app
    })
    .await;
}

/// The parts of a refusal a client can compare: status, code and the budget named.
fn refusal(raw: &Raw) -> (StatusCode, Value, Value) {
    (
        raw.status,
        raw.body["code"].clone(),
        raw.body["meta"].clone(),
    )
}

#[tokio::test]
async fn the_device_cookie_comes_with_sign_in_outlives_logout_and_ends_with_every_session() {
    each_proxied_app(|app| async move {
        app.register_proven("asha@example.com", "9876543210").await;
        let signed_in = app.password_sign_in("203.0.113.1", None).await;
        assert_eq!(signed_in.status, StatusCode::OK, "{}", signed_in.body);
        let device = signed_in.cookie("patron_device").expect("a device cookie");
        let attributes = signed_in
            .set_cookies
            .iter()
            .find(|c| c.starts_with("patron_device="))
            .unwrap();
        assert!(
            attributes.contains("HttpOnly") && attributes.contains("Max-Age="),
            "{attributes}"
        );
        let stored = text_rows(&app, "SELECT token_digest FROM known_devices").await;
        assert!(
            !stored.iter().any(|d| d == &device),
            "only a digest is stored"
        );

        let again = app.password_sign_in("203.0.113.1", Some(&device)).await;
        assert_eq!(
            again.cookie("patron_device"),
            Some(device.clone()),
            "the same device"
        );
        let session = again.cookie("f.session").unwrap();
        let devices = text_rows(&app, "SELECT customer_id FROM known_devices")
            .await
            .len();
        let logout = app
            .raw(
                "203.0.113.1",
                "/authentication/v1.0/logout",
                json!({}),
                &[("f.session", &session), ("patron_device", &device)],
            )
            .await;
        assert_eq!(logout.status, StatusCode::OK, "{}", logout.body);
        assert_eq!(
            logout.cookie("patron_device"),
            None,
            "logout leaves the device cookie"
        );
        assert_eq!(
            text_rows(&app, "SELECT customer_id FROM known_devices")
                .await
                .len(),
            devices,
            "logout forgets no device"
        );

        let (_, me) = app.list(&[]).await;
        let id = me["items"][0]["_id"].as_str().unwrap().to_owned();
        let (status, body) = app
            .send(
                Method::DELETE,
                &format!("/customers/sessions?id={id}&reason=lost%20phone"),
                None,
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{body}");
        assert!(
            text_rows(&app, "SELECT customer_id FROM known_devices")
                .await
                .is_empty(),
            "signing out everywhere forgets the devices"
        );
        app
    })
    .await;
}

#[tokio::test]
async fn a_returning_shopper_on_their_device_gets_a_code_while_a_flood_has_spent_the_budgets() {
    each_proxied_app(|app| async move {
        let device = app.returning_shopper().await;
        app.configure(json!({"otp": {"per_application": 6}})).await;
        // A flood of sends to random numbers from many addresses spends the
        // application's budget.
        for n in 0..6 {
            let sent = app
                .code_request(&format!("198.51.100.{n}"), &format!("91234567{n:02}"), None)
                .await;
            assert_eq!(sent.status, StatusCode::OK, "{}", sent.body);
        }
        let stranger = app.code_request("198.51.100.99", "9123456799", None).await;
        assert_eq!(stranger.status, StatusCode::TOO_MANY_REQUESTS);
        assert_eq!(stranger.body["meta"]["limit"], "application");

        let returning = app
            .code_request("192.0.2.50", "9876543210", Some(&device))
            .await;
        assert_eq!(returning.status, StatusCode::OK, "{}", returning.body);
        let (code, _) = app.code_sent_to("+919876543210").await;
        let signed_in = app
            .raw(
                "192.0.2.50",
                "/authentication/v1.0/otp/mobile/verify",
                json!({"request_id": returning.body["request_id"], "otp": code}),
                &[("patron_device", &device)],
            )
            .await;
        assert_eq!(signed_in.body["user_exists"], true, "{}", signed_in.body);

        // Without the cookie the shopper's number answers as any other number does.
        let bare = app.code_request("192.0.2.51", "9876543210", None).await;
        let other = app.code_request("192.0.2.52", "9123456798", None).await;
        assert_eq!(refusal(&bare), refusal(&other), "no oracle");
        // The device reaches only its own customer's contacts.
        let elsewhere = app
            .code_request("192.0.2.50", "9123456797", Some(&device))
            .await;
        assert_eq!(refusal(&elsewhere), refusal(&other));
        app
    })
    .await;
}

#[tokio::test]
async fn a_stranger_cannot_burn_a_live_code_nor_shut_a_device_out_with_wrong_answers() {
    each_proxied_app(|app| async move {
        let device = app.returning_shopper().await;
        app.configure(json!({"otp": {"per_target": 1000, "per_address": 1000, "resend_timer": 0}}))
            .await;
        let live = app
            .code_request("203.0.113.1", "9876543210", Some(&device))
            .await;
        let request_id = live.body["request_id"].as_str().unwrap().to_owned();
        let (code, _) = app.code_sent_to("+919876543210").await;
        for _ in 0..5 {
            let wrong = app
                .answer_from("198.51.100.7", &request_id, &TestApp::wrong(&code))
                .await;
            assert_eq!(wrong.1, "INVALID_OTP");
        }
        let exhausted = app.answer_from("198.51.100.7", &request_id, &code).await;
        assert_eq!(
            exhausted,
            (StatusCode::BAD_REQUEST, "OTP_ATTEMPTS_EXCEEDED".to_owned())
        );

        // Strangers from many networks spend the number's daily total...
        app.answer_wrong_until(5, 30).await;
        let (request_id, fresh) = app.fresh_code("192.0.2.9").await;
        assert_eq!(
            app.answer_from("192.0.2.9", &request_id, &fresh).await.0,
            StatusCode::TOO_MANY_REQUESTS
        );
        // ...but the shopper's own live code still works on their device.
        let answered = app
            .raw(
                "203.0.113.1",
                "/authentication/v1.0/otp/mobile/verify",
                json!({"request_id": live.body["request_id"], "otp": code}),
                &[("patron_device", &device)],
            )
            .await;
        assert_eq!(answered.status, StatusCode::OK, "{}", answered.body);
        assert_eq!(answered.body["user_exists"], true);
        app
    })
    .await;
}

#[tokio::test]
async fn numbers_of_one_calling_code_can_have_a_budget_of_their_own() {
    each_proxied_app(|app| async move {
        app.configure(json!({"otp": {"per_country": 2}})).await;
        for n in 0..2 {
            let sent = app
                .code_request(&format!("198.51.100.{n}"), &format!("91234567{n:02}"), None)
                .await;
            assert_eq!(sent.status, StatusCode::OK, "{}", sent.body);
        }
        let third = app.code_request("198.51.100.9", "9123456709", None).await;
        assert_eq!(third.status, StatusCode::TOO_MANY_REQUESTS);
        assert_eq!(third.body["meta"]["limit"], "country");
        let abroad = app
            .from(
                "198.51.100.10",
                "/authentication/v1.0/login/otp",
                json!({"mobile": "7911123456", "country_code": "44"}),
            )
            .await;
        assert_eq!(abroad.0, StatusCode::OK, "{}", abroad.1);
        app
    })
    .await;
}

#[tokio::test]
async fn a_device_earns_nothing_for_a_contact_its_customer_never_proved() {
    each_proxied_app(|app| async move {
        // The attacker's own account, holding the victim's number unproven.
        let registered = app.register("mallory@example.com", "9000000020").await;
        let session = registered.token.unwrap();
        let device = app
            .raw(
                "203.0.113.66",
                "/authentication/v1.0/login/password",
                json!({"username": "mallory@example.com", "password": PASSWORD}),
                &[],
            )
            .await
            .cookie("patron_device")
            .unwrap();
        app.configure(json!({"otp": {"per_application": 2}})).await;
        for n in 0..2 {
            app.code_request(&format!("198.51.100.{n}"), &format!("91234567{n:02}"), None)
                .await;
        }
        let flooded = app.code_request("198.51.100.9", "9123456709", None).await;
        assert_eq!(flooded.status, StatusCode::TOO_MANY_REQUESTS);
        let own_unproven = app
            .raw(
                "203.0.113.66",
                "/authentication/v1.0/otp/mobile/send",
                json!({"mobile": "9000000020", "country_code": "91", "action": "send"}),
                &[("f.session", &session), ("patron_device", &device)],
            )
            .await;
        assert_eq!(
            refusal(&own_unproven),
            refusal(&flooded),
            "an unproven number is counted as any other: {}",
            own_unproven.body
        );
        app
    })
    .await;
}

#[tokio::test]
async fn asking_whether_contacts_are_taken_is_rationed_per_network() {
    each_proxied_app(|app| async move {
        app.register_proven("olga@example.com", "9000000021").await;
        let prober = app
            .register("prober@example.com", "9000000022")
            .await
            .token
            .unwrap();
        app.configure(json!({"otp": {"per_address": 3}})).await;
        let cookies = [("f.session", prober.as_str())];
        let probe = |email: &'static str| {
            app.raw(
                "203.0.113.77",
                "/authentication/v1.0/otp/email/send",
                json!({"email": email, "action": "send"}),
                &cookies,
            )
        };
        let answers = [
            probe("olga@example.com").await,
            probe("other@example.com").await,
            probe("olga@example.com").await,
        ];
        assert_eq!(
            answers[0].body["code"], "EMAIL_ALREADY_EXISTS",
            "{}",
            answers[0].body
        );
        let rationed = probe("olga@example.com").await;
        assert_eq!(
            rationed.status,
            StatusCode::TOO_MANY_REQUESTS,
            "past the network's lookups, nothing is said: {}",
            rationed.body
        );
        let added = app
            .storefront(Method::PUT, "/profile/v1.0/email")
            .header("x-forwarded-for", "203.0.113.77")
            .header("cookie", format!("f.session={prober}"))
            .json(&json!({"email": "olga@example.com"}))
            .send()
            .await
            .unwrap();
        assert_eq!(added.status(), StatusCode::TOO_MANY_REQUESTS);
        app
    })
    .await;
}
