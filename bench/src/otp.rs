//! `--suite otp`: one-time passwords. On one application whose send budgets are raised for
//! the load (the bench sends everything from one address), times `loginWithOTP` sends to
//! distinct numbers and the verification of each code (read from the outbox, as the `log`
//! notifier leaves it), beside `GET /healthz` on the same server. Then, on an application
//! with the default budgets, an abuse run: many sends to one number, and sends to many
//! numbers from one address — counting how many messages actually left.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use patron_service::reveal_message;
use patron_service::secrets::SecretBox;
use reqwest::header::AUTHORIZATION;
use reqwest::{Client, StatusCode};
use serde_json::{json, Value};

use crate::database::BenchDatabase;
use crate::load::access_token;
use crate::login::{
    base64, drive, expect_ok, load_row, row_line, table, warn, Bounds, Log, MakeRequest, Row,
};
use crate::server::{CreatedApp, PatronBin, Server, COMPANY};
use crate::{say, Args, BenchResult};

/// Sends to one number in the abuse run.
const ABUSE_ONE_NUMBER: u64 = 100;
/// Numbers one address sends to in the abuse run.
const ABUSE_MANY_NUMBERS: u64 = 200;

/// The `index`-th benchmark number: `97` and 8 digits.
fn number(index: u64) -> String {
    format!("97{index:08}")
}

/// Runs the suite on a fresh database of each chosen backend and prints a table per backend.
pub async fn run(args: &Args, patron: &mut PatronBin) -> BenchResult<()> {
    if args.otp_requests == 0 || args.otp_requests >= 50_000_000 || args.concurrency == 0 {
        return Err("--otp-requests must be 1 to 49,999,999 and --concurrency positive".into());
    }
    let mut tables = Vec::new();
    for backend in args.backend.list() {
        let database = BenchDatabase::create(*backend, &args.postgres_url)?;
        patron.env = vec![
            ("PATRON_SECRET_KEY".to_owned(), SecretBox::generate_key()),
            ("PATRON_COOKIE_SECURE".to_owned(), "false".to_owned()),
            ("PATRON_NOTIFIER".to_owned(), "log".to_owned()),
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
            "Results ({backend}): {} OTP sends and verifications from {} workers; abuse: {ABUSE_ONE_NUMBER} sends to one number, {ABUSE_MANY_NUMBERS} numbers from one address (default budgets)",
            args.otp_requests, args.concurrency
        ));
        say(&table(&rows));
    }
    Ok(())
}

async fn serve_and_measure(
    args: &Args,
    patron: &PatronBin,
    database: &BenchDatabase,
) -> BenchResult<Vec<Row>> {
    let url = database.url();
    patron.migrate(url)?;
    let load_app = patron.create_app(url)?;
    let abuse_app = patron.create_app(url)?;
    let client = patron.create_client_with_scopes(
        url,
        "application/customers/read,application/customers/write,company/settings/write",
    )?;
    let server = Server::start(patron, url)?;
    say(&format!("serving at {}", server.base_url));
    // Codes are sealed in the outbox under the server's key; the bench opens them with it.
    let key = patron
        .env
        .iter()
        .find(|(name, _)| name == "PATRON_SECRET_KEY")
        .map(|(_, key)| key.as_str())
        .ok_or("the bench sets PATRON_SECRET_KEY")?;
    let secrets = SecretBox::from_base64(key)?;
    let outcome = measure(args, &server, url, &secrets, &load_app, &abuse_app, &client).await;
    server.stop().await;
    outcome
}

/// The storefront calls of one application.
struct Shop {
    http: Client,
    base_url: String,
    authorization: String,
}

impl Shop {
    fn new(http: &Client, base_url: &str, app: &CreatedApp) -> Self {
        Self {
            http: http.clone(),
            base_url: base_url.to_owned(),
            authorization: format!(
                "Bearer {}",
                base64(format!("{}:{}", app.application_id, app.application_token).as_bytes())
            ),
        }
    }

    fn post(&self, path: &str, body: &Value) -> reqwest::RequestBuilder {
        self.http
            .post(format!(
                "{}/service/application/user/authentication/v1.0/{path}",
                self.base_url
            ))
            .header(AUTHORIZATION, &self.authorization)
            .json(body)
    }
}

/// Sets an application's configuration through the platform API.
async fn configure(
    http: &Client,
    base_url: &str,
    token: &str,
    app: &CreatedApp,
    body: Value,
) -> BenchResult<()> {
    let url = format!(
        "{base_url}/service/platform/user/v1.0/company/{COMPANY}/application/{}/platform/config",
        app.application_id
    );
    expect_ok(
        http.post(url).bearer_auth(token).json(&body),
        "platform config",
    )
    .await?;
    Ok(())
}

