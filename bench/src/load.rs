//! The HTTP side: an OAuth token, one request shape per scenario, concurrent workers that
//! time every request, and the results table.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use reqwest::header::AUTHORIZATION;
use reqwest::{Client, RequestBuilder};
use serde_json::{json, Value};

use crate::seed::{email_of, phone_of};
use crate::server::{CreatedClient, COMPANY};
use crate::BenchResult;

/// One kind of request the benchmark times.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Scenario {
    /// `GET …/customers/list?page_no=1&page_size=10`: newest page plus the total count.
    ListPage,
    /// `…/customers/list` filtered on one existing customer's email.
    ListEmail,
    /// `…/customers/list` filtered on one existing customer's phone number.
    ListPhone,
    /// `…/customers/list` filtered on a 7 to 9 character, case-insensitive email prefix.
    ListEmailPrefix,
    /// `GET …/customers/search?q=<email>`.
    SearchEmail,
    /// `POST …/customers` with a new, unique customer.
    Create,
}

impl Scenario {
    /// Every scenario, in the order they run (creates last, so that they do not change
    /// what the reads see).
    pub const ALL: [Scenario; 6] = [
        Scenario::ListPage,
        Scenario::ListEmail,
        Scenario::ListPhone,
        Scenario::ListEmailPrefix,
        Scenario::SearchEmail,
        Scenario::Create,
    ];

    /// The scenario's name in the results table.
    pub fn name(self) -> &'static str {
        match self {
            Scenario::ListPage => "list page 1 (no q)",
            Scenario::ListEmail => "list q=email equality",
            Scenario::ListPhone => "list q=phone equality",
            Scenario::ListEmailPrefix => "list q=email prefix $regex",
            Scenario::SearchEmail => "search by email",
            Scenario::Create => "create customer",
        }
    }
}

/// Everything a worker needs to build requests.
#[derive(Debug)]
pub struct LoadContext {
    http: Client,
    /// `http://host:port/service/platform/user/v1.0/company/559/application/<id>`.
    prefix: String,
    /// `Bearer <token>`.
    authorization: String,
    /// Seeded customers: indices `0..customers` exist.
    customers: u64,
    /// Next index for a created customer (starts at `customers`).
    next_new: AtomicU64,
}

impl LoadContext {
    /// A context for application `application_id` of the server at `base_url`.
    pub fn new(
        http: Client,
        base_url: &str,
        application_id: &str,
        token: &str,
        customers: u64,
    ) -> Arc<Self> {
        Arc::new(Self {
            http,
            prefix: format!("{base_url}/service/platform/user/v1.0/company/{COMPANY}/application/{application_id}"),
            authorization: format!("Bearer {token}"),
            customers,
            next_new: AtomicU64::new(customers),
        })
    }

    /// `GET …/customers/list` with an optional `q`.
    fn list(&self, q: Option<Value>) -> RequestBuilder {
        let mut query = vec![("page_no", "1".to_owned()), ("page_size", "10".to_owned())];
        if let Some(q) = q {
            query.push(("q", q.to_string()));
        }
        self.http
            .get(format!("{}/customers/list", self.prefix))
            .query(&query)
            .header(AUTHORIZATION, &self.authorization)
    }

    /// The request one scenario sends, with random choices drawn from `rng`.
    fn request(&self, scenario: Scenario, rng: &mut StdRng) -> RequestBuilder {
        let existing = rng.gen_range(0..self.customers);
        match scenario {
            Scenario::ListPage => self.list(None),
            Scenario::ListEmail => self.list(Some(json!({ "emails.email": email_of(existing) }))),
            Scenario::ListPhone => {
                self.list(Some(json!({ "phoneNumbers.phone": phone_of(existing) })))
            }
            Scenario::ListEmailPrefix => {
                let local = format!("user{existing}");
                let length = rng.gen_range(7..=9).min(local.len());
                let prefix = &local[..length];
                self.list(Some(
                    json!({ "emails.email": { "$regex": format!("^{prefix}"), "$options": "i" } }),
                ))
            }
            Scenario::SearchEmail => self
                .http
                .get(format!("{}/customers/search", self.prefix))
                .query(&[("q", email_of(existing))])
                .header(AUTHORIZATION, &self.authorization),
            Scenario::Create => {
                let index = self.next_new.fetch_add(1, Ordering::Relaxed);
                let body = json!({
                    "phone_number": phone_of(index),
                    "email": email_of(index),
                    "first_name": format!("Created{index}"),
                });
                self.http
                    .post(format!("{}/customers", self.prefix))
                    .json(&body)
                    .header(AUTHORIZATION, &self.authorization)
            }
        }
    }
}

