//! `--suite segments`: customer attributes and groups at scale. Seeds customers and one
//! numeric attribute (`score`, uniform in 0..1000) through the store layer, creates ten
//! attribute definitions and a conditional group (`score gte 900`, about 10% of the
//! customers) through the platform API, then measures:
//!
//! - the first page of the group's members over HTTP (`GET …/user_group/{id}/users`, which
//!   includes the member count), at `--concurrency` and at concurrency 1;
//! - the membership check, in process: `services.groups.is_member` on an `AppState`
//!   built like `patron serve` builds it, and the store's `GroupStore::is_member` alone with
//!   the rule compiled once (what the group and definition loads cost);
//! - bulk attribute updates over HTTP: synchronous `PUT …/bulk_update/per_user` and
//!   `PUT …/bulk_update` requests of `--bulk-users` customers with `--bulk-attributes`
//!   attributes each from `--bulk-concurrency` workers, and one asynchronous job of
//!   `--job-users` customers timed from submission until its state reads `complete`.
//!
//! Every answer is checked: the member count equals the seeded one, each membership answer
//! equals `score >= 900` for that customer, every bulk row is processed.

use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use patron_domain::attribute::IndexEntry;
use patron_domain::ids::ObjectId;
use patron_domain::segment::{Operator, Predicate};
use patron_server::config::Redacted;
use patron_server::{App, AppState, Config};
use patron_service::secrets::SecretBox;
use patron_service::{Clock, SystemClock};
use patron_store::{Actor, CustomerValues, Membership, MembershipRule, Stores, ValueWrite};
use rand::rngs::StdRng;
use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};
use reqwest::header::{AUTHORIZATION, CONTENT_TYPE};
use reqwest::{Client, RequestBuilder};
use serde_json::{json, Value};

use crate::database::BenchDatabase;

mod bulk;
mod membership;

use crate::load::{access_token, optional_millis, percentile};
use crate::server::{CreatedClient, PatronBin, Server, COMPANY};
use crate::{say, Args, BenchResult};
use bulk::bulk_updates;
use membership::membership;

/// The ten attribute definitions: slug and type. `score` comes first: it is seeded on every
/// customer and the group's condition reads it; the bulk updates write the others.
const DEFINITIONS: [(&str, &str); 10] = [
    ("score", "number"),
    ("lifetime_value", "number"),
    ("orders", "number"),
    ("tier", "string"),
    ("vip", "boolean"),
    ("last_order", "date"),
    ("city", "string"),
    ("interests", "string_array"),
    ("sizes", "number_array"),
    ("signed_up_at", "date_time"),
];
/// Scores are uniform in `0..SCORE_RANGE`.
const SCORE_RANGE: u16 = 1000;
/// The group's condition: `score gte GROUP_THRESHOLD` (10% of the customers).
const GROUP_THRESHOLD: u16 = 900;
/// Customers per `bulk_upsert_values` call while seeding scores (one transaction each).
const SEED_VALUE_BATCH: usize = 500;
/// Scores seeded before the statistics are first refreshed.
const EARLY_ANALYZE_AFTER: usize = 10_000;
/// `PATRON_MAX_BODY_BYTES` for this suite's server: a 100,000-customer job names every
/// customer id in its body (about 2.7 MB), more than the 1 MiB default.
const BODY_LIMIT: &str = "67108864";
/// How often the job's state is read.
const JOB_POLL: Duration = Duration::from_millis(200);
/// Longest wait for the asynchronous job.
const JOB_LIMIT: Duration = Duration::from_secs(1800);
/// Untimed warm-up of the group page is cut short after this long.
const WARMUP_LIMIT: Duration = Duration::from_secs(15);
/// Most group pages timed at concurrency 1 (a diagnostic row).
const SERIAL_PAGES: u64 = 200;
/// Cities, tiers and interests the bulk updates draw from.
const CITIES: [&str; 6] = ["Mumbai", "Delhi", "Bengaluru", "Pune", "Chennai", "Kolkata"];
const TIERS: [&str; 4] = ["bronze", "silver", "gold", "platinum"];
const INTERESTS: [&str; 6] = ["shoes", "watches", "books", "toys", "beauty", "sports"];

