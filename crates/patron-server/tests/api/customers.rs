//! The customer operations over HTTP.

use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

use crate::each_app;

/// No key anywhere names a password, its hash, salt or history.
fn has_no_secrets(value: &Value) -> bool {
    match value {
        Value::Object(map) => map.iter().all(|(key, inner)| {
            ![
                "password",
                "password_history",
                "hash",
                "salt",
                "password_last_modified",
            ]
            .contains(&key.as_str())
                && has_no_secrets(inner)
        }),
        Value::Array(items) => items.iter().all(has_no_secrets),
        _ => true,
    }
}

#[tokio::test]
async fn create_normalises_contacts_and_hides_secrets() {
    each_app(|app| async move {
        let (status, body) = app
            .send(Method::POST, "/customers", Some(json!({"email": " Asha@Example.COM ", "phone_number": "+91 98765 43210", "first_name": "Asha", "meta": {"tier": "gold"}})))
            .await;
        assert_eq!(status, StatusCode::OK, "{body}");
        let user = &body["user"];
        assert_eq!(user["emails"][0]["email"], "asha@example.com");
        assert_eq!(user["phone_numbers"][0], json!({"phone": "9876543210", "country_code": 91, "active": true, "primary": true, "verified": true}));
        assert_eq!(user["_id"], user["user_id"]);
        let username = user["username"].as_str().unwrap();
        assert!(username.starts_with("asha_") && username.len() <= 20, "{username}");
        assert!(!username.contains(&app.application_id), "{username}");
        assert!(user.get("gender").is_none(), "absent values are omitted, not null");
        assert!(has_no_secrets(&body));

        let (status, body) = app.send(Method::POST, "/customers?verified=false", Some(json!({"phone_number": "919876543211"}))).await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(body["user"]["phone_numbers"][0]["verified"], false);

        let (status, body) = app.send(Method::POST, "/customers", Some(json!({"email": "ASHA@example.com"}))).await;
        assert_eq!((status, body["code"].as_str()), (StatusCode::BAD_REQUEST, Some("EMAIL_ALREADY_EXISTS")));
        let (status, body) = app.send(Method::POST, "/customers", Some(json!({"phone_number": "9876543210"}))).await;
        assert_eq!((status, body["code"].as_str()), (StatusCode::BAD_REQUEST, Some("PHONE_ALREADY_EXISTS")));
        app
    })
    .await;
}

/// A valid national number that begins with the country code (91) is kept national.
#[tokio::test]
async fn indian_mobiles_that_begin_with_91_are_accepted() {
    each_app(|app| async move {
        let (status, body) = app.send(Method::POST, "/customers", Some(json!({"phone_number": "9136425497"}))).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        assert_eq!(body["user"]["phone_numbers"][0]["phone"], "9136425497");
        assert_eq!(body["user"]["phone_numbers"][0]["country_code"], 91);
        let id = body["user"]["_id"].as_str().unwrap().to_owned();

        let path = format!("/customers/{id}");
        let (status, body) = app.send(Method::PUT, &path, Some(json!({"phone_numbers": [{"phone": "9136425498", "country_code": "91", "primary": true}]}))).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        assert_eq!(body["user"]["phone_numbers"][0]["phone"], "9136425498");

        let (status, body) = app.send(Method::POST, "/customers", Some(json!({"phone_number": "+91 91364 25498"}))).await;
        assert_eq!((status, body["code"].as_str()), (StatusCode::BAD_REQUEST, Some("PHONE_ALREADY_EXISTS")), "{body}");
        app
    })
    .await;
}

#[tokio::test]
async fn concurrent_duplicate_creates_make_one_customer() {
    each_app(|app| async move {
        let attempts = (0..10).map(|i| {
            app.request(Method::POST, "/customers").json(&json!({"email": "race@example.com", "phone_number": format!("98765000{i:02}")})).send()
        });
        let responses = futures_join(attempts).await;
        let ok = responses.iter().filter(|status| **status == StatusCode::OK).count();
        let refused = responses.iter().filter(|status| **status == StatusCode::BAD_REQUEST).count();
        assert_eq!((ok, refused), (1, 9));
        app
    })
    .await;
}

async fn futures_join<F>(requests: impl Iterator<Item = F>) -> Vec<StatusCode>
where
    F: std::future::Future<Output = reqwest::Result<reqwest::Response>> + Send + 'static,
{
    let handles: Vec<_> = requests.map(tokio::spawn).collect();
    let mut statuses = Vec::new();
    for handle in handles {
        statuses.push(handle.await.unwrap().unwrap().status());
    }
    statuses
}

