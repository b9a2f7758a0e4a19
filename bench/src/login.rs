//! `--suite login`: the storefront sign-in path. Times argon2id hashes in-process (the
//! upper bound for password logins per second), registers customers with passwords through
//! the storefront, then measures password logins, session checks against `GET /healthz`, and
//! session-check latency while a login flood runs.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use patron_service::hasher::PasswordHasher;
use patron_service::secrets::SecretBox;
use reqwest::header::{AUTHORIZATION, COOKIE, SET_COOKIE};
use reqwest::{Client, RequestBuilder};
use serde_json::{json, Value};

use crate::database::BenchDatabase;
use crate::load::{access_token, optional_millis, percentile, read_answer};
use crate::server::{PatronBin, Server, COMPANY};
use crate::{say, Args, BenchResult};

/// The password every registered customer gets.
const PASSWORD: &str = "Sup3r-secret-1";
/// The server's default argon2id cost (OWASP): memory in KiB, iterations, lanes.
const ARGON2: (u32, u32, u32) = (19_456, 2, 1);
/// Session-check workers during the login flood.
const FLOOD_SESSION_WORKERS: u64 = 2;
/// Most session checks the flood's session workers send (a bound, not a target).
const FLOOD_SESSION_CAP: u64 = 200_000;

/// The email of login customer `index`.
fn login_email(index: u64) -> String {
    format!("u{index}@bench.example")
}

/// Standard base64 with padding (the benchmark has no base64 dependency of its own).
pub(crate) fn base64(input: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(input.len().div_ceil(3) * 4);
    for chunk in input.chunks(3) {
        let bytes = [
            chunk[0],
            chunk.get(1).copied().unwrap_or(0),
            chunk.get(2).copied().unwrap_or(0),
        ];
        let n = (u32::from(bytes[0]) << 16) | (u32::from(bytes[1]) << 8) | u32::from(bytes[2]);
        for (position, shift) in [18u32, 12, 6, 0].into_iter().enumerate() {
            if position <= chunk.len() {
                out.push(char::from(ALPHABET[((n >> shift) & 63) as usize]));
            } else {
                out.push('=');
            }
        }
    }
    out
}

/// One row of the login table.
#[derive(Debug, Clone)]
pub struct Row {
    /// What was measured.
    pub name: String,
    /// Operations timed.
    pub count: u64,
    /// Failed operations.
    pub errors: u64,
    /// Median latency (none for the in-process hash bound).
    pub p50: Option<Duration>,
    /// 99th percentile latency.
    pub p99: Option<Duration>,
    /// Operations per second.
    pub rate: f64,
    /// The ratio or figure compared with a target, e.g. `93% of hash bound`.
    pub versus: String,
    /// The target, e.g. `≥ 90%`.
    pub target: String,
    /// `yes`, `NO` or empty.
    pub met: String,
    /// CPU milliseconds per operation: the server's and the load generator's.
    pub cpu: String,
}

/// User plus system CPU seconds of process `pid` (all threads) from `/proc/<pid>/stat`, or
/// 0 where there is no `/proc`.
fn cpu_seconds(pid: u32) -> f64 {
    // Clock ticks per second: 100 on every Linux this runs on (`getconf CLK_TCK`).
    const TICKS: f64 = 100.0;
    let Ok(stat) = std::fs::read_to_string(format!("/proc/{pid}/stat")) else {
        return 0.0;
    };
    // Fields after the parenthesised command name: state is field 3, utime 14, stime 15.
    let Some((_, rest)) = stat.rsplit_once(')') else {
        return 0.0;
    };
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let ticks = |index: usize| {
        fields
            .get(index)
            .and_then(|v| v.parse::<f64>().ok())
            .unwrap_or(0.0)
    };
    (ticks(11) + ticks(12)) / TICKS
}

/// CPU seconds used so far by the server and by this process.
#[derive(Debug, Clone, Copy, Default)]
struct Cpu {
    server: f64,
    client: f64,
}

impl Cpu {
    fn now(server_pid: u32) -> Self {
        Self {
            server: cpu_seconds(server_pid),
            client: cpu_seconds(std::process::id()),
        }
    }

    /// CPU used since `earlier`.
    fn since(self, earlier: Cpu) -> Cpu {
        Cpu {
            server: self.server - earlier.server,
            client: self.client - earlier.client,
        }
    }

    fn add(&mut self, other: Cpu) {
        self.server += other.server;
        self.client += other.client;
    }

