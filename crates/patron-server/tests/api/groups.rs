//! Customer groups over HTTP: conditions, live membership, lists, files and jobs.

use patron_domain::ids::ObjectId;
use patron_service::Clock;
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

use crate::{code, define, each_app, serve_file, set_value, TestApp};

async fn create_group(app: &TestApp, body: Value) -> Value {
    let (status, group) = app.send(Method::POST, "/user_group", Some(body)).await;
    assert_eq!(status, StatusCode::CREATED, "{group}");
    group
}

/// The ids of a group's members, as the users endpoint lists them.
async fn members(app: &TestApp, group: &Value) -> Vec<String> {
    let path = format!(
        "/user_group/{}/users?page_size=100",
        group["_id"].as_str().unwrap()
    );
    let (status, body) = app.send(Method::GET, &path, None).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(
        body["page"]["item_total"].as_u64().unwrap() as usize,
        body["items"].as_array().unwrap().len()
    );
    let mut ids: Vec<String> = body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["_id"].as_str().unwrap().to_owned())
        .collect();
    ids.sort();
    ids
}

fn sorted(ids: &[&String]) -> Vec<String> {
    let mut ids: Vec<String> = ids.iter().map(|id| (*id).clone()).collect();
    ids.sort();
    ids
}

async fn check(app: &TestApp, group: &Value, user: &str) -> bool {
    let application = ObjectId::parse("a", &app.application_id).unwrap();
    let group = ObjectId::parse("g", group["_id"].as_str().unwrap()).unwrap();
    let user = ObjectId::parse("u", user).unwrap();
    app.state
        .services
        .groups
        .is_member(&application, &group, &user)
        .await
        .unwrap()
}

#[tokio::test]
async fn conditional_groups_follow_attribute_values_live() {
    each_app(|app| async move {
        let asha = app.create_customer("asha@example.com", "9876543210").await;
        let ravi = app.create_customer("ravi@example.com", "9876543211").await;
        let mira = app.create_customer("mira@example.com", "9876543212").await;
        let age = define(&app, json!({"name": "Age", "type": "number"})).await;
        let tier = define(&app, json!({"name": "Tier", "type": "string"})).await;
        for (user, years, level) in [(&asha, 34, "gold"), (&ravi, 41, "silver"), (&mira, 29, "gold")] {
            set_value(&app, &age, user, json!(years)).await;
            set_value(&app, &tier, user, json!(level)).await;
        }
        let group = create_group(&app, json!({"name": "Gold over 30", "description": "targeting", "conditions": [
            {"user_attribute_definition_id": age["_id"], "type": "gte", "value": "30"},
            {"user_attribute_definition_id": tier["_id"], "type": "eq", "value": "gold"},
        ]})).await;
        assert_eq!((group["type"].as_str(), group["status"].as_str(), group["uid"].as_i64()), (Some("conditional"), Some("completed"), Some(1)));
        assert_eq!(group["conditions"][0], json!({"user_attribute_definition_id": age["_id"], "type": "gte", "value": "30", "key": "age"}));
        assert_eq!(members(&app, &group).await, sorted(&[&asha]));
        assert!(check(&app, &group, &asha).await && !check(&app, &group, &ravi).await);

        set_value(&app, &age, &mira, json!(30)).await;
        assert_eq!(members(&app, &group).await, sorted(&[&asha, &mira]), "an attribute change moves a customer in at once");
        assert!(check(&app, &group, &mira).await);
        let group_path = format!("/user_group/{}", group["_id"].as_str().unwrap());
        let (status, answer) = app.send(Method::PATCH, &group_path, Some(json!({"type": "json", "user_data": [], "blacklisted_users": [mira], "whitelisted_users": [ravi]}))).await;
        assert_eq!(status, StatusCode::OK, "an empty user_data is no change: {answer}");
        assert_eq!(members(&app, &group).await, sorted(&[&asha, &ravi]), "blacklist excludes, whitelist includes");
        assert!(!check(&app, &group, &mira).await && check(&app, &group, &ravi).await);
        app.send(Method::PUT, "/customers/archive", Some(json!({"user_id": asha}))).await;
        assert_eq!(members(&app, &group).await, sorted(&[&ravi]), "archived customers are never members");
        assert!(!check(&app, &group, &asha).await);

        let (status, updated) = app.send(Method::PUT, &group_path, Some(json!({"name": "Silver", "conditions": [{"user_attribute_definition_id": tier["_id"], "type": "in", "value": "silver,bronze"}]}))).await;
        assert_eq!(status, StatusCode::OK, "{updated}");
        assert_eq!((updated["name"].as_str(), updated["__v"].as_i64()), (Some("Silver"), Some(2)));
        assert_eq!(members(&app, &group).await, sorted(&[&ravi]));

        let (status, answer) = app.send(Method::DELETE, &format!("/user_attribute/definition/{}", tier["_id"].as_str().unwrap()), None).await;
        assert_eq!((status, code(&answer)), (StatusCode::BAD_REQUEST, "DEFINITION_IN_USE"));
        assert!(answer["message"].as_str().unwrap().contains("Silver"));
        app
    })
    .await;
}

