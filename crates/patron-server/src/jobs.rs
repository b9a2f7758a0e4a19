//! Background jobs: bulk attribute updates too large for one request, and the member files
//! of bulk groups. A job is a database row; any node's runner leases it, works through its
//! rows in batches, and commits each batch's writes together with the job's progress, so a
//! crashed runner's job is resumed by another after the lease, from the last batch
//! committed, without redoing finished rows.

use std::collections::HashSet;
use std::time::Duration;

use patron_domain::csv_list::{Identifier, MemberAction};
use patron_domain::email::Email;
use patron_domain::ids::ObjectId;
use patron_domain::phone::{Phone, Region};
use patron_store::{
    Actor, Checkpoint, Conflict, Job, JobFailure, JobStatus, MemberChanges, StoreError,
};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

use crate::app::AppState;
use crate::attributes::{definitions_for, prepare_row, BulkRow, RowFailure};
use crate::error::ApiError;
use crate::platform::{CustomersWrite, Platform};
use crate::wire::attribute::KeyValue;
use crate::workers::Shutdown;

/// Job kind: a bulk attribute update.
const ATTRIBUTE_UPDATE: &str = "attribute_update";
/// Job kind: applying a bulk group's member file.
const GROUP_MEMBERS: &str = "group_members";
/// Rows per batch (one transaction each).
const BATCH_ROWS: usize = 500;
/// How long a claimed job stays leased without progress before another runner may take it.
const LEASE_SECS: i64 = 60;

/// A job's input, stored as JSON in the job row.
#[derive(Debug, Serialize, Deserialize)]
#[serde(tag = "input", rename_all = "snake_case")]
enum Payload {
    /// The same attributes for every listed customer.
    SameAttributes {
        users: Vec<String>,
        attributes: Vec<KeyValue>,
    },
    /// Attributes per customer.
    PerUser { rows: Vec<StoredRow> },
    /// Member file rows of a bulk group.
    GroupMembers {
        group_id: String,
        region: String,
        rows: Vec<MemberRow>,
    },
}

#[derive(Debug, Serialize, Deserialize)]
struct StoredRow {
    user_id: String,
    attributes: Vec<KeyValue>,
}

/// One usable row of a member file: how the customer is named, and the action.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct MemberRow {
    /// `user_id`, `email` or `phone_number`.
    pub(crate) kind: String,
    /// The canonical identifier.
    pub(crate) value: String,
    /// `add` or `remove`.
    pub(crate) remove: bool,
}

impl MemberRow {
    /// The row for a parsed identifier.
    pub(crate) fn new(identifier: &Identifier, action: MemberAction) -> Self {
        let kind = match identifier {
            Identifier::UserId(_) => "user_id",
            Identifier::Email(_) => "email",
            Identifier::Phone(_) => "phone_number",
        };
        Self {
            kind: kind.to_owned(),
            value: identifier.display(),
            remove: action == MemberAction::Remove,
        }
    }

    fn identifier(&self, region: Region) -> Result<Identifier, String> {
        match self.kind.as_str() {
            "user_id" => ObjectId::parse("user_id", &self.value).map(Identifier::UserId),
            "email" => Email::parse("email", &self.value).map(Identifier::Email),
            _ => Phone::parse("phone_number", &self.value, None, region).map(Identifier::Phone),
        }
        .map_err(|error| error.to_string())
    }
}

/// Stores a bulk attribute update as a job and answers the seed's asynchronous
/// `BulkOperation`.
pub(crate) async fn submit_bulk_update(
    state: &AppState,
    caller: &Platform<CustomersWrite>,
    rows: Vec<BulkRow>,
    refused: Vec<RowFailure>,
) -> Result<Value, ApiError> {
    let same = rows
        .windows(2)
        .all(|pair| pair[0].attributes == pair[1].attributes);
    let total = rows.len() + refused.len();
    let payload = match (same, rows.first()) {
        (true, Some(first)) => Payload::SameAttributes {
            attributes: first.attributes.clone(),
            users: rows.into_iter().map(|row| row.user_id).collect(),
        },
        _ => Payload::PerUser {
            rows: rows
                .into_iter()
                .map(|row| StoredRow {
                    user_id: row.user_id,
                    attributes: row.attributes,
                })
                .collect(),
        },
    };
    let failures = pre_failures(
        refused
            .into_iter()
            .map(|f| (f.user_id, f.error, f.reason.key().to_owned())),
    );
    let job = new_job(
        state,
        caller,
        ATTRIBUTE_UPDATE,
        "bulk_update.json",
        &payload,
        total,
        failures.len(),
    )?;
    state.stores.jobs.create_job(&job, &failures).await?;
    Ok(json!({
        "success": true,
        "processing_type": "asynchronous",
        "request_id": job.id.as_str(),
        "job_id": job.id.as_str(),
        "total": total,
    }))
}

