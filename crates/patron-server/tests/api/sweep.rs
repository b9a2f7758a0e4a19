//! Sweeps over every route the OpenAPI document describes (the document and the router are
//! made from the same declarations, so a new route is swept without anyone listing it):
//! malformed input only ever gets a 4xx, another company's token only ever gets 403/404
//! without any of the company's data, and each platform route needs the scope it documents.

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use reqwest::{Method, StatusCode};
use serde_json::{json, Map, Value};

use crate::{declared_routes, documented_operations, each_app, COMPANY};

const PLATFORM: &str =
    "/service/platform/user/v1.0/company/{company_id}/application/{application_id}";
const STOREFRONT: &str = "/service/application/user";

/// `template` with its `{company_id}` and `{application_id}` filled in, and every other
/// parameter set to `other`.
fn fill(template: &str, company: &str, application: &str, other: &str) -> String {
    let mut path = template
        .replace("{company_id}", company)
        .replace("{application_id}", application);
    while let Some(start) = path.find('{') {
        let end = path[start..]
            .find('}')
            .map_or(path.len(), |end| start + end + 1);
        path.replace_range(start..end, other);
    }
    path
}

/// A JSON value of a random shape: what a confused or hostile client might send.
fn junk(rng: &mut StdRng, depth: u32) -> Value {
    match rng.gen_range(0..if depth > 2 { 7 } else { 9 }) {
        0 => Value::Null,
        1 => json!(rng.gen::<bool>()),
        2 => json!(rng.gen::<i64>()),
        3 => json!(rng.gen::<f64>() * 1e300),
        4 => json!(""),
        5 => json!(
            [
                "x",
                "🙂",
                "'; DROP TABLE customers; --",
                &"a".repeat(300),
                "+91",
                "{{otp}}"
            ][rng.gen_range(0..6)]
        ),
        6 => json!("6b09a1f0c2d3e4f506172839"),
        7 => Value::Array(
            (0..rng.gen_range(0..4))
                .map(|_| junk(rng, depth + 1))
                .collect(),
        ),
        _ => Value::Object(junk_object(rng, depth + 1)),
    }
}

/// The field names Fynd's bodies use, each given a junk value.
fn junk_object(rng: &mut StdRng, depth: u32) -> Map<String, Value> {
    const FIELDS: &[&str] = &[
        "email",
        "phone",
        "phone_number",
        "mobile",
        "country_code",
        "password",
        "old_password",
        "new_password",
        "username",
        "user_id",
        "users",
        "user_ids",
        "attribute",
        "attributes",
        "value",
        "key",
        "name",
        "type",
        "slug",
        "conditions",
        "user_data",
        "file_url",
        "absolute_url",
        "q",
        "otp",
        "request_id",
        "register_token",
        "resend_token",
        "code",
        "token",
        "first_name",
        "last_name",
        "gender",
        "dob",
        "meta",
        "action",
        "reason",
        "reason_id",
        "session_id",
        "domain",
        "max_age",
        "verified",
        "primary",
        "emails",
        "phone_numbers",
        "id_token",
        "access_token",
        "user_identifier",
        "profile",
        "definition_ids",
        "validations",
        "default_value",
        "is_multi_value",
        "login",
        "account_lockout",
        "otp_length",
        "social_tokens",
        "allowed_origins",
        "external_id",
        "blacklist",
        "whitelist",
    ];
    (0..rng.gen_range(0..6))
        .map(|_| {
            let field = FIELDS[rng.gen_range(0..FIELDS.len())].to_owned();
            (field, junk(rng, depth))
        })
        .collect()
}

/// A body for one malformed request: broken JSON, the wrong JSON type, or an object of
/// known fields holding values of random types.
fn junk_body(rng: &mut StdRng) -> (String, String) {
    let json = "application/json".to_owned();
    match rng.gen_range(0..6) {
        0 => (json, "{\"email\": ".to_owned()),
        1 => (json, junk(rng, 3).to_string()),
        2 => ("text/plain".to_owned(), "email=a@b.c".to_owned()),
        3 => (json, "\u{0}\u{ffff}".to_owned()),
        _ => (json, Value::Object(junk_object(rng, 0)).to_string()),
    }
}

/// Path parameters and query strings a client might put in place of ids.
const ODD_IDS: &[&str] = &[
    "nope",
    "0",
    "6b09a1f0c2d3e4f506172839",
    "%00",
    "..%2f..%2fetc",
    "a%20b",
];
const ODD_QUERIES: &[&str] = &[
    "",
    "?page_no=-1&page_size=0",
    "?page_size=99999999999999999999",
    "?q=%7B%22email%22%3A%7B%22%24regex%22%3A%22.*%22%7D%7D",
    "?q=(((((",
    "?user_id=&file_format=xlsx&start_date=yesterday",
    "?page_no=abc&archived=maybe",
];

