//! Customer exports (`createBulkExportUsers`): the runner reads the application's live
//! customers a page at a time (keyset order), with their contacts and attribute values
//! (opened when encrypted; never password material), and writes them as CSV or XLSX into
//! the export directory on the blocking pool, one page in memory at a time. The file is
//! downloaded through a link signed with the service's key that expires (`file_url`).
//! An export taken over after a crash writes its file again from the start.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use chrono::{DateTime, Utc};
use patron_domain::customer::Customer;
use patron_domain::ids::ObjectId;
use patron_domain::page::PageRequest;
use patron_domain::time::to_wire;
use patron_store::{DefinitionFilter, Entity, Job, JobKind, JobStatus, StoreError};
use serde_json::Value;

use super::{Jobs, Payload, Requester, Runner};
use crate::secrets::SecretBox;
use crate::spreadsheet::{FileFormat, TableWriter};
use crate::ServiceError;

/// Customers read, and written, per page.
const PAGE: usize = 500;

/// The columns before the attribute slugs (the import's columns, plus the customer's id,
/// username, state and times, which an import ignores).
const COLUMNS: [&str; 12] = [
    "user_id",
    "username",
    "first_name",
    "last_name",
    "gender",
    "external_id",
    "email",
    "phone_number",
    "country_code",
    "active",
    "created_at",
    "updated_at",
];

/// Where exported files are kept and how links to them are signed.
#[derive(Clone)]
pub struct ExportFiles {
    dir: PathBuf,
    public_url: String,
    link_ttl: chrono::Duration,
    secrets: SecretBox,
}

/// An exported file ready to be sent.
#[derive(Debug, Clone)]
pub struct ExportFile {
    /// Where it is.
    pub path: PathBuf,
    /// Its format.
    pub format: FileFormat,
    /// The name to download it under.
    pub download_name: String,
}

impl ExportFiles {
    /// Files kept in `dir`, downloaded from `public_url` (the service's address) through
    /// links valid for `link_ttl`, signed with a key derived from `secrets`.
    pub fn new(
        dir: PathBuf,
        public_url: String,
        link_ttl: chrono::Duration,
        secrets: SecretBox,
    ) -> Self {
        Self {
            dir,
            public_url,
            link_ttl,
            secrets,
        }
    }

    fn signature(&self, job_id: &str, expires: i64) -> String {
        self.secrets
            .mac(&["export-file", job_id, &expires.to_string()])
    }

    /// The query of a link to `job`'s file valid from `now` for the link lifetime:
    /// `expires=<unix seconds>&signature=<hex>`; `None` before the file exists.
    pub fn signed_query(&self, job: &Job, now: DateTime<Utc>) -> Option<String> {
        job.result_file.as_ref()?;
        let expires = (now + self.link_ttl).timestamp();
        let signature = self.signature(job.id.as_str(), expires);
        Some(format!("expires={expires}&signature={signature}"))
    }

    /// Whether a link's `expires` and `signature` are this service's, for `job_id`, and
    /// still valid at `now`.
    pub fn verify(&self, job_id: &str, expires: i64, signature: &str, now: DateTime<Utc>) -> bool {
        let expected = self.signature(job_id, expires);
        patron_domain::secret::same(&expected, signature) && now.timestamp() <= expires
    }
}

impl ExportFiles {
    /// Deletes exported files last written before `before` (their jobs are purged with
    /// them); returns how many. A missing directory holds nothing.
    pub fn purge(&self, before: DateTime<Utc>) -> std::io::Result<u64> {
        let entries = match std::fs::read_dir(&self.dir) {
            Ok(entries) => entries,
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => return Ok(0),
            Err(error) => return Err(error),
        };
        let mut removed = 0;
        for entry in entries {
            let entry = entry?;
            let written: DateTime<Utc> = entry.metadata()?.modified()?.into();
            if entry.file_type()?.is_file() && written < before {
                std::fs::remove_file(entry.path())?;
                removed += 1;
            }
        }
        Ok(removed)
    }
}

/// Where a job's file is served (relative to the service's address), without its query.
pub fn export_file_path(job: &Job) -> String {
    format!(
        "/service/platform/user/v1.0/company/{}/application/{}/users/jobs/{}/file",
        job.company_id, job.application_id, job.id
    )
}

impl Jobs {
    /// Stores an export of the application's customers as a job.
    pub async fn submit_export(
        &self,
        requester: Requester<'_>,
        format: FileFormat,
    ) -> Result<Job, ServiceError> {
        let now = self.clock.now();
        let file_name = format!(
            "customers-{}.{}",
            now.format("%Y%m%d-%H%M%S"),
            format.as_str()
        );
        let mut job = self.new_job(
            requester,
            JobKind::CustomerExport,
            &file_name,
            &Payload::CustomerExport {},
            0,
            0,
        )?;
        job.file_format = format.as_str().to_owned();
        self.store.create_job(&job, &[]).await?;
        Ok(job)
    }

