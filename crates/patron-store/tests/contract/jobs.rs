//! Background jobs: leases, takeover after a lease lapses, and progress only from the
//! runner holding the lease.

use chrono::Duration;
use patron_domain::ids::ObjectId;
use patron_store::{Checkpoint, Conflict, Job, JobFailure, JobKind, JobStatus, StoreError};

use crate::{each_backend, t0, Fixture};

fn job(f: &Fixture) -> Job {
    Job {
        id: ObjectId::generate(t0()),
        application_id: f.application.clone(),
        company_id: "559".to_owned(),
        kind: JobKind::AttributeUpdate,
        status: JobStatus::Pending,
        payload: "{}".to_owned(),
        file_name: "bulk_update.json".to_owned(),
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
