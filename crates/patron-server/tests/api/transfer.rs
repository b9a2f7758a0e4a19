//! Moving customers in and out: imports from CSV and XLSX files (with password hashes from
//! other systems and attribute columns), exports to files behind signed, expiring links,
//! and the job lists.

use chrono::Duration;
use patron_service::spreadsheet::{read_table, FileFormat, TableWriter};
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

use crate::{define, each_app, serve_file, set_value};

/// `Migrated-1` hashed by Python's bcrypt.
const BCRYPT: &str = "$2b$04$84We4RugYbRxft8iPfcru.FEu2fWsJxhEBknAO8YN3ZVbhGnbZh2S";

fn csv(rows: &[&[&str]]) -> Vec<u8> {
    let mut writer = csv::Writer::from_writer(Vec::new());
    for row in rows {
        writer.write_record(*row).unwrap();
    }
    writer.into_inner().unwrap()
}

#[tokio::test]
async fn an_import_lands_good_rows_reports_bad_ones_and_keeps_old_passwords() {
    each_app(|app| async move {
        define(&app, json!({"name": "Loyalty tier", "type": "string"})).await;
        define(&app, json!({"name": "Points", "type": "number"})).await;
        app.register("taken@example.com", "9876500000").await;
        let file = csv(&[
            &[
                "email",
                "phone_number",
                "first_name",
                "password_hash",
                "loyalty_tier",
                "points",
            ],
            &[
                "asha@example.com",
                "9876543210",
                "Asha",
                BCRYPT,
                "gold",
                "120",
            ],
            &["not-an-email", "", "", "", "", ""],
            &["new@example.com", "9876500000", "", "", "", ""],
            &["ravi@example.com", "", "Ravi", "md5:abcdef", "", ""],
            &["ASHA@example.com", "", "", "", "", ""],
            &["meera@example.com", "", "", "", "", "many"],
            &["", "9123456780", "Nisha", "", "silver", "7"],
        ]);
        let url = serve_file(file).await;
        let (status, job) = app.import_file(&url, "CSV").await;
        assert_eq!(status, StatusCode::OK, "{job}");
        assert_eq!(
            (
                job["action_type"].as_str(),
                job["status"].as_str(),
                job["file_format"].as_str()
            ),
            (Some("import"), Some("inprogress"), Some("csv"))
        );
        assert_eq!(job["file_name"], "customers.csv");
        assert_eq!(job["company_id"], "559");
        app.run_jobs().await;
        let done = app.job(&job["_id"]).await;
        assert_eq!(done["status"], "partial", "{done}");
        assert_eq!(done["count"], json!({"total": 7, "success": 2, "error": 5}));
        assert_eq!(
            done["error_summary"],
            json!({"email_taken": 1, "invalid_email": 1, "invalid_value": 1, "phone_taken": 1,
                   "unknown_hash_format": 1})
        );
        let report = app
            .http
            .get(format!(
                "{}{}",
                app.base,
                done["links"]["error"]["relative_url"].as_str().unwrap()
            ))
            .bearer_auth(&app.writer.token)
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        assert!(
            report.contains("3,'+919876500000,phone_taken,line 4: "),
            "a formula-safe report naming the file's line: {report}"
        );
        assert!(
            report.contains("5,asha@example.com,email_taken"),
            "{report}"
        );

        // The imported customer signs in with the password of their old system; the hash
        // becomes argon2id.
        let signed_in = app.login("asha@example.com", "Migrated-1").await;
        assert_eq!(signed_in.status, StatusCode::OK, "{}", signed_in.body);
        let stored = crate::text_rows(
            &app,
            "SELECT cc.password_hash FROM customer_credentials cc JOIN customer_emails e ON \
             e.customer_id = cc.customer_id WHERE e.email = 'asha@example.com'",
        )
        .await;
        assert!(stored[0].starts_with("$argon2id$"), "{}", stored[0]);
        app.create_customer("later@example.com", "9000000009").await;
        let (_, found) = app.list(&[("q", "9123456780")]).await;
        let nisha = &found["items"][0];
        assert_eq!(nisha["first_name"], "Nisha", "{found}");
        let (_, values) = app
            .send(
                Method::GET,
                &format!("/user_attribute/user/{}", nisha["_id"].as_str().unwrap()),
                None,
            )
            .await;
        let text = values.to_string();
        assert!(text.contains("silver") && text.contains('7'), "{values}");

        // The payload with the file's rows (and hashes) is gone once the job ended.
        let payloads = crate::text_rows(&app, "SELECT payload FROM jobs").await;
        assert!(payloads.iter().all(|p| !p.contains("$2b$")), "{payloads:?}");
        app
    })
    .await;
}

