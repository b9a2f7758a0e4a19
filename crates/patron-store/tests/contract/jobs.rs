//! Background jobs: leases, takeover after a lease lapses, and progress only from the
//! runner holding the lease.

use chrono::Duration;
use patron_domain::ids::ObjectId;
use patron_domain::page::PageRequest;
use patron_store::{
    Checkpoint, Conflict, ImportedCustomer, Job, JobFailure, JobFilter, JobKind, JobOutcome,
    JobStatus, StoreError,
};

use crate::{actor, each_backend, t0, Fixture};

fn job(f: &Fixture) -> Job {
    Job {
        id: ObjectId::generate(t0()),
        application_id: f.application.clone(),
        company_id: "559".to_owned(),
        kind: JobKind::AttributeUpdate,
        status: JobStatus::Pending,
        payload: "{}".to_owned(),
        file_name: "bulk_update.json".to_owned(),
        file_format: String::new(),
        result_file: None,
        created_by: "client".to_owned(),
        cursor: 0,
        total: 1_000,
        succeeded: 0,
        failed: 1,
        error: None,
        created_at: t0(),
        updated_at: t0(),
        finished_at: None,
    }
}

fn checkpoint(job: &Job, owner: &str, from: i64, to: i64, minutes: i64) -> Checkpoint {
    let now = t0() + Duration::minutes(minutes);
    Checkpoint {
        job_id: job.id.clone(),
        owner: owner.to_owned(),
        from,
        to,
        failures: vec![JobFailure {
            row_index: from,
            user_id: "nope".to_owned(),
            error: "bad id".to_owned(),
            reason: "invalid_user_id".to_owned(),
        }],
        row_of: Vec::new(),
        now,
        lease_until: now + Duration::minutes(1),
    }
}

#[tokio::test]
async fn a_lapsed_lease_passes_the_job_on_and_the_old_runner_can_no_longer_progress() {
    each_backend(|f| async move {
        let jobs = &f.stores.jobs;
        let pending = job(&f);
        let refused = JobFailure {
            row_index: -1,
            user_id: "x".into(),
            error: "malformed".into(),
            reason: "malformed_row".into(),
        };
        jobs.create_job(&pending, &[refused]).await.unwrap();
        let lease = Duration::minutes(1);

        let claimed = jobs
            .claim_job("a", t0(), lease)
            .await
            .unwrap()
            .expect("a pending job");
        assert_eq!(
            (claimed.id.clone(), claimed.status),
            (pending.id.clone(), JobStatus::Running)
        );
        assert!(
            jobs.claim_job("b", t0(), lease).await.unwrap().is_none(),
            "leased to a"
        );
        jobs.checkpoint(&checkpoint(&pending, "a", 0, 500, 0))
            .await
            .unwrap();
        let replayed = jobs.checkpoint(&checkpoint(&pending, "a", 0, 500, 0)).await;
        assert!(
            matches!(replayed, Err(StoreError::Conflict(Conflict::Version))),
            "a batch commits once"
        );

        // a stops (crash); after its lease b takes over where a's last batch ended.
        let taken = jobs
            .claim_job("b", t0() + Duration::minutes(2), lease)
            .await
            .unwrap()
            .expect("lease lapsed");
        assert_eq!((taken.cursor, taken.succeeded, taken.failed), (500, 499, 2));
        let stale = jobs
            .checkpoint(&checkpoint(&pending, "a", 500, 1_000, 2))
            .await;
        assert!(
            matches!(stale, Err(StoreError::Conflict(Conflict::Version))),
            "a lost its lease"
        );
        assert!(!jobs
            .finish_job(&pending.id, "a", JobStatus::Done, None, t0())
            .await
            .unwrap());
        jobs.checkpoint(&checkpoint(&pending, "b", 500, 1_000, 2))
            .await
            .unwrap();
        assert!(jobs
            .finish_job(
                &pending.id,
                "b",
                JobStatus::Done,
                None,
                t0() + Duration::minutes(3)
            )
            .await
            .unwrap());

        let done = jobs
            .find_job(&f.application, &pending.id)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(
            (done.status, done.cursor, done.succeeded, done.failed),
            (JobStatus::Done, 1_000, 998, 3)
        );
        let failures = jobs.job_failures(&pending.id, i64::MIN, 10).await.unwrap();
        let rows: Vec<i64> = failures.iter().map(|failure| failure.row_index).collect();
        assert_eq!(rows, vec![-1, 0, 500]);
        let page = jobs.job_failures(&pending.id, -1, 1).await.unwrap();
        assert_eq!(
            page[0].row_index, 0,
            "pages continue after the last row read"
        );
        let summary = jobs.failure_summary(&pending.id).await.unwrap();
        assert_eq!(
            summary,
            vec![
                ("invalid_user_id".to_owned(), 2),
                ("malformed_row".to_owned(), 1)
            ]
        );
        assert!(
            jobs.claim_job("c", t0() + Duration::hours(1), lease)
                .await
                .unwrap()
                .is_none(),
            "done jobs are not claimed"
        );
        assert!(
            jobs.find_job(&ObjectId::generate(t0()), &pending.id)
                .await
                .unwrap()
                .is_none(),
            "other applications do not see it"
        );
    })
    .await;
}

