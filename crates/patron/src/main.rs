//! The `patron` binary: parses arguments and calls the library.

mod cli;

use std::collections::HashMap;
use std::process::ExitCode;
use std::sync::Arc;

use clap::Parser;
use patron_server::config::Flags;
use patron_server::{telemetry, App, BuildError, Config};
use patron_service::{
    conceal_message, reveal_message, Applications, Clients, Events, NewApplication, SecretRotation,
    Services, SystemClock,
};
use patron_store::Stores;
use serde::Serialize;
use tokio::net::TcpListener;

use crate::cli::{
    AppCommand, Cli, ClientCommand, Command, EventsCommand, OutboxCommand, SecretsCommand,
};

#[tokio::main]
async fn main() -> ExitCode {
    let cli = Cli::parse();
    match run(cli).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("patron: {message}");
            ExitCode::FAILURE
        }
    }
}

async fn run(cli: Cli) -> Result<(), String> {
    let env: HashMap<String, String> = std::env::vars().collect();
    let flags = Flags {
        database_url: cli.database,
        listen: match cli.command {
            Command::Serve { listen } => listen,
            _ => None,
        },
    };
    let config =
        Config::load_with(cli.config.as_deref(), &env, &flags).map_err(|e| e.to_string())?;
    telemetry::init(&config.log, config.log_format == "json");
    let clock = SystemClock;
    match cli.command {
        Command::Serve { .. } => serve(config).await,
        Command::Migrate => {
            connect(&config).await?;
            println_out(&format!(
                "migrations applied to {}",
                redact(&config.database_url)
            ));
            Ok(())
        }
        Command::App {
            command: AppCommand::Create(args),
        } => {
            let created = applications(&config)
                .await?
                .create(NewApplication {
                    company: &args.company,
                    name: &args.name,
                    id: args.id.as_deref(),
                    default_region: args.region.as_deref(),
                })
                .await
                .map_err(|e| e.to_string())?;
            print_result(
                &created,
                args.json,
                &[
                    ("company_id", &created.company_id),
                    ("application_id", &created.application_id),
                    ("application_token", &created.application_token),
                ],
            )
        }
        Command::App {
            command: AppCommand::RotateToken(args),
        } => {
            let rotated = applications(&config)
                .await?
                .rotate_token(&args.id)
                .await
                .map_err(|e| e.to_string())?;
            print_result(
                &rotated,
                args.json,
                &[
                    ("application_id", &rotated.application_id),
                    ("application_token", &rotated.application_token),
                ],
            )
        }
        Command::App {
            command: AppCommand::FirebaseScrypt(args),
        } => {
            let parameters = patron_service::hasher::FirebaseScrypt {
                signer_key: args.signer_key,
                salt_separator: args.salt_separator,
                rounds: args.rounds,
                mem_cost: args.mem_cost,
            };
            let services = services(config).await?;
            let application = services
                .applications
                .find(&args.id)
                .await
                .map_err(|e| e.to_string())?;
            services
                .auth_configs
                .set_firebase_scrypt(&application, &parameters)
                .await
                .map_err(|e| e.to_string())?;
            println_out(&format!(
                "Firebase hash parameters set for application {}",
                args.id
            ));
            Ok(())
        }
        Command::Events {
            command: EventsCommand::Replay { since, json },
        } => {
            let since = chrono::DateTime::parse_from_rfc3339(since.trim())
                .map_err(|e| format!("--since must be an RFC 3339 time: {e}"))?
                .with_timezone(&chrono::Utc);
            let stores = connect(&config).await?;
            let replayed = Events::new(stores.events.clone(), None, std::sync::Arc::new(clock))
                .replay(since)
                .await
                .map_err(|e| e.to_string())?;
            let count = replayed.to_string();
            let report = serde_json::json!({ "replayed": replayed });
            print_result(&report, json, &[("replayed", &count)])
        }
        Command::Secrets {
            command: SecretsCommand::Rotate { json },
        } => {
            let stores = connect(&config).await?;
            let secrets = config.secret_box().map_err(|e| e.to_string())?;
            let key_id = secrets.key_id().to_owned();
            let report = SecretRotation::new(stores.sealed.clone(), secrets)
                .rotate()
                .await
                .map_err(|e| e.to_string())?;
            let counts = [
                report.provider_secrets.to_string(),
                report.attribute_values.to_string(),
                report.outbox_messages.to_string(),
                report.already_current.to_string(),
            ];
            print_result(
                &report,
                json,
                &[
                    ("key_id", &key_id),
                    ("provider_secrets", &counts[0]),
                    ("attribute_values", &counts[1]),
                    ("outbox_messages", &counts[2]),
                    ("already_current", &counts[3]),
                ],
            )
        }
        Command::Client {
            command: ClientCommand::Revoke(args),
        } => {
            clients(&config)
                .await?
                .revoke(&args.id)
                .await
                .map_err(|e| e.to_string())?;
            let revoked = serde_json::json!({ "client_id": args.id, "revoked": true });
            print_result(&revoked, args.json, &[("revoked", &args.id)])
        }
        Command::Client {
            command: ClientCommand::Update(args),
        } => {
            let scopes = clients(&config)
                .await?
                .set_scopes(&args.id, &args.scopes)
                .await
                .map_err(|e| e.to_string())?;
            let updated = serde_json::json!({ "client_id": args.id, "scopes": scopes });
            let shown = scopes.join(",");
            print_result(
                &updated,
                args.json,
                &[("client_id", &args.id), ("scopes", &shown)],
            )
        }
        Command::Outbox {
            command:
                OutboxCommand::List {
                    limit,
                    json,
                    reveal,
                },
        } => {
            let stores = connect(&config).await?;
            let messages = stores
                .outbox
                .list_outbox(limit)
                .await
                .map_err(|e| e.to_string())?;
            let messages = if reveal {
                let secrets = config.secret_box().map_err(|e| e.to_string())?;
                messages
                    .into_iter()
                    .map(|message| reveal_message(&secrets, message))
                    .collect::<Result<Vec<_>, _>>()
                    .map_err(|e| e.to_string())?
            } else {
                messages.into_iter().map(conceal_message).collect()
            };
            print_outbox(&messages, json)
        }
        Command::Client {
            command: ClientCommand::Create(args),
        } => {
            let created = clients(&config)
                .await?
                .create(&args.company, &args.scopes, args.name.as_deref())
                .await
                .map_err(|e| e.to_string())?;
            let scopes = created.scopes.join(",");
            print_result(
                &created,
                args.json,
                &[
                    ("client_id", &created.client_id),
                    ("client_secret", &created.client_secret),
                    ("company_id", &created.company_id),
                    ("scopes", &scopes),
                ],
            )
        }
    }
}

