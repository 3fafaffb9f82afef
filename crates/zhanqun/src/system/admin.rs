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
    Router::new()
        .route("/admin/system", get(system))
        .route("/admin/jobs/{id}/retry", post(retry))
        .route("/admin/system/search-synonyms", post(search_synonyms))
        .route("/admin/system/hot-searches", post(hot_searches))
        .route("/admin/audit", get(audit))
        .route("/admin/audit.csv", get(audit_csv))
}

async fn audit_csv(State(app): State<App>, a: Signed, Query(f): Query<super::audit::AuditFilter>) -> Response {
    use axum::response::IntoResponse;
    match app.audit_csv(a.actor(), &f).await {
        Ok(csv) => (
            [
                (axum::http::header::CONTENT_TYPE, "text/csv; charset=utf-8"),
                (axum::http::header::CONTENT_DISPOSITION, "attachment; filename=\"audit.csv\""),
            ],
            csv,
        )
            .into_response(),
        Err(e) => a.fail(&e, "无法导出操作记录", "/admin/audit"),
    }
}

/// The audit administrator's screen: the trail with filters, the export, and the chain's
/// check when asked for (`?verify=1`: it walks the whole trail, so not on every look).
async fn audit(
    State(app): State<App>,
    a: Signed,
    Query(f): Query<super::audit::AuditFilter>,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    let read = async {
        let entries = app.audit_trail(a.actor(), &f).await?;
        let verify = q.get("verify").is_some_and(|v| v == "1");
        let chain = if verify { Some(app.verify_audit(a.actor()).await?) } else { None };
        // The same filter for the export and the check (paging left out).
        let pairs = serde_json::to_value(&f).ok().and_then(|v| v.as_object().cloned()).unwrap_or_default();
        let query = url::form_urlencoded::Serializer::new(String::new())
            .extend_pairs(pairs.iter().filter_map(|(k, v)| match v {
                serde_json::Value::String(s) if !s.is_empty() => Some((k, s.clone())),
                serde_json::Value::Number(n) => Some((k, n.to_string())),
                _ => None,
            }))
            .finish();
        Ok::<_, AppError>(context! { title => "审计", entries, chain, f, query })
    };
    match read.await {
        Ok(ctx) => a.render("audit", "audit_trail.html", ctx),
        Err(e) => a.fail(&e, "无法查看操作记录", "/admin/"),
    }
}

async fn system_screen(app: &App, a: &Admin, state: Option<&str>, shown: Shown) -> Response {
    let read = async {
        let status = app.status(a.actor()).await?;
        let jobs = app.list_jobs(a.actor(), state, 200).await?;
        let synonyms: Vec<String> = app.synonym_groups().await?.iter().map(|g| g.join(" ")).collect();
        let hot = app.curated_hot_searches().await?;
        let index = app.search_index_status();
        Ok::<_, AppError>(context! {
            title => "系统运行", status, jobs, states => JobState::ALL.map(|s| (s.as_str(), s.label())), state,
            synonyms => synonyms.join("\n"), hot => hot.join("\n"), index,
        })
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

/// The synonym groups of site search, one group a line, its terms separated by spaces.
async fn search_synonyms(State(app): State<App>, p: Posted) -> Response {
    let groups: Vec<Vec<String>> = p
        .form
        .get("synonyms")
        .lines()
        .map(|l| l.split_whitespace().map(str::to_string).collect::<Vec<_>>())
        .filter(|g| !g.is_empty())
        .collect();
    match app.set_synonyms(p.actor(), &groups).await {
        Ok(kept) => p.done("/admin/system", &format!("已保存 {} 组搜索同义词", kept.len())),
        Err(e) => system_screen(&app, &p, None, p.shown(&e).as_form("sv")).await,
    }
}

/// The web office's hot searches, one a line, in the order shown.
async fn hot_searches(State(app): State<App>, p: Posted) -> Response {
    let terms: Vec<String> = p.form.get("hot").lines().map(str::to_string).collect();
    match app.set_hot_searches(p.actor(), &terms).await {
        Ok(kept) => p.done("/admin/system", &format!("已保存 {} 个热门搜索", kept.len())),
        Err(e) => system_screen(&app, &p, None, p.shown(&e).as_form("hv")).await,
    }
}

async fn retry(State(app): State<App>, Path(id): Path<i64>, p: Posted) -> Response {
    match app.retry_job(p.actor(), id).await {
        Ok(()) => p.done("/admin/system", &format!("任务 #{id} 已重新排队")),
        Err(e) => system_screen(&app, &p, None, p.shown(&e)).await,
    }
}
