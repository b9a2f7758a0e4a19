//! Attribute definitions, values and bulk updates over HTTP.

use chrono::Duration;
use patron_domain::customer::{NewCustomer, Profile};
use patron_domain::email::Email;
use patron_domain::ids::ObjectId;
use patron_service::Clock;
use patron_store::Actor;
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

use crate::{code, define, each_app, raw_values, serve_file, set_value, TestApp};

#[tokio::test]
async fn definitions_are_typed_unique_and_lockable() {
    each_app(|app| async move {
        let tier = define(&app, json!({"name": "Loyalty Tier", "type": "string", "is_multi_value": false, "validations": [{"type": "max", "value": 10}], "default_value": "bronze", "icon": "star", "masking": {"enabled": false, "type": "default"}})).await;
        assert_eq!(tier["slug"], "loyalty_tier");
        assert_eq!((tier["multi_value"].clone(), tier["is_multi_value"].clone()), (json!(false), json!(false)));
        assert_eq!(tier["default_value"], "bronze");
        assert_eq!(tier["icon"], "star");
        assert_eq!(tier["created_by"], app.writer.id);
        let tags = define(&app, json!({"name": "Tags", "slug": "tags", "type": "string_array", "pinned": true, "pin_order": 2})).await;
        assert_eq!(tags["is_multi_value"], true, "array types are multi-valued");

        for (body, expected) in [
            (json!({"name": "Tier again", "slug": "loyalty_tier", "type": "string"}), "SLUG_ALREADY_EXISTS"),
            (json!({"name": "X", "type": "text"}), "VALIDATION_ERROR"),
            (json!({"type": "string"}), "VALIDATION_ERROR"),
            (json!({"name": "X", "slug": "Bad Slug", "type": "string"}), "VALIDATION_ERROR"),
            (json!({"name": "X", "type": "string", "validations": [{"type": "regex", "value": "(unclosed"}]}), "VALIDATION_ERROR"),
            (json!({"name": "X", "type": "number", "validations": [{"type": "regex", "value": "a"}]}), "VALIDATION_ERROR"),
            (json!({"name": "X", "type": "number", "default_value": "7"}), "VALIDATION_ERROR"),
            (json!({"name": "X", "type": "string", "validations": [{"type": "max", "value": 2}], "default_value": "long"}), "VALIDATION_ERROR"),
        ] {
            let (status, answer) = app.send(Method::POST, "/user_attribute/definition", Some(body.clone())).await;
            assert_eq!((status, code(&answer)), (StatusCode::BAD_REQUEST, expected), "{body}: {answer}");
        }

        let id = tier["_id"].as_str().unwrap();
        let path = format!("/user_attribute/definition/{id}");
        let (status, read) = app.send(Method::GET, &path, None).await;
        assert_eq!((status, read["name"].clone()), (StatusCode::OK, json!("Loyalty Tier")));
        let (status, updated) = app.send(Method::PUT, &path, Some(json!({"name": "Tier", "description": "Shop tier"}))).await;
        assert_eq!(status, StatusCode::OK, "{updated}");
        assert_eq!((updated["name"].as_str(), updated["slug"].as_str(), updated["__v"].as_i64()), (Some("Tier"), Some("loyalty_tier"), Some(1)));
        let (status, answer) = app.send(Method::PUT, &path, Some(json!({"type": "number"}))).await;
        assert_eq!((status, code(&answer)), (StatusCode::BAD_REQUEST, "VALIDATION_ERROR"), "type cannot change: {answer}");
        let (status, answer) = app.send(Method::PUT, &path, Some(json!({"slug": "tags"}))).await;
        assert_eq!((status, code(&answer)), (StatusCode::BAD_REQUEST, "SLUG_ALREADY_EXISTS"));

        let locked = define(&app, json!({"name": "System", "type": "number", "is_locked": true})).await;
        let locked_path = format!("/user_attribute/definition/{}", locked["_id"].as_str().unwrap());
        let (status, answer) = app.send(Method::PUT, &locked_path, Some(json!({"name": "Changed"}))).await;
        assert_eq!((status, code(&answer)), (StatusCode::BAD_REQUEST, "DEFINITION_LOCKED"));
        let (status, answer) = app.send(Method::DELETE, &locked_path, None).await;
        assert_eq!((status, code(&answer)), (StatusCode::BAD_REQUEST, "DEFINITION_LOCKED"));

        let (status, deleted) = app.send(Method::DELETE, &path, None).await;
        assert_eq!((status, deleted), (StatusCode::OK, json!({"success": "true"})));
        let (status, answer) = app.send(Method::GET, &path, None).await;
        assert_eq!((status, code(&answer)), (StatusCode::NOT_FOUND, "ATTRIBUTE_DEFINITION_NOT_FOUND"));
        let (status, _) = app.send(Method::DELETE, &path, None).await;
        assert_eq!(status, StatusCode::NOT_FOUND);
        app
    })
    .await;
}