    /// The service's address, which links to job reports and files start with.
    pub fn public_url(&self) -> &str {
        &self.exports.public_url
    }

    /// The query that signs a link to the job's file, when it has one.
    pub fn signed_file_query(&self, job: &Job) -> Option<String> {
        self.exports.signed_query(job, self.clock.now())
    }

    /// The exported file of job `job_id`, if the link's `expires` and `signature` are valid
    /// for it; `Unauthenticated` when they are not, `NotFound` when there is no such file.
    pub async fn export_file(
        &self,
        application_id: &ObjectId,
        job_id: &ObjectId,
        expires: i64,
        signature: &str,
    ) -> Result<ExportFile, ServiceError> {
        if !self
            .exports
            .verify(job_id.as_str(), expires, signature, self.clock.now())
        {
            return Err(ServiceError::Unauthenticated(
                "the download link is not valid or has expired; read the job again for a new one"
                    .to_owned(),
            ));
        }
        let job = self.find(application_id, job_id).await?;
        let not_found = || StoreError::not_found(Entity::Job, job_id);
        let name = job.result_file.as_deref().ok_or_else(not_found)?;
        let format = FileFormat::parse("file_format", &job.file_format)?;
        Ok(ExportFile {
            path: self.exports.dir.join(name),
            format,
            download_name: job.file_name.clone(),
        })
    }
}

impl Runner<'_> {
    /// Writes the export; true when the file is complete (the job is then finished here).
    pub(super) async fn export(&mut self) -> Result<bool, ServiceError> {
        let format = FileFormat::parse("file_format", &self.job.file_format)?;
        // Each runner writes files of its own: one that lost its lease cannot write into, or
        // rename over, the file of the runner that took over.
        let name = format!("{}.{}.{}", self.job.id, self.owner, format.as_str());
        let dir = self.jobs.exports.dir.clone();
        let partial = dir.join(format!("{name}.part"));
        let written = match self.write_export(format, &partial).await? {
            Written::Rows(rows) => rows,
            Written::LeaseLost => {
                remove(&partial);
                return Ok(false);
            }
            Written::Refused(message) => {
                // A file that cannot be written (an XLSX limit, a full disk) will not be
                // written by trying again: the job fails, saying why.
                remove(&partial);
                tracing::warn!(job = %self.job.id, %message, "export failed");
                self.jobs
                    .store
                    .finish_job(
                        &self.job.id,
                        self.owner,
                        JobStatus::Failed,
                        Some(&message),
                        self.jobs.clock.now(),
                    )
                    .await?;
                return Ok(true);
            }
        };
        let now = self.jobs.clock.now();
        if self
            .jobs
            .store
            .finish_export(&self.job.id, self.owner, &name, written, now)
            .await?
        {
            tracing::info!(job = %self.job.id, rows = written, "export written");
        } else {
            remove(&dir.join(&name));
        }
        Ok(true)
    }

    /// Writes every live customer to `partial`, then renames it to its final name (the
    /// same without `.part`).
    async fn write_export(
        &mut self,
        format: FileFormat,
        partial: &Path,
    ) -> Result<Written, ServiceError> {
        let jobs = self.jobs;
        let application_id = self.job.application_id.clone();
        let slugs = self.definition_slugs(&application_id).await?;
        let mut header: Vec<String> = COLUMNS.iter().map(|c| (*c).to_owned()).collect();
        header.extend(slugs.iter().map(|(_, slug)| slug.clone()));
        let order: Vec<ObjectId> = slugs.into_iter().map(|(id, _)| id).collect();
        let (dir, path) = (jobs.exports.dir.clone(), partial.to_owned());
        let started = blocking(move || {
            std::fs::create_dir_all(&dir)
                .map_err(|error| format!("cannot create {}: {error}", dir.display()))?;
            let mut writer = TableWriter::create(&path, format)?;
            writer.write_row(&header)?;
            Ok(writer)
        })
        .await?;
        let mut writer = match started {
            Ok(writer) => writer,
            Err(message) => return Ok(Written::Refused(message)),
        };
        if self.cursor != 0 && !self.moved_to(0).await? {
            return Ok(Written::LeaseLost);
        }
        let mut after: Option<ObjectId> = None;
        loop {
            let page = jobs
                .customers
                .customers_after(&application_id, after.as_ref(), PAGE)
                .await?;
            let Some(last) = page.last() else { break };
            after = Some(last.id.clone());
            let ids: Vec<ObjectId> = page.iter().map(|c| c.id.clone()).collect();
            let mut values: HashMap<(ObjectId, ObjectId), String> = HashMap::new();
            for value in jobs
                .attributes
                .values_of(&application_id, &ids, &[])
                .await?
            {
                let text = match value.plain {
                    Value::String(text) => text,
                    other => other.to_string(),
                };
                values.insert((value.stored.customer_id, value.stored.definition_id), text);
            }
            let rows: Vec<Vec<String>> = page
                .iter()
                .map(|customer| row(customer, &order, &values))
                .collect();
            let count = rows.len();
            let page_written = blocking(move || {
                for row in &rows {
                    writer.write_row(row)?;
                }
                Ok(writer)
            })
            .await?;
            writer = match page_written {
                Ok(writer) => writer,
                Err(message) => return Ok(Written::Refused(message)),
            };
            if !self.moved_to(self.cursor + super::index(count)).await? {
                return Ok(Written::LeaseLost);
            }
        }
        // Saving a large workbook takes a while: the lease is renewed first.
        if !self.moved_to(self.cursor).await? {
            return Ok(Written::LeaseLost);
        }
        let (from, to) = (partial.to_owned(), partial.with_extension(""));
        let saved = blocking(move || {
            writer.finish()?;
            std::fs::rename(&from, &to).map_err(|error| format!("cannot keep the file: {error}"))
        })
        .await?;
        Ok(match saved {
            Ok(()) => Written::Rows(self.cursor),
            Err(message) => Written::Refused(message),
        })
    }

    /// Renews the lease with the cursor moved to `to`; false when the lease was lost.
    async fn moved_to(&mut self, to: i64) -> Result<bool, ServiceError> {
        let range = usize::try_from(self.cursor).unwrap_or_default()
            ..usize::try_from(to).unwrap_or_default();
        let mut checkpoint = self.checkpoint(&range, Vec::new(), Vec::new());
        checkpoint.to = to;
        let moved = self.jobs.store.checkpoint(&checkpoint).await;
        if !self.progressed(moved)? {
            return Ok(false);
        }
        self.cursor = to;
        Ok(true)
    }

    /// Every attribute definition of the application: id → slug, in slug order.
    async fn definition_slugs(
        &self,
        application_id: &ObjectId,
    ) -> Result<Vec<(ObjectId, String)>, ServiceError> {
        let mut slugs = Vec::new();
        for page_no in 1.. {
            let page = PageRequest::parse(Some(&page_no.to_string()), Some("100"))?;
            let (definitions, total) = self
                .jobs
                .attributes
                .store()
                .list_definitions(application_id, &DefinitionFilter::default(), page)
                .await?;
            let done = definitions.is_empty();
            for definition in definitions {
                slugs.push((definition.id.clone(), definition.spec.slug.clone()));
            }
            if done || slugs.len() as u64 >= total {
                break;
            }
        }
        slugs.sort_by(|a, b| a.1.cmp(&b.1));
        Ok(slugs)
    }
}

