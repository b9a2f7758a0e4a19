//! Patron's HTTP service: the Fynd-compatible platform and storefront APIs, the token
//! endpoint, the console, configuration, the adapters the use cases' ports are served by
//! (notifiers, the guarded fetcher), and the wiring that holds them together.
//!
//! Handlers stay thin: read the request into the use case's terms, call one use case of
//! `patron_service`, map the result. Every failure becomes one Fynd-shaped JSON error in
//! [`error`].

pub mod app;
pub mod config;
mod console;
mod cookies;
pub mod error;
mod extract;
pub mod fetch;
pub mod metrics;
pub mod notify;
pub mod openapi;
mod platform;
mod storefront;
pub mod telemetry;
mod token_endpoint;
mod wire;

pub use app::{build_metrics_router, build_router, serve, App, AppState, BuildError};
pub use config::Config;
