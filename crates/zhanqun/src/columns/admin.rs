//! Admin screens of columns: opening one on a site's page, its own page (owner, duty,
//! merging, closing).

use axum::Router;
use axum::extract::{Path, State};
use axum::response::Response;
use axum::routing::{get, post};
use minijinja::context;

use super::{ColumnPatch, NewColumn};
use crate::app::App;
use crate::kernel::AppError;
use crate::web::admin::{Admin, Posted, Shown, Signed};

pub fn router() -> Router<App> {
    Router::new()
        .route("/admin/sites/{id}/columns", post(create_column))
        .route("/admin/columns/{id}", get(column).post(update_column))
        .route("/admin/columns/{id}/merge", post(merge_column))
        .route("/admin/columns/{id}/close", post(close_column))
}

async fn create_column(State(app): State<App>, Path(site): Path<i64>, p: Posted) -> Response {
    let f = &p.form;
    let input = NewColumn {
        name: f.get("name").into(),
        slug: f.get("slug").trim().into(),
        kind: f.get("kind").into(),
        source: f.get("source").into(),
        owner: f.get("owner").into(),
        duty: f.get("duty").into(),
        duty_days: f.int("duty_days"),
        parent_id: f.int("parent_id"),
        sort_order: 0,
    };
    match app.create_column(p.actor(), site, input).await {
        Ok(c) => p.done(&format!("/admin/sites/{site}"), &format!("已新建栏目「{}」", c.name)),
        Err(e) => crate::sites::admin::site_screen(&app, &p, site, p.shown(&e).as_form("cv")).await,
    }
}

async fn column_screen(app: &App, a: &Admin, id: i64, shown: Shown) -> Response {
    let read = async {
        let column = app.get_column(id).await?;
        let siblings: Vec<_> = app.active_columns(column.site_id).await?.into_iter().filter(|c| c.id != id).collect();
        Ok::<_, AppError>(context! { title => column.name.clone(), column, siblings })
    };
    match read.await {
        Ok(ctx) => a.render_shown("sites", "column.html", ctx, shown),
        Err(e) => a.fail(&e, "无法打开栏目", "/admin/sites"),
    }
}

async fn column(State(app): State<App>, a: Signed, Path(id): Path<i64>) -> Response {
    column_screen(&app, &a, id, Shown::none()).await
}

async fn update_column(State(app): State<App>, Path(id): Path<i64>, p: Posted) -> Response {
    let f = &p.form;
    let patch = ColumnPatch {
        version: f.id("version"),
        name: f.opt("name"),
        slug: f.opt("slug"),
        kind: None,
        source: f.opt("source"),
        owner: f.opt("owner"),
        duty: f.opt("duty"),
        duty_days: Some(f.int("duty_days")),
        parent_id: Some(f.int("parent_id")),
        sort_order: None,
    };
    match app.update_column(p.actor(), id, patch).await {
        Ok(_) => p.done(&format!("/admin/columns/{id}"), "已保存"),
        Err(e) => column_screen(&app, &p, id, p.shown(&e)).await,
    }
}

async fn merge_column(State(app): State<App>, Path(id): Path<i64>, p: Posted) -> Response {
    match app.merge_column(p.actor(), id, p.form.id("into")).await {
        Ok(_) => p.done(&format!("/admin/columns/{id}"), "已合并，原栏目地址将跳转到目标栏目"),
        Err(e) => column_screen(&app, &p, id, p.shown(&e).as_form("mv")).await,
    }
}

async fn close_column(State(app): State<App>, Path(id): Path<i64>, p: Posted) -> Response {
    match app.close_column(p.actor(), id).await {
        Ok(_) => p.done(&format!("/admin/columns/{id}"), "栏目已关闭"),
        Err(e) => column_screen(&app, &p, id, p.shown(&e).as_form("mv")).await,
    }
}