/// Stores the member file of a bulk group as a job; the runner applies it and then marks
/// the group `completed` (or `failed`).
pub(crate) async fn submit_group_members(
    state: &AppState,
    caller: &Platform<CustomersWrite>,
    group_id: &ObjectId,
    rows: Vec<MemberRow>,
    refused: Vec<(String, String)>,
) -> Result<ObjectId, ApiError> {
    let total = rows.len() + refused.len();
    let payload = Payload::GroupMembers {
        group_id: group_id.to_string(),
        region: caller.application.default_region.code().to_owned(),
        rows,
    };
    let failures = pre_failures(
        refused
            .into_iter()
            .map(|(value, error)| (value, error, "malformed_row".to_owned())),
    );
    let job = new_job(
        state,
        caller,
        GROUP_MEMBERS,
        "members.csv",
        &payload,
        total,
        failures.len(),
    )?;
    state.stores.jobs.create_job(&job, &failures).await?;
    Ok(job.id)
}

fn pre_failures(refused: impl Iterator<Item = (String, String, String)>) -> Vec<JobFailure> {
    refused
        .enumerate()
        .map(|(index, (user_id, error, reason))| JobFailure {
            row_index: -1 - i64::try_from(index).unwrap_or(i64::MAX - 1),
            user_id,
            error,
            reason,
        })
        .collect()
}

fn new_job(
    state: &AppState,
    caller: &Platform<CustomersWrite>,
    kind: &str,
    file_name: &str,
    payload: &Payload,
    total: usize,
    refused: usize,
) -> Result<Job, ApiError> {
    let now = state.clock.now();
    let payload = serde_json::to_string(payload)
        .map_err(|error| ApiError::Internal(format!("cannot encode a job: {error}")))?;
    Ok(Job {
        id: ObjectId::generate(now),
        application_id: caller.application.id.clone(),
        company_id: caller.application.company_id.to_string(),
        kind: kind.to_owned(),
        status: JobStatus::Pending,
        payload,
        file_name: file_name.to_owned(),
        created_by: caller.client_id.clone(),
        cursor: 0,
        total: i64::try_from(total).unwrap_or(i64::MAX),
        succeeded: 0,
        failed: index(refused),
        error: None,
        created_at: now,
        updated_at: now,
        finished_at: None,
    })
}

/// A name for this runner, unique across nodes and restarts.
pub fn runner_name() -> String {
    format!("{}-{:016x}", std::process::id(), rand::random::<u64>())
}

/// Runs jobs one at a time, polling every second when there is none, until `shutdown`
/// (a batch in progress finishes first; the job's lease then lapses for another runner).
pub async fn run_worker(state: AppState, mut shutdown: Shutdown) {
    let owner = runner_name();
    loop {
        match run_next(&state, &owner, None).await {
            Ok(true) => continue,
            Ok(false) => {}
            Err(error) => tracing::warn!(%error, "job runner round failed"),
        }
        if shutdown.sleep(Duration::from_secs(1)).await {
            return;
        }
    }
}

