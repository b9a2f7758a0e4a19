//! Job state (`getUsersJobByJobId`, model `BulkActionModel`) and per-row error reports.

use axum::extract::{Path, State};
use axum::http::header::CONTENT_TYPE;
use axum::response::IntoResponse;
use axum::routing::get;
use axum::{Json, Router};
use patron_domain::ids::ObjectId;
use patron_store::Job;

use super::{CustomersRead, Platform};
use crate::app::AppState;
use crate::error::ApiError;
use crate::wire::job::JobOut;

/// Most rows an error report lists.
const REPORT_ROWS: usize = 1_000_000;

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
    let failures = state.services.jobs.failures(&job.id, REPORT_ROWS).await?;
    let mut writer = csv::Writer::from_writer(Vec::new());
    let write = |writer: &mut csv::Writer<Vec<u8>>, record: [&str; 4]| {
        writer
            .write_record(record)
            .map_err(|error| ApiError::Internal(format!("cannot write the error report: {error}")))
    };
    write(&mut writer, ["row", "user_id", "reason", "error"])?;
    for failure in &failures {
        let row = if failure.row_index < 0 {
            String::new()
        } else {
            (failure.row_index + 1).to_string()
        };
        write(
            &mut writer,
            [&row, &failure.user_id, &failure.reason, &failure.error],
        )?;
    }
    let bytes = writer
        .into_inner()
        .map_err(|error| ApiError::Internal(format!("cannot write the error report: {error}")))?;
    Ok(([(CONTENT_TYPE, "text/csv; charset=utf-8")], bytes))
}
