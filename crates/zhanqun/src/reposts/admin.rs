//! Reposting from a document's editor, and declining what a site received.

use axum::Router;
use axum::extract::{Path, State};
use axum::response::Response;
use axum::routing::post;

use super::RepostInput;
use crate::app::App;
use crate::kernel::AppError;
use crate::web::admin::{Posted, again, back};

pub fn router() -> Router<App> {
    Router::new()
        .route("/admin/documents/{id}/reposts", post(repost))
        .route("/admin/reposts/{id}/delete", post(remove_repost))
        .route("/admin/reposts/{id}/accept", post(accept_repost))
}

async fn repost(State(app): State<App>, Path(id): Path<i64>, p: Posted) -> Response {
    let to = back(&p.form, &format!("/admin/documents/{id}"));
    let mut bad = Vec::new();
    let sites: Vec<i64> = p
        .form
        .get("sites")
        .split([',', '，', ' ', '、'])
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .filter_map(|s| {
            let n = s.parse().ok();
            if n.is_none() {
                bad.push(s.to_string());
            }
            n
        })
        .collect();
    let res = if bad.is_empty() {
        let input = RepostInput {
            sites,
            site_kind: p.form.text("site_kind"),
            column: p.form.get("column").into(),
            from_site_id: p.form.int("from_site_id"),
        };
        app.repost(p.actor(), id, input).await
    } else {
        Err(AppError::field("sites", "type", format!("网站编号应为数字：{}", bad.join("、"))))
    };
    match res {
        Ok(o) => {
            let waiting = o.created.iter().filter(|r| r.pending).count();
            let mut m = format!("已转载到 {} 个网站", o.created.len());
            if waiting > 0 {
                m.push_str(&format!("，其中 {waiting} 个网站须由其审核人员接受后才会显示"));
            }
            if !o.skipped.is_empty() {
                let why: Vec<String> = o.skipped.into_iter().map(|(_, w)| w).collect();
                m.push_str(&format!("；未转：{}", why.join("，")));
            }
            p.done(&to, &m)
        }
        Err(e) => again(&app, &p, &to, p.shown(&e).as_form("rv")).await,
    }
}

async fn remove_repost(State(app): State<App>, Path(id): Path<i64>, p: Posted) -> Response {
    let to = back(&p.form, "/admin/");
    match app.remove_repost(p.actor(), id).await {
        Ok(()) => p.done(&to, "转载已撤下"),
        Err(e) => again(&app, &p, &to, p.shown(&e).as_form("xv")).await,
    }
}

async fn accept_repost(State(app): State<App>, Path(id): Path<i64>, p: Posted) -> Response {
    let to = back(&p.form, "/admin/");
    match app.accept_repost(p.actor(), id).await {
        Ok(r) => p.done(&to, &format!("已接受转载「{}」，本站现已显示", r.title)),
        Err(e) => again(&app, &p, &to, p.shown(&e).as_form("av")).await,
    }
}
