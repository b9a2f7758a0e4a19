//! The store traits, one per concern, grouped by family; `lib.rs` re-exports them all.

mod credentials;
mod customers;
mod messaging;
mod platform;
mod segments;

pub use credentials::{CredentialStore, SessionStore};
pub use customers::CustomerStore;
pub use messaging::{EventStore, OtpStore, OutboxStore};
pub use platform::{ApplicationStore, AuthConfigStore, ClientStore, HealthStore, TokenStore};
pub use segments::{AttributeStore, GroupStore, JobStore};

/// What the trait definitions name: the domain types, the records and the async-trait
/// machinery.
mod prelude {
    pub(super) use async_trait::async_trait;
    pub(super) use chrono::{DateTime, Duration, Utc};
    pub(super) use patron_domain::contacts::ContactEdit;
    pub(super) use patron_domain::csv_list::Identifier;
    pub(super) use patron_domain::customer::{Customer, CustomerChanges, NewCustomer};
    pub(super) use patron_domain::email::Email;
    pub(super) use patron_domain::ids::ObjectId;
    pub(super) use patron_domain::notification::Message;
    pub(super) use patron_domain::otp::{OtpPurpose, OtpTarget};
    pub(super) use patron_domain::page::PageRequest;
    pub(super) use patron_domain::phone::Phone;
    pub(super) use patron_domain::query::CustomerFilter;
    pub(super) use patron_domain::scope::Scope;

    pub(super) use crate::*;
}