    /// `server x / client y` in milliseconds per operation.
    fn per(self, count: u64) -> String {
        let count = count.max(1) as f64;
        format!(
            "{:.2} / {:.2}",
            self.server * 1000.0 / count,
            self.client * 1000.0 / count
        )
    }
}

/// What a group of workers saw.
#[derive(Debug, Default)]
pub(crate) struct Log {
    pub(crate) latencies: Vec<Duration>,
    pub(crate) errors: u64,
    pub(crate) first_error: Option<String>,
    cookie: Option<String>,
}

impl Log {
    pub(crate) fn merge(&mut self, other: Log) {
        self.latencies.extend(other.latencies);
        self.errors += other.errors;
        if self.first_error.is_none() {
            self.first_error = other.first_error;
        }
        if self.cookie.is_none() {
            self.cookie = other.cookie;
        }
    }
}

/// Builds the `n`-th request of a load.
pub(crate) type MakeRequest = Arc<dyn Fn(u64) -> RequestBuilder + Send + Sync>;

/// How a load ends: after `total` requests, at `deadline`, or when `stop` is set.
#[derive(Clone)]
pub(crate) struct Bounds {
    pub(crate) total: u64,
    pub(crate) deadline: Instant,
    pub(crate) stop: Option<Arc<AtomicBool>>,
}

/// The `f.session` token of a `Set-Cookie` answer.
fn session_cookie(response: &reqwest::Response) -> Option<String> {
    response
        .headers()
        .get_all(SET_COOKIE)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .filter_map(|value| value.split(';').next())
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(name, value)| *name == "f.session" && !value.is_empty())
        .map(|(_, value)| value.to_owned())
}

/// One worker: sends requests until the bounds say stop, timing each.
async fn worker(make: MakeRequest, next: Arc<AtomicU64>, bounds: Bounds) -> Log {
    let mut log = Log::default();
    loop {
        if Instant::now() >= bounds.deadline
            || bounds
                .stop
                .as_ref()
                .is_some_and(|stop| stop.load(Ordering::Relaxed))
        {
            break;
        }
        let n = next.fetch_add(1, Ordering::Relaxed);
        if n >= bounds.total {
            break;
        }
        let request = make(n);
        let started = Instant::now();
        let sent = request.send().await;
        if let (Ok(response), None) = (&sent, &log.cookie) {
            log.cookie = session_cookie(response);
        }
        let outcome = read_answer(sent).await;
        log.latencies.push(started.elapsed());
        if let Err(error) = outcome {
            log.errors += 1;
            log.first_error.get_or_insert(error);
        }
    }
    log
}

/// Starts `concurrency` workers on one shared counter.
fn spawn_load(
    make: &MakeRequest,
    concurrency: u64,
    bounds: &Bounds,
) -> Vec<tokio::task::JoinHandle<Log>> {
    let next = Arc::new(AtomicU64::new(0));
    (0..concurrency)
        .map(|_| tokio::spawn(worker(make.clone(), next.clone(), bounds.clone())))
        .collect()
}

/// Waits for workers and merges their logs, sorting latencies.
async fn join(handles: Vec<tokio::task::JoinHandle<Log>>) -> BenchResult<Log> {
    let mut merged = Log::default();
    for handle in handles {
        merged.merge(handle.await?);
    }
    merged.latencies.sort_unstable();
    Ok(merged)
}

/// Runs one bounded load; returns the sorted log and the wall-clock time.
pub(crate) async fn drive(
    make: &MakeRequest,
    concurrency: u64,
    bounds: Bounds,
) -> BenchResult<(Log, f64)> {
    let started = Instant::now();
    let log = join(spawn_load(make, concurrency, &bounds)).await?;
    Ok((log, started.elapsed().as_secs_f64().max(1e-9)))
}

/// Reports errors and short runs of a load on stderr.
pub(crate) fn warn(name: &str, log: &Log, wanted: Option<u64>) {
    if let Some(wanted) = wanted {
        if (log.latencies.len() as u64) < wanted {
            eprintln!(
                "patron-bench: {name}: time limit reached after {} of {wanted} requests",
                log.latencies.len()
            );
        }
    }
    if let Some(error) = &log.first_error {
        eprintln!(
            "patron-bench: {name}: {} errors, first: {error}",
            log.errors
        );
    }
}

