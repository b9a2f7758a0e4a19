//! Health, request ids, and malformed requests answered in Fynd's error shape.

use reqwest::{Method, StatusCode};
use serde_json::json;

use crate::{each_app, read};

#[tokio::test]
async fn health_and_readiness() {
    each_app(|app| async move {
        let (status, _) = read(
            app.http
                .get(format!("{}/healthz", app.base))
                .send()
                .await
                .unwrap(),
        )
        .await;
        assert_eq!(status, StatusCode::OK);
        let (status, body) = read(
            app.http
                .get(format!("{}/readyz", app.base))
                .send()
                .await
                .unwrap(),
        )
        .await;
        assert_eq!(
            (status, body["status"].as_str()),
            (StatusCode::OK, Some("ready"))
        );
        app
    })
    .await;
}

#[tokio::test]
async fn request_ids_are_echoed_or_minted() {
    each_app(|app| async move {
        let echoed = app
            .request(Method::GET, "/customers/list")
            .header("x-request-id", "trace-123")
            .send()
            .await
            .unwrap();
        assert_eq!(echoed.headers()["x-request-id"], "trace-123");
        let response = app
            .http
            .get(format!("{}/nowhere", app.base))
            .send()
            .await
            .unwrap();
        let minted = response.headers()["x-request-id"]
            .to_str()
            .unwrap()
            .to_owned();
        let (status, body) = read(response).await;
        assert_eq!(
            (status, body["code"].as_str()),
            (StatusCode::NOT_FOUND, Some("ROUTE_NOT_FOUND"))
        );
        assert_eq!(body["request_id"], minted.as_str());
        let (status, body) = read(
            app.http
                .delete(app.platform("/customers/list"))
                .send()
                .await
                .unwrap(),
        )
        .await;
        assert_eq!(
            (status, body["code"].as_str()),
            (StatusCode::METHOD_NOT_ALLOWED, Some("METHOD_NOT_ALLOWED"))
        );
        app
    })
    .await;
}

