//! `patron-bench`: seeds a fresh SQLite and/or PostgreSQL database with many customers
//! through the store layer, starts `patron serve` on it, and measures the customer
//! endpoints of the platform API over HTTP (latency percentiles and throughput).
//!
//! ```text
//! cargo run --release -p patron-bench -- --customers 1000000 --backend both
//! cargo run --release -p patron-bench -- --customers 10000 --requests 200   # smoke test
//! ```
//!
//! `--keep` leaves the seeded databases in place; `--reuse-database URL --application-id ID`
//! measures such a database again (e.g. after a query fix) without reseeding.
//!
//! `--suite login` measures the storefront sign-in path instead: the argon2id hash bound,
//! password logins, session checks against `GET /healthz`, and session checks during a
//! login flood (see `login.rs`).
//!
//! `--suite otp` measures one-time passwords: sends and verifications beside `GET /healthz`,
//! and an abuse run that counts how many messages the send budgets let out (see `otp.rs`).
//!
//! `--suite segments` measures customer attributes and groups: bulk attribute updates over
//! HTTP, the first page of a conditional group of about 10% of the customers, and the
//! in-process membership check (see `segments.rs`).
//!
//! `--suite transfer` measures moving customers in and out: an import of bcrypt customers
//! from a CSV file and an export of all customers, with the server's memory (see
//! `transfer.rs`).

mod database;
mod load;
mod login;
mod otp;
mod seed;
mod segments;
mod server;
mod transfer;

use std::error::Error;
use std::io::Write;
use std::path::PathBuf;
use std::time::Instant;

use clap::{Parser, ValueEnum};

use crate::database::BenchDatabase;
use crate::load::{LoadContext, Scenario, ScenarioResult};
use crate::server::{PatronBin, Server};

/// The error type of the whole benchmark: anything, with a message.
pub type BenchError = Box<dyn Error + Send + Sync>;
/// Result with [`BenchError`].
pub type BenchResult<T> = Result<T, BenchError>;

/// Command-line arguments.
#[derive(Debug, Parser)]
#[command(
    name = "patron-bench",
    about = "Seeds customers and measures Patron's platform API over HTTP."
)]
pub struct Args {
    /// What to measure: the customer endpoints of the platform API, storefront sign-in, or
    /// attributes and groups.
    #[arg(long, value_enum, default_value_t = Suite::Customers)]
    pub suite: Suite,
    /// Customers to seed into each fresh database.
    #[arg(long, default_value_t = 1_000_000)]
    pub customers: u64,
    /// Which database(s) to benchmark.
    #[arg(long, value_enum, default_value_t = BackendChoice::Both)]
    pub backend: BackendChoice,
    /// PostgreSQL server to create the scratch database on (any database the user may
    /// connect to; `patron_bench_<pid>` is created beside it and dropped at the end).
    #[arg(long, default_value = "postgres://postgres@127.0.0.1:5432/postgres")]
    pub postgres_url: String,
    /// Timed requests per scenario.
    #[arg(long, default_value_t = 2_000)]
    pub requests: u64,
    /// Concurrent client workers.
    #[arg(long, default_value_t = 8)]
    pub concurrency: u64,
    /// Stop a scenario's timed phase after this many seconds even if fewer than
    /// `--requests` were sent (the table shows how many were).
    #[arg(long, default_value_t = 120)]
    pub max_scenario_secs: u64,
    /// Untimed warm-up requests per scenario (opens connections, warms caches).
    #[arg(long, default_value_t = 50)]
    pub warmup: u64,
    /// Customers per `import_customers` call while seeding.
    #[arg(long, default_value_t = 5_000)]
    pub batch: usize,
    /// The `patron` binary (default: `target/release/patron` beside this executable).
    #[arg(long)]
    pub patron_bin: Option<PathBuf>,
    /// Keep the scratch database(s) instead of deleting them (their location is printed).
    #[arg(long)]
    pub keep: bool,
    /// Scenarios to run, comma-separated (default: all).
    #[arg(long, value_enum, value_delimiter = ',')]
    pub scenarios: Vec<Scenario>,
    /// Measure a database seeded by an earlier `--keep` run instead of seeding a fresh
    /// one (`--customers` must be what it was seeded with; nothing is deleted).
    #[arg(long, value_name = "URL", requires = "application_id")]
    pub reuse_database: Option<String>,
    /// The application of `--reuse-database` (printed by the run that seeded it).
    #[arg(long, value_name = "ID")]
    pub application_id: Option<String>,
    /// Login suite: argon2id hashes timed in-process for the hash bound (over all rounds).
    #[arg(long, default_value_t = 200)]
    pub hashes: u64,
    /// Login suite: rounds of hashing then logging in, alternated so that the hash bound
    /// and the login rate are measured on the same (drifting) machine.
    #[arg(long, default_value_t = 4)]
    pub rounds: u64,
    /// Login suite: customers registered with passwords through the storefront.
    #[arg(long, default_value_t = 200)]
    pub login_customers: u64,
    /// Login suite: timed password logins (over all rounds).
    #[arg(long, default_value_t = 800)]
    pub login_requests: u64,
    /// Login suite: concurrent workers for logins, session checks and health checks.
    #[arg(long, default_value_t = 8)]
    pub login_concurrency: u64,
    /// Login suite: timed session checks, and as many health checks.
    #[arg(long, default_value_t = 5_000)]
    pub session_requests: u64,
    /// Login suite: logins in the flood that session checks run beside.
    #[arg(long, default_value_t = 400)]
    pub flood_logins: u64,
    /// OTP suite: timed code sends (to distinct numbers), and as many verifications.
    #[arg(long, default_value_t = 2_000)]
    pub otp_requests: u64,
    /// Segments suite: timed in-process membership checks (from `--concurrency` tasks).
    #[arg(long, default_value_t = 20_000)]
    pub membership_checks: u64,
    /// Segments suite: timed synchronous bulk update requests of each kind.
    #[arg(long, default_value_t = 100)]
    pub bulk_requests: u64,
    /// Segments suite: customers per synchronous bulk update request (at most the server's
    /// bulk sync limit, 1,000 by default).
    #[arg(long, default_value_t = 1_000)]
    pub bulk_users: u64,
    /// Segments suite: attributes written per customer by the bulk updates (1 to 9).
    #[arg(long, default_value_t = 5)]
    pub bulk_attributes: usize,
    /// Segments suite: concurrent workers sending bulk update requests.
    #[arg(long, default_value_t = 4)]
    pub bulk_concurrency: u64,
    /// Segments suite: customers in the asynchronous bulk update job (0: no job).
    #[arg(long, default_value_t = 100_000)]
    pub job_users: u64,
    /// Transfer suite: customers in the import file (the rest of `--customers` is seeded;
    /// the export writes them all).
    #[arg(long, default_value_t = 100_000)]
    pub import_rows: u64,
}

