//! OAuth and the platform guard.

use chrono::Duration;
use reqwest::{Method, StatusCode};

use crate::{each_app, read, COMPANY};

#[tokio::test]
async fn wrong_credentials_are_401() {
    each_app(|app| async move {
        let (status, body) = app
            .token(&app.writer.id, "wrong", "grant_type=client_credentials")
            .await;
        assert_eq!(status, StatusCode::UNAUTHORIZED);
        assert_eq!(body["authenticated"], false);
        let (status, _) = app
            .token(
                "unknown",
                &app.writer.secret,
                "grant_type=client_credentials",
            )
            .await;
        assert_eq!(status, StatusCode::UNAUTHORIZED);
        app
    })
    .await;
}

#[tokio::test]
async fn scope_can_be_narrowed_but_not_widened() {
    each_app(|app| async move {
        let (status, body) = app
            .token(
                &app.writer.id,
                &app.writer.secret,
                "grant_type=client_credentials&scope=application/customers/read",
            )
            .await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(
            body["scope"],
            serde_json::json!(["application/customers/read"])
        );
        assert_eq!(body["token_type"], "Bearer");
        assert_eq!(body["expires_in"], 3600);
        let narrowed = body["access_token"].as_str().unwrap().to_owned();
        let response = app
            .http
            .post(app.platform("/customers"))
            .bearer_auth(&narrowed)
            .json(&serde_json::json!({"email": "a@b.io"}))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::FORBIDDEN);

        let (status, body) = app
            .token(
                &app.reader.id,
                &app.reader.secret,
                "grant_type=client_credentials&scope=application/customers/write",
            )
            .await;
        assert_eq!(status, StatusCode::BAD_REQUEST);
        assert_eq!(body["error"], "invalid_scope");
        let (status, body) = app
            .token(&app.reader.id, &app.reader.secret, "grant_type=password")
            .await;
        assert_eq!(
            (status, body["error"].as_str()),
            (StatusCode::BAD_REQUEST, Some("unsupported_grant_type"))
        );
        app
    })
    .await;
}

#[tokio::test]
async fn refresh_tokens_rotate_and_cannot_be_reused() {
    each_app(|app| async move {
        let form = format!(
            "grant_type=refresh_token&refresh_token={}",
            app.writer.refresh_token
        );
        let (status, body) = app.token(&app.writer.id, &app.writer.secret, &form).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        assert_ne!(body["refresh_token"], app.writer.refresh_token.as_str());
        assert_eq!(
            body["scope"].as_array().unwrap().len(),
            3,
            "the refreshed token keeps every scope"
        );
        let fresh = body["access_token"].as_str().unwrap().to_owned();
        let body_refresh = body["refresh_token"].as_str().unwrap().to_owned();
        let response = app
            .http
            .get(app.platform("/customers/list"))
            .bearer_auth(&fresh)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::OK);
        let (status, body) = app.token(&app.writer.id, &app.writer.secret, &form).await;
        assert_eq!(
            (status, body["error"].as_str()),
            (StatusCode::BAD_REQUEST, Some("invalid_grant"))
        );
        // That replay revoked the family: the tokens the rotation gave out, and the first
        // access token, stopped working.
        for token in [fresh.as_str(), app.writer.token.as_str()] {
            let response = app
                .http
                .get(app.platform("/customers/list"))
                .bearer_auth(token)
                .send()
                .await
                .unwrap();
            assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
        }
        let next = format!("grant_type=refresh_token&refresh_token={}", body_refresh);
        let (status, _) = app.token(&app.writer.id, &app.writer.secret, &next).await;
        assert_eq!(
            status,
            StatusCode::BAD_REQUEST,
            "the rotated refresh token is revoked too"
        );
        let other_client = app
            .token(
                &app.reader.id,
                &app.reader.secret,
                &format!(
                    "grant_type=refresh_token&refresh_token={}",
                    app.reader.refresh_token
                ),
            )
            .await;
        assert_eq!(other_client.0, StatusCode::OK);
        app
    })
    .await;
}

#[tokio::test]
async fn access_tokens_expire() {
    each_app(|app| async move {
        assert_eq!(app.list(&[]).await.0, StatusCode::OK);
        app.clock.advance(Duration::seconds(3601));
        let (status, body) = app.list(&[]).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED);
        assert_eq!(body["authenticated"], false);
        app
    })
    .await;
}

