//! API integration tests: the real router on a random port, a fresh database per test and
//! backend, plain HTTP.
#![allow(missing_docs, clippy::unwrap_used)]

mod attributes;
mod auth;
mod auth_config;
mod budgets;
mod console;
mod contacts;
mod customers;
mod deletion;
mod events;
mod files;
mod groups;
mod integrity;
mod logs;
mod openapi;
mod otp;
mod reset;
mod secrets;
mod sessions;
mod social;
mod storefront;
mod sweep;
mod transfer;
mod transport;

use std::sync::Arc;

use chrono::{TimeZone, Utc};
use patron_server::config::Redacted;
use patron_server::{App, AppState, Config};
use patron_service::secrets::SecretBox;
use patron_service::{ManualClock, NewApplication};
use patron_store::testing::{backends, TestDatabase};
use patron_store::Stores;
use reqwest::{Method, RequestBuilder, StatusCode};
use serde_json::Value;
use tokio::net::TcpListener;

pub const COMPANY: &str = "559";

/// A running server with one application and two clients (read+write, read-only).
pub struct TestApp {
    pub base: String,
    pub application_id: String,
    pub writer: Client,
    pub reader: Client,
    pub clock: Arc<ManualClock>,
    pub http: reqwest::Client,
    pub stores: Stores,
    pub application_token: String,
    /// The server's state, for driving background jobs from tests.
    pub state: AppState,
    /// The database URL, for reading raw rows.
    pub database_url: String,
    database: Option<TestDatabase>,
    shutdown: Option<tokio::sync::oneshot::Sender<()>>,
}

/// Platform client credentials and a current access token.
pub struct Client {
    pub id: String,
    pub secret: String,
    pub token: String,
    pub refresh_token: String,
}

/// Runs `test` once per backend on a freshly spawned app.
pub async fn each_app<F, Fut>(test: F)
where
    F: Fn(TestApp) -> Fut,
    Fut: std::future::Future<Output = TestApp>,
{
    each_app_with(|_| {}, test).await;
}

/// [`each_app`] with `configure` applied to each server's configuration first.
pub async fn each_app_with<C, F, Fut>(configure: C, test: F)
where
    C: Fn(&mut Config),
    F: Fn(TestApp) -> Fut,
    Fut: std::future::Future<Output = TestApp>,
{
    for backend in backends() {
        let app = TestApp::spawn(TestDatabase::create(backend).await, &configure).await;
        test(app).await.stop().await;
    }
}

