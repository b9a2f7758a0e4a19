//! The bulk update measurements: synchronous requests of each kind, and one job.

use super::*;

/// One bulk update's value of attribute `slug` for a customer.
pub(super) fn value_of(slug: &str, rng: &mut StdRng) -> Value {
    match slug {
        "lifetime_value" => json!(f64::from(rng.gen_range(0..10_000_000u32)) / 100.0),
        "orders" => json!(rng.gen_range(0..500)),
        "tier" => json!(TIERS[rng.gen_range(0..TIERS.len())]),
        "vip" => json!(rng.gen_bool(0.1)),
        "last_order" => json!(format!(
            "2025-{:02}-{:02}",
            rng.gen_range(1..=12),
            rng.gen_range(1..=28)
        )),
        "city" => json!(CITIES[rng.gen_range(0..CITIES.len())]),
        "interests" => {
            let picked: Vec<&str> = INTERESTS.choose_multiple(rng, 2).copied().collect();
            json!(picked)
        }
        "sizes" => json!([rng.gen_range(36..46), rng.gen_range(36..46)]),
        "signed_up_at" => json!(format!(
            "2024-{:02}-{:02}T{:02}:{:02}:00.000Z",
            rng.gen_range(1..=12),
            rng.gen_range(1..=28),
            rng.gen_range(0..24),
            rng.gen_range(0..60)
        )),
        _ => json!(rng.gen_range(0..SCORE_RANGE)),
    }
}

/// Request bodies prepared before timing, so the load generator only sends them.
struct Bodies {
    per_user: Vec<String>,
    same: Vec<String>,
    /// The last customer of the last request of each kind, with the value its last
    /// attribute was given, to read back after that kind's load.
    probes: [(ObjectId, Value); 2],
}

/// Builds the bodies: request `r` of each kind names customers `order[r * users ..]`
/// (a shuffled order, wrapping around), every customer in at most one request per kind
/// unless there are too few customers.
fn bodies(args: &Args, data: &Seeded, order: &[usize]) -> BenchResult<Bodies> {
    let slugs: Vec<&str> = DEFINITIONS[1..=args.bulk_attributes]
        .iter()
        .map(|(slug, _)| *slug)
        .collect();
    let users = usize::try_from(args.bulk_users)?;
    let requests = usize::try_from(args.bulk_requests)?;
    let mut rng = StdRng::seed_from_u64(11);
    let customer = |position: usize| &data.customers[order[position % order.len()]];
    let mut per_user = Vec::with_capacity(requests);
    let mut probe = None;
    for request in 0..requests {
        let rows: Vec<Value> = (0..users)
            .map(|row| {
                let id = customer(request * users + row);
                let attributes: Vec<Value> = slugs
                    .iter()
                    .map(|slug| json!({ "key": slug, "value": value_of(slug, &mut rng) }))
                    .collect();
                if request + 1 == requests && row + 1 == users {
                    probe = attributes
                        .last()
                        .map(|pair| (id.clone(), pair["value"].clone()));
                }
                json!({ "user_id": id.as_str(), "attributes": attributes })
            })
            .collect();
        per_user.push(json!({ "user_detail_attributes": rows }).to_string());
    }
    // The same-value requests take the customers after those of the per-user ones.
    let offset = requests * users;
    let mut same_probe = None;
    let same = (0..requests)
        .map(|request| {
            let ids: Vec<&str> = (0..users)
                .map(|row| customer(offset + request * users + row).as_str())
                .collect();
            let attributes: Vec<Value> = slugs
                .iter()
                .map(|slug| json!({ "key": slug, "value": value_of(slug, &mut rng) }))
                .collect();
            if let (Some(last), Some(pair)) = (ids.last(), attributes.last()) {
                same_probe = Some((
                    ObjectId::from_trusted((*last).to_owned()),
                    pair["value"].clone(),
                ));
            }
            json!({ "users": ids, "attribute": attributes }).to_string()
        })
        .collect();
    Ok(Bodies {
        per_user,
        same,
        probes: [
            probe.ok_or("no bulk rows")?,
            same_probe.ok_or("no bulk rows")?,
        ],
    })
}

/// Checks a synchronous bulk answer: every row processed.
fn check_bulk(body: &Value, users: u64) -> Result<(), String> {
    let processed = body.get("processed").and_then(Value::as_u64);
    let errors = body.get("errors_count").and_then(Value::as_u64);
    let kind = body.get("processing_type").and_then(Value::as_str);
    if processed == Some(users) && errors == Some(0) && kind == Some("synchronous") {
        Ok(())
    } else {
        Err(format!(
            "bulk update: expected {users} rows processed synchronously, got {}",
            clip(&body.to_string())
        ))
    }
}