#[tokio::test]
async fn guard_checks_token_company_application_then_scope() {
    each_app(|app| async move {
        let list = "/customers/list";
        let no_token = read(app.http.get(app.platform(list)).send().await.unwrap()).await;
        assert_eq!(no_token.0, StatusCode::UNAUTHORIZED);
        assert_eq!(no_token.1["code"], "UNAUTHENTICATED");
        let refresh_as_bearer = app.http.get(app.platform(list)).bearer_auth(&app.writer.refresh_token).send().await.unwrap();
        assert_eq!(refresh_as_bearer.status(), StatusCode::UNAUTHORIZED);

        let other_company = format!("{}/service/platform/user/v1.0/company/560/application/{}{list}", app.base, app.application_id);
        let response = app.http.get(other_company).bearer_auth(&app.writer.token).send().await.unwrap();
        assert_eq!(response.status(), StatusCode::FORBIDDEN);

        let unknown_app = format!("{}/service/platform/user/v1.0/company/{COMPANY}/application/0000000000000000000000ff{list}", app.base);
        let (status, body) = read(app.http.get(unknown_app.clone()).bearer_auth(&app.writer.token).send().await.unwrap()).await;
        assert_eq!((status, body["code"].as_str()), (StatusCode::NOT_FOUND, Some("APPLICATION_NOT_FOUND")));
        // The application check comes before the scope check.
        let response = app.http.post(unknown_app.replace(list, "/customers")).bearer_auth(&app.reader.token).json(&serde_json::json!({})).send().await.unwrap();
        assert_eq!(response.status(), StatusCode::NOT_FOUND);

        let (status, body) = read(
            app.http.post(app.platform("/customers")).bearer_auth(&app.reader.token).body("{not json").send().await.unwrap(),
        )
        .await;
        assert_eq!((status, body["code"].as_str()), (StatusCode::FORBIDDEN, Some("FORBIDDEN")), "scope is checked before the body");

        let signed = app
            .request(Method::GET, list)
            .header("x-fp-date", "20240101T120000Z")
            .header("x-fp-signature", "v1.1:00")
            .header("x-fp-sdk-version", "3.4.2")
            .send()
            .await
            .unwrap();
        assert_eq!(signed.status(), StatusCode::OK, "x-fp-* headers are tolerated");
        app
    })
    .await;
}

#[tokio::test]
async fn operators_narrow_revoke_and_rotate_credentials() {
    each_app(|mut app| async move {
        // Narrowed to read: the access token ends, the next rotation keeps only read.
        app.state
            .services
            .clients
            .set_scopes(&app.writer.id, "application/customers/read")
            .await
            .unwrap();
        assert_eq!(app.list(&[]).await.0, StatusCode::UNAUTHORIZED);
        let form = format!(
            "grant_type=refresh_token&refresh_token={}",
            app.writer.refresh_token
        );
        let (status, body) = app.token(&app.writer.id, &app.writer.secret, &form).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        assert_eq!(
            body["scope"],
            serde_json::json!(["application/customers/read"])
        );
        app.writer.token = body["access_token"].as_str().unwrap().to_owned();
        assert_eq!(app.list(&[]).await.0, StatusCode::OK);
        let (status, _) = app
            .send(
                Method::POST,
                "/customers",
                Some(serde_json::json!({"first_name": "A"})),
            )
            .await;
        assert_eq!(status, StatusCode::FORBIDDEN, "write was taken away");

        // Revoked: its tokens and its credentials stop working.
        app.state
            .services
            .clients
            .revoke(&app.writer.id)
            .await
            .unwrap();
        assert_eq!(app.list(&[]).await.0, StatusCode::UNAUTHORIZED);
        let (status, _) = app
            .token(
                &app.writer.id,
                &app.writer.secret,
                "grant_type=client_credentials",
            )
            .await;
        assert_eq!(status, StatusCode::UNAUTHORIZED);

        // A rotated storefront token: the old one is refused once the cache turns over.
        let rotated = app
            .state
            .services
            .applications
            .rotate_token(&app.application_id)
            .await
            .unwrap();
        tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
        let old = app
            .storefront(
                Method::GET,
                "/authentication/v1.0/user-exists?q=a@example.com",
            )
            .send()
            .await
            .unwrap();
        assert_eq!(old.status(), StatusCode::UNAUTHORIZED);
        app.application_token = rotated.application_token;
        let new = app
            .storefront(
                Method::GET,
                "/authentication/v1.0/user-exists?q=a@example.com",
            )
            .send()
            .await
            .unwrap();
        assert_eq!(new.status(), StatusCode::OK);
        app
    })
    .await;
}