/// Claims one job and works on it until it ends, the lease is lost, or `max_batches`
/// batches are done (the job then stays leased, as after a crash). Returns whether a job
/// was claimed.
pub async fn run_next(
    state: &AppState,
    owner: &str,
    max_batches: Option<usize>,
) -> Result<bool, ApiError> {
    let lease = chrono::Duration::seconds(LEASE_SECS);
    let Some(job) = state
        .stores
        .jobs
        .claim_job(owner, state.clock.now(), lease)
        .await?
    else {
        return Ok(false);
    };
    tracing::info!(job = %job.id, kind = %job.kind, cursor = job.cursor, "job claimed");
    let payload: Payload = match serde_json::from_str(&job.payload) {
        Ok(payload) => payload,
        Err(error) => {
            let message = format!("unreadable job input: {error}");
            state
                .stores
                .jobs
                .finish_job(
                    &job.id,
                    owner,
                    JobStatus::Failed,
                    Some(&message),
                    state.clock.now(),
                )
                .await?;
            return Ok(true);
        }
    };
    let mut runner = Runner {
        state,
        job: &job,
        owner,
        max_batches,
        cursor: job.cursor,
    };
    let finished = match &payload {
        Payload::SameAttributes { users, attributes } => {
            let rows: Vec<BulkRow> = users
                .iter()
                .map(|user_id| BulkRow {
                    user_id: user_id.clone(),
                    attributes: attributes.clone(),
                })
                .collect();
            runner.attributes(&rows).await?
        }
        Payload::PerUser { rows } => {
            let rows: Vec<BulkRow> = rows
                .iter()
                .map(|row| BulkRow {
                    user_id: row.user_id.clone(),
                    attributes: row.attributes.clone(),
                })
                .collect();
            runner.attributes(&rows).await?
        }
        Payload::GroupMembers {
            group_id,
            region,
            rows,
        } => {
            let region = Region::parse(region).unwrap_or_default();
            runner
                .members(&ObjectId::from_trusted(group_id.clone()), region, rows)
                .await?
        }
    };
    if !finished {
        return Ok(true);
    }
    let ended = state
        .stores
        .jobs
        .finish_job(&job.id, owner, JobStatus::Done, None, state.clock.now())
        .await?;
    if ended {
        if let Payload::GroupMembers { group_id, .. } = &payload {
            finish_group(state, &job, &ObjectId::from_trusted(group_id.clone())).await?;
        }
        tracing::info!(job = %job.id, "job done");
    }
    Ok(true)
}

/// Marks a bulk group built: `completed`, or `failed` when no row could be applied;
/// refused rows are counted and reported.
async fn finish_group(state: &AppState, job: &Job, group_id: &ObjectId) -> Result<(), ApiError> {
    let done = state
        .stores
        .jobs
        .find_job(&job.application_id, &job.id)
        .await?
        .unwrap_or_else(|| job.clone());
    let status = if done.failed > 0 && done.succeeded == 0 {
        "failed"
    } else {
        "completed"
    };
    let report = (done.failed > 0).then(|| error_report_path(&done));
    state
        .stores
        .groups
        .set_group_status(
            group_id,
            status,
            (done.failed > 0).then_some(done.failed),
            report.as_deref(),
            state.clock.now(),
        )
        .await?;
    Ok(())
}

/// Where a job's per-row error report is served (relative to the service's address).
pub(crate) fn error_report_path(job: &Job) -> String {
    format!(
        "/service/platform/user/v1.0/company/{}/application/{}/users/jobs/{}/errors",
        job.company_id, job.application_id, job.id
    )
}

/// One claimed job's progress through its rows.
struct Runner<'a> {
    state: &'a AppState,
    job: &'a Job,
    owner: &'a str,
    max_batches: Option<usize>,
    cursor: i64,
}

