//! `/api/v1/monitor/…`: the monitor's watched sites, their runs and reports, the external
//! sites the web office adds, and checks on request.

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use utoipa_axum::routes;

use super::daily::{RunSummary, Subject, TargetInput, Watched};
use super::notices::{AnswerInput, Notice, NoticeInput};
use crate::app::App;
use crate::kernel::AppResult;
use crate::web::api::{ApiRouter, Auth, Created, Json, download};
use crate::web::problem::{ApiJson, ApiPath, ApiQuery};

pub fn router() -> ApiRouter {
    ApiRouter::new()
        .routes(routes!(watched, add_target))
        .routes(routes!(ranking_csv))
        .routes(routes!(ranking_xlsx))
        .routes(routes!(remove_target))
        .routes(routes!(runs))
        .routes(routes!(run))
        .routes(routes!(run_xlsx))
        .routes(routes!(request_check))
        .routes(routes!(list_notices, send_notice))
        .routes(routes!(notice))
        .routes(routes!(answer_notice))
}

/// Every watched site the caller may see (the web office: all, inside the cluster or not),
/// with its latest check, the trend of its scores and its place in the ranking.
#[utoipa::path(get, path = "/monitor/sites", tag = "monitor", responses((status = 200, body = Vec<Watched>)))]
async fn watched(State(app): State<App>, Auth(actor): Auth) -> AppResult<Json<Vec<Watched>>> {
    Ok(Json(app.watched_sites(&actor).await?))
}

/// The ranking as CSV (UTF-8 with a byte-order mark).
#[utoipa::path(get, path = "/monitor/sites.csv", tag = "monitor",
    responses((status = 200, description = "CSV（UTF-8，带 BOM）", content_type = "text/csv", body = String)))]
async fn ranking_csv(State(app): State<App>, Auth(actor): Auth) -> AppResult<Response> {
    let csv = super::admin::ranking_csv(&app.watched_sites(&actor).await?)?;
    Ok(download(csv.into_bytes(), "text/csv; charset=utf-8", "网站检查排名.csv"))
}

/// The ranking as XLSX.
#[utoipa::path(get, path = "/monitor/sites.xlsx", tag = "monitor",
    responses((status = 200, description = "XLSX", content_type = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", body = Vec<u8>)))]
async fn ranking_xlsx(State(app): State<App>, Auth(actor): Auth) -> AppResult<Response> {
    let bytes = super::admin::ranking_xlsx(&app.watched_sites(&actor).await?)?;
    Ok(download(bytes, crate::annual::XLSX_TYPE, "网站检查排名.xlsx"))
}

/// One run's report as XLSX: overview, single-veto indicators with their evidence,
/// deductions, the portal bonus, every finding.
#[utoipa::path(get, path = "/monitor/runs/{id}/report.xlsx", tag = "monitor", params(("id" = i64, Path)),
    responses((status = 200, description = "XLSX", content_type = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", body = Vec<u8>)))]
async fn run_xlsx(State(app): State<App>, Auth(actor): Auth, ApiPath(id): ApiPath<i64>) -> AppResult<Response> {
    let (run, report) = app.monitor_run(&actor, id).await?;
    let name = app.monitor_site_name(&actor, &run).await?;
    let bytes = super::admin::run_xlsx(&name, &run, &report)?;
    Ok(download(bytes, crate::annual::XLSX_TYPE, &super::admin::run_file_name(&name, &run)))
}

/// Adds a site outside the cluster to the daily checks, and checks it at once (the web office).
#[utoipa::path(post, path = "/monitor/sites", tag = "monitor", request_body = TargetInput,
    responses((status = 201, body = Watched)))]
async fn add_target(
    State(app): State<App>,
    Auth(actor): Auth,
    ApiJson(i): ApiJson<TargetInput>,
) -> AppResult<Created<Watched>> {
    let w = app.add_monitor_target(&actor, i).await?;
    let id = w.subject.target_id.unwrap_or_default();
    Ok(Created(format!("/api/v1/monitor/targets/{id}/runs"), w))
}

/// Takes an external site off the daily checks; its runs stay on record.
#[utoipa::path(delete, path = "/monitor/targets/{id}", tag = "monitor", params(("id" = i64, Path)),
    responses((status = 204, description = "已移出检查名单")))]
async fn remove_target(State(app): State<App>, Auth(actor): Auth, ApiPath(id): ApiPath<i64>) -> AppResult<StatusCode> {
    app.remove_monitor_target(&actor, id).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
struct RunsQuery {
    /// A site of the cluster.
    site_id: Option<i64>,
    /// An external site.
    target_id: Option<i64>,
    /// At most this many, newest first (default 100, at most 1000).
    limit: Option<i64>,
}

/// The runs of one watched site, newest first: `site_id` or `target_id`.
#[utoipa::path(get, path = "/monitor/runs", tag = "monitor", params(RunsQuery),
    responses((status = 200, body = Vec<RunSummary>)))]
