//! The content inventory on a site's disclosure page and on the dashboard.

use axum::Router;
use axum::extract::{Path, State};
use axum::response::Response;
use axum::routing::post;

use super::{EventInput, InventoryInput};
use crate::app::App;
use crate::web::admin::{Posted, again, back};

pub fn router() -> Router<App> {
    Router::new()
        .route("/admin/sites/{id}/inventory", post(add_inventory))
        .route("/admin/inventory/{id}/event", post(inventory_event))
        .route("/admin/inventory/{id}/retire", post(retire_inventory))
}

async fn add_inventory(State(app): State<App>, Path(id): Path<i64>, p: Posted) -> Response {
    let to = back(&p.form, &format!("/admin/sites/{id}/disclosure"));
    let f = &p.form;
    let input = InventoryInput {
        name: f.get("name").into(),
        category: f.get("category").into(),
        limit_days: f.int("limit_days").unwrap_or(0),
        owner: f.get("owner").into(),
        column_id: f.id("column_id"),
    };
    match app.add_inventory_item(p.actor(), id, input).await {
        Ok(i) => p.done(&to, &format!("已加入清单：{}", i.name)),
        Err(e) => again(&app, &p, &to, p.shown(&e).as_form("nv")).await,
    }
}

async fn inventory_event(State(app): State<App>, Path(id): Path<i64>, p: Posted) -> Response {
    let to = back(&p.form, "/admin/");
    let ev = EventInput { occurred_on: p.form.get("occurred_on").into(), note: p.form.get("note").into() };
    match app.record_inventory_event(p.actor(), id, ev).await {
        Ok(i) => p.done(
            &to,
            &match i.due {
                Some(due) => format!("已登记，「{}」应在 {due} 之前发布", i.name),
                None => format!("已登记；「{}」的栏目在事项发生后已有发布", i.name),
            },
        ),
        Err(e) => again(&app, &p, &to, p.shown(&e).as_form("ev")).await,
    }
}

async fn retire_inventory(State(app): State<App>, Path(id): Path<i64>, p: Posted) -> Response {
    let to = back(&p.form, "/admin/");
    match app.retire_inventory_item(p.actor(), id).await {
        Ok(()) => p.done(&to, "已从清单中移除"),
        Err(e) => again(&app, &p, &to, p.shown(&e).as_form("xv")).await,
    }
}
