//! Job state (`getUsersJobByJobId`, model `BulkActionModel`) and per-row error reports.

use axum::body::{Body, Bytes};
use axum::extract::{Path, State};
use axum::http::header::CONTENT_TYPE;
use axum::response::IntoResponse;
use axum::routing::get;
use axum::{Json, Router};
use futures_util::stream::{self, StreamExt};
use patron_domain::ids::ObjectId;
use patron_store::Job;

use super::{CustomersRead, Platform};
use crate::app::AppState;
use crate::error::ApiError;
use crate::wire::job::JobOut;

/// Rows of an error report read from the store at a time.
const REPORT_PAGE: usize = 500;

pub(super) fn router() -> Router<AppState> {
    Router::new()
        .route("/users/jobs/{job_id}", get(job_state))
        .route("/users/jobs/{job_id}/errors", get(error_report))
}

async fn load(
    state: &AppState,
    caller: &Platform<CustomersRead>,
    raw: &str,
) -> Result<Job, ApiError> {
    let id = ObjectId::parse("job_id", raw)?;
    Ok(state
        .services
        .jobs
        .find(&caller.application.id, &id)
        .await?)
}

async fn job_state(
    State(state): State<AppState>,
    caller: Platform<CustomersRead>,
    Path((_, _, job_id)): Path<(String, String, String)>,
) -> Result<Json<JobOut>, ApiError> {
    let job = load(&state, &caller, &job_id).await?;
    let summary = state.services.jobs.failure_summary(&job.id).await?;
    Ok(Json(JobOut::new(job, summary)))
}

async fn error_report(
    State(state): State<AppState>,
    caller: Platform<CustomersRead>,
    Path((_, _, job_id)): Path<(String, String, String)>,
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
        .write_record(record)
        .map_err(|error| ApiError::Internal(format!("cannot write the error report: {error}")))?;
    writer
        .into_inner()
        .map_err(|error| ApiError::Internal(format!("cannot write the error report: {error}")))
}