/// The applications use case on the configured database: registering needs no key,
/// hasher or notifier, so none is set up.
async fn applications(config: &Config) -> Result<Applications, String> {
    let stores = connect(config).await?;
    Ok(Applications::new(
        stores.applications.clone(),
        Arc::new(SystemClock),
    ))
}

/// The platform clients use case on the configured database.
async fn clients(config: &Config) -> Result<Clients, String> {
    let stores = connect(config).await?;
    Ok(Clients::new(stores.clients.clone(), Arc::new(SystemClock)))
}

/// The use cases, wired as `patron serve` wires them (the same key, hasher and stores).
async fn services(config: Config) -> Result<Arc<Services>, String> {
    let app = App::build(config, Arc::new(SystemClock))
        .await
        .map_err(|e| e.to_string())?;
    Ok(app.state.services)
}

async fn connect(config: &Config) -> Result<Stores, String> {
    patron_store::connect(&config.database_url)
        .await
        .map_err(|e| format!("cannot open database {}: {e}", redact(&config.database_url)))
}

async fn serve(mut config: Config) -> Result<(), String> {
    let listen = config.listen;
    let listener = TcpListener::bind(listen)
        .await
        .map_err(|e| format!("cannot listen on {listen}: {e}"))?;
    let address = listener.local_addr().map_err(|e| e.to_string())?;
    // Links to customers point at the public URL; without one, at the address served.
    let public_url = config
        .public_url
        .get_or_insert_with(|| format!("http://{address}"))
        .clone();
    let shown_url = redact(&config.database_url);
    let metrics_address = config.metrics.address().map_err(|e| e.to_string())?;
    let app = App::build(config, Arc::new(SystemClock))
        .await
        .map_err(|error| match error {
            BuildError::Store(error) => format!("cannot open database {shown_url}: {error}"),
            other => other.to_string(),
        })?;
    let upgraded = SecretRotation::new(app.state.stores.sealed.clone(), app.state.secrets.clone())
        .upgrade_legacy()
        .await
        .map_err(|e| format!("cannot rewrite values sealed in the first format: {e}"))?;
    let rewritten =
        upgraded.provider_secrets + upgraded.attribute_values + upgraded.outbox_messages;
    if rewritten > 0 {
        tracing::info!(rewritten, "values sealed in the first format rewritten");
    }
    let metrics = match metrics_address {
        Some(address) => {
            let listener = TcpListener::bind(address).await.map_err(|e| {
                format!(
                    "cannot serve metrics on {address}: {e} (set [metrics] listen or \
                     PATRON_METRICS_LISTEN to a free address, or off)"
                )
            })?;
            let bound = listener.local_addr().map_err(|e| e.to_string())?;
            tracing::info!(address = %bound, "serving metrics at /metrics");
            let router = app.metrics_router();
            Some(tokio::spawn(patron_server::serve(
                listener,
                router,
                shutdown_signal(),
            )))
        }
        None => None,
    };
    let workers = app.start_workers();
    println_out(&format!("listening on http://{address}"));
    tracing::info!(%address, %public_url, "serving");
    let served = patron_server::serve(listener, app.router(), shutdown_signal()).await;
    workers.shutdown().await;
    if let Some(metrics) = metrics {
        metrics.abort();
    }
    served.map_err(|e| e.to_string())?;
    tracing::info!("stopped");
    Ok(())
}