#[tokio::test]
async fn conditions_must_fit_their_definitions() {
    each_app(|app| async move {
        let age = define(&app, json!({"name": "Age", "type": "number"})).await;
        let note = define(&app, json!({"name": "Note", "type": "encrypted_string"})).await;
        let unknown = ObjectId::generate(app.clock.now()).to_string();
        for (conditions, expected) in [
            (json!([{"user_attribute_definition_id": age["_id"], "type": "cnt", "value": "3"}]), "does not apply to number"),
            (json!([{"user_attribute_definition_id": age["_id"], "type": "gt", "value": "old"}]), "must be a number"),
            (json!([{"user_attribute_definition_id": age["_id"], "type": "like", "value": "3"}]), "unknown operator"),
            (json!([{"user_attribute_definition_id": age["_id"], "type": "btw", "value": "9"}]), "two bounds"),
            (json!([{"user_attribute_definition_id": note["_id"], "type": "eq", "value": "x"}]), "encrypted"),
            (json!([{"user_attribute_definition_id": unknown, "type": "eq", "value": "1"}]), "no attribute definition"),
            (json!([{"type": "eq", "value": "1"}]), "user_attribute_definition_id: is required"),
        ] {
            let (status, answer) = app.send(Method::POST, "/user_group", Some(json!({"name": "G", "description": "d", "conditions": conditions}))).await;
            assert_eq!(status, StatusCode::BAD_REQUEST, "{conditions}");
            assert!(answer["message"].as_str().unwrap().contains(expected), "{conditions}: {answer}");
        }
        for (body, expected) in [
            (json!({"description": "d"}), "name: is required"),
            (json!({"name": "G"}), "description: is required"),
            (json!({"name": "G", "description": "d", "type": "conditional"}), "at least one condition"),
            (json!({"name": "G", "description": "d", "type": "segment"}), "bulk or conditional"),
            (json!({"name": "G", "description": "d", "type": "bulk", "conditions": [{"user_attribute_definition_id": age["_id"], "type": "eq", "value": "1"}]}), "conditional groups"),
        ] {
            let (status, answer) = app.send(Method::POST, "/user_group", Some(body.clone())).await;
            assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
            assert!(answer["message"].as_str().unwrap().contains(expected), "{body}: {answer}");
        }
        let (_, groups) = app.send(Method::GET, "/user_group", None).await;
        assert_eq!(groups["page"]["item_total"], 0);
        // Refused creates take no uid: the first group made is 1, and after more refusals
        // (a bad condition, a bad type) the next is 2.
        let adults = json!({"name": "Adults", "description": "d", "conditions": [{"user_attribute_definition_id": age["_id"], "type": "gte", "value": "18"}]});
        assert_eq!(create_group(&app, adults.clone()).await["uid"], 1);
        for body in [
            json!({"name": "G", "description": "d", "conditions": [{"user_attribute_definition_id": age["_id"], "type": "like", "value": "3"}]}),
            json!({"name": "G", "description": "d", "type": "segment"}),
        ] {
            let (status, answer) = app.send(Method::POST, "/user_group", Some(body.clone())).await;
            assert_eq!(status, StatusCode::BAD_REQUEST, "{body}: {answer}");
        }
        assert_eq!(create_group(&app, adults).await["uid"], 2, "no uid lost to the refusals");
        app
    })
    .await;
}