#[tokio::test]
async fn imports_read_xlsx_and_refuse_unreadable_files_up_front() {
    each_app(|app| async move {
        let dir = std::env::temp_dir().join(format!("patron-xlsx-{}", rand::random::<u64>()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("in.xlsx");
        let mut writer = TableWriter::create(&path, FileFormat::Xlsx).unwrap();
        for row in [["Email", "First_Name"], ["xl@example.com", "Excel"]] {
            writer.write_row(&row.map(str::to_owned)).unwrap();
        }
        writer.finish().unwrap();
        let url = serve_file(std::fs::read(&path).unwrap()).await;
        std::fs::remove_dir_all(dir).unwrap();
        let (status, job) = app.import_file(&url, "xlsx").await;
        assert_eq!(status, StatusCode::OK, "{job}");
        app.run_jobs().await;
        assert_eq!(app.job(&job["_id"]).await["status"], "complete");
        let (_, found) = app.list(&[("q", "xl@example.com")]).await;
        assert_eq!(found["items"][0]["first_name"], "Excel", "{found}");

        for (body, field) in [
            (
                csv(&[&["email", "shoe_size"], &["a@example.com", "9"]]),
                "shoe_size",
            ),
            (csv(&[&["first_name"], &["Asha"]]), "phone_number"),
            (Vec::new(), "empty"),
        ] {
            let url = serve_file(body).await;
            let (status, error) = app.import_file(&url, "CSV").await;
            assert_eq!(status, StatusCode::BAD_REQUEST, "{error}");
            assert!(
                error["message"].as_str().unwrap().contains(field),
                "{error}"
            );
        }
        let url = serve_file(b"not a workbook".to_vec()).await;
        assert_eq!(
            app.import_file(&url, "XLSX").await.0,
            StatusCode::BAD_REQUEST
        );
        assert_eq!(
            app.import_file(&url, "PDF").await.0,
            StatusCode::BAD_REQUEST
        );
        let (status, _) = app
            .send(
                Method::POST,
                "/users/jobs/import",
                Some(json!({"file_format": "CSV"})),
            )
            .await;
        assert_eq!(status, StatusCode::BAD_REQUEST);
        let private = app.import_file("http://10.1.2.3/x.csv", "CSV").await;
        assert_eq!(private.0, StatusCode::BAD_REQUEST, "{}", private.1);
        app
    })
    .await;
}

#[tokio::test]
async fn an_import_taken_over_after_a_crash_inserts_every_row_once() {
    each_app(|app| async move {
        let mut rows = vec![vec!["email".to_owned()]];
        rows.extend((0..1_200).map(|i| vec![format!("bulk{i}@example.com")]));
        let borrowed: Vec<Vec<&str>> = rows
            .iter()
            .map(|row| row.iter().map(String::as_str).collect())
            .collect();
        let slices: Vec<&[&str]> = borrowed.iter().map(Vec::as_slice).collect();
        let url = serve_file(csv(&slices)).await;
        let (_, job) = app.import_file(&url, "CSV").await;
        // The first runner commits one batch and dies holding its lease.
        assert!(app
            .state
            .services
            .jobs
            .run_next("runner-a", Some(1))
            .await
            .unwrap());
        assert_eq!(app.job(&job["_id"]).await["count"]["success"], 500);
        app.clock.advance(Duration::minutes(5));
        app.run_jobs().await;
        let done = app.job(&job["_id"]).await;
        assert_eq!(
            done["count"],
            json!({"total": 1200, "success": 1200, "error": 0})
        );
        let (_, listed) = app.list(&[("page_size", "1")]).await;
        assert_eq!(listed["page"]["item_total"], 1200, "no row twice");
        app
    })
    .await;
}

#[tokio::test]
async fn exports_list_customers_and_attributes_but_no_password_material() {
    each_app(|mut app| async move {
        let tier = define(&app, json!({"name": "Tier", "type": "string"})).await;
        let note = define(
            &app,
            json!({"name": "Secret note", "type": "encrypted_string"}),
        )
        .await;
        app.register("asha@example.com", "9876543210").await;
        let asha = app.list(&[]).await.1["items"][0]["_id"]
            .as_str()
            .unwrap()
            .to_owned();
        for (definition, value) in [(&tier, "gold"), (&note, "likes tea")] {
            let (status, body) = set_value(&app, definition, &asha, json!(value)).await;
            assert!(status.is_success(), "{body}");
        }
        app.create_customer("ravi@example.com", "9123456780").await;

        for format in ["CSV", "XLSX"] {
            let (status, job) = app
                .send(
                    Method::POST,
                    "/users/jobs/export",
                    Some(json!({"file_format": format})),
                )
                .await;
            assert_eq!(status, StatusCode::OK, "{job}");
            assert_eq!(job["action_type"], "export");
            assert!(
                job["links"].get("file").is_none(),
                "no file before it is written"
            );
            app.run_jobs().await;
            let done = app.job(&job["_id"]).await;
            assert_eq!(done["status"], "complete", "{done}");
            assert_eq!(done["count"]["success"], 2);
            let file = &done["links"]["file"];
            let relative = file["relative_url"].as_str().unwrap();
            assert!(
                file["absolute_url"].as_str().unwrap().ends_with(relative),
                "{file}"
            );
            let link = format!("{}{relative}", app.base);
            let response = reqwest::get(&link).await.unwrap();
            assert_eq!(response.status(), StatusCode::OK);
            let bytes = response.bytes().await.unwrap();
            let table = read_table(&bytes, FileFormat::parse("f", format).unwrap()).unwrap();
            assert_eq!(table.rows.len(), 2);
            let column = |name: &str| table.header.iter().position(|h| h == name).unwrap();
            let asha_row = table
                .rows
                .iter()
                .find(|row| row[column("email")] == "asha@example.com")
                .unwrap();
            assert_eq!(asha_row[column("phone_number")], "9876543210");
            assert_eq!(asha_row[column("tier")], "gold");
            assert_eq!(asha_row[column("secret_note")], "likes tea");
            let everything = format!("{table:?}");
            assert!(!everything.contains("argon2") && !everything.contains("password"));

            // The link is the credential: tampered or expired, it opens nothing.
            let tampered = link.replace("signature=", "signature=0");
            assert_eq!(
                reqwest::get(&tampered).await.unwrap().status(),
                StatusCode::FORBIDDEN
            );
            let bare = link.split('?').next().unwrap().to_owned();
            assert_eq!(
                reqwest::get(&bare).await.unwrap().status(),
                StatusCode::FORBIDDEN
            );
            app.clock.advance(Duration::hours(2));
            app.renew_writer_token().await;
            assert_eq!(
                reqwest::get(&link).await.unwrap().status(),
                StatusCode::FORBIDDEN
            );
            let fresh = format!(
                "{}{}",
                app.base,
                app.job(&job["_id"]).await["links"]["file"]["relative_url"]
                    .as_str()
                    .unwrap()
            );
            assert_eq!(reqwest::get(&fresh).await.unwrap().status(), StatusCode::OK);
        }
        app
    })
    .await;
}

#[tokio::test]
async fn job_lists_filter_imports_and_exports() {
    each_app(|mut app| async move {
        let url = serve_file(csv(&[&["email"], &["a@example.com"]])).await;
        let (_, first) = app.import_file(&url, "CSV").await;
        app.run_jobs().await;
        app.clock.advance(Duration::days(2));
        app.renew_writer_token().await;
        let url = serve_file(csv(&[&["email"], &["a@example.com"]])).await;
        let (_, second) = app.import_file(&url, "CSV").await;
        app.send(
            Method::POST,
            "/users/jobs/export",
            Some(json!({"file_format": "XLSX"})),
        )
        .await;
        let ids = |list: &Value| -> Vec<String> {
            list["items"]
                .as_array()
                .unwrap()
                .iter()
                .map(|job| job["_id"].as_str().unwrap().to_owned())
                .collect()
        };
        let list = |query: &str| {
            let app = &app;
            let path = format!("/users/jobs/import{query}");
            async move {
                let (status, body) = app.send(Method::GET, &path, None).await;
                assert_eq!(status, StatusCode::OK, "{body}");
                body
            }
        };
        let all = list("").await;
        let first_id = first["_id"].as_str().unwrap().to_owned();
        let second_id = second["_id"].as_str().unwrap().to_owned();
        assert_eq!(ids(&all), vec![second_id.clone(), first_id.clone()]);
        assert_eq!(all["page"]["item_total"], 2);
        assert_eq!(ids(&list("?status=complete").await), vec![first_id.clone()]);
        assert_eq!(
            ids(&list("?status=inprogress").await),
            vec![second_id.clone()]
        );
        assert_eq!(ids(&list("?file_format=xlsx").await), Vec::<String>::new());
        assert_eq!(ids(&list("?search=CUSTOMERS").await).len(), 2);
        assert_eq!(
            ids(&list("?start_date=2026-01-02").await),
            vec![second_id.clone()]
        );
        assert_eq!(
            ids(&list("?end_date=2026-01-01T23:00:00Z").await),
            vec![first_id]
        );
        assert_eq!(ids(&list("?page_size=1&page_no=2").await).len(), 1);
        let (_, exports) = app.send(Method::GET, "/users/jobs/export", None).await;
        assert_eq!(exports["items"][0]["file_format"], "xlsx", "{exports}");
        for bad in [
            "?status=done",
            "?start_date=yesterday",
            "?file_format=pdf",
            "?page_size=0",
        ] {
            let (status, _) = app
                .send(Method::GET, &format!("/users/jobs/import{bad}"), None)
                .await;
            assert_eq!(status, StatusCode::BAD_REQUEST, "{bad}");
        }
        app
    })
    .await;
}

#[tokio::test]
async fn firebase_hashes_import_with_their_salts_and_sign_in_with_the_project_parameters() {
    each_app(|app| async move {
        // `Migrated-1` hashed by Firebase's scrypt (made with Python's hashlib.scrypt and
        // AES-CTR from the `cryptography` package), salt and hash apart as Firebase exports.
        let file = csv(&[
            &["email", "password_hash", "password_salt"],
            &[
                "fire@example.com",
                "z9RFNbys4iyXJynqvzu16lvctVd5cPald/krrIZmWgaqASTnpDByBoVIwytuk9QA8PDYSfvy/PO7YoiLH3t/Cw==",
                "cGF0cm9uLXNhbHQtMDE=",
            ],
        ]);
        let url = serve_file(file).await;
        let (status, refused) = app.import_file(&url, "CSV").await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{refused}");
        assert!(refused["message"].as_str().unwrap().contains("firebase-scrypt"), "{refused}");

        let parameters = patron_service::hasher::FirebaseScrypt {
            signer_key: "jxspr8Ki0RYycVU8zykbdLGjFQ3McFUH0uiiTvC8pVMXAn210wjLNmdZJzxUECKbm0QsEmYUSDzZvpjeJ9WmXA=="
                .to_owned(),
            salt_separator: "Bw==".to_owned(),
            rounds: 8,
            mem_cost: 10,
        };
        let bad = patron_service::hasher::FirebaseScrypt { mem_cost: 40, ..parameters.clone() };
        let services = &app.state.services;
        let application = services.applications.find(&app.application_id).await.unwrap();
        assert!(services.auth_configs.set_firebase_scrypt(&application, &bad).await.is_err());
        services.auth_configs.set_firebase_scrypt(&application, &parameters).await.unwrap();
        let sealed = crate::text_rows(&app, "SELECT secrets FROM auth_configs").await;
        assert!(!sealed.concat().contains("jxspr"), "the signer key is sealed");

        let (status, job) = app.import_file(&url, "CSV").await;
        assert_eq!(status, StatusCode::OK, "{job}");
        app.run_jobs().await;
        assert_eq!(app.job(&job["_id"]).await["status"], "complete");
        let wrong = app.login("fire@example.com", "Migrated-2").await;
        assert_eq!(wrong.body["code"], "INVALID_CREDENTIALS");
        let signed_in = app.login("fire@example.com", "Migrated-1").await;
        assert_eq!(signed_in.status, StatusCode::OK, "{}", signed_in.body);
        let stored = crate::text_rows(&app, "SELECT password_hash FROM customer_credentials").await;
        assert!(stored[0].starts_with("$argon2id$"), "rehashed: {}", stored[0]);
        app
    })
    .await;
}

#[tokio::test]
async fn exported_files_go_with_their_jobs() {
    each_app(|app| async move {
        app.create_customer("asha@example.com", "9876543210").await;
        let (_, job) = app
            .send(
                Method::POST,
                "/users/jobs/export",
                Some(json!({"file_format": "CSV"})),
            )
            .await;
        app.run_jobs().await;
        let dir = app.state.config.export_dir.clone();
        let id = job["_id"].as_str().unwrap();
        let file = std::fs::read_dir(&dir)
            .unwrap()
            .map(|entry| entry.unwrap().path())
            .find(|path| path.file_name().unwrap().to_str().unwrap().starts_with(id))
            .expect("the exported file");
        // The file was written "now" on the test's clock.
        let written: std::time::SystemTime = patron_service::Clock::now(app.clock.as_ref()).into();
        std::fs::File::options()
            .write(true)
            .open(&file)
            .unwrap()
            .set_modified(written)
            .unwrap();
        let retention = &app.state.services.retention;
        app.clock.advance(Duration::days(29));
        assert_eq!(retention.purge().await.unwrap().export_files, 0);
        assert!(file.exists());
        app.clock.advance(Duration::days(2));
        assert_eq!(retention.purge().await.unwrap().export_files, 1);
        assert!(!file.exists(), "gone with its job");
        app
    })
    .await;
}

#[tokio::test]
async fn jobs_that_cannot_go_on_fail_with_the_reason() {
    each_app(|app| async move {
        // An import whose attribute column lost its definition before the job ran.
        let tier = define(&app, json!({"name": "Tier", "type": "string"})).await;
        let url = serve_file(csv(&[&["email", "tier"], &["a@example.com", "gold"]])).await;
        let (status, import) = app.import_file(&url, "CSV").await;
        assert_eq!(status, StatusCode::OK, "{import}");
        let (status, _) = app
            .send(
                Method::DELETE,
                &format!(
                    "/user_attribute/definition/{}",
                    tier["_id"].as_str().unwrap()
                ),
                None,
            )
            .await;
        assert_eq!(status, StatusCode::OK);
        app.run_jobs().await;
        let failed = app.job(&import["_id"]).await;
        assert_eq!(failed["status"], "failed", "{failed}");
        assert!(
            failed["error"].as_str().unwrap().contains("tier"),
            "{failed}"
        );
        let (_, listed) = app.list(&[]).await;
        assert_eq!(listed["page"]["item_total"], 0, "no row imported");

        // An XLSX export of a value longer than a cell holds.
        let notes = define(&app, json!({"name": "Notes", "type": "string_array"})).await;
        let id = app.create_customer("asha@example.com", "9876543210").await;
        let long: Vec<String> = (0..20).map(|_| "x".repeat(4_000)).collect();
        let (status, body) = set_value(&app, &notes, &id, json!(long)).await;
        assert!(status.is_success(), "{body}");
        let (_, export) = app
            .send(
                Method::POST,
                "/users/jobs/export",
                Some(json!({"file_format": "XLSX"})),
            )
            .await;
        app.run_jobs().await;
        let failed = app.job(&export["_id"]).await;
        assert_eq!(failed["status"], "failed", "{failed}");
        assert!(
            failed["error"].as_str().unwrap().contains("export as CSV"),
            "{failed}"
        );
        assert!(failed["links"].get("file").is_none());
        let left: Vec<_> = std::fs::read_dir(&app.state.config.export_dir)
            .map(|entries| entries.collect())
            .unwrap_or_default();
        assert!(left.is_empty(), "no partial file stays: {left:?}");
        app
    })
    .await;
}
