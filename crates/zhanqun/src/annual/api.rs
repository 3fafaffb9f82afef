//! `/api/v1/sites/{id}/annual-reports/{year}`: a site's annual work report.

use axum::extract::State;
use axum::response::Response;
use utoipa_axum::routes;

use super::{AnnualReport, ReportEdits};
use crate::app::App;
use crate::kernel::AppResult;
use crate::web::api::{ApiRouter, Auth, Json, download};
use crate::web::problem::{ApiJson, ApiPath};

pub fn router() -> ApiRouter {
    ApiRouter::new().routes(routes!(report, edit)).routes(routes!(publish)).routes(routes!(report_xlsx))
}

/// The report: as published, or computed from the platform's records now with the site
/// admins' changes (the site's staff and the web office).
#[utoipa::path(get, path = "/sites/{id}/annual-reports/{year}", tag = "annual-reports",
    params(("id" = i64, Path), ("year" = i32, Path)), responses((status = 200, body = AnnualReport)))]
async fn report(
    State(app): State<App>,
    Auth(actor): Auth,
    ApiPath((id, year)): ApiPath<(i64, i32)>,
) -> AppResult<Json<AnnualReport>> {
    Ok(Json(app.annual_report(&actor, id, year).await?))
}

/// Changes items before publishing (the site's admins); an empty value goes back to the
/// computed one.
#[utoipa::path(put, path = "/sites/{id}/annual-reports/{year}", tag = "annual-reports",
    params(("id" = i64, Path), ("year" = i32, Path)), request_body = ReportEdits, responses((status = 200, body = AnnualReport)))]
async fn edit(
    State(app): State<App>,
    Auth(actor): Auth,
    ApiPath((id, year)): ApiPath<(i64, i32)>,
    ApiJson(e): ApiJson<ReportEdits>,
) -> AppResult<Json<AnnualReport>> {
    Ok(Json(app.edit_annual_report(&actor, id, year, e).await?))
}

/// Publishes the report as it stands (the site's admins, once the year is over; due by
/// January 31).
#[utoipa::path(post, path = "/sites/{id}/annual-reports/{year}/publish", tag = "annual-reports",
    params(("id" = i64, Path), ("year" = i32, Path)), responses((status = 200, body = AnnualReport)))]
async fn publish(
    State(app): State<App>,
    Auth(actor): Auth,
    ApiPath((id, year)): ApiPath<(i64, i32)>,
) -> AppResult<Json<AnnualReport>> {
    Ok(Json(app.publish_annual_report(&actor, id, year).await?))
}

/// The report as an XLSX workbook.
#[utoipa::path(get, path = "/sites/{id}/annual-reports/{year}/xlsx", tag = "annual-reports",
    params(("id" = i64, Path), ("year" = i32, Path)),
    responses((status = 200, description = "XLSX", content_type = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", body = Vec<u8>)))]
async fn report_xlsx(
    State(app): State<App>,
    Auth(actor): Auth,
    ApiPath((id, year)): ApiPath<(i64, i32)>,
) -> AppResult<Response> {
    let r = app.annual_report(&actor, id, year).await?;
    Ok(download(super::xlsx(&r)?, super::XLSX_TYPE, &format!("{}-{}年度报表.xlsx", r.site_name, r.year)))
}