/// `--suite` values.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Suite {
    /// Seed customers and time the platform API's customer endpoints.
    Customers,
    /// Time the storefront sign-in path: hashes, logins, session checks.
    Login,
    /// Time bulk attribute updates, a large conditional group's first page and the
    /// membership check.
    Segments,
    /// Time OTP sends and verifications, and count what the send budgets let out.
    Otp,
    /// Time a customer import from CSV and an export of all customers.
    Transfer,
}

/// `--backend` values.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum BackendChoice {
    /// SQLite only.
    Sqlite,
    /// PostgreSQL only.
    Postgres,
    /// SQLite, then PostgreSQL.
    Both,
}

impl BackendChoice {
    /// The backends this choice names, in the order they are measured.
    pub fn list(self) -> &'static [BackendChoice] {
        match self {
            BackendChoice::Sqlite => &[BackendChoice::Sqlite],
            BackendChoice::Postgres => &[BackendChoice::Postgres],
            BackendChoice::Both => &[BackendChoice::Sqlite, BackendChoice::Postgres],
        }
    }
}

/// Writes one line to stdout (the workspace forbids `println!` outside the binary's
/// reporting helpers) and flushes it, so progress shows when output goes to a file.
pub fn say(line: &str) {
    let mut out = std::io::stdout().lock();
    // A closed stdout is not worth failing a long benchmark over.
    let _ = writeln!(out, "{line}");
    let _ = out.flush();
}

#[tokio::main]
async fn main() -> std::process::ExitCode {
    let args = Args::parse();
    match run(args).await {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("patron-bench: {error}");
            std::process::ExitCode::FAILURE
        }
    }
}