#[tokio::test]
async fn definition_list_filters() {
    each_app(|app| async move {
        let a = define(&app, json!({"name": "Shoe Size", "type": "number", "pinned": true, "pin_order": 1, "customer_editable": true})).await;
        define(&app, json!({"name": "100% cotton fan", "type": "boolean"})).await;
        define(&app, json!({"name": "Secret note", "type": "encrypted_string"})).await;
        let total = |query: &'static str| {
            let app = &app;
            async move {
                let (status, body) = app.send(Method::GET, &format!("/user_attribute/definition{query}"), None).await;
                assert_eq!(status, StatusCode::OK, "{query}: {body}");
                body["page"]["item_total"].as_u64().unwrap()
            }
        };
        assert_eq!(total("").await, 3);
        assert_eq!(total("?name=SHOE").await, 1);
        assert_eq!(total("?name=%25").await, 1, "the name filter is literal: % matches only a '%'");
        assert_eq!(total("?name=.*").await, 0, "never a raw pattern");
        assert_eq!(total("?type=boolean").await, 1);
        assert_eq!(total("?encrypted=true").await, 1);
        assert_eq!(total("?pinned=true&pin_order=1").await, 1);
        assert_eq!(total("?customer_editable=false").await, 2);
        assert_eq!(total("?is_locked=false").await, 3);
        assert_eq!(total("?slug=shoe_size").await, 1);
        assert_eq!(total(Box::leak(format!("?excluding_ids={}", a["_id"].as_str().unwrap()).into_boxed_str())).await, 2);
        let (status, body) = app.send(Method::GET, "/user_attribute/definition?page_size=2&page_no=2", None).await;
        assert_eq!((status, body["items"].as_array().unwrap().len(), body["page"]["has_next"].clone()), (StatusCode::OK, 1, json!(false)));
        let (status, answer) = app.send(Method::GET, "/user_attribute/definition?pinned=yes", None).await;
        assert_eq!((status, code(&answer)), (StatusCode::BAD_REQUEST, "VALIDATION_ERROR"));
        app
    })
    .await;
}

