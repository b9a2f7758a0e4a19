//! The admin console over HTTP: operator sign-in and sign-out, the cookie's attributes, the
//! company scope, the same-origin and form-token checks, expiry and the page headers. (The
//! flows themselves run in a real browser: console-tests/.)

use chrono::Duration;
use patron_server::{admin, Clock};
use reqwest::header::{COOKIE, LOCATION, ORIGIN, SET_COOKIE};
use reqwest::{redirect, StatusCode};

use crate::{each_app, TestApp, COMPANY};

/// A client that shows redirects instead of following them.
fn browser() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(redirect::Policy::none())
        .build()
        .unwrap()
}

/// Signs in with the client's credentials; returns the cookie pair (`name=value`).
async fn sign_in(app: &TestApp, id: &str, secret: &str) -> String {
    let response = browser()
        .post(format!("{}/console/sign-in", app.base))
        .header(ORIGIN, &app.base)
        .form(&[("client_id", id), ("client_secret", secret)])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    assert_eq!(response.headers()[LOCATION], "/console/apps");
    let cookie = response.headers()[SET_COOKIE].to_str().unwrap().to_owned();
    for attribute in [
        "Path=/console",
        "HttpOnly",
        "SameSite=Strict",
        "Max-Age=28800",
        "Secure",
    ] {
        assert!(cookie.contains(attribute), "{attribute} missing: {cookie}");
    }
    cookie.split(';').next().unwrap().to_owned()
}

/// GETs a console path with the cookie; returns the status, the `Location` and the body.
async fn get(app: &TestApp, cookie: &str, path: &str) -> (StatusCode, String, String) {
    let response = browser()
        .get(format!("{}{path}", app.base))
        .header(COOKIE, cookie)
        .send()
        .await
        .unwrap();
    let status = response.status();
    let location = response
        .headers()
        .get(LOCATION)
        .map(|value| value.to_str().unwrap().to_owned())
        .unwrap_or_default();
    (status, location, response.text().await.unwrap())
}

/// The form token in a page.
fn form_token(html: &str) -> String {
    let marker = r#"name="form_token" value=""#;
    let start = html.find(marker).expect("a form token") + marker.len();
    html[start..start + 64].to_owned()
}

#[tokio::test]
async fn operators_sign_in_with_client_credentials_and_sign_out_ends_the_session() {
    each_app(|app| async move {
        let (status, location, _) = get(&app, "", "/console/apps").await;
        assert_eq!(
            (status, location.as_str()),
            (StatusCode::SEE_OTHER, "/console/sign-in")
        );

        let wrong = browser()
            .post(format!("{}/console/sign-in", app.base))
            .header(ORIGIN, &app.base)
            .form(&[
                ("client_id", app.writer.id.as_str()),
                ("client_secret", "nope"),
            ])
            .send()
            .await
            .unwrap();
        assert_eq!(wrong.status(), StatusCode::UNAUTHORIZED);
        assert!(wrong.headers().get(SET_COOKIE).is_none());

        let cookie = sign_in(&app, &app.writer.id, &app.writer.secret).await;
        let (status, _, html) = get(&app, &cookie, "/console/apps").await;
        assert_eq!(status, StatusCode::OK);
        assert!(html.contains(">Shop<"), "{html}");
        assert!(
            !html.contains(cookie.split('=').nth(1).unwrap()),
            "the page holds no session secret"
        );

        let sign_out = browser()
            .post(format!("{}/console/sign-out", app.base))
            .header(ORIGIN, &app.base)
            .header(COOKIE, &cookie)
            .form(&[("form_token", form_token(&html))])
            .send()
            .await
            .unwrap();
        assert_eq!(sign_out.status(), StatusCode::SEE_OTHER);
        assert!(sign_out.headers()[SET_COOKIE]
            .to_str()
            .unwrap()
            .contains("Max-Age=0"));
        // The old cookie no longer works, even if a browser kept it.
        let (status, location, _) = get(&app, &cookie, "/console/apps").await;
        assert_eq!(
            (status, location.as_str()),
            (StatusCode::SEE_OTHER, "/console/sign-in")
        );
        app
    })
    .await;
}

#[tokio::test]
async fn a_sign_in_posted_from_another_site_is_refused() {
    each_app(|app| async move {
        for origin in [None, Some("https://evil.example")] {
            let mut request = browser()
                .post(format!("{}/console/sign-in", app.base))
                .form(&[
                    ("client_id", app.writer.id.as_str()),
                    ("client_secret", app.writer.secret.as_str()),
                ]);
            if let Some(origin) = origin {
                request = request.header(ORIGIN, origin);
            }
            let response = request.send().await.unwrap();
            assert_eq!(response.status(), StatusCode::FORBIDDEN, "{origin:?}");
            assert!(response.headers().get(SET_COOKIE).is_none());
        }
        app
    })
    .await;
}

#[tokio::test]
async fn operators_see_only_their_companys_applications() {
    each_app(|app| async move {
        let other =
            admin::create_application(&app.stores, "777", "Elsewhere", None, None, app.clock.now())
                .await
                .unwrap();
        let cookie = sign_in(&app, &app.writer.id, &app.writer.secret).await;
        let (_, _, html) = get(&app, &cookie, "/console/apps").await;
        assert!(
            !html.contains("Elsewhere"),
            "another company's application is listed"
        );
        let (status, _, html) = get(
            &app,
            &cookie,
            &format!("/console/apps/{}/customers", other.application_id),
        )
        .await;
        assert_eq!(status, StatusCode::NOT_FOUND);
        assert!(html.contains("not found"), "{html}");
        let (status, _, _) = get(
            &app,
            &cookie,
            &format!("/console/apps/{}/customers", app.application_id),
        )
        .await;
        assert_eq!(status, StatusCode::OK);
        assert_ne!(COMPANY, "777");
        app
    })
    .await;
}

#[tokio::test]
async fn a_console_session_ends_after_eight_hours() {
    each_app(|app| async move {
        let cookie = sign_in(&app, &app.reader.id, &app.reader.secret).await;
        let path = format!("/console/apps/{}/customers", app.application_id);
        app.clock.advance(Duration::hours(8) - Duration::seconds(1));
        assert_eq!(get(&app, &cookie, &path).await.0, StatusCode::OK);
        app.clock.advance(Duration::seconds(1));
        let (status, location, _) = get(&app, &cookie, &path).await;
        assert_eq!(
            (status, location.as_str()),
            (StatusCode::SEE_OTHER, "/console/sign-in")
        );
        app
    })
    .await;
}

#[tokio::test]
async fn console_pages_are_not_cached_framed_or_scripted_from_elsewhere() {
    each_app(|app| async move {
        let cookie = sign_in(&app, &app.writer.id, &app.writer.secret).await;
        let response = browser()
            .get(format!(
                "{}/console/apps/{}/settings",
                app.base, app.application_id
            ))
            .header(COOKIE, &cookie)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::OK);
        let headers = response.headers();
        assert_eq!(headers["cache-control"], "no-store");
        assert_eq!(headers["x-frame-options"], "DENY");
        let policy = headers["content-security-policy"].to_str().unwrap();
        assert!(policy.contains("script-src 'self'") && policy.contains("frame-ancestors 'none'"));
        let html = response.text().await.unwrap();
        assert!(
            html.contains(r#"name="account_lockout.attempts" value="5""#),
            "{html}"
        );

        let css = browser()
            .get(format!("{}/console/assets/console.css", app.base))
            .send()
            .await
            .unwrap();
        assert_eq!(css.status(), StatusCode::OK);
        assert!(css.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/css"));
        app
    })
    .await;
}