/// Obtains an access token with the client-credentials grant.
pub async fn access_token(
    http: &Client,
    base_url: &str,
    client: &CreatedClient,
) -> BenchResult<String> {
    let url = format!("{base_url}/service/panel/authentication/v1.0/company/{COMPANY}/oauth/token");
    let response = http
        .post(url)
        .basic_auth(&client.client_id, Some(&client.client_secret))
        .form(&[("grant_type", "client_credentials")])
        .send()
        .await?;
    let status = response.status();
    let body: Value = response.json().await?;
    body.get("access_token")
        .and_then(Value::as_str)
        .map(str::to_owned)
        .ok_or_else(|| format!("token request failed ({status}): {body}").into())
}

/// Sends `request` and returns the JSON body, failing on a non-2xx status.
async fn fetch_json(request: RequestBuilder) -> BenchResult<Value> {
    let response = request.send().await?;
    let status = response.status();
    let body = response.text().await?;
    if !status.is_success() {
        return Err(format!("HTTP {status}: {body}").into());
    }
    Ok(serde_json::from_str(&body)?)
}

/// Checks once, before timing, that each read scenario returns what the seeded data says it
/// must, so the timings are of real work.
pub async fn sanity_check(context: &LoadContext) -> BenchResult<()> {
    let probe = context.customers / 2;
    let total = |body: &Value| body.pointer("/page/item_total").and_then(Value::as_u64);
    let all = fetch_json(context.list(None)).await?;
    // A reused database also holds the customers earlier runs created: new ones follow.
    let stored = total(&all).unwrap_or_default();
    context.next_new.fetch_max(stored, Ordering::Relaxed);
    if stored < context.customers
        || all["items"].as_array().map(Vec::len) != Some(10.min(context.customers as usize))
    {
        return Err(format!(
            "unfiltered list: expected item_total of at least {} and a full page, got {}",
            context.customers, all["page"]
        )
        .into());
    }
    for q in [
        json!({ "emails.email": email_of(probe) }),
        json!({ "phoneNumbers.phone": phone_of(probe) }),
    ] {
        let body = fetch_json(context.list(Some(q.clone()))).await?;
        if total(&body) != Some(1) {
            return Err(
                format!("list with q={q}: expected 1 customer, got {}", body["page"]).into(),
            );
        }
    }
    let prefix = json!({ "emails.email": { "$regex": "^user1", "$options": "i" } });
    let body = fetch_json(context.list(Some(prefix))).await?;
    if total(&body).unwrap_or_default() == 0 {
        return Err("list with an email prefix found nothing".into());
    }
    let search = context
        .http
        .get(format!("{}/customers/search", context.prefix))
        .query(&[("q", email_of(probe))])
        .header(AUTHORIZATION, &context.authorization);
    let body = fetch_json(search).await?;
    if body["users"].as_array().map(Vec::len) != Some(1) {
        return Err(format!("search by email: expected 1 user, got {body}").into());
    }
    Ok(())
}

/// What one scenario measured.
#[derive(Debug, Clone)]
pub struct ScenarioResult {
    /// The scenario.
    pub scenario: Scenario,
    /// `sqlite` or `postgres`.
    pub backend: &'static str,
    /// Timed requests sent.
    pub requests: u64,
    /// Requests that failed or answered with a non-2xx status.
    pub errors: u64,
    /// Median latency.
    pub p50: Duration,
    /// 99th percentile latency.
    pub p99: Duration,
    /// Timed requests divided by the timed phase's wall-clock time.
    pub throughput: f64,
}

/// Reads a whole answer (latency counts until the body is in); an error unless it is 2xx.
pub(crate) async fn read_answer(sent: reqwest::Result<reqwest::Response>) -> Result<(), String> {
    let response = sent.map_err(|error| error.to_string())?;
    let status = response.status();
    let body = response.bytes().await.map_err(|error| error.to_string())?;
    if status.is_success() {
        Ok(())
    } else {
        Err(format!(
            "HTTP {status}: {}",
            String::from_utf8_lossy(&body[..body.len().min(300)])
        ))
    }
}

/// What one worker saw.
#[derive(Debug, Default)]
struct WorkerLog {
    latencies: Vec<Duration>,
    errors: u64,
    first_error: Option<String>,
}

/// How many requests a scenario sends, and how.
#[derive(Debug, Clone, Copy)]
pub struct Plan {
    /// Timed requests.
    pub requests: u64,
    /// Concurrent workers.
    pub concurrency: u64,
    /// Untimed warm-up requests.
    pub warmup: u64,
    /// No new request starts after this long.
    pub time_limit: Duration,
}

