//! Patron's HTTP service: the Fynd-compatible platform API, its OAuth token endpoint,
//! configuration, and the wiring that holds them together.
//!
//! Handlers stay thin: parse the request, call the domain and the store, map the result.
//! Every failure becomes one Fynd-shaped JSON error in [`error`].

pub mod app;
pub mod config;
mod console;
pub mod error;
mod extract;
pub mod fetch;
pub mod metrics;
pub mod notify;
pub(crate) mod oauth;
pub mod openapi;
mod platform;
mod sessions;
mod storefront;
pub mod telemetry;
mod wire;

pub use app::{build_metrics_router, build_router, serve, App, AppState, BuildError};
pub use config::Config;