async fn run(args: Args) -> BenchResult<()> {
    if args.suite == Suite::Login {
        if args.hashes == 0
            || args.login_customers == 0
            || args.login_requests == 0
            || args.login_concurrency == 0
            || args.session_requests == 0
            || args.flood_logins == 0
            || args.rounds == 0
        {
            return Err("the login suite's counts must be positive".into());
        }
        if args.login_customers >= 100_000_000 {
            return Err("--login-customers must stay below 100,000,000".into());
        }
        let mut patron = PatronBin::locate(args.patron_bin.clone())?;
        say(&format!("patron binary: {}", patron.path.display()));
        return login::run(&args, &mut patron).await;
    }
    if args.suite == Suite::Otp {
        let mut patron = PatronBin::locate(args.patron_bin.clone())?;
        say(&format!("patron binary: {}", patron.path.display()));
        return otp::run(&args, &mut patron).await;
    }
    if args.suite == Suite::Transfer {
        let mut patron = PatronBin::locate(args.patron_bin.clone())?;
        say(&format!("patron binary: {}", patron.path.display()));
        return transfer::run(&args, &mut patron).await;
    }
    if args.suite == Suite::Segments {
        let mut patron = PatronBin::locate(args.patron_bin.clone())?;
        say(&format!("patron binary: {}", patron.path.display()));
        return segments::run(&args, &mut patron).await;
    }
    if args.customers == 0 || args.requests == 0 || args.concurrency == 0 || args.batch == 0 {
        return Err("--customers, --requests, --concurrency and --batch must be positive".into());
    }
    if args.customers + args.requests * 2 + args.warmup * 2 >= 100_000_000 {
        return Err("customers plus created customers must stay below 100,000,000 (phone numbers are 98 + 8 digits)".into());
    }
    let patron = PatronBin::locate(args.patron_bin.clone())?;
    say(&format!("patron binary: {}", patron.path.display()));
    let mut results = Vec::new();
    if let (Some(url), Some(application_id)) = (&args.reuse_database, &args.application_id) {
        let backend = match patron_store::Backend::for_url(url) {
            patron_store::Backend::Sqlite => "sqlite",
            patron_store::Backend::Postgres => "postgres",
        };
        say(&format!("\n== {backend} (reused database) =="));
        results = serve_and_measure(&args, &patron, url, backend, application_id).await?;
    } else {
        for backend in args.backend.list() {
            let database = BenchDatabase::create(*backend, &args.postgres_url)?;
            say(&format!(
                "\n== {} ({}) ==",
                database.name(),
                database.display_location()
            ));
            let outcome = bench_fresh(&args, &patron, &database).await;
            database.finish(args.keep);
            results.extend(outcome?);
        }
    }
    say("");
    say(&format!(
        "Results: {} customers seeded, up to {} requests per scenario, {} concurrent workers",
        args.customers, args.requests, args.concurrency
    ));
    say(&load::table(&results));
    Ok(())
}

/// Seeds one fresh database, then serves and measures it.
async fn bench_fresh(
    args: &Args,
    patron: &PatronBin,
    database: &BenchDatabase,
) -> BenchResult<Vec<ScenarioResult>> {
    let url = database.url();
    patron.migrate(url)?;
    let app = patron.create_app(url)?;
    say(&format!("application {} created", app.application_id));

    let started = Instant::now();
    seed::seed(url, &app.application_id, args.customers, args.batch).await?;
    say(&format!(
        "seeded in {:.1} s",
        started.elapsed().as_secs_f64()
    ));
    let started = Instant::now();
    match database.analyze()? {
        true => say(&format!(
            "{} done in {:.1} s",
            database.analyze_command(),
            started.elapsed().as_secs_f64()
        )),
        false => say("ANALYZE skipped: the sqlite3 CLI is not installed"),
    }
    serve_and_measure(args, patron, url, database.name(), &app.application_id).await
}

/// Creates an API client, starts `patron serve` on `url`, gets a token, checks each
/// scenario once, times them all, and stops the server.
async fn serve_and_measure(
    args: &Args,
    patron: &PatronBin,
    url: &str,
    backend: &'static str,
    application_id: &str,
) -> BenchResult<Vec<ScenarioResult>> {
    let client = patron.create_client(url)?;
    let server = Server::start(patron, url)?;
    say(&format!(
        "serving at {} (client {})",
        server.base_url, client.client_id
    ));
    let outcome = measure(args, &server, backend, application_id, &client).await;
    server.stop().await;
    outcome
}

/// Gets a token, checks each scenario once, then times the chosen ones.
async fn measure(
    args: &Args,
    server: &Server,
    backend: &'static str,
    application_id: &str,
    client: &server::CreatedClient,
) -> BenchResult<Vec<ScenarioResult>> {
    let http = reqwest::Client::builder()
        .pool_max_idle_per_host(usize::try_from(args.concurrency).unwrap_or(usize::MAX))
        .build()?;
    let token = load::access_token(&http, &server.base_url, client).await?;
    let context = LoadContext::new(
        http,
        &server.base_url,
        application_id,
        &token,
        args.customers,
    );
    load::sanity_check(&context).await?;
    let plan = load::Plan {
        requests: args.requests,
        concurrency: args.concurrency,
        warmup: args.warmup,
        time_limit: std::time::Duration::from_secs(args.max_scenario_secs),
    };
    let mut results = Vec::new();
    for scenario in Scenario::ALL {
        if !args.scenarios.is_empty() && !args.scenarios.contains(&scenario) {
            continue;
        }
        let result = load::run_scenario(&context, scenario, backend, &plan).await?;
        say(&load::row(&result));
        results.push(result);
    }
    Ok(results)
}
