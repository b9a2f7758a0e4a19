//! Background jobs: bulk attribute updates too large for one request, the member files of
//! bulk groups, and customer imports and exports. A job is a database row; any node's runner leases it, works through its
//! rows in batches, and commits each batch's writes together with the job's progress, so a
//! crashed runner's job is resumed by another after the lease, from the last batch
//! committed, without redoing finished rows.

mod export;
mod import;

use std::collections::HashSet;
use std::sync::Arc;
use std::time::Duration;

use patron_domain::csv_list::{Identifier, ListFormat, MemberAction};
use patron_domain::email::Email;
use patron_domain::ids::ObjectId;
use patron_domain::phone::{Phone, Region};
use patron_store::{
    Actor, Application, Checkpoint, Conflict, CustomerStore, Entity, GroupStatus, GroupStore, Job,
    JobFailure, JobFilter, JobKind, JobStatus, JobStore, MemberChanges, NewJob, StoreError,
};
use serde::{Deserialize, Serialize};

use super::attributes::{
    prepare_row, Attributes, BulkOutcome, BulkRow, KeyValue, Reason, RowFailure,
};
use super::ServiceError;
use crate::clock::Clock;
use crate::files::Files;
use crate::workers::Shutdown;

pub use export::{export_file_path, ExportFile, ExportFiles};

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
    /// An import file's rows.
    CustomerImport(import::ImportInput),
    /// An export of the application's customers.
    CustomerExport {},
}

#[derive(Debug, Serialize, Deserialize)]
struct StoredRow {
    user_id: String,
    attributes: Vec<KeyValue>,
}

/// One usable row of a member file: how the customer is named, and the action.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct MemberRow {
    /// `user_id`, `email` or `phone_number`.
    pub kind: String,
    /// The canonical identifier.
    pub value: String,
    /// `add` or `remove`.
    pub remove: bool,
}

impl MemberRow {
    /// The row for a parsed identifier.
    pub fn new(identifier: &Identifier, action: MemberAction) -> Self {
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

/// Who asked for a job: the application and the platform client acting on it.
#[derive(Debug, Clone, Copy)]
pub struct Requester<'a> {
    /// The application the job works on.
    pub application: &'a Application,
    /// The client that asked (the job's author in the audit trail).
    pub client_id: &'a str,
}

/// The rows of a group's member file: usable ones, and `(value, error)` for the rest.
#[derive(Debug, Clone, Default)]
pub struct MemberFile {
    /// Usable rows, in file order.
    pub rows: Vec<MemberRow>,
    /// Unusable rows, as `(value, error)`.
    pub refused: Vec<(String, String)>,
}

/// A job just stored.
#[derive(Debug, Clone)]
pub struct SubmittedJob {
    /// Its id.
    pub id: ObjectId,
    /// How many rows it covers, refused ones included.
    pub total: usize,
}

/// Background jobs: submitting them, and running them (any node's runner leases one).
#[derive(Clone)]
pub struct Jobs {
    store: Arc<dyn JobStore>,
    groups: Arc<dyn GroupStore>,
    customers: Arc<dyn CustomerStore>,
    attributes: Attributes,
    auth_configs: super::AuthConfigs,
    exports: ExportFiles,
    files: Files,
    sync_limit: usize,
    clock: Arc<dyn Clock>,
}

/// What [`Jobs`] is built from.
pub struct JobsParts {
    /// Where jobs are kept.
    pub store: Arc<dyn JobStore>,
    /// Where member files are applied.
    pub groups: Arc<dyn GroupStore>,
    /// Where imports land and exports read.
    pub customers: Arc<dyn CustomerStore>,
    /// Attribute updates (and the values of imports and exports).
    pub attributes: Attributes,
    /// The applications' configurations (their Firebase hash parameters).
    pub auth_configs: super::AuthConfigs,
    /// Where export files go.
    pub exports: ExportFiles,
    /// Where the files imports and member lists name are fetched.
    pub files: Files,
    /// Bulk updates of more rows than this become jobs.
    pub sync_limit: usize,
    /// The source of "now".
    pub clock: Arc<dyn Clock>,
}

/// What a bulk attribute update came to.
#[derive(Debug, Clone)]
pub enum BulkResult {
    /// Done within the request.
    Done(BulkOutcome),
    /// Too large: stored as a job for the runner.
    Queued(SubmittedJob),
}

impl Jobs {
    /// Jobs wired to their parts.
    pub fn new(parts: JobsParts) -> Self {
        Self {
            store: parts.store,
            groups: parts.groups,
            customers: parts.customers,
            attributes: parts.attributes,
            auth_configs: parts.auth_configs,
            exports: parts.exports,
            files: parts.files,
            sync_limit: parts.sync_limit,
            clock: parts.clock,
        }
    }

