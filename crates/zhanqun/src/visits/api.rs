//! `/api/v1/sites/{id}/visits`: a site's page views.

use axum::extract::State;
use serde::Deserialize;
use utoipa_axum::routes;

use super::VisitReport;
use crate::app::App;
use crate::kernel::AppResult;
use crate::web::api::{ApiRouter, Auth, Json};
use crate::web::problem::{ApiPath, ApiQuery};

pub fn router() -> ApiRouter {
    ApiRouter::new().routes(routes!(visits))
}

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
struct DaysQuery {
    /// The days to today (default 30, at most 366).
    days: Option<i64>,
}

/// Page views per day and month, the most viewed documents and columns, referring sites and
/// devices (the site's staff and the web office). Counted by the server, without cookies or
/// addresses; the last few seconds' views are written shortly.
#[utoipa::path(get, path = "/sites/{id}/visits", tag = "visits", params(("id" = i64, Path), DaysQuery),
    responses((status = 200, body = VisitReport)))]
async fn visits(
    State(app): State<App>,
    Auth(actor): Auth,
    ApiPath(id): ApiPath<i64>,
    ApiQuery(q): ApiQuery<DaysQuery>,
) -> AppResult<Json<VisitReport>> {
    Ok(Json(app.visit_report(&actor, id, q.days.unwrap_or(30)).await?))
}
