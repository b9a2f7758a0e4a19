//! The store implementations, written once and stamped for each backend by [`impl_stores`].
//!
//! Inside the macros, `$store` is the backend's store type, which provides:
//! `self.pool` (a `sqlx::Pool<$db>`), `self.begin_write()` (a transaction that takes the
//! write lock up front), `Self::DIALECT`, `Self::LOCK_ROW` (`" FOR UPDATE"` where the
//! database has row locks, empty on SQLite whose write transactions are exclusive) and
//! `Self::SKIP_LOCKED`. Each concern expands into a module of its own beside the backend.

pub(crate) mod attributes;
pub(crate) mod credentials;
pub(crate) mod customers;
pub(crate) mod groups;
pub(crate) mod helpers;
pub(crate) mod jobs;
pub(crate) mod outbox;
pub(crate) mod platform;
pub(crate) mod sessions;

/// The imports and the connection type every generated module uses.
macro_rules! prelude {
    ($db:ty) => {
        use super::*;
        use std::collections::BTreeSet;

        use async_trait::async_trait;
        use chrono::{DateTime, Utc};
        use patron_domain::customer::{
            Customer, CustomerChanges, EmailEntry, NewCustomer, PhoneEntry,
        };
        use patron_domain::email::Email;
        use patron_domain::ids::ObjectId;
        use patron_domain::notification::Message;
        use patron_domain::page::PageRequest;
        use patron_domain::phone::Phone;
        use patron_domain::query::{CustomerFilter, FlagField};
        use patron_domain::time::{from_millis, to_millis};

        use $crate::error::{Conflict, StoreError};
        use $crate::records::{
            Actor, ApiClient, Application, AttemptClaim, LoginRecord, OutboxMessage,
            PasswordChange, PendingRegistration, Session, StoredAuthConfig, TokenGrant, TokenKind,
        };
        use $crate::sql::filter::push_filter;
        use $crate::sql::rows::{
            assemble, contacts_sql, scopes_text, unique_violation, ApplicationRow, AuthConfigRow,
            ClientRow, ContactRow, CustomerRow, OutboxRow, SessionCustomerRow, SessionRow,
            TokenRow, UniqueIndex, CUSTOMER_COLUMNS, OUTBOX_COLUMNS, SESSION_AS_PREFIXED,
            SESSION_COLUMNS,
        };
        use $crate::sql::{bind_params, SqlBuilder, SqlParam};
        use $crate::{
            ApplicationStore, AuthConfigStore, ClientStore, CredentialStore, CustomerStore,
            HealthStore, OutboxStore, SessionStore, TokenStore,
        };

        #[allow(dead_code)]
        type Connection = <$db as sqlx::Database>::Connection;
    };
}
pub(crate) use prelude;

/// Implements every store trait for `$store` over database `$db`.
macro_rules! impl_stores {
    ($store:ty, $db:ty) => {
        $crate::sql::stores::helpers::store_helpers!($store, $db);
        $crate::sql::stores::platform::platform_stores!($store, $db);
        $crate::sql::stores::customers::customer_store!($store, $db);
        $crate::sql::stores::sessions::session_store!($store, $db);
        $crate::sql::stores::credentials::credential_store!($store, $db);
        $crate::sql::stores::outbox::outbox_store!($store, $db);
        $crate::sql::stores::attributes::attribute_store!($store, $db);
        $crate::sql::stores::groups::group_store!($store, $db);
        $crate::sql::stores::jobs::job_store!($store, $db);
    };
}
pub(crate) use impl_stores;
