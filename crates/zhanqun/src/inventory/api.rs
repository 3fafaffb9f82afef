//! `/api/v1/…/inventory`: the content inventory.

use axum::extract::State;
use axum::http::StatusCode;
use utoipa_axum::routes;

use super::{EventInput, InventoryInput, InventoryItem};
use crate::app::App;
use crate::kernel::AppResult;
use crate::web::api::{ApiRouter, Auth, Created, Json};
use crate::web::problem::{ApiJson, ApiPath};

pub fn router() -> ApiRouter {
    ApiRouter::new()
        .routes(routes!(site_inventory, add_inventory))
        .routes(routes!(retire_inventory))
        .routes(routes!(inventory_event))
}

/// A site's inventory, each item with when it is due.
#[utoipa::path(get, path = "/sites/{id}/inventory", tag = "inventory", params(("id" = i64, Path)),
    responses((status = 200, body = Vec<InventoryItem>)))]
async fn site_inventory(
    State(app): State<App>,
    _signed_in: Auth,
    ApiPath(id): ApiPath<i64>,
) -> AppResult<Json<Vec<InventoryItem>>> {
    Ok(Json(app.inventory(Some(id)).await?))
}

/// Adds a kind of information to the site's inventory (site admins).
#[utoipa::path(post, path = "/sites/{id}/inventory", tag = "inventory", params(("id" = i64, Path)),
    request_body = InventoryInput, responses((status = 201, body = InventoryItem)))]
async fn add_inventory(
    State(app): State<App>,
    Auth(actor): Auth,
    ApiPath(id): ApiPath<i64>,
    ApiJson(i): ApiJson<InventoryInput>,
) -> AppResult<Created<InventoryItem>> {
    let item = app.add_inventory_item(&actor, id, i).await?;
    Ok(Created(format!("/api/v1/sites/{id}/inventory"), item))
}

#[utoipa::path(delete, path = "/inventory/{id}", tag = "inventory", params(("id" = i64, Path)),
    responses((status = 204, description = "已移除")))]
async fn retire_inventory(
    State(app): State<App>,
    Auth(actor): Auth,
    ApiPath(id): ApiPath<i64>,
) -> AppResult<StatusCode> {
    app.retire_inventory_item(&actor, id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Records an event that starts the clock of an immediate item.
#[utoipa::path(post, path = "/inventory/{id}/events", tag = "inventory", params(("id" = i64, Path)),
    request_body = EventInput, responses((status = 200, body = InventoryItem)))]
async fn inventory_event(
    State(app): State<App>,
    Auth(actor): Auth,
    ApiPath(id): ApiPath<i64>,
    ApiJson(e): ApiJson<EventInput>,
) -> AppResult<Json<InventoryItem>> {
    Ok(Json(app.record_inventory_event(&actor, id, e).await?))
}