impl Runner<'_> {
    /// The next batch's rows, or `None` when the batch budget is spent.
    fn next_range(&mut self, len: usize, batches_done: usize) -> Option<std::ops::Range<usize>> {
        if self.max_batches.is_some_and(|max| batches_done >= max) {
            return None;
        }
        let start = usize::try_from(self.cursor).unwrap_or(usize::MAX).min(len);
        Some(start..(start + BATCH_ROWS).min(len))
    }

    fn checkpoint(
        &self,
        range: &std::ops::Range<usize>,
        failures: Vec<JobFailure>,
        row_of: Vec<(String, i64)>,
    ) -> Checkpoint {
        let now = self.state.clock.now();
        Checkpoint {
            job_id: self.job.id.clone(),
            owner: self.owner.to_owned(),
            from: index(range.start),
            to: index(range.end),
            failures,
            row_of,
            now,
            lease_until: now + chrono::Duration::seconds(LEASE_SECS),
        }
    }

    /// Works through bulk attribute rows; true when every row is done.
    async fn attributes(&mut self, rows: &[BulkRow]) -> Result<bool, ApiError> {
        let application_id = &self.job.application_id;
        let definitions = definitions_for(self.state, application_id, rows).await?;
        let actor = Actor::new(&self.job.created_by);
        let start = usize::try_from(self.cursor)
            .unwrap_or(usize::MAX)
            .min(rows.len());
        let mut seen: HashSet<String> = rows[..start]
            .iter()
            .filter_map(|row| ObjectId::parse("user_id", row.user_id.trim()).ok())
            .map(|id| id.to_string())
            .collect();
        let mut batches = 0;
        while let Some(range) = self.next_range(rows.len(), batches) {
            if range.is_empty() {
                return Ok(true);
            }
            let mut prepared = Vec::new();
            let mut failures = Vec::new();
            let mut row_of = Vec::new();
            for (offset, row) in rows[range.clone()].iter().enumerate() {
                let row_index = index(range.start + offset);
                match prepare_row(&self.state.secrets, &definitions, row, &mut seen) {
                    Ok(values) => {
                        row_of.push((values.customer_id.to_string(), row_index));
                        prepared.push(values);
                    }
                    Err(failure) => failures.push(JobFailure {
                        row_index,
                        user_id: failure.user_id,
                        error: failure.error,
                        reason: failure.reason.key().to_owned(),
                    }),
                }
            }
            let checkpoint = self.checkpoint(&range, failures, row_of);
            let written = self
                .state
                .stores
                .attributes
                .bulk_upsert_values(
                    application_id,
                    &prepared,
                    &actor,
                    checkpoint.now,
                    Some(&checkpoint),
                )
                .await;
            if !self.progressed(written.map(|_| ()))? {
                return Ok(false);
            }
            self.cursor = checkpoint.to;
            batches += 1;
        }
        Ok(false)
    }

    /// Works through a member file's rows; true when every row is done.
    async fn members(
        &mut self,
        group_id: &ObjectId,
        region: Region,
        rows: &[MemberRow],
    ) -> Result<bool, ApiError> {
        let mut batches = 0;
        while let Some(range) = self.next_range(rows.len(), batches) {
            if range.is_empty() {
                return Ok(true);
            }
            let batch = &rows[range.clone()];
            let mut failures = Vec::new();
            let mut parsed = Vec::new();
            for (offset, row) in batch.iter().enumerate() {
                match row.identifier(region) {
                    Ok(identifier) => parsed.push((offset, identifier, row.remove)),
                    Err(error) => failures.push(JobFailure {
                        row_index: index(range.start + offset),
                        user_id: row.value.clone(),
                        error,
                        reason: "malformed_row".to_owned(),
                    }),
                }
            }
            let identifiers: Vec<Identifier> = parsed
                .iter()
                .map(|(_, identifier, _)| identifier.clone())
                .collect();
            let resolved = self
                .state
                .stores
                .groups
                .resolve_customers(&self.job.application_id, &identifiers)
                .await?;
            let mut changes = MemberChanges::default();
            for ((offset, identifier, remove), customer) in parsed.iter().zip(resolved) {
                match customer {
                    Some(id) if *remove => changes.remove.push(id),
                    Some(id) => changes.add.push(id),
                    None => failures.push(JobFailure {
                        row_index: index(range.start + offset),
                        user_id: identifier.display(),
                        error: format!("no customer has {}", identifier.display()),
                        reason: "user_not_found".to_owned(),
                    }),
                }
            }
            let checkpoint = self.checkpoint(&range, failures, Vec::new());
            let applied = self
                .state
                .stores
                .groups
                .apply_member_batch(group_id, &changes, &checkpoint)
                .await;
            if !self.progressed(applied)? {
                return Ok(false);
            }
            self.cursor = checkpoint.to;
            batches += 1;
        }
        Ok(false)
    }

    /// Whether a batch committed; a lost lease (another runner took over) is not an error.
    fn progressed(&self, result: Result<(), StoreError>) -> Result<bool, ApiError> {
        match result {
            Ok(()) => Ok(true),
            Err(StoreError::Conflict(Conflict::Version)) => {
                tracing::warn!(job = %self.job.id, "job lease lost; another runner continues it");
                Ok(false)
            }
            Err(error) => Err(error.into()),
        }
    }
}

fn index(position: usize) -> i64 {
    i64::try_from(position).unwrap_or(i64::MAX)
}