/// One row of the segments table.
#[derive(Debug, Clone)]
pub struct Row {
    /// What was measured.
    pub name: String,
    /// `sqlite` or `postgres`.
    pub backend: &'static str,
    /// Operations (requests, checks) timed.
    pub count: u64,
    /// Failed or wrong answers.
    pub errors: u64,
    /// Median latency of one operation.
    pub p50: Option<Duration>,
    /// 99th percentile latency.
    pub p99: Option<Duration>,
    /// The throughput, e.g. `23,456 values/s`.
    pub rate: String,
    /// The target, e.g. `p99 < 50 ms`.
    pub target: String,
    /// `yes`, `NO` or empty.
    pub met: String,
}

/// Runs the suite on a fresh database of each chosen backend and prints the table.
pub async fn run(args: &Args, patron: &mut PatronBin) -> BenchResult<()> {
    check_args(args)?;
    if args.reuse_database.is_some() {
        return Err("--suite segments always seeds a fresh database".into());
    }
    patron
        .env
        .push(("PATRON_MAX_BODY_BYTES".to_owned(), BODY_LIMIT.to_owned()));
    let mut rows = Vec::new();
    for backend in args.backend.list() {
        let database = BenchDatabase::create(*backend, &args.postgres_url)?;
        say(&format!(
            "\n== {} ({}) ==",
            database.name(),
            database.display_location()
        ));
        let outcome = bench_fresh(args, patron, &database).await;
        database.finish(args.keep);
        rows.extend(outcome?);
    }
    say("");
    say(&format!(
        "Results: {} customers, 10 attribute definitions, group `score gte {GROUP_THRESHOLD}`; \
         {} group pages from {} workers; {} membership checks from {} tasks; \
         {} bulk requests of {} customers x {} attributes from {} workers; job of {} customers",
        args.customers,
        args.requests,
        args.concurrency,
        args.membership_checks,
        args.concurrency,
        args.bulk_requests,
        args.bulk_users,
        args.bulk_attributes,
        args.bulk_concurrency,
        job_users(args),
    ));
    say(&table(&rows));
    Ok(())
}

/// Refuses counts the suite cannot run with.
fn check_args(args: &Args) -> BenchResult<()> {
    if args.customers == 0
        || args.requests == 0
        || args.concurrency == 0
        || args.batch == 0
        || args.membership_checks == 0
        || args.bulk_requests == 0
        || args.bulk_concurrency == 0
        || args.bulk_users == 0
    {
        return Err("the segments suite's counts must be positive".into());
    }
    if args.customers >= 100_000_000 {
        return Err("--customers must stay below 100,000,000".into());
    }
    if args.bulk_users > args.customers {
        return Err("--bulk-users cannot exceed --customers".into());
    }
    if !(1..DEFINITIONS.len()).contains(&args.bulk_attributes) {
        return Err(format!(
            "--bulk-attributes must be between 1 and {}",
            DEFINITIONS.len() - 1
        )
        .into());
    }
    Ok(())
}

/// Customers in the asynchronous job (none when `--job-users` is 0).
fn job_users(args: &Args) -> u64 {
    args.job_users.min(args.customers)
}

