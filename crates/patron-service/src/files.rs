//! Files a request names by URL (customer imports, group member lists, id lists): fetched
//! through the server's guarded fetcher behind the [`FileSource`] port, then parsed on the
//! blocking pool, so a large file does not hold up the requests sharing a worker thread.

use std::sync::Arc;

use async_trait::async_trait;
use patron_domain::csv_list::{self, ListFormat, ParsedList};
use patron_domain::phone::Region;

use crate::spreadsheet::{self, FileFormat, Table};
use crate::ServiceError;

/// Why a file could not be had.
#[derive(Debug, thiserror::Error)]
pub enum FetchFailure {
    /// The URL or its answer is unusable (refused address, not found, too large, …): the
    /// request's fault, told to the caller.
    #[error("{0}")]
    Refused(String),
    /// Every download slot stayed busy: try again later.
    #[error("too many downloads are running")]
    Busy,
    /// The service itself failed.
    #[error("{0}")]
    Failed(String),
}

/// Where files named by URL come from.
#[async_trait]
pub trait FileSource: Send + Sync {
    /// The bytes at `url`.
    async fn fetch(&self, url: &str) -> Result<Vec<u8>, FetchFailure>;
}

/// Seconds a caller is asked to wait when every download slot is busy.
const BUSY_RETRY_SECS: u64 = 10;

/// Fetches and parses the files requests name.
#[derive(Clone)]
pub struct Files {
    source: Arc<dyn FileSource>,
}

impl Files {
    /// Files fetched from `source`.
    pub fn new(source: Arc<dyn FileSource>) -> Self {
        Self { source }
    }

    /// The CSV list at `url` (named by request field `field` in errors).
    pub async fn list(
        &self,
        field: &str,
        url: &str,
        format: ListFormat,
        region: Region,
    ) -> Result<ParsedList, ServiceError> {
        let bytes = self.bytes(field, url).await?;
        tokio::task::spawn_blocking(move || csv_list::parse(&bytes, format, region))
            .await
            .map_err(|error| ServiceError::Internal(format!("parsing {field}: {error}")))?
            .map_err(|error| ServiceError::invalid(field, error.to_string()))
    }

    /// The CSV or XLSX table at `url` (named by request field `field` in errors).
    pub async fn table(
        &self,
        field: &str,
        url: &str,
        format: FileFormat,
    ) -> Result<Table, ServiceError> {
        let bytes = self.bytes(field, url).await?;
        tokio::task::spawn_blocking(move || spreadsheet::read_table(&bytes, format))
            .await
            .map_err(|error| ServiceError::Internal(format!("reading {field}: {error}")))?
            .map_err(|message| ServiceError::invalid(field, message))
    }

    async fn bytes(&self, field: &str, url: &str) -> Result<Vec<u8>, ServiceError> {
        self.source
            .fetch(url.trim())
            .await
            .map_err(|failure| match failure {
                FetchFailure::Refused(message) => ServiceError::invalid(field, message),
                FetchFailure::Busy => ServiceError::Busy {
                    retry_after_secs: BUSY_RETRY_SECS,
                },
                FetchFailure::Failed(message) => ServiceError::Internal(message),
            })
    }
}
