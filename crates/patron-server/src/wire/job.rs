//! Customer import and export requests, and `BulkActionModel`: a background job's progress
//! as the seed shows it.

use std::collections::BTreeMap;

use patron_domain::time::to_wire;
use patron_store::{Job, JobKind, JobOutcome};
use serde::{Deserialize, Serialize};

use patron_service::{error_report_path, export_file_path};

/// `CreateStoreFrontUsersPayload`.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[schema(as = CreateStoreFrontUsersPayload)]
pub(crate) struct ImportBody {
    /// Where the file is (fetched by the server, public addresses only).
    #[schema(required = true, value_type = String)]
    pub(crate) absolute_url: Option<String>,
    /// `CSV` or `XLSX`.
    #[schema(required = true, value_type = String)]
    pub(crate) file_format: Option<String>,
    /// The file's path, whose last segment names the job.
    #[schema(required = true, value_type = String)]
    pub(crate) relative_url: Option<String>,
}

/// `BulkUserExportSchema`.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[schema(as = BulkUserExportSchema)]
pub(crate) struct ExportBody {
    /// `CSV` or `XLSX`.
    #[schema(required = true, value_type = String)]
    pub(crate) file_format: Option<String>,
}

/// `BulkActionModel`.
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[schema(as = BulkActionModel)]
pub(crate) struct JobOut {
    #[serde(rename = "_id")]
    id: String,
    file_name: String,
    file_format: String,
    action_type: &'static str,
    created_by: CreatedByOut,
    count: CountOut,
    status: &'static str,
    links: BTreeMap<&'static str, LinkOut>,
    application_id: String,
    company_id: String,
    created_at: String,
    updated_at: String,
    kind: &'static str,
    processed: i64,
    error_summary: BTreeMap<String, i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    error: Option<String>,
}

/// `CreatedBySchema`.
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[schema(as = CreatedBySchema)]
struct CreatedByOut {
    name: String,
    user_id: String,
}

/// `BulkActionCountSchema`.
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[schema(as = BulkActionCountSchema)]
struct CountOut {
    total: i64,
    success: i64,
    error: i64,
}

/// `FileLinks`-like link to a report.
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[schema(as = FileLinks)]
struct LinkOut {
    absolute_url: String,
    relative_url: String,
}

impl JobOut {
    /// The job with its refused rows counted by reason; `public_url` is the service's
    /// address and `file_query` signs the link to an export's file.
    pub(crate) fn new(
        job: Job,
        summary: Vec<(String, i64)>,
        public_url: &str,
        file_query: Option<String>,
    ) -> Self {
        let status = JobOutcome::of(job.status, job.succeeded, job.failed).as_str();
        let link = |path: String| LinkOut {
            absolute_url: format!("{public_url}{path}"),
            relative_url: path,
        };
        let mut links = BTreeMap::new();
        if job.failed > 0 {
            links.insert("error", link(error_report_path(&job)));
        }
        if let Some(query) = file_query {
            links.insert("file", link(format!("{}?{query}", export_file_path(&job))));
        }
        let file_format = match (job.file_format.as_str(), job.kind) {
            ("", JobKind::GroupMembers) => "csv".to_owned(),
            ("", _) => "json".to_owned(),
            (format, _) => format.to_owned(),
        };
        let action_type = match job.kind {
            JobKind::CustomerExport => "export",
            _ => "import",
        };
        Self {
            id: job.id.to_string(),
            file_format,
            file_name: job.file_name,
            action_type,
            created_by: CreatedByOut {
                name: job.created_by.clone(),
                user_id: job.created_by,
            },
            count: CountOut {
                total: job.total,
                success: job.succeeded,
                error: job.failed,
            },
            status,
            links,
            application_id: job.application_id.to_string(),
            company_id: job.company_id,
            created_at: to_wire(job.created_at),
            updated_at: to_wire(job.updated_at),
            kind: job.kind.as_str(),
            processed: job.cursor,
            error_summary: summary.into_iter().collect(),
            error: job.error,
        }
    }
}