/// Seeds, serves and measures one fresh database.
async fn bench_fresh(
    args: &Args,
    patron: &PatronBin,
    database: &BenchDatabase,
) -> BenchResult<Vec<Row>> {
    let url = database.url();
    let backend = database.name();
    patron.migrate(url)?;
    let app = patron.create_app(url)?;
    let client = patron.create_client(url)?;
    let application_id = ObjectId::parse("application_id", &app.application_id)?;
    say(&format!("application {application_id} created"));
    let stores = patron_store::connect(url).await?;
    let customers = seed_customers(&stores, &application_id, args.customers, args.batch).await?;

    // The definitions go through the API; the server is then stopped so that the scores
    // are seeded and the statistics refreshed before anything is measured.
    let http = Client::builder()
        .pool_max_idle_per_host(usize::try_from(
            args.concurrency.max(args.bulk_concurrency),
        )?)
        .build()?;
    let server = Server::start(patron, url)?;
    let created = async {
        let api = Api::connect(&http, &server, &application_id, &client).await?;
        api.create_definitions().await
    }
    .await;
    server.stop().await;
    let definitions = created?;
    say("10 attribute definitions created over HTTP");

    let mut rng = StdRng::seed_from_u64(7);
    let scores: Vec<u16> = (0..customers.len())
        .map(|_| rng.gen_range(0..SCORE_RANGE))
        .collect();
    // PostgreSQL plans the store's re-index `DELETE … WHERE definition_id = $1 AND
    // customer_id IN (…)` from statistics; with none (the benchmark server runs without
    // autovacuum) it reads every index row of the definition per statement, and seeding
    // slows to under 100 values/s. Statistics are refreshed once after the first scores,
    // as autovacuum's first pass would (docs/benchmarks.md, "Attributes and groups").
    let first = customers.len().min(EARLY_ANALYZE_AFTER);
    let score = &definitions[0];
    seed_scores(
        &stores,
        &application_id,
        score,
        &customers[..first],
        &scores[..first],
    )
    .await?;
    database.analyze()?;
    seed_scores(
        &stores,
        &application_id,
        score,
        &customers[first..],
        &scores[first..],
    )
    .await?;
    let started = Instant::now();
    match database.analyze()? {
        true => say(&format!(
            "{} done in {:.1} s",
            database.analyze_command(),
            started.elapsed().as_secs_f64()
        )),
        false => say("ANALYZE skipped: the sqlite3 CLI is not installed"),
    }

    let server = Server::start(patron, url)?;
    say(&format!("serving at {}", server.base_url));
    let data = Seeded {
        application_id,
        customers,
        scores,
        definitions,
        stores,
        url: url.to_owned(),
    };
    let outcome = measure(args, &http, &server, backend, &client, &data).await;
    server.stop().await;
    outcome
}

/// What the seeding produced.
struct Seeded {
    application_id: ObjectId,
    /// Customer ids in seeding order.
    customers: Vec<ObjectId>,
    /// Each customer's score, by the same index.
    scores: Vec<u16>,
    /// Definition ids in [`DEFINITIONS`] order.
    definitions: Vec<ObjectId>,
    /// The benchmark's own connection to the database.
    stores: Stores,
    url: String,
}

impl Seeded {
    /// Customers whose score puts them in the group.
    fn members(&self) -> u64 {
        self.scores
            .iter()
            .filter(|score| **score >= GROUP_THRESHOLD)
            .count() as u64
    }
}

/// Inserts customers `0..count` (like `seed::seed`) and returns their ids.
async fn seed_customers(
    stores: &Stores,
    application_id: &ObjectId,
    count: u64,
    batch: usize,
) -> BenchResult<Vec<ObjectId>> {
    let actor = Actor::new("bench");
    let started = Instant::now();
    let report_every = (count / 10).max(1);
    let mut next_report = report_every;
    let mut ids = Vec::with_capacity(usize::try_from(count)?);
    let mut index = 0u64;
    let mut customers = Vec::with_capacity(batch);
    while index < count {
        let now = SystemClock.now();
        let end = count.min(index + u64::try_from(batch)?);
        customers.clear();
        for i in index..end {
            customers.push(crate::seed::customer(application_id, i, now)?);
        }
        stores
            .customers
            .import_customers(&customers, &actor)
            .await?;
        ids.extend(customers.iter().map(|customer| customer.id.clone()));
        index = end;
        if index >= next_report || index == count {
            let seconds = started.elapsed().as_secs_f64();
            say(&format!(
                "  seeded {index:>9} / {count} customers, {seconds:.1} s, {:.0} customers/s",
                index as f64 / seconds.max(1e-9)
            ));
            while next_report <= index {
                next_report += report_every;
            }
        }
    }
    Ok(ids)
}