/// Sends `total` requests made by `make` from `concurrency` workers; returns the sorted
/// latencies, the answers (status and JSON body) by request index, and the seconds taken.
async fn timed_calls(
    make: Arc<dyn Fn(u64) -> reqwest::RequestBuilder + Send + Sync>,
    total: u64,
    concurrency: u64,
) -> BenchResult<(Log, Vec<(u64, StatusCode, Value)>, f64)> {
    let next = Arc::new(AtomicU64::new(0));
    let started = Instant::now();
    let handles: Vec<_> = (0..concurrency)
        .map(|_| {
            let make = make.clone();
            let next = next.clone();
            tokio::spawn(async move {
                let mut log = Log::default();
                let mut answers = Vec::new();
                loop {
                    let index = next.fetch_add(1, Ordering::Relaxed);
                    if index >= total {
                        return (log, answers);
                    }
                    let began = Instant::now();
                    match make(index).send().await {
                        Ok(response) => {
                            let status = response.status();
                            let body: Value = response.json().await.unwrap_or(Value::Null);
                            log.latencies.push(began.elapsed());
                            if !status.is_success() && status != StatusCode::TOO_MANY_REQUESTS {
                                log.errors += 1;
                                log.first_error
                                    .get_or_insert(format!("HTTP {status}: {body}"));
                            }
                            answers.push((index, status, body));
                        }
                        Err(error) => {
                            log.latencies.push(began.elapsed());
                            log.errors += 1;
                            log.first_error.get_or_insert(error.to_string());
                        }
                    }
                }
            })
        })
        .collect();
    let mut merged = Log::default();
    let mut answers = Vec::new();
    for handle in handles {
        let (log, mut some) = handle.await?;
        merged.merge(log);
        answers.append(&mut some);
    }
    merged.latencies.sort_unstable();
    Ok((merged, answers, started.elapsed().as_secs_f64().max(1e-9)))
}

/// The codes in the outbox, by recipient (the newest message to each).
async fn codes_by_recipient(
    url: &str,
    secrets: &SecretBox,
) -> BenchResult<HashMap<String, String>> {
    let stores = patron_store::connect(url).await?;
    let messages = stores.outbox.list_outbox(10_000_000).await?;
    let mut codes = HashMap::new();
    for message in messages {
        let message = reveal_message(secrets, message)?;
        if let Some(code) = message.message.data.get("otp").and_then(Value::as_str) {
            codes
                .entry(message.message.to.clone())
                .or_insert_with(|| code.to_owned());
        }
    }
    Ok(codes)
}

/// Messages the outbox holds for `to`.
async fn messages_to(url: &str, predicate: impl Fn(&str) -> bool) -> BenchResult<u64> {
    let stores = patron_store::connect(url).await?;
    let messages = stores.outbox.list_outbox(10_000_000).await?;
    Ok(messages.iter().filter(|m| predicate(&m.message.to)).count() as u64)
}