#[tokio::test]
async fn values_are_checked_upserted_and_read_back() {
    each_app(|app| async move {
        let user = app.create_customer("asha@example.com", "9876543210").await;
        let age = define(
            &app,
            json!({"name": "Age", "type": "number", "validations": [{"type": "min", "value": 18}]}),
        )
        .await;
        let tags = define(
            &app,
            json!({"name": "Tags", "type": "string", "multi_value": true}),
        )
        .await;
        let path = format!(
            "/user_attribute/definition/{}/user/{user}",
            age["_id"].as_str().unwrap()
        );

        let (status, created) = app
            .send(
                Method::PUT,
                &path,
                Some(json!({"attribute": {"value": 30}, "customer_overriden": true})),
            )
            .await;
        assert_eq!(status, StatusCode::CREATED, "{created}");
        assert_eq!(created["attribute"], json!({"value": 30}));
        assert_eq!(
            (
                created["customer_overriden"].clone(),
                created["customer_overridden"].clone()
            ),
            (json!(true), json!(true))
        );
        assert_eq!(created["user_attribute_definition_id"], age["_id"]);
        assert_eq!(
            (
                created["name"].as_str(),
                created["type"].as_str(),
                created["user_id"].as_str()
            ),
            (Some("Age"), Some("number"), Some(user.as_str()))
        );
        let (status, updated) = app
            .send(
                Method::PUT,
                &path,
                Some(json!({"attribute": {"value": 31}, "customer_overridden": false})),
            )
            .await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(
            (
                updated["_id"].clone(),
                updated["customer_overridden"].clone()
            ),
            (created["_id"].clone(), json!(false))
        );

        for (body, expected) in [
            (
                json!({"attribute": {"value": "31"}}),
                "attribute.value: type: must be a number",
            ),
            (
                json!({"attribute": {"value": 17}}),
                "attribute.value: min: must be at least 18",
            ),
            (json!({"attribute": {"value": [40]}}), "not multi-valued"),
            (json!({"attribute": {}}), "attribute.value: is required"),
            (json!({}), "attribute: is required"),
        ] {
            let (status, answer) = app.send(Method::PUT, &path, Some(body.clone())).await;
            assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
            assert!(
                answer["message"].as_str().unwrap().contains(expected),
                "{body}: {answer}"
            );
        }
        let (status, answer) = set_value(&app, &tags, &user, json!("vip")).await;
        assert_eq!(
            status,
            StatusCode::BAD_REQUEST,
            "a multi-valued attribute needs an array: {answer}"
        );
        assert_eq!(
            set_value(&app, &tags, &user, json!(["vip", "new"])).await.0,
            StatusCode::CREATED
        );

        let unknown_user = ObjectId::generate(app.clock.now()).to_string();
        let (status, answer) = set_value(&app, &age, &unknown_user, json!(40)).await;
        assert_eq!(
            (status, code(&answer)),
            (StatusCode::NOT_FOUND, "USER_NOT_FOUND")
        );
        let ghost = json!({"_id": ObjectId::generate(app.clock.now()).to_string()});
        let (status, answer) = set_value(&app, &ghost, &user, json!(40)).await;
        assert_eq!(
            (status, code(&answer)),
            (StatusCode::NOT_FOUND, "ATTRIBUTE_DEFINITION_NOT_FOUND")
        );

        let (status, read) = app.send(Method::GET, &path, None).await;
        assert_eq!(
            (status, read["attribute"]["value"].clone()),
            (StatusCode::OK, json!(31))
        );
        let (status, by_id) = app
            .send(
                Method::GET,
                &format!(
                    "/user_attribute/attribute/{}",
                    created["_id"].as_str().unwrap()
                ),
                None,
            )
            .await;
        assert_eq!(
            (status, by_id["_id"].clone()),
            (StatusCode::OK, created["_id"].clone())
        );
        let (status, all) = app
            .send(
                Method::GET,
                &format!("/user_attribute/user/{user}?page_size=1"),
                None,
            )
            .await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(
            (
                all["page"]["item_total"].as_u64(),
                all["items"].as_array().unwrap().len()
            ),
            (Some(2), 1)
        );
        let (status, answer) = app
            .send(
                Method::GET,
                &format!("/user_attribute/user/{unknown_user}"),
                None,
            )
            .await;
        assert_eq!(
            (status, code(&answer)),
            (StatusCode::NOT_FOUND, "USER_NOT_FOUND")
        );

        let (status, deleted) = app.send(Method::DELETE, &path, None).await;
        assert_eq!(
            (status, deleted),
            (StatusCode::OK, json!({"success": "true"}))
        );
        for method in [Method::GET, Method::DELETE] {
            let (status, answer) = app.send(method, &path, None).await;
            assert_eq!(
                (status, code(&answer)),
                (StatusCode::NOT_FOUND, "USER_ATTRIBUTE_NOT_FOUND")
            );
        }

        let (status, _) = app
            .send(
                Method::PUT,
                "/customers/archive",
                Some(json!({"user_id": user})),
            )
            .await;
        assert_eq!(status, StatusCode::OK);
        let (status, answer) = set_value(&app, &age, &user, json!(40)).await;
        assert_eq!(
            (status, code(&answer)),
            (StatusCode::BAD_REQUEST, "USER_ARCHIVED")
        );
        app
    })
    .await;
}