/// One customer's row: the fixed columns, then a cell per definition in `order`.
fn row(
    customer: &Customer,
    order: &[ObjectId],
    values: &HashMap<(ObjectId, ObjectId), String>,
) -> Vec<String> {
    let text = |value: &Option<String>| value.clone().unwrap_or_default();
    let profile = &customer.profile;
    let email = customer.emails.first().map(|e| e.email.to_string());
    let phone = customer.phones.first();
    let mut cells = vec![
        customer.id.to_string(),
        customer.username.clone(),
        text(&profile.first_name),
        text(&profile.last_name),
        text(&profile.gender),
        text(&profile.external_id),
        email.unwrap_or_default(),
        phone
            .map(|p| p.phone.national().to_owned())
            .unwrap_or_default(),
        phone
            .map(|p| p.phone.country_code().to_string())
            .unwrap_or_default(),
        customer.active.to_string(),
        to_wire(customer.created_at),
        to_wire(customer.updated_at),
    ];
    for definition in order {
        cells.push(
            values
                .get(&(customer.id.clone(), definition.clone()))
                .cloned()
                .unwrap_or_default(),
        );
    }
    cells
}

/// How writing an export ended.
enum Written {
    /// Every customer written: this many rows.
    Rows(i64),
    /// Another runner took the job over.
    LeaseLost,
    /// The file cannot be written; why.
    Refused(String),
}

/// Runs file work on the blocking pool; the inner error says why the file could not be
/// written.
async fn blocking<T: Send + 'static>(
    work: impl FnOnce() -> Result<T, String> + Send + 'static,
) -> Result<Result<T, String>, ServiceError> {
    tokio::task::spawn_blocking(work)
        .await
        .map_err(|error| ServiceError::Internal(format!("export writer stopped: {error}")))
}

/// Removes a file this runner wrote, if it is there.
fn remove(path: &Path) {
    if let Err(error) = std::fs::remove_file(path) {
        if error.kind() != std::io::ErrorKind::NotFound {
            tracing::warn!(path = %path.display(), %error, "cannot remove an export file");
        }
    }
}
