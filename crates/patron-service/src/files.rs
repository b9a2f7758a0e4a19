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

#[cfg(test)]
mod tests {
    use super::*;

    /// Fails every fetch the same way.
    struct Failing(fn() -> FetchFailure);

    #[async_trait]
    impl FileSource for Failing {
        async fn fetch(&self, _url: &str) -> Result<Vec<u8>, FetchFailure> {
            Err((self.0)())
        }
    }

    async fn table_error(failure: fn() -> FetchFailure) -> ServiceError {
        Files::new(Arc::new(Failing(failure)))
            .table(
                "absolute_url",
                "https://files.example/x.csv",
                FileFormat::Csv,
            )
            .await
            .expect_err("the fetch fails")
    }

    #[tokio::test]
    async fn fetch_failures_become_the_requests_fault_a_wait_or_the_services_fault() {
        match table_error(|| FetchFailure::Refused("address 10.0.0.5 is not allowed".into())).await
        {
            ServiceError::Domain(error) => assert_eq!(
                error.to_string(),
                "absolute_url: address 10.0.0.5 is not allowed"
            ),
            other => panic!("{other:?}"),
        }
        assert!(matches!(
            table_error(|| FetchFailure::Busy).await,
            ServiceError::Busy {
                retry_after_secs: BUSY_RETRY_SECS
            }
        ));
        assert!(matches!(
            table_error(|| FetchFailure::Failed("client broke".into())).await,
            ServiceError::Internal(_)
        ));
    }

    #[tokio::test]
    async fn an_unreadable_list_names_its_field() {
        struct Bytes;
        #[async_trait]
        impl FileSource for Bytes {
            async fn fetch(&self, _url: &str) -> Result<Vec<u8>, FetchFailure> {
                Ok(b"no id column\nx\n".to_vec())
            }
        }
        let error = Files::new(Arc::new(Bytes))
            .list(
                "file_url",
                "https://files.example/x.csv",
                ListFormat::UserIds,
                Region::INDIA,
            )
            .await
            .expect_err("the list has no user_id column");
        assert!(error.to_string().starts_with("file_url"), "{error}");
    }
}
