//! Jobs as the platform API shows them (model `BulkActionModel`): their state
//! (`getUsersJobByJobId`), per-row error reports, customer imports and exports
//! (`bulkImportStoreFrontUsers`, `createBulkExportUsers`), their lists
//! (`getBulkImportUsersList`, `getBulkExportUsersList`) and exported files.

use axum::body::{Body, Bytes};
use axum::extract::State;
use axum::http::header::{CONTENT_DISPOSITION, CONTENT_TYPE};
use axum::response::IntoResponse;
use axum::Json;
use chrono::{DateTime, NaiveDate, Utc};
use futures_util::stream::{self, StreamExt};
use patron_domain::ids::ObjectId;
use patron_domain::page::PageRequest;
use patron_domain::time::parse_rfc3339;
use patron_store::{Job, JobFilter, JobKind, JobOutcome};
use tokio::io::AsyncReadExt;

use super::attributes::text_query;
use super::{scoped, Platform};
use crate::app::AppState;
use crate::error::{ApiError, ErrorBody as ErrorSchema};
use crate::extract::PathParams;
use crate::extract::{JsonBody, QueryPairs};
use crate::wire::job::{ExportBody, ImportBody, JobOut};
use crate::wire::path::{JobFilePath, JobPath};
use crate::wire::Paged;
use patron_domain::scope::Scope;
use patron_service::spreadsheet::FileFormat;
use patron_service::ServiceError;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

/// Bytes of an exported file sent per chunk.
const FILE_CHUNK: usize = 64 * 1024;

/// Rows of an error report read from the store at a time.
const REPORT_PAGE: usize = 500;

pub(super) fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(scoped(Scope::CustomersRead, routes!(list_imports)))
        .routes(scoped(Scope::CustomersWrite, routes!(import)))
        .routes(scoped(Scope::CustomersRead, routes!(list_exports, export)))
        .routes(scoped(Scope::CustomersRead, routes!(job_state)))
        .routes(scoped(Scope::CustomersRead, routes!(error_report)))
        .routes(routes!(export_file))
}

/// The name shown for an imported file: the last segment of its path, without a query or
/// fragment (a presigned URL's credentials must not become the job's name).
fn file_name(url: &str) -> String {
    let without_query = url.split(['?', '#']).next().unwrap_or_default();
    let path = match without_query.split_once("://") {
        Some((_, rest)) => rest.split_once('/').map_or("", |(_, path)| path),
        None => without_query,
    };
    path.rsplit('/')
        .find(|part| !part.trim().is_empty())
        .unwrap_or("customers")
        .chars()
        .take(200)
        .collect()
}

/// The body's `file_format`, which must be CSV or XLSX.
fn required_format(value: Option<String>) -> Result<FileFormat, ApiError> {
    let text = value.ok_or_else(|| ApiError::required("file_format"))?;
    Ok(FileFormat::parse("file_format", &text)?)
}

/// The model of `job` as this service shows it.
async fn job_out(state: &AppState, job: Job) -> Result<JobOut, ApiError> {
    let summary = state.services.jobs.failure_summary(&job.id).await?;
    let jobs = &state.services.jobs;
    let file_query = jobs.signed_file_query(&job);
    Ok(JobOut::new(job, summary, jobs.public_url(), file_query))
}

#[utoipa::path(
    post,
    path = "/users/jobs/import",
    operation_id = "bulkImportStoreFrontUsers",
    tag = "jobs",
    summary = "Imports customers from a CSV or XLSX file at a URL, as a job.",
    request_body = ImportBody,
    params(
        crate::openapi::ApplicationPath,
    ),
    responses(
        (status = 200, description = "The job, in progress.", body = JobOut),
        crate::openapi::PlatformErrors,
    )
)]
pub(crate) async fn import(
    State(state): State<AppState>,
    caller: Platform,
    JsonBody(body): JsonBody<ImportBody>,
) -> Result<Json<JobOut>, ApiError> {
    let url = body
        .absolute_url
        .filter(|url| !url.trim().is_empty())
        .ok_or_else(|| ApiError::required("absolute_url"))?;
    let format = required_format(body.file_format)?;
    let name = file_name(body.relative_url.as_deref().unwrap_or(&url));
    let job = state
        .services
        .jobs
        .import_file(caller.requester(), &url, &name, format)
        .await?;
    Ok(Json(job_out(&state, job).await?))
}