/// Times the synchronous bulk updates and the asynchronous job.
pub(super) async fn bulk_updates(
    args: &Args,
    api: &Api,
    backend: &'static str,
    data: &Seeded,
) -> BenchResult<Vec<Row>> {
    let limit = Duration::from_secs(args.max_scenario_secs);
    let mut order: Vec<usize> = (0..data.customers.len()).collect();
    order.shuffle(&mut StdRng::seed_from_u64(5));
    let prepared = bodies(args, data, &order)?;
    let values_per_request = args.bulk_users * u64::try_from(args.bulk_attributes)?;
    let mut rows = Vec::new();
    for (name, path, bodies, probe) in [
        (
            "PUT bulk_update/per_user",
            "/user_attribute/bulk_update/per_user",
            &prepared.per_user,
            &prepared.probes[0],
        ),
        (
            "PUT bulk_update (same values)",
            "/user_attribute/bulk_update",
            &prepared.same,
            &prepared.probes[1],
        ),
    ] {
        let operation: Operation = {
            let api = api.clone();
            let bodies = Arc::new(bodies.clone());
            let users = args.bulk_users;
            Arc::new(move |n| {
                let index = usize::try_from(n).unwrap_or_default() % bodies.len();
                let request = api.put_json(path, bodies[index].clone());
                Box::pin(async move { check_bulk(&send_json(request).await?, users) })
            })
        };
        let (log, seconds) =
            drive(&operation, args.bulk_requests, args.bulk_concurrency, limit).await?;
        warn(name, &log, args.bulk_requests);
        let written = (log.latencies.len() as u64 - log.errors) * values_per_request;
        let per_second = written as f64 / seconds;
        let mut row = latency_row(
            &format!(
                "{name}: {} customers x {} attributes, {} workers",
                args.bulk_users, args.bulk_attributes, args.bulk_concurrency
            ),
            backend,
            &log,
            format!("{per_second:.0} values/s"),
        );
        throughput_target(&mut row, per_second, log.errors);
        say(&row_line(&row));
        rows.push(row);
        // Read one written value back through the API.
        let (customer, expected) = probe;
        let definition = &data.definitions[args.bulk_attributes];
        let stored = send_json(api.get(&format!(
            "/user_attribute/definition/{definition}/user/{customer}"
        )))
        .await?;
        if stored.pointer("/attribute/value") != Some(expected) {
            return Err(format!("{name}: expected {expected} read back, got {stored}").into());
        }
    }

    let job_users = job_users(args);
    if job_users > 0 {
        rows.push(job(args, api, backend, data, &order, job_users).await?);
    }
    Ok(rows)
}

/// The throughput target (on PostgreSQL).
fn throughput_target(row: &mut Row, per_second: f64, errors: u64) {
    row.target = "≥ 20,000 values/s on PostgreSQL".to_owned();
    row.met = if row.backend == "postgres" {
        yes_no(per_second >= 20_000.0 && errors == 0)
    } else {
        "–".to_owned()
    };
}

/// Submits one asynchronous bulk update of `users` customers and times it until its state
/// reads `complete`.
async fn job(
    args: &Args,
    api: &Api,
    backend: &'static str,
    data: &Seeded,
    order: &[usize],
    users: u64,
) -> BenchResult<Row> {
    let slugs = &DEFINITIONS[1..=args.bulk_attributes];
    let mut rng = StdRng::seed_from_u64(13);
    let attributes: Vec<Value> = slugs
        .iter()
        .map(|(slug, _)| json!({ "key": slug, "value": value_of(slug, &mut rng) }))
        .collect();
    // The customers the synchronous requests did not touch first.
    let skip = usize::try_from(args.bulk_requests * args.bulk_users * 2)?;
    let ids: Vec<&str> = (0..usize::try_from(users)?)
        .map(|position| data.customers[order[(skip + position) % order.len()]].as_str())
        .collect();
    let body = json!({ "users": ids, "attribute": attributes }).to_string();
    say(&format!(
        "submitting a job of {users} customers x {} attributes ({:.1} MB)",
        args.bulk_attributes,
        body.len() as f64 / 1e6
    ));
    let started = Instant::now();
    let answer = send_json(api.put_json("/user_attribute/bulk_update", body)).await?;
    let submitted = started.elapsed();
    let job_id = answer
        .get("job_id")
        .and_then(Value::as_str)
        .ok_or_else(|| format!("the bulk update was not made a job: {answer}"))?
        .to_owned();
    let state = loop {
        let state = send_json(api.get(&format!("/users/jobs/{job_id}"))).await?;
        if state.get("status").and_then(Value::as_str) != Some("inprogress") {
            break state;
        }
        if started.elapsed() > JOB_LIMIT {
            return Err(format!("job {job_id} still in progress after {JOB_LIMIT:?}").into());
        }
        tokio::time::sleep(JOB_POLL).await;
    };
    let seconds = started.elapsed().as_secs_f64();
    let success = state.pointer("/count/success").and_then(Value::as_u64);
    let complete = state.get("status").and_then(Value::as_str) == Some("complete");
    let errors = if complete && success == Some(users) {
        0
    } else {
        eprintln!("patron-bench: job {job_id} ended as {state}");
        1
    };
    let values = users * u64::try_from(args.bulk_attributes)?;
    let per_second = values as f64 / seconds;
    say(&format!(
        "job {job_id}: accepted in {:.0} ms, {} in {seconds:.1} s",
        submitted.as_secs_f64() * 1000.0,
        state["status"]
    ));
    let mut row = Row {
        name: format!(
            "async job: {users} customers x {} attributes, submit to complete",
            args.bulk_attributes
        ),
        backend,
        count: 1,
        errors,
        p50: None,
        p99: None,
        rate: format!("{per_second:.0} values/s ({seconds:.1} s)"),
        target: String::new(),
        met: String::new(),
    };
    throughput_target(&mut row, per_second, errors);
    say(&row_line(&row));
    Ok(row)
}
