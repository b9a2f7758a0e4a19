//! Command-line arguments.

use std::net::SocketAddr;
use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

/// Patron: a self-hosted customer identity and management service, compatible with
/// Fynd Platform's User API.
#[derive(Debug, Parser)]
#[command(name = "patron", version, about)]
pub struct Cli {
    /// TOML configuration file; `PATRON_*` environment variables override it, flags override both.
    #[arg(long, global = true, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Database URL: `sqlite://path/to/file.db` (default `sqlite://data/patron.db`) or `postgres://…`.
    #[arg(long, global = true, value_name = "URL")]
    pub database: Option<String>,
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Apply pending migrations and serve the API until SIGINT or SIGTERM.
    Serve {
        /// Address to listen on (default `127.0.0.1:8080`, env `PATRON_LISTEN`); port 0 picks a free one.
        #[arg(long, value_name = "ADDR")]
        listen: Option<SocketAddr>,
    },
    /// Apply pending migrations and exit (safe to run repeatedly).
    Migrate,
    /// Manage sales-channel applications.
    App {
        /// What to do with applications.
        #[command(subcommand)]
        command: AppCommand,
    },
    /// Read the outbox of customer messages (reset links, OTPs).
    Outbox {
        /// What to do with the outbox.
        #[command(subcommand)]
        command: OutboxCommand,
    },
    /// Lifecycle events sent to `[events] url`.
    Events {
        /// What to do with events.
        #[command(subcommand)]
        command: EventsCommand,
    },
    /// Manage the key that encrypts secrets at rest.
    Secrets {
        /// What to do with secrets.
        #[command(subcommand)]
        command: SecretsCommand,
    },
    /// Manage platform API clients.
    Client {
        /// What to do with clients.
        #[command(subcommand)]
        command: ClientCommand,
    },
}

/// `patron app …`.
#[derive(Debug, Subcommand)]
pub enum AppCommand {
    /// Register an application; prints its id and storefront token (shown once).
    Create(AppCreate),
    /// Replace an application's storefront token; prints the new one (shown once).
    RotateToken(Target),
    /// Set the Firebase password hash parameters (`hash_config` of `firebase auth:export`)
    /// that customers imported from Firebase are checked with; kept sealed.
    FirebaseScrypt(FirebaseScryptArgs),
}

/// Arguments of `patron app firebase-scrypt`.
#[derive(Debug, Args)]
pub struct FirebaseScryptArgs {
    /// The application's id.
    #[arg(long)]
    pub id: String,
    /// `base64_signer_key` (a secret; also read from PATRON_FIREBASE_SIGNER_KEY).
    #[arg(long, env = "PATRON_FIREBASE_SIGNER_KEY", hide_env_values = true)]
    pub signer_key: String,
    /// `base64_salt_separator`.
    #[arg(long)]
    pub salt_separator: String,
    /// `rounds`.
    #[arg(long)]
    pub rounds: u32,
    /// `mem_cost`.
    #[arg(long)]
    pub mem_cost: u32,
}

/// An application or client named by id, and how to print the answer.
#[derive(Debug, Args)]
pub struct Target {
    /// The application's or client's id.
    #[arg(long)]
    pub id: String,
    /// Print one JSON object instead of text.
    #[arg(long)]
    pub json: bool,
}

/// Arguments of `patron app create`.
#[derive(Debug, Args)]
pub struct AppCreate {
    /// Numeric company id, e.g. 559.
    #[arg(long)]
    pub company: String,
    /// Display name.
    #[arg(long)]
    pub name: String,
    /// Use this 24-hex id instead of a generated one.
    #[arg(long)]
    pub id: Option<String>,
    /// Region of phone numbers written without a country code (ISO code, default IN).
    #[arg(long)]
    pub region: Option<String>,
    /// Print one JSON object instead of text.
    #[arg(long)]
    pub json: bool,
}

/// `patron client …`.
#[derive(Debug, Subcommand)]
pub enum ClientCommand {
    /// Create a platform API client; prints its id and secret (shown once).
    Create(ClientCreate),
    /// Delete a platform API client and every token issued to it.
    Revoke(Target),
    /// Set the scopes a client may be granted: its access tokens end at once, its refresh
    /// tokens keep only these scopes when they rotate.
    Update(ClientUpdate),
}

/// Arguments of `patron client update`.
#[derive(Debug, Args)]
pub struct ClientUpdate {
    /// The client's id.
    #[arg(long)]
    pub id: String,
    /// Comma-separated scopes, replacing the current ones.
    #[arg(long)]
    pub scopes: String,
    /// Print one JSON object instead of text.
    #[arg(long)]
    pub json: bool,
}

/// Arguments of `patron client create`.
#[derive(Debug, Args)]
pub struct ClientCreate {
    /// Numeric company id, e.g. 559.
    #[arg(long)]
    pub company: String,
    /// Comma-separated scopes, e.g. application/customers/read,application/customers/write.
    #[arg(long)]
    pub scopes: String,
    /// Display name.
    #[arg(long)]
    pub name: Option<String>,
    /// Print one JSON object instead of text.
    #[arg(long)]
    pub json: bool,
}

/// `patron events …`.
#[derive(Debug, Subcommand)]
pub enum EventsCommand {
    /// Send again every event that occurred since a time (delivered, given up or waiting),
    /// e.g. after a receiver lost data; receivers deduplicate by event id.
    Replay {
        /// RFC 3339 time, e.g. 2026-12-01T00:00:00Z.
        #[arg(long)]
        since: String,
        /// Print one JSON object instead of text.
        #[arg(long)]
        json: bool,
    },
}

/// `patron secrets …`.
#[derive(Debug, Subcommand)]
pub enum SecretsCommand {
    /// Re-encrypt every stored secret under the current `secret_key` (the old key must be
    /// listed in `previous_secret_keys` until this has run); prints how many were rewritten.
    Rotate {
        /// Print one JSON object instead of text.
        #[arg(long)]
        json: bool,
    },
}

/// `patron outbox …`.
#[derive(Debug, Subcommand)]
pub enum OutboxCommand {
    /// List the newest messages, newest first.
    List {
        /// How many messages to show.
        #[arg(long, default_value_t = 50)]
        limit: usize,
        /// Print one JSON array instead of text.
        #[arg(long)]
        json: bool,
        /// Show the sealed subject, text and values (codes, links) in the clear, for local
        /// development; needs the service's secret key.
        #[arg(long)]
        reveal: bool,
    },
}