async fn runs(
    State(app): State<App>,
    Auth(actor): Auth,
    ApiQuery(q): ApiQuery<RunsQuery>,
) -> AppResult<Json<Vec<RunSummary>>> {
    let s = subject(q.site_id, q.target_id)?;
    Ok(Json(app.monitor_runs(&actor, s, q.limit.unwrap_or(100)).await?))
}

#[derive(Serialize, utoipa::ToSchema)]
struct RunReport {
    run: RunSummary,
    /// The report as `zhanqun monitor check --json` prints it: `vetoes`, `warnings`,
    /// `score` with its `deductions`, `findings` with their evidence, `probes`.
    #[schema(value_type = Object)]
    report: serde_json::Value,
}

/// One run with its whole report.
#[utoipa::path(get, path = "/monitor/runs/{id}", tag = "monitor", params(("id" = i64, Path)),
    responses((status = 200, body = RunReport)))]
async fn run(State(app): State<App>, Auth(actor): Auth, ApiPath(id): ApiPath<i64>) -> AppResult<Json<RunReport>> {
    let (run, report) = app.monitor_run(&actor, id).await?;
    Ok(Json(RunReport { run, report }))
}

#[derive(Serialize, utoipa::ToSchema)]
struct Queued {
    /// The job that runs the check (`GET /api/v1/jobs`).
    job_id: i64,
}

/// Checks one watched site now (`site_id` for a cluster site: its site admins or the web
/// office; `target_id` for an external one: the web office). Answers at once; the run
/// appears under `/monitor/runs` when it has finished.
#[utoipa::path(post, path = "/monitor/checks", tag = "monitor", request_body = Subject,
    responses((status = 202, body = Queued)))]
async fn request_check(State(app): State<App>, Auth(actor): Auth, ApiJson(s): ApiJson<Subject>) -> AppResult<Response> {
    let s = subject(s.site_id, s.target_id)?;
    let job_id = app.request_monitor_check(&actor, s).await?;
    Ok((StatusCode::ACCEPTED, Json(Queued { job_id })).into_response())
}

fn subject(site_id: Option<i64>, target_id: Option<i64>) -> AppResult<Subject> {
    match (site_id, target_id) {
        (Some(_), None) | (None, Some(_)) => Ok(Subject { site_id, target_id }),
        _ => Err(crate::kernel::AppError::field(
            "site_id",
            "one_of",
            "请指定 site_id（集群内站点）或 target_id（外部网站）之一",
        )),
    }
}

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
struct NoticeQuery {
    site_id: Option<i64>,
    /// `open`, `answered`, `closed` or `escalated`.
    state: Option<String>,
}

/// Rectification notices the caller may see (the web office: all; others: their sites'),
/// newest first.
#[utoipa::path(get, path = "/monitor/notices", tag = "monitor", params(NoticeQuery),
    responses((status = 200, body = Vec<Notice>)))]
async fn list_notices(
    State(app): State<App>,
    Auth(actor): Auth,
    ApiQuery(q): ApiQuery<NoticeQuery>,
) -> AppResult<Json<Vec<Notice>>> {
    Ok(Json(app.notices(&actor, q.site_id, q.state.as_deref()).await?))
}

/// Sends a problem a run found to the site's admins with a deadline in working days (the
/// web office; sites of the cluster).
#[utoipa::path(post, path = "/monitor/notices", tag = "monitor", request_body = NoticeInput,
    responses((status = 201, body = Notice)))]
async fn send_notice(
    State(app): State<App>,
    Auth(actor): Auth,
    ApiJson(i): ApiJson<NoticeInput>,
) -> AppResult<Created<Notice>> {
    let n = app.send_notice(&actor, i).await?;
    Ok(Created(format!("/api/v1/monitor/notices/{}", n.id), n))
}

#[utoipa::path(get, path = "/monitor/notices/{id}", tag = "monitor", params(("id" = i64, Path)),
    responses((status = 200, body = Notice)))]
async fn notice(State(app): State<App>, Auth(actor): Auth, ApiPath(id): ApiPath<i64>) -> AppResult<Json<Notice>> {
    Ok(Json(app.notice(&actor, id).await?))
}

/// The site's admins say what they did; the site is checked again at once and the run
/// closes the notice or sends it back.
#[utoipa::path(post, path = "/monitor/notices/{id}/answer", tag = "monitor", params(("id" = i64, Path)),
    request_body = AnswerInput, responses((status = 200, body = Notice)))]
async fn answer_notice(
    State(app): State<App>,
    Auth(actor): Auth,
    ApiPath(id): ApiPath<i64>,
    ApiJson(a): ApiJson<AnswerInput>,
) -> AppResult<Json<Notice>> {
    Ok(Json(app.answer_notice(&actor, id, a).await?))
}