/// A job of `kind` for a file of `format` named `name`, submitted `minutes` after t0.
fn transfer_job(f: &Fixture, kind: JobKind, name: &str, format: &str, minutes: i64) -> Job {
    let at = t0() + Duration::minutes(minutes);
    Job {
        id: ObjectId::generate(at),
        kind,
        file_name: name.to_owned(),
        file_format: format.to_owned(),
        failed: 0,
        created_at: at,
        updated_at: at,
        ..job(f)
    }
}

#[tokio::test]
async fn job_lists_filter_by_kind_format_name_time_and_outcome() {
    each_backend(|f| async move {
        let jobs = &f.stores.jobs;
        let march = transfer_job(&f, JobKind::CustomerImport, "March_Customers.csv", "csv", 1);
        let april = transfer_job(&f, JobKind::CustomerImport, "april.xlsx", "xlsx", 2);
        let export = transfer_job(&f, JobKind::CustomerExport, "export.csv", "csv", 3);
        for job in [&march, &april, &export] {
            jobs.create_job(job, &[]).await.unwrap();
        }
        // march runs to the end with every row applied; april stays pending.
        jobs.claim_job("r", t0() + Duration::minutes(4), Duration::minutes(1))
            .await
            .unwrap();
        let mut done = checkpoint(&march, "r", 0, 1_000, 4);
        done.failures.clear();
        jobs.checkpoint(&done).await.unwrap();
        jobs.finish_job(&march.id, "r", JobStatus::Done, None, t0())
            .await
            .unwrap();

        let list = |filter: JobFilter| {
            let jobs = jobs.clone();
            let application = f.application.clone();
            async move {
                let (items, total) = jobs
                    .list_jobs(
                        &application,
                        JobKind::CustomerImport,
                        &filter,
                        PageRequest::default(),
                    )
                    .await
                    .unwrap();
                let names: Vec<String> = items.into_iter().map(|job| job.file_name).collect();
                (names, total)
            }
        };
        assert_eq!(
            list(JobFilter::default()).await,
            (
                vec!["april.xlsx".to_owned(), "March_Customers.csv".to_owned()],
                2
            ),
            "imports only, newest first"
        );
        let csv = JobFilter {
            file_format: Some("CSV".into()),
            ..JobFilter::default()
        };
        assert_eq!(list(csv).await.1, 1);
        let search = JobFilter {
            search: Some("customers".into()),
            ..JobFilter::default()
        };
        assert_eq!(list(search).await.0, vec!["March_Customers.csv".to_owned()]);
        let wildcard = JobFilter {
            search: Some("%".into()),
            ..JobFilter::default()
        };
        assert_eq!(list(wildcard).await.1, 0, "% is a character, not a pattern");
        let later = JobFilter {
            from: Some(t0() + Duration::seconds(90)),
            ..JobFilter::default()
        };
        assert_eq!(list(later).await.0, vec!["april.xlsx".to_owned()]);
        let earlier = JobFilter {
            to: Some(t0() + Duration::seconds(90)),
            ..JobFilter::default()
        };
        assert_eq!(
            list(earlier).await.0,
            vec!["March_Customers.csv".to_owned()]
        );
        for (outcome, expected) in [
            (JobOutcome::Complete, vec!["March_Customers.csv".to_owned()]),
            (JobOutcome::InProgress, vec!["april.xlsx".to_owned()]),
            (JobOutcome::Partial, vec![]),
            (JobOutcome::Failed, vec![]),
        ] {
            let filter = JobFilter {
                outcome: Some(outcome),
                ..JobFilter::default()
            };
            assert_eq!(list(filter).await.0, expected, "{outcome:?}");
        }
    })
    .await;
}

#[tokio::test]
async fn an_export_ends_with_its_file_and_row_count() {
    each_backend(|f| async move {
        let jobs = &f.stores.jobs;
        let export = transfer_job(&f, JobKind::CustomerExport, "export.csv", "csv", 0);
        jobs.create_job(&export, &[]).await.unwrap();
        jobs.claim_job("r", t0(), Duration::minutes(1))
            .await
            .unwrap();
        assert!(!jobs
            .finish_export(&export.id, "other", "x.csv", 3, t0())
            .await
            .unwrap());
        assert!(jobs
            .finish_export(&export.id, "r", "exports/x.csv", 3, t0())
            .await
            .unwrap());
        let done = jobs
            .find_job(&f.application, &export.id)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(
            (
                done.status,
                done.total,
                done.succeeded,
                done.result_file.as_deref()
            ),
            (JobStatus::Done, 3, 3, Some("exports/x.csv"))
        );
    })
    .await;
}

