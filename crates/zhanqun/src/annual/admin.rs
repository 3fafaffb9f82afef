//! The admin's 年度报表 screen: a site's report for a year with each computed figure, the
//! admins' changes and notes, publishing, and the XLSX.

use std::collections::{BTreeMap, HashMap};

use axum::Router;
use axum::extract::{Path, Query, State};
use axum::response::Response;
use axum::routing::{get, post};
use minijinja::context;

use super::ReportEdits;
use crate::app::App;
use crate::kernel::AppError;
use crate::web::admin::{Admin, Posted, Shown, Signed, again, back};

pub fn router() -> Router<App> {
    Router::new()
        .route("/admin/annual", get(screen))
        .route("/admin/annual.xlsx", get(xlsx))
        .route("/admin/sites/{id}/annual/{year}", post(edit))
        .route("/admin/sites/{id}/annual/{year}/publish", post(publish))
}

fn pick(q: &HashMap<String, String>) -> (Option<i64>, i32) {
    let site = q.get("site").and_then(|s| s.parse().ok());
    let last = crate::kernel::time::today().year() - 1;
    let year = q.get("year").and_then(|y| y.parse().ok()).unwrap_or(last);
    (site, year)
}

async fn screen(State(app): State<App>, a: Signed, Query(q): Query<HashMap<String, String>>) -> Response {
    let (site, year) = pick(&q);
    annual_screen(&app, &a, site, year, Shown::none()).await
}

pub async fn annual_screen(app: &App, a: &Admin, site: Option<i64>, year: i32, shown: Shown) -> Response {
    let read = async {
        let actor = a.actor();
        let sites = a.sites_on(app);
        let site = site.or_else(|| sites.first().map(|s| s.0));
        let report = match site {
            Some(s) => Some(app.annual_report(actor, s, year).await?),
            None => None,
        };
        let this_year = crate::kernel::time::today().year();
        let years: Vec<i32> = (this_year - 5..=this_year).rev().collect();
        let admin = site.is_some_and(|s| actor.is_admin || actor.holds(s, zhanqun_domain::workflow::Role::SiteAdmin));
        Ok::<_, AppError>(context! { title => "年度报表", sites, site, year, years, report, admin, this_year })
    };
    match read.await {
        Ok(ctx) => a.render_shown("annual", "annual.html", ctx, shown),
        Err(e) => a.fail(&e, "无法查看年度报表", "/admin/"),
    }
}

async fn xlsx(State(app): State<App>, a: Signed, Query(q): Query<HashMap<String, String>>) -> Response {
    let (site, year) = pick(&q);
    let made = async {
        let r = app.annual_report(a.actor(), site.unwrap_or(-1), year).await?;
        Ok::<_, AppError>((super::xlsx(&r)?, format!("{}-{}年度报表.xlsx", r.site_name, r.year)))
    };
    match made.await {
        Ok((bytes, name)) => crate::web::api::download(bytes, super::XLSX_TYPE, &name),
        Err(e) => a.fail(&e, "无法导出年度报表", "/admin/annual"),
    }
}

async fn edit(State(app): State<App>, Path((id, year)): Path<(i64, i32)>, p: Posted) -> Response {
    let to = back(&p.form, &format!("/admin/annual?site={id}&year={year}"));
    let values: BTreeMap<String, String> =
        p.form.0.iter().filter_map(|(k, v)| k.strip_prefix("v_").map(|k| (k.to_string(), v.clone()))).collect();
    match app.edit_annual_report(p.actor(), id, year, ReportEdits { values, notes: p.form.get("notes").into() }).await {
        Ok(_) => p.done(&to, "已保存"),
        Err(e) => again(&app, &p, &to, p.shown(&e).as_form("edit")).await,
    }
}

async fn publish(State(app): State<App>, Path((id, year)): Path<(i64, i32)>, p: Posted) -> Response {
    let to = back(&p.form, &format!("/admin/annual?site={id}&year={year}"));
    match app.publish_annual_report(p.actor(), id, year).await {
        Ok(r) => p.done(&to, &format!("{} 年度报表已发布", r.year)),
        Err(e) => again(&app, &p, &to, p.shown(&e).as_form("publish")).await,
    }
}
