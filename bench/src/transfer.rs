//! `--suite transfer`: moving customers in and out. On a fresh database of each backend it
//! seeds `--customers` minus `--import-rows` customers through the store, then
//!
//! 1. times `GET /healthz` and the argon2id hash bound (the baselines every figure is
//!    quoted beside);
//! 2. imports `--import-rows` customers with bcrypt hashes from a CSV the bench serves on
//!    127.0.0.1 (`POST …/users/jobs/import`, timed from the request to the job's end),
//!    and signs one of them in with the old password;
//! 3. exports all customers to CSV (`POST …/users/jobs/export`, timed the same way) while
//!    sampling the server's resident memory, then downloads the file through its link.
//!
//! The bcrypt hash is one real cost-10 hash shared by every row: the import checks each
//! hash's format, not the password, so the figure does not depend on it.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use patron_service::secrets::SecretBox;
use reqwest::header::AUTHORIZATION;
use reqwest::Client;
use serde_json::{json, Value};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

use crate::database::BenchDatabase;
use crate::load::access_token;
use crate::login::{
    base64, drive, expect_ok, load_row, row_line, server_hasher, table, time_hashes, warn, Bounds,
    MakeRequest, Row,
};
use crate::server::{CreatedApp, PatronBin, Server, COMPANY};
use crate::{say, seed, Args, BenchResult};

/// The password every imported customer had in their old system.
const OLD_PASSWORD: &str = "Imported-1";
/// The rows' bcrypt cost (a common production cost).
const BCRYPT_COST: u32 = 10;
/// How often a job's state and the server's memory are read.
const POLL: Duration = Duration::from_millis(100);

/// Runs the suite on a fresh database of each chosen backend and prints a table per backend.
pub async fn run(args: &Args, patron: &mut PatronBin) -> BenchResult<()> {
    if args.import_rows == 0 || args.import_rows >= 100_000_000 || args.customers == 0 {
        return Err("--import-rows must be 1 to 99,999,999 and --customers positive".into());
    }
    let hash = bcrypt::hash(OLD_PASSWORD, BCRYPT_COST)?;
    let csv = Arc::new(import_file(args.import_rows, &hash));
    let file_url = serve(csv.clone()).await?;
    say(&format!(
        "import file: {} rows, {:.1} MiB, at {file_url}",
        args.import_rows,
        mib(csv.len() as u64)
    ));
    let mut tables = Vec::new();
    for backend in args.backend.list() {
        let database = BenchDatabase::create(*backend, &args.postgres_url)?;
        let exports =
            std::env::temp_dir().join(format!("patron-bench-exports-{}", std::process::id()));
        patron.env = vec![
            ("PATRON_SECRET_KEY".to_owned(), SecretBox::generate_key()),
            ("PATRON_COOKIE_SECURE".to_owned(), "false".to_owned()),
            ("PATRON_FETCH_ALLOW".to_owned(), "127.0.0.1/32".to_owned()),
            (
                "PATRON_FETCH_MAX_BYTES".to_owned(),
                (1u64 << 30).to_string(),
            ),
            ("PATRON_FETCH_TIMEOUT_SECS".to_owned(), "600".to_owned()),
            (
                "PATRON_EXPORT_DIR".to_owned(),
                exports.display().to_string(),
            ),
        ];
        say(&format!(
            "\n== {} ({}) ==",
            database.name(),
            database.display_location()
        ));
        let outcome = measure_backend(args, patron, &database, &file_url).await;
        let _ = std::fs::remove_dir_all(&exports);
        database.finish(args.keep);
        tables.push((database.name(), outcome?));
    }
    for (backend, rows) in tables {
        say("");
        say(&format!(
            "Results ({backend}): import of {} bcrypt customers into {} seeded, export of all",
            args.import_rows,
            args.customers.saturating_sub(args.import_rows)
        ));
        say(&table(&rows));
    }
    Ok(())
}

/// The import file: `email,phone_number,first_name,password_hash`, one row per customer,
/// with emails and numbers that no seeded customer has.
fn import_file(rows: u64, hash: &str) -> Vec<u8> {
    let mut file = String::from("email,phone_number,first_name,password_hash\n");
    for index in 0..rows {
        file.push_str(&format!(
            "imported{index}@bench.example,96{index:08},Imported{index},{hash}\n"
        ));
    }
    file.into_bytes()
}