#[tokio::test]
async fn malformed_whitelisted_ids_are_refused_naming_their_position() {
    each_app(|app| async move {
        let asha = app.create_customer("asha@example.com", "9876543210").await;
        let ravi = app.create_customer("ravi@example.com", "9876543211").await;
        let age = define(&app, json!({"name": "Age", "type": "number"})).await;
        set_value(&app, &age, &asha, json!(34)).await;
        set_value(&app, &age, &ravi, json!(20)).await;
        let group = create_group(&app, json!({"name": "Over 30", "description": "d", "conditions": [{"user_attribute_definition_id": age["_id"], "type": "gte", "value": "30"}]})).await;
        let path = format!("/user_group/{}", group["_id"].as_str().unwrap());
        for (list, field) in [
            (json!(["not-an-id"]), "whitelisted_users[0]"),
            (json!([ravi, &ravi[..23]]), "whitelisted_users[1]"),
            (json!([ravi, asha, 42.to_string()]), "whitelisted_users[2]"),
        ] {
            let (status, answer) = app.send(Method::PATCH, &path, Some(json!({"whitelisted_users": list}))).await;
            assert_eq!((status, code(&answer), answer["meta"]["field"].as_str()), (StatusCode::BAD_REQUEST, "VALIDATION_ERROR", Some(field)), "{list}: {answer}");
            assert!(answer["message"].as_str().unwrap().starts_with(&format!("{field}: ")), "{answer}");
        }
        assert_eq!(members(&app, &group).await, sorted(&[&asha]), "a refused list admits no one");
        let (status, answer) = app.send(Method::PATCH, &path, Some(json!({"whitelisted_users": [ravi]}))).await;
        assert_eq!(status, StatusCode::OK, "{answer}");
        assert_eq!(members(&app, &group).await, sorted(&[&asha, &ravi]));
        app
    })
    .await;
}

#[tokio::test]
async fn bulk_groups_take_json_changes_all_or_nothing() {
    each_app(|app| async move {
        let asha = app.create_customer("asha@example.com", "9876543210").await;
        let ravi = app.create_customer("ravi@example.com", "9876543211").await;
        let mira = app.create_customer("mira@example.com", "9876543212").await;
        let group = create_group(&app, json!({"name": "VIP", "description": "hand picked", "blacklisted_users": [mira]})).await;
        assert_eq!((group["type"].as_str(), group["status"].as_str()), (Some("bulk"), Some("completed")));
        assert_eq!(group["blacklisted_users"], json!([mira]));
        let path = format!("/user_group/{}", group["_id"].as_str().unwrap());
        let (status, body) = app.send(Method::PATCH, &path, Some(json!({"type": "json", "user_data": [
            {"email": "ASHA@example.com", "action": "add"},
            {"phone_number": "9876543211", "action": "add"},
            {"user_id": mira, "action": "add"},
        ]}))).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        assert_eq!(members(&app, &group).await, sorted(&[&asha, &ravi]), "the blacklist wins over add");
        let (status, _) = app.send(Method::PATCH, &path, Some(json!({"type": "json", "user_data": [{"user_id": ravi, "action": "remove"}]}))).await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(members(&app, &group).await, sorted(&[&asha]));

        let (status, answer) = app.send(Method::PATCH, &path, Some(json!({"type": "json", "user_data": [
            {"user_id": ravi, "action": "add"},
            {"email": "nobody@example.com", "action": "add"},
        ]}))).await;
        assert_eq!((status, code(&answer)), (StatusCode::BAD_REQUEST, "UNKNOWN_USERS"), "{answer}");
        assert_eq!(members(&app, &group).await, sorted(&[&asha]), "nothing changed");
        for (body, expected) in [
            (json!({"type": "json"}), "user_data: is required"),
            (json!({"type": "json", "user_data": [{"user_id": ravi}]}), "action: is required"),
            (json!({"type": "json", "user_data": [{"user_id": ravi, "email": "ravi@example.com", "action": "add"}]}), "exactly one"),
            (json!({"type": "json", "user_data": [{"user_id": ravi, "action": "keep"}]}), "add or remove"),
            (json!({"type": "file_url"}), "file_url: is required"),
            (json!({"type": "csv"}), "json or file_url"),
        ] {
            let (status, answer) = app.send(Method::PATCH, &path, Some(body.clone())).await;
            assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
            assert!(answer["message"].as_str().unwrap().contains(expected), "{body}: {answer}");
        }
        let (status, _) = app.send(Method::GET, &format!("/user_group/{}", ObjectId::generate(app.clock.now())), None).await;
        assert_eq!(status, StatusCode::NOT_FOUND);
        app
    })
    .await;
}

