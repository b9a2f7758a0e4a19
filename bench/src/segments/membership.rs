//! The membership check measurements: `groups::is_member` in process, and the store probe alone.

use super::*;

/// An `AppState` on the database at `url`, assembled as `patron serve` assembles it (with
/// the default configuration and a throwaway key: no secret is read here).
fn app_state(stores: Stores, url: &str) -> BenchResult<AppState> {
    let config = Config {
        database_url: url.to_owned(),
        secret_key: Some(Redacted(SecretBox::generate_key())),
        ..Config::default()
    };
    Ok(App::on_stores(stores, config, Arc::new(SystemClock))?.state)
}

/// Times the membership check in process: the public function, then the store query alone.
pub(super) async fn membership(
    args: &Args,
    backend: &'static str,
    data: &Seeded,
    group: &ObjectId,
) -> BenchResult<Vec<Row>> {
    let limit = Duration::from_secs(args.max_scenario_secs);
    let state = Arc::new(app_state(data.stores.clone(), &data.url)?);
    let customers = Arc::new(data.customers.clone());
    let scores = Arc::new(data.scores.clone());
    let application_id = data.application_id.clone();
    let group = group.clone();
    // Customer of check `n`: a fixed pseudo-random sequence, members and non-members as
    // seeded (about 10% members).
    let pick = {
        let count = customers.len() as u64;
        move |n: u64| -> usize {
            let mixed = n.wrapping_add(1).wrapping_mul(0x9E37_79B9_7F4A_7C15);
            usize::try_from((mixed >> 16) % count).unwrap_or_default()
        }
    };
    let verdict = move |scores: &[u16], index: usize, answer: bool| -> Result<(), String> {
        let expected = scores[index] >= GROUP_THRESHOLD;
        if answer == expected {
            Ok(())
        } else {
            Err(format!(
                "customer {index} (score {}): is_member said {answer}",
                scores[index]
            ))
        }
    };
    let public: Operation = {
        let (state, customers, scores) = (state.clone(), customers.clone(), scores.clone());
        let (application_id, group) = (application_id.clone(), group.clone());
        Arc::new(move |n| {
            let (state, customers, scores) = (state.clone(), customers.clone(), scores.clone());
            let (application_id, group) = (application_id.clone(), group.clone());
            Box::pin(async move {
                let index = pick(n);
                let answer = state
                    .services
                    .groups
                    .is_member(&application_id, &group, &customers[index])
                    .await
                    .map_err(|error| error.to_string())?;
                verdict(&scores, index, answer)
            })
        })
    };
    // The rule compiled once, as `groups::membership` compiles it.
    let definition = data
        .stores
        .attributes
        .find_definition(&data.application_id, &data.definitions[0])
        .await?
        .ok_or("the score definition is gone")?;
    let predicate = Predicate::compile(
        "conditions[0]",
        &definition.spec.rules()?,
        Operator::Gte,
        &json!(GROUP_THRESHOLD),
    )?;
    let compiled = Arc::new(Membership {
        group_id: group.clone(),
        rule: MembershipRule::Conditions(vec![(definition.id.clone(), predicate)]),
        multi_valued: definition.spec.multi_value,
    });
    let store_only: Operation = {
        let (stores, customers, scores) = (data.stores.clone(), customers.clone(), scores.clone());
        let application_id = application_id.clone();
        Arc::new(move |n| {
            let (stores, customers, scores) = (stores.clone(), customers.clone(), scores.clone());
            let (application_id, compiled) = (application_id.clone(), compiled.clone());
            Box::pin(async move {
                let index = pick(n);
                let answer = stores
                    .groups
                    .is_member(&application_id, &compiled, &customers[index])
                    .await
                    .map_err(|error| error.to_string())?;
                verdict(&scores, index, answer)
            })
        })
    };
    let checks = args.membership_checks;
    let members = (0..checks)
        .filter(|n| data.scores[pick(*n)] >= GROUP_THRESHOLD)
        .count();
    let mut rows = Vec::new();
    for (name, operation, target) in [
        ("groups::is_member (in process)", &public, true),
        (
            "GroupStore::is_member alone (rule compiled once)",
            &store_only,
            false,
        ),
    ] {
        drive(
            operation,
            args.warmup.max(100),
            args.concurrency,
            WARMUP_LIMIT,
        )
        .await?;
        let (log, seconds) = drive(operation, checks, args.concurrency, limit).await?;
        warn(name, &log, checks);
        let rate = format!("{:.0} checks/s", log.latencies.len() as f64 / seconds);
        let mut row = latency_row(
            &format!(
                "{name}, {members} of {checks} members, {} tasks",
                args.concurrency
            ),
            backend,
            &log,
            rate,
        );
        if target {
            p99_target(&mut row, Duration::from_millis(2));
        }
        say(&row_line(&row));
        rows.push(row);
    }
    Ok(rows)
}
