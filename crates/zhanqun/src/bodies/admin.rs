//! Bodies on the admin's people page.

use axum::Router;
use axum::extract::{Path, State};
use axum::response::Response;
use axum::routing::post;

use crate::app::App;
use crate::people::admin::users_screen;
use crate::web::admin::Posted;

pub fn router() -> Router<App> {
    Router::new()
        .route("/admin/bodies", post(create_body))
        .route("/admin/bodies/{id}/code", post(set_body_code))
        .route("/admin/bodies/{id}/index-scheme", post(set_index_scheme))
}

async fn create_body(State(app): State<App>, p: Posted) -> Response {
    match app.create_body(p.actor(), p.form.get("name"), None).await {
        Ok(b) => p.done("/admin/users", &format!("已添加机构「{}」", b.name)),
        Err(e) => users_screen(&app, &p, p.shown(&e).as_form("bv")).await,
    }
}

async fn set_index_scheme(State(app): State<App>, Path(id): Path<i64>, p: Posted) -> Response {
    match app.set_body_index_scheme(p.actor(), id, Some(p.form.get("scheme"))).await {
        Ok(()) => p.done("/admin/users", "索引号规则已设置，此后发布的文件按新规则编号"),
        Err(e) => users_screen(&app, &p, p.shown(&e).as_form("bv")).await,
    }
}

async fn set_body_code(State(app): State<App>, Path(id): Path<i64>, p: Posted) -> Response {
    match app.set_body_code(p.actor(), id, p.form.get("code")).await {
        Ok(()) => p.done("/admin/users", "代码已设置"),
        Err(e) => users_screen(&app, &p, p.shown(&e).as_form("bv")).await,
    }
}
