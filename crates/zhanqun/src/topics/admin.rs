//! Topics on a site's disclosure page.

use axum::Router;
use axum::extract::{Path, State};
use axum::response::Response;
use axum::routing::post;

use super::NewTopic;
use crate::app::App;
use crate::web::admin::{Posted, again, back};

pub fn router() -> Router<App> {
    Router::new()
        .route("/admin/sites/{id}/topics", post(create_topic))
        .route("/admin/topics/{id}/items", post(add_topic_item))
        .route("/admin/topics/{id}/close", post(close_topic))
}

async fn create_topic(State(app): State<App>, Path(id): Path<i64>, p: Posted) -> Response {
    let to = back(&p.form, &format!("/admin/sites/{id}/disclosure"));
    let f = &p.form;
    let t = NewTopic {
        title: f.get("title").into(),
        summary: f.get("summary").into(),
        emergency: f.checked("emergency"),
        release_procedure: f.text("release_procedure"),
        first_release_hours: f.int("first_release_hours"),
        update_hours: f.int("update_hours"),
    };
    match app.create_topic(p.actor(), id, t).await {
        Ok(t) => p.done(&to, &format!("专题「{}」已开设", t.title)),
        Err(e) => again(&app, &p, &to, p.shown(&e).as_form("tv")).await,
    }
}

async fn add_topic_item(State(app): State<App>, Path(id): Path<i64>, p: Posted) -> Response {
    let to = back(&p.form, "/admin/");
    let res = match p.form.int("document_id") {
        Some(doc) => app.add_topic_item(p.actor(), id, doc).await,
        None => Err(crate::kernel::AppError::field("document_id", "type", "请填写稿件编号（数字）")),
    };
    match res {
        Ok(t) => p.done(&to, &format!("已加入专题「{}」，发布后显示在时间线上", t.title)),
        Err(e) => again(&app, &p, &to, p.shown(&e).as_form("iv")).await,
    }
}

async fn close_topic(State(app): State<App>, Path(id): Path<i64>, p: Posted) -> Response {
    let to = back(&p.form, "/admin/");
    match app.close_topic(p.actor(), id).await {
        Ok(t) => p.done(&to, &format!("专题「{}」已关闭", t.title)),
        Err(e) => again(&app, &p, &to, p.shown(&e).as_form("xv")).await,
    }
}
