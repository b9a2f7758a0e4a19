//! Customer imports (`bulkImportStoreFrontUsers`): the file is read when the job is
//! submitted (a file that cannot be read, or whose header names an unknown column, is a 400
//! then); the runner turns its rows into customers 500 at a time, each batch committed with
//! the job's progress, so a resumed job never inserts a row twice. Refused rows (bad email,
//! taken phone, unknown password hash format, a value its attribute refuses) go to the
//! job's error report; the others land.

use std::collections::HashMap;

use patron_domain::customer::NewCustomer;
use patron_domain::import::{cell_value, ImportColumns, ImportRow};
use patron_domain::phone::Region;
use patron_store::{Actor, Conflict, ImportedCustomer, Job, JobFailure, JobKind, StoreError};
use rand::Rng;
use serde::{Deserialize, Serialize};

use super::{index, Jobs, Payload, Requester, Runner};
use crate::attributes::Checked;
use crate::hasher::{firebase_hash, HashFormat};
use crate::spreadsheet::{FileFormat, Table};
use crate::ServiceError;

/// How many times a batch is tried again after a customer written meanwhile by someone
/// else took one of its contacts or usernames (each try refuses what is now taken).
const CONFLICT_RETRIES: usize = 3;

/// An import's input: the file's header and rows, and the region of numbers without a
/// country code.
#[derive(Debug, Serialize, Deserialize)]
pub(super) struct ImportInput {
    header: Vec<String>,
    rows: Vec<Vec<String>>,
    /// The file's line (or sheet row) of each row, for the error report.
    #[serde(default)]
    lines: Vec<u32>,
    region: String,
}

impl Jobs {
    /// Imports the customers of the CSV or XLSX file at `url` (`absolute_url` in errors),
    /// named `file_name` in the job's listing, as a job.
    pub async fn import_file(
        &self,
        requester: Requester<'_>,
        url: &str,
        file_name: &str,
        format: FileFormat,
    ) -> Result<Job, ServiceError> {
        let table = self.files.table("absolute_url", url, format).await?;
        self.submit_import(requester, file_name, format, table)
            .await
    }

    /// Stores an import of `table` (read from the file named `file_name`) as a job; a header
    /// naming a column that is neither a profile column nor an attribute slug of the
    /// application is refused.
    pub async fn submit_import(
        &self,
        requester: Requester<'_>,
        file_name: &str,
        format: FileFormat,
        table: Table,
    ) -> Result<Job, ServiceError> {
        let slugs = self
            .attributes
            .definitions_by_slug(&requester.application.id, &trimmed(&table.header))
            .await?;
        let columns = ImportColumns::from_header(&table.header, |name| slugs.contains_key(name))?;
        if columns.has_salts()
            && self
                .auth_configs
                .firebase_scrypt(requester.application)
                .await?
                .is_none()
        {
            return Err(ServiceError::invalid(
                "file",
                "a password_salt column holds Firebase salts, but the application has no \
                 Firebase hash parameters (set them with `patron app firebase-scrypt`)",
            ));
        }
        let total = table.rows.len();
        let payload = Payload::CustomerImport(ImportInput {
            header: table.header,
            rows: table.rows,
            lines: table.lines,
            region: requester.application.default_region.code().to_owned(),
        });
        let mut job = self.new_job(
            requester,
            JobKind::CustomerImport,
            file_name,
            &payload,
            total,
            0,
        )?;
        job.file_format = format.as_str().to_owned();
        self.store.create_job(&job, &[]).await?;
        Ok(job)
    }
}

