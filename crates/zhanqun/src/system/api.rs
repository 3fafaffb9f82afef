//! `/api/v1/jobs` and `/api/v1/system`.

use axum::extract::State;
use axum::http::StatusCode;
use serde::Deserialize;
use utoipa_axum::routes;

use super::Status;
use super::audit::AuditFilter;
use crate::app::App;
use crate::kernel::AppResult;
use crate::kernel::audit::{AuditView, ChainReport};
use crate::kernel::jobs::JobView;
use crate::web::api::{ApiRouter, Auth, Json};
use crate::web::problem::{ApiPath, ApiQuery};

pub fn router() -> ApiRouter {
    ApiRouter::new()
        .routes(routes!(list_jobs))
        .routes(routes!(retry_job))
        .routes(routes!(status))
        .routes(routes!(audit_trail))
        .routes(routes!(audit_csv))
        .routes(routes!(verify_audit))
}

/// The whole audit trail, newest first (the audit administrator; this look is recorded too).
#[utoipa::path(get, path = "/audit", tag = "system", params(AuditFilter),
    responses((status = 200, body = Vec<AuditView>)))]
async fn audit_trail(
    State(app): State<App>,
    Auth(actor): Auth,
    ApiQuery(f): ApiQuery<AuditFilter>,
) -> AppResult<Json<Vec<AuditView>>> {
    Ok(Json(app.audit_trail(&actor, &f).await?))
}

/// The same entries as CSV, oldest first, at most `limit` (default 1000) (the audit
/// administrator; the export is recorded).
#[utoipa::path(get, path = "/audit.csv", tag = "system", params(AuditFilter),
    responses((status = 200, description = "CSV（UTF-8，带 BOM）", content_type = "text/csv", body = String)))]
async fn audit_csv(
    State(app): State<App>,
    Auth(actor): Auth,
    ApiQuery(f): ApiQuery<AuditFilter>,
) -> AppResult<axum::response::Response> {
    use axum::response::IntoResponse;
    let csv = app.audit_csv(&actor, &f).await?;
    Ok((
        [
            (axum::http::header::CONTENT_TYPE, "text/csv; charset=utf-8"),
            (axum::http::header::CONTENT_DISPOSITION, "attachment; filename=\"audit.csv\""),
        ],
        csv,
    )
        .into_response())
}

/// Checks the audit trail's hash chain end to end: whether any entry was changed, removed or
/// slipped in past the platform (the audit administrator).
#[utoipa::path(get, path = "/audit/verify", tag = "system", responses((status = 200, body = ChainReport)))]
async fn verify_audit(State(app): State<App>, Auth(actor): Auth) -> AppResult<Json<ChainReport>> {
    Ok(Json(app.verify_audit(&actor).await?))
}

#[derive(Deserialize, utoipa::IntoParams)]
struct JobQuery {
    /// `queued`, `running`, `done` or `failed`.
    state: Option<String>,
    /// At most this many, newest first (default 100).
    limit: Option<i64>,
}

/// Background jobs, newest first (system administrators).
#[utoipa::path(get, path = "/jobs", tag = "system", params(JobQuery), responses((status = 200, body = Vec<JobView>)))]
async fn list_jobs(
    State(app): State<App>,
    Auth(actor): Auth,
    ApiQuery(q): ApiQuery<JobQuery>,
) -> AppResult<Json<Vec<JobView>>> {
    let state = q.state.as_deref().filter(|s| !s.is_empty());
    Ok(Json(app.list_jobs(&actor, state, q.limit.unwrap_or(100)).await?))
}

/// Queues a failed job again (system administrators).
#[utoipa::path(post, path = "/jobs/{id}/retry", tag = "system", params(("id" = i64, Path)),
    responses((status = 204, description = "已重新排队")))]
async fn retry_job(State(app): State<App>, Auth(actor): Auth, ApiPath(id): ApiPath<i64>) -> AppResult<StatusCode> {
    app.retry_job(&actor, id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Jobs by state, event delivery per subscriber, and this node's page cache.
#[utoipa::path(get, path = "/system/status", tag = "system", responses((status = 200, body = Status)))]
async fn status(State(app): State<App>, Auth(actor): Auth) -> AppResult<Json<Status>> {
    Ok(Json(app.status(&actor).await?))
}