/// A row from a timed load.
pub(crate) fn load_row(name: &str, log: &Log, seconds: f64) -> Row {
    Row {
        name: name.to_owned(),
        count: log.latencies.len() as u64,
        errors: log.errors,
        p50: Some(percentile(&log.latencies, 0.50)),
        p99: Some(percentile(&log.latencies, 0.99)),
        rate: log.latencies.len() as f64 / seconds,
        versus: String::new(),
        target: String::new(),
        met: String::new(),
        cpu: String::new(),
    }
}

fn yes_no(met: bool) -> String {
    if met { "yes" } else { "NO" }.to_owned()
}

/// The hasher the server uses by default, with one slot per core.
pub(crate) fn server_hasher(cores: usize) -> BenchResult<PasswordHasher> {
    let (memory, iterations, lanes) = ARGON2;
    Ok(PasswordHasher::new(memory, iterations, lanes, cores)?)
}

/// Times `count` argon2id hashes on `hasher`, as many at once as it has slots; returns
/// the seconds taken.
pub(crate) async fn time_hashes(hasher: &PasswordHasher, count: u64) -> BenchResult<f64> {
    let started = Instant::now();
    let handles: Vec<_> = (0..count)
        .map(|_| {
            let hasher = hasher.clone();
            tokio::spawn(async move { hasher.hash(PASSWORD.to_owned()).await })
        })
        .collect();
    for handle in handles {
        handle.await??;
    }
    Ok(started.elapsed().as_secs_f64().max(1e-9))
}

/// Splits `total` into `rounds` near-equal positive parts.
fn split(total: u64, rounds: u64) -> Vec<u64> {
    let rounds = rounds.clamp(1, total.max(1));
    (0..rounds)
        .map(|round| total / rounds + u64::from(round < total % rounds))
        .collect()
}

/// Sends one request and returns its JSON body, failing on a non-2xx status.
pub(crate) async fn expect_ok(
    request: RequestBuilder,
    what: &str,
) -> BenchResult<reqwest::Response> {
    let response = request.send().await?;
    let status = response.status();
    if status.is_success() {
        return Ok(response);
    }
    let body = response.text().await.unwrap_or_default();
    Err(format!("{what}: HTTP {status}: {body}").into())
}

/// The storefront side of one application.
struct Storefront {
    http: Client,
    base_url: String,
    /// `Bearer base64(id:token)`.
    authorization: String,
}

impl Storefront {
    fn url(&self, path: &str) -> String {
        format!(
            "{}/service/application/user/authentication/v1.0/{path}",
            self.base_url
        )
    }

    fn login(&self, index: u64) -> RequestBuilder {
        self.http
            .post(self.url("login/password"))
            .header(AUTHORIZATION, &self.authorization)
            .json(&json!({ "username": login_email(index), "password": PASSWORD }))
    }

    fn session(&self, cookie: &str) -> RequestBuilder {
        self.http
            .get(self.url("session"))
            .header(AUTHORIZATION, &self.authorization)
            .header(COOKIE, format!("f.session={cookie}"))
    }
}

/// Registers customers `0..count` through the storefront, `concurrency` at a time.
async fn register_all(front: &Arc<Storefront>, count: u64, concurrency: u64) -> BenchResult<()> {
    let next = Arc::new(AtomicU64::new(0));
    let handles: Vec<_> = (0..concurrency)
        .map(|_| {
            let front = front.clone();
            let next = next.clone();
            tokio::spawn(async move {
                loop {
                    let index = next.fetch_add(1, Ordering::Relaxed);
                    if index >= count {
                        return Ok::<(), crate::BenchError>(());
                    }
                    let body = json!({
                        "email": login_email(index),
                        "password": PASSWORD,
                        "phone": { "country_code": "91", "mobile": format!("98{index:08}") },
                    });
                    let request = front
                        .http
                        .post(front.url("register/form"))
                        .header(AUTHORIZATION, &front.authorization)
                        .json(&body);
                    expect_ok(request, "register/form").await?;
                }
            })
        })
        .collect();
    for handle in handles {
        handle.await??;
    }
    Ok(())
}

