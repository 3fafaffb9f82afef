//! The admin's 访问统计 screen: a site's views per day and per month drawn as inline SVG
//! bars, the most viewed documents and columns, referring sites and devices.

use std::collections::HashMap;

use axum::Router;
use axum::extract::{Query, State};
use axum::response::Response;
use axum::routing::get;
use minijinja::context;
use serde::Serialize;

use super::DayCount;
use crate::app::App;
use crate::kernel::AppError;
use crate::web::admin::Signed;

pub fn router() -> Router<App> {
    Router::new().route("/admin/visits", get(screen))
}

#[derive(Serialize)]
struct Bar {
    x: f64,
    y: f64,
    w: f64,
    h: f64,
    label: String,
    views: i64,
}

/// Bars for `counts` in a `width`×`height` box, scaled to the largest.
fn bars(counts: &[DayCount], width: f64, height: f64) -> (Vec<Bar>, i64) {
    let max = counts.iter().map(|c| c.views).max().unwrap_or(0).max(1);
    let step = width / counts.len().max(1) as f64;
    let bars = counts
        .iter()
        .enumerate()
        .map(|(i, c)| {
            let h = c.views as f64 * height / max as f64;
            Bar {
                x: i as f64 * step + 1.0,
                y: height - h,
                w: (step - 2.0).max(1.0),
                h,
                label: c.day.clone(),
                views: c.views,
            }
        })
        .collect();
    (bars, max)
}

async fn screen(State(app): State<App>, a: Signed, Query(q): Query<HashMap<String, String>>) -> Response {
    let read = async {
        let actor = a.actor();
        let sites = a.sites_on(&app);
        let site = q.get("site").and_then(|s| s.parse::<i64>().ok()).or_else(|| sites.first().map(|s| s.0));
        let days = q.get("days").and_then(|d| d.parse::<i64>().ok()).unwrap_or(30).clamp(1, 366);
        let report = match site {
            Some(s) => Some(app.visit_report(actor, s, days).await?),
            None => None,
        };
        let (daily, daily_max) = report.as_ref().map(|r| bars(&r.daily, 720.0, 160.0)).unwrap_or_default();
        let (monthly, monthly_max) = report.as_ref().map(|r| bars(&r.monthly, 480.0, 120.0)).unwrap_or_default();
        Ok::<_, AppError>(
            context! { title => "访问统计", sites, site, days, report, daily, daily_max, monthly, monthly_max },
        )
    };
    match read.await {
        Ok(ctx) => a.render("visits", "visits.html", ctx),
        Err(e) => a.fail(&e, "无法查看访问统计", "/admin/"),
    }
}
