//! Admin-managed sessions and the storefront calls that read them.

use chrono::Duration;
use reqwest::{Method, StatusCode};
use serde_json::json;

use crate::{each_app, read};

#[tokio::test]
async fn an_admin_session_signs_the_customer_in() {
    each_app(|app| async move {
        let id = app.create_customer("asha@example.com", "9876543210").await;
        let (status, created) = app
            .send(
                Method::POST,
                "/customers/session",
                Some(json!({"domain": "shop.example.com", "user_id": id, "max_age": 3600})),
            )
            .await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(
            (created["domain"].as_str(), created["max_age"].as_i64()),
            (Some("shop.example.com"), Some(3600))
        );
        assert_eq!(
            (created["secure"].as_bool(), created["http_only"].as_bool()),
            (Some(true), Some(true))
        );
        let token = created["cookie"]["f.session"].as_str().unwrap();
        assert_eq!(token.len(), 64, "256 random bits");

        let (status, body, _) = app.whoami(token).await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(body["user"]["_id"], id.as_str());
        let (status, body, _) = app.whoami("0".repeat(64).as_str()).await;
        assert_eq!(
            (status, body["authenticated"].as_bool()),
            (StatusCode::UNAUTHORIZED, Some(false))
        );
        let response = app
            .storefront(Method::GET, "/authentication/v1.0/session")
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::UNAUTHORIZED);

        let (status, list) = app
            .send(Method::GET, &format!("/customers/sessions?id={id}"), None)
            .await;
        assert_eq!(status, StatusCode::OK);
        let item = &list["items"][0];
        assert_eq!(item["domain"], "shop.example.com");
        assert!(item["expire_in"].is_string() && item["session_id"].is_string());
        let response = app
            .storefront(Method::GET, "/authentication/v1.0/sessions")
            .header("cookie", format!("f.session={token}"))
            .send()
            .await
            .unwrap();
        let (_, own) = read(response).await;
        assert_eq!(own["sessions"], json!([item["session_id"]]));
        app
    })
    .await;
}