#[tokio::test]
async fn an_import_batch_lands_its_free_rows_and_reports_taken_contacts() {
    each_backend(|f| async move {
        let jobs = &f.stores.jobs;
        f.stores
            .customers
            .import_customers(
                &[f.new_customer(Some("taken@example.com"), Some("9000000001"))],
                &actor(),
            )
            .await
            .unwrap();
        let import = transfer_job(&f, JobKind::CustomerImport, "in.csv", "csv", 0);
        jobs.create_job(&import, &[]).await.unwrap();
        jobs.claim_job("r", t0(), Duration::minutes(1))
            .await
            .unwrap();
        let row = |index: i64, email: &str, phone: Option<&str>| ImportedCustomer {
            row_index: index,
            line: 0,
            customer: f.new_customer(Some(email), phone),
            password_hash: Some(
                "$2b$04$84We4RugYbRxft8iPfcru.FEu2fWsJxhEBknAO8YN3ZVbhGnbZh2S".into(),
            ),
            values: Vec::new(),
        };
        let rows = vec![
            row(0, "new@example.com", None),
            row(1, "taken@example.com", None),
            row(2, "other@example.com", Some("9000000001")),
            row(3, "NEW@example.com", None),
            row(4, "fine@example.com", Some("9000000002")),
        ];
        let mut progress = checkpoint(&import, "r", 0, 5, 0);
        progress.failures.clear();
        jobs.import_batch(&f.application, &rows, &actor(), &progress)
            .await
            .unwrap();
        let done = jobs
            .find_job(&f.application, &import.id)
            .await
            .unwrap()
            .unwrap();
        assert_eq!((done.cursor, done.succeeded, done.failed), (5, 2, 3));
        let failures = jobs.job_failures(&import.id, i64::MIN, 10).await.unwrap();
        let refused: Vec<(i64, &str)> = failures
            .iter()
            .map(|failure| (failure.row_index, failure.reason.as_str()))
            .collect();
        assert_eq!(
            refused,
            vec![(1, "email_taken"), (2, "phone_taken"), (3, "email_taken")]
        );
        let landed = f
            .stores
            .customers
            .customers_after(&f.application, None, 10)
            .await
            .unwrap();
        assert_eq!(landed.len(), 3);
        let (hashes,): (i64,) = f
            .fetch_one("SELECT COUNT(*) FROM customer_credentials")
            .await;
        assert_eq!(hashes, 2, "the imported rows keep their password hashes");
        let after_first = f
            .stores
            .customers
            .customers_after(&f.application, Some(&landed[0].id), 10)
            .await
            .unwrap();
        let rest: Vec<_> = landed[1..].iter().map(|c| c.id.clone()).collect();
        let read: Vec<_> = after_first.into_iter().map(|c| c.id).collect();
        assert_eq!(read, rest, "keyset pages continue after the id given");
        // The same batch again (a replay after the cursor moved) changes nothing.
        let replay = jobs
            .import_batch(&f.application, &rows, &actor(), &progress)
            .await;
        assert!(matches!(
            replay,
            Err(StoreError::Conflict(Conflict::Version))
        ));
        assert_eq!(
            f.stores
                .customers
                .customers_after(&f.application, None, 10)
                .await
                .unwrap()
                .len(),
            3
        );
    })
    .await;
}

#[tokio::test]
async fn a_group_and_its_member_job_are_written_together_or_not_at_all() {
    each_backend(|f| async move {
        use patron_store::{Group, GroupKind, GroupStatus, MemberChanges, NewJob};
        let group = |name: &str| Group {
            status: GroupStatus::Pending,
            file_url: Some("https://files.example/members.csv".to_owned()),
            ..crate::segments::new_group(&f.application, name, GroupKind::Bulk, Vec::new())
        };
        let refused = JobFailure {
            row_index: -1,
            user_id: "x".to_owned(),
            error: "line 2: not an id".to_owned(),
            reason: "malformed_row".to_owned(),
        };
        let members = NewJob {
            job: Job {
                kind: JobKind::GroupMembers,
                ..job(&f)
            },
            failures: vec![refused],
        };
        let created = f
            .stores
            .groups
            .create_group(&group("Listed"), &MemberChanges::default(), Some(&members))
            .await
            .unwrap();
        let stored = f
            .stores
            .jobs
            .find_job(&f.application, &members.job.id)
            .await
            .unwrap();
        assert_eq!(stored.map(|job| job.kind), Some(JobKind::GroupMembers));
        let failures = f
            .stores
            .jobs
            .job_failures(&members.job.id, i64::MIN, 10)
            .await
            .unwrap();
        assert_eq!(failures.len(), 1, "the refused rows come with it");

        // The same job again cannot be stored: neither is the group it came with, created
        // or updated.
        let orphan = group("Orphan");
        assert!(f
            .stores
            .groups
            .create_group(&orphan, &MemberChanges::default(), Some(&members))
            .await
            .is_err());
        assert_eq!(
            f.stores
                .groups
                .find_group(&f.application, &orphan.id)
                .await
                .unwrap(),
            None
        );
        let renamed = Group {
            name: "Renamed".to_owned(),
            ..created.clone()
        };
        assert!(f
            .stores
            .groups
            .update_group(&renamed, &MemberChanges::default(), Some(&members))
            .await
            .is_err());
        let kept = f
            .stores
            .groups
            .find_group(&f.application, &created.id)
            .await
            .unwrap();
        assert_eq!(kept.map(|group| group.name), Some("Listed".to_owned()));
    })
    .await;
}