async fn measure_backend(
    args: &Args,
    patron: &PatronBin,
    database: &BenchDatabase,
    file_url: &str,
) -> BenchResult<Vec<Row>> {
    let url = database.url();
    patron.migrate(url)?;
    let app = patron.create_app(url)?;
    let client = patron.create_client_with_scopes(
        url,
        "application/customers/read,application/customers/write",
    )?;
    let seeded = args.customers.saturating_sub(args.import_rows);
    if seeded > 0 {
        seed::seed(url, &app.application_id, seeded, args.batch).await?;
    }
    if database.analyze()? {
        say(&format!("{} done", database.analyze_command()));
    }
    let server = Server::start(patron, url)?;
    say(&format!("serving at {}", server.base_url));
    let outcome = measure(args, &server, &app, &client, file_url).await;
    server.stop().await;
    outcome
}

async fn measure(
    args: &Args,
    server: &Server,
    app: &CreatedApp,
    client: &crate::server::CreatedClient,
    file_url: &str,
) -> BenchResult<Vec<Row>> {
    let http = Client::builder()
        .pool_max_idle_per_host(usize::try_from(args.concurrency)?)
        .build()?;
    let token = access_token(&http, &server.base_url, client).await?;
    let mut rows = Vec::new();

    // Baselines.
    let health: MakeRequest = {
        let http = http.clone();
        let url = format!("{}/healthz", server.base_url);
        Arc::new(move |_| http.get(&url))
    };
    let bounded = |total| Bounds {
        total,
        deadline: Instant::now() + Duration::from_secs(args.max_scenario_secs),
        stop: None,
    };
    drive(&health, args.concurrency, bounded(args.warmup)).await?;
    let (log, seconds) = drive(&health, args.concurrency, bounded(args.requests)).await?;
    warn("healthz", &log, Some(args.requests));
    let health_row = load_row("GET /healthz", &log, seconds);
    say(&row_line(&health_row));
    let cores = patron_service::hasher::PasswordHasher::default_concurrency();
    let hasher = server_hasher(cores)?;
    let hash_seconds = time_hashes(&hasher, args.hashes).await?;
    let hash_rate = args.hashes as f64 / hash_seconds;
    let hash_row = Row {
        name: format!("argon2id hash bound ({cores} slots)"),
        count: args.hashes,
        errors: 0,
        p50: None,
        p99: None,
        rate: hash_rate,
        versus: String::new(),
        target: String::new(),
        met: String::new(),
        cpu: String::new(),
    };
    say(&row_line(&hash_row));
    let versus = |rate: f64| {
        format!(
            "{:.0}× the hash bound, {:.1}% of /healthz",
            rate / hash_rate.max(1e-9),
            rate / health_row.rate.max(1e-9) * 100.0
        )
    };
    rows.push(health_row.clone());
    rows.push(hash_row);

    let platform = Platform {
        http: http.clone(),
        base: format!(
            "{}/service/platform/user/v1.0/company/{COMPANY}/application/{}",
            server.base_url, app.application_id
        ),
        token,
    };

    // Import.
    let started = Instant::now();
    let job = platform
        .post(
            "/users/jobs/import",
            json!({"absolute_url": file_url, "file_format": "CSV", "relative_url": "bench.csv"}),
        )
        .await?;
    let (done, _) = platform.wait(&job, server.pid()).await?;
    let seconds = started.elapsed().as_secs_f64();
    let imported = done["count"]["success"].as_u64().unwrap_or_default();
    let refused = done["count"]["error"].as_u64().unwrap_or_default();
    if imported != args.import_rows {
        say(&format!(
            "WARNING: import ended {} with {imported} imported, {refused} refused",
            done["status"]
        ));
    }
    let rate = imported as f64 / seconds;
    rows.push(Row {
        name: "import, bcrypt rows (request to job end)".to_owned(),
        count: imported,
        errors: refused,
        p50: None,
        p99: None,
        rate,
        versus: versus(rate),
        target: "≥ 5,000/s on PostgreSQL".to_owned(),
        met: String::new(),
        cpu: String::new(),
    });
    say(&row_line(rows.last().ok_or("no row")?));
    sign_in_imported(&http, &server.base_url, app).await?;
    say("an imported customer signed in with their old password (and was rehashed)");

    // Export.
    let before = memory(server.pid())?;
    let started = Instant::now();
    let job = platform
        .post("/users/jobs/export", json!({"file_format": "CSV"}))
        .await?;
    let (done, peak) = platform.wait(&job, server.pid()).await?;
    let seconds = started.elapsed().as_secs_f64();
    let exported = done["count"]["success"].as_u64().unwrap_or_default();
    let rate = exported as f64 / seconds;
    let link = done["links"]["file"]["relative_url"]
        .as_str()
        .ok_or("the export has no file link")?;
    let file = http
        .get(format!("{}{link}", server.base_url))
        .send()
        .await?
        .error_for_status()?
        .bytes()
        .await?;
    let lines = file.iter().filter(|byte| **byte == b'\n').count();
    rows.push(Row {
        name: format!(
            "export to CSV ({:.0} MiB, {} lines); server RSS {:.0} MiB before, peak {:.0} MiB",
            mib(file.len() as u64),
            lines,
            mib(before),
            mib(peak)
        ),
        count: exported,
        errors: 0,
        p50: None,
        p99: None,
        rate,
        versus: versus(rate),
        target: "flat memory".to_owned(),
        met: String::new(),
        cpu: String::new(),
    });
    say(&row_line(rows.last().ok_or("no row")?));
    Ok(rows)
}

