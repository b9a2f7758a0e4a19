//! Patron's domain: the rules of customer identity and management, free of I/O.
//!
//! Nothing here can open a socket, read the clock or touch a database: time is a
//! parameter (`now`), randomness comes from the caller's RNG where it matters, and every
//! type that reaches this crate's public API can only hold a valid value.

pub mod attribute;
pub mod auth_config;
pub mod contacts;
pub mod csv_list;
pub mod customer;
pub mod email;
pub mod error;
pub mod events;
pub mod ids;
pub mod import;
pub mod link;
pub mod notification;
pub mod otp;
pub mod page;
pub mod password;
pub mod phone;
pub mod query;
pub mod scope;
pub mod secret;
pub mod segment;
pub mod time;
pub mod timeline;

pub use error::DomainError;
