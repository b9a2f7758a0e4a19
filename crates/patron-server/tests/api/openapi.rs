//! The OpenAPI document and its page: the document is OpenAPI 3.1, every operation it
//! describes is routed, and the job models carry the SDK's required fields.

use reqwest::StatusCode;
use serde_json::Value;

use crate::{declared_routes, each_app, read};

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
        // The router and the document are made from the same declarations; still, every
        // described operation must reach a handler, not the router's fallbacks.
        let mut described = 0;
        for (method, template) in declared_routes() {
            let path = template
                .replace("{company_id}", crate::COMPANY)
                .replace("{application_id}", &app.application_id)
                .replace(['{', '}'], "");
            let response = app
                .http
                .request(method.clone(), format!("{}{path}", app.base))
                .send()
                .await
                .unwrap();
            let status = response.status();
            let body = response.text().await.unwrap();
            assert!(
                !body.contains("no such route") && !body.contains("method not allowed"),
                "{method} {template} is described but not routed: {status} {body}"
            );
            described += 1;
        }
        assert!(described > 60, "{described} operations");
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

#[tokio::test]
async fn a_malformed_path_id_is_a_400_naming_it_in_fynds_shape() {
    each_app(|app| async move {
        let asha = app.create_customer("asha@example.com", "9876543210").await;
        for (method, path, field) in [
            (
                reqwest::Method::GET,
                "/customers/nothex/timeline".to_owned(),
                "user_id",
            ),
            (
                reqwest::Method::GET,
                "/user_group/123".to_owned(),
                "group_id",
            ),
            (
                reqwest::Method::GET,
                format!("/user_attribute/definition/x/user/{asha}"),
                "attribute_def_id",
            ),
            (reqwest::Method::GET, "/users/jobs/%FF".to_owned(), "job_id"),
        ] {
            let (status, body) = app.send(method.clone(), &path, None).await;
            assert_eq!(status, StatusCode::BAD_REQUEST, "{method} {path}: {body}");
            let message = body["message"].as_str().unwrap_or_default();
            assert!(message.contains(field), "{method} {path}: {body}");
            assert!(body["code"].is_string(), "Fynd's shape: {body}");
        }
        app
    })
    .await;
}

#[test]
fn no_two_wire_types_share_a_schema_name() {
    // utoipa keys component schemas by name: two types of one name would silently describe
    // each other's operations.
    let derive = regex::Regex::new(
        r"#\[derive\([^)]*ToSchema[^)]*\)\]\s*(?:#\[[^\]]*\]\s*|///[^\n]*\n\s*|//[^\n]*\n\s*)*pub(?:\(crate\))? (?:struct|enum) (\w+)",
    )
    .unwrap();
    let mut names = std::collections::BTreeMap::<String, Vec<String>>::new();
    let source = concat!(env!("CARGO_MANIFEST_DIR"), "/src");
    let mut directories = vec![std::path::PathBuf::from(source)];
    while let Some(directory) = directories.pop() {
        for entry in std::fs::read_dir(&directory).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                directories.push(path);
            } else if path.extension().is_some_and(|ext| ext == "rs") {
                let text = std::fs::read_to_string(&path).unwrap();
                for found in derive.captures_iter(&text) {
                    names
                        .entry(found[1].to_owned())
                        .or_default()
                        .push(path.display().to_string());
                }
            }
        }
    }
    assert!(names.len() > 50, "found the wire types: {}", names.len());
    let shared: Vec<_> = names
        .iter()
        .filter(|(_, places)| places.len() > 1)
        .collect();
    assert!(shared.is_empty(), "schema names used twice: {shared:?}");
}

#[tokio::test]
async fn path_ids_are_read_in_the_order_the_checks_were_made() {
    each_app(|app| async move {
        let get = |url: String, token: Option<String>| {
            let request = app.http.get(url);
            let request = match token {
                Some(token) => request.bearer_auth(token),
                None => request,
            };
            async move { request.send().await.unwrap().status() }
        };
        // Another company's path is refused as such before its application id is read.
        let foreign = format!(
            "{}/service/platform/user/v1.0/company/560/application/nothex/customers/list",
            app.base
        );
        assert_eq!(
            get(foreign, Some(app.writer.token.clone())).await,
            StatusCode::FORBIDDEN
        );
        // The token endpoint checks the client before the company in its path.
        let token = app
            .http
            .post(format!(
                "{}/service/panel/authentication/v1.0/company/x1/oauth/token",
                app.base
            ))
            .form(&[("grant_type", "client_credentials")])
            .send()
            .await
            .unwrap();
        assert_eq!(token.status(), StatusCode::UNAUTHORIZED);
        // A download link is its own credential: without its signature, 403 whatever the ids.
        let download = app.platform("/users/jobs/nothex/file");
        assert_eq!(get(download, None).await, StatusCode::FORBIDDEN);
        app
    })
    .await;
}
