//! The admin's search screen (搜索统计): per site, what citizens searched most over the last
//! 30 days and what they searched for and did not find, so editors see what is missing. The
//! web office's hot searches and synonyms are kept on the system screen.

use std::collections::HashMap;

use axum::Router;
use axum::extract::{Query, State};
use axum::response::Response;
use axum::routing::get;
use minijinja::context;

use crate::app::App;
use crate::kernel::AppError;
use crate::web::admin::Signed;

pub fn router() -> Router<App> {
    Router::new().route("/admin/search", get(report))
}

async fn report(State(app): State<App>, a: Signed, Query(q): Query<HashMap<String, String>>) -> Response {
    let read = async {
        let actor = a.actor();
        let sites = a.sites_on(&app);
        let site = q.get("site").and_then(|s| s.parse::<i64>().ok()).or_else(|| sites.first().map(|s| s.0));
        let days = q.get("days").and_then(|d| d.parse::<i64>().ok()).unwrap_or(30).clamp(1, 366);
        let report = match site {
            Some(s) => Some(app.search_report(actor, s, days).await?),
            None => None,
        };
        Ok::<_, AppError>(
            context! { title => "搜索统计", sites, site, days, report, shown_from => super::stats::SHOWN_FROM },
        )
    };
    match read.await {
        Ok(ctx) => a.render("search", "search_report.html", ctx),
        Err(e) => a.fail(&e, "无法查看搜索统计", "/admin/"),
    }
}