/// Runs the whole login suite on a fresh database of each chosen backend and prints a
/// table per backend.
pub async fn run(args: &Args, patron: &mut PatronBin) -> BenchResult<()> {
    let mut tables = Vec::new();
    for backend in args.backend.list() {
        let database = BenchDatabase::create(*backend, &args.postgres_url)?;
        let key = ("PATRON_SECRET_KEY".to_owned(), SecretBox::generate_key());
        patron.env = vec![
            key,
            ("PATRON_COOKIE_SECURE".to_owned(), "false".to_owned()),
            // The login flood queues more hashes than there are slots on purpose: the
            // wait may not turn any of them away.
            (
                "PATRON_ARGON2_QUEUE_TIMEOUT_SECS".to_owned(),
                "600".to_owned(),
            ),
            // Every bench sign-in is right, so each claims a failure slot of its address and
            // gives it back (that cost is measured) and the budget never refuses one.
            (
                "PATRON_SIGN_IN_FAILURES_PER_MINUTE".to_owned(),
                "60".to_owned(),
            ),
        ];
        say(&format!(
            "\n== {} ({}) ==",
            database.name(),
            database.display_location()
        ));
        let outcome = serve_and_measure(args, patron, &database).await;
        database.finish(args.keep);
        tables.push((database.name(), outcome?));
    }
    for (backend, rows) in tables {
        say("");
        say(&format!(
            "Results ({backend}): {} customers with passwords, {} logins from {} workers in {} rounds, {} session checks and health checks from {} workers, flood of {} logins from {} workers with {FLOOD_SESSION_WORKERS} session-check workers",
            args.login_customers,
            args.login_requests,
            args.login_concurrency,
            args.rounds,
            args.session_requests,
            args.login_concurrency,
            args.flood_logins,
            args.login_concurrency
        ));
        say(&table(&rows));
    }
    Ok(())
}

/// Prepares the database, starts the server, measures, stops it.
async fn serve_and_measure(
    args: &Args,
    patron: &PatronBin,
    database: &BenchDatabase,
) -> BenchResult<Vec<Row>> {
    let url = database.url();
    patron.migrate(url)?;
    let app = patron.create_app(url)?;
    let client = patron.create_client_with_scopes(
        url,
        "application/customers/read,application/customers/write,company/settings/write",
    )?;
    say(&format!("application {} created", app.application_id));
    let server = Server::start(patron, url)?;
    say(&format!("serving at {}", server.base_url));
    let outcome = measure(args, &server, &app, &client).await;
    server.stop().await;
    outcome
}