#[tokio::test]
async fn sessions_end_one_by_one_or_all_at_once() {
    each_app(|app| async move {
        let id = app.create_customer("asha@example.com", "9876543210").await;
        let first = app.admin_session(&id, None).await;
        let second = app.admin_session(&id, None).await;
        let (_, list) = app
            .send(Method::GET, &format!("/customers/sessions?id={id}"), None)
            .await;
        let session_ids: Vec<String> = list["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|i| i["session_id"].as_str().unwrap().to_owned())
            .collect();
        assert_eq!(session_ids.len(), 2);

        let (status, body) = app
            .send(
                Method::DELETE,
                &format!("/customers/session?id={id}&session_id={}", session_ids[0]),
                None,
            )
            .await;
        assert_eq!(
            (status, body["message"].as_str()),
            (StatusCode::BAD_REQUEST, Some("reason: is required"))
        );
        let (status, body) = app
            .send(
                Method::DELETE,
                &format!(
                    "/customers/session?id={id}&session_id={}&reason=lost+phone",
                    session_ids[0]
                ),
                None,
            )
            .await;
        assert_eq!(
            (status, body),
            (
                StatusCode::OK,
                json!({"user_id": id, "session_id": session_ids[0]})
            )
        );
        let (status, _) = app
            .send(
                Method::DELETE,
                &format!(
                    "/customers/session?id={id}&session_id={}&reason=again",
                    session_ids[0]
                ),
                None,
            )
            .await;
        assert_eq!(status, StatusCode::NOT_FOUND);
        let still = [app.whoami(&first).await.0, app.whoami(&second).await.0];
        assert_eq!(
            still.iter().filter(|s| **s == StatusCode::OK).count(),
            1,
            "exactly the other session survives"
        );

        let third = app.admin_session(&id, None).await;
        let (status, body) = app
            .send(
                Method::DELETE,
                &format!("/customers/sessions?id={id}&reason=security"),
                None,
            )
            .await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(body["session_ids"].as_array().unwrap().len(), 2);
        assert_eq!(app.whoami(&third).await.0, StatusCode::UNAUTHORIZED);
        let (status, _) = app
            .send(
                Method::GET,
                "/customers/sessions?id=0000000000000000000000ff",
                None,
            )
            .await;
        assert_eq!(status, StatusCode::NOT_FOUND);
        app
    })
    .await;
}

#[tokio::test]
async fn blocking_and_archiving_end_sessions_and_refuse_new_ones() {
    each_app(|app| async move {
        let id = app.create_customer("asha@example.com", "9876543210").await;
        let token = app.admin_session(&id, None).await;
        app.send(
            Method::PUT,
            "/customers/activation",
            Some(json!({"status": false, "user_id": [id], "reason": "fraud"})),
        )
        .await;
        assert_eq!(app.whoami(&token).await.0, StatusCode::UNAUTHORIZED);
        let (status, body) = app
            .send(
                Method::POST,
                "/customers/session",
                Some(json!({"domain": "d", "user_id": id})),
            )
            .await;
        assert_eq!(
            (status, body["code"].as_str()),
            (StatusCode::BAD_REQUEST, Some("USER_BLOCKED"))
        );
        app.send(
            Method::PUT,
            "/customers/activation",
            Some(json!({"status": true, "user_id": [id], "reason": "cleared"})),
        )
        .await;
        assert_eq!(
            app.whoami(&token).await.0,
            StatusCode::UNAUTHORIZED,
            "unblocking does not revive old sessions"
        );

        let token = app.admin_session(&id, None).await;
        app.send(
            Method::PUT,
            "/customers/archive",
            Some(json!({"user_id": id})),
        )
        .await;
        assert_eq!(app.whoami(&token).await.0, StatusCode::UNAUTHORIZED);
        let (status, body) = app
            .send(
                Method::POST,
                "/customers/session",
                Some(json!({"domain": "d", "user_id": id})),
            )
            .await;
        assert_eq!(
            (status, body["code"].as_str()),
            (StatusCode::BAD_REQUEST, Some("USER_ARCHIVED"))
        );
        let (status, _) = app
            .send(
                Method::POST,
                "/customers/session",
                Some(json!({"domain": "d", "user_id": "0000000000000000000000ff"})),
            )
            .await;
        assert_eq!(status, StatusCode::NOT_FOUND);
        let (status, body) = app
            .send(
                Method::POST,
                "/customers/session",
                Some(json!({"domain": "d", "user_id": id, "max_age": -5})),
            )
            .await;
        assert_eq!(
            (status, body["meta"]["field"].as_str()),
            (StatusCode::BAD_REQUEST, Some("max_age"))
        );
        app
    })
    .await;
}

#[tokio::test]
async fn logout_ends_the_session_and_clears_the_cookie() {
    each_app(|app| async move {
        let id = app.create_customer("asha@example.com", "9876543210").await;
        let token = app.admin_session(&id, None).await;
        let response = app
            .storefront(Method::GET, "/authentication/v1.0/logout")
            .header("cookie", format!("f.session={token}"))
            .send()
            .await
            .unwrap();
        let cookie = response.headers()["set-cookie"]
            .to_str()
            .unwrap()
            .to_owned();
        let (status, body) = read(response).await;
        assert_eq!((status, body), (StatusCode::OK, json!({"logout": true})));
        assert!(
            cookie.starts_with("f.session=;") && cookie.contains("Max-Age=0"),
            "{cookie}"
        );
        assert_eq!(app.whoami(&token).await.0, StatusCode::UNAUTHORIZED);

        let token = app.admin_session(&id, None).await;
        let response = app
            .storefront(Method::POST, "/authentication/v1.0/logout")
            .header("cookie", format!("f.session={token}"))
            .send()
            .await
            .unwrap();
        let (status, body) = read(response).await;
        assert_eq!(
            (status, body),
            (StatusCode::OK, json!({"logout": true})),
            "POST logs out too"
        );
        assert_eq!(app.whoami(&token).await.0, StatusCode::UNAUTHORIZED);
        app
    })
    .await;
}

#[tokio::test]
async fn sessions_expire() {
    each_app(|app| async move {
        let id = app.create_customer("asha@example.com", "9876543210").await;
        let token = app.admin_session(&id, Some(60)).await;
        app.clock.advance(Duration::seconds(59));
        let (status, _, cookie) = app.whoami(&token).await;
        assert_eq!(
            (status, cookie),
            (StatusCode::OK, None),
            "fixed sessions are not re-sent"
        );
        app.clock.advance(Duration::seconds(2));
        assert_eq!(app.whoami(&token).await.0, StatusCode::UNAUTHORIZED);
        app
    })
    .await;
}

#[tokio::test]
async fn rolling_sessions_extend_with_activity() {
    each_app(|app| async move {
        let (status, _) = app.send(Method::POST, "/platform/config", Some(json!({"session_config": {"duration": 10, "type": "Minutes", "is_rolling": true}}))).await;
        assert_eq!(status, StatusCode::OK);
        let id = app.create_customer("asha@example.com", "9876543210").await;
        let token = app.admin_session(&id, None).await;
        app.clock.advance(Duration::seconds(30));
        let (status, _, cookie) = app.whoami(&token).await;
        assert_eq!((status, cookie), (StatusCode::OK, None), "extended at most once a minute");
        app.clock.advance(Duration::minutes(7));
        let (status, _, cookie) = app.whoami(&token).await;
        assert_eq!(status, StatusCode::OK);
        let cookie = cookie.expect("a rolling session re-sends its cookie");
        assert!(cookie.contains(&format!("f.session={token}")) && cookie.contains("Max-Age=600") && cookie.contains("HttpOnly") && cookie.contains("SameSite=Lax") && cookie.contains("Secure"), "{cookie}");
        app.clock.advance(Duration::minutes(8));
        assert_eq!(app.whoami(&token).await.0, StatusCode::OK, "15 minutes after sign-in, 8 after the last activity");
        app.clock.advance(Duration::minutes(11));
        assert_eq!(app.whoami(&token).await.0, StatusCode::UNAUTHORIZED);
        app
    })
    .await;
}

/// However active, a rolling session ends `rolling_session_max_days` (30) after sign-in.
#[tokio::test]
async fn rolling_sessions_have_an_absolute_cap() {
    each_app(|app| async move {
        let (status, _) = app
            .send(
                Method::POST,
                "/platform/config",
                Some(
                    json!({"session_config": {"duration": 7, "type": "Days", "is_rolling": true}}),
                ),
            )
            .await;
        assert_eq!(status, StatusCode::OK);
        let id = app.create_customer("asha@example.com", "9876543210").await;
        let token = app.admin_session(&id, None).await;
        for day in [6, 12, 18] {
            app.clock.advance(Duration::days(6));
            let (status, _, cookie) = app.whoami(&token).await;
            assert_eq!(status, StatusCode::OK, "day {day}");
            assert!(
                cookie.unwrap().contains(&format!("Max-Age={}", 7 * 86_400)),
                "day {day}"
            );
        }
        app.clock.advance(Duration::days(6));
        let (status, _, cookie) = app.whoami(&token).await;
        assert_eq!(status, StatusCode::OK, "day 24");
        let cookie = cookie.unwrap();
        assert!(
            cookie.contains(&format!("Max-Age={}", 6 * 86_400)),
            "only up to the cap: {cookie}"
        );
        app.clock.advance(Duration::days(6));
        assert_eq!(
            app.whoami(&token).await.0,
            StatusCode::UNAUTHORIZED,
            "day 30: the cap"
        );
        app
    })
    .await;
}

/// The retention purge runs on the server's clock: a session expired for longer than the
/// kept days is deleted, a live one is not.
#[tokio::test]
async fn the_retention_purge_deletes_long_expired_sessions_only() {
    each_app(|app| async move {
        let user_id = app.create_customer("asha@example.com", "9876543210").await;
        app.admin_session(&user_id, Some(60)).await;
        let kept = app.admin_session(&user_id, None).await;

        app.clock.advance(Duration::days(6));
        let report = app.state.services.retention.purge().await.unwrap();
        assert_eq!(
            report.records.sessions, 0,
            "expired for less than the 7 kept days"
        );

        app.clock.advance(Duration::days(2));
        let report = app.state.services.retention.purge().await.unwrap();
        assert_eq!(report.records.sessions, 1);
        assert_eq!(
            app.whoami(&kept).await.0,
            StatusCode::OK,
            "the live session stays"
        );
        app
    })
    .await;
}

#[tokio::test]
async fn a_login_token_signs_in_once_within_five_minutes() {
    each_app(|app| async move {
        let id = app.create_customer("asha@example.com", "9876543210").await;
        let path = format!("/customers/{id}/login_token");
        let (status, minted) = app.send(Method::POST, &path, None).await;
        assert_eq!(status, StatusCode::OK, "{minted}");
        assert_eq!(minted["expires_in"], 300);
        let token = minted["token"].as_str().unwrap().to_owned();
        let audited = crate::text_rows(
            &app,
            "SELECT action FROM audit_events WHERE action = 'login_token'",
        )
        .await;
        assert_eq!(audited, ["login_token"]);
        let stored = crate::text_rows(&app, "SELECT token_digest FROM login_tokens").await;
        assert_ne!(stored[0], token, "only the digest is kept");

        let uses = (0..6).map(|_| {
            let request = app
                .storefront(Method::POST, "/authentication/v1.0/login/token")
                .json(&json!({ "token": token }));
            tokio::spawn(async move { request.send().await.unwrap() })
        });
        let mut sessions = Vec::new();
        for used in uses {
            let response = used.await.unwrap();
            if response.status() == StatusCode::OK {
                sessions.push(
                    response
                        .headers()
                        .get("set-cookie")
                        .unwrap()
                        .to_str()
                        .unwrap()
                        .to_owned(),
                );
            } else {
                let (status, body) = read(response).await;
                assert_eq!(
                    (status, body["code"].as_str()),
                    (StatusCode::BAD_REQUEST, Some("INVALID_LOGIN_TOKEN"))
                );
            }
        }
        assert_eq!(sessions.len(), 1, "a token works once");
        assert!(sessions[0].starts_with("f.session="));

        let (_, minted) = app.send(Method::POST, &path, None).await;
        app.clock
            .advance(Duration::minutes(5) + Duration::seconds(1));
        let late = app
            .shop(
                Method::POST,
                "/authentication/v1.0/login/token",
                Some(json!({"token": minted["token"]})),
                None,
            )
            .await;
        assert_eq!(late.body["code"], "INVALID_LOGIN_TOKEN", "expired");

        let (_, minted) = app.send(Method::POST, &path, None).await;
        app.send(
            Method::PUT,
            "/customers/activation",
            Some(json!({"user_id": [id], "status": false, "reason": "fraud"})),
        )
        .await;
        let blocked = app
            .shop(
                Method::POST,
                "/authentication/v1.0/login/token",
                Some(json!({"token": minted["token"]})),
                None,
            )
            .await;
        assert_eq!(
            (blocked.status, blocked.body["code"].as_str()),
            (StatusCode::FORBIDDEN, Some("USER_BLOCKED"))
        );
        let (status, refused) = app.send(Method::POST, &path, None).await;
        assert_eq!(
            (status, refused["code"].as_str()),
            (StatusCode::BAD_REQUEST, Some("USER_BLOCKED"))
        );
        let (status, _) = read(
            app.http
                .post(app.platform(&path))
                .bearer_auth(&app.reader.token)
                .send()
                .await
                .unwrap(),
        )
        .await;
        assert_eq!(
            status,
            StatusCode::FORBIDDEN,
            "minting needs customers/write"
        );
        let (status, _) = app
            .send(
                Method::POST,
                "/customers/0000000000000000000000ff/login_token",
                None,
            )
            .await;
        assert_eq!(status, StatusCode::NOT_FOUND);
        app
    })
    .await;
}

#[tokio::test]
async fn cookie_writes_from_other_sites_are_refused_when_origins_are_configured() {
    each_app(|app| async move {
        app.register("asha@example.com", "9876543210").await;
        let token = app
            .login("asha@example.com", "Sup3r-secret")
            .await
            .token
            .unwrap();
        let logout = |origin: Option<&'static str>| {
            let mut request = app
                .storefront(Method::POST, "/authentication/v1.0/logout")
                .header("cookie", format!("f.session={token}"));
            if let Some(origin) = origin {
                request = request.header("origin", origin);
            }
            async move { read(request.send().await.unwrap()).await }
        };
        // Nothing configured: no check (the default, as in Fynd).
        let (status, body) = app
            .send(
                Method::POST,
                "/platform/config",
                Some(json!({"allowed_origins": ["https://shop.example.com/path"]})),
            )
            .await;
        assert_eq!(
            (status, body["meta"]["field"].as_str()),
            (StatusCode::BAD_REQUEST, Some("allowed_origins"))
        );
        app.configure(
            json!({"allowed_origins": ["https://Shop.Example.com:443", "http://localhost:3000"]}),
        )
        .await;
        for origin in [
            "https://evil.example",
            "null",
            "https://shop.example.com.evil.example",
        ] {
            let (status, body) = logout(Some(origin)).await;
            assert_eq!(
                (status, body["code"].as_str()),
                (StatusCode::FORBIDDEN, Some("FORBIDDEN")),
                "{origin}"
            );
        }
        let session = app
            .shop(
                Method::GET,
                "/authentication/v1.0/session",
                None,
                Some(&token),
            )
            .await;
        assert_eq!(
            session.status,
            StatusCode::OK,
            "the refused writes did nothing"
        );
        let (status, _) = logout(Some("https://shop.example.com")).await;
        assert_eq!(status, StatusCode::OK);
        // Without Origin (apps, servers) a write passes.
        let token = app
            .login("asha@example.com", "Sup3r-secret")
            .await
            .token
            .unwrap();
        let (status, _) = read(
            app.storefront(Method::POST, "/authentication/v1.0/logout")
                .header("cookie", format!("f.session={token}"))
                .send()
                .await
                .unwrap(),
        )
        .await;
        assert_eq!(status, StatusCode::OK);
        app
    })
    .await;
}
