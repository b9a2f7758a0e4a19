//! The one home of the API tests' shared helpers: [`TestApp`] (a running server on a fresh
//! database), the runners that hand one to a test per backend, raw database access, and,
//! in the submodules, the calls tests make through it grouped by who makes them.

mod file_server;
pub mod logs;
mod messages;
mod platform;
mod providers;
mod proxy;
mod routes;
mod shopper;

use std::sync::Arc;

use chrono::{TimeZone, Utc};
use patron_server::config::Redacted;
use patron_server::{App, AppState, Config};
use patron_service::secrets::SecretBox;
use patron_service::{ManualClock, NewApplication};
use patron_store::testing::{backends, TestDatabase};
use patron_store::Stores;
use reqwest::StatusCode;
use serde_json::Value;
use tokio::net::TcpListener;

pub use file_server::serve_file;
pub use platform::{define, set_value};
pub use providers::providers;
pub use proxy::{each_proxied_app, Raw};
pub use routes::{declared_routes, documented_operations, Operation};
pub use shopper::{Answer, PASSWORD};

/// The company every test app's application and clients belong to.
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
    /// Starts a server on `database` with `configure` applied to its configuration, and fetches both clients' tokens.
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
        let providers = &providers().base;
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

    /// Shuts the server down and drops its database.
    async fn stop(mut self) {
        if let Some(shutdown) = self.shutdown.take() {
            let _ = shutdown.send(());
        }
        if let Some(database) = self.database.take() {
            database.drop_database().await;
        }
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

/// The stored text of every attribute value, straight from the database.
pub async fn raw_values(app: &TestApp) -> Vec<String> {
    text_rows(app, "SELECT value FROM attribute_values").await
}

/// The error code (`code`) of an answer's body, or "" if it has none.
pub fn code(body: &Value) -> &str {
    body["code"].as_str().unwrap_or_default()
}
