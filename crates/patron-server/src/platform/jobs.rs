//! Job state (`getUsersJobByJobId`, model `BulkActionModel`) and per-row error reports.

use axum::extract::{Path, State};
use axum::http::header::CONTENT_TYPE;
use axum::response::IntoResponse;
use axum::routing::get;
use axum::{Json, Router};
use patron_domain::ids::ObjectId;
use patron_domain::time::to_wire;
use patron_store::{Job, JobStatus};
use serde_json::{json, Map, Value};

use super::{CustomersRead, Platform};
use crate::app::AppState;
use crate::error::ApiError;
use crate::service::error_report_path;

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
) -> Result<Json<Value>, ApiError> {
    let job = load(&state, &caller, &job_id).await?;
    let summary: Map<String, Value> = state
        .services
        .jobs
        .failure_summary(&job.id)
        .await?
        .into_iter()
        .map(|(reason, count)| (reason, json!(count)))
        .collect();
    let status = match job.status {
        JobStatus::Pending | JobStatus::Running => "inprogress",
        JobStatus::Failed => "failed",
        JobStatus::Done if job.failed == 0 => "complete",
        JobStatus::Done if job.succeeded == 0 => "failed",
        JobStatus::Done => "partial",
    };
    let mut links = Map::new();
    if job.failed > 0 {
        let path = error_report_path(&job);
        links.insert(
            "error".to_owned(),
            json!({ "absolute_url": path, "relative_url": path }),
        );
    }
    let mut body = json!({
        "_id": job.id.as_str(),
        "file_name": job.file_name,
        "file_format": if job.file_name.ends_with(".csv") { "csv" } else { "json" },
        "action_type": "import",
        "created_by": { "name": job.created_by, "user_id": job.created_by },
        "count": { "total": job.total, "success": job.succeeded, "error": job.failed },
        "status": status,
        "links": links,
        "application_id": job.application_id.as_str(),
        "company_id": job.company_id,
        "created_at": to_wire(job.created_at),
        "updated_at": to_wire(job.updated_at),
        "kind": job.kind,
        "processed": job.cursor,
        "error_summary": summary,
    });
    if let Some(error) = &job.error {
        body["error"] = json!(error);
    }
    Ok(Json(body))
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