#[utoipa::path(
    post,
    path = "/users/jobs/export",
    operation_id = "createBulkExportUsers",
    tag = "jobs",
    summary = "Exports the application's customers to a CSV or XLSX file, as a job.",
    request_body = ExportBody,
    params(
        crate::openapi::ApplicationPath,
    ),
    responses(
        (status = 200, description = "The job, in progress.", body = JobOut),
        crate::openapi::PlatformErrors,
    )
)]
pub(crate) async fn export(
    State(state): State<AppState>,
    caller: Platform,
    JsonBody(body): JsonBody<ExportBody>,
) -> Result<Json<JobOut>, ApiError> {
    let format = required_format(body.file_format)?;
    let requester = caller.requester();
    let job = state.services.jobs.submit_export(requester, format).await?;
    Ok(Json(job_out(&state, job).await?))
}

#[utoipa::path(
    get,
    path = "/users/jobs/import",
    operation_id = "getBulkImportUsersList",
    tag = "jobs",
    summary = "Lists the application's import jobs, newest first.",
    params(
        crate::openapi::ApplicationPath,
        ("page_no" = Option<String>, Query, description = "Page, from 1."),
        ("page_size" = Option<String>, Query, description = "Items per page, 1 to 100."),
        ("file_format" = Option<String>, Query, description = "`csv` or `xlsx`."),
        ("search" = Option<String>, Query, description = "Text the file name contains."),
        ("start_date" = Option<String>, Query, description = "Jobs submitted from this date (YYYY-MM-DD) or RFC 3339 time."),
        ("end_date" = Option<String>, Query, description = "Jobs submitted until this date or time."),
        ("status" = Option<String>, Query, description = "`inprogress`, `complete`, `partial` or `failed`."),
    ),
    responses(
        (status = 200, description = "One page of jobs.", body = Paged<JobOut>),
        crate::openapi::PlatformErrors,
    )
)]
pub(crate) async fn list_imports(
    State(state): State<AppState>,
    caller: Platform,
    query: QueryPairs,
) -> Result<Json<Paged<JobOut>>, ApiError> {
    list(state, caller, query, JobKind::CustomerImport).await
}

#[utoipa::path(
    get,
    path = "/users/jobs/export",
    operation_id = "getBulkExportUsersList",
    tag = "jobs",
    summary = "Lists the application's export jobs, newest first.",
    params(
        crate::openapi::ApplicationPath,
        ("page_no" = Option<String>, Query, description = "Page, from 1."),
        ("page_size" = Option<String>, Query, description = "Items per page, 1 to 100."),
        ("file_format" = Option<String>, Query, description = "`csv` or `xlsx`."),
        ("search" = Option<String>, Query, description = "Text the file name contains."),
        ("start_date" = Option<String>, Query, description = "Jobs submitted from this date (YYYY-MM-DD) or RFC 3339 time."),
        ("end_date" = Option<String>, Query, description = "Jobs submitted until this date or time."),
        ("status" = Option<String>, Query, description = "`inprogress`, `complete`, `partial` or `failed`."),
    ),
    responses(
        (status = 200, description = "One page of jobs.", body = Paged<JobOut>),
        crate::openapi::PlatformErrors,
    )
)]
pub(crate) async fn list_exports(
    State(state): State<AppState>,
    caller: Platform,
    query: QueryPairs,
) -> Result<Json<Paged<JobOut>>, ApiError> {
    list(state, caller, query, JobKind::CustomerExport).await
}

/// A job list with the spec's filters.
async fn list(
    state: AppState,
    caller: Platform,
    query: QueryPairs,
    kind: JobKind,
) -> Result<Json<Paged<JobOut>>, ApiError> {
    let page = PageRequest::parse(query.get("page_no"), query.get("page_size"))?;
    let file_format = text_query(&query, "file_format")
        .map(|format| FileFormat::parse("file_format", &format))
        .transpose()?;
    let outcome = text_query(&query, "status")
        .map(|status| {
            JobOutcome::parse(&status.to_ascii_lowercase()).ok_or_else(|| {
                ApiError::validation(
                    "status",
                    format!(
                        "unknown status '{status}'; expected inprogress, complete, partial or \
                         failed"
                    ),
                )
            })
        })
        .transpose()?;
    let filter = JobFilter {
        file_format: file_format.map(|format| format.as_str().to_owned()),
        search: text_query(&query, "search"),
        from: date_query(&query, "start_date", false)?,
        to: date_query(&query, "end_date", true)?,
        outcome,
    };
    let (jobs, total) = state
        .services
        .jobs
        .list(&caller.application.id, kind, &filter, page)
        .await?;
    let mut items = Vec::with_capacity(jobs.len());
    for job in jobs {
        items.push(job_out(&state, job).await?);
    }
    Ok(Json(Paged::new(items, page.info(total))))
}