/// Sends requests of `scenario` from one worker until `next` reaches `total` or
/// `deadline` passes.
async fn worker(
    context: Arc<LoadContext>,
    scenario: Scenario,
    next: Arc<AtomicU64>,
    total: u64,
    deadline: Instant,
    seed: u64,
) -> WorkerLog {
    let mut rng = StdRng::seed_from_u64(seed);
    let mut log = WorkerLog::default();
    while Instant::now() < deadline && next.fetch_add(1, Ordering::Relaxed) < total {
        let request = context.request(scenario, &mut rng);
        let started = Instant::now();
        let outcome = read_answer(request.send().await).await;
        log.latencies.push(started.elapsed());
        if let Err(error) = outcome {
            log.errors += 1;
            log.first_error.get_or_insert(error);
        }
    }
    log
}

/// Runs `total` requests of `scenario` over `plan.concurrency` workers; returns the merged logs
/// and the wall-clock time.
async fn drive(
    context: &Arc<LoadContext>,
    scenario: Scenario,
    total: u64,
    plan: &Plan,
    seed: u64,
) -> BenchResult<(WorkerLog, Duration)> {
    let next = Arc::new(AtomicU64::new(0));
    let started = Instant::now();
    let deadline = started + plan.time_limit;
    let handles: Vec<_> = (0..plan.concurrency)
        .map(|index| {
            let seed = seed.wrapping_mul(1000) + index;
            tokio::spawn(worker(
                context.clone(),
                scenario,
                next.clone(),
                total,
                deadline,
                seed,
            ))
        })
        .collect();
    let mut merged = WorkerLog::default();
    for handle in handles {
        let log = handle.await?;
        merged.latencies.extend(log.latencies);
        merged.errors += log.errors;
        if merged.first_error.is_none() {
            merged.first_error = log.first_error;
        }
    }
    Ok((merged, started.elapsed()))
}

/// Warms up, then times up to `plan.requests` requests of `scenario`.
pub async fn run_scenario(
    context: &Arc<LoadContext>,
    scenario: Scenario,
    backend: &'static str,
    plan: &Plan,
) -> BenchResult<ScenarioResult> {
    let seed = scenario as u64 + 1;
    if plan.warmup > 0 {
        drive(context, scenario, plan.warmup, plan, seed + 100).await?;
    }
    let (mut log, elapsed) = drive(context, scenario, plan.requests, plan, seed).await?;
    let requests = u64::try_from(log.latencies.len())?;
    if requests < plan.requests {
        eprintln!(
            "patron-bench: {} on {backend}: time limit of {} s reached after {requests} of {} requests",
            scenario.name(),
            plan.time_limit.as_secs(),
            plan.requests
        );
    }
    if let Some(error) = &log.first_error {
        eprintln!(
            "patron-bench: {} on {backend}: {} errors, first: {error}",
            scenario.name(),
            log.errors
        );
    }
    log.latencies.sort_unstable();
    Ok(ScenarioResult {
        scenario,
        backend,
        requests,
        errors: log.errors,
        p50: percentile(&log.latencies, 0.50),
        p99: percentile(&log.latencies, 0.99),
        throughput: requests as f64 / elapsed.as_secs_f64().max(1e-9),
    })
}

/// The nearest-rank percentile `p` (0 to 1) of sorted `values`.
pub fn percentile(sorted: &[Duration], p: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    let rank = (p * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

/// Milliseconds with two decimals.
fn millis(duration: Duration) -> String {
    optional_millis(Some(duration))
}

/// Milliseconds with two decimals, or `–` when there is no figure.
pub fn optional_millis(duration: Option<Duration>) -> String {
    duration.map_or_else(
        || "–".to_owned(),
        |duration| format!("{:.2}", duration.as_secs_f64() * 1000.0),
    )
}

/// The table's header (Markdown).
const HEADER: &str = "| scenario | backend | requests | errors | p50 ms | p99 ms | req/s |\n|---|---|---:|---:|---:|---:|---:|";

/// One Markdown table row.
pub fn row(result: &ScenarioResult) -> String {
    format!(
        "| {} | {} | {} | {} | {} | {} | {:.0} |",
        result.scenario.name(),
        result.backend,
        result.requests,
        result.errors,
        millis(result.p50),
        millis(result.p99),
        result.throughput
    )
}

/// The whole results table (Markdown), grouped by scenario.
pub fn table(results: &[ScenarioResult]) -> String {
    let mut lines = vec![HEADER.to_owned()];
    for scenario in Scenario::ALL {
        lines.extend(
            results
                .iter()
                .filter(|result| result.scenario == scenario)
                .map(row),
        );
    }
    lines.join("\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nearest_rank_percentiles() {
        let values: Vec<Duration> = (1..=100).map(Duration::from_millis).collect();
        assert_eq!(percentile(&values, 0.50), Duration::from_millis(50));
        assert_eq!(percentile(&values, 0.99), Duration::from_millis(99));
        assert_eq!(percentile(&values[..1], 0.99), Duration::from_millis(1));
        assert_eq!(percentile(&[], 0.5), Duration::ZERO);
    }
}
