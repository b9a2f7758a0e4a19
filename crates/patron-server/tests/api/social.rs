//! Social sign-in against local stand-ins for the providers: a JWKS endpoint with the tests'
//! own RSA keys (Google and Apple) and a Graph API stub (Facebook). Valid tokens for new and
//! known emails, every refusal (forged signature, expired, wrong audience, wrong issuer,
//! `alg: none`, HS256, unknown key), and the account-takeover refusal. The stand-ins are
//! `helpers::providers`.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use chrono::Duration;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use patron_service::Clock;
use reqwest::{Method, StatusCode};
use serde_json::json;

use crate::{each_app, each_app_with, providers, Answer};

#[tokio::test]
async fn google_signs_up_a_new_email_and_signs_in_a_known_one() {
    each_app(|app| async move {
        app.enable_social().await;
        let answer = app.google(&app.id_token(json!({}), false)).await;
        assert_eq!(answer.status, StatusCode::OK, "{}", answer.body);
        assert_eq!(answer.body["user_exists"], false);
        assert!(answer.token.is_none());
        let register_token = answer.body["register_token"].as_str().unwrap().to_owned();
        let completed = app
            .shop(
                Method::POST,
                "/profile/v1.0/detail",
                Some(json!({"last_name": "Rao", "register_token": register_token})),
                None,
            )
            .await;
        assert_eq!(completed.status, StatusCode::OK, "{}", completed.body);
        assert!(completed.token.is_some());
        let user = &completed.body["user"];
        assert_eq!(user["first_name"], "Gia", "names come from the provider");
        assert_eq!(user["emails"][0]["email"], "gia@example.com");
        assert_eq!(user["emails"][0]["verified"], true);

        let again = app.google(&app.id_token(json!({}), false)).await;
        assert_eq!(again.body["user_exists"], true, "{}", again.body);
        assert_eq!(again.body["user"]["_id"], user["_id"]);
        assert!(again.token.is_some());

        // A customer who registered elsewhere with a verified Google email is linked.
        let known = app.create_customer("asha@example.com", "9876543210").await;
        let linked = app
            .google(&app.id_token(json!({"sub": "g-2", "email": "asha@example.com"}), false))
            .await;
        assert_eq!(
            linked.body["user"]["_id"],
            known.as_str(),
            "{}",
            linked.body
        );
        app
    })
    .await;
}

#[tokio::test]
async fn an_unverified_provider_email_never_signs_in_to_the_account_that_holds_it() {
    each_app(|app| async move {
        app.enable_social().await;
        app.create_customer("asha@example.com", "9876543210").await;
        let token = app.id_token(
            json!({"sub": "attacker", "email": "asha@example.com", "email_verified": false}),
            false,
        );
        let answer = app.google(&token).await;
        assert_eq!(answer.body["user_exists"], false, "{}", answer.body);
        assert!(answer.token.is_none());
        let register_token = answer.body["register_token"].as_str().unwrap();
        let claim = app
            .shop(
                Method::POST,
                "/profile/v1.0/detail",
                Some(json!({"email": "asha@example.com", "register_token": register_token})),
                None,
            )
            .await;
        assert_eq!(claim.body["code"], "EMAIL_ALREADY_EXISTS", "{}", claim.body);
        assert!(claim.token.is_none());
        app
    })
    .await;
}