/// Calls on the platform API of one application.
struct Platform {
    http: Client,
    base: String,
    token: String,
}

impl Platform {
    async fn post(&self, path: &str, body: Value) -> BenchResult<Value> {
        let response = expect_ok(
            self.http
                .post(format!("{}{path}", self.base))
                .bearer_auth(&self.token)
                .json(&body),
            path,
        )
        .await?;
        Ok(response.json().await?)
    }

    /// Polls the job until it leaves `inprogress`, sampling the server's resident memory;
    /// returns the job and the highest resident memory seen, bytes.
    async fn wait(&self, job: &Value, pid: u32) -> BenchResult<(Value, u64)> {
        let id = job["_id"].as_str().ok_or("the job has no _id")?;
        let peak = Arc::new(AtomicU64::new(memory(pid)?));
        let stop = Arc::new(AtomicBool::new(false));
        let sampler = {
            let (peak, stop) = (peak.clone(), stop.clone());
            tokio::spawn(async move {
                while !stop.load(Ordering::Relaxed) {
                    if let Ok(rss) = memory(pid) {
                        peak.fetch_max(rss, Ordering::Relaxed);
                    }
                    tokio::time::sleep(POLL / 2).await;
                }
            })
        };
        let path = format!("/users/jobs/{id}");
        let done = loop {
            let state: Value = expect_ok(
                self.http
                    .get(format!("{}{path}", self.base))
                    .bearer_auth(&self.token),
                &path,
            )
            .await?
            .json()
            .await?;
            if state["status"] != "inprogress" {
                break state;
            }
            tokio::time::sleep(POLL).await;
        };
        stop.store(true, Ordering::Relaxed);
        sampler.await?;
        Ok((done, peak.load(Ordering::Relaxed)))
    }
}

/// Signs in imported customer 0 with the password of their old system.
async fn sign_in_imported(http: &Client, base: &str, app: &CreatedApp) -> BenchResult<()> {
    let authorization = format!(
        "Bearer {}",
        base64(format!("{}:{}", app.application_id, app.application_token).as_bytes())
    );
    expect_ok(
        http.post(format!(
            "{base}/service/application/user/authentication/v1.0/login/password"
        ))
        .header(AUTHORIZATION, authorization)
        .json(&json!({"username": "imported0@bench.example", "password": OLD_PASSWORD})),
        "login/password",
    )
    .await
    .map(|_| ())
}

/// The resident memory of process `pid`, bytes (`VmRSS` in `/proc/<pid>/status`).
fn memory(pid: u32) -> BenchResult<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status"))?;
    let kib = status
        .lines()
        .find_map(|line| line.strip_prefix("VmRSS:"))
        .and_then(|rest| rest.split_whitespace().next())
        .and_then(|kib| kib.parse::<u64>().ok())
        .ok_or("no VmRSS in /proc status")?;
    Ok(kib * 1024)
}

fn mib(bytes: u64) -> f64 {
    bytes as f64 / (1024.0 * 1024.0)
}

/// Serves `body` on 127.0.0.1 at any path; returns its URL.
async fn serve(body: Arc<Vec<u8>>) -> BenchResult<String> {
    let listener = TcpListener::bind("127.0.0.1:0").await?;
    let address = listener.local_addr()?;
    tokio::spawn(async move {
        while let Ok((mut socket, _)) = listener.accept().await {
            let body = body.clone();
            tokio::spawn(async move {
                let mut request = Vec::new();
                let mut buffer = [0u8; 1024];
                while !request.windows(4).any(|w| w == b"\r\n\r\n") {
                    match socket.read(&mut buffer).await {
                        Ok(0) | Err(_) => return,
                        Ok(n) => request.extend_from_slice(&buffer[..n]),
                    }
                }
                let head = format!(
                    "HTTP/1.1 200 OK\r\ncontent-type: text/csv\r\ncontent-length: {}\r\nconnection: close\r\n\r\n",
                    body.len()
                );
                let _ = socket.write_all(head.as_bytes()).await;
                let _ = socket.write_all(&body).await;
                let _ = socket.shutdown().await;
            });
        }
    });
    Ok(format!("http://{address}/bench.csv"))
}