    /// The job `id` of the application; `NotFound` when there is none.
    pub async fn find(
        &self,
        application_id: &ObjectId,
        id: &ObjectId,
    ) -> Result<Job, ServiceError> {
        Ok(self
            .store
            .find_job(application_id, id)
            .await?
            .ok_or_else(|| StoreError::not_found(Entity::Job, id))?)
    }

    /// One page of the application's jobs of `kind` (imports or exports) passing `filter`,
    /// newest first, and how many pass it.
    pub async fn list(
        &self,
        application_id: &ObjectId,
        kind: JobKind,
        filter: &JobFilter,
        page: patron_domain::page::PageRequest,
    ) -> Result<(Vec<Job>, u64), ServiceError> {
        Ok(self
            .store
            .list_jobs(application_id, kind, filter, page)
            .await?)
    }

    /// How many rows of the job were refused, by reason.
    pub async fn failure_summary(&self, id: &ObjectId) -> Result<Vec<(String, i64)>, ServiceError> {
        Ok(self.store.failure_summary(id).await?)
    }

    /// Up to `limit` refused rows of the job after row `after`, in row order (one page of
    /// its error report).
    pub async fn failures(
        &self,
        id: &ObjectId,
        after: i64,
        limit: usize,
    ) -> Result<Vec<JobFailure>, ServiceError> {
        Ok(self.store.job_failures(id, after, limit).await?)
    }

    /// A bulk attribute update: done within the request when it has at most the sync limit
    /// of rows, else stored as a job. `refused` are rows already refused (unreadable file
    /// rows); every other row ends written or refused on its own.
    pub async fn bulk_update(
        &self,
        requester: Requester<'_>,
        rows: Vec<BulkRow>,
        refused: Vec<RowFailure>,
    ) -> Result<BulkResult, ServiceError> {
        if rows.len() > self.sync_limit {
            let job = self.submit_bulk_update(requester, rows, refused).await?;
            return Ok(BulkResult::Queued(job));
        }
        let application_id = &requester.application.id;
        let definitions = self
            .attributes
            .definitions_for(application_id, &rows)
            .await?;
        let actor = Actor::new(requester.client_id);
        let mut outcome = BulkOutcome {
            total: refused.len() as u64,
            failures: refused,
            ..BulkOutcome::default()
        };
        let mut seen = HashSet::new();
        for batch in rows.chunks(BATCH_ROWS) {
            let done = self
                .attributes
                .apply_rows(application_id, &definitions, batch, &actor, &mut seen)
                .await?;
            outcome.absorb(done);
        }
        Ok(BulkResult::Done(outcome))
    }

    /// Stores a bulk attribute update as a job.
    pub async fn submit_bulk_update(
        &self,
        requester: Requester<'_>,
        rows: Vec<BulkRow>,
        refused: Vec<RowFailure>,
    ) -> Result<SubmittedJob, ServiceError> {
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
        let job = self.new_job(
            requester,
            JobKind::AttributeUpdate,
            "bulk_update.json",
            &payload,
            total,
            failures.len(),
        )?;
        self.store.create_job(&job, &failures).await?;
        Ok(SubmittedJob { id: job.id, total })
    }