/// Writes every customer's `score` through the store, [`SEED_VALUE_BATCH`] customers per
/// transaction.
async fn seed_scores(
    stores: &Stores,
    application_id: &ObjectId,
    definition: &ObjectId,
    customers: &[ObjectId],
    scores: &[u16],
) -> BenchResult<()> {
    let actor = Actor::new("bench");
    let started = Instant::now();
    let total = customers.len();
    let report_every = (total / 5).max(1);
    let mut next_report = report_every;
    let mut done = 0;
    for (ids, scores) in customers
        .chunks(SEED_VALUE_BATCH)
        .zip(scores.chunks(SEED_VALUE_BATCH))
    {
        let batch: Vec<CustomerValues> = ids
            .iter()
            .zip(scores)
            .map(|(id, score)| CustomerValues {
                customer_id: id.clone(),
                values: vec![ValueWrite {
                    definition_id: definition.clone(),
                    stored: score.to_string(),
                    index: vec![IndexEntry::Number(f64::from(*score))],
                    customer_overridden: false,
                }],
            })
            .collect();
        let refused = stores
            .attributes
            .bulk_upsert_values(application_id, &batch, &actor, SystemClock.now(), None)
            .await?;
        if !refused.is_empty() {
            return Err(format!("seeding scores: {} customers refused", refused.len()).into());
        }
        done += ids.len();
        if done >= next_report || done == total {
            let seconds = started.elapsed().as_secs_f64();
            say(&format!(
                "  scores {done:>9} / {total} through the store, {seconds:.1} s, {:.0} values/s",
                done as f64 / seconds.max(1e-9)
            ));
            while next_report <= done {
                next_report += report_every;
            }
        }
    }
    Ok(())
}

/// The platform API of one application, with a token.
#[derive(Debug, Clone)]
struct Api {
    http: Client,
    /// `http://host:port/service/platform/user/v1.0/company/559/application/<id>`.
    prefix: String,
    /// `Bearer <token>`.
    authorization: String,
}

impl Api {
    async fn connect(
        http: &Client,
        server: &Server,
        application_id: &ObjectId,
        client: &CreatedClient,
    ) -> BenchResult<Self> {
        let token = access_token(http, &server.base_url, client).await?;
        Ok(Self {
            http: http.clone(),
            prefix: format!(
                "{}/service/platform/user/v1.0/company/{COMPANY}/application/{application_id}",
                server.base_url
            ),
            authorization: format!("Bearer {token}"),
        })
    }

    fn get(&self, path: &str) -> RequestBuilder {
        self.http
            .get(format!("{}{path}", self.prefix))
            .header(AUTHORIZATION, &self.authorization)
    }

    fn post(&self, path: &str, body: &Value) -> RequestBuilder {
        self.http
            .post(format!("{}{path}", self.prefix))
            .header(AUTHORIZATION, &self.authorization)
            .json(body)
    }

    /// `PUT` with a body already encoded as JSON.
    fn put_json(&self, path: &str, body: String) -> RequestBuilder {
        self.http
            .put(format!("{}{path}", self.prefix))
            .header(AUTHORIZATION, &self.authorization)
            .header(CONTENT_TYPE, "application/json")
            .body(body)
    }

    /// Creates [`DEFINITIONS`] and returns their ids in that order.
    async fn create_definitions(&self) -> BenchResult<Vec<ObjectId>> {
        let mut ids = Vec::with_capacity(DEFINITIONS.len());
        for (slug, kind) in DEFINITIONS {
            let body = json!({ "name": slug.replace('_', " "), "slug": slug, "type": kind });
            let created = send_json(self.post("/user_attribute/definition", &body)).await?;
            ids.push(id_field(&created, "attribute definition")?);
        }
        Ok(ids)
    }
}

/// Sends `request` and returns the JSON body, failing on a non-2xx status.
async fn send_json(request: RequestBuilder) -> Result<Value, String> {
    let response = request.send().await.map_err(|error| error.to_string())?;
    let status = response.status();
    let body = response.text().await.map_err(|error| error.to_string())?;
    if !status.is_success() {
        return Err(format!("HTTP {status}: {}", clip(&body)));
    }
    serde_json::from_str(&body).map_err(|error| format!("{error}: {body}"))
}

/// The first 300 characters of `text`, for error messages.
fn clip(text: &str) -> String {
    text.chars().take(300).collect()
}

/// The `_id` of a created resource.
fn id_field(body: &Value, what: &str) -> BenchResult<ObjectId> {
    let id = body
        .get("_id")
        .and_then(Value::as_str)
        .ok_or_else(|| format!("the created {what} has no _id: {body}"))?;
    Ok(ObjectId::parse("_id", id)?)
}

