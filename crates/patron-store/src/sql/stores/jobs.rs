//! Background jobs: creation, leasing (`FOR UPDATE SKIP LOCKED` on PostgreSQL), progress
//! and failures.

use super::prelude::*;

use crate::jobs::{Checkpoint, Job, JobFailure, JobKind, JobStatus};
use crate::JobStore;

const JOB_COLUMNS: &str =
    "id, application_id, company_id, kind, status, payload, file_name, created_by, cursor, total, \
     succeeded, failed, error, created_at, updated_at, finished_at";

#[derive(sqlx::FromRow)]
struct JobRow {
    id: String,
    application_id: String,
    company_id: String,
    kind: String,
    status: String,
    payload: String,
    file_name: String,
    created_by: String,
    cursor: i64,
    total: i64,
    succeeded: i64,
    failed: i64,
    error: Option<String>,
    created_at: i64,
    updated_at: i64,
    finished_at: Option<i64>,
}

impl TryFrom<JobRow> for Job {
    type Error = StoreError;

    fn try_from(row: JobRow) -> Result<Self, StoreError> {
        let status = JobStatus::parse(&row.status).ok_or_else(|| {
            StoreError::corrupt("jobs", &row.id, format!("status '{}'", row.status))
        })?;
        let kind = JobKind::parse(&row.kind)
            .ok_or_else(|| StoreError::corrupt("jobs", &row.id, format!("kind '{}'", row.kind)))?;
        Ok(Job {
            id: ObjectId::from_trusted(row.id),
            application_id: ObjectId::from_trusted(row.application_id),
            company_id: row.company_id,
            kind,
            status,
            payload: row.payload,
            file_name: row.file_name,
            created_by: row.created_by,
            cursor: row.cursor,
            total: row.total,
            succeeded: row.succeeded,
            failed: row.failed,
            error: row.error,
            created_at: from_millis(row.created_at),
            updated_at: from_millis(row.updated_at),
            finished_at: row.finished_at.map(from_millis),
        })
    }
}

#[async_trait]
impl JobStore for Store {
    async fn create_job(&self, job: &Job, failures: &[JobFailure]) -> Result<(), StoreError> {
        let mut tx = self.begin_write().await?;
        sqlx::query(
            "INSERT INTO jobs (id, application_id, company_id, kind, status, payload, file_name, \
             created_by, cursor, total, succeeded, failed, created_at, updated_at) VALUES ($1, $2, \
             $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)",
        )
        .bind(job.id.as_str())
        .bind(job.application_id.as_str())
        .bind(&job.company_id)
        .bind(job.kind.as_str())
        .bind(job.status.as_str())
        .bind(&job.payload)
        .bind(&job.file_name)
        .bind(&job.created_by)
        .bind(job.cursor)
        .bind(job.total)
        .bind(job.succeeded)
        .bind(job.failed)
        .bind(to_millis(job.created_at))
        .bind(to_millis(job.updated_at))
        .execute(&mut *tx)
        .await?;
        Self::insert_failures(&mut tx, &job.id, failures).await?;
        tx.commit().await?;
        Ok(())
    }

    async fn find_job(
        &self,
        application_id: &ObjectId,
        id: &ObjectId,
    ) -> Result<Option<Job>, StoreError> {
        let sql = format!("SELECT {JOB_COLUMNS} FROM jobs WHERE application_id = $1 AND id = $2");
        let row: Option<JobRow> = sqlx::query_as(&sql)
            .bind(application_id.as_str())
            .bind(id.as_str())
            .fetch_optional(&self.pool)
            .await?;
        row.map(Job::try_from).transpose()
    }

    async fn claim_job(
        &self,
        owner: &str,
        now: DateTime<Utc>,
        lease: chrono::Duration,
    ) -> Result<Option<Job>, StoreError> {
        let mut tx = self.begin_write().await?;
        let sql = format!(
            "SELECT {JOB_COLUMNS} FROM jobs WHERE status = 'pending' OR (status = 'running' AND \
             lease_until < $1) ORDER BY created_at, id LIMIT 1{}",
            Self::SKIP_LOCKED
        );
        let row: Option<JobRow> = sqlx::query_as(&sql)
            .bind(to_millis(now))
            .fetch_optional(&mut *tx)
            .await?;
        let Some(row) = row else {
            return Ok(None);
        };
        sqlx::query(
            "UPDATE jobs SET status = 'running', lease_owner = $1, lease_until = $2, updated_at = \
             $3 WHERE id = $4",
        )
        .bind(owner)
        .bind(to_millis(now + lease))
        .bind(to_millis(now))
        .bind(&row.id)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        let mut job = Job::try_from(row)?;
        job.status = JobStatus::Running;
        Ok(Some(job))
    }

    async fn checkpoint(&self, checkpoint: &Checkpoint) -> Result<(), StoreError> {
        let mut tx = self.begin_write().await?;
        Self::advance_job(&mut tx, checkpoint, &[]).await?;
        tx.commit().await?;
        Ok(())
    }

    async fn finish_job(
        &self,
        id: &ObjectId,
        owner: &str,
        status: JobStatus,
        error: Option<&str>,
        now: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        let done = sqlx::query(
            "UPDATE jobs SET status = $1, error = $2, finished_at = $3, updated_at = $3, \
             lease_owner = NULL, lease_until = NULL WHERE id = $4 AND lease_owner = $5 AND status \
             = 'running'",
        )
        .bind(status.as_str())
        .bind(error)
        .bind(to_millis(now))
        .bind(id.as_str())
        .bind(owner)
        .execute(&self.pool)
        .await?;
        Ok(done.rows_affected() > 0)
    }

    async fn job_failures(
        &self,
        id: &ObjectId,
        after: i64,
        limit: usize,
    ) -> Result<Vec<JobFailure>, StoreError> {
        let rows: Vec<(i64, String, String, String)> = sqlx::query_as(
            "SELECT row_index, user_id, error, reason FROM job_failures WHERE job_id = $1 AND \
             row_index > $2 ORDER BY row_index LIMIT $3",
        )
        .bind(id.as_str())
        .bind(after)
        .bind(i64::try_from(limit).unwrap_or(i64::MAX))
        .fetch_all(&self.pool)
        .await?;
        Ok(rows
            .into_iter()
            .map(|(row_index, user_id, error, reason)| JobFailure {
                row_index,
                user_id,
                error,
                reason,
            })
            .collect())
    }

    async fn failure_summary(&self, id: &ObjectId) -> Result<Vec<(String, i64)>, StoreError> {
        Ok(sqlx::query_as(
            "SELECT reason, COUNT(*) FROM job_failures WHERE job_id = $1 GROUP BY reason ORDER BY \
             reason",
        )
        .bind(id.as_str())
        .fetch_all(&self.pool)
        .await?)
    }
}