    /// The job that applies the member file of a bulk group, for the store to write with
    /// the group; the runner applies it and then marks the group `completed` (or `failed`).
    pub(crate) fn members_job(
        &self,
        requester: Requester<'_>,
        group_id: &ObjectId,
        file: MemberFile,
    ) -> Result<NewJob, ServiceError> {
        let total = file.rows.len() + file.refused.len();
        let payload = Payload::GroupMembers {
            group_id: group_id.to_string(),
            region: requester.application.default_region.code().to_owned(),
            rows: file.rows,
        };
        let failures = pre_failures(
            file.refused
                .into_iter()
                .map(|(value, error)| (value, error, "malformed_row".to_owned())),
        );
        let job = self.new_job(
            requester,
            JobKind::GroupMembers,
            "members.csv",
            &payload,
            total,
            failures.len(),
        )?;
        Ok(NewJob { job, failures })
    }

    /// The rows of the member file at `url` (`file_url` in errors) in `format`; unusable
    /// rows are kept as `(value, error)` pairs for the job's report.
    pub(crate) async fn member_file(
        &self,
        requester: Requester<'_>,
        url: &str,
        format: ListFormat,
    ) -> Result<MemberFile, ServiceError> {
        let parsed = self
            .files
            .list(
                "file_url",
                url,
                format,
                requester.application.default_region,
            )
            .await?;
        let rows = parsed
            .rows
            .iter()
            .map(|row| MemberRow::new(&row.identifier, row.action))
            .collect();
        let refused = parsed
            .errors
            .into_iter()
            .map(|error| (error.value, format!("line {}: {}", error.line, error.error)))
            .collect();
        Ok(MemberFile { rows, refused })
    }

    /// A bulk attribute update of the customers listed in the CSV at `url`
    /// (`user_file_url`), each given `attributes`; unusable file rows are reported as
    /// refused.
    pub async fn bulk_update_from_file(
        &self,
        requester: Requester<'_>,
        url: &str,
        attributes: Vec<KeyValue>,
    ) -> Result<BulkResult, ServiceError> {
        let parsed = self
            .files
            .list(
                "user_file_url",
                url,
                ListFormat::UserIds,
                requester.application.default_region,
            )
            .await?;
        let rows = parsed
            .rows
            .iter()
            .map(|row| BulkRow {
                user_id: row.identifier.display(),
                attributes: attributes.clone(),
            })
            .collect();
        let refused = parsed
            .errors
            .into_iter()
            .map(|error| RowFailure {
                user_id: error.value,
                error: format!("line {}: {}", error.line, error.error),
                reason: Reason::MalformedRow,
            })
            .collect();
        self.bulk_update(requester, rows, refused).await
    }