#[tokio::test]
async fn encrypted_values_are_not_plaintext_at_rest() {
    each_app(|app| async move {
        let user = app.create_customer("asha@example.com", "9876543210").await;
        let note = define(
            &app,
            json!({"name": "Note", "type": "string", "encrypted": true}),
        )
        .await;
        assert_eq!(note["encrypted"], true);
        let pin = define(&app, json!({"name": "Pin", "type": "encrypted_number"})).await;
        assert_eq!(
            set_value(&app, &note, &user, json!("allergic to peanuts"))
                .await
                .0,
            StatusCode::CREATED
        );
        let (status, read) = set_value(&app, &pin, &user, json!(4321)).await;
        assert_eq!(
            (status, read["attribute"]["value"].clone()),
            (StatusCode::CREATED, json!(4321))
        );
        let raw = raw_values(&app).await;
        assert_eq!(raw.len(), 2);
        for stored in &raw {
            assert!(stored.starts_with("v2:"), "sealed: {stored}");
            assert!(
                !stored.contains("peanuts") && !stored.contains("4321"),
                "{stored}"
            );
        }
        let (_, all) = app
            .send(Method::GET, &format!("/user_attribute/user/{user}"), None)
            .await;
        let values: Vec<Value> = all["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|item| item["attribute"]["value"].clone())
            .collect();
        assert!(
            values.contains(&json!("allergic to peanuts")) && values.contains(&json!(4321)),
            "{all}"
        );
        // A database writer who copies Asha's sealed note onto Ravi's value cannot make the
        // API read it out as Ravi's: the value is bound to its customer.
        let ravi = app.create_customer("ravi@example.com", "9876543219").await;
        set_value(&app, &note, &ravi, json!("nothing")).await;
        let note = note["_id"].as_str().unwrap();
        crate::execute_sql(
            &app,
            &format!(
                "UPDATE attribute_values SET value = (SELECT value FROM attribute_values WHERE \
                 customer_id = '{user}' AND definition_id = '{note}') WHERE customer_id = '{ravi}' AND definition_id = '{note}'"
            ),
        )
        .await;
        let (status, moved) = app
            .send(Method::GET, &format!("/user_attribute/user/{ravi}"), None)
            .await;
        assert!(!moved.to_string().contains("peanuts"), "{status} {moved}");
        assert!(status.is_server_error(), "{status} {moved}");
        app
    })
    .await;
}

#[tokio::test]
async fn bulk_updates_report_every_bad_row_and_write_the_rest() {
    each_app(|app| async move {
        let asha = app.create_customer("asha@example.com", "9876543210").await;
        let ravi = app.create_customer("ravi@example.com", "9876543211").await;
        let gone = app.create_customer("gone@example.com", "9876543212").await;
        app.send(Method::PUT, "/customers/archive", Some(json!({"user_id": gone}))).await;
        let unknown = ObjectId::generate(app.clock.now()).to_string();
        let age = define(&app, json!({"name": "Age", "type": "number"})).await;
        let tier = define(&app, json!({"name": "Tier", "type": "string"})).await;

        let (status, outcome) = app
            .send(Method::PUT, "/user_attribute/bulk_update", Some(json!({"users": [asha, ravi, gone, unknown, "nope", asha], "attribute": [{"key": "age", "value": 33}, {"key": "tier", "value": "gold"}]})))
            .await;
        assert_eq!(status, StatusCode::OK, "{outcome}");
        assert_eq!((outcome["total"].as_u64(), outcome["processed"].as_u64(), outcome["errors_count"].as_u64()), (Some(6), Some(2), Some(4)));
        assert_eq!(outcome["processing_type"], "synchronous");
        assert_eq!(outcome["error_summary"], json!({"duplicate_user": 1, "invalid_user_id": 1, "user_not_found": 2}));
        let failed: Vec<&str> = outcome["errors"].as_array().unwrap().iter().map(|e| e["user_id"].as_str().unwrap()).collect();
        assert!(failed.contains(&gone.as_str()) && failed.contains(&unknown.as_str()) && failed.contains(&"nope"), "{outcome}");
        for user in [&asha, &ravi] {
            let (status, value) = set_value(&app, &tier, user, json!("gold")).await;
            assert_eq!(status, StatusCode::OK, "already written by the bulk update: {value}");
        }

        let (status, outcome) = app
            .send(Method::PUT, "/user_attribute/bulk_update/per_user", Some(json!({"user_detail_attributes": [
                {"user_id": asha, "attributes": [{"key": "age", "value": 40}, {"key": "tier", "value": "silver"}]},
                {"user_id": ravi, "attributes": [{"key": "age", "value": "forty"}, {"key": "tier", "value": "platinum"}]},
                {"user_id": ravi, "attributes": [{"key": "missing", "value": 1}]},
            ]})))
            .await;
        assert_eq!(status, StatusCode::OK, "{outcome}");
        assert_eq!((outcome["processed"].as_u64(), outcome["errors_count"].as_u64()), (Some(1), Some(2)));
        assert_eq!(outcome["error_summary"], json!({"duplicate_user": 1, "invalid_value": 1}));
        let age_of = |user: String| {
            let app = &app;
            let path = format!("/user_attribute/definition/{}/user/{user}", age["_id"].as_str().unwrap());
            async move { app.send(Method::GET, &path, None).await.1["attribute"]["value"].clone() }
        };
        assert_eq!(age_of(asha.clone()).await, json!(40));
        assert_eq!(age_of(ravi.clone()).await, json!(33), "a bad row writes none of its values");
        let (_, tier_of_ravi) = app.send(Method::GET, &format!("/user_attribute/definition/{}/user/{ravi}", tier["_id"].as_str().unwrap()), None).await;
        assert_eq!(tier_of_ravi["attribute"]["value"], "gold");

        for body in [
            json!({"attribute": [{"key": "age", "value": 1}]}),
            json!({"users": [asha], "user_file_url": "http://127.0.0.1/x.csv", "attribute": [{"key": "age", "value": 1}]}),
            json!({"users": [asha]}),
            json!({"users": [asha], "attribute": [{"value": 1}]}),
        ] {
            let (status, answer) = app.send(Method::PUT, "/user_attribute/bulk_update", Some(body.clone())).await;
            assert_eq!((status, code(&answer)), (StatusCode::BAD_REQUEST, "VALIDATION_ERROR"), "{body}");
        }
        app
    })
    .await;
}

/// A synchronous bulk update whose value breaks the definition's rule fails every row:
/// each row is reported, and no value of the request is written.
#[tokio::test]
async fn a_synchronous_bulk_update_with_a_value_breaking_its_rule_fails_every_row() {
    each_app(|app| async move {
        let asha = app.create_customer("asha@example.com", "9876543210").await;
        let ravi = app.create_customer("ravi@example.com", "9876543211").await;
        define(&app, json!({"name": "Age", "type": "number", "validations": [{"type": "min", "value": 18}]})).await;
        define(&app, json!({"name": "Tier", "type": "string"})).await;
        let (status, outcome) = app
            .send(Method::PUT, "/user_attribute/bulk_update", Some(json!({"users": [asha, ravi], "attribute": [{"key": "tier", "value": "gold"}, {"key": "age", "value": 5}]})))
            .await;
        assert_eq!(status, StatusCode::OK, "{outcome}");
        assert_eq!(outcome["processing_type"], "synchronous");
        assert_eq!((outcome["total"].as_u64(), outcome["processed"].as_u64(), outcome["errors_count"].as_u64()), (Some(2), Some(0), Some(2)), "{outcome}");
        assert_eq!(outcome["error_summary"], json!({"invalid_value": 2}));
        let errors = outcome["errors"].as_array().unwrap();
        let mut failed: Vec<&str> = errors.iter().map(|e| e["user_id"].as_str().unwrap()).collect();
        failed.sort_unstable();
        let mut expected = [asha.as_str(), ravi.as_str()];
        expected.sort_unstable();
        assert_eq!(failed, expected, "every row is reported: {outcome}");
        for error in errors {
            assert!(error["error"].as_str().unwrap().contains("min: must be at least 18"), "{error}");
        }
        assert!(raw_values(&app).await.is_empty(), "nothing written, not even the valid tier");
        app
    })
    .await;
}

/// Encryption at rest does not switch a definition's validations off: an encrypted
/// string (by type or by flag) still refuses values that break its max or regex.
#[tokio::test]
async fn encrypted_definitions_still_validate_values() {
    each_app(|app| async move {
        let user = app.create_customer("asha@example.com", "9876543210").await;
        let pin = define(&app, json!({"name": "Pin", "type": "encrypted_string", "validations": [{"type": "max", "value": 6}, {"type": "regex", "value": "^[A-Z0-9]+$"}]})).await;
        let note = define(&app, json!({"name": "Note", "type": "string", "encrypted": true, "validations": [{"type": "max", "value": 5}]})).await;
        assert_eq!((pin["encrypted"].as_bool(), note["encrypted"].as_bool()), (Some(true), Some(true)));
        for (definition, value, expected) in [
            (&pin, "ABCDEFG", "attribute.value: max: must be at most 6 characters long"),
            (&pin, "ab12", "attribute.value: regex: does not match"),
            (&note, "too long", "attribute.value: max: must be at most 5 characters long"),
        ] {
            let (status, answer) = set_value(&app, definition, &user, json!(value)).await;
            assert_eq!((status, code(&answer)), (StatusCode::BAD_REQUEST, "VALIDATION_ERROR"), "{value}: {answer}");
            assert!(answer["message"].as_str().unwrap().contains(expected), "{value}: {answer}");
        }
        assert!(raw_values(&app).await.is_empty(), "refused values are not stored");
        assert_eq!(set_value(&app, &pin, &user, json!("AB12")).await.0, StatusCode::CREATED);
        assert_eq!(set_value(&app, &note, &user, json!("short")).await.0, StatusCode::CREATED);
        let raw = raw_values(&app).await;
        assert_eq!(raw.len(), 2);
        assert!(raw.iter().all(|stored| stored.starts_with("v2:")), "sealed: {raw:?}");
        app
    })
    .await;
}

#[tokio::test]
async fn bulk_updates_read_user_files() {
    each_app(|app| async move {
        let asha = app.create_customer("asha@example.com", "9876543210").await;
        let ravi = app.create_customer("ravi@example.com", "9876543211").await;
        define(&app, json!({"name": "Age", "type": "number"})).await;
        let url = serve_file(format!(
            "name,user_id\nAsha,{asha}\nRavi,{ravi}\nBad,not-an-id\n"
        ))
        .await;
        let (status, outcome) = app
            .send(
                Method::PUT,
                "/user_attribute/bulk_update",
                Some(json!({"user_file_url": url, "attribute": [{"key": "age", "value": 21}]})),
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{outcome}");
        assert_eq!(
            (
                outcome["total"].as_u64(),
                outcome["processed"].as_u64(),
                outcome["errors_count"].as_u64()
            ),
            (Some(3), Some(2), Some(1))
        );
        assert_eq!(outcome["errors"][0]["user_id"], "not-an-id");
        assert!(
            outcome["errors"][0]["error"]
                .as_str()
                .unwrap()
                .starts_with("line 4"),
            "{outcome}"
        );
        let url = serve_file("name\nAsha\n").await;
        let (status, answer) = app
            .send(
                Method::PUT,
                "/user_attribute/bulk_update",
                Some(json!({"user_file_url": url, "attribute": [{"key": "age", "value": 21}]})),
            )
            .await;
        assert_eq!(status, StatusCode::BAD_REQUEST);
        assert!(
            answer["message"]
                .as_str()
                .unwrap()
                .contains("no user_id column"),
            "{answer}"
        );
        app
    })
    .await;
}

/// Imports `count` customers straight into the store; returns their ids.
async fn import_customers(app: &TestApp, count: usize) -> Vec<String> {
    let application_id = ObjectId::parse("application_id", &app.application_id).unwrap();
    let customers: Vec<NewCustomer> = (0..count)
        .map(|index| {
            let email = Email::parse("email", &format!("bulk{index}@example.com")).unwrap();
            NewCustomer::new(
                application_id.clone(),
                None,
                Profile::default(),
                Some(email),
                None,
                u32::try_from(index).unwrap(),
                app.clock.now(),
            )
            .unwrap()
        })
        .collect();
    app.stores
        .customers
        .import_customers(&customers, &Actor::new("test"))
        .await
        .unwrap();
    customers
        .iter()
        .map(|customer| customer.id.to_string())
        .collect()
}

#[tokio::test]
async fn an_error_report_longer_than_a_page_streams_every_row() {
    each_app(|app| async move {
        define(&app, json!({"name": "Age", "type": "number"})).await;
        let unknown: Vec<String> = (0..1_201)
            .map(|_| ObjectId::generate(app.clock.now()).to_string())
            .collect();
        let (status, accepted) = app
            .send(
                Method::PUT,
                "/user_attribute/bulk_update",
                Some(json!({"users": unknown, "attribute": [{"key": "age", "value": 5}]})),
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{accepted}");
        app.run_jobs().await;
        let job_path = format!("/users/jobs/{}", accepted["job_id"].as_str().unwrap());
        let report = app
            .request(Method::GET, &format!("{job_path}/errors"))
            .send()
            .await
            .unwrap();
        assert_eq!(report.status(), StatusCode::OK);
        let text = report.text().await.unwrap();
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines.len(), 1 + 1_201, "every refused row, across pages");
        assert_eq!(lines[0], "row,user_id,reason,error");
        assert!(
            lines[1].starts_with(&format!("1,{},", unknown[0])),
            "{}",
            lines[1]
        );
        assert!(lines[1_201].starts_with(&format!("1201,{},", unknown[1_200])));
        app
    })
    .await;
}

#[tokio::test]
async fn large_bulk_updates_become_jobs_that_survive_a_crash() {
    each_app(|app| async move {
        let mut users = import_customers(&app, 1_100).await;
        users.push("broken-id".to_owned());
        let age = define(&app, json!({"name": "Age", "type": "number"})).await;
        let (status, accepted) = app
            .send(
                Method::PUT,
                "/user_attribute/bulk_update",
                Some(json!({"users": users, "attribute": [{"key": "age", "value": 50}]})),
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{accepted}");
        assert_eq!(accepted["processing_type"], "asynchronous");
        let job_path = format!("/users/jobs/{}", accepted["job_id"].as_str().unwrap());
        let (status, job) = app.send(Method::GET, &job_path, None).await;
        assert_eq!(
            (
                status,
                job["status"].as_str(),
                job["count"]["total"].as_u64()
            ),
            (StatusCode::OK, Some("inprogress"), Some(1101))
        );

        // The first runner commits one batch of 500 and dies without releasing its lease.
        assert!(app
            .state
            .services
            .jobs
            .run_next("runner-a", Some(1))
            .await
            .unwrap());
        let (_, job) = app.send(Method::GET, &job_path, None).await;
        assert_eq!(
            (job["processed"].as_i64(), job["count"]["success"].as_i64()),
            (Some(500), Some(500))
        );
        let first_batch_written = app.clock.now();
        // While the lease holds, nobody else takes the job.
        assert!(!app
            .state
            .services
            .jobs
            .run_next("runner-b", None)
            .await
            .unwrap());
        app.clock.advance(Duration::minutes(5));
        assert!(app
            .state
            .services
            .jobs
            .run_next("runner-b", None)
            .await
            .unwrap());

        let (_, job) = app.send(Method::GET, &job_path, None).await;
        assert_eq!(job["status"], "partial", "{job}");
        assert_eq!(
            job["count"],
            json!({"total": 1101, "success": 1100, "error": 1})
        );
        assert_eq!(job["error_summary"], json!({"invalid_user_id": 1}));
        assert_eq!(job["company_id"], "559");
        let value_path = |user: &str| {
            format!(
                "/user_attribute/definition/{}/user/{user}",
                age["_id"].as_str().unwrap()
            )
        };
        let (_, early) = app.send(Method::GET, &value_path(&users[0]), None).await;
        let (_, late) = app
            .send(Method::GET, &value_path(&users[1_099]), None)
            .await;
        assert_eq!(
            (
                early["attribute"]["value"].clone(),
                late["attribute"]["value"].clone()
            ),
            (json!(50), json!(50))
        );
        assert_eq!(
            early["updated_at"].as_str().unwrap(),
            patron_domain::time::to_wire(first_batch_written),
            "rows finished before the crash were not redone"
        );
        assert_ne!(late["updated_at"], early["updated_at"]);

        let report = app
            .request(Method::GET, &format!("{job_path}/errors"))
            .send()
            .await
            .unwrap();
        assert_eq!(report.status(), StatusCode::OK);
        let text = report.text().await.unwrap();
        assert!(
            text.starts_with("row,user_id,reason,error\n1101,broken-id,invalid_user_id,"),
            "{text}"
        );
        let (status, answer) = app
            .send(
                Method::GET,
                &format!("/users/jobs/{}", ObjectId::generate(app.clock.now())),
                None,
            )
            .await;
        assert_eq!(
            (status, code(&answer)),
            (StatusCode::NOT_FOUND, "JOB_NOT_FOUND")
        );
        app
    })
    .await;
}

#[tokio::test]
async fn several_values_of_one_customer_are_written_and_deleted_together() {
    each_app(|app| async move {
        let user = app.create_customer("asha@example.com", "9876543210").await;
        let age = define(&app, json!({"name": "Age", "type": "number"})).await;
        let tags = define(&app, json!({"name": "Tags", "type": "string_array"})).await;
        let path = format!("/user_attribute/user/{user}");
        let (status, written) = app
            .send(Method::POST, &path, Some(json!({"attributes": [{"definition_id": age["_id"], "value": 30}, {"definition_id": tags["_id"], "value": ["vip"]}]})))
            .await;
        assert_eq!((status, written["success"].clone(), written["attributes"].as_array().unwrap().len()), (StatusCode::OK, json!(true), 2));
        let (status, answer) = app
            .send(Method::POST, &path, Some(json!({"attributes": [{"definition_id": age["_id"], "value": 31}, {"definition_id": tags["_id"], "value": "vip"}]})))
            .await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{answer}");
        let age_path = format!("/user_attribute/definition/{}/user/{user}", age["_id"].as_str().unwrap());
        let (_, kept) = app.send(Method::GET, &age_path, None).await;
        assert_eq!(kept["attribute"]["value"], 30, "the refused call wrote nothing");
        let (status, deleted) = app.send(Method::DELETE, &path, Some(json!({"definition_ids": [age["_id"], tags["_id"]]}))).await;
        assert_eq!((status, deleted), (StatusCode::OK, json!({"success": "true"})));
        let (_, left) = app.send(Method::GET, &path, None).await;
        assert_eq!(left["page"]["item_total"], 0);
        app
    })
    .await;
}
