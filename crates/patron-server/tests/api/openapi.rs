//! The OpenAPI document and its page: the document is OpenAPI 3.1, every operation it
//! describes is routed, and the job models carry the SDK's required fields.

use reqwest::{Method, StatusCode};
use serde_json::Value;

use crate::sweep::declared_routes;
use crate::{each_app, read};

#[tokio::test]
async fn openapi_describes_every_route() {
    each_app(|app| async move {
        let (status, document) = read(
            app.http
                .get(format!("{}/openapi.json", app.base))
                .send()
                .await
                .unwrap(),
        )
        .await;
        assert_eq!(status, StatusCode::OK);
        assert!(
            document["openapi"].as_str().unwrap().starts_with("3.1"),
            "{}",
            document["openapi"]
        );
        assert_eq!(document["info"]["title"], "Patron");
        let mut routed: Vec<(Method, String)> = declared_routes();
        for path in ["/healthz", "/readyz"] {
            routed.push((Method::GET, path.to_owned()));
        }
        let mut described = Vec::new();
        for (path, item) in document["paths"].as_object().unwrap() {
            for (method, operation) in item.as_object().unwrap() {
                let method: Method = method.to_ascii_uppercase().parse().unwrap();
                assert!(
                    routed.contains(&(method.clone(), path.clone())),
                    "{method} {path} is described but not routed"
                );
                assert!(operation["operationId"].is_string(), "{method} {path}");
                assert!(operation["responses"].is_object(), "{method} {path}");
                described.push((method, path.clone()));
            }
        }
        for (method, path) in &routed {
            assert!(
                described.contains(&(method.clone(), path.clone())),
                "{method} {path} is routed but not described"
            );
        }
        assert_eq!(described.len(), routed.len(), "one description per route");
        let mut ids: Vec<&str> = document["paths"]
            .as_object()
            .unwrap()
            .values()
            .flat_map(|item| item.as_object().unwrap().values())
            .map(|operation| operation["operationId"].as_str().unwrap())
            .collect();
        ids.sort_unstable();
        let count = ids.len();
        ids.dedup();
        assert_eq!(ids.len(), count, "operation ids are unique");
        let model = &document["components"]["schemas"]["BulkActionModel"];
        let required: Vec<&str> = model["required"]
            .as_array()
            .unwrap()
            .iter()
            .map(|name| name.as_str().unwrap())
            .collect();
        for field in [
            "_id",
            "file_name",
            "file_format",
            "action_type",
            "created_by",
            "application_id",
            "company_id",
        ] {
            assert!(
                required.contains(&field),
                "BulkActionModel requires {field}"
            );
        }
        for scheme in ["platform", "client", "application", "session"] {
            assert!(
                document["components"]["securitySchemes"][scheme].is_object(),
                "{scheme}"
            );
        }
        let error: &Value = &document["components"]["schemas"]["ErrorSchema"];
        assert_eq!(error["properties"]["code"]["type"], "string");

        let page = app
            .http
            .get(format!("{}/docs", app.base))
            .send()
            .await
            .unwrap();
        assert_eq!(page.status(), StatusCode::OK);
        assert!(page.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/html"));
        let html = page.text().await.unwrap();
        assert!(
            html.contains("/openapi.json") && !html.contains("https://"),
            "served whole, no CDN"
        );
        app
    })
    .await;
}