#[tokio::test]
async fn bulk_group_files_are_built_by_jobs_with_an_error_report() {
    each_app(|app| async move {
        let asha = app.create_customer("asha@example.com", "9876543210").await;
        let ravi = app.create_customer("ravi@example.com", "9876543211").await;
        let url = serve_file("email,action\nasha@example.com,add\nravi@example.com,add\nnobody@example.com,add\nnot-an-email,add\n").await;
        let group = create_group(&app, json!({"name": "From file", "description": "csv", "type": "bulk", "file_url": url})).await;
        assert_eq!((group["status"].as_str(), group["file_url"].as_str()), (Some("pending"), Some(url.as_str())));
        assert!(members(&app, &group).await.is_empty());
        app.run_jobs().await;
        let path = format!("/user_group/{}", group["_id"].as_str().unwrap());
        let (_, built) = app.send(Method::GET, &path, None).await;
        assert_eq!(built["status"], "completed", "{built}");
        assert_eq!(built["error"]["count"], 2);
        assert_eq!(members(&app, &group).await, sorted(&[&asha, &ravi]));
        let report_path = built["error"]["file_url"].as_str().unwrap();
        let report = app.http.get(format!("{}{report_path}", app.base)).bearer_auth(&app.writer.token).send().await.unwrap();
        let text = report.text().await.unwrap();
        assert!(text.contains("nobody@example.com,user_not_found") && text.contains("not-an-email"), "{text}");

        let url = serve_file("phone_number,action\n9876543210,remove\n").await;
        let (status, patched) = app.send(Method::PATCH, &path, Some(json!({"type": "file_url", "file_url": url}))).await;
        assert_eq!((status, patched["status"].as_str()), (StatusCode::OK, Some("pending")));
        app.run_jobs().await;
        assert_eq!(members(&app, &group).await, sorted(&[&ravi]));
        let (_, built) = app.send(Method::GET, &path, None).await;
        assert_eq!(built["status"], "completed");
        assert!(built.get("error").is_none(), "{built}");

        let url = serve_file("email,action\nnobody@example.com,add\n").await;
        let failing = create_group(&app, json!({"name": "Nobody", "description": "csv", "file_url": url})).await;
        app.run_jobs().await;
        let (_, failed) = app.send(Method::GET, &format!("/user_group/{}", failing["_id"].as_str().unwrap()), None).await;
        assert_eq!((failed["status"].as_str(), failed["error"]["count"].as_i64()), (Some("failed"), Some(1)));
        let url = serve_file("email\nasha@example.com\n").await;
        let (status, answer) = app.send(Method::PATCH, &path, Some(json!({"type": "file_url", "file_url": url}))).await;
        assert_eq!(status, StatusCode::BAD_REQUEST);
        assert!(answer["message"].as_str().unwrap().contains("no action column"), "{answer}");
        app
    })
    .await;
}