/// A time query: RFC 3339, or a date meaning its first (`end_of_day`: last) millisecond.
fn date_query(
    query: &QueryPairs,
    key: &str,
    end_of_day: bool,
) -> Result<Option<DateTime<Utc>>, ApiError> {
    let Some(raw) = text_query(query, key) else {
        return Ok(None);
    };
    if let Some(at) = parse_rfc3339(&raw) {
        return Ok(Some(at));
    }
    let date = NaiveDate::parse_from_str(&raw, "%Y-%m-%d").map_err(|_| {
        ApiError::validation(
            key,
            format!("must be a date (YYYY-MM-DD) or an RFC 3339 time, got '{raw}'"),
        )
    })?;
    let time = if end_of_day {
        date.and_hms_milli_opt(23, 59, 59, 999)
    } else {
        date.and_hms_opt(0, 0, 0)
    };
    Ok(time.map(|at| at.and_utc()))
}

#[utoipa::path(
    get,
    path = "/users/jobs/{job_id}/file",
    operation_id = "downloadExportFile",
    tag = "jobs",
    summary = "Downloads an exported file through its signed link (the link is the credential).",
    params(
        crate::openapi::ApplicationPath,
        JobPath,
        ("expires" = String, Query, description = "Unix seconds the link is valid until."),
        ("signature" = String, Query, description = "The link's signature."),
    ),
    responses(
        (status = 200, description = "The file: CSV, or an XLSX workbook (application/vnd.openxmlformats-officedocument.spreadsheetml.sheet).", content_type = "text/csv"),
        (status = 403, description = "The link is not valid or has expired.", body = ErrorSchema),
        (status = 404, description = "No such job or file.", body = ErrorSchema),
    ),
    security(())
)]
/// An exported file, for whoever holds an unexpired signed link (no token: the link is the
/// credential, so a browser can follow it).
pub(crate) async fn export_file(
    State(state): State<AppState>,
    PathParams(JobFilePath {
        application_id,
        job_id,
    }): PathParams<JobFilePath>,
    query: QueryPairs,
) -> Result<impl IntoResponse, ApiError> {
    let refused = |message: String| ApiError::Forbidden(message);
    let (Some(expires), Some(signature)) = (query.get("expires"), query.get("signature")) else {
        return Err(refused(
            "a download link needs its expires and signature".to_owned(),
        ));
    };
    let expires: i64 = expires
        .parse()
        .map_err(|_| refused("expires: must be a whole number of seconds".to_owned()))?;
    let application_id = ObjectId::parse("application_id", &application_id)?;
    let job_id = ObjectId::parse("job_id", &job_id)?;
    let file = match state
        .services
        .jobs
        .export_file(&application_id, &job_id, expires, signature)
        .await
    {
        Err(ServiceError::Unauthenticated(message)) => return Err(refused(message)),
        other => other?,
    };
    let reader = tokio::fs::File::open(&file.path)
        .await
        .map_err(|error| ApiError::Internal(format!("cannot open the exported file: {error}")))?;
    // A chunk at a time: memory stays flat however large the file.
    let chunks = stream::unfold(Some(reader), |reader| async move {
        let mut reader = reader?;
        let mut buffer = vec![0; FILE_CHUNK];
        match reader.read(&mut buffer).await {
            Ok(0) => None,
            Ok(read) => {
                buffer.truncate(read);
                Some((Ok::<_, std::io::Error>(Bytes::from(buffer)), Some(reader)))
            }
            Err(error) => Some((Err(error), None)),
        }
    });
    Ok((
        [
            (CONTENT_TYPE, file.format.content_type().to_owned()),
            (
                CONTENT_DISPOSITION,
                format!("attachment; filename=\"{}\"", file.download_name),
            ),
        ],
        Body::from_stream(chunks),
    ))
}