/// A boxed future (the timed operations are closures returning one).
type BoxFuture<T> = Pin<Box<dyn Future<Output = T> + Send>>;
/// The `n`-th timed operation: `Ok` or why it failed.
type Operation = Arc<dyn Fn(u64) -> BoxFuture<Result<(), String>> + Send + Sync>;

/// What a load saw.
#[derive(Debug, Default)]
struct Log {
    latencies: Vec<Duration>,
    errors: u64,
    first_error: Option<String>,
}

/// Runs operations `0..total` over `concurrency` workers until done or until `limit`
/// passes; returns the log (latencies sorted) and the wall-clock seconds.
async fn drive(
    operation: &Operation,
    total: u64,
    concurrency: u64,
    limit: Duration,
) -> BenchResult<(Log, f64)> {
    let next = Arc::new(AtomicU64::new(0));
    let started = Instant::now();
    let deadline = started + limit;
    let handles: Vec<_> = (0..concurrency)
        .map(|_| {
            let operation = operation.clone();
            let next = next.clone();
            tokio::spawn(async move {
                let mut log = Log::default();
                while Instant::now() < deadline {
                    let n = next.fetch_add(1, Ordering::Relaxed);
                    if n >= total {
                        break;
                    }
                    let begun = Instant::now();
                    let outcome = operation(n).await;
                    log.latencies.push(begun.elapsed());
                    if let Err(error) = outcome {
                        log.errors += 1;
                        log.first_error.get_or_insert(error);
                    }
                }
                log
            })
        })
        .collect();
    let mut merged = Log::default();
    for handle in handles {
        let log = handle.await?;
        merged.latencies.extend(log.latencies);
        merged.errors += log.errors;
        if merged.first_error.is_none() {
            merged.first_error = log.first_error;
        }
    }
    merged.latencies.sort_unstable();
    Ok((merged, started.elapsed().as_secs_f64().max(1e-9)))
}

/// Reports errors and short runs on stderr.
fn warn(name: &str, log: &Log, wanted: u64) {
    let done = log.latencies.len() as u64;
    if done < wanted {
        eprintln!("patron-bench: {name}: time limit reached after {done} of {wanted}");
    }
    if let Some(error) = &log.first_error {
        eprintln!(
            "patron-bench: {name}: {} errors, first: {error}",
            log.errors
        );
    }
}

fn yes_no(met: bool) -> String {
    if met { "yes" } else { "NO" }.to_owned()
}

/// A latency row.
fn latency_row(name: &str, backend: &'static str, log: &Log, rate: String) -> Row {
    Row {
        name: name.to_owned(),
        backend,
        count: log.latencies.len() as u64,
        errors: log.errors,
        p50: Some(percentile(&log.latencies, 0.50)),
        p99: Some(percentile(&log.latencies, 0.99)),
        rate,
        target: String::new(),
        met: String::new(),
    }
}

/// Sets a p99 target on `row`.
fn p99_target(row: &mut Row, limit: Duration) {
    row.target = format!("p99 < {} ms", limit.as_millis());
    row.met = yes_no(row.p99.is_some_and(|p99| p99 < limit) && row.errors == 0);
}

