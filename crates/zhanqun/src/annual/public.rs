//! A site's published annual reports on the site itself: `/site-report/{year}/`.

use axum::Router;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::get;
use minijinja::context;

use crate::app::App;
use crate::web::public::Visitor;

pub fn router() -> Router<App> {
    Router::new().route("/site-report/{year}/", get(report))
}

async fn report(State(app): State<App>, v: Visitor, Path(year): Path<String>) -> Response {
    let Ok(year) = year.parse::<i32>() else { return v.not_found(&app).await };
    match app.published_annual_report(v.site.id, year).await {
        Ok(Some(report)) => v.page(&app, StatusCode::OK, "site_report.html", context! { report }).await,
        Ok(None) | Err(crate::kernel::AppError::Invalid(_)) => v.not_found(&app).await,
        Err(e) => v.failed(&app, &e).await,
    }
}
