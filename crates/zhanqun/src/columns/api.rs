//! `/api/v1/…/columns`.

use axum::extract::State;
use serde::Deserialize;
use utoipa_axum::routes;

use super::{ColumnPatch, ColumnView, NewColumn};
use crate::app::App;
use crate::kernel::AppResult;
use crate::web::api::{ApiRouter, Auth, Created, Json};
use crate::web::problem::{ApiJson, ApiPath};

pub fn router() -> ApiRouter {
    ApiRouter::new()
        .routes(routes!(list_columns, create_column))
        .routes(routes!(get_column, update_column))
        .routes(routes!(merge_column))
        .routes(routes!(close_column))
}

/// A site's columns in tree order.
#[utoipa::path(get, path = "/sites/{id}/columns", tag = "columns", params(("id" = i64, Path, description = "站点编号")),
    responses((status = 200, body = Vec<ColumnView>)))]
async fn list_columns(
    State(app): State<App>,
    _signed_in: Auth,
    ApiPath(id): ApiPath<i64>,
) -> AppResult<Json<Vec<ColumnView>>> {
    Ok(Json(app.list_columns(id).await?))
}

/// Opens a column with its source, owner and update duty (site admins).
#[utoipa::path(post, path = "/sites/{id}/columns", tag = "columns", params(("id" = i64, Path)), request_body = NewColumn,
    responses((status = 201, body = ColumnView)))]
async fn create_column(
    State(app): State<App>,
    Auth(actor): Auth,
    ApiPath(id): ApiPath<i64>,
    ApiJson(c): ApiJson<NewColumn>,
) -> AppResult<Created<ColumnView>> {
    let c = app.create_column(&actor, id, c).await?;
    Ok(Created(format!("/api/v1/columns/{}", c.id), c))
}

#[utoipa::path(get, path = "/columns/{id}", tag = "columns", params(("id" = i64, Path)),
    responses((status = 200, body = ColumnView)))]
async fn get_column(
    State(app): State<App>,
    _signed_in: Auth,
    ApiPath(id): ApiPath<i64>,
) -> AppResult<Json<ColumnView>> {
    Ok(Json(app.get_column(id).await?))
}

#[utoipa::path(patch, path = "/columns/{id}", tag = "columns", params(("id" = i64, Path)), request_body = ColumnPatch,
    responses((status = 200, body = ColumnView)))]
async fn update_column(
    State(app): State<App>,
    Auth(actor): Auth,
    ApiPath(id): ApiPath<i64>,
    ApiJson(p): ApiJson<ColumnPatch>,
) -> AppResult<Json<ColumnView>> {
    Ok(Json(app.update_column(&actor, id, p).await?))
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
struct MergeInput {
    /// The column that takes over the documents and sub-columns.
    into: i64,
}

/// Merges a column into another: documents and sub-columns move, the old address redirects.
#[utoipa::path(post, path = "/columns/{id}/merge", tag = "columns", params(("id" = i64, Path)), request_body = MergeInput,
    responses((status = 200, body = ColumnView)))]
async fn merge_column(
    State(app): State<App>,
    Auth(actor): Auth,
    ApiPath(id): ApiPath<i64>,
    ApiJson(m): ApiJson<MergeInput>,
) -> AppResult<Json<ColumnView>> {
    Ok(Json(app.merge_column(&actor, id, m.into).await?))
}

/// Closes a column: no new documents; its address answers 410.
#[utoipa::path(post, path = "/columns/{id}/close", tag = "columns", params(("id" = i64, Path)),
    responses((status = 200, body = ColumnView)))]
async fn close_column(
    State(app): State<App>,
    Auth(actor): Auth,
    ApiPath(id): ApiPath<i64>,
) -> AppResult<Json<ColumnView>> {
    Ok(Json(app.close_column(&actor, id).await?))
}