#[tokio::test]
async fn bad_tokens_are_refused_with_4xx() {
    each_app(|app| async move {
        app.enable_social().await;
        let now = app.clock.now().timestamp();
        let none = format!(
            "{}.{}.",
            URL_SAFE_NO_PAD.encode(r#"{"alg":"none","typ":"JWT"}"#),
            URL_SAFE_NO_PAD.encode(json!({"iss": "https://accounts.google.com", "aud": "google-client", "sub": "g-1", "exp": now + 60}).to_string())
        );
        let hs256 = jsonwebtoken::encode(
            &Header::new(Algorithm::HS256),
            &json!({"iss": "https://accounts.google.com", "aud": "google-client", "sub": "g-1", "exp": now + 60}),
            &EncodingKey::from_secret(b"guess"),
        )
        .unwrap();
        let mut unknown_kid = Header::new(Algorithm::RS256);
        unknown_kid.kid = Some("other-key".to_owned());
        let unknown = jsonwebtoken::encode(
            &unknown_kid,
            &json!({"iss": "https://accounts.google.com", "aud": "google-client", "sub": "g-1", "exp": now + 60}),
            &providers().signing,
        )
        .unwrap();
        for (name, token) in [
            ("forged signature", app.id_token(json!({}), true)),
            ("expired", app.id_token(json!({"iat": now - 7200, "exp": now - 3600}), false)),
            ("wrong audience", app.id_token(json!({"aud": "someone-else"}), false)),
            ("wrong issuer", app.id_token(json!({"iss": "https://evil.example"}), false)),
            ("alg none", none),
            ("HS256", hs256),
            ("unknown key", unknown),
            ("not a JWT", "abc".to_owned()),
        ] {
            let answer = app.google(&token).await;
            assert_eq!(
                (answer.status, answer.body["code"].as_str()),
                (StatusCode::BAD_REQUEST, Some("INVALID_SOCIAL_TOKEN")),
                "{name}: {}",
                answer.body
            );
            assert!(answer.token.is_none(), "{name}");
        }
        let (_, list) = app.list(&[]).await;
        assert_eq!(list["page"]["item_total"], 0);

        app.clock.advance(Duration::seconds(30));
        let leeway = app.id_token(json!({"exp": now}), false);
        assert_eq!(app.google(&leeway).await.status, StatusCode::OK, "a minute of leeway");
        app.configure(json!({"social": {"google": false}})).await;
        let off = app.google(&app.id_token(json!({}), false)).await;
        assert_eq!(off.body["code"], "SOCIAL_LOGIN_DISABLED");
        app
    })
    .await;
}

#[tokio::test]
async fn apple_checks_the_user_identifier_and_facebook_asks_the_graph_api() {
    each_app(|app| async move {
        app.enable_social().await;
        let apple = |sub: &str, user: &str| {
            let token = app.id_token(
                json!({"iss": "https://appleid.apple.com", "aud": "apple-client", "sub": sub,
                       "email": "x1@privaterelay.appleid.com", "email_verified": "true"}),
                false,
            );
            app.shop(
                Method::POST,
                "/authentication/v1.0/login/apple-ios",
                Some(json!({"user_identifier": user, "oauth": {"identity_token": token},
                            "profile": {"first_name": "Ana", "last_name": "Lee"}})),
                None,
            )
        };
        let mismatch = apple("a-1", "a-2").await;
        assert_eq!(mismatch.body["code"], "INVALID_SOCIAL_TOKEN");
        let signed = apple("a-1", "a-1").await;
        assert_eq!(signed.body["user_exists"], false, "{}", signed.body);

        let bad = app.facebook("fb-bad").await;
        assert_eq!(bad.body["code"], "INVALID_SOCIAL_TOKEN", "{}", bad.body);
        let good = app.facebook("fb-good").await;
        assert_eq!(good.body["user_exists"], false, "{}", good.body);
        let completed = app
            .shop(
                Method::POST,
                "/profile/v1.0/detail",
                Some(json!({"email": "fia@example.com", "register_token": good.body["register_token"]})),
                None,
            )
            .await;
        assert_eq!(completed.status, StatusCode::OK, "{}", completed.body);
        assert_eq!(completed.body["user"]["first_name"], "Fia");
        assert_eq!(
            completed.body["user"]["emails"][0]["verified"], false,
            "Facebook does not assert a verified email"
        );
        let again = app.facebook("fb-good").await;
        assert_eq!(again.body["user_exists"], true, "the identity was linked");
        app
    })
    .await;
}

#[tokio::test]
async fn no_provider_failure_puts_the_facebook_secret_in_an_answer_or_a_log() {
    let logs = crate::helpers::logs::capture();
    let refused = |answer: &Answer, case: &str| {
        assert!(
            answer.status.is_client_error() || answer.status.is_server_error(),
            "{case}: {} {}",
            answer.status,
            answer.body
        );
        assert!(
            !answer.body.to_string().contains("fb-secret"),
            "{case} answered the app secret: {}",
            answer.body
        );
    };
    each_app_with(
        |config| config.provider_timeout_secs = 1,
        |app| async move {
            app.enable_social().await;
            for case in ["fb-500", "fb-garbage", "fb-reset", "fb-hang"] {
                let answer = app.facebook(case).await;
                refused(&answer, case);
                assert_eq!(
                    answer.body["code"], "PROVIDER_UNAVAILABLE",
                    "{}",
                    answer.body
                );
            }
            app
        },
    )
    .await;
    each_app_with(
        |config| config.facebook_graph_url = "http://127.0.0.1:1/graph".to_owned(),
        |app| async move {
            app.enable_social().await;
            let answer = app.facebook("fb-good").await;
            refused(&answer, "unreachable");
            assert_eq!(
                answer.body["code"], "PROVIDER_UNAVAILABLE",
                "{}",
                answer.body
            );
            app
        },
    )
    .await;
    let logged = logs.text();
    for failure in [
        "Facebook answered 500",
        "Facebook's answer is not JSON",
        "Facebook closed the connection without an answer",
        "Facebook did not answer in time",
        "Facebook cannot be reached",
    ] {
        assert!(
            logged.contains(failure),
            "each failure was logged, so the grep below reads it: {failure}"
        );
    }
    assert!(
        !logged.contains("fb-secret"),
        "a log line holds the app secret"
    );
}
