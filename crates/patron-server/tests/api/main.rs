//! API integration tests: the real router on a random port, a fresh database per test and
//! backend, plain HTTP.
#![allow(missing_docs, clippy::unwrap_used)]

mod helpers;

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

pub use helpers::*;
