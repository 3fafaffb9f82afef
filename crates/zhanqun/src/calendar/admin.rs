//! The admin's holiday screen (节假日).

use std::collections::HashMap;

use axum::Router;
use axum::extract::{Query, State};
use axum::response::Response;
use axum::routing::{get, post};
use minijinja::context;

use crate::app::App;
use crate::web::admin::{Admin, Posted, Shown, Signed};

pub fn router() -> Router<App> {
    Router::new()
        .route("/admin/calendar", get(calendar).post(set_day))
        .route("/admin/calendar/delete", post(delete_day))
}

async fn calendar_screen(app: &App, a: &Admin, year: i32, shown: Shown) -> Response {
    match app.calendar_days(year).await {
        Ok(days) => {
            let has_arrangement = app.calendar.load().has_arrangement(year);
            let today = zhanqun_domain::calendar::fmt_date(super::today());
            a.render_shown(
                "calendar",
                "calendar.html",
                context! { title => "节假日安排", year, days, has_arrangement, today },
                shown,
            )
        }
        Err(e) => a.fail(&e, "无法查看", "/admin/calendar"),
    }
}

async fn calendar(State(app): State<App>, a: Signed, Query(q): Query<HashMap<String, String>>) -> Response {
    let year = q.get("year").and_then(|y| y.parse().ok()).unwrap_or_else(|| super::today().year());
    calendar_screen(&app, &a, year, Shown::none()).await
}

async fn set_day(State(app): State<App>, p: Posted) -> Response {
    let f = &p.form;
    let year: i32 = f.get("year").parse().unwrap_or_else(|_| super::today().year());
    match app.set_calendar_day(p.actor(), f.get("date"), f.get("kind"), f.get("name"), f.get("source")).await {
        Ok(d) => p.done(&format!("/admin/calendar?year={}", &d.day[..4]), &format!("已保存 {}", d.day)),
        Err(e) => calendar_screen(&app, &p, year, p.shown(&e)).await,
    }
}

async fn delete_day(State(app): State<App>, p: Posted) -> Response {
    let year: i32 = p.form.get("year").parse().unwrap_or_else(|_| super::today().year());
    match app.delete_calendar_day(p.actor(), p.form.get("date")).await {
        Ok(()) => p.done(&format!("/admin/calendar?year={year}"), &format!("已删除 {}", p.form.get("date"))),
        Err(e) => calendar_screen(&app, &p, year, p.shown(&e).as_form("dv")).await,
    }
}
