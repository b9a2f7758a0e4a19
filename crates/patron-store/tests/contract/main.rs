//! The store contract: every behaviour, run against SQLite and (when configured) PostgreSQL.
#![allow(missing_docs, clippy::unwrap_used)]

mod auth_config;
mod credentials;
mod customers;
mod deletion;
mod events;
mod jobs;
mod otp;
mod outbox;
mod retention;
mod segments;
mod sessions;
mod tokens;
mod unreadable;

use std::future::Future;

use chrono::{DateTime, TimeZone, Utc};
use patron_domain::customer::{Customer, NewCustomer, Profile};
use patron_domain::email::Email;
use patron_domain::ids::{CompanyId, ObjectId};
use patron_domain::notification::{Channel, Message};
use patron_domain::phone::{Phone, Region};
use patron_store::testing::{backends, TestDatabase};
use patron_store::{Actor, Application, Backend, Session, StoreError, Stores};
use sqlx::Connection;

/// Runs `test` once per backend, each time on a fresh database holding one application.
pub async fn each_backend<F, Fut>(test: F)
where
    F: Fn(Fixture) -> Fut,
    Fut: Future<Output = ()>,
{
    for backend in backends() {
        let database = TestDatabase::create(backend).await;
        let stores = patron_store::connect(&database.url)
            .await
            .expect("connect and migrate");
        let application = ObjectId::parse("id", "000000000000000000000001").unwrap();
        stores
            .applications
            .create_application(&Application {
                id: application.clone(),
                company_id: CompanyId::parse("559").unwrap(),
                name: "Shop".into(),
                token_digest: "digest".into(),
                default_region: Region::INDIA,
                created_at: t0(),
            })
            .await
            .unwrap();
        test(Fixture {
            stores,
            application,
            backend,
            url: database.url.clone(),
        })
        .await;
        database.drop_database().await;
    }
}

/// What each contract test gets.
pub struct Fixture {
    pub stores: Stores,
    pub application: ObjectId,
    pub backend: Backend,
    pub url: String,
}

pub fn t0() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).unwrap()
}

pub fn actor() -> Actor {
    Actor::new("client-1")
}

pub fn phone(national: &str) -> Phone {
    Phone::parse("phone", national, None, Region::INDIA).unwrap()
}

pub fn email(address: &str) -> Email {
    Email::parse("email", address).unwrap()
}

impl Fixture {
    /// Runs a raw statement on the fixture's database (to set up what the API cannot).
    pub async fn execute(&self, sql: &str) {
        match self.backend {
            Backend::Sqlite => {
                let mut conn = sqlx::SqliteConnection::connect(&self.url).await.unwrap();
                sqlx::query(sql).execute(&mut conn).await.unwrap();
            }
            Backend::Postgres => {
                let mut conn = sqlx::PgConnection::connect(&self.url).await.unwrap();
                sqlx::query(sql).execute(&mut conn).await.unwrap();
            }
        }
    }

    /// Reads one row of a raw query on the fixture's database.
    pub async fn fetch_one<T>(&self, sql: &str) -> T
    where
        T: Send + Unpin,
        T: for<'r> sqlx::FromRow<'r, sqlx::sqlite::SqliteRow>,
        T: for<'r> sqlx::FromRow<'r, sqlx::postgres::PgRow>,
    {
        match self.backend {
            Backend::Sqlite => {
                let mut conn = sqlx::SqliteConnection::connect(&self.url).await.unwrap();
                sqlx::query_as(sql).fetch_one(&mut conn).await.unwrap()
            }
            Backend::Postgres => {
                let mut conn = sqlx::PgConnection::connect(&self.url).await.unwrap();
                sqlx::query_as(sql).fetch_one(&mut conn).await.unwrap()
            }
        }
    }

    /// A new customer with the given contacts, not yet stored.
    pub fn new_customer(&self, address: Option<&str>, national: Option<&str>) -> NewCustomer {
        let suffix = rand_suffix();
        NewCustomer::new(
            self.application.clone(),
            None,
            Profile::default(),
            address.map(email),
            national.map(phone),
            suffix,
            t0(),
        )
        .unwrap()
    }
}

impl Fixture {
    /// Stores a session of `customer` expiring at `expires_at`; returns it.
    pub async fn session_for(
        &self,
        customer: &ObjectId,
        expires_at: DateTime<Utc>,
    ) -> Result<Session, StoreError> {
        let id = ObjectId::generate(t0());
        let session = Session {
            token_digest: format!("digest-{id}-{}", rand_suffix()),
            id,
            application_id: self.application.clone(),
            customer_id: customer.clone(),
            domain: "shop".into(),
            user_agent: "test".into(),
            ip: "127.0.0.1".into(),
            created_at: t0(),
            expires_at,
            last_seen_at: t0(),
        };
        self.stores
            .sessions
            .create_session(&session, None, None)
            .await?;
        Ok(session)
    }

    /// Stores a new customer with this email; returns it.
    pub async fn stored_customer(&self, address: &str) -> Customer {
        let new = self.new_customer(Some(address), None);
        self.stores
            .customers
            .create_customer(&new, &actor())
            .await
            .unwrap()
    }

    /// Queues an email to `to` at `t0`; returns its id.
    pub async fn queue_message(&self, to: &str) -> ObjectId {
        let message = Message {
            channel: Channel::Email,
            to: to.into(),
            template: "reset_password".into(),
            subject: "Reset".into(),
            text: format!("Reset your password, {to}"),
            data: serde_json::Map::from_iter([("code".to_owned(), serde_json::json!("c0de"))]),
        };
        self.stores
            .outbox
            .enqueue(&self.application, &message, t0())
            .await
            .unwrap()
    }
}

fn rand_suffix() -> u32 {
    use std::sync::atomic::{AtomicU32, Ordering};
    static NEXT: AtomicU32 = AtomicU32::new(10_000);
    NEXT.fetch_add(1, Ordering::Relaxed)
}

/// A test that panics still has its database removed.
#[tokio::test]
async fn a_panicking_test_still_drops_its_database() {
    for backend in backends() {
        let database = TestDatabase::create(backend).await;
        let url = database.url.clone();
        patron_store::connect(&url)
            .await
            .expect("connect and migrate");
        let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(move || {
            let _owned = database;
            panic!("the test failed");
        }));
        assert!(outcome.is_err());
        match backend {
            Backend::Sqlite => {
                let path = url.trim_start_matches("sqlite://");
                assert!(!std::path::Path::new(path).exists(), "{path} remains");
            }
            Backend::Postgres => {
                assert!(
                    sqlx::PgConnection::connect(&url).await.is_err(),
                    "{url} remains"
                );
            }
        }
    }
}
