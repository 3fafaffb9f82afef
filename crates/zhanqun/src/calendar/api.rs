//! `/api/v1/calendar`: working days and the days an administrator keeps.

use axum::extract::State;
use axum::http::StatusCode;
use serde::Deserialize;
use utoipa_axum::routes;

use super::{CalendarDay, DueView};
use crate::app::App;
use crate::kernel::{AppError, AppResult};
use crate::web::api::{ApiRouter, Auth, Json};
use crate::web::problem::{ApiJson, ApiPath, ApiQuery};

pub fn router() -> ApiRouter {
    ApiRouter::new()
        .routes(routes!(working_days))
        .routes(routes!(calendar_days))
        .routes(routes!(set_calendar_day, delete_calendar_day))
}

#[derive(Deserialize, utoipa::IntoParams)]
struct DueQuery {
    /// The day something arrived (day zero), `YYYY-MM-DD`.
    from: Option<String>,
    /// How many working days.
    days: Option<String>,
}

/// The deadline N working days after a date, on China's holiday arrangements.
#[utoipa::path(get, path = "/calendar/working-days", tag = "calendar", security(()), params(DueQuery),
    responses((status = 200, body = DueView)))]
async fn working_days(State(app): State<App>, ApiQuery(q): ApiQuery<DueQuery>) -> AppResult<Json<DueView>> {
    Ok(Json(app.due(q.from.as_deref().unwrap_or(""), q.days.as_deref().unwrap_or(""))?))
}

#[derive(Deserialize, utoipa::IntoParams)]
struct YearQuery {
    /// Default: this year.
    year: Option<String>,
}

/// A year's holidays and make-up working days.
#[utoipa::path(get, path = "/calendar/days", tag = "calendar", params(YearQuery),
    responses((status = 200, body = Vec<CalendarDay>)))]
async fn calendar_days(
    State(app): State<App>,
    _signed_in: Auth,
    ApiQuery(q): ApiQuery<YearQuery>,
) -> AppResult<Json<Vec<CalendarDay>>> {
    let year = match q.year.as_deref() {
        None => super::today().year(),
        Some(y) => y.trim().parse().map_err(|_| AppError::field("year", "type", format!("年份「{y}」无效")))?,
    };
    Ok(Json(app.calendar_days(year).await?))
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
struct DayInput {
    /// `holiday` or `workday` (a make-up working day).
    kind: String,
    name: String,
    /// The notice it comes from.
    source: String,
}

/// Sets a day (system administrators; days already past cannot change).
#[utoipa::path(put, path = "/calendar/days/{date}", tag = "calendar", params(("date" = String, Path, description = "YYYY-MM-DD")),
    request_body = DayInput, responses((status = 200, body = CalendarDay)))]
async fn set_calendar_day(
    State(app): State<App>,
    Auth(actor): Auth,
    ApiPath(date): ApiPath<String>,
    ApiJson(d): ApiJson<DayInput>,
) -> AppResult<Json<CalendarDay>> {
    Ok(Json(app.set_calendar_day(&actor, &date, &d.kind, &d.name, &d.source).await?))
}

/// Removes a day's arrangement: it follows the plain week again.
#[utoipa::path(delete, path = "/calendar/days/{date}", tag = "calendar", params(("date" = String, Path)),
    responses((status = 204, description = "已删除")))]
async fn delete_calendar_day(
    State(app): State<App>,
    Auth(actor): Auth,
    ApiPath(date): ApiPath<String>,
) -> AppResult<StatusCode> {
    app.delete_calendar_day(&actor, &date).await?;
    Ok(StatusCode::NO_CONTENT)
}
