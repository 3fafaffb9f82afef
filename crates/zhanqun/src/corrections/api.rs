//! `/api/v1/error-reports` (我为政府网站找错) and `/api/v1/sites/{id}/duty` (值班读网).

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use utoipa_axum::routes;

use super::duty::{DutyDay, Reading, ReadingInput, RosterInput};
use super::{ErrorReport, ForwardedReport, ReplyInput, ReportCounts};
use crate::app::App;
use crate::kernel::AppResult;
use crate::web::api::{ApiRouter, Auth, Created, Json};
use crate::web::problem::{ApiJson, ApiPath, ApiQuery};

pub fn router() -> ApiRouter {
    ApiRouter::new()
        .routes(routes!(list_reports, forward_report))
        .routes(routes!(report_counts))
        .routes(routes!(report))
        .routes(routes!(reply_report))
        .routes(routes!(duty_month, set_duty))
        .routes(routes!(record_reading))
}

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
struct ReportQuery {
    site_id: Option<i64>,
    /// `received` (unanswered) or `answered`.
    state: Option<String>,
}

/// Reports the caller may see (the web office: all; a site's staff: their site's),
/// unanswered first.
#[utoipa::path(get, path = "/error-reports", tag = "error-reports", params(ReportQuery),
    responses((status = 200, body = Vec<ErrorReport>)))]
async fn list_reports(
    State(app): State<App>,
    Auth(actor): Auth,
    ApiQuery(q): ApiQuery<ReportQuery>,
) -> AppResult<Json<Vec<ErrorReport>>> {
    Ok(Json(app.error_reports(&actor, q.site_id, q.state.as_deref()).await?))
}

/// Receives a report forwarded from the national platform (the web office's integration):
/// 201 when new, 200 with the one kept when the same `external_id` comes again.
#[utoipa::path(post, path = "/error-reports", tag = "error-reports", request_body = ForwardedReport,
    responses((status = 201, body = ErrorReport), (status = 200, body = ErrorReport, description = "已收到过")))]
async fn forward_report(
    State(app): State<App>,
    Auth(actor): Auth,
    ApiJson(r): ApiJson<ForwardedReport>,
) -> AppResult<Response> {
    let (report, created) = app.forward_error_report(&actor, r).await?;
    if created {
        Ok(Created(format!("/api/v1/error-reports/{}", report.id), report).into_response())
    } else {
        Ok(Json(report).into_response())
    }
}

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
struct YearQuery {
    /// The year received (default: this year).
    year: Option<i32>,
}

/// Reports per site in a year: received, answered, answered on time, open, overdue.
#[utoipa::path(get, path = "/error-reports/counts", tag = "error-reports", params(YearQuery),
    responses((status = 200, body = Vec<ReportCounts>)))]
async fn report_counts(
    State(app): State<App>,
    Auth(actor): Auth,
    ApiQuery(q): ApiQuery<YearQuery>,
) -> AppResult<Json<Vec<ReportCounts>>> {
    let year = q.year.unwrap_or_else(|| crate::kernel::time::today().year()).clamp(2000, 2100);
    Ok(Json(app.error_report_counts(&actor, year).await?))
}

#[utoipa::path(get, path = "/error-reports/{id}", tag = "error-reports", params(("id" = i64, Path)),
    responses((status = 200, body = ErrorReport)))]
async fn report(State(app): State<App>, Auth(actor): Auth, ApiPath(id): ApiPath<i64>) -> AppResult<Json<ErrorReport>> {
    Ok(Json(app.error_report(&actor, id).await?))
}

/// The site's editors or admins answer (within 3 working days; later is counted late).
#[utoipa::path(post, path = "/error-reports/{id}/reply", tag = "error-reports", params(("id" = i64, Path)),
    request_body = ReplyInput, responses((status = 200, body = ErrorReport)))]
async fn reply_report(
    State(app): State<App>,
    Auth(actor): Auth,
    ApiPath(id): ApiPath<i64>,
    ApiJson(r): ApiJson<ReplyInput>,
) -> AppResult<Json<ErrorReport>> {
    Ok(Json(app.reply_error_report(&actor, id, r).await?))
}

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
struct MonthQuery {
    /// `YYYY-MM` (default: this month).
    month: Option<String>,
}

/// A month of the site's duty roster, each day with its reading records.
#[utoipa::path(get, path = "/sites/{id}/duty", tag = "error-reports", params(("id" = i64, Path), MonthQuery),
    responses((status = 200, body = Vec<DutyDay>)))]
async fn duty_month(
    State(app): State<App>,
    Auth(actor): Auth,
    ApiPath(id): ApiPath<i64>,
    ApiQuery(q): ApiQuery<MonthQuery>,
) -> AppResult<Json<Vec<DutyDay>>> {
    let month = q.month.unwrap_or_else(|| crate::kernel::time::today().to_string()[..7].to_string());
    Ok(Json(app.duty_month(&actor, id, &month).await?))
}

/// Puts a reader on the roster for a day (empty `reader`: off the roster); site admins.
#[utoipa::path(put, path = "/sites/{id}/duty", tag = "error-reports", params(("id" = i64, Path)),
    request_body = RosterInput, responses((status = 204, description = "已排班")))]
async fn set_duty(
    State(app): State<App>,
    Auth(actor): Auth,
    ApiPath(id): ApiPath<i64>,
    ApiJson(r): ApiJson<RosterInput>,
) -> AppResult<StatusCode> {
    app.set_duty(&actor, id, r).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Records a day's reading: what was read, problems found, what was done.
#[utoipa::path(post, path = "/sites/{id}/duty/readings", tag = "error-reports", params(("id" = i64, Path)),
    request_body = ReadingInput, responses((status = 201, body = Reading)))]
async fn record_reading(
    State(app): State<App>,
    Auth(actor): Auth,
    ApiPath(id): ApiPath<i64>,
    ApiJson(r): ApiJson<ReadingInput>,
) -> AppResult<Created<Reading>> {
    let reading = app.record_reading(&actor, id, r).await?;
    Ok(Created(format!("/api/v1/sites/{id}/duty?month={}", &reading.day[..7]), reading))
}
