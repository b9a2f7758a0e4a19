//! Files the server fetches (`user_file_url`, group `file_url`): the SSRF guard over HTTP.
//! The local file server the other tests fetch from is `helpers::serve_file`.

use reqwest::{Method, StatusCode};
use serde_json::json;

use crate::each_app;

#[tokio::test]
async fn the_fetcher_refuses_private_addresses_and_other_schemes() {
    each_app(|app| async move {
        for (url, expected) in [
            ("http://127.0.0.2:9/list.csv", "not allowed"),
            ("http://10.0.0.1/list.csv", "not allowed"),
            ("http://169.254.169.254/latest/meta-data", "not allowed"),
            ("http://[::1]/list.csv", "not allowed"),
            ("ftp://example.com/list.csv", "scheme"),
            ("file:///etc/passwd", "scheme"),
            ("http://user:pw@127.0.0.1/list.csv", "password"),
        ] {
            for (method, path, body) in [
                (
                    Method::PUT,
                    "/user_attribute/bulk_update",
                    json!({"user_file_url": url, "attribute": [{"key": "x", "value": 1}]}),
                ),
                (
                    Method::POST,
                    "/user_group",
                    json!({"name": "G", "description": "d", "type": "bulk", "file_url": url}),
                ),
            ] {
                let (status, answer) = app.send(method, path, Some(body)).await;
                assert_eq!(status, StatusCode::BAD_REQUEST, "{url} {path}: {answer}");
                let message = answer["message"].as_str().unwrap();
                assert!(
                    message.starts_with("file_url") || message.starts_with("user_file_url"),
                    "{message}"
                );
                assert!(message.contains(expected), "{url}: {message}");
            }
        }
        let (_, groups) = app.send(Method::GET, "/user_group", None).await;
        assert_eq!(
            groups["page"]["item_total"], 0,
            "a refused file creates nothing"
        );
        app
    })
    .await;
}