async fn load(state: &AppState, caller: &Platform, id: &ObjectId) -> Result<Job, ApiError> {
    Ok(state.services.jobs.find(&caller.application.id, id).await?)
}

#[utoipa::path(
    get,
    path = "/users/jobs/{job_id}",
    operation_id = "getUsersJobByJobId",
    tag = "jobs",
    summary = "Reads a background job's progress.",
    params(
        crate::openapi::ApplicationPath,
        JobPath,
    ),
    responses(
        (status = 200, description = "The job.", body = JobOut),
        (status = 404, description = "No such job.", body = ErrorSchema),
        crate::openapi::PlatformErrors,
    )
)]
pub(crate) async fn job_state(
    State(state): State<AppState>,
    caller: Platform,
    PathParams(JobPath { job_id }): PathParams<JobPath>,
) -> Result<Json<JobOut>, ApiError> {
    let job = load(&state, &caller, &job_id).await?;
    Ok(Json(job_out(&state, job).await?))
}

#[utoipa::path(
    get,
    path = "/users/jobs/{job_id}/errors",
    operation_id = "getUsersJobErrors",
    tag = "jobs",
    summary = "Reads a job's refused rows as CSV (row, user_id, reason, error).",
    params(
        crate::openapi::ApplicationPath,
        JobPath,
    ),
    responses(
        (status = 200, description = "The refused rows.", content_type = "text/csv"),
        (status = 404, description = "No such job.", body = ErrorSchema),
        crate::openapi::PlatformErrors,
    )
)]
pub(crate) async fn error_report(
    State(state): State<AppState>,
    caller: Platform,
    PathParams(JobPath { job_id }): PathParams<JobPath>,
) -> Result<impl IntoResponse, ApiError> {
    let job = load(&state, &caller, &job_id).await?;
    let header = csv_line(["row", "user_id", "reason", "error"])?;
    // A page of rows at a time: memory stays flat however many rows the job refused.
    let pages = stream::unfold(Some(i64::MIN), move |after| {
        let state = state.clone();
        let job_id = job.id.clone();
        async move {
            let after = after?;
            let page = match state
                .services
                .jobs
                .failures(&job_id, after, REPORT_PAGE)
                .await
            {
                Ok(page) => page,
                Err(error) => {
                    tracing::error!(%job_id, %error, "the error report stopped");
                    return Some((Err(std::io::Error::other("the error report stopped")), None));
                }
            };
            let next = (page.len() == REPORT_PAGE)
                .then(|| page.last().map(|failure| failure.row_index))
                .flatten();
            let mut chunk = Vec::new();
            for failure in &page {
                let row = if failure.row_index < 0 {
                    String::new()
                } else {
                    (failure.row_index + 1).to_string()
                };
                match csv_line([&row, &failure.user_id, &failure.reason, &failure.error]) {
                    Ok(line) => chunk.extend(line),
                    Err(_) => return Some((Err(std::io::Error::other("bad row")), None)),
                }
            }
            (!page.is_empty()).then_some((Ok(Bytes::from(chunk)), next))
        }
    });
    let body = stream::once(async move { Ok(Bytes::from(header)) }).chain(pages);
    Ok((
        [(CONTENT_TYPE, "text/csv; charset=utf-8")],
        Body::from_stream(body),
    ))
}

/// One CSV record, with its line ending.
fn csv_line<const N: usize>(record: [&str; N]) -> Result<Vec<u8>, ApiError> {
    let mut writer = csv::Writer::from_writer(Vec::new());
    writer
        .write_record(record.map(|cell| patron_service::spreadsheet::escape(cell).into_owned()))
        .map_err(|error| ApiError::Internal(format!("cannot write the error report: {error}")))?;
    writer
        .into_inner()
        .map_err(|error| ApiError::Internal(format!("cannot write the error report: {error}")))
}

#[cfg(test)]
mod tests {
    use super::file_name;

    #[test]
    fn file_names_leave_queries_and_hosts_out() {
        assert_eq!(file_name("/files/customers.csv"), "customers.csv");
        assert_eq!(
            file_name("https://bucket.s3.amazonaws.com/in/march.xlsx?X-Amz-Signature=abc#x"),
            "march.xlsx"
        );
        assert_eq!(file_name("https://example.com"), "customers");
        assert_eq!(file_name(""), "customers");
    }
}