impl TestApp {
    async fn spawn(database: TestDatabase, configure: &dyn Fn(&mut Config)) -> Self {
        let clock = Arc::new(ManualClock::new(
            Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).unwrap(),
        ));
        // Cheap argon2 parameters: tests check behaviour, not hashing cost.
        // Files are served to the fetcher from 127.0.0.1 (other loopback addresses stay
        // refused); bulk updates above 20 customers become jobs.
        let mut config = Config {
            argon2_memory_kib: 64,
            argon2_iterations: 1,
            database_url: database.url.clone(),
            bulk_sync_limit: 20,
            export_dir: std::env::temp_dir()
                .join(format!("patron-exports-{}", rand::random::<u64>())),
            secret_key: Some(Redacted(SecretBox::generate_key())),
            ..Config::default()
        };
        config.fetch.allow = vec!["127.0.0.1/32".to_owned()];
        let providers = &social::providers().base;
        config.google_jwks_url = format!("{providers}/jwks");
        config.apple_jwks_url = format!("{providers}/jwks?apple");
        config.facebook_graph_url = format!("{providers}/graph");
        configure(&mut config);
        let server = App::build(config, clock.clone()).await.unwrap();
        let stores = server.state.stores.clone();
        let services = &server.state.services;
        let created = services
            .applications
            .create(NewApplication {
                company: COMPANY,
                name: "Shop",
                ..NewApplication::default()
            })
            .await
            .unwrap();
        let writer = services
            .clients
            .create(
                COMPANY,
                "application/customers/read,application/customers/write,company/settings/write",
                None,
            )
            .await
            .unwrap();
        let reader = services
            .clients
            .create(COMPANY, "application/customers/read", None)
            .await
            .unwrap();
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        let (shutdown, stopped) = tokio::sync::oneshot::channel::<()>();
        tokio::spawn(patron_server::serve(listener, server.router(), async {
            let _ = stopped.await;
        }));
        let http = reqwest::Client::new();
        let mut app = Self {
            base,
            application_id: created.application_id,
            application_token: created.application_token,
            stores,
            state: server.state,
            database_url: database.url.clone(),
            writer: Client {
                id: writer.client_id,
                secret: writer.client_secret,
                token: String::new(),
                refresh_token: String::new(),
            },
            reader: Client {
                id: reader.client_id,
                secret: reader.client_secret,
                token: String::new(),
                refresh_token: String::new(),
            },
            clock,
            http,
            database: Some(database),
            shutdown: Some(shutdown),
        };
        for reader in [false, true] {
            let client = if reader { &app.reader } else { &app.writer };
            let (status, body) = app
                .token(&client.id, &client.secret, "grant_type=client_credentials")
                .await;
            assert_eq!(status, StatusCode::OK, "{body}");
            let client = if reader {
                &mut app.reader
            } else {
                &mut app.writer
            };
            client.token = body["access_token"].as_str().unwrap().to_owned();
            client.refresh_token = body["refresh_token"].as_str().unwrap().to_owned();
        }
        app
    }

    async fn stop(mut self) {
        if let Some(shutdown) = self.shutdown.take() {
            let _ = shutdown.send(());
        }
        if let Some(database) = self.database.take() {
            database.drop_database().await;
        }
    }

    /// POSTs a form to the token endpoint with HTTP Basic credentials.
    pub async fn token(&self, id: &str, secret: &str, form: &str) -> (StatusCode, Value) {
        let response = self
            .http
            .post(format!(
                "{}/service/panel/authentication/v1.0/company/{COMPANY}/oauth/token",
                self.base
            ))
            .basic_auth(id, Some(secret))
            .header("content-type", "application/x-www-form-urlencoded")
            .body(form.to_owned())
            .send()
            .await
            .unwrap();
        read(response).await
    }

    /// A fresh access token for the read+write client (after moving the clock past the
    /// old one's expiry).
    pub async fn renew_writer_token(&mut self) {
        let (status, body) = self
            .token(
                &self.writer.id,
                &self.writer.secret,
                "grant_type=client_credentials",
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{body}");
        self.writer.token = body["access_token"].as_str().unwrap().to_owned();
    }

    /// The platform path prefix for this app's application.
    pub fn platform(&self, path: &str) -> String {
        format!(
            "{}/service/platform/user/v1.0/company/{COMPANY}/application/{}{path}",
            self.base, self.application_id
        )
    }

    /// A request as the read+write client.
    pub fn request(&self, method: Method, path: &str) -> RequestBuilder {
        self.http
            .request(method, self.platform(path))
            .bearer_auth(&self.writer.token)
    }

    /// Sends a request as the writer with a JSON body and reads the answer.
    pub async fn send(
        &self,
        method: Method,
        path: &str,
        body: Option<Value>,
    ) -> (StatusCode, Value) {
        let mut request = self.request(method, path);
        if let Some(body) = body {
            request = request.json(&body);
        }
        read(request.send().await.unwrap()).await
    }

    /// Creates a customer and returns its id.
    pub async fn create_customer(&self, email: &str, phone: &str) -> String {
        let (status, body) = self
            .send(
                Method::POST,
                "/customers",
                Some(serde_json::json!({ "email": email, "phone_number": phone })),
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{body}");
        body["user"]["_id"].as_str().unwrap().to_owned()
    }

    /// A storefront request authenticated as this app's application.
    pub fn storefront(&self, method: Method, path: &str) -> RequestBuilder {
        use base64::Engine;
        let credentials = base64::engine::general_purpose::STANDARD.encode(format!(
            "{}:{}",
            self.application_id, self.application_token
        ));
        self.http
            .request(
                method,
                format!("{}/service/application/user{path}", self.base),
            )
            .bearer_auth(credentials)
    }

    /// Lists customers with extra query pairs; returns (status, body).
    pub async fn list(&self, query: &[(&str, &str)]) -> (StatusCode, Value) {
        read(
            self.request(Method::GET, "/customers/list")
                .query(query)
                .send()
                .await
                .unwrap(),
        )
        .await
    }
}

/// Status and JSON body; every answer of the service must be JSON.
pub async fn read(response: reqwest::Response) -> (StatusCode, Value) {
    let status = response.status();
    let text = response.text().await.unwrap();
    let body =
        serde_json::from_str(&text).unwrap_or_else(|_| panic!("not JSON ({status}): {text}"));
    (status, body)
}

impl TestApp {
    /// The newest `limit` outbox messages, opened (as `patron outbox list --reveal` shows them).
    pub async fn outbox(
        &self,
        limit: usize,
    ) -> Result<Vec<patron_store::OutboxMessage>, patron_service::ServiceError> {
        self.state.services.notifications.list(limit, true).await
    }
}

/// Runs one statement straight on the app's database (to play a database writer).
pub async fn execute_sql(app: &TestApp, sql: &str) {
    if app.database_url.starts_with("postgres") {
        let pool = sqlx::PgPool::connect(&app.database_url).await.unwrap();
        sqlx::query(sql).execute(&pool).await.unwrap();
    } else {
        let pool = sqlx::SqlitePool::connect(&app.database_url).await.unwrap();
        sqlx::query(sql).execute(&pool).await.unwrap();
    }
}

/// The one text column a query selects, straight from the app's database.
pub async fn text_rows(app: &TestApp, sql: &str) -> Vec<String> {
    if app.database_url.starts_with("postgres") {
        let pool = sqlx::PgPool::connect(&app.database_url).await.unwrap();
        sqlx::query_scalar(sql).fetch_all(&pool).await.unwrap()
    } else {
        let pool = sqlx::SqlitePool::connect(&app.database_url).await.unwrap();
        sqlx::query_scalar(sql).fetch_all(&pool).await.unwrap()
    }
}