/// Resolves on SIGINT or SIGTERM.
async fn shutdown_signal() {
    let interrupt = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = interrupt => {},
        () = terminate => {},
    }
    tracing::info!("shutting down: finishing requests in flight");
}

fn print_result<T: Serialize>(
    value: &T,
    json: bool,
    lines: &[(&str, &String)],
) -> Result<(), String> {
    if json {
        println_out(&serde_json::to_string(value).map_err(|e| e.to_string())?);
    } else {
        for (key, value) in lines {
            println_out(&format!("{key}: {value}"));
        }
    }
    Ok(())
}

/// Prints outbox messages, one JSON array with `--json`, else a line each.
fn print_outbox(messages: &[patron_store::OutboxMessage], json: bool) -> Result<(), String> {
    use patron_domain::time::to_wire;
    let rows: Vec<serde_json::Value> = messages
        .iter()
        .map(|m| {
            serde_json::json!({
                "id": m.id.as_str(),
                "application_id": m.application_id.as_str(),
                "channel": m.message.channel.as_str(),
                "to": m.message.to,
                "template": m.message.template,
                "subject": m.message.subject,
                "text": m.message.text,
                "data": m.message.data,
                "status": m.status.as_str(),
                "attempts": m.attempts,
                "last_error": m.last_error,
                "created_at": to_wire(m.created_at),
                "sent_at": m.sent_at.map(to_wire),
            })
        })
        .collect();
    if json {
        println_out(&serde_json::to_string(&rows).map_err(|e| e.to_string())?);
    } else {
        for m in messages {
            println_out(&format!(
                "{}  {}  {:<7}  {} → {}  {}",
                to_wire(m.created_at),
                m.status.as_str(),
                m.message.channel.as_str(),
                m.message.template,
                m.message.to,
                m.message.subject
            ));
        }
    }
    Ok(())
}

/// The one place the binary writes to stdout (command results, the listening line).
#[allow(clippy::print_stdout)]
fn println_out(line: &str) {
    println!("{line}");
}

/// Hides a password in a database URL before it is shown.
fn redact(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme_end), Some(at)) if at > scheme_end => {
            let credentials = &url[scheme_end + 3..at];
            match credentials.split_once(':') {
                Some((user, _)) => format!("{}{user}:***{}", &url[..scheme_end + 3], &url[at..]),
                None => url.to_owned(),
            }
        }
        _ => url.to_owned(),
    }
}