impl Runner<'_> {
    /// Works through an import's rows; true when every row is done.
    pub(super) async fn import(&mut self, input: &ImportInput) -> Result<bool, ServiceError> {
        let application_id = &self.job.application_id;
        let definitions = self
            .jobs
            .attributes
            .definitions_by_slug(application_id, &trimmed(&input.header))
            .await?;
        let columns = match ImportColumns::from_header(&input.header, |name| {
            definitions.contains_key(name)
        }) {
            Ok(columns) => columns,
            // A definition deleted since the job was submitted: no row can be read.
            Err(error) => {
                self.jobs
                    .store
                    .finish_job(
                        &self.job.id,
                        self.owner,
                        patron_store::JobStatus::Failed,
                        Some(&error.to_string()),
                        self.jobs.clock.now(),
                    )
                    .await?;
                return Ok(false);
            }
        };
        let region = Region::parse(&input.region).unwrap_or_default();
        let actor = Actor::new(&self.job.created_by);
        let mut batches = 0;
        while let Some(range) = self.next_range(input.rows.len(), batches) {
            if range.is_empty() {
                return Ok(true);
            }
            let mut tries = 0;
            let written = loop {
                let mut failures = Vec::new();
                let mut prepared = Vec::new();
                for (offset, cells) in input.rows[range.clone()].iter().enumerate() {
                    let row_index = index(range.start + offset);
                    let line = input.lines.get(range.start + offset).copied().unwrap_or(0);
                    match self.prepare_import_row(&columns, &definitions, cells, region, row_index)
                    {
                        Ok(customer) => prepared.push(ImportedCustomer { line, ..customer }),
                        Err(mut failure) => {
                            if line > 0 {
                                failure.error = format!("line {line}: {}", failure.error);
                            }
                            failures.push(failure);
                        }
                    }
                }
                let checkpoint = self.checkpoint(&range, failures, Vec::new());
                let result = self
                    .jobs
                    .store
                    .import_batch(application_id, &prepared, &actor, &checkpoint)
                    .await;
                match result {
                    Err(StoreError::Conflict(
                        Conflict::Email(_) | Conflict::Phone(_) | Conflict::Username(_),
                    )) if tries < CONFLICT_RETRIES => tries += 1,
                    result => break result.map(|()| checkpoint.to),
                }
            };
            match written {
                Ok(to) => self.cursor = to,
                Err(error) => {
                    self.progressed(Err(error))?;
                    return Ok(false);
                }
            }
            batches += 1;
        }
        Ok(false)
    }

    /// Row `row_index` as a customer to insert, or why not (naming the row by its email or
    /// phone).
    fn prepare_import_row(
        &self,
        columns: &ImportColumns,
        definitions: &HashMap<String, Checked>,
        cells: &[String],
        region: Region,
        row_index: i64,
    ) -> Result<ImportedCustomer, JobFailure> {
        let refuse = |user_id: String, reason: &str, error: String| JobFailure {
            row_index,
            user_id,
            error,
            reason: reason.to_owned(),
        };
        let row: ImportRow = columns
            .read(cells, region)
            .map_err(|error| refuse(columns.name_of(cells), error.reason, error.message))?;
        let user_id = row
            .email
            .as_ref()
            .map(|email| email.to_string())
            .or_else(|| row.phone.as_ref().map(|phone| phone.to_string()))
            .unwrap_or_default();
        let password_hash = match (row.password_hash, row.password_salt) {
            (Some(hash), Some(salt)) => Some(firebase_hash(&hash, &salt)),
            (hash, _) => hash,
        };
        if let Some(hash) = &password_hash {
            HashFormat::checked(hash).map_err(|message| {
                refuse(
                    user_id.clone(),
                    "unknown_hash_format",
                    format!("password_hash: {message}"),
                )
            })?;
        }
        let suffix = rand::thread_rng().gen_range(10_000..100_000_000);
        let customer = NewCustomer::new(
            self.job.application_id.clone(),
            None,
            row.profile,
            row.email,
            row.phone,
            suffix,
            self.jobs.clock.now(),
        )
        .map_err(|error| refuse(user_id.clone(), "invalid_value", error.to_string()))?
        .with_verified(true, true);
        let mut values = Vec::with_capacity(row.attributes.len());
        for (slug, text) in &row.attributes {
            let Some(definition) = definitions.get(slug) else {
                continue;
            };
            let rules = &definition.rules;
            let value = cell_value(rules.kind(), rules.multi_value(), text);
            let write = definition
                .prepare(
                    self.jobs.attributes.secrets(),
                    slug,
                    &value,
                    &customer.id,
                    false,
                )
                .map_err(|error| refuse(user_id.clone(), "invalid_value", error.to_string()))?;
            values.push(write);
        }
        Ok(ImportedCustomer {
            row_index,
            line: 0,
            customer,
            password_hash,
            values,
        })
    }
}

/// A header's names without surrounding spaces (as columns are matched).
fn trimmed(header: &[String]) -> Vec<String> {
    header.iter().map(|name| name.trim().to_owned()).collect()
}
