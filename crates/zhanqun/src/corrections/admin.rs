//! The admin's 找错与值班 screen: the public's error reports of the person's sites,
//! unanswered first with their due day, answered in place; the year's figures per site;
//! a site's duty roster for a month with each day's reading records.

use std::collections::HashMap;

use axum::Router;
use axum::extract::{Path, Query, State};
use axum::response::Response;
use axum::routing::{get, post};
use minijinja::context;

use super::ReplyInput;
use super::duty::{ReadingInput, RosterInput};
use crate::app::App;
use crate::kernel::AppError;
use crate::web::admin::{Admin, Posted, Shown, Signed, again, back};

pub fn router() -> Router<App> {
    Router::new()
        .route("/admin/corrections", get(screen))
        .route("/admin/corrections/{id}/reply", post(reply))
        .route("/admin/sites/{id}/duty", post(set_duty))
        .route("/admin/sites/{id}/duty/readings", post(record_reading))
}

async fn screen(State(app): State<App>, a: Signed, Query(q): Query<HashMap<String, String>>) -> Response {
    let site = q.get("site").and_then(|s| s.parse().ok());
    let month = q.get("month").cloned();
    corrections_screen(&app, &a, site, month, Shown::none()).await
}

/// The screen, with a refused form shown again when `shown` holds one.
pub async fn corrections_screen(
    app: &App,
    a: &Admin,
    site: Option<i64>,
    month: Option<String>,
    shown: Shown,
) -> Response {
    let read = async {
        let actor = a.actor();
        let sites = a.sites_on(app);
        let reports = app.error_reports(actor, None, None).await?;
        let year = crate::kernel::time::today().year();
        let counts = app.error_report_counts(actor, year).await?;
        let site = site.or_else(|| sites.first().map(|s| s.0));
        let month = month.unwrap_or_else(|| crate::kernel::time::today().to_string()[..7].to_string());
        let duty = match site {
            Some(s) => Some(app.duty_month(actor, s, &month).await?),
            None => None,
        };
        let today = crate::kernel::time::today().to_string();
        Ok::<_, AppError>(context! {
            title => "找错与值班", sites, site, month, reports, counts, year, duty, today,
            site_admin => site.is_some_and(|s| actor.is_admin || actor.holds(s, zhanqun_domain::workflow::Role::SiteAdmin)),
        })
    };
    match read.await {
        Ok(ctx) => a.render_shown("corrections", "corrections.html", ctx, shown),
        Err(e) => a.fail(&e, "无法查看找错与值班", "/admin/"),
    }
}

async fn reply(State(app): State<App>, Path(id): Path<i64>, p: Posted) -> Response {
    let to = back(&p.form, "/admin/corrections");
    match app.reply_error_report(p.actor(), id, ReplyInput { reply: p.form.get("reply").into() }).await {
        Ok(r) => p.done(&to, &format!("已答复{}", if r.on_time == Some(true) { "" } else { "（已超过答复期限）" })),
        Err(e) => again(&app, &p, &to, p.shown(&e).as_form("reply")).await,
    }
}

async fn set_duty(State(app): State<App>, Path(id): Path<i64>, p: Posted) -> Response {
    let to = back(&p.form, &format!("/admin/corrections?site={id}"));
    let r = RosterInput { day: p.form.get("day").into(), reader: p.form.get("reader").into() };
    match app.set_duty(p.actor(), id, r).await {
        Ok(()) => p.done(&to, "已排班"),
        Err(e) => again(&app, &p, &to, p.shown(&e).as_form("roster")).await,
    }
}

async fn record_reading(State(app): State<App>, Path(id): Path<i64>, p: Posted) -> Response {
    let to = back(&p.form, &format!("/admin/corrections?site={id}"));
    let r = ReadingInput {
        day: p.form.get("day").into(),
        pages_read: p.form.get("pages_read").into(),
        problems: p.form.get("problems").into(),
        actions: p.form.get("actions").into(),
    };
    match app.record_reading(p.actor(), id, r).await {
        Ok(r) => p.done(&to, &format!("已记录 {} 的读网情况", r.day)),
        Err(e) => again(&app, &p, &to, p.shown(&e).as_form("reading")).await,
    }
}