async fn measure(
    args: &Args,
    server: &Server,
    url: &str,
    secrets: &SecretBox,
    load_app: &CreatedApp,
    abuse_app: &CreatedApp,
    client: &crate::server::CreatedClient,
) -> BenchResult<Vec<Row>> {
    let pool = usize::try_from(args.concurrency)?;
    let http = Client::builder().pool_max_idle_per_host(pool).build()?;
    let token = access_token(&http, &server.base_url, client).await?;
    // The load comes from one address and one application: raise those budgets for it (the
    // per-number budget stays, every number gets one code). The abuse application keeps
    // the defaults.
    configure(
        &http,
        &server.base_url,
        &token,
        load_app,
        json!({"otp": {"per_address": 1_000_000, "per_application": 100_000_000}}),
    )
    .await?;
    let shop = Arc::new(Shop::new(&http, &server.base_url, load_app));
    let requests = args.otp_requests;
    let concurrency = args.concurrency;
    let limit = Duration::from_secs(args.max_scenario_secs);
    let mut rows = Vec::new();

    let health: MakeRequest = {
        let http = http.clone();
        let url = format!("{}/healthz", server.base_url);
        Arc::new(move |_| http.get(&url))
    };
    let bounded = |total| Bounds {
        total,
        deadline: Instant::now() + limit,
        stop: None,
    };
    drive(&health, concurrency, bounded(args.warmup)).await?;
    let (log, seconds) = drive(&health, concurrency, bounded(requests)).await?;
    warn("healthz", &log, Some(requests));
    let health_row = load_row("GET /healthz", &log, seconds);
    say(&row_line(&health_row));
    let versus = |rate: f64| {
        format!(
            "{:.1}% of /healthz",
            rate / health_row.rate.max(1e-9) * 100.0
        )
    };

    let send = {
        let shop = shop.clone();
        Arc::new(move |n: u64| {
            shop.post(
                "login/otp",
                &json!({"mobile": number(n), "country_code": "91"}),
            )
        })
    };
    let (log, answers, send_seconds) = timed_calls(send, requests, concurrency).await?;
    warn("login/otp", &log, None);
    let mut send_row = load_row("POST login/otp (new number)", &log, send_seconds);
    send_row.versus = versus(send_row.rate);
    say(&row_line(&send_row));

    // The `log` notifier leaves each message, code included, in the outbox.
    let sent: Vec<(u64, String)> = answers
        .into_iter()
        .filter(|(_, status, _)| status.is_success())
        .filter_map(|(n, _, body)| body["request_id"].as_str().map(|id| (n, id.to_owned())))
        .collect();
    let codes = codes_by_recipient(url, secrets).await?;
    let pairs: Arc<Vec<(String, String)>> = Arc::new(
        sent.iter()
            .filter_map(|(n, id)| {
                codes
                    .get(&format!("+91{}", number(*n)))
                    .map(|code| (id.clone(), code.clone()))
            })
            .collect(),
    );
    if pairs.len() as u64 != requests {
        eprintln!(
            "patron-bench: {} of {requests} codes found in the outbox",
            pairs.len()
        );
    }
    let verify = {
        let shop = shop.clone();
        let pairs = pairs.clone();
        Arc::new(move |n: u64| {
            let (request_id, otp) = &pairs[usize::try_from(n).unwrap_or(0) % pairs.len().max(1)];
            shop.post(
                "otp/mobile/verify",
                &json!({"request_id": request_id, "otp": otp}),
            )
        })
    };
    let (log, answers, verify_seconds) =
        timed_calls(verify, pairs.len() as u64, concurrency).await?;
    warn("otp/mobile/verify", &log, None);
    let signups = answers
        .iter()
        .filter(|(_, status, body)| status.is_success() && body["register_token"].is_string())
        .count();
    let mut verify_row = load_row(
        "POST otp/mobile/verify (→ sign-up token)",
        &log,
        verify_seconds,
    );
    verify_row.versus = versus(verify_row.rate);
    verify_row.met = format!("{signups} sign-up tokens");
    say(&row_line(&verify_row));
    let pair_rate = pairs.len() as f64 / (send_seconds + verify_seconds);
    let both = Row {
        name: "send + verify pairs".to_owned(),
        count: pairs.len() as u64,
        errors: send_row.errors + verify_row.errors,
        p50: None,
        p99: None,
        rate: pair_rate,
        versus: versus(pair_rate),
        target: String::new(),
        met: String::new(),
        cpu: String::new(),
    };
    say(&row_line(&both));
    rows.extend([health_row.clone(), send_row, verify_row, both]);

    // Abuse, with the default budgets.
    let abuse = Arc::new(Shop::new(&http, &server.base_url, abuse_app));
    let target = "9111111111";
    let one_number = {
        let abuse = abuse.clone();
        Arc::new(move |_: u64| {
            abuse.post(
                "login/otp",
                &json!({"mobile": target, "country_code": "91"}),
            )
        })
    };
    let (log, answers, seconds) = timed_calls(one_number, ABUSE_ONE_NUMBER, concurrency).await?;
    let refused = answers
        .iter()
        .filter(|(_, s, _)| *s == StatusCode::TOO_MANY_REQUESTS)
        .count();
    let left = messages_to(url, |to| to == format!("+91{target}")).await?;
    let mut row = load_row(
        &format!("abuse: {ABUSE_ONE_NUMBER} sends to one number"),
        &log,
        seconds,
    );
    row.versus = format!("{left} messages left, {refused} refused (429)");
    row.target = "5 an hour per number".to_owned();
    row.met = if left == 5 { "yes" } else { "NO" }.to_owned();
    say(&row_line(&row));
    rows.push(row);

    let many = {
        let abuse = abuse.clone();
        Arc::new(move |n: u64| {
            abuse.post(
                "login/otp",
                &json!({"mobile": format!("96{n:08}"), "country_code": "91"}),
            )
        })
    };
    let (log, answers, seconds) = timed_calls(many, ABUSE_MANY_NUMBERS, concurrency).await?;
    let refused = answers
        .iter()
        .filter(|(_, s, _)| *s == StatusCode::TOO_MANY_REQUESTS)
        .count();
    let left = messages_to(url, |to| to.starts_with("+9196")).await?;
    let mut row = load_row(
        &format!("abuse: {ABUSE_MANY_NUMBERS} numbers from one address"),
        &log,
        seconds,
    );
    row.versus = format!("{left} messages left, {refused} refused (429)");
    // The address already spent 5 of its 30 on the one-number run.
    row.target = "30 an hour per address (5 spent above)".to_owned();
    row.met = if left == 25 { "yes" } else { "NO" }.to_owned();
    say(&row_line(&row));
    rows.push(row);
    Ok(rows)
}