#[tokio::test]
async fn malformed_input_to_every_route_gets_a_4xx_never_a_5xx() {
    each_app(|app| async move {
        let session = app.sweep_session().await;
        let mut rng = StdRng::seed_from_u64(0x5eed);
        let mut failures = Vec::new();
        let mut sent = 0;
        for (method, template) in declared_routes() {
            for case in 0..8 {
                let id = ODD_IDS[(case + sent) % ODD_IDS.len()];
                let query = ODD_QUERIES[(case * 3 + sent) % ODD_QUERIES.len()];
                let path = fill(&template, COMPANY, &app.application_id, id) + query;
                let storefront = path.strip_prefix(STOREFRONT);
                let mut request = match storefront {
                    Some(rest) => app
                        .storefront(method.clone(), rest)
                        .header("cookie", format!("f.session={session}")),
                    None if path.contains("/oauth/") => app
                        .http
                        .request(method.clone(), format!("{}{path}", app.base))
                        .basic_auth(&app.writer.id, Some(&app.writer.secret)),
                    None => app
                        .http
                        .request(method.clone(), format!("{}{path}", app.base))
                        .bearer_auth(&app.writer.token),
                };
                if method != Method::GET {
                    let (content_type, body) = junk_body(&mut rng);
                    request = request.header("content-type", content_type).body(body);
                }
                let response = request.send().await.unwrap();
                sent += 1;
                let status = response.status();
                if !status.is_client_error() && !status.is_success() {
                    let body = response.text().await.unwrap_or_default();
                    failures.push(format!("{method} {path} -> {status}: {body}"));
                }
            }
        }
        assert!(sent > 400, "{sent} requests");
        assert!(
            failures.is_empty(),
            "{} of {sent} requests were not 2xx/4xx:\n{}",
            failures.len(),
            failures.join("\n")
        );
        app
    })
    .await;
}

#[tokio::test]
async fn another_companys_token_reaches_nothing_of_this_company() {
    each_app(|app| async move {
        let customer = app.create_customer("asha@example.com", "9876543210").await;
        let outsider = app
            .state
            .services
            .clients
            .create(
                "560",
                "application/customers/read,application/customers/write,company/settings/write",
                None,
            )
            .await
            .unwrap();
        let response = app
            .http
            .post(format!(
                "{}/service/panel/authentication/v1.0/company/560/oauth/token",
                app.base
            ))
            .basic_auth(&outsider.client_id, Some(&outsider.client_secret))
            .form(&[("grant_type", "client_credentials")])
            .send()
            .await
            .unwrap();
        let (status, body) = crate::read(response).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        let token = body["access_token"].as_str().unwrap().to_owned();
        let mut leaks = Vec::new();
        let platform: Vec<_> = declared_routes()
            .into_iter()
            .filter(|(_, template)| template.starts_with(PLATFORM))
            .collect();
        for (method, template) in &platform {
            // This company's path with the outsider's token, and the outsider's own company
            // path naming this company's application.
            for company in [COMPANY, "560"] {
                let path = fill(template, company, &app.application_id, &customer);
                let mut request = app
                    .http
                    .request(method.clone(), format!("{}{path}", app.base))
                    .bearer_auth(&token);
                if *method != Method::GET {
                    request = request.json(&json!({"user_id": customer, "users": [customer]}));
                }
                let response = request.send().await.unwrap();
                let status = response.status();
                let body = response.text().await.unwrap();
                let refused = matches!(status, StatusCode::FORBIDDEN | StatusCode::NOT_FOUND);
                if !refused || body.contains("asha@example.com") || body.contains(&customer) {
                    leaks.push(format!("{method} {path} -> {status}: {body}"));
                }
            }
        }
        assert!(platform.len() > 30, "{platform:?}");
        assert!(
            leaks.is_empty(),
            "reached across companies:\n{}",
            leaks.join("\n")
        );
        let (_, list) = app.list(&[]).await;
        assert_eq!(list["page"]["item_total"], 1, "and changed nothing");
        app
    })
    .await;
}

#[tokio::test]
async fn every_platform_route_needs_the_scope_it_documents_and_no_other() {
    const ALL: [&str; 3] = [
        "application/customers/read",
        "application/customers/write",
        "company/settings/write",
    ];
    each_app(|app| async move {
        let customer = app.create_customer("asha@example.com", "9876543210").await;
        let mut tokens = std::collections::HashMap::new();
        for scope in ALL {
            let others: Vec<&str> = ALL.into_iter().filter(|other| *other != scope).collect();
            for (key, scopes) in [
                (format!("only {scope}"), scope.to_owned()),
                (format!("all but {scope}"), others.join(",")),
            ] {
                let client = app
                    .state
                    .services
                    .clients
                    .create(COMPANY, &scopes, None)
                    .await
                    .unwrap();
                let (status, body) = app
                    .token(
                        &client.client_id,
                        &client.client_secret,
                        "grant_type=client_credentials",
                    )
                    .await;
                assert_eq!(status, StatusCode::OK, "{body}");
                tokens.insert(key, body["access_token"].as_str().unwrap().to_owned());
            }
        }
        let mut wrong = Vec::new();
        let mut checked = 0;
        for operation in documented_operations() {
            if !operation.path.starts_with(PLATFORM) || operation.path.ends_with("/file") {
                continue;
            }
            let [scope] = operation.scopes.as_slice() else {
                wrong.push(format!(
                    "{} {} documents {:?}",
                    operation.method, operation.path, operation.scopes
                ));
                continue;
            };
            let path = fill(&operation.path, COMPANY, &app.application_id, &customer);
            for (key, refused) in [
                (format!("all but {scope}"), true),
                (format!("only {scope}"), false),
            ] {
                let mut request = app
                    .http
                    .request(operation.method.clone(), format!("{}{path}", app.base))
                    .bearer_auth(&tokens[&key]);
                if operation.method != Method::GET {
                    request = request.json(&json!({}));
                }
                let response = request.send().await.unwrap();
                let status = response.status();
                let body = response.text().await.unwrap();
                let lacks = status == StatusCode::FORBIDDEN && body.contains("lacks the scope");
                if lacks != refused {
                    wrong.push(format!(
                        "{} {path} with {key} -> {status}: {body}",
                        operation.method
                    ));
                }
            }
            checked += 1;
        }
        assert!(checked > 30, "{checked} platform operations");
        assert!(wrong.is_empty(), "scopes disagree:\n{}", wrong.join("\n"));
        app
    })
    .await;
}
