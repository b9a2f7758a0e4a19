//! Background jobs: creation, leasing (`FOR UPDATE SKIP LOCKED` on PostgreSQL), progress
//! and failures.

use super::prelude::*;

use crate::jobs::{
    Checkpoint, ImportedCustomer, Job, JobFailure, JobFilter, JobKind, JobOutcome, JobStatus,
};
use crate::JobStore;

const JOB_COLUMNS: &str =
    "id, application_id, company_id, kind, status, payload, file_name, file_format, result_file, \
     created_by, cursor, total, succeeded, failed, error, created_at, updated_at, finished_at";

/// The columns of a job as read outside a runner: the payload, which can be large, is left
/// out.
fn summary_columns() -> String {
    JOB_COLUMNS.replacen("payload", "'' AS payload", 1)
}

#[derive(sqlx::FromRow)]
struct JobRow {
    id: String,
    application_id: String,
    company_id: String,
    kind: String,
    status: String,
    payload: String,
    file_name: String,
    file_format: String,
    result_file: Option<String>,
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

impl Store {
    /// Inserts a pending job and its rows refused before it started, on `conn` (the
    /// caller's transaction).
    pub(super) async fn insert_job(
        conn: &mut Connection,
        job: &Job,
        failures: &[JobFailure],
    ) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO jobs (id, application_id, company_id, kind, status, payload, file_name, \
             file_format, created_by, cursor, total, succeeded, failed, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)",
        )
        .bind(job.id.as_str())
        .bind(job.application_id.as_str())
        .bind(&job.company_id)
        .bind(job.kind.as_str())
        .bind(job.status.as_str())
        .bind(&job.payload)
        .bind(&job.file_name)
        .bind(&job.file_format)
        .bind(&job.created_by)
        .bind(job.cursor)
        .bind(job.total)
        .bind(job.succeeded)
        .bind(job.failed)
        .bind(to_millis(job.created_at))
        .bind(to_millis(job.updated_at))
        .execute(&mut *conn)
        .await?;
        Self::insert_failures(conn, &job.id, failures).await?;
        Ok(())
    }
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
            file_format: row.file_format,
            result_file: row.result_file,
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
        Self::insert_job(&mut tx, job, failures).await?;
        tx.commit().await?;
        Ok(())
    }

    async fn find_job(
        &self,
        application_id: &ObjectId,
        id: &ObjectId,
    ) -> Result<Option<Job>, StoreError> {
        let sql = format!(
            "SELECT {} FROM jobs WHERE application_id = $1 AND id = $2",
            summary_columns()
        );
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
             lease_owner = NULL, lease_until = NULL, payload = CASE WHEN kind = \
             'customer_import' THEN '{}' ELSE payload END WHERE id = $4 AND lease_owner = $5 AND \
             status = 'running'",
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

    async fn list_jobs(
        &self,
        application_id: &ObjectId,
        kind: JobKind,
        filter: &JobFilter,
        page: PageRequest,
    ) -> Result<(Vec<Job>, u64), StoreError> {
        let mut condition = SqlBuilder::default();
        condition
            .push(" WHERE application_id = ")
            .bind(SqlParam::Text(application_id.to_string()))
            .push(" AND kind = ")
            .bind(SqlParam::Text(kind.as_str().to_owned()));
        if let Some(format) = &filter.file_format {
            condition
                .push(" AND file_format = ")
                .bind(SqlParam::Text(format.to_lowercase()));
        }
        if let Some(search) = &filter.search {
            let escaped: String = search
                .to_lowercase()
                .chars()
                .flat_map(|c| match c {
                    '%' | '_' | '\\' => vec!['\\', c],
                    c => vec![c],
                })
                .collect();
            condition
                .push(" AND LOWER(file_name) LIKE ")
                .bind(SqlParam::Text(format!("%{escaped}%")))
                .push(" ESCAPE '\\'");
        }
        if let Some(from) = filter.from {
            condition
                .push(" AND created_at >= ")
                .bind(SqlParam::Int(to_millis(from)));
        }
        if let Some(to) = filter.to {
            condition
                .push(" AND created_at <= ")
                .bind(SqlParam::Int(to_millis(to)));
        }
        if let Some(outcome) = filter.outcome {
            condition.push(match outcome {
                JobOutcome::InProgress => " AND status IN ('pending', 'running')",
                JobOutcome::Complete => " AND status = 'done' AND failed = 0",
                JobOutcome::Partial => " AND status = 'done' AND failed > 0 AND succeeded > 0",
                JobOutcome::Failed => {
                    " AND (status = 'failed' OR (status = 'done' AND failed > 0 AND succeeded = 0))"
                }
            });
        }
        let mut conn = self.pool.acquire().await?;
        let count_sql = format!("SELECT COUNT(*) FROM jobs{}", condition.sql);
        let (total,): (i64,) =
            sqlx::query_as_with::<_, (i64,), _>(&count_sql, arguments(&condition.params)?)
                .fetch_one(&mut *conn)
                .await?;
        let mut select = SqlBuilder {
            sql: format!("SELECT {} FROM jobs{}", summary_columns(), condition.sql),
            params: condition.params,
        };
        select
            .push(" ORDER BY created_at DESC, id DESC LIMIT ")
            .bind(SqlParam::Int(i64::from(page.size())));
        select.push(" OFFSET ").bind(SqlParam::Int(
            i64::try_from(page.offset()).unwrap_or(i64::MAX),
        ));
        let rows: Vec<JobRow> =
            sqlx::query_as_with::<_, JobRow, _>(&select.sql, arguments(&select.params)?)
                .fetch_all(&mut *conn)
                .await?;
        let jobs = rows
            .into_iter()
            .map(Job::try_from)
            .collect::<Result<Vec<_>, _>>()?;
        Ok((jobs, u64::try_from(total).unwrap_or_default()))
    }

    async fn finish_export(
        &self,
        id: &ObjectId,
        owner: &str,
        file: &str,
        rows: i64,
        now: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        let done = sqlx::query(
            "UPDATE jobs SET status = 'done', result_file = $1, total = $2, succeeded = $2, \
             cursor = $2, finished_at = $3, updated_at = $3, lease_owner = NULL, lease_until = \
             NULL WHERE id = $4 AND lease_owner = $5 AND status = 'running'",
        )
        .bind(file)
        .bind(rows)
        .bind(to_millis(now))
        .bind(id.as_str())
        .bind(owner)
        .execute(&self.pool)
        .await?;
        Ok(done.rows_affected() > 0)
    }

    async fn import_batch(
        &self,
        application_id: &ObjectId,
        rows: &[ImportedCustomer],
        actor: &Actor,
        checkpoint: &Checkpoint,
    ) -> Result<(), StoreError> {
        self.insert_import_batch(application_id, rows, actor, checkpoint)
            .await
    }
}
