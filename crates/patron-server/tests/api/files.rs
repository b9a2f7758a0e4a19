//! Files the server fetches (`user_file_url`, group `file_url`): a local file server, the
//! SSRF guard over HTTP, and raw-row access for at-rest checks.

use reqwest::{Method, StatusCode};
use serde_json::json;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

use crate::{each_app, TestApp};

/// Serves `body` as a CSV at any path on 127.0.0.1; returns the file's URL.
pub async fn serve_file(body: impl Into<Vec<u8>>) -> String {
    let body: Vec<u8> = body.into();
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    tokio::spawn(async move {
        loop {
            let Ok((mut socket, _)) = listener.accept().await else {
                return;
            };
            let body = body.clone();
            tokio::spawn(async move {
                let mut request = Vec::new();
                let mut buffer = [0u8; 1024];
                while !request.windows(4).any(|w| w == b"\r\n\r\n") {
                    match socket.read(&mut buffer).await {
                        Ok(0) | Err(_) => return,
                        Ok(n) => request.extend_from_slice(&buffer[..n]),
                    }
                }
                let head = format!(
                    "HTTP/1.1 200 OK\r\ncontent-type: text/csv\r\ncontent-length: {}\r\nconnection: close\r\n\r\n",
                    body.len()
                );
                let _ = socket.write_all(head.as_bytes()).await;
                let _ = socket.write_all(&body).await;
                let _ = socket.shutdown().await;
            });
        }
    });
    format!("http://{address}/list.csv")
}

/// The stored text of every attribute value, straight from the database.
pub async fn raw_values(app: &TestApp) -> Vec<String> {
    crate::text_rows(app, "SELECT value FROM attribute_values").await
}

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
