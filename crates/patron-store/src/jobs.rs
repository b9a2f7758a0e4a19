//! Records of background jobs.

use chrono::{DateTime, Utc};
use patron_domain::customer::NewCustomer;
use patron_domain::ids::ObjectId;

use crate::ValueWrite;

/// Where a job is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum JobStatus {
    /// Waiting for a runner.
    Pending,
    /// Leased by a runner (or by a crashed one, until its lease ends).
    Running,
    /// Every row handled (some may have failed).
    Done,
    /// The job itself could not run.
    Failed,
}

impl JobStatus {
    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            JobStatus::Pending => "pending",
            JobStatus::Running => "running",
            JobStatus::Done => "done",
            JobStatus::Failed => "failed",
        }
    }

    /// Parses a stored name; `None` for anything else.
    pub fn parse(name: &str) -> Option<Self> {
        match name {
            "pending" => Some(JobStatus::Pending),
            "running" => Some(JobStatus::Running),
            "done" => Some(JobStatus::Done),
            "failed" => Some(JobStatus::Failed),
            _ => None,
        }
    }
}

/// What a job does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum JobKind {
    /// A bulk attribute update too large for one request.
    AttributeUpdate,
    /// Applying a bulk group's member file.
    GroupMembers,
    /// Creating customers from a file (`bulkImportStoreFrontUsers`).
    CustomerImport,
    /// Writing the application's customers to a file (`createBulkExportUsers`).
    CustomerExport,
}

impl JobKind {
    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            JobKind::AttributeUpdate => "attribute_update",
            JobKind::GroupMembers => "group_members",
            JobKind::CustomerImport => "customer_import",
            JobKind::CustomerExport => "customer_export",
        }
    }

    /// Parses a stored name; `None` for anything else.
    pub fn parse(name: &str) -> Option<Self> {
        match name {
            "attribute_update" => Some(JobKind::AttributeUpdate),
            "group_members" => Some(JobKind::GroupMembers),
            "customer_import" => Some(JobKind::CustomerImport),
            "customer_export" => Some(JobKind::CustomerExport),
            _ => None,
        }
    }
}

/// A background job.
#[derive(Debug, Clone, PartialEq)]
pub struct Job {
    /// 24-hex id.
    pub id: ObjectId,
    /// Owning application.
    pub application_id: ObjectId,
    /// Owning company.
    pub company_id: String,
    /// What the job does.
    pub kind: JobKind,
    /// Where it is.
    pub status: JobStatus,
    /// The job's input, JSON (its shape belongs to `kind`).
    pub payload: String,
    /// Name shown for the job's input.
    pub file_name: String,
    /// The format of the job's file, `csv` or `xlsx` (empty for jobs without a file).
    pub file_format: String,
    /// Where the file a job wrote is kept (exports, once done).
    pub result_file: Option<String>,
    /// Platform client that submitted it.
    pub created_by: String,
    /// Rows finished (the next row to handle).
    pub cursor: i64,
    /// Rows in all, including rows refused before the job started.
    pub total: i64,
    /// Rows applied.
    pub succeeded: i64,
    /// Rows refused.
    pub failed: i64,
    /// Why the job failed as a whole.
    pub error: Option<String>,
    /// Submission time.
    pub created_at: DateTime<Utc>,
    /// Last progress.
    pub updated_at: DateTime<Utc>,
    /// When it ended.
    pub finished_at: Option<DateTime<Utc>>,
}

/// A new job with the rows refused before it started, stored together (on its own, or in
/// the transaction of the write it follows from, such as a group's member file).
#[derive(Debug, Clone, PartialEq)]
pub struct NewJob {
    /// The pending job.
    pub job: Job,
    /// Its rows refused before it started.
    pub failures: Vec<JobFailure>,
}

/// A row a job could not apply.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JobFailure {
    /// The row's position in the job's input (negative: refused before the job started).
    pub row_index: i64,
    /// The customer as the input named it.
    pub user_id: String,
    /// What went wrong.
    pub error: String,
    /// The category (`error_summary` key).
    pub reason: String,
}

/// A batch's progress, committed together with the batch's writes: the job's cursor moves
/// from `from` to `to` only if `owner` still holds the lease and nobody moved it meanwhile.
#[derive(Debug, Clone, PartialEq)]
pub struct Checkpoint {
    /// The job.
    pub job_id: ObjectId,
    /// The runner holding the lease.
    pub owner: String,
    /// The cursor the batch started at.
    pub from: i64,
    /// The cursor after the batch.
    pub to: i64,
    /// Rows of the batch refused before reaching the store.
    pub failures: Vec<JobFailure>,
    /// Where the batch's rows start in the input, to number refusals found by the store.
    pub row_of: Vec<(String, i64)>,
    /// When.
    pub now: DateTime<Utc>,
    /// The lease's new end.
    pub lease_until: DateTime<Utc>,
}

/// How a job ended up, as the job lists filter it (`status` of `BulkActionModel`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum JobOutcome {
    /// Waiting or running.
    InProgress,
    /// Done with every row applied.
    Complete,
    /// Done with some rows applied and some refused.
    Partial,
    /// Failed as a whole, or done with no row applied and some refused.
    Failed,
}

impl JobOutcome {
    /// The outcome of a job in `status` with these counts.
    pub fn of(status: JobStatus, succeeded: i64, failed: i64) -> Self {
        match status {
            JobStatus::Pending | JobStatus::Running => JobOutcome::InProgress,
            JobStatus::Failed => JobOutcome::Failed,
            JobStatus::Done if failed == 0 => JobOutcome::Complete,
            JobStatus::Done if succeeded == 0 => JobOutcome::Failed,
            JobStatus::Done => JobOutcome::Partial,
        }
    }

    /// The wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            JobOutcome::InProgress => "inprogress",
            JobOutcome::Complete => "complete",
            JobOutcome::Partial => "partial",
            JobOutcome::Failed => "failed",
        }
    }

    /// Parses a wire name; `None` for anything else.
    pub fn parse(name: &str) -> Option<Self> {
        [
            JobOutcome::InProgress,
            JobOutcome::Complete,
            JobOutcome::Partial,
            JobOutcome::Failed,
        ]
        .into_iter()
        .find(|outcome| outcome.as_str() == name)
    }
}

/// Which jobs of one kind a job list shows.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct JobFilter {
    /// Only jobs whose file has this format (`csv`, `xlsx`).
    pub file_format: Option<String>,
    /// Only jobs whose file name contains this text (any case).
    pub search: Option<String>,
    /// Only jobs submitted at or after this time.
    pub from: Option<DateTime<Utc>>,
    /// Only jobs submitted at or before this time.
    pub to: Option<DateTime<Utc>>,
    /// Only jobs with this outcome.
    pub outcome: Option<JobOutcome>,
}

/// A customer read from an import file, ready to insert with its password hash and values.
#[derive(Debug, Clone, PartialEq)]
pub struct ImportedCustomer {
    /// The row's position in the job's input.
    pub row_index: i64,
    /// The row's line in the file (0: unknown), named in the error report.
    pub line: u32,
    /// The customer.
    pub customer: NewCustomer,
    /// The hash the customer's password had elsewhere, in a format Patron checks.
    pub password_hash: Option<String>,
    /// Attribute values from the row's attribute columns.
    pub values: Vec<ValueWrite>,
}