async fn measure(
    args: &Args,
    server: &Server,
    app: &crate::server::CreatedApp,
    client: &crate::server::CreatedClient,
) -> BenchResult<Vec<Row>> {
    let pool = usize::try_from(args.login_concurrency + FLOOD_SESSION_WORKERS)?;
    let http = Client::builder().pool_max_idle_per_host(pool).build()?;
    let limit = Duration::from_secs(args.max_scenario_secs);
    let concurrency = args.login_concurrency;

    // Configuration: phone optional at registration, no lockout (logins repeat), and the
    // per-address budget (which registrations count against too) raised for a load that
    // comes from one address.
    let token = access_token(&http, &server.base_url, client).await?;
    let config_url = format!(
        "{}/service/platform/user/v1.0/company/{COMPANY}/application/{}/platform/config",
        server.base_url, app.application_id
    );
    let config = json!({
        "register_required_fields": { "mobile": { "level": "soft" } },
        "account_lockout": { "enable": false },
        "otp": { "per_address": 1_000_000 },
    });
    expect_ok(
        http.post(config_url).bearer_auth(&token).json(&config),
        "platform config",
    )
    .await?;

    let front = Arc::new(Storefront {
        http: http.clone(),
        base_url: server.base_url.clone(),
        authorization: format!(
            "Bearer {}",
            base64(format!("{}:{}", app.application_id, app.application_token).as_bytes())
        ),
    });
    let started = Instant::now();
    register_all(&front, args.login_customers, concurrency).await?;
    say(&format!(
        "registered {} customers in {:.1} s",
        args.login_customers,
        started.elapsed().as_secs_f64()
    ));

    // A first login: checks the path and yields the session cookie.
    let response = expect_ok(front.login(0), "login/password").await?;
    let cookie = session_cookie(&response).ok_or("the login answer set no f.session cookie")?;
    let body: Value = response.json().await?;
    if body.get("user").is_none() {
        return Err(format!("login answer without a user: {body}").into());
    }
    expect_ok(front.session(&cookie), "session").await?;

    let customers = args.login_customers;
    let login: MakeRequest = {
        let front = front.clone();
        Arc::new(move |n| front.login(n % customers))
    };
    let session: MakeRequest = {
        let front = front.clone();
        let cookie = cookie.clone();
        Arc::new(move |_| front.session(&cookie))
    };
    let health: MakeRequest = {
        let http = http.clone();
        let url = format!("{}/healthz", server.base_url);
        Arc::new(move |_| http.get(&url))
    };
    let app_only: MakeRequest = {
        let front = front.clone();
        let url = format!(
            "{}/service/application/user/platform/v1.0/config",
            server.base_url
        );
        Arc::new(move |_| {
            front
                .http
                .get(&url)
                .header(AUTHORIZATION, &front.authorization)
        })
    };
    let bounded = |total| Bounds {
        total,
        deadline: Instant::now() + limit,
        stop: None,
    };
    // Hashes and logins in alternating rounds, so that both see the same machine (a shared
    // VM's speed drifts by tens of percent from minute to minute).
    let cores = PasswordHasher::default_concurrency();
    let hasher = server_hasher(cores)?;
    time_hashes(&hasher, u64::try_from(cores)?).await?;
    drive(&login, concurrency, bounded(args.warmup.min(64))).await?;
    let (mut hash_count, mut hash_seconds) = (0u64, 0f64);
    let (mut login_log, mut login_seconds) = (Log::default(), 0f64);
    let pid = server.pid();
    let (mut hash_cpu, mut login_cpu) = (Cpu::default(), Cpu::default());
    let mut ratios = Vec::new();
    for (hashes, logins) in split(args.hashes, args.rounds)
        .into_iter()
        .zip(split(args.login_requests, args.rounds))
    {
        let before = Cpu::now(pid);
        let seconds = time_hashes(&hasher, hashes).await?;
        let middle = Cpu::now(pid);
        let (log, elapsed) = drive(&login, concurrency, bounded(logins)).await?;
        hash_cpu.add(middle.since(before));
        login_cpu.add(Cpu::now(pid).since(middle));
        let round_ratio = (log.latencies.len() as f64 / elapsed) / (hashes as f64 / seconds);
        say(&format!(
            "  round: {hashes} hashes at {:.1}/s, {} logins at {:.1}/s: {:.0}%",
            hashes as f64 / seconds,
            log.latencies.len(),
            log.latencies.len() as f64 / elapsed,
            round_ratio * 100.0
        ));
        ratios.push(format!("{:.0}", round_ratio * 100.0));
        hash_count += hashes;
        hash_seconds += seconds;
        login_seconds += elapsed;
        login_log.merge(log);
    }
    login_log.latencies.sort_unstable();
    let (memory, iterations, lanes) = ARGON2;
    let bound = Row {
        name: format!("argon2id hash ({memory} KiB, t={iterations}, p={lanes}), {cores} at once"),
        count: hash_count,
        errors: 0,
        p50: None,
        p99: None,
        rate: hash_count as f64 / hash_seconds.max(1e-9),
        versus: "bound for logins/s".to_owned(),
        target: String::new(),
        met: String::new(),
        cpu: hash_cpu.per(hash_count),
    };
    say(&row_line(&bound));
    let mut rows = vec![bound.clone()];
    warn("password login", &login_log, Some(args.login_requests));
    let mut row = load_row("POST login/password", &login_log, login_seconds);
    row.cpu = login_cpu.per(row.count);
    let ratio = row.rate / bound.rate.max(1e-9);
    row.versus = format!(
        "{:.0}% of hash bound (rounds: {}%)",
        ratio * 100.0,
        ratios.join("/")
    );
    row.target = "≥ 90% of hash bound".to_owned();
    row.met = yes_no(ratio >= 0.90 && login_log.errors == 0);
    say(&row_line(&row));
    rows.push(row);

    // Health, then session checks, on the same server and connections.
    drive(&health, concurrency, bounded(args.warmup)).await?;
    let before = Cpu::now(pid);
    let (log, seconds) = drive(&health, concurrency, bounded(args.session_requests)).await?;
    let cpu = Cpu::now(pid).since(before);
    warn("healthz", &log, Some(args.session_requests));
    let mut health_row = load_row("GET /healthz", &log, seconds);
    health_row.cpu = cpu.per(health_row.count);
    say(&row_line(&health_row));
    // The storefront's application check alone (cached configuration, no session): splits
    // a session check's cost into the application lookup and the session lookup.
    drive(&app_only, concurrency, bounded(args.warmup)).await?;
    let before = Cpu::now(pid);
    let (log, seconds) = drive(&app_only, concurrency, bounded(args.session_requests)).await?;
    let cpu = Cpu::now(pid).since(before);
    warn("storefront config", &log, Some(args.session_requests));
    let mut app_row = load_row(
        "GET platform/v1.0/config (app check, no session)",
        &log,
        seconds,
    );
    app_row.cpu = cpu.per(app_row.count);
    app_row.versus = format!(
        "{:.0}% of /healthz",
        app_row.rate / health_row.rate.max(1e-9) * 100.0
    );
    say(&row_line(&app_row));
    drive(&session, concurrency, bounded(args.warmup)).await?;
    let before = Cpu::now(pid);
    let (log, seconds) = drive(&session, concurrency, bounded(args.session_requests)).await?;
    let cpu = Cpu::now(pid).since(before);
    warn("session check", &log, Some(args.session_requests));
    let mut row = load_row("GET session (cookie)", &log, seconds);
    row.cpu = cpu.per(row.count);
    let ratio = row.rate / health_row.rate.max(1e-9);
    row.versus = format!("{:.0}% of /healthz", ratio * 100.0);
    row.target = "≥ 50% of /healthz".to_owned();
    row.met = yes_no(ratio >= 0.50 && log.errors == 0);
    say(&row_line(&row));
    rows.push(health_row);
    rows.push(app_row);
    rows.push(row);

    // Session checks while a login flood runs.
    let stop = Arc::new(AtomicBool::new(false));
    let started = Instant::now();
    let deadline = started + limit;
    let checks = spawn_load(
        &session,
        FLOOD_SESSION_WORKERS,
        &Bounds {
            total: FLOOD_SESSION_CAP,
            deadline,
            stop: Some(stop.clone()),
        },
    );
    let flood = join(spawn_load(
        &login,
        concurrency,
        &Bounds {
            total: args.flood_logins,
            deadline,
            stop: None,
        },
    ))
    .await;
    let flood_seconds = started.elapsed().as_secs_f64().max(1e-9);
    stop.store(true, Ordering::Relaxed);
    let checks = join(checks).await?;
    let flood = flood?;
    warn("flood logins", &flood, Some(args.flood_logins));
    warn("session check under flood", &checks, None);
    let mut row = load_row(
        &format!("GET session during login flood ({FLOOD_SESSION_WORKERS} workers)"),
        &checks,
        flood_seconds,
    );
    let p99 = row.p99.unwrap_or_default();
    row.versus = format!("p99 {:.1} ms", p99.as_secs_f64() * 1000.0);
    row.target = "p99 < 25 ms".to_owned();
    row.met = yes_no(p99 < Duration::from_millis(25) && checks.errors == 0);
    say(&row_line(&row));
    let mut flood_row = load_row(
        &format!("POST login/password flood ({concurrency} workers)"),
        &flood,
        flood_seconds,
    );
    flood_row.versus = format!(
        "{:.0}% of hash bound",
        flood_row.rate / bound.rate.max(1e-9) * 100.0
    );
    say(&row_line(&flood_row));
    rows.push(row);
    rows.push(flood_row);
    Ok(rows)
}

