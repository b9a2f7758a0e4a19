//! The admin console over HTTP: operator sign-in and sign-out, the cookie's attributes, the
//! company scope, the same-origin and form-token checks, expiry and the page headers. (The
//! flows themselves run in a real browser: console-tests/.)

use chrono::Duration;
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
    assert!(cookie.starts_with("__Host-patron_console="), "{cookie}");
    for attribute in [
        "Path=/;",
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

/// GETs a console path with the cookie and expects to be sent to the sign-in page.
async fn assert_sent_to_sign_in(app: &TestApp, cookie: &str, path: &str) {
    let (status, location, _) = get(app, cookie, path).await;
    assert_eq!(
        (status, location.as_str()),
        (StatusCode::SEE_OTHER, "/console/sign-in"),
        "{path}"
    );
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
        assert_sent_to_sign_in(&app, "", "/console/apps").await;

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
        assert_sent_to_sign_in(&app, &cookie, "/console/apps").await;
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
        let other = app
            .state
            .services
            .applications
            .create(patron_service::NewApplication {
                company: "777",
                name: "Elsewhere",
                ..Default::default()
            })
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
        assert_sent_to_sign_in(&app, &cookie, &path).await;
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

/// POSTs a console form with the cookie, from the console's origin.
async fn post(app: &TestApp, cookie: &str, path: &str, form: &[(&str, &str)]) -> reqwest::Response {
    browser()
        .post(format!("{}{path}", app.base))
        .header(ORIGIN, &app.base)
        .header(COOKIE, cookie)
        .form(form)
        .send()
        .await
        .unwrap()
}

#[tokio::test]
async fn a_console_cookie_is_no_bearer_token_and_a_bearer_token_no_console_cookie() {
    each_app(|app| async move {
        let cookie = sign_in(&app, &app.writer.id, &app.writer.secret).await;
        let secret = cookie.split_once('=').unwrap().1;
        let as_bearer = app
            .http
            .get(app.platform("/customers/list"))
            .bearer_auth(secret)
            .send()
            .await
            .unwrap();
        assert_eq!(as_bearer.status(), StatusCode::UNAUTHORIZED);
        let as_cookie = format!("__Host-patron_console={}", app.writer.token);
        assert_sent_to_sign_in(&app, &as_cookie, "/console/apps").await;
        app
    })
    .await;
}

#[tokio::test]
async fn signing_in_again_ends_the_session_the_browser_held() {
    each_app(|app| async move {
        let first = sign_in(&app, &app.writer.id, &app.writer.secret).await;
        let again = browser()
            .post(format!("{}/console/sign-in", app.base))
            .header(ORIGIN, &app.base)
            .header(COOKIE, &first)
            .form(&[
                ("client_id", app.reader.id.as_str()),
                ("client_secret", app.reader.secret.as_str()),
            ])
            .send()
            .await
            .unwrap();
        assert_eq!(again.status(), StatusCode::SEE_OTHER);
        assert_sent_to_sign_in(&app, &first, "/console/apps").await;
        app
    })
    .await;
}

#[tokio::test]
async fn another_applications_customer_is_not_found_through_this_application() {
    each_app(|app| async move {
        let sibling = app
            .state
            .services
            .applications
            .create(patron_service::NewApplication {
                company: COMPANY,
                name: "Sibling",
                ..Default::default()
            })
            .await
            .unwrap();
        let sibling_customer = app
            .http
            .post(format!(
                "{}/service/platform/user/v1.0/company/{COMPANY}/application/{}/customers",
                app.base, sibling.application_id
            ))
            .bearer_auth(&app.writer.token)
            .json(&serde_json::json!({"email": "sib@example.com", "first_name": "Sib"}))
            .send()
            .await
            .unwrap();
        assert_eq!(sibling_customer.status(), StatusCode::OK);
        let sibling_id = sibling_customer.json::<serde_json::Value>().await.unwrap()["user"]["_id"]
            .as_str()
            .unwrap()
            .to_owned();
        let cookie = sign_in(&app, &app.writer.id, &app.writer.secret).await;
        let here = format!(
            "/console/apps/{}/customers/{sibling_id}",
            app.application_id
        );
        let (status, _, _) = get(&app, &cookie, &here).await;
        assert_eq!(status, StatusCode::NOT_FOUND);
        let (_, _, page) = get(
            &app,
            &cookie,
            &format!("/console/apps/{}/customers", app.application_id),
        )
        .await;
        let token = form_token(&page);
        let blocked = post(
            &app,
            &cookie,
            &format!("{here}/block"),
            &[("form_token", &token), ("reason", "x")],
        )
        .await;
        assert_eq!(blocked.status(), StatusCode::NOT_FOUND);
        let (status, _, there) = get(
            &app,
            &cookie,
            &format!(
                "/console/apps/{}/customers/{sibling_id}",
                sibling.application_id
            ),
        )
        .await;
        assert_eq!(status, StatusCode::OK);
        assert!(
            there.contains(r#"id="customer-status">active<"#),
            "the sibling's customer was left alone"
        );
        app
    })
    .await;
}

#[tokio::test]
async fn settings_saved_from_a_stale_form_are_refused() {
    each_app(|app| async move {
        let cookie = sign_in(&app, &app.writer.id, &app.writer.secret).await;
        let path = format!("/console/apps/{}/settings", app.application_id);
        let (_, _, page) = get(&app, &cookie, &path).await;
        let token = form_token(&page);
        let form = |version: &'static str, attempts: &'static str| {
            vec![
                ("form_token", token.clone()),
                ("version", version.to_owned()),
                ("account_lockout.enable", "on".to_owned()),
                ("account_lockout.attempts", attempts.to_owned()),
                ("account_lockout.duration", "15".to_owned()),
                ("password_settings.configs.length", "8".to_owned()),
                ("password_settings.history.count", "0".to_owned()),
                ("password_settings.expiry.duration", "90".to_owned()),
                ("session_config.duration", "30".to_owned()),
                ("session_config.type", "Days".to_owned()),
                ("otp.length", "4".to_owned()),
                ("otp.expiry_secs", "600".to_owned()),
                ("otp.attempts", "5".to_owned()),
                ("otp.resend_timer", "30".to_owned()),
                ("otp.per_target", "5".to_owned()),
                ("otp.per_address", "30".to_owned()),
                ("otp.per_application", "1000".to_owned()),
                ("otp.budget_window_secs", "3600".to_owned()),
                ("otp.guesses_per_address", "10".to_owned()),
                ("otp.guesses_per_target", "30".to_owned()),
                ("otp.per_device", "10".to_owned()),
            ]
        };
        let send = |fields: Vec<(&'static str, String)>| {
            let cookie = cookie.clone();
            let app = &app;
            let path = path.clone();
            async move {
                let fields: Vec<(&str, &str)> =
                    fields.iter().map(|(k, v)| (*k, v.as_str())).collect();
                post(app, &cookie, &path, &fields).await.status()
            }
        };
        assert_eq!(send(form("0", "3")).await, StatusCode::SEE_OTHER);
        assert_eq!(
            send(form("0", "7")).await,
            StatusCode::CONFLICT,
            "version 0 is stale now"
        );
        assert_eq!(send(form("1", "4")).await, StatusCode::SEE_OTHER);
        let (_, config) = app
            .send(reqwest::Method::GET, "/platform/config", None)
            .await;
        assert_eq!(config["account_lockout"]["attempts"], 4);
        assert_eq!(
            config["login"]["password"], false,
            "unticked boxes are false"
        );
        app
    })
    .await;
}

#[tokio::test]
async fn a_form_needs_this_sessions_token_and_the_consoles_origin() {
    each_app(|app| async move {
        let id = app.create_customer("asha@example.com", "9876543210").await;
        let cookie = sign_in(&app, &app.writer.id, &app.writer.secret).await;
        let page = format!("/console/apps/{}/customers/{id}", app.application_id);
        let (_, _, html) = get(&app, &cookie, &page).await;
        let token = form_token(&html);
        let block = format!("{page}/block");
        let missing = post(&app, &cookie, &block, &[("reason", "forged")]).await;
        assert_eq!(missing.status(), StatusCode::FORBIDDEN);
        let wrong = "0".repeat(64);
        let forged = post(
            &app,
            &cookie,
            &block,
            &[("form_token", &wrong), ("reason", "x")],
        )
        .await;
        assert_eq!(forged.status(), StatusCode::FORBIDDEN);
        for origin in ["https://evil.example", "null"] {
            let cross = browser()
                .post(format!("{}{block}", app.base))
                .header(ORIGIN, origin)
                .header(COOKIE, &cookie)
                .form(&[("form_token", token.as_str()), ("reason", "x")])
                .send()
                .await
                .unwrap();
            assert_eq!(cross.status(), StatusCode::FORBIDDEN, "{origin}");
        }
        let (_, _, html) = get(&app, &cookie, &page).await;
        assert!(
            html.contains(r#"id="customer-status">active<"#),
            "nothing was done"
        );
        let done = post(
            &app,
            &cookie,
            &block,
            &[("form_token", &token), ("reason", "ok")],
        )
        .await;
        assert_eq!(done.status(), StatusCode::SEE_OTHER);
        let (_, _, html) = get(&app, &cookie, &page).await;
        assert!(html.contains(r#"id="customer-status">blocked<"#), "{html}");
        app
    })
    .await;
}

#[tokio::test]
async fn narrowing_a_clients_scopes_applies_at_once_and_revoking_it_ends_its_sessions() {
    each_app(|app| async move {
        let id = app.create_customer("asha@example.com", "9876543210").await;
        let cookie = sign_in(&app, &app.writer.id, &app.writer.secret).await;
        let page = format!("/console/apps/{}/customers/{id}", app.application_id);
        let (_, _, html) = get(&app, &cookie, &page).await;
        assert!(html.contains("/block\""), "a writer sees the block form");
        let token = form_token(&html);
        app.state
            .services
            .clients
            .set_scopes(&app.writer.id, "application/customers/read")
            .await
            .unwrap();
        let (_, _, html) = get(&app, &cookie, &page).await;
        assert!(!html.contains("/block\""), "a reader does not");
        let refused = post(
            &app,
            &cookie,
            &format!("{page}/block"),
            &[("form_token", &token), ("reason", "x")],
        )
        .await;
        assert_eq!(refused.status(), StatusCode::FORBIDDEN);
        app.state
            .services
            .clients
            .revoke(&app.writer.id)
            .await
            .unwrap();
        assert_sent_to_sign_in(&app, &cookie, &page).await;
        app
    })
    .await;
}
