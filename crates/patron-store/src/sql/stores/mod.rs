//! The store implementations, written once in plain Rust and compiled for each backend.
//!
//! `sqlite.rs` and `postgres.rs` each declare this directory as their own `stores` module
//! (`#[path = "sql/stores/mod.rs"]`), after naming their backend `Db` and their store type
//! `Store`. The store type provides `self.pool` (a `sqlx::Pool<Db>`), `self.begin_write()`
//! (a transaction that takes the write lock up front) and the dialect's differences as
//! named items: `Store::DIALECT`, `Store::LOCK_ROW` (`" FOR UPDATE"` where the database has
//! row locks, empty on SQLite whose write transactions are exclusive), `Store::SKIP_LOCKED`
//! and `note_index_rows`.

mod attributes;
mod credentials;
mod customers;
mod events;
mod groups;
mod helpers;
mod import;
mod jobs;
mod otp;
mod outbox;
mod platform;
mod retention;
mod sealed;
mod sessions;

/// What every concern's implementation uses: the backend's `Db` and `Store`, the domain
/// types, the records and the shared SQL helpers.
mod prelude {
    pub(super) use super::super::*;
    pub(super) use std::collections::BTreeSet;

    pub(super) use async_trait::async_trait;
    pub(super) use chrono::{DateTime, Utc};
    pub(super) use patron_domain::customer::{
        Customer, CustomerChanges, EmailEntry, NewCustomer, PhoneEntry,
    };
    pub(super) use patron_domain::email::Email;
    pub(super) use patron_domain::ids::ObjectId;
    pub(super) use patron_domain::notification::Message;
    pub(super) use patron_domain::page::PageRequest;
    pub(super) use patron_domain::phone::Phone;
    pub(super) use patron_domain::query::{CustomerFilter, FlagField};
    pub(super) use patron_domain::scope::Scope;
    pub(super) use patron_domain::time::{from_millis, to_millis};

    pub(super) use crate::error::{Conflict, Entity, StoreError};
    pub(super) use crate::records::{
        Actor, ApiClient, Application, AttemptClaim, AuditRecord, Backlogs, KnownDevice,
        LoginRecord, LoginSubject, NewResetCode, OutboxMessage, PasswordChange,
        PendingRegistration, Rotation, Session, StoredAuthConfig, TokenGrant, TokenKind,
    };
    pub(super) use crate::sql::filter::push_filter;
    pub(super) use crate::sql::rows::{
        assemble, contacts_sql, scopes_text, unique_violation, ApplicationRow, AuthConfigRow,
        ClientRow, ContactRow, CustomerRow, OutboxRow, SessionCustomerRow, SessionRow, TokenRow,
        UniqueIndex, CUSTOMER_COLUMNS, OUTBOX_COLUMNS, SESSION_AS_PREFIXED, SESSION_COLUMNS,
        TOKEN_COLUMNS,
    };
    pub(super) use crate::sql::{SqlBuilder, SqlParam};
    pub(super) use crate::{
        ApplicationStore, AuthConfigStore, ClientStore, CredentialStore, CustomerStore,
        HealthStore, OutboxStore, SessionStore, TokenStore,
    };

    /// A connection of the backend.
    pub(super) type Connection = <Db as sqlx::Database>::Connection;

    /// One page of the rows of `from` (tables and joins) that `condition` (a ` WHERE …`
    /// fragment and its parameters) selects, in `order_by`, and how many it selects.
    pub(super) async fn fetch_page<R>(
        conn: &mut Connection,
        columns: &str,
        from: &str,
        condition: SqlBuilder,
        order_by: &str,
        page: PageRequest,
    ) -> Result<(Vec<R>, u64), StoreError>
    where
        R: for<'r> sqlx::FromRow<'r, <Db as sqlx::Database>::Row> + Send + Unpin,
    {
        let count_sql = format!("SELECT COUNT(*) FROM {from}{}", condition.sql);
        let (total,): (i64,) = sqlx::query_as_with(&count_sql, arguments(&condition.params)?)
            .fetch_one(&mut *conn)
            .await?;
        let mut select = SqlBuilder {
            sql: format!(
                "SELECT {columns} FROM {from}{} ORDER BY {order_by} LIMIT ",
                condition.sql
            ),
            params: condition.params,
        };
        select.bind(SqlParam::Int(i64::from(page.size())));
        select.push(" OFFSET ").bind(SqlParam::Int(
            i64::try_from(page.offset()).unwrap_or(i64::MAX),
        ));
        let rows = sqlx::query_as_with(&select.sql, arguments(&select.params)?)
            .fetch_all(&mut *conn)
            .await?;
        Ok((rows, u64::try_from(total).unwrap_or_default()))
    }

    /// A builder's parameters as the backend's query arguments, for `sqlx::query_with` and
    /// its `_as`/`_scalar` siblings.
    pub(super) fn arguments<'q>(
        params: &[SqlParam],
    ) -> Result<<Db as sqlx::Database>::Arguments<'q>, sqlx::Error> {
        use sqlx::Arguments as _;
        let mut arguments = <Db as sqlx::Database>::Arguments::default();
        for param in params {
            match param {
                SqlParam::Text(value) => arguments.add(value.clone()),
                SqlParam::Int(value) => arguments.add(*value),
                SqlParam::Float(value) => arguments.add(*value),
                SqlParam::Bool(value) => arguments.add(*value),
                SqlParam::Null => arguments.add(Option::<String>::None),
            }
            .map_err(sqlx::Error::Encode)?;
        }
        Ok(arguments)
    }
}
