//! The admin's system screen (系统运行): jobs with their state, progress and errors, retry
//! of a failed one, event delivery and the page cache.

use std::collections::HashMap;

use axum::Router;
use axum::extract::{Path, Query, State};
use axum::response::Response;
use axum::routing::{get, post};
use minijinja::context;

use crate::app::App;
use crate::kernel::AppError;
use crate::kernel::jobs::JobState;
use crate::web::admin::{Admin, Posted, Shown, Signed};

pub fn router() -> Router<App> {
    Router::new().route("/admin/system", get(system)).route("/admin/jobs/{id}/retry", post(retry))
}

async fn system_screen(app: &App, a: &Admin, state: Option<&str>, shown: Shown) -> Response {
    let read = async {
        let status = app.status(a.actor()).await?;
        let jobs = app.list_jobs(a.actor(), state, 200).await?;
        Ok::<_, AppError>(
            context! { title => "系统运行", status, jobs, states => JobState::ALL.map(|s| (s.as_str(), s.label())), state },
        )
    };
    match read.await {
        Ok(ctx) => a.render_shown("system", "system.html", ctx, shown),
        Err(e) => a.fail(&e, "无法查看系统运行情况", "/admin/"),
    }
}

async fn system(State(app): State<App>, a: Signed, Query(q): Query<HashMap<String, String>>) -> Response {
    let state = q.get("state").map(String::as_str).filter(|s| !s.is_empty());
    system_screen(&app, &a, state, Shown::none()).await
}

async fn retry(State(app): State<App>, Path(id): Path<i64>, p: Posted) -> Response {
    match app.retry_job(p.actor(), id).await {
        Ok(()) => p.done("/admin/system", &format!("任务 #{id} 已重新排队")),
        Err(e) => system_screen(&app, &p, None, p.shown(&e)).await,
    }
}