    /// A pending job of `kind` for `requester`, its input encoded.
    fn new_job(
        &self,
        requester: Requester<'_>,
        kind: JobKind,
        file_name: &str,
        payload: &Payload,
        total: usize,
        refused: usize,
    ) -> Result<Job, ServiceError> {
        let now = self.clock.now();
        let payload = serde_json::to_string(payload)
            .map_err(|error| ServiceError::Internal(format!("cannot encode a job: {error}")))?;
        Ok(Job {
            id: ObjectId::generate(now),
            application_id: requester.application.id.clone(),
            company_id: requester.application.company_id.to_string(),
            kind,
            status: JobStatus::Pending,
            payload,
            file_name: file_name.to_owned(),
            file_format: String::new(),
            result_file: None,
            created_by: requester.client_id.to_owned(),
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

    /// Claims one job and works on it until it ends, the lease is lost, or `max_batches`
    /// batches are done (the job then stays leased, as after a crash). Returns whether a
    /// job was claimed.
    pub async fn run_next(
        &self,
        owner: &str,
        max_batches: Option<usize>,
    ) -> Result<bool, ServiceError> {
        let lease = chrono::Duration::seconds(LEASE_SECS);
        let Some(job) = self.store.claim_job(owner, self.clock.now(), lease).await? else {
            return Ok(false);
        };
        tracing::info!(job = %job.id, kind = job.kind.as_str(), cursor = job.cursor, "job claimed");
        let payload: Payload = match serde_json::from_str(&job.payload) {
            Ok(payload) => payload,
            Err(error) => {
                let message = format!("unreadable job input: {error}");
                self.store
                    .finish_job(
                        &job.id,
                        owner,
                        JobStatus::Failed,
                        Some(&message),
                        self.clock.now(),
                    )
                    .await?;
                return Ok(true);
            }
        };
        let mut runner = Runner {
            jobs: self,
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
            Payload::CustomerImport(input) => runner.import(input).await?,
            // An export ends itself, recording its file.
            Payload::CustomerExport {} => {
                runner.export().await?;
                return Ok(true);
            }
        };
        if !finished {
            return Ok(true);
        }
        let ended = self
            .store
            .finish_job(&job.id, owner, JobStatus::Done, None, self.clock.now())
            .await?;
        if ended {
            if let Payload::GroupMembers { group_id, .. } = &payload {
                self.finish_group(&job, &ObjectId::from_trusted(group_id.clone()))
                    .await?;
            }
            tracing::info!(job = %job.id, "job done");
        }
        Ok(true)
    }

    /// Marks a bulk group built: `completed`, or `failed` when no row could be applied;
    /// refused rows are counted and reported.
    async fn finish_group(&self, job: &Job, group_id: &ObjectId) -> Result<(), ServiceError> {
        let done = self
            .store
            .find_job(&job.application_id, &job.id)
            .await?
            .unwrap_or_else(|| job.clone());
        let status = if done.failed > 0 && done.succeeded == 0 {
            GroupStatus::Failed
        } else {
            GroupStatus::Completed
        };
        let report = (done.failed > 0).then(|| error_report_path(&done));
        self.groups
            .set_group_status(
                group_id,
                status,
                (done.failed > 0).then_some(done.failed),
                report.as_deref(),
                self.clock.now(),
            )
            .await?;
        Ok(())
    }
}

/// Rows refused before the job starts, numbered below zero so they never meet a real row.
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

/// A name for this runner, unique across nodes and restarts.
pub fn runner_name() -> String {
    format!("{}-{:016x}", std::process::id(), rand::random::<u64>())
}

/// Runs jobs one at a time, polling every second when there is none, until `shutdown`
/// (a batch in progress finishes first; the job's lease then lapses for another runner).
pub async fn run_worker(jobs: Jobs, mut shutdown: Shutdown) {
    let owner = runner_name();
    loop {
        match jobs.run_next(&owner, None).await {
            Ok(true) => continue,
            Ok(false) => {}
            Err(error) => tracing::warn!(%error, "job runner round failed"),
        }
        if shutdown.sleep(Duration::from_secs(1)).await {
            return;
        }
    }
}

/// Where a job's per-row error report is served (relative to the service's address).
pub fn error_report_path(job: &Job) -> String {
    format!(
        "/service/platform/user/v1.0/company/{}/application/{}/users/jobs/{}/errors",
        job.company_id, job.application_id, job.id
    )
}

/// One claimed job's progress through its rows.
struct Runner<'a> {
    jobs: &'a Jobs,
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
        let now = self.jobs.clock.now();
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
    async fn attributes(&mut self, rows: &[BulkRow]) -> Result<bool, ServiceError> {
        let application_id = &self.job.application_id;
        let attributes = &self.jobs.attributes;
        let definitions = attributes.definitions_for(application_id, rows).await?;
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
                match prepare_row(attributes.secrets(), &definitions, row, &mut seen) {
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
            let written = attributes
                .store()
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
    ) -> Result<bool, ServiceError> {
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
                .jobs
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
                .jobs
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
    fn progressed(&self, result: Result<(), StoreError>) -> Result<bool, ServiceError> {
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