/// One Markdown table row.
pub fn row_line(row: &Row) -> String {
    format!(
        "| {} | {} | {} | {} | {} | {:.1} | {} | {} | {} | {} |",
        row.name,
        row.count,
        row.errors,
        optional_millis(row.p50),
        optional_millis(row.p99),
        row.rate,
        row.versus,
        row.target,
        row.met,
        row.cpu
    )
}

/// The whole table (Markdown).
pub fn table(rows: &[Row]) -> String {
    let mut lines = vec![
        "| measurement | count | errors | p50 ms | p99 ms | per s | compared | target | met | CPU ms/op server / client |"
            .to_owned(),
        "|---|---:|---:|---:|---:|---:|---|---|---|---:|".to_owned(),
    ];
    lines.extend(rows.iter().map(row_line));
    lines.join("\n")
}

#[cfg(test)]
mod tests {
    use super::{base64, split};

    #[test]
    fn splits_into_near_equal_rounds() {
        assert_eq!(split(10, 4), vec![3, 3, 2, 2]);
        assert_eq!(split(3, 5), vec![1, 1, 1]);
        assert_eq!(split(7, 1), vec![7]);
    }

    #[test]
    fn base64_matches_rfc_4648() {
        assert_eq!(base64(b""), "");
        assert_eq!(base64(b"f"), "Zg==");
        assert_eq!(base64(b"fo"), "Zm8=");
        assert_eq!(base64(b"foo"), "Zm9v");
        assert_eq!(base64(b"foobar"), "Zm9vYmFy");
    }
}