#[tokio::test]
async fn malformed_bodies_get_clear_400s_and_write_nothing() {
    each_app(|app| async move {
        let cases = [
            ("{not json", "MALFORMED_BODY", None),
            ("[1,2]", "MALFORMED_BODY", None),
            ("", "MALFORMED_BODY", None),
            (r#"{"email": 5}"#, "VALIDATION_ERROR", Some("email")),
            (
                r#"{"email": "a@b.io", "meta": [1]}"#,
                "VALIDATION_ERROR",
                Some("meta"),
            ),
            (
                r#"{"email": "not-an-email"}"#,
                "VALIDATION_ERROR",
                Some("email"),
            ),
            (
                r#"{"phone_number": "12"}"#,
                "VALIDATION_ERROR",
                Some("phone_number"),
            ),
            (
                r#"{"first_name": "no contact"}"#,
                "VALIDATION_ERROR",
                Some("phone_number"),
            ),
            (
                r#"{"email": "a@b.io", "username": "a b"}"#,
                "VALIDATION_ERROR",
                Some("username"),
            ),
        ];
        for (body, code, field) in cases {
            let response = app
                .request(Method::POST, "/customers")
                .header("content-type", "application/json")
                .body(body)
                .send()
                .await
                .unwrap();
            let (status, answer) = read(response).await;
            assert_eq!(status, StatusCode::BAD_REQUEST, "{body}: {answer}");
            assert_eq!(answer["code"], code, "{body}: {answer}");
            assert_eq!(answer["success"], false);
            if let Some(field) = field {
                assert!(
                    answer["message"].as_str().unwrap().starts_with(field),
                    "{body}: {answer}"
                );
            }
        }
        let (_, list) = app.list(&[]).await;
        assert_eq!(list["page"]["item_total"], 0, "nothing was written");
        app
    })
    .await;
}

#[tokio::test]
async fn oversized_bodies_are_413() {
    each_app(|app| async move {
        let huge = json!({ "email": "a@b.io", "meta": { "blob": "x".repeat(2 * 1024 * 1024) } });
        let (status, body) = app.send(Method::POST, "/customers", Some(huge)).await;
        assert_eq!(
            (status, body["code"].as_str()),
            (StatusCode::PAYLOAD_TOO_LARGE, Some("PAYLOAD_TOO_LARGE"))
        );
        app
    })
    .await;
}

#[tokio::test]
async fn bad_pagination_is_400() {
    each_app(|app| async move {
        for (key, value) in [
            ("page_no", "two"),
            ("page_no", "0"),
            ("page_size", "101"),
            ("page_size", "0"),
        ] {
            let (status, body) = app.list(&[(key, value)]).await;
            assert_eq!(status, StatusCode::BAD_REQUEST, "{key}={value}");
            assert_eq!(body["meta"]["field"], key);
        }
        app
    })
    .await;
}

/// A JSON endpoint takes only a body declared as JSON: a cross-site form post (text/plain,
/// urlencoded) is 415 before any handler runs, on the platform and the storefront alike.
#[tokio::test]
async fn bodies_not_sent_as_json_are_refused_with_415() {
    each_app(|app| async move {
        let body = r#"{"email": "asha@example.com"}"#;
        for content_type in [
            None,
            Some("text/plain"),
            Some("application/x-www-form-urlencoded"),
        ] {
            let mut request = app.request(Method::POST, "/customers").body(body);
            if let Some(content_type) = content_type {
                request = request.header("content-type", content_type);
            }
            let (status, answer) = read(request.send().await.unwrap()).await;
            assert_eq!(
                (status, answer["code"].as_str()),
                (
                    StatusCode::UNSUPPORTED_MEDIA_TYPE,
                    Some("UNSUPPORTED_MEDIA_TYPE")
                ),
                "{content_type:?}"
            );
            let mut request = app
                .storefront(Method::POST, "/authentication/v1.0/login/password")
                .body(r#"{"username": "a@b.io", "password": "x"}"#);
            if let Some(content_type) = content_type {
                request = request.header("content-type", content_type);
            }
            assert_eq!(
                request.send().await.unwrap().status(),
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "{content_type:?}"
            );
        }
        let response = app
            .request(Method::POST, "/customers")
            .header("content-type", "application/json; charset=utf-8")
            .body(body)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::OK, "parameters are fine");
        app
    })
    .await;
}

#[tokio::test]
async fn metrics_scrape_in_prometheus_format_by_route_template() {
    each_app(|app| async move {
        app.http
            .get(format!("{}/healthz", app.base))
            .send()
            .await
            .unwrap();
        let id = app.create_customer("asha@example.com", "9876543210").await;
        let (status, _) = app
            .send(Method::GET, &format!("/customers/{id}/timeline"), None)
            .await;
        assert_eq!(status, StatusCode::OK);
        app.register("ravi@example.com", "9123456780").await;
        let sent = app
            .storefront(Method::POST, "/authentication/v1.0/login/otp")
            .json(&json!({"mobile": "9000000001", "country_code": "91"}))
            .send()
            .await
            .unwrap();
        assert_eq!(sent.status(), StatusCode::OK);
        // Paths no route serves are counted without becoming labels.
        let probe = app
            .http
            .get(format!("{}/wp-admin/probe-{id}", app.base))
            .send()
            .await
            .unwrap();
        assert_eq!(probe.status(), StatusCode::NOT_FOUND);
        // A made-up method is counted as OTHER, not as a series of its own.
        let odd = app
            .http
            .request(
                Method::from_bytes(b"PROBE7").unwrap(),
                format!("{}/healthz", app.base),
            )
            .send()
            .await
            .unwrap();
        assert_eq!(odd.status(), StatusCode::METHOD_NOT_ALLOWED);
        let public = app.http.get(format!("{}/metrics", app.base)).send().await.unwrap();
        assert_eq!(
            public.status(),
            StatusCode::NOT_FOUND,
            "metrics are not on the public port"
        );
        // The metrics listener, as `patron serve` starts it beside the public one.
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let metrics = format!("http://{}/metrics", listener.local_addr().unwrap());
        tokio::spawn(patron_server::serve(
            listener,
            patron_server::build_metrics_router(app.state.clone()),
            std::future::pending(),
        ));
        // A message waits in the outbox (the log notifier keeps it there).
        let response = app.http.get(metrics).send().await.unwrap();
        assert_eq!(response.status(), StatusCode::OK);
        assert!(response.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/plain"));
        let text = response.text().await.unwrap();
        for expected in [
            r#"patron_http_requests_total{method="GET",route="/healthz",status="200"}"#,
            r#"route="/service/platform/user/v1.0/company/{company_id}/application/{application_id}/customers/{user_id}/timeline",status="200""#,
            "patron_http_request_duration_seconds_bucket{",
            r#"patron_otp_sends_total{outcome="sent",reason=""}"#,
            "patron_password_hash_wait_seconds_count",
            r#"patron_outbox_messages{status="pending"}"#,
            r#"patron_jobs{status="pending"} 0"#,
            r#"patron_lifecycle_events{status="pending"}"#,
            r#"patron_db_pool_connections{state="idle"}"#,
            "# TYPE patron_http_requests_total counter",
            r#"patron_http_requests_total{method="GET",route="unmatched",status="404"}"#,
            r#"patron_http_requests_total{method="OTHER",route="unmatched",status="405"}"#,
        ] {
            assert!(text.contains(expected), "missing {expected}\n{text}");
        }
        assert!(!text.contains(&id), "ids never become labels");
        assert!(!text.contains("PROBE7"), "made-up methods never become labels");
        assert!(!text.contains(&app.application_id));
        app
    })
    .await;
}
