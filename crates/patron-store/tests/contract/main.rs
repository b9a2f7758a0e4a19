//! The store contract: every behaviour, run against SQLite and (when configured) PostgreSQL.
#![allow(missing_docs, clippy::unwrap_used)]

mod customers;
mod jobs;
mod retention;
mod segments;
mod tokens;
mod unreadable;

use std::future::Future;

use chrono::{DateTime, TimeZone, Utc};
use patron_domain::customer::{NewCustomer, Profile};
use patron_domain::email::Email;
use patron_domain::ids::{CompanyId, ObjectId};
use patron_domain::phone::{Phone, Region};
use patron_store::testing::{backends, TestDatabase};
use patron_store::{Actor, Application, Backend, Stores};
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

fn rand_suffix() -> u32 {
    use std::sync::atomic::{AtomicU32, Ordering};
    static NEXT: AtomicU32 = AtomicU32::new(10_000);
    NEXT.fetch_add(1, Ordering::Relaxed)
}