/// Creates the group, then times its first page, the membership check and the bulk updates.
async fn measure(
    args: &Args,
    http: &Client,
    server: &Server,
    backend: &'static str,
    client: &CreatedClient,
    data: &Seeded,
) -> BenchResult<Vec<Row>> {
    let api = Api::connect(http, server, &data.application_id, client).await?;
    let limit = Duration::from_secs(args.max_scenario_secs);
    let body = json!({
        "name": "High scores",
        "description": format!("score gte {GROUP_THRESHOLD}"),
        "conditions": [{
            "user_attribute_definition_id": data.definitions[0].as_str(),
            "type": "gte",
            "value": GROUP_THRESHOLD,
        }],
    });
    let group = id_field(&send_json(api.post("/user_group", &body)).await?, "group")?;
    let members = data.members();
    say(&format!(
        "group {group} created: score gte {GROUP_THRESHOLD}, {members} members expected"
    ));
    let mut rows = Vec::new();

    // The first page of members, with the count.
    let page: Operation = {
        let api = api.clone();
        let path = format!("/user_group/{group}/users");
        Arc::new(move |_| {
            let request = api
                .get(&path)
                .query(&[("page_no", "1"), ("page_size", "10")]);
            Box::pin(async move {
                let body = send_json(request).await?;
                check_page(&body, members)
            })
        })
    };
    let started = Instant::now();
    page(0).await?;
    say(&format!(
        "first group page (cold) in {:.1} ms, item_total {members} as seeded",
        started.elapsed().as_secs_f64() * 1000.0
    ));
    drive(
        &page,
        args.warmup,
        args.concurrency,
        WARMUP_LIMIT.min(limit),
    )
    .await?;
    let (log, seconds) = drive(&page, args.requests, args.concurrency, limit).await?;
    warn("group page", &log, args.requests);
    let rate = format!("{:.1} req/s", log.latencies.len() as f64 / seconds);
    let mut row = latency_row(
        &format!(
            "group first page + count ({members} members, {} workers)",
            args.concurrency
        ),
        backend,
        &log,
        rate,
    );
    p99_target(&mut row, Duration::from_millis(50));
    say(&row_line(&row));
    rows.push(row);
    let serial = args.requests.min(SERIAL_PAGES);
    let (log, seconds) = drive(&page, serial, 1, limit).await?;
    warn("group page, 1 worker", &log, serial);
    let rate = format!("{:.1} req/s", log.latencies.len() as f64 / seconds);
    let row = latency_row("group first page + count (1 worker)", backend, &log, rate);
    say(&row_line(&row));
    rows.push(row);

    rows.extend(membership(args, backend, data, &group).await?);
    rows.extend(bulk_updates(args, &api, backend, data).await?);
    Ok(rows)
}

/// Checks a first page: the seeded member count and a full page.
fn check_page(body: &Value, members: u64) -> Result<(), String> {
    let total = body.pointer("/page/item_total").and_then(Value::as_u64);
    let items = body.get("items").and_then(Value::as_array).map(Vec::len);
    let expected_items = usize::try_from(members.min(10)).unwrap_or(10);
    if total == Some(members) && items == Some(expected_items) {
        Ok(())
    } else {
        Err(format!(
            "group page: expected item_total {members} and {expected_items} items, got {total:?} and {items:?}"
        ))
    }
}

/// One Markdown table row.
pub fn row_line(row: &Row) -> String {
    format!(
        "| {} | {} | {} | {} | {} | {} | {} | {} | {} |",
        row.name,
        row.backend,
        row.count,
        row.errors,
        optional_millis(row.p50),
        optional_millis(row.p99),
        row.rate,
        row.target,
        row.met
    )
}

/// The whole table (Markdown).
pub fn table(rows: &[Row]) -> String {
    let mut lines = vec![
        "| measurement | backend | count | errors | p50 ms | p99 ms | rate | target | met |"
            .to_owned(),
        "|---|---|---:|---:|---:|---:|---:|---|---|".to_owned(),
    ];
    lines.extend(rows.iter().map(row_line));
    lines.join("\n")
}

#[cfg(test)]
mod tests {
    use super::bulk::value_of;
    use super::*;

    #[test]
    fn generated_values_fit_their_definitions() {
        let mut rng = StdRng::seed_from_u64(1);
        for (slug, kind) in DEFINITIONS {
            let spec =
                patron_domain::attribute::AttributeType::parse("type", kind).expect("a known type");
            let value = value_of(slug, &mut rng);
            assert_eq!(value.is_array(), spec.is_array(), "{slug}: {value}");
        }
    }

    #[test]
    fn pages_are_checked_against_the_seeded_count() {
        let page =
            json!({ "items": [1, 2, 3, 4, 5, 6, 7, 8, 9, 10], "page": { "item_total": 42 } });
        assert!(check_page(&page, 42).is_ok());
        assert!(check_page(&page, 41).is_err());
        let small = json!({ "items": [1, 2], "page": { "item_total": 2 } });
        assert!(check_page(&small, 2).is_ok());
    }
}