#[tokio::test]
async fn list_and_search_find_customers() {
    each_app(|app| async move {
        let asha = app.create_customer("asha@example.com", "9876543210").await;
        app.create_customer("bela@example.com", "9876543211").await;
        let (status, body) = app.list(&[("q", r#"{"$or":[{"emails.email":"asha@example.com"},{"phoneNumbers.phone":"asha@example.com"}]}"#)]).await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(body["items"][0]["_id"], asha.as_str());
        assert_eq!(body["page"], json!({"type": "number", "current": 1, "size": 10, "item_total": 1, "has_next": false}));
        let (_, body) = app.list(&[("q", "98765"), ("page_size", "1")]).await;
        assert_eq!((body["items"].as_array().unwrap().len(), body["page"]["has_next"].as_bool()), (1, Some(true)));
        let (status, body) = app.list(&[("q", r#"{"password": "x"}"#)]).await;
        assert_eq!((status, body["code"].as_str()), (StatusCode::BAD_REQUEST, Some("INVALID_QUERY")));
        assert!(body["message"].as_str().unwrap().contains("password"));
        let (status, body) = app.list(&[("q", r#"{"$or":"x"}"#)]).await;
        assert_eq!((status, body["code"].as_str()), (StatusCode::BAD_REQUEST, Some("INVALID_QUERY")), "$or must be an array: {body}");
        assert!(body["message"].as_str().unwrap().contains("$or"), "{body}");

        let response = app.request(Method::GET, "/customers/search?query=asha@example.com&query=%2B919876543211&query=nobody@x.io").send().await.unwrap();
        let (status, body) = crate::read(response).await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(body["users"].as_array().unwrap().len(), 2);
        app
    })
    .await;
}

#[tokio::test]
async fn update_replaces_contacts_and_bumps_version() {
    each_app(|app| async move {
        let id = app.create_customer("asha@example.com", "9876543210").await;
        let other = app.create_customer("bela@example.com", "9876543211").await;
        let path = format!("/customers/{id}");
        let (status, body) = app
            .send(Method::PUT, &path, Some(json!({"first_name": "Asha", "emails": [{"email": "new@example.com", "primary": true}], "phone_numbers": [{"phone": "9876543212", "country_code": "91", "primary": true, "verified": true, "active": true}]})))
            .await;
        assert_eq!(status, StatusCode::OK, "{body}");
        assert_eq!(body["user"]["__v"], 1);
        assert_eq!(body["user"]["emails"][0]["email"], "new@example.com");
        let (status, body) = app.send(Method::PUT, &path, Some(json!({}))).await;
        assert_eq!((status, body["user"]["__v"].as_i64()), (StatusCode::OK, Some(1)), "no-op updates keep the version");

        let (status, body) = app.send(Method::PUT, &path, Some(json!({"emails": [{"email": "a@x.io", "primary": true}, {"email": "b@x.io", "primary": true}]}))).await;
        assert_eq!((status, body["code"].as_str()), (StatusCode::BAD_REQUEST, Some("VALIDATION_ERROR")));
        let (status, body) = app.send(Method::PUT, &path, Some(json!({"emails": [{"email": "bela@example.com"}]}))).await;
        assert_eq!((status, body["code"].as_str()), (StatusCode::BAD_REQUEST, Some("EMAIL_ALREADY_EXISTS")));
        let (status, body) = app.send(Method::PUT, &path, Some(json!({"emails": [], "phone_numbers": []}))).await;
        assert_eq!((status, body["code"].as_str()), (StatusCode::BAD_REQUEST, Some("VALIDATION_ERROR")));
        let (status, _) = app.send(Method::PUT, "/customers/0000000000000000000000ff", Some(json!({"first_name": "x"}))).await;
        assert_eq!(status, StatusCode::NOT_FOUND);
        let (status, _) = app.send(Method::PUT, "/customers/not-an-id", Some(json!({"first_name": "x"}))).await;
        assert_eq!(status, StatusCode::BAD_REQUEST);
        let _ = other;
        app
    })
    .await;
}

#[tokio::test]
async fn block_archive_and_restore() {
    each_app(|app| async move {
        let id = app.create_customer("asha@example.com", "9876543210").await;
        let (status, body) = app
            .send(
                Method::PUT,
                "/customers/activation",
                Some(json!({"status": false, "user_id": [id]})),
            )
            .await;
        assert_eq!(
            (status, body["message"].as_str()),
            (StatusCode::BAD_REQUEST, Some("reason: is required"))
        );
        let unknown = "0000000000000000000000ff";
        let (status, body) = app
            .send(
                Method::PUT,
                "/customers/activation",
                Some(json!({"status": false, "user_id": [id, unknown], "reason": "fraud"})),
            )
            .await;
        assert_eq!(
            (status, body["code"].as_str()),
            (StatusCode::BAD_REQUEST, Some("UNKNOWN_USERS"))
        );
        assert_eq!(body["meta"]["user_ids"], json!([unknown]));
        let (status, body) = app
            .send(
                Method::PUT,
                "/customers/activation",
                Some(json!({"status": false, "user_id": [id], "reason": "fraud"})),
            )
            .await;
        assert_eq!((status, body), (StatusCode::OK, json!({"success": true})));
        let (_, list) = app.list(&[]).await;
        assert_eq!(list["items"][0]["active"], false);

        let (status, _) = app
            .send(
                Method::PUT,
                "/customers/archive",
                Some(json!({"user_id": unknown})),
            )
            .await;
        assert_eq!(status, StatusCode::NOT_FOUND);
        let (status, _) = app
            .send(
                Method::PUT,
                "/customers/archive",
                Some(json!({"user_id": id})),
            )
            .await;
        assert_eq!(status, StatusCode::OK);
        let (_, list) = app.list(&[]).await;
        assert_eq!(list["page"]["item_total"], 0);
        let (_, archived) = app.list(&[("q", r#"{"archive": true}"#)]).await;
        assert_eq!(archived["items"][0]["archive"], true);

        let newer = app.create_customer("asha@example.com", "9876543219").await;
        let restore = json!({"user_id": id, "reason": "customer asked", "reason_id": "r1"});
        let (status, body) = app
            .send(Method::PUT, "/customers/undelete", Some(restore.clone()))
            .await;
        assert_eq!(
            (status, body["code"].as_str()),
            (StatusCode::BAD_REQUEST, Some("EMAIL_ALREADY_EXISTS"))
        );
        assert!(body["message"]
            .as_str()
            .unwrap()
            .contains("asha@example.com"));
        app.send(
            Method::PUT,
            "/customers/archive",
            Some(json!({"user_id": newer})),
        )
        .await;
        let (status, _) = app
            .send(Method::PUT, "/customers/undelete", Some(restore.clone()))
            .await;
        assert_eq!(status, StatusCode::OK);
        let (status, body) = app
            .send(Method::PUT, "/customers/undelete", Some(restore))
            .await;
        assert_eq!(
            (status, body["code"].as_str()),
            (StatusCode::BAD_REQUEST, Some("USER_NOT_ARCHIVED"))
        );
        let (status, _) = app
            .send(
                Method::PUT,
                "/customers/undelete",
                Some(json!({"user_id": id})),
            )
            .await;
        assert_eq!(status, StatusCode::BAD_REQUEST);
        app
    })
    .await;
}

#[tokio::test]
async fn the_timeline_tells_what_happened_newest_first() {
    each_app(|app| async move {
        let id = app.create_customer("asha@example.com", "9876543210").await;
        for (status, reason) in [(false, "fraud review"), (true, "cleared")] {
            let body = json!({"status": status, "user_id": [id], "reason": reason});
            let (code, _) = app
                .send(Method::PUT, "/customers/activation", Some(body))
                .await;
            assert_eq!(code, StatusCode::OK);
        }
        let (code, _) = app
            .send(
                Method::PUT,
                "/customers/archive",
                Some(json!({"user_id": id})),
            )
            .await;
        assert_eq!(code, StatusCode::OK);
        let (status, body) = app
            .send(Method::GET, &format!("/customers/{id}/timeline"), None)
            .await;
        assert_eq!(status, StatusCode::OK, "{body}");
        let entries = body["timeline"].as_array().unwrap();
        let kinds: Vec<&str> = entries
            .iter()
            .map(|e| e["type"].as_str().unwrap())
            .collect();
        assert_eq!(
            kinds,
            ["archived", "unblocked", "blocked", "created"],
            "{body}"
        );
        assert_eq!(entries[2]["title"], "Account blocked");
        assert_eq!(entries[2]["sub_title"], "fraud review");
        assert!(entries[0]["date"].is_string() && entries[0]["visible"] == true);
        assert!(
            body.get("delete_on").is_none(),
            "no deletion pending: {body}"
        );
        let unknown =
            patron_domain::ids::ObjectId::generate(patron_service::Clock::now(app.clock.as_ref()));
        let (status, body) = app
            .send(Method::GET, &format!("/customers/{unknown}/timeline"), None)
            .await;
        assert_eq!(
            (status, body["code"].as_str()),
            (StatusCode::NOT_FOUND, Some("USER_NOT_FOUND"))
        );
        app
    })
    .await;
}