#[tokio::test]
async fn group_lists_filter_and_page() {
    each_app(|app| async move {
        let age = define(&app, json!({"name": "Age", "type": "number"})).await;
        for name in ["Alpha buyers", "Beta buyers", "Gamma"] {
            create_group(&app, json!({"name": name, "description": "d"})).await;
        }
        create_group(&app, json!({"name": "Adults", "description": "d", "conditions": [{"user_attribute_definition_id": age["_id"], "type": "gte", "value": "18"}]})).await;
        let total = |query: &'static str| {
            let app = &app;
            async move {
                let (status, body) = app.send(Method::GET, &format!("/user_group{query}"), None).await;
                assert_eq!(status, StatusCode::OK, "{body}");
                body["page"]["item_total"].as_u64().unwrap()
            }
        };
        assert_eq!(total("").await, 4);
        assert_eq!(total("?name=BUYERS").await, 2);
        assert_eq!(total("?type=conditional").await, 1);
        assert_eq!(total("?status=completed").await, 4);
        assert_eq!(total("?group_uid=2").await, 1);
        let (status, page) = app.send(Method::GET, "/user_group?page_no=2&page_size=3", None).await;
        assert_eq!((status, page["items"].as_array().unwrap().len(), page["page"]["current"].as_u64()), (StatusCode::OK, 1, Some(2)));
        assert_eq!(page["items"][0]["uid"], 1, "newest first");
        let (status, answer) = app.send(Method::GET, "/user_group?group_uid=two", None).await;
        assert_eq!((status, code(&answer)), (StatusCode::BAD_REQUEST, "VALIDATION_ERROR"));
        app
    })
    .await;
}

#[tokio::test]
async fn customers_filter_by_attributes_with_and_or() {
    each_app(|app| async move {
        let asha = app.create_customer("asha@example.com", "9876543210").await;
        let ravi = app.create_customer("ravi@example.com", "9876543211").await;
        let mira = app.create_customer("mira@example.com", "9876543212").await;
        let age = define(&app, json!({"name": "Age", "type": "number"})).await;
        let tier = define(&app, json!({"name": "Tier", "type": "string"})).await;
        for (user, years, level) in [
            (&asha, 34, "gold"),
            (&ravi, 41, "silver"),
            (&mira, 29, "gold"),
        ] {
            set_value(&app, &age, user, json!(years)).await;
            set_value(&app, &tier, user, json!(level)).await;
        }
        let filter = |combinator: &str, extra: Value| {
            let mut query = json!({"type": combinator, "limit": 10, "page": 1, "conditions": [
                {"definition_id": age["_id"], "type": "gte", "value": 30},
                {"definition_id": tier["_id"], "type": "eq", "value": "gold"},
            ]});
            if let Value::Object(extra) = extra {
                query.as_object_mut().unwrap().extend(extra);
            }
            let app = &app;
            async move {
                let (status, body) = app
                    .send(
                        Method::POST,
                        "/user_attribute/users",
                        Some(json!({"query": query})),
                    )
                    .await;
                assert_eq!(status, StatusCode::OK, "{body}");
                body
            }
        };
        let ids = |body: &Value| -> Vec<String> {
            let mut ids: Vec<String> = body["items"]
                .as_array()
                .unwrap()
                .iter()
                .map(|c| c["_id"].as_str().unwrap().to_owned())
                .collect();
            ids.sort();
            ids
        };
        let both = filter("and", json!({})).await;
        assert_eq!(ids(&both), sorted(&[&asha]));
        assert_eq!(both["items"][0]["attributes"].as_array().unwrap().len(), 2);
        assert_eq!(
            both["items"][0]["phone_numbers"][0]["country_code"], "91",
            "this model has a string country code"
        );
        assert_eq!(
            ids(&filter("OR", json!({})).await),
            sorted(&[&asha, &ravi, &mira])
        );
        let by_email = filter(
            "or",
            json!({"email": "ravi@example.com", "definition_ids": [tier["_id"]]}),
        )
        .await;
        assert_eq!(ids(&by_email), sorted(&[&ravi]));
        assert_eq!(
            by_email["items"][0]["attributes"][0]["attribute"]["value"],
            "silver"
        );
        assert_eq!(
            ids(&filter("and", json!({"phone": "9876543211"})).await),
            Vec::<String>::new()
        );
        let (status, answer) = app
            .send(
                Method::POST,
                "/user_attribute/users",
                Some(json!({"query": {"type": "xor", "limit": 10, "page": 1, "conditions": []}})),
            )
            .await;
        assert_eq!(
            (status, code(&answer)),
            (StatusCode::BAD_REQUEST, "VALIDATION_ERROR")
        );
        app
    })
    .await;
}
